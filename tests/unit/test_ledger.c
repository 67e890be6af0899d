/*
 * test_ledger.c: unit tests for the ledger (ledger.h) and the metric
 * finders it uses (metric.h): the closed status list and the journal's
 * CHECK agreeing; decisions in both directions, with a minimum delta,
 * with the noise of the baseline's repeat runs; log lines and JSON
 * pointers; rows recorded, decided, refused twice for one sprint, paged,
 * counted, trended and exported as TSV.
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

#include "config.h"
#include "journal.h"
#include "journal_schema.h"
#include "ledger.h"
#include "metric.h"
#include "fixtures.h"
#include "banned.h"

/* The quoted names of the CHECK list that follows 'after' in 'sql'. */
static void check_list(char out[][32], size_t *n_out, const char *sql,
		       const char *after, const char *column)
{
	const char *p = strstr(sql, after), *end;
	char head[64];

	assert_non_null(p);
	snprintf(head, sizeof(head), "CHECK (%s IN (", column);
	p = strstr(p, head);
	assert_non_null(p);
	p += strlen(head);
	end = strstr(p, "))");
	assert_non_null(end);
	*n_out = 0;
	while ((p = memchr(p, '\'', (size_t)(end - p)))) {
		const char *q = memchr(p + 1, '\'', (size_t)(end - p - 1));

		assert_non_null(q);
		snprintf(out[*n_out], 32, "%.*s", (int)(q - p - 1), p + 1);
		(*n_out)++;
		p = q + 1;
	}
}

static void test_ledger_statuses_match_the_journal(void **state)
{
	size_t count, n, i;
	const char *const *m = journal_migrations(&count);
	char names[16][32];
	enum ledger_status s;

	(void)state;
	assert_true(count >= 4);
	check_list(names, &n, m[3], "CREATE TABLE results_new", "status");
	assert_int_equal(n, LEDGER__COUNT);
	for (i = 0; i < n; i++) {
		assert_int_equal(ledger_status_parse(&s, names[i]), 0);
		assert_int_equal(s, i);
		assert_string_equal(ledger_status_name(s), names[i]);
	}
	assert_int_equal(ledger_status_parse(&s, "lost"), -1);
	assert_int_equal(ledger_status_parse(&s, NULL), -1);
	assert_true(ledger_status_counts(LEDGER_CRASH));
	assert_true(ledger_status_counts(LEDGER_TIMEOUT));
	assert_false(ledger_status_counts(LEDGER_REQUEUED));
}

static void test_ledger_mean_sd(void **state)
{
	const double v[] = {0.50, 0.52, 0.48};
	double mean, sd;

	(void)state;
	ledger_mean_sd(&mean, &sd, v, 3);
	assert_float_equal(mean, 0.50, 1e-12);
	assert_float_equal(sd, 0.02, 1e-12);
	ledger_mean_sd(&mean, &sd, v, 1);
	assert_float_equal(mean, 0.50, 1e-12);
	assert_float_equal(sd, 0, 0);
	ledger_mean_sd(&mean, &sd, v, 0);
	assert_float_equal(mean, 0, 0);
}

/* A metric to decide with. */
static struct ledger_metric metric(int maximize, double min_imp, double k)
{
	struct ledger_metric m;

	memset(&m, 0, sizeof(m));
	m.name = "val_loss";
	m.maximize = maximize;
	m.min_improvement = min_imp;
	m.noise_k = k;
	return m;
}

