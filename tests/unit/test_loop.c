/*
 * test_loop.c: unit tests for the loop (loop.h): its states agreeing
 * with the journal's CHECK; the whole transition table; when its budget
 * finishes it; the time gate; rows whose state changes only with an
 * event; an iteration advanced once; stop and resume by study.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "journal.h"
#include "journal_schema.h"
#include "loop.h"
#include "fixtures.h"
#include "banned.h"

static void test_loop_states_match_the_journal(void **state)
{
	size_t count, i;
	const char *const *m = journal_migrations(&count);
	const char *p;
	enum loop_state s;
	int quoted = 0;

	(void)state;
	p = strstr(m[3], "CREATE TABLE loops_new");
	assert_non_null(p);
	p = strstr(p, "CHECK (state IN (");
	assert_non_null(p);
	for (i = 0; i < LOOP__COUNT; i++) {
		char want[32];

		snprintf(want, sizeof(want), "'%s'", loop_state_name(i));
		assert_non_null(strstr(p, want));
		assert_true(strstr(p, want) < strstr(p, "))"));
		assert_int_equal(loop_state_parse(&s, loop_state_name(i)), 0);
		assert_int_equal(s, i);
	}
	for (; *p && strncmp(p, "))", 2); p++)
		quoted += *p == '\'';
	assert_int_equal(quoted, 2 * LOOP__COUNT);
	assert_int_equal(loop_state_parse(&s, "paused"), -1);
	assert_string_equal(loop_event_name(LOOP_EV_STOP_REQUESTED),
			    "loop.stop_requested");
}

/*
 * The whole table: 'want' is the state after each event in each state
 * (the last row: no loop yet), or -1 where the event is refused.
 */
static void test_loop_next_state_table(void **state)
{
	enum {
		R = LOOP_RUNNING,
		G = LOOP_STOPPING,
		S = LOOP_STOPPED,
		F = LOOP_FINISHED,
		X = -1
	};
	static const int want[LOOP__COUNT + 1][LOOP_EV__COUNT] = {
	    /* started, stop_requested, stopped, resumed, finished */
	    [LOOP_RUNNING] = {X, G, X, R, F}, [LOOP_STOPPING] = {X, G, S, R, F},
	    [LOOP_STOPPED] = {X, S, S, R, X}, [LOOP_FINISHED] = {X, X, X, X, X},
	    [LOOP__COUNT] = {R, X, X, X, X},
	};
	enum loop_state out;
	int s, e, r;

	(void)state;
	for (s = 0; s <= LOOP__COUNT; s++) {
		for (e = 0; e < LOOP_EV__COUNT; e++) {
			out = (enum loop_state)99;
			r = loop_next_state(&out, (enum loop_state)s,
					    (enum loop_event)e);
			if (want[s][e] == X) {
				if (r != -1)
					fail_msg("state %d event %d allowed", s,
						 e);
			} else if (r != 0 || (int)out != want[s][e]) {
				fail_msg("state %d event %d: %d, want %d", s, e,
					 (int)out, want[s][e]);
			}
		}
	}
}

static void test_loop_finish_reasons(void **state)
{
	struct loop_budget b;
	struct loop_progress p;

	(void)state;
	memset(&b, 0, sizeof(b));
	memset(&p, 0, sizeof(p));
	b.count = 3;
	assert_null(loop_finish_reason(&b, &p));
	p.runs = 3;
	assert_string_equal(loop_finish_reason(&b, &p), "count");
	b.max_runs = 2;
	p.runs = 2;
	assert_string_equal(loop_finish_reason(&b, &p), "max_runs");
	p.runs = 1;
	b.max_hours = 1.5;
	p.hours = 1.5;
	assert_string_equal(loop_finish_reason(&b, &p), "max_hours");
	p.hours = 1;
	b.max_usd = 2;
	p.usd = 2.5;
	assert_string_equal(loop_finish_reason(&b, &p), "max_usd");
	p.usd = 0;
	p.last_failed = 1;
	/* A failure finishes the loop only when asked to. */
	assert_null(loop_finish_reason(&b, &p));
	b.stop_on_failure = 1;
	assert_string_equal(loop_finish_reason(&b, &p), "failure");
}

