/*
 * test_jobgen.c: unit tests for what jobgen.h gives an executor (issue
 * 11, item 10): the environment variable of a parameter name (upper
 * case, anything but letters, digits and '_' as '_', cut at
 * JOBGEN_PARAM_NAME_MAX) and the text of a parameter value (strings as
 * they are, integers in decimal, reals in their shortest exact form,
 * booleans as words, null as nothing, arrays and objects as JSON).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "jobgen.h"
#include "banned.h"

/* 'name' gives the variable 'want'. */
static void expect_name(const char *name, const char *want)
{
	char out[JOBGEN_PARAM_NAME_MAX + 32];

	jobgen_param_name(out, sizeof(out), name);
	assert_string_equal(out, want);
}

static void test_jobgen_param_name(void **state)
{
	char longname[200], want[200], small[8] = "x";

	(void)state;
	expect_name("lr", "HPCLOOP_PARAM_LR");
	expect_name("Batch_Size", "HPCLOOP_PARAM_BATCH_SIZE");
	expect_name("batch-size", "HPCLOOP_PARAM_BATCH_SIZE");
	expect_name("a b;$(rm -rf /)", "HPCLOOP_PARAM_A_B___RM__RF___");
	expect_name("\xc3\xa9t\xc3\xa9", "HPCLOOP_PARAM___T__");
	expect_name("", "HPCLOOP_PARAM_");
	memset(longname, 'q', 100);
	longname[100] = '\0';
	memcpy(want, "HPCLOOP_PARAM_", 14);
	memset(want + 14, 'Q', JOBGEN_PARAM_NAME_MAX);
	want[14 + JOBGEN_PARAM_NAME_MAX] = '\0';
	expect_name(longname, want);
	/* A buffer too small for the longest name gets "". */
	jobgen_param_name(small, sizeof(small), "lr");
	assert_string_equal(small, "");
}

/* The text of the JSON 'value' (steals it) is 'want'. */
static void expect_text(json_t *value, const char *want)
{
	char *got = jobgen_param_text(value);

	assert_string_equal(got, want);
	free(got);
	json_decref(value);
}

static void test_jobgen_param_text(void **state)
{
	(void)state;
	expect_text(json_string("relu"), "relu");
	expect_text(json_string("$(touch x) 'y'"), "$(touch x) 'y'");
	expect_text(json_integer(24), "24");
	expect_text(json_integer(-7), "-7");
	expect_text(json_real(0.001), "0.001");
	expect_text(json_real(0.1), "0.1");
	expect_text(json_real(1e-5), "1e-05");
	expect_text(json_real(2.0), "2");
	expect_text(json_real(0.30000000000000004), "0.30000000000000004");
	expect_text(json_true(), "true");
	expect_text(json_false(), "false");
	expect_text(json_null(), "");
	expect_text(json_pack("[i,s]", 1, "a"), "[1,\"a\"]");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_jobgen_param_name),
		cmocka_unit_test(test_jobgen_param_text),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
