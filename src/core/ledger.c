/*
 * ledger.c: the results table: statuses, decisions, rows, and what is
 * read back from them (see ledger.h).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "carry.h"
#include "config.h"
#include "ids.h"
#include "journal.h"
#include "ledger.h"
#include "metric.h"
#include "sprint.h"
#include "xalloc.h"
#include "banned.h"

/* The longest description or summary kept in a row. */
#define LEDGER_TEXT_MAX 4000
/* The most baseline runs read for the noise floor. */
#define LEDGER_BASELINE_MAX 1000

/* ---------------------------------------------------------------- */
/* Statuses and metrics                                               */
/* ---------------------------------------------------------------- */

static const char *const status_names[LEDGER__COUNT] = {
	"keep", "discard", "crash", "timeout", "requeued",
};

const char *ledger_status_name(enum ledger_status s)
{
	if ((int)s < 0 || s >= LEDGER__COUNT)
		return "unknown";
	return status_names[s];
}

int ledger_status_parse(enum ledger_status *out, const char *name)
{
	int i;

	for (i = 0; name && i < LEDGER__COUNT; i++) {
		if (!strcmp(name, status_names[i])) {
			*out = (enum ledger_status)i;
			return 0;
		}
	}
	return -1;
}

int ledger_status_counts(enum ledger_status s)
{
	return s != LEDGER_REQUEUED;
}

int ledger_metric_of(struct ledger_metric *out, const json_t *study,
		     const char *study_name, struct err *err)
{
	const json_t *m = json_object_get(study, "metric");
	const char *dir = json_string_value(json_object_get(m, "direction"));

	memset(out, 0, sizeof(*out));
	if (!json_is_object(m)) {
		err_set(err, ERR_PRECONDITION_FAILED,
			"study '%s' declares no metric", study_name);
		return err_remedy(err, "add metric: {name, direction} to the "
				       "study in hpcloop.yaml");
	}
	out->name = json_string_value(json_object_get(m, "name"));
	out->maximize = dir && !strcmp(dir, "maximize");
	out->min_improvement =
	    json_number_value(json_object_get(m, "min_improvement"));
	out->noise_k = json_number_value(json_object_get(study, "noise_k"));
	return 0;
}

/* ---------------------------------------------------------------- */
/* Decisions                                                          */
/* ---------------------------------------------------------------- */

void ledger_mean_sd(double *mean_out, double *sd_out, const double *v, size_t n)
{
	double sum = 0, ss = 0, mean;
	size_t i;

	*mean_out = 0;
	*sd_out = 0;
	if (!n)
		return;
	for (i = 0; i < n; i++)
		sum += v[i];
	mean = sum / (double)n;
	*mean_out = mean;
	if (n < 2)
		return;
	for (i = 0; i < n; i++)
		ss += (v[i] - mean) * (v[i] - mean);
	*sd_out = sqrt(ss / (double)(n - 1));
}

/* How much better 'v' is than 'ref' in the direction of 'm'. */
static double gain_of(const struct ledger_metric *m, double v, double ref)
{
	return m->maximize ? v - ref : ref - v;
}

