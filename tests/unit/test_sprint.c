/*
 * test_sprint.c: unit tests for the sprint module (sprint.h): directory
 * names and ids; the pure transition table and the meaning of a
 * scheduler's answer; transitions that write their events; claims;
 * pages; and the replay that doctor compares with the stored states.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "journal.h"
#include "sprint.h"
#include "fixtures.h"
#include "banned.h"

static void test_sprint_dir_name_slug(void **state)
{
	char *n;

	(void)state;
	/* 2026-11-22T02:07:00Z */
	n = sprint_dir_name("sp-abc123", "Try LR=3e-4 -- now!", 1795313220);
	assert_string_equal(n, "2026-11-22--02-07--sp-abc123--try-lr-3e-4-now");
	free(n);
	n = sprint_dir_name("sp-abc123", "$(rm -rf /) ünï", 1795313220);
	assert_string_equal(n, "2026-11-22--02-07--sp-abc123--rm-rf-n");
	free(n);
	n = sprint_dir_name("sp-abc123", "", 1795313220);
	assert_string_equal(n, "2026-11-22--02-07--sp-abc123--sprint");
	free(n);
}

static void test_sprint_dir_name_slug_capped(void **state)
{
	char idea[300];
	char *n, *slug;

	(void)state;
	memset(idea, 'a', sizeof(idea) - 1);
	idea[sizeof(idea) - 1] = '\0';
	n = sprint_dir_name("sp-abc123", idea, 0);
	slug = strstr(n, "sp-abc123--") + strlen("sp-abc123--");
	assert_int_equal(strlen(slug), 60);
	free(n);
}

/* Names round-trip; the terminal states are exactly the last five. */
static void test_sprint_states(void **state)
{
	enum sprint_state s;
	int i;

	(void)state;
	for (i = 0; i < SPRINT__COUNT; i++) {
		assert_int_equal(sprint_state_parse(&s, sprint_state_name(i)),
				 0);
		assert_int_equal(s, i);
		assert_int_equal(sprint_state_terminal(i),
				 i >= SPRINT_COMPLETED);
	}
	assert_int_equal(sprint_state_parse(&s, "cached"), -1);
	assert_int_equal(sprint_state_parse(&s, NULL), -1);
	assert_true(sprint_state_name_terminal("lost"));
	assert_false(sprint_state_name_terminal("running"));
	assert_false(sprint_state_name_terminal(NULL));
}

/*
 * The whole transition table: 'want' is the state after each event in
 * each state, or -1 where the event is refused.
 */
static void test_sprint_next_state_table(void **state)
{
	enum { P = SPRINT_PENDING, S = SPRINT_SUBMITTED, R = SPRINT_RUNNING,
	       C = SPRINT_COMPLETED, X = -1 };
	/* rows: pending, submitted, running, then each terminal state */
	static const int want[SPRINT__COUNT][SPRINT_EV__COUNT] = {
		/* created, submitted, started, heartbeat, requeued, finished */
		[SPRINT_PENDING] = { X, S, P, P, X, C },
		[SPRINT_SUBMITTED] = { X, X, R, R, S, C },
		[SPRINT_RUNNING] = { X, X, R, R, S, C },
		[SPRINT_COMPLETED] = { X, X, X, X, X, X },
		[SPRINT_FAILED] = { X, X, X, X, X, X },
		[SPRINT_TIMED_OUT] = { X, X, X, X, X, X },
		[SPRINT_CANCELLED] = { X, X, X, X, X, X },
		[SPRINT_LOST] = { X, X, X, X, X, X },
	};
	enum sprint_state out;
	int s, e, r;

	(void)state;
	for (s = 0; s < SPRINT__COUNT; s++) {
		for (e = 0; e < SPRINT_EV__COUNT; e++) {
			r = sprint_next_state(&out, s, e, SPRINT_COMPLETED);
			if (want[s][e] == X) {
				if (r != -1)
					fail_msg("%s in %s allowed",
						 sprint_event_name(e),
						 sprint_state_name(s));
			} else if (r != 0 || (int)out != want[s][e]) {
				fail_msg("%s in %s: %s", sprint_event_name(e),
					 sprint_state_name(s),
					 r ? "refused"
					   : sprint_state_name(out));
			}
		}
	}
	/* Finishing needs a terminal target. */
	assert_int_equal(sprint_next_state(&out, SPRINT_RUNNING,
					   SPRINT_EV_FINISHED, SPRINT_RUNNING),
			 -1);
	for (e = 0; e < SPRINT_EV__COUNT; e++) {
		enum sprint_event back;

		assert_int_equal(sprint_event_parse(&back,
						    sprint_event_name(e)),
				 0);
		assert_int_equal(back, e);
	}
}