static void test_ledger_decide_against_the_best(void **state)
{
	struct ledger_metric lower = metric(0, 0.01, 2);
	struct ledger_metric higher = metric(1, 0, 2);
	struct ledger_reference ref;
	struct ledger_verdict v;

	(void)state;
	memset(&ref, 0, sizeof(ref));
	/* The first value of a study is kept; no value is a crash. */
	ledger_decide(&v, &lower, 0.01, &ref, 1, 0.7);
	assert_int_equal(v.status, LEDGER_KEEP);
	assert_false(v.have_reference);
	ledger_decide(&v, &lower, 0.01, &ref, 0, 0);
	assert_int_equal(v.status, LEDGER_CRASH);
	ref.have_best = 1;
	ref.best = 0.5;
	ledger_decide(&v, &lower, 0.01, &ref, 1, 0.45);
	assert_int_equal(v.status, LEDGER_KEEP);
	assert_float_equal(v.gain, 0.05, 1e-12);
	assert_string_equal(v.reference_kind, "best");
	/* A gain inside the minimum delta, an equal and a worse value. */
	ledger_decide(&v, &lower, 0.01, &ref, 1, 0.495);
	assert_int_equal(v.status, LEDGER_DISCARD);
	assert_non_null(strstr(v.reason, "only"));
	ledger_decide(&v, &lower, 0, &ref, 1, 0.5);
	assert_int_equal(v.status, LEDGER_DISCARD);
	ledger_decide(&v, &lower, 0.01, &ref, 1, 0.6);
	assert_int_equal(v.status, LEDGER_DISCARD);
	assert_true(v.gain < 0);
	/* Larger is better the other way round. */
	ledger_decide(&v, &higher, 0, &ref, 1, 0.6);
	assert_int_equal(v.status, LEDGER_KEEP);
	ledger_decide(&v, &higher, 0, &ref, 1, 0.45);
	assert_int_equal(v.status, LEDGER_DISCARD);
	assert_false(v.noise_used);
}

static void test_ledger_decide_with_noise(void **state)
{
	struct ledger_metric m = metric(0, 0.001, 2);
	struct ledger_reference ref;
	struct ledger_verdict v;
	json_t *j;

	(void)state;
	memset(&ref, 0, sizeof(ref));
	ref.have_best = 1;
	ref.best = 0.50;
	ref.baseline_runs = 3;
	ref.baseline_mean = 0.50;
	ref.baseline_sd = 0.02;
	/* Beats min_improvement but not 2 sd = 0.04: discarded. */
	ledger_decide(&v, &m, 0.001, &ref, 1, 0.47);
	assert_int_equal(v.status, LEDGER_DISCARD);
	assert_true(v.noise_used);
	assert_float_equal(v.threshold, 0.04, 1e-12);
	assert_non_null(strstr(v.reason, "baseline runs"));
	ledger_decide(&v, &m, 0.001, &ref, 1, 0.45);
	assert_int_equal(v.status, LEDGER_KEEP);
	j = ledger_verdict_json(&v, &ref);
	assert_true(json_is_true(
	    json_object_get(json_object_get(j, "noise"), "raised_threshold")));
	assert_int_equal(json_integer_value(json_object_get(
			     json_object_get(j, "noise"), "baseline_runs")),
			 3);
	json_decref(j);
	/* A threshold larger than the noise stays the threshold. */
	ledger_decide(&v, &m, 0.1, &ref, 1, 0.45);
	assert_int_equal(v.status, LEDGER_DISCARD);
	assert_false(v.noise_used);
	/* A better baseline mean is the reference. */
	ref.best = 0.55;
	ledger_decide(&v, &m, 0.001, &ref, 1, 0.45);
	assert_string_equal(v.reference_kind, "baseline_mean");
	assert_float_equal(v.reference, 0.50, 1e-12);
	/* One baseline run gives no noise floor. */
	ref.baseline_runs = 1;
	ledger_decide(&v, &m, 0.001, &ref, 1, 0.54);
	assert_int_equal(v.status, LEDGER_KEEP);
	assert_false(v.noise_used);
	j = ledger_verdict_json(&v, &ref);
	assert_true(json_is_null(json_object_get(j, "noise")));
	json_decref(j);
}

static void test_ledger_metric_from_log(void **state)
{
	const char *log = "step 1\nval_loss: 0.9\nval_loss_ema: 0.1\n"
			  "  val_loss: 0.05\nval_loss:\t0.42\r\n"
			  "val_loss: nan\nval_loss: 0.3 (best)\n"
			  "val_loss: 1e400\nval_loss: 0.7x\ntail";
	double v = 0;
	size_t line = 0;

	(void)state;
	assert_int_equal(
	    metric_from_log(&v, &line, log, strlen(log), "val_loss"), 1);
	/* "0.3 (best)" counts; nan, 1e400 and "0.7x" do not. */
	assert_float_equal(v, 0.3, 0);
	assert_int_equal(line, 7);
	assert_int_equal(metric_from_log(&v, &line, log, 36, "val_loss"), 1);
	assert_float_equal(v, 0.9, 0);
	assert_int_equal(metric_from_log(&v, &line, log, strlen(log), "loss"),
			 0);
	assert_int_equal(metric_from_log(&v, &line, log, strlen(log), ""), 0);
	assert_int_equal(metric_from_log(&v, &line, "", 0, "val_loss"), 0);
	/* Without a final newline, and with an embedded NUL before it. */
	assert_int_equal(metric_from_log(&v, &line, "x\0y\nacc: 2", 10, "acc"),
			 1);
	assert_float_equal(v, 2, 0);
}