void ledger_decide(struct ledger_verdict *out, const struct ledger_metric *m,
		   double min_delta, const struct ledger_reference *ref,
		   int have_value, double value)
{
	const char *name = m->name ? m->name : "metric", *label;
	char noise[96] = "";

	memset(out, 0, sizeof(*out));
	out->min_delta = min_delta;
	out->threshold = min_delta;
	out->noise_k = m->noise_k;
	out->reference_kind = "none";
	if (ref->have_best) {
		out->have_reference = 1;
		out->reference = ref->best;
		out->reference_kind = "best";
	}
	if (ref->baseline_runs >= 2) {
		double noise_floor = m->noise_k * ref->baseline_sd;

		if (!out->have_reference ||
		    gain_of(m, ref->baseline_mean, out->reference) > 0) {
			out->have_reference = 1;
			out->reference = ref->baseline_mean;
			out->reference_kind = "baseline_mean";
		}
		if (noise_floor > out->threshold) {
			out->threshold = noise_floor;
			out->noise_used = 1;
			snprintf(noise, sizeof(noise),
				 " (%g sd of %d baseline runs)", m->noise_k,
				 ref->baseline_runs);
		}
	}
	if (!have_value) {
		out->status = LEDGER_CRASH;
		snprintf(out->reason, sizeof(out->reason),
			 "the run left no %s: a crash", name);
		return;
	}
	if (!out->have_reference) {
		out->status = LEDGER_KEEP;
		snprintf(out->reason, sizeof(out->reason),
			 "the first %s of the study: nothing to compare with, "
			 "kept",
			 name);
		return;
	}
	label = strcmp(out->reference_kind, "best") ? "baseline mean" : "best";
	out->gain = gain_of(m, value, out->reference);
	if (out->gain > out->threshold) {
		out->status = LEDGER_KEEP;
		snprintf(out->reason, sizeof(out->reason),
			 "%s %g improves on the %s %g by %g, more than the "
			 "threshold %g%s",
			 name, value, label, out->reference, out->gain,
			 out->threshold, noise);
		return;
	}
	out->status = LEDGER_DISCARD;
	if (out->gain > 0)
		snprintf(out->reason, sizeof(out->reason),
			 "%s %g improves on the %s %g by only %g, not more "
			 "than the threshold %g%s",
			 name, value, label, out->reference, out->gain,
			 out->threshold, noise);
	else
		snprintf(out->reason, sizeof(out->reason),
			 "%s %g is no better than the %s %g", name, value,
			 label, out->reference);
}

json_t *ledger_verdict_json(const struct ledger_verdict *v,
			    const struct ledger_reference *ref)
{
	json_t *out =
	    json_pack("{s:s, s:s, s:s, s:f, s:f, s:f}", "status",
		      ledger_status_name(v->status), "reason", v->reason,
		      "reference_kind", v->reference_kind, "gain", v->gain,
		      "min_delta", v->min_delta, "threshold", v->threshold);

	json_object_set_new(out, "reference",
			    v->have_reference ? json_real(v->reference)
					      : json_null());
	if (ref->baseline_runs >= 2)
		json_object_set_new(
		    out, "noise",
		    json_pack("{s:i, s:f, s:f, s:f, s:b}", "baseline_runs",
			      ref->baseline_runs, "mean", ref->baseline_mean,
			      "sd", ref->baseline_sd, "k", v->noise_k,
			      "raised_threshold", v->noise_used));
	else
		json_object_set_new(out, "noise", json_null());
	return out;
}

/* ---------------------------------------------------------------- */
/* The reference of a decision                                        */
/* ---------------------------------------------------------------- */

int ledger_reference_of(struct journal *j, struct ledger_reference *out,
			const char *study, const struct ledger_metric *m,
			struct err *err)
{
	json_t *rows = NULL, *row = NULL, *params;
	double *v = NULL;
	size_t i, n;
	int r = -1;

	memset(out, 0, sizeof(*out));
	params = json_pack("[s,i]", study, LEDGER_BASELINE_MAX);
	r = journal_exec(j, &rows,
			 "SELECT metric FROM results WHERE study = ? AND "
			 "baseline = 1 AND metric IS NOT NULL AND status IN "
			 "('keep', 'discard') ORDER BY id DESC LIMIT ?",
			 params, err);
	json_decref(params);
	if (r < 0)
		return -1;
	r = -1;
	n = json_array_size(rows);
	v = xcalloc(n ? n : 1, sizeof(*v));
	for (i = 0; i < n; i++)
		v[i] = json_number_value(
		    json_object_get(json_array_get(rows, i), "metric"));
	out->baseline_runs = (int)n;
	ledger_mean_sd(&out->baseline_mean, &out->baseline_sd, v, n);
	params = json_pack("[s,i,i]", study, n >= 2, m->maximize);
	if (journal_row(j, &row,
			"SELECT id, metric FROM results WHERE study = ? AND "
			"status = 'keep' AND metric IS NOT NULL AND "
			"(? = 0 OR baseline = 0) ORDER BY CASE WHEN ? THEN "
			"-metric ELSE metric END, id LIMIT 1",
			params, err) < 0)
		goto out;
	if (row) {
		out->have_best = 1;
		out->best = json_number_value(json_object_get(row, "metric"));
		out->best_id = json_integer_value(json_object_get(row, "id"));
	}
	r = 0;
out:
	json_decref(params);
	json_decref(rows);
	json_decref(row);
	free(v);
	return r;
}

