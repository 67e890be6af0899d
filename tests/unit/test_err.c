/*
 * test_err.c: unit tests for the error module (err.h, errors.def): the
 * name, exit-class, retry and remediation tables expanded from
 * errors.def, the round trip from a code to its name and back, and how
 * err_set, err_detail and err_release own the message and the details.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "err.h"
#include "banned.h"

/* What DESIGN §1 and errors.def say about one code. */
struct expect {
	enum err_code code;	/* the short name from err.h */
	const char *name;	/* snake_case, as in the envelope */
	int exit_class;		/* 1 caller, 2 cluster/network, 3 internal */
	int retry_safe;		/* as listed in errors.def */
};

static const struct expect expected[] = {
	{ ERR_SPEC_INVALID, "spec_invalid", 1, 0 },
	{ ERR_CONFIG_INVALID, "config_invalid", 1, 0 },
	{ ERR_NOT_FOUND, "not_found", 1, 0 },
	{ ERR_CONFLICT, "conflict", 1, 0 },
	{ ERR_PRECONDITION_FAILED, "precondition_failed", 1, 0 },
	{ ERR_SSH_UNREACHABLE, "ssh_unreachable", 2, 1 },
	{ ERR_HOST_KEY_MISMATCH, "host_key_mismatch", 2, 0 },
	{ ERR_AUTH_FAILED, "auth_failed", 2, 0 },
	{ ERR_SCHEDULER_UNAVAILABLE, "scheduler_unavailable", 2, 1 },
	{ ERR_SCHEDULER_REJECTED, "scheduler_rejected", 2, 0 },
	{ ERR_SCHEDULER_THROTTLED, "scheduler_throttled", 2, 1 },
	{ ERR_REMOTE_COMMAND_FAILED, "remote_command_failed", 2, 0 },
	{ ERR_TRANSFER_FAILED, "transfer_failed", 2, 1 },
	{ ERR_OUTPUTS_MISSING, "outputs_missing", 2, 1 },
	{ ERR_HTTP_FAILED, "http_failed", 2, 1 },
	{ ERR_TIMEOUT, "timeout", 2, 1 },
	{ ERR_AGENT_FAILED, "agent_failed", 2, 0 },
	{ ERR_JOURNAL_CORRUPT, "journal_corrupt", 3, 0 },
	{ ERR_INTERNAL, "internal", 3, 0 },
	{ ERR_USAGE, "usage", 1, 0 },
	{ ERR_UNKNOWN_PRIMITIVE, "unknown_primitive", 1, 0 },
	{ ERR_JOURNAL_BUSY, "journal_busy", 3, 1 },
	{ ERR_IO_FAILED, "io_failed", 3, 1 },
	{ ERR_IN_PROGRESS, "in_progress", 1, 1 },
	{ ERR_INTERRUPTED, "interrupted", 3, 1 },
	{ ERR_FILE_REFUSED, "file_refused", 2, 0 },
	{ ERR_JOURNAL_UNSUPPORTED, "journal_unsupported", 1, 0 },
	{ ERR_HOST_KEY_UNKNOWN, "host_key_unknown", 2, 0 },
	{ ERR_CANARY_FAILED, "canary_failed", 1, 0 },
	{ ERR_REDUCER_FAILED, "reducer_failed", 1, 0 },
	{ ERR_NOTIFY_FAILED, "notify_failed", 2, 0 },
	{ ERR_UNAUTHORIZED, "unauthorized", 1, 0 },
	{ ERR_FORBIDDEN, "forbidden", 1, 0 },
	{ ERR_PAYLOAD_TOO_LARGE, "payload_too_large", 1, 0 },
	{ ERR_SERVER_UNREACHABLE, "server_unreachable", 2, 1 },
};

#define N_EXPECTED (sizeof(expected) / sizeof(expected[0]))

/* Every short name maps to its own code, in errors.def order. */
static void test_err_names_match_table(void **state)
{
	size_t i;

	(void)state;
	/* Codes are appended and never removed: the list is complete. */
	assert_int_equal(ERR__COUNT - 1, N_EXPECTED);
	for (i = 0; i < N_EXPECTED; i++) {
		assert_int_equal(expected[i].code, (int)i + 1);
		assert_string_equal(err_name(expected[i].code),
				    expected[i].name);
	}
}

/* No code, short or long, is ERR_NONE, and no two codes are equal. */
static void test_err_codes_never_none(void **state)
{
	size_t i, k;

	(void)state;
	assert_int_equal(ERR_NONE, 0);
	for (i = 0; i < N_EXPECTED; i++) {
		assert_int_not_equal(expected[i].code, ERR_NONE);
		for (k = i + 1; k < N_EXPECTED; k++)
			assert_int_not_equal(expected[i].code,
					     expected[k].code);
	}
	for (i = 1; i < ERR__COUNT; i++)
		assert_int_not_equal(err_from_name(err_name(i)), ERR_NONE);
}