/* What a scheduler's answer means, with and without a claim. */
static void test_sprint_event_for_job(void **state)
{
	json_t *ok = json_pack("{s:s}", "status", "completed");
	json_t *bad = json_pack("{s:s}", "status", "failed");
	enum sprint_state t;
	int ev;

	(void)state;
	sprint_event_for_job(&ev, &t, SPRINT_SUBMITTED, SCHED_RUNNING, NULL);
	assert_int_equal(ev, SPRINT_EV_STARTED);
	sprint_event_for_job(&ev, &t, SPRINT_RUNNING, SCHED_RUNNING, NULL);
	assert_int_equal(ev, -1);
	sprint_event_for_job(&ev, &t, SPRINT_RUNNING, SCHED_REQUEUED, NULL);
	assert_int_equal(ev, SPRINT_EV_REQUEUED);
	sprint_event_for_job(&ev, &t, SPRINT_SUBMITTED, SCHED_PENDING, NULL);
	assert_int_equal(ev, -1);
	/* Success needs the job's own record. */
	sprint_event_for_job(&ev, &t, SPRINT_RUNNING, SCHED_COMPLETED, NULL);
	assert_int_equal(ev, SPRINT_EV_FINISHED);
	assert_int_equal(t, SPRINT_FAILED);
	sprint_event_for_job(&ev, &t, SPRINT_RUNNING, SCHED_COMPLETED, ok);
	assert_int_equal(t, SPRINT_COMPLETED);
	sprint_event_for_job(&ev, &t, SPRINT_RUNNING, SCHED_COMPLETED, bad);
	assert_int_equal(t, SPRINT_FAILED);
	/* A claim of success does not overrule a failed job. */
	sprint_event_for_job(&ev, &t, SPRINT_RUNNING, SCHED_FAILED, ok);
	assert_int_equal(t, SPRINT_FAILED);
	sprint_event_for_job(&ev, &t, SPRINT_RUNNING, SCHED_TIMED_OUT, ok);
	assert_int_equal(t, SPRINT_TIMED_OUT);
	sprint_event_for_job(&ev, &t, SPRINT_RUNNING, SCHED_CANCELLED, NULL);
	assert_int_equal(t, SPRINT_CANCELLED);
	sprint_event_for_job(&ev, &t, SPRINT_RUNNING, SCHED_LOST, NULL);
	assert_int_equal(t, SPRINT_LOST);
	/* Unknown is no event: the caller weighs the heartbeats. */
	sprint_event_for_job(&ev, &t, SPRINT_RUNNING, SCHED_UNKNOWN, ok);
	assert_int_equal(ev, -1);
	/* Nothing moves a finished sprint. */
	sprint_event_for_job(&ev, &t, SPRINT_FAILED, SCHED_COMPLETED, ok);
	assert_int_equal(ev, -1);
	json_decref(ok);
	json_decref(bad);
}

/* A journal with the study "demo" and a pending sprint 'id'. */
static struct journal *with_sprint(const char *name, const char *id)
{
	struct journal *j = fixture_journal(name);
	struct err err = ERR_INIT;
	struct sprint_new n;

	memset(&n, 0, sizeof(n));
	n.id = id;
	n.study = "demo";
	n.cluster = "local";
	n.idea = "an idea";
	n.directory = "/x";
	n.token_hash = "h";
	assert_int_equal(journal_begin(j, &err), 0);
	if (sprint_create(j, &n, &err) < 0)
		fail_msg("sprint_create: %s", err.message);
	assert_int_equal(journal_commit(j, &err), 0);
	return j;
}

/* The state of sprint 'id' as stored. */
static const char *state_of(struct journal *j, const char *id)
{
	static char out[32];
	struct err err = ERR_INIT;
	json_t *row = NULL;

	if (sprint_get(j, &row, id, &err) < 0)
		fail_msg("sprint_get: %s", err.message);
	snprintf(out, sizeof(out), "%s",
		 json_string_value(json_object_get(row, "state")));
	json_decref(row);
	return out;
}