/* ---------------------------------------------------------------- */
/* Writing                                                            */
/* ---------------------------------------------------------------- */

/* 's' cut to LEDGER_TEXT_MAX bytes (on a UTF-8 boundary): new or NULL. */
static char *bounded(const char *s)
{
	size_t n;

	if (!s)
		return NULL;
	n = strlen(s);
	if (n <= LEDGER_TEXT_MAX)
		return xstrdup(s);
	n = LEDGER_TEXT_MAX;
	while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
		n--;
	return xstrndup(s, n);
}

/* The row of sprint 'id' that is not a requeue (new), or NULL. */
static int sprint_row_of(struct journal *j, json_t **row_out, const char *id,
			 struct err *err)
{
	json_t *params = json_pack("[s]", id);
	int r = journal_row(j, row_out,
			    "SELECT * FROM results WHERE sprint_id = ? AND "
			    "status <> 'requeued'",
			    params, err);

	json_decref(params);
	return r;
}

/* Insert the row of 'e' with 'status' and 'decision' (borrowed). */
static int insert_row(struct journal *j, int64_t *id_out,
		      const struct ledger_metric *m,
		      const struct ledger_entry *e, enum ledger_status status,
		      const json_t *decision, struct err *err)
{
	char now[IDS_TIME_LEN];
	char *desc = bounded(e->description), *sum = bounded(e->summary);
	char *ptext = NULL;
	json_t *params;
	int r;

	ids_now(now);
	if (json_is_object(e->params))
		ptext = json_dumps(e->params, JSON_COMPACT | JSON_SORT_KEYS);
	params = json_pack(
	    "[s,s?,o,s?,s?,s?,o,s,i,s?,s?,s?,o,o,s,O,s]", e->study, e->loop_id,
	    e->iteration > 0 ? json_integer(e->iteration) : json_null(),
	    e->sprint_id, e->idea_id, m->name,
	    e->have_value ? json_real(e->value) : json_null(),
	    ledger_status_name(status), e->baseline ? 1 : 0, sum, desc,
	    e->commit, ptext ? json_string(ptext) : json_null(),
	    e->have_cost ? json_real(e->cost_usd) : json_null(),
	    e->source ? e->source : "record-result", decision, now);
	r = journal_exec(j, NULL,
			 "INSERT INTO results (study, loop_id, iteration, "
			 "sprint_id, idea_id, metric_name, metric, status, "
			 "baseline, summary, description, commit_sha, params, "
			 "cost_usd, source, decision, created_at) VALUES (?, "
			 "?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
			 params, err);
	json_decref(params);
	free(desc);
	free(sum);
	free(ptext);
	*id_out = r < 0 ? 0 : journal_last_id(j);
	return r;
}

int ledger_record(struct journal *j, json_t **row_out,
		  const struct ledger_metric *m, const struct ledger_entry *e,
		  struct err *err)
{
	struct ledger_reference ref;
	struct ledger_verdict v;
	json_t *decision = NULL, *row = NULL, *ev = NULL, *params;
	enum ledger_status status;
	int64_t id;
	int r = -1;

