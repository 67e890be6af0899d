/*
 * test_observe.c: unit tests for the shared scheduler query budget and
 * the cache of answers (observe.h): a token bucket kept in the journal
 * for every process on it, answers served from the cache inside the
 * window, fractional intervals honoured, unmetered schedulers asked on
 * every call.  The scheduler is a fake that counts its queries.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "cluster.h"
#include "journal.h"
#include "observe.h"
#include "sched.h"
#include "banned.h"

static int queries;	/* how often the fake was asked */
static int fail_next;	/* make the next query fail */

/* Every id is running, with the query number as its evidence. */
static int fake_query(struct sched *s, json_t **out, const json_t *ids,
		      struct err *err)
{
	size_t i;

	(void)s;
	if (fail_next) {
		fail_next = 0;
		return err_set(err, ERR_SCHEDULER_UNAVAILABLE, "fake is down");
	}
	queries++;
	*out = json_object();
	for (i = 0; i < json_array_size(ids); i++)
		json_object_set_new(*out,
				    json_string_value(json_array_get(ids, i)),
				    json_pack("{s:s, s:{s:i}}", "state",
					      "running", "evidence", "query",
					      queries));
	return 0;
}

static const struct sched_ops fake_shared = {
	.name = "fake",
	.shared = 1,
	.query = fake_query,
};

static const struct sched_ops fake_local = {
	.name = "fake-local",
	.shared = 0,
	.query = fake_query,
};

/* A test's journal(s), cluster and scheduler handle. */
struct fixture {
	char dir[64];
	char path[128];
	struct journal *j1, *j2;
	struct sched sched;
	struct cluster c;
	json_t *conf;
};

