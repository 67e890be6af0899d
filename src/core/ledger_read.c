/*
 * ledger_read.c: reading the ledger back for output: rows, pages, the
 * best row, counts, the trend and the results.tsv export (see ledger.h;
 * ledger.c writes it).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "journal.h"
#include "ledger.h"
#include "xalloc.h"
#include "banned.h"

/* The JSON text column 'key' of 'row' parsed (new), or 'dflt' (new). */
static json_t *parsed(const json_t *row, const char *key, json_t *dflt)
{
	const char *s = json_string_value(json_object_get(row, key));
	json_t *v = s ? json_loads(s, JSON_DECODE_ANY, NULL) : NULL;

	if (!v)
		return dflt;
	json_decref(dflt);
	return v;
}

json_t *ledger_row_public(const json_t *row)
{
	json_t *out = json_pack(
	    "{s:O, s:O, s:O, s:O, s:O, s:O, s:O, s:O, s:O, s:O, s:O, s:O,"
	    " s:O, s:O, s:O}",
	    "id", json_object_get(row, "id"), "study",
	    json_object_get(row, "study"), "loop_id",
	    json_object_get(row, "loop_id"), "iteration",
	    json_object_get(row, "iteration"), "sprint_id",
	    json_object_get(row, "sprint_id"), "idea_id",
	    json_object_get(row, "idea_id"), "metric_name",
	    json_object_get(row, "metric_name"), "metric",
	    json_object_get(row, "metric"), "status",
	    json_object_get(row, "status"), "description",
	    json_object_get(row, "description"), "analysis_summary",
	    json_object_get(row, "summary"), "commit",
	    json_object_get(row, "commit_sha"), "cost_usd",
	    json_object_get(row, "cost_usd"), "source",
	    json_object_get(row, "source"), "created_at",
	    json_object_get(row, "created_at"));

	json_object_set_new(
	    out, "baseline",
	    json_boolean(json_integer_value(json_object_get(row, "baseline"))));
	json_object_set_new(out, "params", parsed(row, "params", json_null()));
	json_object_set_new(out, "decision",
			    parsed(row, "decision", json_object()));
	/* A REAL column holding a whole number still reads as a number. */
	if (json_is_integer(json_object_get(out, "metric")))
		json_object_set_new(out, "metric",
				    json_real((double)json_integer_value(
					json_object_get(out, "metric"))));
	return out;
}

/* Turn the database rows 'rows' into output rows (a new array). */
static json_t *public_rows(const json_t *rows)
{
	json_t *out = json_array();
	size_t i;

	for (i = 0; i < json_array_size(rows); i++)
		json_array_append_new(
		    out, ledger_row_public(json_array_get(rows, i)));
	return out;
}

int ledger_page(struct journal *j, json_t **rows_out, int64_t *next_out,
		const struct ledger_query *q, struct err *err)
{
	json_t *rows = NULL, *params, *tmp;
	int r;

	*rows_out = NULL;
	*next_out = 0;
	params = json_pack("[s?,s?,s?,s?,s?,s?,I,i,i]", q->study, q->study,
			   q->loop_id, q->loop_id, q->status, q->status,
			   (json_int_t)q->after, q->newest,
			   q->limit + (q->newest ? 0 : 1));
	r = journal_exec(j, &rows,
			 "SELECT * FROM results WHERE (? IS NULL OR study = ?) "
			 "AND (? IS NULL OR loop_id = ?) AND (? IS NULL OR "
			 "status = ?) AND id > ? ORDER BY CASE WHEN ? THEN -id "
			 "ELSE id END LIMIT ?",
			 params, err);
	json_decref(params);
	if (r < 0)
		return -1;
	if (q->newest) {
		size_t i, n = json_array_size(rows);

		tmp = json_array();
		for (i = n; i > 0; i--)
			json_array_append(tmp, json_array_get(rows, i - 1));
		json_decref(rows);
		rows = tmp;
	} else if (json_array_size(rows) > (size_t)q->limit) {
		json_array_remove(rows, (size_t)q->limit);
		*next_out = json_integer_value(json_object_get(
		    json_array_get(rows, (size_t)q->limit - 1), "id"));
	}
	*rows_out = public_rows(rows);
	json_decref(rows);
	return 0;
}

int ledger_best(struct journal *j, json_t **row_out, const char *study,
		const char *loop_id, const struct ledger_metric *m,
		struct err *err)
{
	json_t *row = NULL;
	json_t *params =
	    json_pack("[s,s?,s?,i]", study, loop_id, loop_id, m->maximize);
	int r = journal_row(j, &row,
			    "SELECT * FROM results WHERE study = ? AND "
			    "(? IS NULL OR loop_id = ?) AND status = 'keep' "
			    "AND metric IS NOT NULL ORDER BY CASE WHEN ? THEN "
			    "-metric ELSE metric END, id LIMIT 1",
			    params, err);

	json_decref(params);
	*row_out = NULL;
	if (r < 0)
		return -1;
	if (row)
		*row_out = ledger_row_public(row);
	json_decref(row);
	return 0;
}

