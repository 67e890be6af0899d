/*
 * submit-flow: submit a research idea as one sprint, exactly once
 * (DESIGN §4).  Everything that can be wrong with the spec or the config
 * fails before the journal changes.  Then, with the two phases of
 * sprint_submit.c: the sprint is committed as pending under the call's
 * idempotency key; its directory is written and its job submitted with
 * the sprint id in the job's name and comment, with no journal lock
 * held; the job id is committed with the result (submit.h, which the
 * loop's tick shares).  A concurrent call with the same key is told to
 * retry (in_progress) or replays; a call that finds a dead attempt
 * resumes it, adopting the job the scheduler already has (found by the
 * sprint id) rather than submitting twice.
 *
 * With "campaign" it submits N tasks of one executor as scheduler arrays
 * in waves instead, exactly once in the same way (campaign.h).
 */
#include <string.h>

#include "campaign.h"
#include "journal.h"
#include "primitive.h"
#include "sprint.h"
#include "submit.h"
#include "banned.h"

/*
 * The spec as it will run: for {"retry_of": ID} the study and idea of
 * that finished sprint (conflict while it is live), and its run
 * parameters as "params" (a loop's sprint has them: its executor gets
 * them again), else 'spec' as it is.  A new reference in '*out'.
 */
static int effective_spec(struct ctx *ctx, json_t **out, const json_t *spec,
			  struct err *err)
{
	const char *of = json_string_value(json_object_get(spec, "retry_of"));
	json_t *row = NULL, *eff, *meta;
	const char *state;

	*out = NULL;
	if (json_object_get(spec, "campaign")) {
		if (!json_object_get(spec, "study") ||
		    json_object_get(spec, "idea") || of) {
			err_set(err, ERR_SPEC_INVALID,
				"spec invalid: a campaign takes study, and no "
				"idea or retry_of");
			return err_remedy(err, "give {\"study\": ..., "
					  "\"campaign\": {...}}; failed tasks "
					  "are run again with resubmit-failed");
		}
		*out = json_incref((json_t *)spec);
		return 0;
	}
	if (!of) {
		if (!json_object_get(spec, "study") ||
		    !json_object_get(spec, "idea")) {
			err_set(err, ERR_SPEC_INVALID,
				"spec invalid: give study and idea, or "
				"retry_of");
			return err_remedy(err, "`hpcloop schema submit-flow` "
					  "describes the fields");
		}
		*out = json_incref((json_t *)spec);
		return 0;
	}
	if (json_object_get(spec, "study") || json_object_get(spec, "idea")) {
		err_set(err, ERR_SPEC_INVALID, "spec invalid: retry_of takes "
			"the study and idea of the sprint it retries");
		return err_remedy(err, "give retry_of without study and idea");
	}
	if (sprint_get(ctx->journal, &row, of, err) < 0)
		return -1;
	state = json_string_value(json_object_get(row, "state"));
	if (!sprint_state_name_terminal(state)) {
		err_set(err, ERR_CONFLICT, "sprint '%s' is still %s; only a "
			"finished sprint can be retried", of, state);
		err_detail(err, "state", json_string(state));
		json_decref(row);
		return err_remedy(err, "wait for it to finish (`hpcloop "
				  "status`), or cancel it first");
	}
	eff = json_deep_copy(spec);
	json_object_set(eff, "study", json_object_get(row, "study"));
	json_object_set(eff, "idea", json_object_get(row, "idea"));
	meta = json_loads(json_string_value(json_object_get(row,
							      "metadata")),
			  0, NULL);
	if (json_is_object(json_object_get(meta, "params")))
		json_object_set(eff, "params", json_object_get(meta, "params"));
	json_decref(meta);
	json_decref(row);
	*out = eff;
	return 0;
}

static int submit_flow_run(struct ctx *ctx, const json_t *spec,
			   json_t **data, struct err *err)
{
	struct submit_request req;
	const json_t *v;
	json_t *eff = NULL, *meta = NULL;
	int r = -1;

	if (effective_spec(ctx, &eff, spec, err) < 0)
		goto out;
	if (json_object_get(eff, "campaign")) {
		struct campaign_request cr;

		memset(&cr, 0, sizeof(cr));
		cr.primitive = ctx->prim->name;
		cr.key = &ctx->key;
		cr.study = json_string_value(json_object_get(eff, "study"));
		cr.campaign = json_object_get(eff, "campaign");
		r = campaign_submit(ctx->journal, data, &ctx->replayed,
				    ctx->config, &cr, err);
		goto out;
	}
	memset(&req, 0, sizeof(req));
	req.primitive = ctx->prim->name;
	req.key = &ctx->key;
	req.study = json_string_value(json_object_get(eff, "study"));
	req.idea = json_string_value(json_object_get(eff, "idea"));
	req.job_options = json_object_get(eff, "job_options");
	v = json_object_get(eff, "time_limit_s");
	req.time_limit_s = v ? (int)json_integer_value(v) : 0;
	req.retry_of = json_string_value(json_object_get(eff, "retry_of"));
	req.params = json_object_get(eff, "params");
	if (req.params) {
		meta = json_pack("{s:O}", "params", req.params);
		req.metadata = meta;
	}
	r = submit_sprint(ctx->journal, data, &ctx->replayed, ctx->config,
			  &req, err);
out:
	json_decref(eff);
	json_decref(meta);
	return r;
}

static const enum err_code submit_flow_errors[] = {
	ERR_NOT_FOUND,	       ERR_CONFLICT,	      ERR_IN_PROGRESS,
	ERR_SCHEDULER_UNAVAILABLE, ERR_SCHEDULER_REJECTED, ERR_SSH_UNREACHABLE,
	ERR_HOST_KEY_MISMATCH, ERR_AUTH_FAILED,	      ERR_TRANSFER_FAILED,
	ERR_REMOTE_COMMAND_FAILED, ERR_TIMEOUT,	      ERR_NONE
};

const struct primitive prim_submit_flow = {
	.name = "submit-flow",
	.summary = "Submit a research idea as a sprint: one batch job in "
		   "which the agent works",
	.description =
		"Renders the job script and prompts for the study, commits "
		"the sprint as `pending`, writes its directory through the "
		"cluster's transport, submits it with the sprint id in the "
		"job's name and comment, and commits the job id. The same "
		"spec (or `idempotency_key`) answers with the first result "
		"and \"idempotent\": true, its state, phase and error as "
		"they are now; the same key with another spec is "
		"`conflict`; while another call with the key is still "
		"working, `in_progress` says when to retry. A retry after a "
		"crash adopts the job the scheduler already has, so a job "
		"is never submitted twice. With \"campaign\" (and study, no "
		"idea) it submits N tasks of one executor instead: a "
		"parameter grid or a task list, cut into scheduler arrays "
		"(task i is array index i+1 of its array; its parameters "
		"reach the executor as HPCLOOP_PARAM_<NAME>) run in waves "
		"chained by afterany; with canary, task 0 alone first, the "
		"rest once verify-canary passed it. monitor-flow follows a "
		"campaign, resubmit-failed runs its failed tasks again and "
		"aggregate-flow pulls and reduces its results.",
	.example = "{\"study\": \"demo\", \"idea\": \"try a smaller learning "
		   "rate\"}",
	.flags = PRIM_MUTATES | PRIM_CREATES | PRIM_KEYED | PRIM_NEEDS_JOURNAL |
		 PRIM_NEEDS_CONFIG | PRIM_NEEDS_CLUSTER | PRIM_OWN_TX |
		 PRIM_HTTP,
	.errors = submit_flow_errors,
	.handler = submit_flow_run,
};