static void test_ledger_json_pointer(void **state)
{
	json_t *doc = json_loads("{\"metric\": 0.5, \"a/b\": {\"~k\": [1, "
				 "{\"x\": 7}]}, \"\": 3}",
				 0, NULL);
	char why[128];
	double v;

	(void)state;
	assert_ptr_equal(metric_json_pointer(doc, ""), doc);
	assert_float_equal(
	    json_number_value(metric_json_pointer(doc, "/metric")), 0.5, 0);
	assert_int_equal(
	    json_integer_value(metric_json_pointer(doc, "/a~1b/~0k/1/x")), 7);
	assert_int_equal(json_integer_value(metric_json_pointer(doc, "/")), 3);
	assert_null(metric_json_pointer(doc, "/a~1b/~0k/01"));
	assert_null(metric_json_pointer(doc, "/a~1b/~0k/9"));
	assert_null(metric_json_pointer(doc, "metric"));
	assert_null(metric_json_pointer(doc, "/metric/x"));
	json_decref(doc);
	assert_int_equal(metric_from_json(&v, why, sizeof(why),
					  "{\"metric\": 0.25}", 16, "/metric"),
			 1);
	assert_float_equal(v, 0.25, 0);
	assert_int_equal(
	    metric_from_json(&v, why, sizeof(why), "{", 1, "/metric"), 0);
	assert_string_equal(why, "not JSON");
	assert_int_equal(metric_from_json(&v, why, sizeof(why),
					  "{\"metric\": \"0.2\"}", 17,
					  "/metric"),
			 0);
	assert_non_null(strstr(why, "not a number"));
	assert_int_equal(
	    metric_from_json(&v, why, sizeof(why), "{}", 2, "/metric"), 0);
	assert_non_null(strstr(why, "nothing at"));
}

/* Run 'sql' on 'j' or fail. */
static void sql_ok(struct journal *j, const char *sql)
{
	struct err err = ERR_INIT;

	if (journal_exec(j, NULL, sql, NULL, &err) < 0)
		fail_msg("%s: %s", sql, err.message);
}

/* Record 'value' ('have' 0: none) in study "s" and return its status. */
static const char *record(struct journal *j, const struct ledger_metric *m,
			  int have, double value, int baseline,
			  const char *sprint, struct err *err, int *rc)
{
	static char status[16];
	struct ledger_entry e;
	json_t *row = NULL;

	memset(&e, 0, sizeof(e));
	e.study = "s";
	e.have_value = have;
	e.value = value;
	e.baseline = baseline;
	e.sprint_id = sprint;
	e.description = "a run\twith a tab\nand a newline";
	assert_int_equal(journal_begin(j, err), 0);
	*rc = ledger_record(j, &row, m, &e, err);
	if (*rc == 0)
		assert_int_equal(journal_commit(j, err), 0);
	else
		journal_rollback(j);
	snprintf(status, sizeof(status), "%s",
		 row ? json_string_value(json_object_get(row, "status")) : "");
	json_decref(row);
	return status;
}

