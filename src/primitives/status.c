/*
 * status: refresh every live sprint (or the one named, or one study's)
 * and report it with the evidence for its state.  Per cluster the
 * refresh (refresh.h) asks the scheduler once for all job ids, within
 * the shared query budget, reads only the heartbeat and completion
 * files that changed, and applies everything in one short transaction.
 * The answer is one page of sprints: the live ones, then those finished
 * within the last day, newest first; `next` continues it.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config.h"
#include "ids.h"
#include "journal.h"
#include "primitive.h"
#include "refresh.h"
#include "sprint.h"
#include "banned.h"

/* The page size when the spec gives none (DESIGN §12). */
#define STATUS_DEFAULT_LIMIT 50
/* How far back "recently finished" reaches. */
#define STATUS_FINISHED_WINDOW_S 86400

/* Seconds since the ISO time 's', or -1. */
static json_int_t age_of(const char *s)
{
	time_t t;

	if (!s || ids_parse_time(&t, s) < 0)
		return -1;
	return (json_int_t)(time(NULL) - t);
}

/*
 * The output row of the sprint row 'row': 'evidence' (borrowed) when it
 * was refreshed now, else the evidence kept when it finished.
 */
static json_t *report(const json_t *row, const json_t *evidence)
{
	const char *last = json_string_value(json_object_get(row,
							      "last_heartbeat_at"));
	json_t *out, *meta = NULL;
	const json_t *kept, *rec;

	out = json_pack("{s:O, s:O, s:O, s:O, s:O, s:O, s:O, s:O, s:O}",
			"sprint_id", json_object_get(row, "id"), "study",
			json_object_get(row, "study"), "cluster",
			json_object_get(row, "cluster"), "state",
			json_object_get(row, "state"), "phase",
			json_object_get(row, "phase"), "job_id",
			json_object_get(row, "job_id"), "summary",
			json_object_get(row, "summary"), "error",
			json_object_get(row, "error"), "last_heartbeat_at",
			json_object_get(row, "last_heartbeat_at"));
	json_object_set_new(out, "last_heartbeat_age_s",
			    last ? json_integer(age_of(last)) : json_null());
	meta = json_loads(json_string_value(json_object_get(row, "metadata")),
			  0, NULL);
	/* What the job's own record said, once it finished. */
	rec = json_object_get(meta, "completion");
	json_object_set_new(out, "cost_usd",
			    json_is_number(json_object_get(rec, "cost_usd"))
				    ? json_copy(json_object_get(rec,
								"cost_usd"))
				    : json_null());
	json_object_set_new(out, "steps",
			    json_is_array(json_object_get(rec, "steps"))
				    ? json_deep_copy(json_object_get(rec,
								     "steps"))
				    : json_null());
	if (!evidence) {
		kept = json_object_get(meta, "evidence");
		evidence = json_is_object(kept) ? kept : NULL;
	}
	json_object_set_new(out, "evidence",
			    evidence ? json_deep_copy(evidence)
				     : json_object());
	json_decref(meta);
	return out;
}

/* Check the spec's study and sprint before anything is read. */
static int check_spec(struct ctx *ctx, const char *one, const char *study,
		      struct err *err)
{
	json_t *row = NULL;

	if (study && !config_study(ctx->config, study)) {
		err_set(err, ERR_NOT_FOUND, "no study '%s' in %s", study,
			ctx->config_path);
		return err_remedy(err, "`hpcloop study-list` lists the "
				  "studies of hpcloop.yaml");
	}
	if (one && sprint_get(ctx->journal, &row, one, err) < 0)
		return -1;
	json_decref(row);
	return 0;
}

static int status_run(struct ctx *ctx, const json_t *spec, json_t **data,
		      struct err *err)
{
	struct sprint_page_query q;
	const json_t *v;
	json_t *live = NULL, *page = NULL, *sprints = json_array();
	json_t *evidence = json_object(), *clusters = json_object();
	json_t *still = NULL;
	char *next = NULL;
	size_t i;
	int r = -1;

	memset(&q, 0, sizeof(q));
	q.id = json_string_value(json_object_get(spec, "sprint_id"));
	q.study = json_string_value(json_object_get(spec, "study"));
	q.cursor = json_string_value(json_object_get(spec, "cursor"));
	v = json_object_get(spec, "limit");
	q.limit = v ? (int)json_integer_value(v) : STATUS_DEFAULT_LIMIT;
	q.finished_window_s = STATUS_FINISHED_WINDOW_S;
	if (check_spec(ctx, q.id, q.study, err) < 0 ||
	    sprint_list_live(ctx->journal, &live, q.study, q.id, err) < 0 ||
	    refresh_sprints(ctx, live, evidence, clusters, err) < 0 ||
	    sprint_page(ctx->journal, &page, &next, &q, err) < 0 ||
	    sprint_list_live(ctx->journal, &still, q.study, q.id, err) < 0)
		goto out;
	for (i = 0; i < json_array_size(page); i++) {
		const json_t *row = json_array_get(page, i);

		json_array_append_new(
			sprints,
			report(row, json_object_get(
					    evidence,
					    json_string_value(json_object_get(
						    row, "id")))));
	}
	*data = json_pack("{s:O, s:I, s:O, s:s?}", "sprints", sprints, "live",
			  (json_int_t)json_array_size(still), "clusters",
			  clusters, "next", next);
	r = 0;
out:
	free(next);
	json_decref(live);
	json_decref(still);
	json_decref(page);
	json_decref(sprints);
	json_decref(evidence);
	json_decref(clusters);
	return r;
}

static const enum err_code status_errors[] = { ERR_NOT_FOUND, ERR_CONFLICT,
					       ERR_FILE_REFUSED, ERR_NONE };

const struct primitive prim_status = {
	.name = "status",
	.summary = "Refresh live sprints with one scheduler query per "
		   "cluster and report their state with evidence",
	.description =
		"For every live sprint (or the one named, or one study's): "
		"one scheduler query per cluster for all job ids, within the "
		"shared query budget (otherwise the last answer, with its "
		"age, is the evidence); new lines of heartbeats.jsonl are "
		"ingested; a completion.json is a claim, and a sprint "
		"finishes when the scheduler confirms its job ended, never "
		"as a success without the job's own record. A pending "
		"sprint whose submission died is adopted when its job is "
		"found, and failed after the cluster's pending_timeout_s when "
		"it is not. One "
		"page of sprints comes back: live ones first, then those "
		"finished in the last day, newest first (`next` continues "
		"it); `live` counts the live sprints after the refresh. An "
		"unreachable cluster is a `partial_errors` entry naming it, "
		"not a failure, and nothing is marked finished because of "
		"it.",
	.example = "{}",
	.flags = PRIM_MUTATES | PRIM_IDEMPOTENT | PRIM_NEEDS_JOURNAL |
		 PRIM_NEEDS_CONFIG | PRIM_NEEDS_CLUSTER | PRIM_OWN_TX |
		 PRIM_READ_SAFE | PRIM_HTTP,
	.errors = status_errors,
	.handler = status_run,
};
