/*
 * test_meta.c: unit tests for meta-analysis (meta.h): when it is due,
 * and the builtin ranking of what a ledger shows (a parameter that
 * tracks the metric, the best choice, crashes, stagnation).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "ledger.h"
#include "meta.h"
#include "proposer.h"
#include "banned.h"

static void test_meta_due(void **state)
{
	struct meta_due d;

	(void)state;
	memset(&d, 0, sizeof(d));
	d.every = 12;
	d.since = 11;
	meta_due_decide(&d);
	assert_false(d.due);
	d.since = 12;
	meta_due_decide(&d);
	assert_true(d.due);
	assert_string_equal(d.reason, "every");
	/* A gain beyond the threshold is due at once; 0 turns it off. */
	d.since = 1;
	d.gain = 0.004;
	d.gain_threshold = 0.003;
	meta_due_decide(&d);
	assert_string_equal(d.reason, "gain");
	d.gain_threshold = 0;
	meta_due_decide(&d);
	assert_false(d.due);
	d.every = 0;
	d.since = 1000;
	meta_due_decide(&d);
	assert_false(d.due);
}

/* The first hypothesis of 'hyps' of 'kind', or NULL. */
static const json_t *of_kind(const json_t *hyps, const char *kind)
{
	size_t i;

	for (i = 0; i < json_array_size(hyps); i++) {
		const json_t *h = json_array_get(hyps, i);

		if (!strcmp(json_string_value(json_object_get(h, "kind")),
			    kind))
			return h;
	}
	return NULL;
}

static void test_meta_builtin_ranks(void **state)
{
	struct proposer_space s;
	struct ledger_metric m;
	struct err err = ERR_INIT;
	json_t *params =
	    json_loads("{\"lr\": {\"type\": \"float\", \"low\": 0, "
		       "\"high\": 1}, \"opt\": {\"type\": "
		       "\"choice\", \"choices\": [\"a\", \"b\"]}}",
		       0, NULL);
	json_t *rows = json_array(), *hyps;
	const json_t *h;
	int i;

	(void)state;
	assert_int_equal(proposer_space_parse(&s, params, "t", &err), 0);
	memset(&m, 0, sizeof(m));
	m.name = "val_loss";
	/* Lower lr, lower loss; "a" better than "b"; then crashes. */
	for (i = 0; i < 8; i++)
		json_array_append_new(
		    rows,
		    json_pack("{s:I, s:{s:f, s:s}, s:f, s:s, s:s}", "id",
			      (json_int_t)i + 1, "params", "lr", 0.1 * (i + 1),
			      "opt", i % 2 ? "b" : "a", "metric",
			      0.1 * (i + 1) + (i % 2 ? 0.05 : 0), "status",
			      i ? "discard" : "keep", "description", "try it"));
	for (i = 0; i < 4; i++)
		json_array_append_new(rows,
				      json_pack("{s:I, s:n, s:n, s:s}", "id",
						(json_int_t)i + 9, "params",
						"metric", "status", "crash"));
	hyps = meta_builtin(rows, &m, &s, 5);
	h = of_kind(hyps, "parameter");
	assert_non_null(h);
	assert_non_null(
	    strstr(json_string_value(json_object_get(h, "text")), "lower lr"));
	h = of_kind(hyps, "choice");
	assert_non_null(h);
	assert_non_null(
	    strstr(json_string_value(json_object_get(h, "text")), "opt=\"a\""));
	assert_non_null(of_kind(hyps, "crashes"));
	assert_non_null(of_kind(hyps, "stagnation"));
	assert_non_null(of_kind(hyps, "best"));
	/* Ranked by confidence, numbered from 1. */
	for (i = 0; i < (int)json_array_size(hyps); i++) {
		assert_int_equal(json_integer_value(json_object_get(
				     json_array_get(hyps, (size_t)i), "rank")),
				 i + 1);
		if (i)
			assert_true(json_number_value(json_object_get(
					json_array_get(hyps, (size_t)i - 1),
					"confidence")) >=
				    json_number_value(json_object_get(
					json_array_get(hyps, (size_t)i),
					"confidence")));
	}
	json_decref(hyps);
	/* An empty ledger still says something. */
	json_array_clear(rows);
	hyps = meta_builtin(rows, &m, NULL, 5);
	assert_int_equal(json_array_size(hyps), 1);
	assert_non_null(of_kind(hyps, "few"));
	json_decref(hyps);
	json_decref(rows);
	json_decref(params);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_meta_due),
		cmocka_unit_test(test_meta_builtin_ranks),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