/* Names are unique snake_case words, as the envelope carries them. */
static void test_err_names_snake_case_unique(void **state)
{
	int i, k;

	(void)state;
	for (i = 1; i < ERR__COUNT; i++) {
		const char *n = err_name(i);

		assert_non_null(n);
		assert_true(n[0] >= 'a' && n[0] <= 'z');
		assert_int_equal(strspn(n, "abcdefghijklmnopqrstuvwxyz_"),
				 strlen(n));
		assert_string_not_equal(n, "none");
		for (k = i + 1; k < ERR__COUNT; k++)
			assert_string_not_equal(n, err_name(k));
	}
}

/* err_from_name(err_name(c)) == c for every code. */
static void test_err_from_name_round_trip(void **state)
{
	int i;

	(void)state;
	for (i = 1; i < ERR__COUNT; i++)
		assert_int_equal(err_from_name(err_name(i)), i);
	for (i = 0; i < (int)N_EXPECTED; i++)
		assert_int_equal(err_from_name(expected[i].name),
				 expected[i].code);
}

/* Unknown names, and near misses, are ERR_NONE. */
static void test_err_from_name_unknown(void **state)
{
	(void)state;
	assert_int_equal(err_from_name("no_such_code"), ERR_NONE);
	assert_int_equal(err_from_name(""), ERR_NONE);
	assert_int_equal(err_from_name("none"), ERR_NONE);
	assert_int_equal(err_from_name("Spec_invalid"), ERR_NONE);
	assert_int_equal(err_from_name("spec_invalid "), ERR_NONE);
	assert_int_equal(err_from_name("spec"), ERR_NONE);
}

/* Every exit class is 1, 2 or 3, and each code has its DESIGN class. */
static void test_err_exit_classes(void **state)
{
	size_t i;

	(void)state;
	for (i = 1; i < ERR__COUNT; i++) {
		int x = err_exit_class(i);

		if (x < 1 || x > 3)
			fail_msg("%s has exit class %d", err_name(i), x);
	}
	for (i = 0; i < N_EXPECTED; i++)
		if (err_exit_class(expected[i].code) != expected[i].exit_class)
			fail_msg("%s: exit class %d, want %d",
				 expected[i].name,
				 err_exit_class(expected[i].code),
				 expected[i].exit_class);
}

/* retry_safe is 0 or 1 and as errors.def lists it. */
static void test_err_retry_table(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < N_EXPECTED; i++)
		if (err_retry_safe(expected[i].code) != expected[i].retry_safe)
			fail_msg("%s: retry_safe %d, want %d",
				 expected[i].name,
				 err_retry_safe(expected[i].code),
				 expected[i].retry_safe);
}

/* Each remediation is a non-empty line with no final full stop. */
static void test_err_remediation_non_empty(void **state)
{
	int i;

	(void)state;
	for (i = 1; i < ERR__COUNT; i++) {
		const char *r = err_remediation(i);
		size_t n;

		assert_non_null(r);
		n = strlen(r);
		if (n == 0)
			fail_msg("%s has no remediation", err_name(i));
		assert_null(strchr(r, '\n'));
		assert_int_not_equal(r[n - 1], '.');
	}
}

/* err_set formats the message, records the code and returns -1. */
static void test_err_set_formats(void **state)
{
	struct err e = ERR_INIT;

	(void)state;
	assert_int_equal(e.code, ERR_NONE);
	assert_string_equal(e.message, "");
	assert_null(e.details);
	assert_int_equal(err_set(&e, ERR_NOT_FOUND, "no study '%s' (%d)",
				 "demo", 7),
			 -1);
	assert_int_equal(e.code, ERR_NOT_FOUND);
	assert_string_equal(e.message, "no study 'demo' (7)");
	err_release(&e);
}

/* A NULL err is allowed and err_set still returns -1. */
static void test_err_set_null(void **state)
{
	(void)state;
	assert_int_equal(err_set(NULL, ERR_INTERNAL, "x %d", 1), -1);
	err_release(NULL);
}

/* A message longer than ERR_MESSAGE_MAX is cut, still terminated. */
static void test_err_set_truncates(void **state)
{
	struct err e = ERR_INIT;
	char longer[ERR_MESSAGE_MAX * 2];

	(void)state;
	memset(longer, 'x', sizeof(longer) - 1);
	longer[sizeof(longer) - 1] = '\0';
	err_set(&e, ERR_INTERNAL, "%s", longer);
	assert_int_equal(strlen(e.message), ERR_MESSAGE_MAX - 1);
	assert_int_equal(e.message[0], 'x');
	err_release(&e);
}

/* A second err_set replaces the first and drops its details. */
static void test_err_set_replaces(void **state)
{
	struct err e = ERR_INIT;
	json_t *v = json_string("held");

	(void)state;
	err_set(&e, ERR_TIMEOUT, "first");
	json_incref(v);
	err_detail(&e, "k", v);
	assert_int_equal(v->refcount, 2);
	err_set(&e, ERR_CONFLICT, "second");
	assert_int_equal(e.code, ERR_CONFLICT);
	assert_string_equal(e.message, "second");
	assert_null(e.details);
	assert_int_equal(v->refcount, 1);
	json_decref(v);
	err_release(&e);
}

