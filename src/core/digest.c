/*
 * digest.c: the bounded summary of a study or a loop (see digest.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "config.h"
#include "digest.h"
#include "ids.h"
#include "journal.h"
#include "ledger.h"
#include "loop.h"
#include "meta.h"
#include "sprint.h"
#include "xalloc.h"
#include "banned.h"

/* The trend's window, in runs. */
#define DIGEST_TREND_WINDOW 10

json_t *digest_clip(const char *s, size_t max)
{
	struct buf b = BUF_INIT;
	size_t n;
	json_t *v;

	if (!s)
		return json_null();
	n = strlen(s);
	if (n <= max)
		return json_string(s);
	n = max > 3 ? max - 3 : 0;
	while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
		n--;
	buf_add(&b, s, n);
	buf_adds(&b, "...");
	v = json_string(buf_str(&b));
	buf_release(&b);
	return v;
}

json_t *digest_row(const json_t *row)
{
	json_t *out = json_pack("{s:O, s:O, s:O, s:O, s:O, s:O}", "id",
				json_object_get(row, "id"), "iteration",
				json_object_get(row, "iteration"), "sprint_id",
				json_object_get(row, "sprint_id"), "metric",
				json_object_get(row, "metric"), "status",
				json_object_get(row, "status"), "baseline",
				json_object_get(row, "baseline"));

	json_object_set_new(
	    out, "description",
	    digest_clip(json_string_value(json_object_get(row, "description")),
			DIGEST_DESCRIPTION_MAX));
	json_object_set_new(out, "analysis_summary",
			    digest_clip(json_string_value(json_object_get(
					    row, "analysis_summary")),
					DIGEST_SUMMARY_MAX));
	return out;
}

/* Seconds since the ISO time 's', or 0. */
static json_int_t age_s(const char *s)
{
	time_t t;

	if (!s || ids_parse_time(&t, s) < 0)
		return 0;
	return (json_int_t)(time(NULL) - t);
}

/* The live sprints of 'study' (of 'loop_id' when set): a new array. */
static int live_runs(struct journal *j, json_t **out, const char *study,
		     const char *loop_id, struct err *err)
{
	json_t *rows = NULL;
	size_t i;

	*out = NULL;
	if (sprint_list_live(j, &rows, study, NULL, err) < 0)
		return -1;
	*out = json_array();
	for (i = 0; i < json_array_size(rows) &&
		    json_array_size(*out) < DIGEST_LIVE_MAX;
	     i++) {
		const json_t *r = json_array_get(rows, i);
		const char *lid =
		    json_string_value(json_object_get(r, "loop_id"));

		if (loop_id && (!lid || strcmp(lid, loop_id)))
			continue;
		json_array_append_new(
		    *out,
		    json_pack("{s:O, s:O, s:O, s:O, s:o, s:I}", "sprint_id",
			      json_object_get(r, "id"), "state",
			      json_object_get(r, "state"), "phase",
			      json_object_get(r, "phase"), "loop_id",
			      json_object_get(r, "loop_id"), "idea",
			      digest_clip(
				  json_string_value(json_object_get(r, "idea")),
				  DIGEST_DESCRIPTION_MAX),
			      "age_s",
			      age_s(json_string_value(
				  json_object_get(r, "created_at")))));
	}
	json_decref(rows);
	return 0;
}

/* The newest meta-analysis, short: a new object or null. */
static json_t *meta_short(const json_t *latest)
{
	const json_t *hyps = json_object_get(latest, "hypotheses");
	json_t *top;
	size_t i;

	if (!latest)
		return json_null();
	top = json_array();
	for (i = 0; i < json_array_size(hyps) && i < 3; i++)
		json_array_append_new(
		    top, digest_clip(json_string_value(json_object_get(
					 json_array_get(hyps, i), "text")),
				     DIGEST_HYPOTHESIS_MAX));
	return json_pack("{s:O, s:O, s:O, s:o}", "id",
			 json_object_get(latest, "id"), "mode",
			 json_object_get(latest, "mode"), "created_at",
			 json_object_get(latest, "created_at"), "top", top);
}

/* What is due next for the study 'study' (no loop): a new string. */
static char *study_next(const char *study, const json_t *live,
			const struct meta_due *due)
{
	struct buf b = BUF_INIT;

	if (json_array_size(live))
		buf_addf(&b,
			 "wait: %zu run(s) live; `hpcloop status "
			 "--spec '{\"study\": \"%s\"}'` brings them up "
			 "to date",
			 json_array_size(live), study);
	else if (due->due)
		buf_addf(&b,
			 "a meta-analysis is due (%s): `hpcloop "
			 "meta-analyze --spec '{\"study\": \"%s\"}'`",
			 due->reason, study);
	else
		buf_addf(&b,
			 "propose the next idea: `hpcloop gen-next-idea "
			 "--spec '{\"study\": \"%s\", \"mode\": "
			 "\"brief\"}'`, then submit it",
			 study);
	return buf_detach(&b, NULL);
}

