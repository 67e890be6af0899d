/*
 * record-result: add a run to a study's ledger.  The metric is given as
 * a value, or found in a log (its last "NAME: VALUE" line, NAME the
 * study's metric); the status is given, or decided against the best so
 * far (ledger.h).  A sprint's result is normally recorded when the
 * sprint finishes; this is for runs the caller made itself, baselines
 * and repeats.  The log is read before the journal is locked; the row,
 * its event and (with an explicit idempotency_key) the key's record are
 * written in one transaction.
 */
#include <string.h>

#include "cluster.h"
#include "config.h"
#include "idem.h"
#include "journal.h"
#include "ledger.h"
#include "loop.h"
#include "metric.h"
#include "primitive.h"
#include "sprint.h"
#include "transport.h"
#include "xalloc.h"
#include "banned.h"

/* What the spec says about the run, resolved before the journal locks. */
struct run {
	const char *study;	/* the study (borrowed) */
	json_t *loop;		/* the loop row, or NULL (owned) */
	json_t *sprint;		/* the sprint row, or NULL (owned) */
	json_t *meta;		/* the sprint's metadata, or NULL (owned) */
	struct ledger_metric m;
	int have_value;
	double value;
	char note[512];		/* why the log gave no value */
};

static void run_release(struct run *r)
{
	json_decref(r->loop);
	json_decref(r->sprint);
	json_decref(r->meta);
}

/*
 * Read the log 'path' (in the sprint's directory when the spec names a
 * sprint, else on this machine) and take its last metric line.
 */
static int read_log(struct ctx *ctx, struct run *run, const char *path,
		    struct err *err)
{
	struct cluster c = CLUSTER_INIT;
	struct transport *local = NULL;
	struct transport *t;
	char *text = NULL, *why = NULL, *dir = NULL;
	const char *rel = path, *slash;
	size_t len = 0, line;
	int r = -1;

	if (run->sprint) {
		if (cluster_open(&c, ctx->config,
				 json_string_value(json_object_get(
					 run->sprint, "cluster")),
				 err) < 0)
			goto out;
		t = c.t;
		dir = xstrdup(json_string_value(json_object_get(run->sprint,
								"directory")));
	} else {
		if (transport_open(&local, NULL, err) < 0)
			goto out;
		t = local;
		slash = strrchr(path, '/');
		dir = slash ? xstrndup(path, (size_t)(slash - path) + 1)
			    : xstrdup(".");
		rel = slash ? slash + 1 : path;
	}
	if (metric_read(t, &text, &len, &why, dir, rel, METRIC_LOG_MAX, 1,
			err) < 0)
		goto out;
	if (!text) {
		snprintf(run->note, sizeof(run->note),
			 "no metric: %s: a crash", why);
	} else if (metric_from_log(&run->value, &line, text, len,
				   run->m.name)) {
		run->have_value = 1;
	} else {
		snprintf(run->note, sizeof(run->note),
			 "no line '%s: VALUE' in %s: a crash", run->m.name,
			 path);
	}
	r = 0;
out:
	cluster_release(&c);
	transport_close(local);
	free(text);
	free(why);
	free(dir);
	return r;
}

/* Resolve the study, loop, sprint and metric of 'spec' into 'run'. */
static int resolve(struct ctx *ctx, struct run *run, const json_t *spec,
		   struct err *err)
{
	const char *sprint_id = json_string_value(json_object_get(spec,
								  "sprint_id"));
	const char *study = json_string_value(json_object_get(spec, "study"));
	const char *loop_id = json_string_value(json_object_get(spec,
								"loop_id"));
	const char *sstudy, *sloop;

	if (sprint_id) {
		if (sprint_get(ctx->journal, &run->sprint, sprint_id, err) < 0)
			return -1;
		sstudy = json_string_value(json_object_get(run->sprint,
							   "study"));
		sloop = json_string_value(json_object_get(run->sprint,
							  "loop_id"));
		if ((study && strcmp(study, sstudy)) ||
		    (loop_id && (!sloop || strcmp(loop_id, sloop)))) {
			err_set(err, ERR_SPEC_INVALID,
				"spec invalid: sprint '%s' belongs to study "
				"'%s'%s%s", sprint_id, sstudy,
				sloop ? " and loop " : "", sloop ? sloop : "");
			return err_remedy(err, "give the sprint alone, or with "
					  "its own study or loop");
		}
		if (!study && !loop_id) {
			if (sloop)
				loop_id = sloop;
			else
				study = sstudy;
		}
		run->meta = json_loads(json_string_value(json_object_get(
					       run->sprint, "metadata")),
				       0, NULL);
	}
	if (loop_scope(ctx->journal, &run->study, &run->loop, ctx->config,
		       study, loop_id, err) < 0 ||
	    ledger_metric_of(&run->m, config_study(ctx->config, run->study),
			     run->study, err) < 0)
		return -1;
	if (json_is_number(json_object_get(spec, "value"))) {
		run->have_value = 1;
		run->value = json_number_value(json_object_get(spec, "value"));
	} else if (json_object_get(spec, "log")) {
		return read_log(ctx, run,
				json_string_value(json_object_get(spec, "log")),
				err);
	}
	return 0;
}