static void test_ledger_record_and_read(void **state)
{
	struct journal *j = fixture_journal("ledger.db");
	struct ledger_metric m = metric(0, 0, 2);
	struct ledger_query q;
	struct err err = ERR_INIT;
	json_t *rows = NULL, *counts = NULL, *trend = NULL, *best = NULL;
	int64_t next;
	char *tsv;
	int rc;

	(void)state;
	sql_ok(j, "INSERT INTO studies (name, cluster, created_at, "
		  "updated_at) VALUES ('s', 'local', 't', 't')");
	sql_ok(j, "INSERT INTO sprints (id, study, cluster, state, "
		  "directory, created_at) VALUES ('sp-000001', 's', 'local', "
		  "'failed', '/d', 't')");
	assert_string_equal(record(j, &m, 1, 0.9, 1, NULL, &err, &rc), "keep");
	assert_string_equal(record(j, &m, 1, 0.8, 1, NULL, &err, &rc), "keep");
	/* Two baseline runs: sd 0.0707, threshold 0.141 over mean 0.85. */
	assert_string_equal(record(j, &m, 1, 0.75, 0, NULL, &err, &rc),
			    "discard");
	assert_string_equal(record(j, &m, 1, 0.6, 0, NULL, &err, &rc), "keep");
	assert_string_equal(record(j, &m, 0, 0, 0, "sp-000001", &err, &rc),
			    "crash");
	/* A second result for the same sprint is refused. */
	assert_string_equal(record(j, &m, 1, 0.1, 0, "sp-000001", &err, &rc),
			    "");
	assert_int_equal(rc, -1);
	assert_int_equal(err.code, ERR_CONFLICT);
	err_release(&err);
	memset(&q, 0, sizeof(q));
	q.study = "s";
	q.limit = 2;
	assert_int_equal(ledger_page(j, &rows, &next, &q, &err), 0);
	assert_int_equal(json_array_size(rows), 2);
	assert_int_equal(next, 2);
	json_decref(rows);
	q.after = next;
	q.limit = 50;
	assert_int_equal(ledger_page(j, &rows, &next, &q, &err), 0);
	assert_int_equal(json_array_size(rows), 3);
	assert_int_equal(next, 0);
	tsv = ledger_tsv(rows);
	assert_string_equal(tsv, "id\tmetric\tstatus\tdescription\n"
				 "3\t0.750000\tdiscard\ta run with a tab and "
				 "a newline\n"
				 "4\t0.600000\tkeep\ta run with a tab and a "
				 "newline\n"
				 "5\t0.000000\tcrash\ta run with a tab and a "
				 "newline\n");
	free(tsv);
	json_decref(rows);
	q.after = 0;
	q.newest = 1;
	q.limit = 2;
	assert_int_equal(ledger_page(j, &rows, &next, &q, &err), 0);
	assert_int_equal(
	    json_integer_value(json_object_get(json_array_get(rows, 1), "id")),
	    5);
	json_decref(rows);
	assert_int_equal(ledger_counts(j, &counts, "s", NULL, &err), 0);
	assert_int_equal(json_integer_value(json_object_get(counts, "keep")),
			 3);
	assert_int_equal(json_integer_value(json_object_get(counts, "runs")),
			 5);
	assert_int_equal(ledger_best(j, &best, "s", NULL, &m, &err), 0);
	assert_float_equal(json_number_value(json_object_get(best, "metric")),
			   0.6, 0);
	assert_int_equal(ledger_trend(j, &trend, "s", NULL, &m, 10, &err), 0);
	assert_string_equal(
	    json_string_value(json_object_get(trend, "direction")),
	    "improving");
	assert_int_equal(
	    json_integer_value(json_object_get(trend, "runs_since_best")), 1);
	json_decref(counts);
	json_decref(best);
	json_decref(trend);
	journal_close(j);
}

/* The sprint row 'id' (new). */
static json_t *sprint_row(struct journal *j, const char *id)
{
	struct err err = ERR_INIT;
	json_t *row = NULL, *params = json_pack("[s]", id);

	assert_int_equal(journal_row(j, &row,
				     "SELECT * FROM sprints WHERE id = ?",
				     params, &err),
			 0);
	json_decref(params);
	assert_non_null(row);
	return row;
}

/* Record sprint 'id' as ledger_record_sprint() does, in a transaction. */
static json_t *record_sprint(struct journal *j, const struct config *cfg,
			     const char *id, const char *doc)
{
	struct err err = ERR_INIT;
	json_t *row = sprint_row(j, id), *out = NULL;

	assert_int_equal(journal_begin(j, &err), 0);
	if (ledger_record_sprint(j, &out, cfg, row, doc, doc ? strlen(doc) : 0,
				 "not there", &err) < 0)
		fail_msg("%s", err.message);
	assert_int_equal(journal_commit(j, &err), 0);
	json_decref(row);
	return out;
}

