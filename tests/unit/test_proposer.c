/*
 * test_proposer.c: unit tests for the builtin proposer (proposer.h): the
 * checks a space needs beyond its schema; the unit cube both ways; the
 * Halton and splitmix64 sequences; an initial design that fills the
 * space, seeded and repeatable; local search near the best with a radius
 * that shrinks; the stagnation guard; never a point already tried.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "proposer.h"
#include "banned.h"

/* The space of 'text' (JSON), or the test fails. */
static json_t *space_of(struct proposer_space *s, const char *text)
{
	struct err err = ERR_INIT;
	json_t *params = json_loads(text, 0, NULL);

	assert_non_null(params);
	if (proposer_space_parse(s, params, "studies.t", &err) < 0)
		fail_msg("%s", err.message);
	return params;
}

/* The message of parsing 'text', which must fail. */
static void space_fails(const char *text, const char *words)
{
	struct proposer_space s;
	struct err err = ERR_INIT;
	json_t *params = json_loads(text, 0, NULL);

	assert_non_null(params);
	assert_int_equal(proposer_space_parse(&s, params, "studies.t", &err),
			 -1);
	assert_int_equal(err.code, ERR_CONFIG_INVALID);
	if (!strstr(err.message, words))
		fail_msg("'%s' lacks '%s'", err.message, words);
	assert_int_equal(s.n, 0);
	json_decref(params);
}

#define SPACE                                                                  \
	"{\"lr\": {\"type\": \"float\", \"low\": 0.0001, \"high\": 0.1, "      \
	"\"log\": true}, \"depth\": {\"type\": \"int\", \"low\": 2, "          \
	"\"high\": 8}, \"opt\": {\"type\": \"choice\", \"choices\": "          \
	"[\"adam\", \"sgd\", 3]}}"

static void test_proposer_space_checks(void **state)
{
	struct proposer_space s;
	json_t *params;

	(void)state;
	params = space_of(&s, SPACE);
	assert_int_equal(s.n, 3);
	/* Sorted by name, whatever the file's order. */
	assert_string_equal(s.params[0].name, "depth");
	assert_string_equal(s.params[1].name, "lr");
	assert_string_equal(s.params[2].name, "opt");
	assert_int_equal(s.params[0].kind, PROPOSER_INT);
	assert_true(s.params[1].log);
	assert_int_equal(s.params[2].kind, PROPOSER_CHOICE);
	json_decref(params);
	space_fails("{\"a\": {\"type\": \"float\", \"low\": 1, \"high\": 1}}",
		    "low must be below high");
	space_fails("{\"a\": {\"type\": \"float\", \"low\": 0, \"high\": 1, "
		    "\"log\": true}}",
		    "log scale");
	space_fails("{\"a\": {\"type\": \"int\", \"low\": 1.2, \"high\": 1.8}}",
		    "no integer");
	space_fails("{\"a\": {\"type\": \"choice\"}}", "needs choices");
	space_fails("{\"a\": {\"type\": \"float\"}}", "needs low and high");
	space_fails("{}", "no parameters");
}

static void test_proposer_unit_cube(void **state)
{
	struct proposer_space s;
	json_t *params = space_of(&s, SPACE), *p, *q;
	double u[PROPOSER_DIMS_MAX], back[PROPOSER_DIMS_MAX];
	const double corners[][3] = {
	    {0, 0, 0}, {0.999, 0.999, 0.999}, {0.5, 0.5, 0.5}};
	size_t i;

	(void)state;
	for (i = 0; i < 3; i++) {
		memcpy(u, corners[i], sizeof(corners[i]));
		p = proposer_decode(&s, u);
		assert_true(json_integer_value(json_object_get(p, "depth")) >=
			    2);
		assert_true(json_integer_value(json_object_get(p, "depth")) <=
			    8);
		assert_true(json_real_value(json_object_get(p, "lr")) >=
			    0.0001);
		assert_true(json_real_value(json_object_get(p, "lr")) <= 0.1);
		/* A decoded point encodes and decodes to itself. */
		assert_int_equal(proposer_encode(&s, back, p), 0);
		q = proposer_decode(&s, back);
		assert_true(json_equal(p, q));
		json_decref(p);
		json_decref(q);
	}
	/* The middle of a log range is its geometric mean. */
	u[0] = 0.5;
	u[1] = 0.5;
	u[2] = 0.1;
	p = proposer_decode(&s, u);
	assert_float_equal(json_real_value(json_object_get(p, "lr")), 0.003162,
			   1e-9);
	assert_string_equal(json_string_value(json_object_get(p, "opt")),
			    "adam");
	json_decref(p);
	p = json_loads("{\"depth\": 9, \"lr\": 0.01, \"opt\": \"adam\"}", 0,
		       NULL);
	assert_int_equal(proposer_encode(&s, back, p), -1);
	json_decref(p);
	p = json_loads("{\"depth\": 3, \"lr\": 0.01, \"opt\": \"rmsprop\"}", 0,
		       NULL);
	assert_int_equal(proposer_encode(&s, back, p), -1);
	json_decref(p);
	p = json_loads("{\"depth\": 3, \"opt\": 3}", 0, NULL);
	assert_int_equal(proposer_encode(&s, back, p), -1);
	json_decref(p);
	json_decref(params);
}