/* The sprint's events, types joined by spaces. */
static const char *types_of(struct journal *j, const char *id)
{
	static char out[512];
	struct journal_event_query q = { 0, 100, 0, NULL, id };
	struct err err = ERR_INIT;
	json_t *ev = NULL;
	size_t i, len = 0;

	assert_int_equal(journal_events(j, &ev, &q, &err), 0);
	out[0] = '\0';
	for (i = 0; i < json_array_size(ev); i++)
		len += (size_t)snprintf(out + len, sizeof(out) - len, "%s%s",
					i ? " " : "",
					json_string_value(json_object_get(
						json_array_get(ev, i), "type")));
	json_decref(ev);
	return out;
}

/* A study's counts as study-list shows them. */
static void assert_counts(struct journal *j, int sprints, int live)
{
	struct err err = ERR_INIT;
	json_t *c = NULL, *d;

	assert_int_equal(sprint_study_counts(j, &c, &err), 0);
	d = json_object_get(c, "demo");
	assert_int_equal(json_integer_value(json_object_get(d, "sprints")),
			 sprints);
	assert_int_equal(json_integer_value(json_object_get(d, "live")), live);
	json_decref(c);
}

/* The life of a sprint, each step with its event; replay agrees. */
static void test_sprint_lifecycle(void **state)
{
	struct journal *j = with_sprint("life.db", "sp-000001");
	struct err err = ERR_INIT;
	json_t *beats, *c, *bad = NULL;
	int stored, t, checked;

	(void)state;
	assert_counts(j, 1, 1);
	beats = json_pack("[{s:i, s:s}, {s:i}, {s:i}]", "seq", 1, "phase",
			  "running (research)", "seq", 2, "seq", 1);
	assert_int_equal(journal_begin(j, &err), 0);
	/* A heartbeat of a pending sprint is kept, the state is not moved. */
	assert_int_equal(sprint_ingest_heartbeats(j, &stored, "sp-000001",
						  beats, "pull", &err),
			 0);
	assert_int_equal(stored, 2);
	assert_string_equal(state_of(j, "sp-000001"), "pending");
	assert_int_equal(sprint_mark_submitted(j, "sp-000001", "local", "42",
					       &err),
			 0);
	assert_string_equal(state_of(j, "sp-000001"), "submitted");
	/* A second submission is refused. */
	assert_int_equal(sprint_mark_submitted(j, "sp-000001", "local", "43",
					       &err),
			 -1);
	assert_int_equal(err.code, ERR_CONFLICT);
	err_release(&err);
	json_array_append_new(beats, json_pack("{s:i}", "seq", 3));
	assert_int_equal(sprint_ingest_heartbeats(j, &stored, "sp-000001",
						  beats, "pull", &err),
			 0);
	assert_int_equal(stored, 1);
	assert_string_equal(state_of(j, "sp-000001"), "running");
	c = json_pack("{s:s, s:s}", "status", "completed", "summary", "ok");
	assert_int_equal(sprint_finish(j, &t, "sp-000001", SPRINT_COMPLETED,
				       c, NULL, &err),
			 0);
	assert_int_equal(t, 1);
	assert_int_equal(sprint_finish(j, &t, "sp-000001", SPRINT_FAILED, c,
				       NULL, &err),
			 0);
	assert_int_equal(t, 0);
	assert_string_equal(state_of(j, "sp-000001"), "completed");
	/* Heartbeats and claims for a finished sprint are refused. */
	assert_int_equal(sprint_ingest_heartbeats(j, &stored, "sp-000001",
						  beats, "push", &err),
			 -1);
	assert_int_equal(err.code, ERR_CONFLICT);
	err_release(&err);
	assert_int_equal(sprint_claim(j, &t, "sp-000001", c, "complete",
				      &err),
			 -1);
	assert_int_equal(err.code, ERR_CONFLICT);
	err_release(&err);
	assert_int_equal(journal_commit(j, &err), 0);
	assert_string_equal(types_of(j, "sp-000001"),
			    "sprint.created sprint.heartbeat sprint.submitted "
			    "sprint.heartbeat sprint.finished");
	assert_counts(j, 1, 0);
	assert_int_equal(sprint_replay_check(j, &bad, &checked, 10, &err), 0);
	assert_int_equal(checked, 1);
	assert_int_equal(json_array_size(bad), 0);
	json_decref(bad);
	json_decref(beats);
	json_decref(c);
	journal_close(j);
}