static void setup(struct fixture *f, const struct sched_ops *ops,
		  double interval, int burst)
{
	struct err err = ERR_INIT;

	memset(f, 0, sizeof(*f));
	snprintf(f->dir, sizeof(f->dir), "/tmp/hpcloop-test-observe.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->path, sizeof(f->path), "%s/j.db", f->dir);
	assert_int_equal(journal_open(&f->j1, f->path, JOURNAL_CREATE, &err),
			 0);
	assert_int_equal(journal_open(&f->j2, f->path, 0, &err), 0);
	f->conf = json_pack("{s:f, s:i}", "query_interval_s", interval,
			    "query_burst", burst);
	f->sched.ops = ops;
	f->c.name = "hpc";
	f->c.conf = f->conf;
	f->c.sched = &f->sched;
	queries = 0;
	fail_next = 0;
}

static void teardown(struct fixture *f)
{
	char p[160];

	journal_close(f->j1);
	journal_close(f->j2);
	json_decref(f->conf);
	unlink(f->path);
	snprintf(p, sizeof(p), "%s-wal", f->path);
	unlink(p);
	snprintf(p, sizeof(p), "%s-shm", f->path);
	unlink(p);
	rmdir(f->dir);
}

/* observe_jobs through 'j' for 'ids' (a JSON array text), or fail. */
static void observe_ok(struct journal *j, struct cluster *c,
		       struct observation *o, const char *ids)
{
	struct err err = ERR_INIT;
	json_t *arr = json_loads(ids, 0, NULL);

	assert_non_null(arr);
	if (observe_jobs(j, o, c, arr, &err) < 0)
		fail_msg("observe_jobs: %s", err.message);
	json_decref(arr);
}

/* A second process inside the window gets the cached answer. */
static void test_observe_budget_shared_across_connections(void **state)
{
	struct fixture f;
	struct observation a = OBSERVATION_INIT, b = OBSERVATION_INIT;

	(void)state;
	setup(&f, &fake_shared, 60, 1);
	observe_ok(f.j1, &f.c, &a, "[\"1\", \"2\"]");
	assert_int_equal(a.queried, 1);
	assert_int_equal(a.cached, 0);
	assert_int_equal(queries, 1);
	observe_ok(f.j2, &f.c, &b, "[\"1\", \"2\"]");
	assert_int_equal(b.queried, 0);
	assert_int_equal(b.cached, 1);
	assert_int_equal(queries, 1);
	assert_true(b.next_query_in_s > 50 && b.next_query_in_s <= 60);
	assert_string_equal(json_string_value(json_object_get(
				    json_object_get(b.states, "2"), "state")),
			    "running");
	observation_release(&a);
	observation_release(&b);
	teardown(&f);
}

/* The cache answers only for the ids it holds. */
static void test_observe_cache_covers_asked_ids(void **state)
{
	struct fixture f;
	struct observation a = OBSERVATION_INIT, b = OBSERVATION_INIT;

	(void)state;
	setup(&f, &fake_shared, 60, 1);
	observe_ok(f.j1, &f.c, &a, "[\"1\", \"2\"]");
	observe_ok(f.j1, &f.c, &b, "[\"1\", \"3\"]");
	assert_int_equal(b.cached, 1);
	assert_non_null(json_object_get(b.states, "1"));
	assert_null(json_object_get(b.states, "3"));
	observation_release(&a);
	observation_release(&b);
	teardown(&f);
}

/* A burst allows that many queries, then the bucket is empty. */
static void test_observe_burst(void **state)
{
	struct fixture f;
	struct observation o = OBSERVATION_INIT;
	int i;

	(void)state;
	setup(&f, &fake_shared, 60, 3);
	for (i = 0; i < 3; i++) {
		observe_ok(i % 2 ? f.j2 : f.j1, &f.c, &o, "[\"7\"]");
		assert_int_equal(o.queried, 1);
		observation_release(&o);
	}
	observe_ok(f.j1, &f.c, &o, "[\"7\"]");
	assert_int_equal(o.queried, 0);
	assert_int_equal(queries, 3);
	/* The cached answer is the last query's. */
	assert_int_equal(json_integer_value(json_object_get(
				 json_object_get(json_object_get(o.states, "7"),
						 "evidence"),
				 "query")),
			 3);
	observation_release(&o);
	teardown(&f);
}

/* A fractional interval is honoured: the bucket refills after it. */
static void test_observe_fractional_interval(void **state)
{
	struct fixture f;
	struct observation o = OBSERVATION_INIT;
	struct timespec nap = { 0, 300 * 1000 * 1000 };

	(void)state;
	setup(&f, &fake_shared, 0.1, 1);
	observe_ok(f.j1, &f.c, &o, "[\"1\"]");
	observation_release(&o);
	nanosleep(&nap, NULL);
	observe_ok(f.j2, &f.c, &o, "[\"1\"]");
	assert_int_equal(o.queried, 1);
	assert_int_equal(queries, 2);
	observation_release(&o);
	teardown(&f);
}

/* Another cluster has a bucket of its own. */
static void test_observe_per_cluster(void **state)
{
	struct fixture f;
	struct observation o = OBSERVATION_INIT;

	(void)state;
	setup(&f, &fake_shared, 60, 1);
	observe_ok(f.j1, &f.c, &o, "[\"1\"]");
	observation_release(&o);
	f.c.name = "other";
	observe_ok(f.j1, &f.c, &o, "[\"1\"]");
	assert_int_equal(o.queried, 1);
	assert_int_equal(queries, 2);
	observation_release(&o);
	teardown(&f);
}

/* An unmetered scheduler is asked on every call, and nothing stored. */
static void test_observe_unmetered(void **state)
{
	struct fixture f;
	struct observation o = OBSERVATION_INIT;
	struct err err = ERR_INIT;
	json_t *rows = NULL;
	int i;

	(void)state;
	setup(&f, &fake_local, 60, 1);
	for (i = 0; i < 3; i++) {
		observe_ok(f.j1, &f.c, &o, "[\"1\"]");
		assert_int_equal(o.queried, 1);
		observation_release(&o);
	}
	assert_int_equal(queries, 3);
	assert_int_equal(journal_exec(f.j1, &rows,
				      "SELECT * FROM query_budget", NULL,
				      &err),
			 0);
	assert_int_equal(json_array_size(rows), 0);
	json_decref(rows);
	teardown(&f);
}

/* A failing scheduler is the caller's error, and no answer is stored. */
static void test_observe_failure(void **state)
{
	struct fixture f;
	struct observation o = OBSERVATION_INIT;
	struct err err = ERR_INIT;
	json_t *ids = json_pack("[s]", "1"), *row = NULL;

	(void)state;
	setup(&f, &fake_shared, 60, 2);
	fail_next = 1;
	assert_int_equal(observe_jobs(f.j1, &o, &f.c, ids, &err), -1);
	assert_int_equal(err.code, ERR_SCHEDULER_UNAVAILABLE);
	assert_null(o.states);
	assert_int_equal(journal_row(f.j1, &row,
				     "SELECT answer FROM query_budget", NULL,
				     &err),
			 0);
	assert_true(json_is_null(json_object_get(row, "answer")));
	json_decref(row);
	json_decref(ids);
	err_release(&err);
	teardown(&f);
}

/* A cluster whose budget is not configured is refused, not guessed. */
static void test_observe_needs_interval(void **state)
{
	struct fixture f;
	struct observation o = OBSERVATION_INIT;
	struct err err = ERR_INIT;
	json_t *ids = json_pack("[s]", "1");

	(void)state;
	setup(&f, &fake_shared, 60, 1);
	json_object_del(f.conf, "query_interval_s");
	assert_int_equal(observe_jobs(f.j1, &o, &f.c, ids, &err), -1);
	assert_int_equal(err.code, ERR_CONFIG_INVALID);
	assert_int_equal(queries, 0);
	json_decref(ids);
	err_release(&err);
	teardown(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_observe_budget_shared_across_connections),
		cmocka_unit_test(test_observe_cache_covers_asked_ids),
		cmocka_unit_test(test_observe_burst),
		cmocka_unit_test(test_observe_fractional_interval),
		cmocka_unit_test(test_observe_per_cluster),
		cmocka_unit_test(test_observe_unmetered),
		cmocka_unit_test(test_observe_failure),
		cmocka_unit_test(test_observe_needs_interval),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
