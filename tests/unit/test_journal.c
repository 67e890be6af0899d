/*
 * test_journal.c: unit tests for the SQLite journal (journal.h, DESIGN
 * §3 and §4): opening creates the file and its directories in WAL mode
 * at JOURNAL_SCHEMA_VERSION, reopening keeps the data, a newer or a
 * damaged file is refused, statements bind and return typed JSON,
 * transactions commit and roll back, the events table is read in order
 * with its filters and tail, reads that never create a journal, the
 * sprint states CHECK, and every
 * core table is counted.  Each test works in its own directory under a
 * mkdtemp() directory that the group teardown removes.
 */
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "err.h"
#include "idem.h"
#include "journal.h"
#include "sprint.h"
#include "banned.h"

/* The scratch directory of the whole run, made by group_setup(). */
static char tmpdir[] = "/tmp/test_journal.XXXXXX";

/* The path of 'name' inside tmpdir, in 'out' of 'size' bytes. */
static void tmp_path(char *out, size_t size, const char *name)
{
	int n = snprintf(out, size, "%s/%s", tmpdir, name);

	assert_true(n > 0 && (size_t)n < size);
}

/* Open the journal 'name' inside tmpdir, or fail the test. */
static struct journal *open_ok(const char *name)
{
	struct err err = ERR_INIT;
	struct journal *j = NULL;
	char path[512];

	tmp_path(path, sizeof(path), name);
	if (journal_open(&j, path, JOURNAL_CREATE, &err) < 0)
		fail_msg("journal_open %s: %s", path, err.message);
	assert_non_null(j);
	assert_int_equal(err.code, ERR_NONE);
	return j;
}

/* Run 'sql' with the packed 'params' (may be NULL), or fail. */
static json_t *exec_ok(struct journal *j, const char *sql, json_t *params)
{
	struct err err = ERR_INIT;
	json_t *rows = NULL;

	if (journal_exec(j, &rows, sql, params, &err) < 0)
		fail_msg("%s: %s", sql, err.message);
	json_decref(params);
	assert_true(json_is_array(rows));
	return rows;
}

/* The single integer the query 'sql' yields in column 'col'. */
static json_int_t int_of(struct journal *j, const char *sql,
			 const char *col)
{
	struct err err = ERR_INIT;
	json_t *row = NULL;
	json_int_t v;

	if (journal_row(j, &row, sql, NULL, &err) < 0)
		fail_msg("%s: %s", sql, err.message);
	assert_non_null(row);
	assert_true(json_is_integer(json_object_get(row, col)));
	v = json_integer_value(json_object_get(row, col));
	json_decref(row);
	return v;
}

/* Append an event inside its own transaction; returns its id. */
static int64_t add_event(struct journal *j, const char *type,
			 const char *subject, json_t *data)
{
	struct err err = ERR_INIT;
	int64_t id = -1;

	assert_int_equal(journal_begin(j, &err), 0);
	if (journal_event(j, &id, type, subject, data, &err) < 0)
		fail_msg("journal_event: %s", err.message);
	assert_int_equal(journal_commit(j, &err), 0);
	json_decref(data);
	assert_true(id > 0);
	return id;
}

/* journal_events with these arguments, or fail. */
static json_t *events_ok(struct journal *j, int64_t since, int limit,
			 const char *type, const char *subject)
{
	struct err err = ERR_INIT;
	json_t *ev = NULL;

	struct journal_event_query q = { since, limit, 0, type, subject };

	if (journal_events(j, &ev, &q, &err) < 0)
		fail_msg("journal_events: %s", err.message);
	assert_true(json_is_array(ev));
	return ev;
}

/* The ids of the event rows 'ev' equal the 'n' ids in 'want'. */
static void assert_event_ids(json_t *ev, const int64_t *want, size_t n)
{
	size_t i;

	assert_int_equal(json_array_size(ev), n);
	for (i = 0; i < n; i++) {
		json_t *id = json_object_get(json_array_get(ev, i), "id");

		assert_true(json_is_integer(id));
		assert_int_equal(json_integer_value(id), want[i]);
	}
	json_decref(ev);
}