static void test_proposer_sequences(void **state)
{
	uint64_t a = 42, b = 42, c = 43;

	(void)state;
	assert_float_equal(proposer_radical_inverse(1, 2), 0.5, 0);
	assert_float_equal(proposer_radical_inverse(2, 2), 0.25, 0);
	assert_float_equal(proposer_radical_inverse(3, 2), 0.75, 0);
	assert_float_equal(proposer_radical_inverse(1, 3), 1.0 / 3, 1e-15);
	assert_float_equal(proposer_radical_inverse(5, 3), 7.0 / 9, 1e-15);
	assert_true(proposer_rand(&a) == proposer_rand(&b));
	assert_true(proposer_rand(&a) != proposer_rand(&c));
}

/* A ledger row {params, metric, status}: new. */
static json_t *row(json_t *params, double metric, const char *status)
{
	return json_pack("{s:o, s:f, s:s}", "params", params, "metric", metric,
			 "status", status);
}

/* The input for 's' with 'history', 'index' and the guard 'k'. */
static struct proposer_input input(const struct proposer_space *s,
				   const json_t *history, int index, int k)
{
	struct proposer_input in;

	memset(&in, 0, sizeof(in));
	in.space = s;
	in.history = history;
	in.seed = 7;
	in.index = index;
	in.initial_points = 5;
	in.explore_after = k;
	return in;
}

static void test_proposer_initial_design(void **state)
{
	struct proposer_space s;
	json_t *params = space_of(&s, SPACE), *hist = json_array();
	struct proposer_choice c, again;
	struct proposer_input in;
	json_t *seen = json_array();
	int i, other = 0;

	(void)state;
	for (i = 0; i < 5; i++) {
		in = input(&s, hist, i, 3);
		proposer_next(&c, &in);
		assert_string_equal(c.move, "initial");
		/* The same ledger and seed give the same point. */
		proposer_next(&again, &in);
		assert_true(json_equal(c.params, again.params));
		proposer_choice_release(&again);
		in.seed = 8;
		proposer_next(&again, &in);
		other += !json_equal(c.params, again.params);
		proposer_choice_release(&again);
		json_array_append(seen, c.params);
		/* As each is run, the next never repeats one. */
		json_array_append_new(
		    hist, row(json_incref(c.params), 1.0 - i / 10.0, "keep"));
		proposer_choice_release(&c);
	}
	assert_true(other > 0);
	for (i = 0; i < 5; i++) {
		size_t k;

		for (k = (size_t)i + 1; k < 5; k++)
			assert_false(json_equal(json_array_get(seen, (size_t)i),
						json_array_get(seen, k)));
	}
	json_decref(seen);
	json_decref(hist);
	json_decref(params);
}

/* The distance in the unit cube between two points of 's'. */
static double dist(const struct proposer_space *s, const json_t *a,
		   const json_t *b, int float_only)
{
	double ua[PROPOSER_DIMS_MAX], ub[PROPOSER_DIMS_MAX], m = 0;
	size_t d;

	assert_int_equal(proposer_encode(s, ua, a), 0);
	assert_int_equal(proposer_encode(s, ub, b), 0);
	for (d = 0; d < s->n; d++) {
		if (float_only && s->params[d].kind != PROPOSER_FLOAT)
			continue;
		if (fabs(ua[d] - ub[d]) > m)
			m = fabs(ua[d] - ub[d]);
	}
	return m;
}