static void test_loop_gate(void **state)
{
	(void)state;
	assert_false(loop_gate_passed(0, 1e9));
	assert_false(loop_gate_passed(10, 20));
	assert_true(loop_gate_passed(10, 20.5));
	assert_false(loop_gate_passed(10, -1));
}

/* The number of events of 'type' about 'id'. */
static int events_of(struct journal *j, const char *type, const char *id)
{
	struct journal_event_query q;
	struct err err = ERR_INIT;
	json_t *evs = NULL;
	int n;

	memset(&q, 0, sizeof(q));
	q.limit = 1000;
	q.type = type;
	q.subject = id;
	assert_int_equal(journal_events(j, &evs, &q, &err), 0);
	n = (int)json_array_size(evs);
	json_decref(evs);
	return n;
}

/* A new loop of study 's' in 'j' (in a transaction); its id in 'id'. */
static void new_loop(struct journal *j, char id[LOOP_ID_MAX])
{
	struct loop_new n;
	struct err err = ERR_INIT;
	json_t *row = NULL;

	memset(&n, 0, sizeof(n));
	n.study = "s";
	n.cluster = "local";
	n.mode = "sprint";
	n.proposer = "builtin";
	n.budget.count = 2;
	n.budget.run_budget_s = 30;
	assert_int_equal(journal_begin(j, &err), 0);
	if (loop_create(j, &row, &n, &err) < 0)
		fail_msg("%s", err.message);
	assert_int_equal(journal_commit(j, &err), 0);
	snprintf(id, LOOP_ID_MAX, "%s",
		 json_string_value(json_object_get(row, "id")));
	json_decref(row);
}

/* The state of loop 'id'. */
static const char *state_of(struct journal *j, const char *id)
{
	static char s[32];
	struct err err = ERR_INIT;
	json_t *row = NULL;

	assert_int_equal(loop_get(j, &row, id, &err), 0);
	snprintf(s, sizeof(s), "%s",
		 json_string_value(json_object_get(row, "state")));
	json_decref(row);
	return s;
}

static void test_loop_rows_and_events(void **state)
{
	struct journal *j = fixture_journal("loops.db");
	struct err err = ERR_INIT;
	char id[LOOP_ID_MAX];
	json_t *row = NULL, *view,
	       *reason = json_pack("{s:s}", "reason", "by hand");
	int changed, advanced;

	(void)state;
	new_loop(j, id);
	assert_memory_equal(id, "lp-", 3);
	assert_string_equal(state_of(j, id), "running");
	assert_int_equal(events_of(j, "loop.started", id), 1);
	assert_int_equal(journal_begin(j, &err), 0);
	assert_int_equal(
	    loop_apply(j, &changed, id, LOOP_EV_STOP_REQUESTED, reason, &err),
	    0);
	assert_true(changed);
	/* A second request changes nothing and writes no event. */
	assert_int_equal(
	    loop_apply(j, &changed, id, LOOP_EV_STOP_REQUESTED, reason, &err),
	    0);
	assert_false(changed);
	assert_int_equal(
	    loop_apply(j, &changed, id, LOOP_EV_STOPPED, NULL, &err), 0);
	assert_int_equal(journal_commit(j, &err), 0);
	assert_string_equal(state_of(j, id), "stopped");
	assert_int_equal(events_of(j, "loop.stop_requested", id), 1);
	assert_int_equal(loop_get(j, &row, id, &err), 0);
	assert_string_equal(
	    json_string_value(json_object_get(row, "stop_reason")), "by hand");
	assert_true(json_is_null(json_object_get(row, "running_since")));
	view = loop_public(row);
	assert_int_equal(json_integer_value(json_object_get(
			     json_object_get(view, "budget"), "run_budget_s")),
			 30);
	assert_true(json_is_null(
	    json_object_get(json_object_get(view, "budget"), "max_usd")));
	json_decref(view);
	json_decref(row);
	/* Resumed, the iteration advances once per iteration. */
	assert_int_equal(journal_begin(j, &err), 0);
	assert_int_equal(
	    loop_apply(j, &changed, id, LOOP_EV_RESUMED, NULL, &err), 0);
	assert_int_equal(
	    loop_advance(j, &advanced, id, 1, "sp-000001", NULL, &err), 0);
	assert_true(advanced);
	assert_int_equal(
	    loop_advance(j, &advanced, id, 1, "sp-000001", NULL, &err), 0);
	assert_false(advanced);
	assert_int_equal(
	    loop_apply(j, &changed, id, LOOP_EV_FINISHED, reason, &err), 0);
	assert_int_equal(journal_commit(j, &err), 0);
	assert_int_equal(events_of(j, "loop.iteration", id), 1);
	assert_string_equal(state_of(j, id), "finished");
	/* A finished loop is never left. */
	assert_int_equal(journal_begin(j, &err), 0);
	assert_int_equal(
	    loop_apply(j, &changed, id, LOOP_EV_RESUMED, NULL, &err), -1);
	assert_int_equal(err.code, ERR_CONFLICT);
	journal_rollback(j);
	err_release(&err);
	json_decref(reason);
	journal_close(j);
}

