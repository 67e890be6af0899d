/*
 * meta-analyze: step back from a study's runs and rank hypotheses about
 * what works (meta.h), when due (every meta_every results, or after a
 * gain above meta_gain) or when forced.  agent asks the configured
 * agent, builtin ranks what the ledger shows with no model, brief
 * returns the evidence for the calling agent, which then records its
 * own hypotheses with "hypotheses".  The analysis goes into the journal
 * and into next-hypotheses.md in the study's sprints directory, where
 * the next idea reads it.
 */
#include <string.h>

#include "config.h"
#include "journal.h"
#include "loop.h"
#include "meta.h"
#include "primitive.h"
#include "sprint.h"
#include "banned.h"

/* What a calling agent is asked to do with a brief. */
#define META_INSTRUCTIONS                                                   \
	"Read the evidence and write up to five hypotheses, most promising " \
	"first (what worked, patterns of failure, untried combinations, "  \
	"what to stop), each with a confidence from 0 to 1; record them "  \
	"with `hpcloop meta-analyze --spec '{\"study\": STUDY, "           \
	"\"hypotheses\": [{\"text\": ..., \"confidence\": ...}]}'`."

/* The brief: what is due, the evidence, the newest analysis. */
static int brief(struct ctx *ctx, json_t **data, const char *study,
		 struct err *err)
{
	struct meta_due due;
	json_t *evidence = NULL, *latest = NULL;

	if (meta_due_check(ctx->journal, &due,
			   config_study(ctx->config, study), study, err) < 0 ||
	    meta_evidence(ctx->journal, &evidence, ctx->config, study,
			  err) < 0 ||
	    meta_latest(ctx->journal, &latest, study, err) < 0) {
		json_decref(evidence);
		return -1;
	}
	*data = json_pack("{s:s, s:{s:b, s:s?, s:i, s:i, s:f, s:f}, s:o, "
			  "s:o, s:s}",
			  "mode", "brief", "due", "due", due.due, "reason",
			  due.reason, "since", due.since, "every", due.every,
			  "gain", due.gain, "gain_threshold",
			  due.gain_threshold, "analysis",
			  latest ? latest : json_null(), "evidence", evidence,
			  "instructions", META_INSTRUCTIONS);
	return 0;
}

static int meta_analyze_run(struct ctx *ctx, const json_t *spec,
			    json_t **data, struct err *err)
{
	const json_t *given = json_object_get(spec, "hypotheses");
	const char *mode = json_string_value(json_object_get(spec, "mode"));
	const char *study, *loop_id = NULL;
	json_t *loop = NULL, *partial = json_array(), *out = NULL;
	size_t i;
	int r = -1;

	if (given && mode && strcmp(mode, "given")) {
		err_set(err, ERR_SPEC_INVALID, "spec invalid: hypotheses are "
			"recorded as they are (mode given), not by %s", mode);
		r = err_remedy(err, "leave mode out, or leave hypotheses out");
		goto out;
	}
	if (!mode)
		mode = given ? "given" : "builtin";
	if (!strcmp(mode, "given") && !given) {
		err_set(err, ERR_SPEC_INVALID,
			"spec invalid: mode given needs hypotheses");
		r = err_remedy(err, "give hypotheses: [{text, confidence}]");
		goto out;
	}
	if (loop_scope(ctx->journal, &study, &loop, ctx->config,
		       json_string_value(json_object_get(spec, "study")),
		       json_string_value(json_object_get(spec, "loop_id")),
		       err) < 0)
		goto out;
	if (loop)
		loop_id = json_string_value(json_object_get(loop, "id"));
	if (!strcmp(mode, "brief")) {
		r = brief(ctx, data, study, err);
		goto out;
	}
	if (journal_begin(ctx->journal, err) < 0)
		goto out;
	if (sprint_ensure_study(ctx->journal, study,
				json_string_value(json_object_get(
					config_study(ctx->config, study),
					"cluster")),
				err) < 0 ||
	    journal_commit(ctx->journal, err) < 0) {
		journal_rollback(ctx->journal);
		goto out;
	}
	if (meta_run(ctx->journal, &out, ctx->config, study, loop_id, mode,
		     given, json_is_true(json_object_get(spec, "force")),
		     partial, err) < 0)
		goto out;
	for (i = 0; i < json_array_size(partial); i++) {
		const json_t *p = json_array_get(partial, i);

		ctx_partial_error(ctx,
				  err_from_name(json_string_value(
					  json_object_get(p, "code"))),
				  json_string_value(json_object_get(p,
								    "detail")),
				  json_string_value(json_object_get(
					  config_study(ctx->config, study),
					  "cluster")));
	}
	json_object_set_new(out, "mode", json_string(mode));
	*data = out;
	out = NULL;
	r = 0;
out:
	json_decref(loop);
	json_decref(partial);
	json_decref(out);
	return r;
}

/* The cluster's codes come as partial errors of next-hypotheses.md. */
static const enum err_code meta_analyze_errors[] = {
	ERR_NOT_FOUND,	     ERR_PRECONDITION_FAILED,	ERR_AGENT_FAILED,
	ERR_SSH_UNREACHABLE, ERR_HOST_KEY_MISMATCH,	ERR_AUTH_FAILED,
	ERR_TRANSFER_FAILED, ERR_REMOTE_COMMAND_FAILED, ERR_TIMEOUT,
	ERR_NONE
};

const struct primitive prim_meta_analyze = {
	.name = "meta-analyze",
	.summary = "Rank hypotheses about what works from a study's ledger, "
		   "when due or forced",
	.description =
		"Due every meta_every results of the study since the last "
		"analysis, or after a kept result whose gain exceeds "
		"meta_gain (both per study in hpcloop.yaml); otherwise "
		"nothing runs (`analysis` is null) unless `force` is set. "
		"`builtin` (the default) ranks what the ledger shows with "
		"no model: the rank correlation of each parameter with the "
		"metric, the best value of each choice, the crash rate, "
		"stagnation and the best run. `agent` asks the configured "
		"agent for ranked hypotheses (an answer without them is "
		"`agent_failed`). `brief` returns the evidence and writes "
		"nothing; the calling agent then records its own with "
		"`hypotheses`. An analysis is kept in the journal "
		"(`meta.analyzed`) and written to next-hypotheses.md in the "
		"study's sprints directory; one per ledger position and "
		"mode, so a repeat returns it with \"new\": false.",
	.example = "{\"study\": \"demo\", \"mode\": \"brief\"}",
	.flags = PRIM_MUTATES | PRIM_NEEDS_JOURNAL | PRIM_NEEDS_CONFIG |
		 PRIM_NEEDS_CLUSTER | PRIM_OWN_TX | PRIM_HTTP,
	.errors = meta_analyze_errors,
	.handler = meta_analyze_run,
};
