/*
 * test_sprint.c: unit tests for the sprint module (sprint.h): directory
 * names, states, ids, and the transitions with their events.
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

static void test_sprint_states(void **state)
{
	(void)state;
	assert_true(sprint_state_terminal("completed"));
	assert_true(sprint_state_terminal("lost"));
	assert_false(sprint_state_terminal("running"));
	assert_false(sprint_state_terminal(NULL));
	assert_true(sprint_state_valid("pending"));
	assert_false(sprint_state_valid("cached"));
}

/* A journal in a fresh directory with one study and one sprint. */
static struct journal *fixture(char *dir, size_t n)
{
	struct journal *j = NULL;
	struct err err = ERR_INIT;
	char path[512];
	json_t *p;

	snprintf(dir, n, "/tmp/hpcloop-test-sprint.XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/j.db", dir);
	assert_int_equal(journal_open(&j, path, &err), 0);
	assert_int_equal(journal_begin(j, &err), 0);
	assert_int_equal(sprint_ensure_study(j, "demo", "local", &err), 0);
	p = json_pack("[s]", "sp-000001");
	assert_int_equal(journal_exec(j, NULL,
				      "INSERT INTO sprints (id, study, cluster,"
				      " directory, created_at, state) VALUES "
				      "(?, 'demo', 'local', '/x', 'now', "
				      "'submitted')",
				      p, &err),
			 0);
	json_decref(p);
	return j;
}

static void cleanup(struct journal *j, const char *dir)
{
	char path[512];

	journal_close(j);
	snprintf(path, sizeof(path), "%s/j.db", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/j.db-wal", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/j.db-shm", dir);
	unlink(path);
	rmdir(dir);
}

static void test_sprint_heartbeats_then_finish_once(void **state)
{
	char dir[64];
	struct journal *j = fixture(dir, sizeof(dir));
	struct err err = ERR_INIT;
	json_t *beats, *row = NULL, *c;
	int stored, t;

	(void)state;
	beats = json_pack("[{s:i, s:s}, {s:i}, {s:i}]", "seq", 1, "phase",
			  "running (research)", "seq", 2, "seq", 1);
	assert_int_equal(sprint_ingest_heartbeats(j, &stored, "sp-000001",
						  beats, "pull", &err),
			 0);
	assert_int_equal(stored, 2);
	assert_int_equal(sprint_get(j, &row, "sp-000001", &err), 0);
	assert_string_equal(json_string_value(json_object_get(row, "state")),
			    "running");
	assert_string_equal(json_string_value(json_object_get(row, "phase")),
			    "running (research)");
	json_decref(row);
	c = json_pack("{s:s, s:s}", "status", "completed", "summary", "ok");
	assert_int_equal(sprint_finish(j, &t, "sp-000001", "completed", c,
				       NULL, &err),
			 0);
	assert_int_equal(t, 1);
	assert_int_equal(sprint_finish(j, &t, "sp-000001", "failed", c, NULL,
				       &err),
			 0);
	assert_int_equal(t, 0);
	assert_int_equal(sprint_get(j, &row, "sp-000001", &err), 0);
	assert_string_equal(json_string_value(json_object_get(row, "state")),
			    "completed");
	json_decref(row);
	/* Heartbeats for a finished sprint are refused. */
	assert_int_equal(sprint_ingest_heartbeats(j, &stored, "sp-000001",
						  beats, "push", &err),
			 -1);
	assert_int_equal(err.code, ERR_CONFLICT);
	err_release(&err);
	assert_int_equal(sprint_get(j, &row, "nope", &err), -1);
	assert_int_equal(err.code, ERR_NOT_FOUND);
	err_release(&err);
	json_decref(beats);
	json_decref(c);
	journal_rollback(j);
	cleanup(j, dir);
}

static void test_sprint_new_id_shape(void **state)
{
	char dir[64], id[SPRINT_ID_MAX], other[SPRINT_ID_MAX];
	struct journal *j = fixture(dir, sizeof(dir));
	struct err err = ERR_INIT;
	size_t i;

	(void)state;
	assert_int_equal(sprint_new_id(j, id, &err), 0);
	assert_int_equal(strlen(id), 9);
	assert_memory_equal(id, "sp-", 3);
	for (i = 3; i < 9; i++)
		assert_non_null(strchr("0123456789abcdef", id[i]));
	assert_int_equal(sprint_new_id(j, other, &err), 0);
	journal_rollback(j);
	cleanup(j, dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sprint_dir_name_slug),
		cmocka_unit_test(test_sprint_dir_name_slug_capped),
		cmocka_unit_test(test_sprint_states),
		cmocka_unit_test(test_sprint_heartbeats_then_finish_once),
		cmocka_unit_test(test_sprint_new_id_shape),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