static void test_loop_apply_many_by_study(void **state)
{
	struct journal *j = fixture_journal("many.db");
	struct err err = ERR_INIT;
	char a[LOOP_ID_MAX], b[LOOP_ID_MAX];
	json_t *out = NULL, *page = NULL;
	char *next = NULL, *last = NULL;

	(void)state;
	new_loop(j, a);
	new_loop(j, b);
	assert_int_equal(journal_begin(j, &err), 0);
	assert_int_equal(loop_apply_many(j, &out, NULL, "s",
					 LOOP_EV_STOP_REQUESTED, NULL, &err),
			 0);
	assert_int_equal(json_array_size(out), 2);
	json_decref(out);
	/* Resuming by study resumes only stopped or stopping loops. */
	assert_int_equal(
	    loop_apply_many(j, &out, NULL, "s", LOOP_EV_RESUMED, NULL, &err),
	    0);
	assert_int_equal(json_array_size(out), 2);
	assert_true(
	    json_is_true(json_object_get(json_array_get(out, 0), "changed")));
	json_decref(out);
	assert_int_equal(
	    loop_apply_many(j, &out, NULL, "s", LOOP_EV_RESUMED, NULL, &err),
	    0);
	assert_int_equal(json_array_size(out), 0);
	json_decref(out);
	assert_int_equal(journal_commit(j, &err), 0);
	/* Pages, newest first. */
	assert_int_equal(loop_page(j, &page, &next, "s", NULL, 1, NULL, &err),
			 0);
	assert_int_equal(json_array_size(page), 1);
	assert_string_equal(
	    json_string_value(json_object_get(json_array_get(page, 0), "id")),
	    b);
	assert_non_null(next);
	json_decref(page);
	assert_int_equal(loop_page(j, &page, &last, "s", NULL, 1, next, &err),
			 0);
	assert_string_equal(json_string_value(json_object_get(
				    json_array_get(page, 0), "id")),
			    a);
	assert_null(last);
	json_decref(page);
	free(next);
	journal_close(j);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_loop_states_match_the_journal),
		cmocka_unit_test(test_loop_next_state_table),
		cmocka_unit_test(test_loop_finish_reasons),
		cmocka_unit_test(test_loop_gate),
		cmocka_unit_test(test_loop_rows_and_events),
		cmocka_unit_test(test_loop_apply_many_by_study),
	};

	return cmocka_run_group_tests(tests, fixture_setup, fixture_teardown);
}