/* Write 'text' 'times' times over to tmpdir/'name'. */
static void write_garbage(const char *name, const char *text, size_t times)
{
	char path[512];
	FILE *f;
	size_t i;

	tmp_path(path, sizeof(path), name);
	f = fopen(path, "wb");
	assert_non_null(f);
	for (i = 0; i < times; i++)
		assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
}

/* Opening creates the file and every missing parent directory. */
static void test_journal_open_creates_dirs(void **state)
{
	struct journal *j;
	struct stat st;
	char path[512];

	(void)state;
	tmp_path(path, sizeof(path), "create/a/b");
	assert_int_equal(stat(path, &st), -1);
	j = open_ok("create/a/b/journal.db");
	assert_int_equal(stat(path, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	tmp_path(path, sizeof(path), "create/a/b/journal.db");
	assert_string_equal(journal_path(j), path);
	assert_int_equal(stat(path, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	journal_close(j);
}

/* A fresh journal is in WAL mode at the current schema version. */
static void test_journal_open_wal_and_version(void **state)
{
	struct journal *j = open_ok("wal/journal.db");
	struct err err = ERR_INIT;
	json_t *row = NULL;

	(void)state;
	assert_int_equal(journal_row(j, &row, "PRAGMA journal_mode", NULL,
				     &err),
			 0);
	assert_string_equal(
		json_string_value(json_object_get(row, "journal_mode")),
		"wal");
	json_decref(row);
	assert_int_equal(int_of(j, "PRAGMA user_version", "user_version"),
			 JOURNAL_SCHEMA_VERSION);
	assert_int_equal(int_of(j, "PRAGMA foreign_keys", "foreign_keys"),
			 1);
	assert_int_equal(journal_in_transaction(j), 0);
	journal_close(j);
}

/* Reopening keeps the rows and the version: no second migration. */
static void test_journal_reopen_no_remigration(void **state)
{
	struct journal *j = open_ok("reopen/journal.db");
	int64_t id;

	(void)state;
	id = add_event(j, "study.created", "s1", NULL);
	json_decref(exec_ok(j, "INSERT INTO studies (name, cluster, "
			       "created_at, updated_at) VALUES "
			       "('s1', 'local', 't', 't')",
			    NULL));
	journal_close(j);
	j = open_ok("reopen/journal.db");
	assert_int_equal(int_of(j, "PRAGMA user_version", "user_version"),
			 JOURNAL_SCHEMA_VERSION);
	assert_int_equal(int_of(j, "SELECT count(*) AS n FROM studies", "n"),
			 1);
	assert_int_equal(int_of(j, "SELECT max(id) AS n FROM events", "n"),
			 id);
	journal_close(j);
	/* And a third time, so it is not a one-off. */
	j = open_ok("reopen/journal.db");
	assert_int_equal(int_of(j, "SELECT count(*) AS n FROM events", "n"),
			 1);
	journal_close(j);
}

/* A journal from a newer hpcloop is journal_unsupported. */
static void test_journal_newer_version_refused(void **state)
{
	struct journal *j = open_ok("newer/journal.db");
	struct err err = ERR_INIT;
	char path[512];

	(void)state;
	json_decref(exec_ok(j, "PRAGMA user_version = 99", NULL));
	journal_close(j);
	tmp_path(path, sizeof(path), "newer/journal.db");
	j = (struct journal *)&err;	/* must be reset to NULL */
	assert_int_equal(journal_open(&j, path, 0, &err), -1);
	assert_null(j);
	assert_int_equal(err.code, ERR_JOURNAL_UNSUPPORTED);
	assert_non_null(strstr(err.message, "99"));
	err_release(&err);
}

/* A file that is not SQLite is journal_corrupt. */
static void test_journal_garbage_is_corrupt(void **state)
{
	struct journal *j = NULL;
	struct err err = ERR_INIT;
	char path[512];

	(void)state;
	write_garbage("garbage.db", "this is not a database, honest\n", 200);
	tmp_path(path, sizeof(path), "garbage.db");
	assert_int_equal(journal_open(&j, path, 0, &err), -1);
	assert_null(j);
	assert_int_equal(err.code, ERR_JOURNAL_CORRUPT);
	assert_int_equal(err_exit_class(err.code), 3);
	err_release(&err);
}

/* A parent that is a file, not a directory, cannot hold a journal. */
static void test_journal_open_bad_parent(void **state)
{
	struct journal *j = NULL;
	struct err err = ERR_INIT;
	char path[512];

	(void)state;
	write_garbage("plainfile", "x", 1);
	tmp_path(path, sizeof(path), "plainfile/journal.db");
	assert_int_equal(journal_open(&j, path, JOURNAL_CREATE, &err), -1);
	assert_null(j);
	assert_int_equal(err.code, ERR_IO_FAILED);
	err_release(&err);
}

/* Every JSON type binds, and each column comes back with its type. */
static void test_journal_exec_binds_types(void **state)
{
	struct journal *j = open_ok("types/journal.db");
	json_t *rows, *row, *params;

	(void)state;
	params = json_pack("[s,I,f,b,b,n,{s:i,s:i},[i,s],s%]", "text",
			   (json_int_t)INT64_MAX, 1.5, 1, 0, "b", 1, "a", 2,
			   1, "x", "n\0ul", (size_t)4);
	assert_non_null(params);
	rows = exec_ok(j, "SELECT ? AS s, ? AS i, ? AS r, ? AS t, ? AS f, "
			  "? AS z, ? AS o, ? AS a, ? AS nul",
		       params);
	assert_int_equal(json_array_size(rows), 1);
	row = json_array_get(rows, 0);
	assert_int_equal(json_object_size(row), 9);
	assert_string_equal(json_string_value(json_object_get(row, "s")),
			    "text");
	assert_true(json_is_integer(json_object_get(row, "i")));
	assert_true(json_integer_value(json_object_get(row, "i")) ==
		    INT64_MAX);
	assert_true(json_is_real(json_object_get(row, "r")));
	assert_true(json_real_value(json_object_get(row, "r")) == 1.5);
	assert_true(json_is_integer(json_object_get(row, "t")));
	assert_int_equal(json_integer_value(json_object_get(row, "t")), 1);
	assert_int_equal(json_integer_value(json_object_get(row, "f")), 0);
	assert_true(json_is_integer(json_object_get(row, "f")));
	assert_true(json_is_null(json_object_get(row, "z")));
	/* Objects and arrays travel as their canonical JSON text. */
	assert_string_equal(json_string_value(json_object_get(row, "o")),
			    "{\"a\":2,\"b\":1}");
	assert_string_equal(json_string_value(json_object_get(row, "a")),
			    "[1,\"x\"]");
	assert_int_equal(json_string_length(json_object_get(row, "nul")), 4);
	assert_memory_equal(json_string_value(json_object_get(row, "nul")),
			    "n\0ul", 4);
	json_decref(rows);
	journal_close(j);
}

/* Several rows come back in order; no row is an empty array or NULL. */
static void test_journal_exec_rows(void **state)
{
	struct journal *j = open_ok("rows/journal.db");
	static const char *const names[] = { "b", "c", "a" };
	struct err err = ERR_INIT;
	json_t *rows, *row = (json_t *)&err;
	int i;

	(void)state;
	for (i = 0; i < 3; i++) {
		json_decref(exec_ok(j, "INSERT INTO studies (name, cluster, "
				       "created_at, updated_at) "
				       "VALUES (?, ?, ?, ?)",
				    json_pack("[s,s,s,s]", names[i], "local",
					      "t", "t")));
		assert_int_equal(journal_changes(j), 1);
	}
	rows = exec_ok(j, "SELECT name FROM studies ORDER BY name DESC",
		       NULL);
	assert_int_equal(json_array_size(rows), 3);
	assert_string_equal(json_string_value(json_object_get(
				    json_array_get(rows, 0), "name")),
			    "c");
	assert_string_equal(json_string_value(json_object_get(
				    json_array_get(rows, 2), "name")),
			    "a");
	json_decref(rows);
	json_decref(exec_ok(j, "UPDATE studies SET cluster = 'x' "
			       "WHERE name = 'zzz'",
			    NULL));
	assert_int_equal(journal_changes(j), 0);
	rows = exec_ok(j, "SELECT * FROM studies WHERE name = 'zzz'", NULL);
	assert_int_equal(json_array_size(rows), 0);
	json_decref(rows);
	assert_int_equal(journal_row(j, &row, "SELECT * FROM studies "
					      "WHERE name = 'zzz'",
				     NULL, &err),
			 0);
	assert_null(row);
	journal_close(j);
}

/* A bad statement is -1 with the error set and no rows. */
static void test_journal_exec_error(void **state)
{
	struct journal *j = open_ok("bad/journal.db");
	struct err err = ERR_INIT;
	json_t *rows = (json_t *)&err;

	(void)state;
	assert_int_equal(journal_exec(j, &rows, "SELEKT 1", NULL, &err), -1);
	assert_null(rows);
	assert_int_not_equal(err.code, ERR_NONE);
	assert_non_null(strstr(err.message, "syntax error"));
	err_release(&err);
	/* Foreign keys are on: a loop needs its study. */
	rows = (json_t *)&err;
	assert_int_equal(journal_exec(j, &rows,
				      "INSERT INTO loops (id, study, status, "
				      "total, created_at, updated_at) VALUES "
				      "('l1', 'nope', 'running', 1, 't', 't')",
				      NULL, &err),
			 -1);
	assert_null(rows);
	assert_int_not_equal(err.code, ERR_NONE);
	err_release(&err);
	assert_int_equal(int_of(j, "SELECT count(*) AS n FROM loops", "n"),
			 0);
	journal_close(j);
}

/* Rolling back undoes the rows and the events of the transaction. */
static void test_journal_rollback_undoes(void **state)
{
	struct journal *j = open_ok("rollback/journal.db");
	struct err err = ERR_INIT;

	(void)state;
	assert_int_equal(journal_begin(j, &err), 0);
	assert_int_equal(journal_in_transaction(j), 1);
	json_decref(exec_ok(j, "INSERT INTO studies (name, cluster, "
			       "created_at, updated_at) VALUES "
			       "('gone', 'local', 't', 't')",
			    NULL));
	assert_int_equal(journal_event(j, NULL, "study.created", "gone", NULL,
				       &err),
			 0);
	assert_int_equal(int_of(j, "SELECT count(*) AS n FROM events", "n"),
			 1);
	journal_rollback(j);
	assert_int_equal(journal_in_transaction(j), 0);
	assert_int_equal(int_of(j, "SELECT count(*) AS n FROM studies", "n"),
			 0);
	assert_int_equal(int_of(j, "SELECT count(*) AS n FROM events", "n"),
			 0);
	/* Rolling back with nothing open is harmless. */
	journal_rollback(j);
	assert_int_equal(journal_in_transaction(j), 0);
	/* A commit keeps them. */
	assert_int_equal(journal_begin(j, &err), 0);
	assert_int_equal(journal_event(j, NULL, "kept", NULL, NULL, &err), 0);
	assert_int_equal(journal_commit(j, &err), 0);
	assert_int_equal(journal_in_transaction(j), 0);
	assert_int_equal(int_of(j, "SELECT count(*) AS n FROM events", "n"),
			 1);
	journal_close(j);
}

/* Closing with a transaction open rolls it back. */
static void test_journal_close_rolls_back(void **state)
{
	struct journal *j = open_ok("closetx/journal.db");
	struct err err = ERR_INIT;

	(void)state;
	assert_int_equal(journal_begin(j, &err), 0);
	assert_int_equal(journal_event(j, NULL, "lost", NULL, NULL, &err), 0);
	journal_close(j);
	j = open_ok("closetx/journal.db");
	assert_int_equal(int_of(j, "SELECT count(*) AS n FROM events", "n"),
			 0);
	journal_close(j);
}

/* Events come back oldest first, with their fields and data. */
static void test_journal_events_order_and_fields(void **state)
{
	struct journal *j = open_ok("events/journal.db");
	int64_t id[4];
	json_t *ev, *e, *want;

	(void)state;
	id[0] = add_event(j, "a", "s1", NULL);
	id[1] = add_event(j, "b", "s2", json_pack("{s:s}", "k", "v"));
	id[2] = add_event(j, "a", "s2", NULL);
	id[3] = add_event(j, "a", NULL, json_pack("{s:[i,i]}", "k", 1, 2));
	assert_true(id[0] < id[1] && id[1] < id[2] && id[2] < id[3]);
	assert_int_equal(journal_last_id(j), id[3]);
	ev = events_ok(j, 0, 100, NULL, NULL);
	assert_int_equal(json_array_size(ev), 4);
	e = json_array_get(ev, 0);
	assert_string_equal(json_string_value(json_object_get(e, "type")),
			    "a");
	assert_string_equal(json_string_value(json_object_get(e, "subject")),
			    "s1");
	assert_true(json_is_string(json_object_get(e, "ts")));
	assert_true(json_string_length(json_object_get(e, "ts")) > 0);
	assert_true(json_is_object(json_object_get(e, "data")));
	assert_int_equal(json_object_size(json_object_get(e, "data")), 0);
	e = json_array_get(ev, 1);
	assert_string_equal(json_string_value(json_object_get(
				    json_object_get(e, "data"), "k")),
			    "v");
	e = json_array_get(ev, 3);
	assert_true(json_is_null(json_object_get(e, "subject")));
	want = json_pack("{s:[i,i]}", "k", 1, 2);
	assert_true(json_equal(json_object_get(e, "data"), want));
	json_decref(want);
	assert_event_ids(ev, id, 4);
	journal_close(j);
}

/* since, limit, type and subject each narrow the list. */
static void test_journal_events_filters(void **state)
{
	struct journal *j = open_ok("filters/journal.db");
	int64_t id[4], want[4];

	(void)state;
	id[0] = add_event(j, "a", "s1", NULL);
	id[1] = add_event(j, "b", "s2", NULL);
	id[2] = add_event(j, "a", "s2", NULL);
	id[3] = add_event(j, "a", NULL, NULL);
	/* since is exclusive */
	assert_event_ids(events_ok(j, id[1], 100, NULL, NULL), id + 2, 2);
	assert_event_ids(events_ok(j, id[3], 100, NULL, NULL), NULL, 0);
	/* limit keeps the oldest */
	assert_event_ids(events_ok(j, 0, 2, NULL, NULL), id, 2);
	assert_event_ids(events_ok(j, id[0], 1, NULL, NULL), id + 1, 1);
	/* type */
	want[0] = id[0];
	want[1] = id[2];
	want[2] = id[3];
	assert_event_ids(events_ok(j, 0, 100, "a", NULL), want, 3);
	assert_event_ids(events_ok(j, 0, 100, "b", NULL), id + 1, 1);
	assert_event_ids(events_ok(j, 0, 100, "zzz", NULL), NULL, 0);
	/* subject */
	assert_event_ids(events_ok(j, 0, 100, NULL, "s2"), id + 1, 2);
	/* both, and with since */
	assert_event_ids(events_ok(j, 0, 100, "a", "s2"), id + 2, 1);
	assert_event_ids(events_ok(j, id[2], 100, "a", "s2"), NULL, 0);
	assert_event_ids(events_ok(j, id[0], 1, "a", NULL), id + 2, 1);
	journal_close(j);
}

/* tail takes the newest events, still oldest first. */
static void test_journal_events_tail(void **state)
{
	struct journal *j = open_ok("tail/journal.db");
	struct journal_event_query q = { 0, 2, 1, NULL, NULL };
	struct err err = ERR_INIT;
	int64_t id[4], last;
	json_t *ev = NULL;

	(void)state;
	id[0] = add_event(j, "a", "s1", NULL);
	id[1] = add_event(j, "b", "s2", NULL);
	id[2] = add_event(j, "a", "s2", NULL);
	id[3] = add_event(j, "a", NULL, NULL);
	assert_int_equal(journal_events(j, &ev, &q, &err), 0);
	assert_event_ids(ev, id + 2, 2);
	q.subject = "s2";
	q.limit = 5;
	assert_int_equal(journal_events(j, &ev, &q, &err), 0);
	assert_event_ids(ev, id + 1, 2);
	assert_int_equal(journal_last_event_id(j, &last, &err), 0);
	assert_int_equal(last, id[3]);
	journal_close(j);
}

/* Reads never create a journal: a missing one is not_found. */
static void test_journal_open_no_create(void **state)
{
	struct err err = ERR_INIT;
	struct journal *j = (struct journal *)&err;
	struct stat st;
	char path[512];

	(void)state;
	tmp_path(path, sizeof(path), "nocreate/journal.db");
	assert_int_equal(journal_open(&j, path, 0, &err), -1);
	assert_null(j);
	assert_int_equal(err.code, ERR_NOT_FOUND);
	assert_non_null(strstr(err.remedy, "hpcloop init"));
	tmp_path(path, sizeof(path), "nocreate");
	assert_int_equal(stat(path, &st), -1);
	err_release(&err);
}

/* A created journal and its directory are private to the user. */
static void test_journal_modes(void **state)
{
	struct journal *j = open_ok("modes/dir/journal.db");
	struct stat st;
	char path[512];

	(void)state;
	tmp_path(path, sizeof(path), "modes/dir/journal.db");
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	tmp_path(path, sizeof(path), "modes/dir");
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);
	journal_close(j);
}

/* The network filesystems are recognised by their magic numbers. */
static void test_journal_network_fs(void **state)
{
	(void)state;
	assert_true(journal_fs_is_network(0x6969));	 /* NFS */
	assert_true(journal_fs_is_network(0x0BD00BD0)); /* Lustre */
	assert_true(journal_fs_is_network(0x47504653)); /* GPFS */
	assert_false(journal_fs_is_network(0xEF53));	 /* ext4 */
	assert_false(journal_fs_is_network(0x01021994)); /* tmpfs */
	assert_false(journal_fs_is_network(0x58465342)); /* xfs */
}

/*
 * The states in the CHECK of the sprints table are exactly those of
 * enum sprint_state: one list, checked (STYLE: derive, not repeat).
 */
static void test_journal_sprint_states_match(void **state)
{
	struct journal *j = open_ok("states/journal.db");
	struct err err = ERR_INIT;
	json_t *params;
	int i, r;

	(void)state;
	json_decref(exec_ok(j, "INSERT INTO studies (name, cluster, "
			       "created_at, updated_at) VALUES "
			       "('s', 'local', 't', 't')",
			    NULL));
	for (i = 0; i <= SPRINT__COUNT; i++) {
		char id[32];
		const char *name = i < SPRINT__COUNT
					   ? sprint_state_name(i)
					   : "cached";

		snprintf(id, sizeof(id), "sp-%06d", i);
		params = json_pack("[s,s]", id, name);
		r = journal_exec(j, NULL,
				 "INSERT INTO sprints (id, study, cluster, "
				 "state, directory, job_id, created_at) "
				 "VALUES (?, 's', 'local', ?, '/d', '1', 't')",
				 params, &err);
		json_decref(params);
		if (i < SPRINT__COUNT && r < 0)
			fail_msg("state %s refused: %s", name, err.message);
		if (i == SPRINT__COUNT)
			assert_int_equal(r, -1);
		err_release(&err);
	}
	journal_close(j);
}

/* Every core table of DESIGN §3 is counted; SQLite's own are not. */
static void test_journal_row_counts(void **state)
{
	static const char *const tables[] = {
		"studies", "sprints", "jobs", "tasks", "heartbeats",
		"artifacts", "results", "ideas", "loops", "notifications",
		"idempotency", "events",
	};
	struct journal *j = open_ok("counts/journal.db");
	struct err err = ERR_INIT;
	json_t *counts = NULL, *empty;
	size_t i;

	(void)state;
	assert_int_equal(journal_row_counts(j, &counts, &err), 0);
	for (i = 0; i < sizeof(tables) / sizeof(tables[0]); i++) {
		json_t *n = json_object_get(counts, tables[i]);

		if (!json_is_integer(n))
			fail_msg("no count for table %s", tables[i]);
		assert_int_equal(json_integer_value(n), 0);
	}
	json_decref(counts);
	add_event(j, "a", NULL, NULL);
	add_event(j, "b", NULL, NULL);
	empty = json_object();
	{
		struct idem_key k = { "k", "h" };

		assert_int_equal(idem_store(j, "init", &k, NULL, empty, &err),
				 0);
	}
	json_decref(empty);
	assert_int_equal(journal_row_counts(j, &counts, &err), 0);
	assert_int_equal(json_integer_value(json_object_get(counts, "events")),
			 2);
	assert_int_equal(json_integer_value(json_object_get(counts,
							    "idempotency")),
			 1);
	assert_int_equal(json_integer_value(json_object_get(counts,
							    "studies")),
			 0);
	assert_null(json_object_get(counts, "sqlite_sequence"));
	json_decref(counts);
	journal_close(j);
}

/* doctor's report on a fresh journal is clean. */
static void test_journal_check_fresh(void **state)
{
	struct journal *j = open_ok("check/journal.db");
	struct err err = ERR_INIT;
	json_t *r = NULL;

	(void)state;
	assert_int_equal(journal_check(j, &r, &err), 0);
	assert_int_equal(json_integer_value(json_object_get(r,
							    "schema_version")),
			 JOURNAL_SCHEMA_VERSION);
	assert_int_equal(json_integer_value(json_object_get(
				 r, "expected_version")),
			 JOURNAL_SCHEMA_VERSION);
	assert_string_equal(json_string_value(json_object_get(r,
							      "integrity")),
			    "ok");
	assert_string_equal(json_string_value(json_object_get(r,
							      "journal_mode")),
			    "wal");
	assert_int_equal(json_integer_value(json_object_get(
				 r, "foreign_key_violations")),
			 0);
	assert_int_equal(json_integer_value(json_object_get(r, "events")), 0);
	json_decref(r);
	journal_close(j);
}

/* nftw callback: remove one entry, depth first. */
static int remove_entry(const char *path, const struct stat *st, int flag,
			struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static int group_setup(void **state)
{
	(void)state;
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int group_teardown(void **state)
{
	(void)state;
	return nftw(tmpdir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_journal_open_creates_dirs),
		cmocka_unit_test(test_journal_open_wal_and_version),
		cmocka_unit_test(test_journal_reopen_no_remigration),
		cmocka_unit_test(test_journal_newer_version_refused),
		cmocka_unit_test(test_journal_garbage_is_corrupt),
		cmocka_unit_test(test_journal_open_bad_parent),
		cmocka_unit_test(test_journal_exec_binds_types),
		cmocka_unit_test(test_journal_exec_rows),
		cmocka_unit_test(test_journal_exec_error),
		cmocka_unit_test(test_journal_rollback_undoes),
		cmocka_unit_test(test_journal_close_rolls_back),
		cmocka_unit_test(test_journal_events_order_and_fields),
		cmocka_unit_test(test_journal_events_filters),
		cmocka_unit_test(test_journal_events_tail),
		cmocka_unit_test(test_journal_open_no_create),
		cmocka_unit_test(test_journal_modes),
		cmocka_unit_test(test_journal_network_fs),
		cmocka_unit_test(test_journal_sprint_states_match),
		cmocka_unit_test(test_journal_row_counts),
		cmocka_unit_test(test_journal_check_fresh),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