/* A heartbeat needs a seq of at least 1. */
static void test_sprint_heartbeat_seq(void **state)
{
	struct journal *j = with_sprint("seq.db", "sp-000002");
	struct err err = ERR_INIT;
	json_t *beats = json_pack("[{s:i}]", "seq", 0);
	int stored;

	(void)state;
	assert_int_equal(journal_begin(j, &err), 0);
	assert_int_equal(sprint_ingest_heartbeats(j, &stored, "sp-000002",
						  beats, "push", &err),
			 -1);
	assert_int_equal(err.code, ERR_SPEC_INVALID);
	err_release(&err);
	journal_rollback(j);
	json_decref(beats);
	journal_close(j);
}

/* The scheduler's word: started, requeued, started again. */
static void test_sprint_observe_requeue(void **state)
{
	struct journal *j = with_sprint("requeue.db", "sp-000003");
	struct err err = ERR_INIT;
	json_t *ev = json_pack("{s:s}", "state", "requeued");
	int changed;

	(void)state;
	assert_int_equal(journal_begin(j, &err), 0);
	/* Nothing the scheduler says moves a sprint without a job id. */
	assert_int_equal(sprint_observe(j, &changed, "sp-000003",
					SPRINT_EV_STARTED, ev, &err),
			 0);
	assert_false(changed);
	assert_int_equal(sprint_mark_submitted(j, "sp-000003", "local", "9",
					       &err),
			 0);
	assert_int_equal(sprint_observe(j, &changed, "sp-000003",
					SPRINT_EV_STARTED, ev, &err),
			 0);
	assert_true(changed);
	assert_int_equal(sprint_observe(j, &changed, "sp-000003",
					SPRINT_EV_REQUEUED, ev, &err),
			 0);
	assert_true(changed);
	assert_string_equal(state_of(j, "sp-000003"), "submitted");
	assert_int_equal(journal_commit(j, &err), 0);
	assert_non_null(strstr(types_of(j, "sp-000003"), "sprint.requeued"));
	json_decref(ev);
	journal_close(j);
}

/* A claim is kept once, with the time it was made. */
static void test_sprint_claim(void **state)
{
	struct journal *j = with_sprint("claim.db", "sp-000004");
	struct err err = ERR_INIT;
	json_t *c = json_pack("{s:s, s:s}", "status", "completed",
			      "sprint_id", "sp-000004");
	json_t *row = NULL, *meta;
	int fresh;

	(void)state;
	assert_int_equal(journal_begin(j, &err), 0);
	assert_int_equal(sprint_claim(j, &fresh, "sp-000004", c, "file",
				      &err),
			 0);
	assert_true(fresh);
	assert_int_equal(sprint_claim(j, &fresh, "sp-000004", c, "file",
				      &err),
			 0);
	assert_false(fresh);
	assert_string_equal(state_of(j, "sp-000004"), "pending");
	assert_int_equal(sprint_get(j, &row, "sp-000004", &err), 0);
	meta = json_loads(json_string_value(json_object_get(row, "metadata")),
			  0, NULL);
	assert_true(json_equal(json_object_get(meta, "claim"), c));
	assert_true(json_is_string(json_object_get(meta, "claim_at")));
	json_decref(meta);
	json_decref(row);
	assert_int_equal(journal_commit(j, &err), 0);
	json_decref(c);
	journal_close(j);
}

/* A state changed behind the journal's back is found by the replay. */
static void test_sprint_replay_finds_tampering(void **state)
{
	struct journal *j = with_sprint("tamper.db", "sp-000005");
	struct err err = ERR_INIT;
	json_t *bad = NULL;
	int checked;

	(void)state;
	assert_int_equal(journal_begin(j, &err), 0);
	assert_int_equal(sprint_mark_submitted(j, "sp-000005", "local", "1",
					       &err),
			 0);
	/* An allowed edge, but with no event. */
	assert_int_equal(journal_exec(j, NULL,
				      "UPDATE sprints SET state = 'running'",
				      NULL, &err),
			 0);
	assert_int_equal(journal_commit(j, &err), 0);
	assert_int_equal(sprint_replay_check(j, &bad, &checked, 10, &err), 0);
	assert_int_equal(json_array_size(bad), 1);
	assert_string_equal(json_string_value(json_object_get(
				    json_array_get(bad, 0), "stored")),
			    "running");
	assert_string_equal(json_string_value(json_object_get(
				    json_array_get(bad, 0), "replayed")),
			    "submitted");
	json_decref(bad);
	journal_close(j);
}