static void test_proposer_local_search_and_guard(void **state)
{
	struct proposer_space s;
	json_t *params = space_of(&s, "{\"x\": {\"type\": \"float\", \"low\": "
				      "0, \"high\": 10}, \"y\": {\"type\": "
				      "\"float\", \"low\": 0, \"high\": 10}}");
	json_t *hist = json_array(), *best;
	struct proposer_choice c;
	struct proposer_input in;
	double radius = 1;
	int i;

	(void)state;
	best = json_pack("{s:f, s:f}", "x", 5.0, "y", 5.0);
	json_array_append_new(hist, row(json_incref(best), 0.1, "keep"));
	json_array_append_new(
	    hist,
	    row(json_pack("{s:f, s:f}", "x", 1.0, "y", 1.0), 0.9, "discard"));
	/* Past the initial design: around the best, and closer each time. */
	for (i = 0; i < 3; i++) {
		in = input(&s, hist, 5 + i, 5);
		proposer_next(&c, &in);
		assert_string_equal(c.move, "local");
		assert_int_equal(c.stale, i + 1);
		assert_true(c.radius < radius);
		radius = c.radius;
		assert_true(dist(&s, c.params, best, 1) <= c.radius + 1e-3);
		assert_true(json_equal(c.best, best));
		json_array_append_new(
		    hist, row(json_incref(c.params), 0.5, "discard"));
		proposer_choice_release(&c);
	}
	/* A crash without a metric counts as a run without a gain. */
	json_array_append_new(
	    hist, row(json_pack("{s:f, s:f}", "x", 2.0, "y", 2.0), 0, "crash"));
	in = input(&s, hist, 8, 5);
	proposer_next(&c, &in);
	assert_string_equal(c.move, "explore");
	assert_int_equal(c.stale, 5);
	assert_non_null(strstr(c.reason, "stagnation"));
	proposer_choice_release(&c);
	/* A gain resets the guard and the radius. */
	json_array_append_new(
	    hist,
	    row(json_pack("{s:f, s:f}", "x", 7.0, "y", 7.0), 0.05, "keep"));
	in = input(&s, hist, 9, 5);
	proposer_next(&c, &in);
	assert_string_equal(c.move, "local");
	assert_int_equal(c.stale, 0);
	assert_float_equal(c.radius, PROPOSER_RADIUS, 1e-12);
	proposer_choice_release(&c);
	/* Requeued rows are not runs. */
	json_array_append_new(
	    hist,
	    row(json_pack("{s:f, s:f}", "x", 7.0, "y", 7.0), 0, "requeued"));
	in = input(&s, hist, 10, 5);
	proposer_next(&c, &in);
	assert_int_equal(c.stale, 0);
	proposer_choice_release(&c);
	json_decref(best);
	json_decref(hist);
	json_decref(params);
}

static void test_proposer_never_repeats(void **state)
{
	struct proposer_space s;
	json_t *params = space_of(&s, "{\"k\": {\"type\": \"int\", \"low\": 1, "
				      "\"high\": 4}}");
	json_t *hist = json_array();
	struct proposer_choice c;
	struct proposer_input in;
	json_t *tried = json_array();
	char *text;
	int i;

	(void)state;
	/* Four points in all: each proposal is a new one while any is left. */
	for (i = 0; i < 4; i++) {
		size_t k;

		in = input(&s, hist, i, 2);
		in.initial_points = 2;
		proposer_next(&c, &in);
		for (k = 0; k < json_array_size(tried); k++)
			assert_false(
			    json_equal(json_array_get(tried, k), c.params));
		json_array_append(tried, c.params);
		json_array_append_new(
		    hist, row(json_incref(c.params), 10.0 - i, "discard"));
		if (i == 3) {
			text = proposer_idea_text(&s, &c);
			assert_non_null(strstr(text, "Set k="));
			assert_non_null(strstr(text, "builtin proposer"));
			free(text);
		}
		proposer_choice_release(&c);
	}
	json_decref(tried);
	json_decref(hist);
	json_decref(params);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_proposer_space_checks),
		cmocka_unit_test(test_proposer_unit_cube),
		cmocka_unit_test(test_proposer_sequences),
		cmocka_unit_test(test_proposer_initial_design),
		cmocka_unit_test(test_proposer_local_search_and_guard),
		cmocka_unit_test(test_proposer_never_repeats),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