/* err_detail steals its value and builds the details object. */
static void test_err_detail_steals(void **state)
{
	struct err e = ERR_INIT;
	json_t *v = json_integer(42);

	(void)state;
	err_set(&e, ERR_TIMEOUT, "took too long");
	json_incref(v);	/* our own reference, to watch the count */
	err_detail(&e, "seconds", v);
	assert_int_equal(v->refcount, 2);
	err_detail(&e, "host", json_string("hpc1"));
	assert_true(json_is_object(e.details));
	assert_int_equal(json_object_size(e.details), 2);
	assert_ptr_equal(json_object_get(e.details, "seconds"), v);
	assert_string_equal(
		json_string_value(json_object_get(e.details, "host")), "hpc1");
	/* Setting a key again replaces the old value. */
	err_detail(&e, "host", json_string("hpc2"));
	assert_int_equal(json_object_size(e.details), 2);
	assert_string_equal(
		json_string_value(json_object_get(e.details, "host")), "hpc2");
	err_release(&e);
	assert_int_equal(v->refcount, 1);
	json_decref(v);
}

/* With no err, err_detail still takes over (and drops) the value. */
static void test_err_detail_null_err(void **state)
{
	json_t *v = json_string("x");

	(void)state;
	json_incref(v);
	err_detail(NULL, "k", v);
	assert_int_equal(v->refcount, 1);
	json_decref(v);
}

/* A NULL value adds nothing. */
static void test_err_detail_null_value(void **state)
{
	struct err e = ERR_INIT;

	(void)state;
	err_set(&e, ERR_TIMEOUT, "t");
	err_detail(&e, "k", NULL);
	assert_true(e.details == NULL || json_object_size(e.details) == 0);
	err_release(&e);
}

/* err_release and err_clear leave an empty, reusable err. */
/* A case's own remediation is kept until the next err_set. */
static void test_err_remedy_case(void **state)
{
	struct err e = ERR_INIT;

	(void)state;
	err_set(&e, ERR_NOT_FOUND, "no study 'x'");
	assert_string_equal(e.remedy, "");
	assert_int_equal(err_remedy(&e, "run `hpcloop %s`", "study-list"), -1);
	assert_string_equal(e.remedy, "run `hpcloop study-list`");
	err_set(&e, ERR_CONFLICT, "other");
	assert_string_equal(e.remedy, "");
	assert_int_equal(err_remedy(NULL, "x"), -1);
	err_release(&e);
}

/* Only the dispatcher's codes are in scope for every primitive. */
static void test_err_scopes(void **state)
{
	(void)state;
	assert_int_equal(err_scope(ERR_SPEC_INVALID), ERR_SCOPE_ANY);
	assert_int_equal(err_scope(ERR_INTERNAL), ERR_SCOPE_ANY);
	assert_int_equal(err_scope(ERR_JOURNAL_BUSY), ERR_SCOPE_JOURNAL);
	assert_int_equal(err_scope(ERR_CONFIG_INVALID), ERR_SCOPE_CONFIG);
	assert_int_equal(err_scope(ERR_NOT_FOUND), ERR_SCOPE_OWN);
}

static void test_err_release_resets(void **state)
{
	struct err e;

	(void)state;
	err_init(&e);
	assert_int_equal(e.code, ERR_NONE);
	assert_string_equal(e.message, "");
	assert_null(e.details);
	err_set(&e, ERR_AUTH_FAILED, "denied");
	err_detail(&e, "user", json_string("me"));
	err_release(&e);
	assert_int_equal(e.code, ERR_NONE);
	assert_string_equal(e.message, "");
	assert_null(e.details);
	err_set(&e, ERR_AUTH_FAILED, "denied again");
	err_detail(&e, "user", json_string("me"));
	err_clear(&e);
	assert_int_equal(e.code, ERR_NONE);
	assert_string_equal(e.message, "");
	assert_null(e.details);
	err_release(&e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_err_names_match_table),
		cmocka_unit_test(test_err_codes_never_none),
		cmocka_unit_test(test_err_names_snake_case_unique),
		cmocka_unit_test(test_err_from_name_round_trip),
		cmocka_unit_test(test_err_from_name_unknown),
		cmocka_unit_test(test_err_exit_classes),
		cmocka_unit_test(test_err_retry_table),
		cmocka_unit_test(test_err_remediation_non_empty),
		cmocka_unit_test(test_err_set_formats),
		cmocka_unit_test(test_err_set_null),
		cmocka_unit_test(test_err_set_truncates),
		cmocka_unit_test(test_err_set_replaces),
		cmocka_unit_test(test_err_detail_steals),
		cmocka_unit_test(test_err_detail_null_err),
		cmocka_unit_test(test_err_detail_null_value),
		cmocka_unit_test(test_err_release_resets),
		cmocka_unit_test(test_err_remedy_case),
		cmocka_unit_test(test_err_scopes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