static void test_ledger_record_sprint(void **state)
{
	struct journal *j = fixture_journal("sprints.db");
	struct config cfg = CONFIG_INIT;
	struct err err = ERR_INIT;
	json_t *out, *row;

	(void)state;
	cfg.root = json_loads("{\"studies\": {\"s\": {\"cluster\": \"local\","
			      " \"noise_k\": 2, \"metric\": {\"name\": "
			      "\"acc\", \"direction\": \"maximize\", "
			      "\"min_improvement\": 0}}, \"t\": "
			      "{\"cluster\": \"local\"}}}",
			      0, NULL);
	assert_non_null(cfg.root);
	sql_ok(j, "INSERT INTO studies (name, cluster, created_at, "
		  "updated_at) VALUES ('s', 'local', 't', 't'), ('t', "
		  "'local', 't', 't')");
	sql_ok(j, "INSERT INTO sprints (id, study, cluster, idea, state, "
		  "directory, summary, metadata, created_at) VALUES "
		  "('sp-000001', 's', 'local', 'idea one', 'completed', '/d', "
		  "'it worked', '{\"completion\": {\"cost_usd\": 0.25}, "
		  "\"params\": {\"lr\": 0.1}}', 't'), "
		  "('sp-000002', 's', 'local', 'idea two', 'completed', '/d', "
		  "NULL, '{}', 't'), "
		  "('sp-000003', 's', 'local', 'idea three', 'timed_out', "
		  "'/d', NULL, '{}', 't'), "
		  "('sp-000004', 's', 'local', 'idea four', 'pending', '/d', "
		  "NULL, '{}', 't'), "
		  "('sp-000005', 't', 'local', 'no metric', 'failed', '/d', "
		  "NULL, '{}', 't')");
	/* {"acc": X} counts when {"metric": X} is not there. */
	out = record_sprint(j, &cfg, "sp-000001", "{\"acc\": 0.8}");
	assert_string_equal(json_string_value(json_object_get(out, "status")),
			    "keep");
	assert_string_equal(json_string_value(json_object_get(out, "source")),
			    "sprint");
	assert_float_equal(json_number_value(json_object_get(out, "cost_usd")),
			   0.25, 0);
	assert_string_equal(
	    json_string_value(json_object_get(out, "analysis_summary")),
	    "it worked");
	assert_float_equal(json_number_value(json_object_get(
			       json_object_get(out, "params"), "lr")),
			   0.1, 0);
	json_decref(out);
	/* Recording it again does nothing. */
	assert_null(record_sprint(j, &cfg, "sp-000001", "{\"metric\": 1}"));
	/* Completed without a metric is a crash that says why. */
	out = record_sprint(j, &cfg, "sp-000002", "{\"metric\": \"high\"}");
	assert_string_equal(json_string_value(json_object_get(out, "status")),
			    "crash");
	assert_non_null(strstr(json_string_value(json_object_get(
				   json_object_get(out, "decision"), "reason")),
			       "results/metric.json"));
	json_decref(out);
	out = record_sprint(j, &cfg, "sp-000003", NULL);
	assert_string_equal(json_string_value(json_object_get(out, "status")),
			    "timeout");
	json_decref(out);
	/* Not finished, or a study without a metric: nothing. */
	assert_null(record_sprint(j, &cfg, "sp-000004", NULL));
	assert_null(record_sprint(j, &cfg, "sp-000005", NULL));
	/* A requeue is a row of its own, beside the sprint's result. */
	row = sprint_row(j, "sp-000001");
	assert_int_equal(journal_begin(j, &err), 0);
	assert_int_equal(ledger_record_requeue(j, &cfg, row, &err), 0);
	assert_int_equal(ledger_record_requeue(j, &cfg, row, &err), 0);
	assert_int_equal(journal_commit(j, &err), 0);
	json_decref(row);
	assert_int_equal(ledger_counts(j, &out, "s", NULL, &err), 0);
	assert_int_equal(json_integer_value(json_object_get(out, "requeued")),
			 2);
	assert_int_equal(json_integer_value(json_object_get(out, "runs")), 3);
	json_decref(out);
	json_decref(cfg.root);
	journal_close(j);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ledger_statuses_match_the_journal),
		cmocka_unit_test(test_ledger_mean_sd),
		cmocka_unit_test(test_ledger_decide_against_the_best),
		cmocka_unit_test(test_ledger_decide_with_noise),
		cmocka_unit_test(test_ledger_metric_from_log),
		cmocka_unit_test(test_ledger_json_pointer),
		cmocka_unit_test(test_ledger_record_and_read),
		cmocka_unit_test(test_ledger_record_sprint),
	};

	return cmocka_run_group_tests(tests, fixture_setup, fixture_teardown);
}