/* The ledger entry of 'spec' and 'run'. */
static void entry_of(struct ledger_entry *e, const json_t *spec,
		     struct run *run)
{
	const json_t *v;
	const char *status = json_string_value(json_object_get(spec,
								"status"));

	memset(e, 0, sizeof(*e));
	e->study = run->study;
	e->loop_id = run->loop ? json_string_value(json_object_get(run->loop,
								   "id"))
			       : NULL;
	e->sprint_id = json_string_value(json_object_get(spec, "sprint_id"));
	v = json_object_get(run->meta, "loop_iteration");
	e->iteration = json_is_integer(v) ? (int)json_integer_value(v) : 0;
	e->idea_id = json_string_value(json_object_get(run->meta, "idea_id"));
	e->have_value = run->have_value;
	e->value = run->value;
	if (status && ledger_status_parse(&e->status, status) == 0)
		e->have_status = 1;
	v = json_object_get(spec, "min_delta");
	e->have_min_delta = json_is_number(v);
	e->min_delta = json_number_value(v);
	e->baseline = json_is_true(json_object_get(spec, "baseline"));
	e->description = json_string_value(json_object_get(spec,
							   "description"));
	e->summary = json_string_value(json_object_get(spec,
						       "analysis_summary"));
	e->commit = json_string_value(json_object_get(spec, "commit"));
	e->params = json_object_get(spec, "params");
	if (!e->params)
		e->params = json_object_get(run->meta, "params");
	v = json_object_get(spec, "cost_usd");
	e->have_cost = json_is_number(v);
	e->cost_usd = json_number_value(v);
	e->source = "record-result";
	e->note = run->note[0] ? run->note : NULL;
}

static int record_result_run(struct ctx *ctx, const json_t *spec,
			     json_t **data, struct err *err)
{
	struct run run;
	struct ledger_entry e;
	struct idem_key k;
	const json_t *key = json_object_get(spec, "idempotency_key");
	json_t *row = NULL;
	int found, r = -1;

	memset(&run, 0, sizeof(run));
	if (resolve(ctx, &run, spec, err) < 0)
		goto out;
	if (journal_begin(ctx->journal, err) < 0)
		goto out;
	/* Replayed by key only when the caller gave one (DESIGN §12). */
	if (key) {
		idem_key_of(&k, spec);
		found = idem_lookup(ctx->journal, data, ctx->prim->name, &k,
				    err);
		if (found < 0)
			goto fail;
		if (found) {
			ctx->replayed = 1;
			journal_rollback(ctx->journal);
			r = 0;
			goto out;
		}
	}
	entry_of(&e, spec, &run);
	if (sprint_ensure_study(ctx->journal, run.study,
				json_string_value(json_object_get(
					config_study(ctx->config, run.study),
					"cluster")),
				err) < 0 ||
	    ledger_record(ctx->journal, &row, &run.m, &e, err) < 0)
		goto fail;
	*data = json_pack("{s:o}", "result", row);
	if ((key && idem_store(ctx->journal, ctx->prim->name, &k, NULL, *data,
			       err) < 0) ||
	    journal_commit(ctx->journal, err) < 0) {
		json_decref(*data);
		*data = NULL;
		goto fail;
	}
	r = 0;
	goto out;
fail:
	journal_rollback(ctx->journal);
out:
	run_release(&run);
	return r;
}

static const enum err_code record_result_errors[] = {
	ERR_NOT_FOUND,	   ERR_CONFLICT,	  ERR_PRECONDITION_FAILED,
	ERR_FILE_REFUSED,  ERR_SSH_UNREACHABLE,	  ERR_REMOTE_COMMAND_FAILED,
	ERR_TIMEOUT,	   ERR_NONE
};

const struct primitive prim_record_result = {
	.name = "record-result",
	.summary = "Add a run to a study's ledger, its status given or "
		   "decided against the best so far",
	.description =
		"Records one result in the ledger of a study (or of a loop): "
		"the metric as `value`, or the last `NAME: VALUE` line of a "
		"`log` (NAME being the study's metric; the path is inside "
		"the sprint's directory when `sprint_id` is given, read "
		"through its cluster without following links, else a file "
		"on this machine; a log without the line is a crash). The "
		"status is `status` when given, else decided as `decide` "
		"would (keep only when the gain beats min_improvement, or "
		"`min_delta`, and the noise of the baseline runs). "
		"`baseline: true` marks a run of the unmodified baseline: "
		"two or more of them set the noise floor. A sprint's result "
		"is recorded by itself when the sprint finishes, so a "
		"second one for the same sprint is `conflict`. With an "
		"`idempotency_key`, a repeat answers with the first result "
		"and \"idempotent\": true; without one every call records a "
		"row (DESIGN §12).",
	.example = "{\"study\": \"demo\", \"value\": 0.52, \"baseline\": "
		   "true, \"description\": \"baseline: the unmodified "
		   "model\"}",
	.flags = PRIM_MUTATES | PRIM_CREATES | PRIM_NEEDS_JOURNAL |
		 PRIM_NEEDS_CONFIG | PRIM_NEEDS_CLUSTER | PRIM_OWN_TX,
	.errors = record_result_errors,
	.handler = record_result_run,
};