int ledger_counts(struct journal *j, json_t **out, const char *study,
		  const char *loop_id, struct err *err)
{
	json_t *rows = NULL, *params;
	json_int_t total = 0, runs = 0;
	double cost = 0;
	size_t i;
	int s;

	*out = NULL;
	params = json_pack("[s?,s?,s?,s?]", study, study, loop_id, loop_id);
	if (journal_exec(j, &rows,
			 "SELECT status, count(*) AS n, "
			 "coalesce(sum(cost_usd), 0) AS cost FROM results "
			 "WHERE (? IS NULL OR study = ?) AND (? IS NULL OR "
			 "loop_id = ?) GROUP BY status",
			 params, err) < 0) {
		json_decref(params);
		return -1;
	}
	json_decref(params);
	*out = json_object();
	for (s = 0; s < LEDGER__COUNT; s++)
		json_object_set_new(*out, ledger_status_name(s),
				    json_integer(0));
	for (i = 0; i < json_array_size(rows); i++) {
		const json_t *row = json_array_get(rows, i);
		enum ledger_status st;
		json_int_t n = json_integer_value(json_object_get(row, "n"));

		if (ledger_status_parse(&st, json_string_value(json_object_get(
						 row, "status"))) < 0)
			continue;
		json_object_set_new(*out, ledger_status_name(st),
				    json_integer(n));
		total += n;
		if (ledger_status_counts(st))
			runs += n;
		cost += json_number_value(json_object_get(row, "cost"));
	}
	json_object_set_new(*out, "total", json_integer(total));
	json_object_set_new(*out, "runs", json_integer(runs));
	json_object_set_new(*out, "cost_usd", json_real(cost));
	json_decref(rows);
	return 0;
}

/* The least-squares slope of the 'n' values 'v' against 0..n-1. */
static double slope_of(const double *v, size_t n)
{
	double mx = (double)(n - 1) / 2.0, my = 0, sxy = 0, sxx = 0;
	size_t i;

	for (i = 0; i < n; i++)
		my += v[i];
	my /= (double)n;
	for (i = 0; i < n; i++) {
		sxy += ((double)i - mx) * (v[i] - my);
		sxx += ((double)i - mx) * ((double)i - mx);
	}
	return sxx > 0 ? sxy / sxx : 0;
}

int ledger_trend(struct journal *j, json_t **out, const char *study,
		 const char *loop_id, const struct ledger_metric *m, int window,
		 struct err *err)
{
	json_t *rows = NULL, *best = NULL, *counts = NULL, *params;
	double *v = NULL, slope = 0, mean = 0, sd, flat;
	json_int_t since = 0, decided;
	const char *direction = "unknown";
	size_t i, n;
	int r = -1;

	*out = NULL;
	params = json_pack("[s,s?,s?,i]", study, loop_id, loop_id, window);
	r = journal_exec(j, &rows,
			 "SELECT metric FROM results WHERE study = ? AND "
			 "(? IS NULL OR loop_id = ?) AND metric IS NOT NULL "
			 "AND status IN ('keep', 'discard') ORDER BY id DESC "
			 "LIMIT ?",
			 params, err);
	json_decref(params);
	if (r < 0)
		return -1;
	r = -1;
	n = json_array_size(rows);
	v = xcalloc(n ? n : 1, sizeof(*v));
	for (i = 0; i < n; i++)
		v[n - 1 - i] = json_number_value(
		    json_object_get(json_array_get(rows, i), "metric"));
	if (n >= 3) {
		slope = slope_of(v, n);
		if (!m->maximize)
			slope = -slope;
		ledger_mean_sd(&mean, &sd, v, n);
		flat = m->min_improvement;
		if (flat < 1e-9 * fabs(mean))
			flat = 1e-9 * fabs(mean);
		if (fabs(slope) * (double)(n - 1) <= flat)
			direction = "flat";
		else
			direction = slope > 0 ? "improving" : "worsening";
	}
	if (ledger_best(j, &best, study, loop_id, m, err) < 0 ||
	    ledger_counts(j, &counts, study, loop_id, err) < 0)
		goto out;
	if (best) {
		json_t *row = NULL;

		params = json_pack("[s,s?,s?,O]", study, loop_id, loop_id,
				   json_object_get(best, "id"));
		r = journal_row(j, &row,
				"SELECT count(*) AS n FROM results WHERE "
				"study = ? AND (? IS NULL OR loop_id = ?) AND "
				"status <> 'requeued' AND id > ?",
				params, err);
		json_decref(params);
		if (r < 0)
			goto out;
		r = -1;
		since = json_integer_value(json_object_get(row, "n"));
		json_decref(row);
	}
	decided = json_integer_value(json_object_get(counts, "runs"));
	*out =
	    json_pack("{s:i, s:f, s:s, s:o, s:o}", "window", (int)n, "slope",
		      slope, "direction", direction, "runs_since_best",
		      best ? json_integer(since) : json_null(), "keep_rate",
		      decided ? json_real((double)json_integer_value(
					      json_object_get(counts, "keep")) /
					  (double)decided)
			      : json_null());
	r = 0;
out:
	json_decref(rows);
	json_decref(best);
	json_decref(counts);
	free(v);
	return r;
}

/* Append 's' to 'b' with tabs, CRs and newlines turned into spaces. */
static void tsv_text(struct buf *b, const char *s)
{
	for (; s && *s; s++)
		buf_add(b, (*s == '\t' || *s == '\n' || *s == '\r') ? " " : s,
			1);
}

char *ledger_tsv(const json_t *rows)
{
	struct buf b = BUF_INIT;
	size_t i;

	buf_adds(&b, "id\tmetric\tstatus\tdescription\n");
	for (i = 0; i < json_array_size(rows); i++) {
		const json_t *row = json_array_get(rows, i);
		const json_t *m = json_object_get(row, "metric");

		buf_addf(&b, "%" JSON_INTEGER_FORMAT "\t%.6f\t",
			 json_integer_value(json_object_get(row, "id")),
			 json_is_number(m) ? json_number_value(m) : 0.0);
		tsv_text(&b, json_string_value(json_object_get(row, "status")));
		buf_adds(&b, "\t");
		tsv_text(
		    &b, json_string_value(json_object_get(row, "description")));
		buf_adds(&b, "\n");
	}
	return buf_detach(&b, NULL);
}