/* Pages cover every live and recently finished sprint exactly once. */
static void test_sprint_page_cursor(void **state)
{
	static const char *const ids[] = { "sp-00000a", "sp-00000b",
					   "sp-00000c", "sp-00000d",
					   "sp-00000e" };
	struct journal *j = fixture_journal("page.db");
	struct sprint_page_query q;
	struct err err = ERR_INIT;
	struct sprint_new n;
	json_t *rows = NULL, *seen = json_object(), *c;
	char *next = NULL, *cursor = NULL;
	int i, t, pages = 0;
	size_t k;

	(void)state;
	c = json_pack("{s:s}", "status", "failed");
	assert_int_equal(journal_begin(j, &err), 0);
	for (i = 0; i < 5; i++) {
		memset(&n, 0, sizeof(n));
		n.id = ids[i];
		n.study = "demo";
		n.cluster = "local";
		n.directory = "/x";
		assert_int_equal(sprint_create(j, &n, &err), 0);
		if (i >= 3)
			assert_int_equal(sprint_finish(j, &t, ids[i],
						       SPRINT_FAILED, c, NULL,
						       &err),
					 0);
	}
	assert_int_equal(journal_commit(j, &err), 0);
	do {
		memset(&q, 0, sizeof(q));
		q.limit = 2;
		q.cursor = cursor;
		q.finished_window_s = 3600;
		if (sprint_page(j, &rows, &next, &q, &err) < 0)
			fail_msg("sprint_page: %s", err.message);
		for (k = 0; k < json_array_size(rows); k++) {
			const char *id = json_string_value(json_object_get(
				json_array_get(rows, k), "id"));

			if (json_object_get(seen, id))
				fail_msg("%s shown twice", id);
			json_object_set_new(seen, id, json_true());
		}
		assert_true(json_array_size(rows) <= 2);
		json_decref(rows);
		free(cursor);
		cursor = next;
		next = NULL;
		pages++;
	} while (cursor && pages < 10);
	assert_int_equal(json_object_size(seen), 5);
	assert_int_equal(pages, 3);
	/* A cursor that is not ours is refused. */
	q.cursor = "X|nonsense";
	assert_int_equal(sprint_page(j, &rows, &next, &q, &err), -1);
	assert_int_equal(err.code, ERR_SPEC_INVALID);
	err_release(&err);
	json_decref(seen);
	json_decref(c);
	journal_close(j);
}

static void test_sprint_new_id_shape(void **state)
{
	struct journal *j = fixture_journal("ids.db");
	char id[SPRINT_ID_MAX], other[SPRINT_ID_MAX];
	struct err err = ERR_INIT;
	size_t i;

	(void)state;
	assert_int_equal(sprint_new_id(j, id, &err), 0);
	assert_int_equal(strlen(id), 9);
	assert_memory_equal(id, "sp-", 3);
	for (i = 3; i < 9; i++)
		assert_non_null(strchr("0123456789abcdef", id[i]));
	assert_int_equal(sprint_new_id(j, other, &err), 0);
	journal_close(j);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sprint_dir_name_slug),
		cmocka_unit_test(test_sprint_dir_name_slug_capped),
		cmocka_unit_test(test_sprint_states),
		cmocka_unit_test(test_sprint_next_state_table),
		cmocka_unit_test(test_sprint_event_for_job),
		cmocka_unit_test(test_sprint_lifecycle),
		cmocka_unit_test(test_sprint_heartbeat_seq),
		cmocka_unit_test(test_sprint_observe_requeue),
		cmocka_unit_test(test_sprint_claim),
		cmocka_unit_test(test_sprint_replay_finds_tampering),
		cmocka_unit_test(test_sprint_page_cursor),
		cmocka_unit_test(test_sprint_new_id_shape),
	};

	return cmocka_run_group_tests(tests, fixture_setup, fixture_teardown);
}