	if (row_out)
		*row_out = NULL;
	if (e->sprint_id && (!e->have_status || e->status != LEDGER_REQUEUED)) {
		if (sprint_row_of(j, &row, e->sprint_id, err) < 0)
			return -1;
		if (row) {
			err_set(err, ERR_CONFLICT,
				"sprint '%s' already has result "
				"%" JSON_INTEGER_FORMAT,
				e->sprint_id,
				json_integer_value(json_object_get(row, "id")));
			err_detail(err, "result_id",
				   json_incref(json_object_get(row, "id")));
			json_decref(row);
			return err_remedy(err, "`hpcloop ledger` shows it; a "
					       "sprint has one result");
		}
	}
	if (e->have_status) {
		status = e->status;
		decision = json_pack("{s:s, s:s, s:b}", "status",
				     ledger_status_name(status), "reason",
				     e->note ? e->note : "given by the caller",
				     "given", 1);
	} else {
		if (ledger_reference_of(j, &ref, e->study, m, err) < 0)
			return -1;
		ledger_decide(&v, m,
			      e->have_min_delta ? e->min_delta
						: m->min_improvement,
			      &ref, e->have_value, e->value);
		status = v.status;
		decision = ledger_verdict_json(&v, &ref);
		if (e->note)
			json_object_set_new(decision, "reason",
					    json_string(e->note));
	}
	if (insert_row(j, &id, m, e, status, decision, err) < 0)
		goto out;
	params = json_pack("[I]", (json_int_t)id);
	r = journal_row(j, &row, "SELECT * FROM results WHERE id = ?", params,
			err);
	json_decref(params);
	if (r < 0 || !row) {
		r = err_set(err, ERR_INTERNAL, "result %lld vanished",
			    (long long)id);
		goto out;
	}
	r = -1;
	ev = json_pack("{s:I, s:s, s:s?, s:s?, s:O, s:s, s:b, s:O}",
		       "result_id", (json_int_t)id, "study", e->study,
		       "loop_id", e->loop_id, "sprint_id", e->sprint_id,
		       "metric", json_object_get(row, "metric"), "status",
		       ledger_status_name(status), "baseline", e->baseline,
		       "decision", decision);
	if (journal_event(j, NULL, "result.recorded",
			  e->loop_id ? e->loop_id : e->study, ev, err) < 0)
		goto out;
	/* A kept run's commit becomes the study's best (carry.h). */
	if (status == LEDGER_KEEP &&
	    carry_keep(j, e->study, e->sprint_id, id, err) < 0)
		goto out;
	if (row_out)
		*row_out = ledger_row_public(row);
	r = 0;
out:
	json_decref(ev);
	json_decref(row);
	json_decref(decision);
	return r;
}

/* ---------------------------------------------------------------- */
/* Sprints                                                            */
/* ---------------------------------------------------------------- */

/* Fill 'e' with what the sprint row 'sprint' says about its run. */
static void entry_of_sprint(struct ledger_entry *e, const json_t *sprint,
			    const json_t *meta)
{
	const json_t *rec = json_object_get(meta, "completion");
	const json_t *cost = json_object_get(rec, "cost_usd");
	const json_t *it = json_object_get(meta, "loop_iteration");

	memset(e, 0, sizeof(*e));
	e->study = json_string_value(json_object_get(sprint, "study"));
	e->loop_id = json_string_value(json_object_get(sprint, "loop_id"));
	e->iteration = json_is_integer(it) ? (int)json_integer_value(it) : 0;
	e->sprint_id = json_string_value(json_object_get(sprint, "id"));
	e->idea_id = json_string_value(json_object_get(meta, "idea_id"));
	e->description = json_string_value(json_object_get(sprint, "idea"));
	e->summary = json_string_value(json_object_get(sprint, "summary"));
	e->params = json_object_get(meta, "params");
	e->have_cost = json_is_number(cost);
	e->cost_usd = json_number_value(cost);
	e->source = "sprint";
}

/*
 * The metric of a completed sprint from its results/metric.json text:
 * {"metric": X}, or {"<name>": X}.  0 with 'why' set when it has none.
 */