/* What is due next for the loop row 'loop': a new string. */
static char *loop_next(const json_t *loop, const json_t *live)
{
	const char *id = json_string_value(json_object_get(loop, "id"));
	const char *st = json_string_value(json_object_get(loop, "state"));
	struct buf b = BUF_INIT;

	if (!strcmp(st, "finished"))
		buf_addf(
		    &b,
		    "finished (%s); `hpcloop loop-start` starts a "
		    "new loop",
		    json_string_value(json_object_get(loop, "stop_reason")));
	else if (!strcmp(st, "stopped"))
		buf_addf(&b,
			 "stopped; `hpcloop loop-resume --spec "
			 "'{\"loop_id\": \"%s\"}'` goes on",
			 id);
	else if (!strcmp(st, "stopping"))
		buf_addf(&b,
			 "a stop was asked for: the next `hpcloop "
			 "loop-tick --spec '{\"loop_id\": \"%s\"}'` "
			 "stops it",
			 id);
	else if (json_array_size(live))
		buf_addf(&b,
			 "wait for its run; `hpcloop loop-tick --spec "
			 "'{\"loop_id\": \"%s\"}'` records it when it "
			 "ends",
			 id);
	else
		buf_addf(&b,
			 "due: `hpcloop loop-tick --spec '{\"loop_id\": "
			 "\"%s\"}'` records, decides, proposes and "
			 "submits the next run",
			 id);
	return buf_detach(&b, NULL);
}

int digest_build(struct journal *j, json_t **out, const struct config *cfg,
		 const char *study, const char *loop_id, int last,
		 struct err *err)
{
	const json_t *conf = config_study(cfg, study);
	struct ledger_metric m;
	struct ledger_query q;
	struct meta_due due;
	json_t *loop = NULL, *rows = NULL, *counts = NULL, *best = NULL;
	json_t *trend = NULL, *live = NULL, *latest = NULL, *lasts, *res;
	struct err ignored = ERR_INIT;
	int64_t next;
	int have_metric, r = -1;
	char *step = NULL;
	size_t i;

	*out = NULL;
	if (!conf) {
		err_set(err, ERR_NOT_FOUND, "no study '%s' in %s", study,
			cfg->path);
		return err_remedy(err, "`hpcloop study-list` lists the "
				       "studies of hpcloop.yaml");
	}
	if (loop_id && loop_get(j, &loop, loop_id, err) < 0)
		return -1;
	have_metric = ledger_metric_of(&m, conf, study, &ignored) == 0;
	err_release(&ignored);
	memset(&q, 0, sizeof(q));
	q.study = study;
	q.loop_id = loop_id;
	q.limit = last > DIGEST_LAST_MAX ? DIGEST_LAST_MAX : last;
	q.newest = 1;
	if (ledger_page(j, &rows, &next, &q, err) < 0 ||
	    ledger_counts(j, &counts, study, loop_id, err) < 0 ||
	    (have_metric &&
	     ledger_best(j, &best, study, loop_id, &m, err) < 0) ||
	    (have_metric && ledger_trend(j, &trend, study, loop_id, &m,
					 DIGEST_TREND_WINDOW, err) < 0) ||
	    live_runs(j, &live, study, loop_id, err) < 0 ||
	    meta_due_check(j, &due, conf, study, err) < 0 ||
	    meta_latest(j, &latest, study, err) < 0)
		goto out;
	lasts = json_array();
	for (i = 0; i < json_array_size(rows); i++)
		json_array_append_new(lasts,
				      digest_row(json_array_get(rows, i)));
	step = loop ? loop_next(loop, live) : study_next(study, live, &due);
	res = json_pack(
	    "{s:s, s:o, s:o, s:O, s:o, s:o, s:o, s:O}", "study", study,
	    "metric",
	    have_metric
		? json_pack("{s:s, s:s, s:f}", "name", m.name, "direction",
			    m.maximize ? "maximize" : "minimize",
			    "min_improvement", m.min_improvement)
		: json_null(),
	    "best", best ? digest_row(best) : json_null(), "counts", counts,
	    "trend", trend ? json_incref(trend) : json_null(), "last", lasts,
	    "meta",
	    json_pack("{s:b, s:s?, s:i, s:i, s:o}", "due", due.due, "reason",
		      due.reason, "since", due.since, "every", due.every,
		      "latest", meta_short(latest)),
	    "live", live);
	json_object_set_new(res, "loop",
			    loop ? loop_public(loop) : json_null());
	json_object_set_new(res, "next_step", json_string(step));
	*out = res;
	r = 0;
out:
	free(step);
	json_decref(loop);
	json_decref(rows);
	json_decref(counts);
	json_decref(best);
	json_decref(trend);
	json_decref(live);
	json_decref(latest);
	return r;
}