static int sprint_metric(double *out, char *why, size_t size,
			 const struct ledger_metric *m, const char *doc,
			 size_t len, const char *why_missing)
{
	struct buf ptr = BUF_INIT;
	char other[128];
	int found;

	if (!doc) {
		snprintf(why, size, "%s",
			 why_missing ? why_missing
				     : METRIC_SPRINT_FILE ": not read");
		return 0;
	}
	found =
	    metric_from_json(out, why, size, doc, len, METRIC_SPRINT_POINTER);
	if (!found && m->name) {
		const char *p;

		buf_adds(&ptr, "/");
		for (p = m->name; *p; p++) {
			if (*p == '~')
				buf_adds(&ptr, "~0");
			else if (*p == '/')
				buf_adds(&ptr, "~1");
			else
				buf_add(&ptr, p, 1);
		}
		found = metric_from_json(out, other, sizeof(other), doc, len,
					 buf_str(&ptr));
	}
	buf_release(&ptr);
	if (!found) {
		struct buf b = BUF_INIT;

		buf_addf(&b, METRIC_SPRINT_FILE ": %s", why);
		snprintf(why, size, "%s", buf_str(&b));
		buf_release(&b);
	}
	return found;
}

int ledger_record_sprint(struct journal *j, json_t **row_out,
			 const struct config *cfg, const json_t *sprint,
			 const char *metric_doc, size_t len,
			 const char *why_missing, struct err *err)
{
	const char *study = json_string_value(json_object_get(sprint, "study"));
	const char *state = json_string_value(json_object_get(sprint, "state"));
	const char *id = json_string_value(json_object_get(sprint, "id"));
	const json_t *conf = config_study(cfg, study);
	struct ledger_metric m;
	struct ledger_entry e;
	struct err ignored = ERR_INIT;
	json_t *meta = NULL, *have = NULL;
	char why[256], note[512], *commit = NULL;
	int pending, r = -1;

	if (row_out)
		*row_out = NULL;
	if (!conf || !json_is_object(json_object_get(conf, "metric")) ||
	    !sprint_state_name_terminal(state))
		return 0;
	ledger_metric_of(&m, conf, study, &ignored);
	err_release(&ignored);
	if (sprint_row_of(j, &have, id, err) < 0)
		return -1;
	if (have) {
		json_decref(have);
		return 0;
	}
	/* A run of a code base waits until its commit is captured. */
	if (carry_commit_of(j, &pending, &commit, id, err) < 0)
		return -1;
	if (pending) {
		free(commit);
		return 0;
	}
	meta = json_loads(
	    json_string_value(json_object_get(sprint, "metadata")), 0, NULL);
	entry_of_sprint(&e, sprint, meta);
	if (commit)
		e.commit = commit;
	if (!strcmp(state, "completed")) {
		e.have_value = sprint_metric(&e.value, why, sizeof(why), &m,
					     metric_doc, len, why_missing);
		if (!e.have_value) {
			snprintf(note, sizeof(note),
				 "completed without a metric (%s): a crash",
				 why);
			e.note = note;
		}
	} else {
		const char *error =
		    json_string_value(json_object_get(sprint, "error"));

		e.have_status = 1;
		e.status =
		    strcmp(state, "timed_out") ? LEDGER_CRASH : LEDGER_TIMEOUT;
		snprintf(note, sizeof(note), "the sprint %s%s%s", state,
			 error ? ": " : "", error ? error : "");
		e.note = note;
	}
	r = ledger_record(j, row_out, &m, &e, err);
	json_decref(meta);
	free(commit);
	return r;
}

int ledger_record_requeue(struct journal *j, const struct config *cfg,
			  const json_t *sprint, struct err *err)
{
	const char *study = json_string_value(json_object_get(sprint, "study"));
	const json_t *conf = config_study(cfg, study);
	struct ledger_metric m;
	struct ledger_entry e;
	struct err ignored = ERR_INIT;
	json_t *meta;
	int r;

	if (!conf || !json_is_object(json_object_get(conf, "metric")))
		return 0;
	ledger_metric_of(&m, conf, study, &ignored);
	err_release(&ignored);
	meta = json_loads(
	    json_string_value(json_object_get(sprint, "metadata")), 0, NULL);
	entry_of_sprint(&e, sprint, meta);
	e.have_cost = 0;
	e.have_status = 1;
	e.status = LEDGER_REQUEUED;
	e.note = "the job was preempted or requeued and will run again; "
		 "not a crash, and not a run of the loop's budget";
	r = ledger_record(j, NULL, &m, &e, err);
	json_decref(meta);
	return r;
}
