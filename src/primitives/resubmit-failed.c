/*
 * resubmit-failed: run the failed, timed-out, lost or cancelled tasks of
 * a campaign again (all of them, or the ids given, which need not be
 * contiguous) as one new scheduler array, exactly once per key.
 */
#include "campaign.h"
#include "primitive.h"
#include "banned.h"

static int resubmit_failed_run(struct ctx *ctx, const json_t *spec,
			       json_t **data, struct err *err)
{
	return campaign_resubmit(
		ctx->journal, data, &ctx->replayed, ctx->config, ctx->prim->name,
		&ctx->key, json_string_value(json_object_get(spec, "campaign_id")),
		json_object_get(spec, "tasks"), err);
}

static const enum err_code resubmit_failed_errors[] = {
	ERR_NOT_FOUND, ERR_PRECONDITION_FAILED, ERR_CONFLICT, ERR_IN_PROGRESS,
	ERR_SCHEDULER_UNAVAILABLE, ERR_SCHEDULER_REJECTED, ERR_SSH_UNREACHABLE,
	ERR_HOST_KEY_MISMATCH, ERR_AUTH_FAILED, ERR_TRANSFER_FAILED,
	ERR_REMOTE_COMMAND_FAILED, ERR_TIMEOUT, ERR_NONE
};

const struct primitive prim_resubmit_failed = {
	.name = "resubmit-failed",
	.summary = "Run a campaign's failed tasks again as one new scheduler "
		   "array",
	.description =
		"Takes the tasks given (any ids, contiguous or not), or every "
		"task that ended failed, timed_out, lost or cancelled, and "
		"submits them as one new array whose index i runs the i-th of "
		"them; each task's attempt count goes up and its state back to "
		"submitted. A task that has not ended badly is "
		"precondition_failed. The same spec (or idempotency_key) "
		"answers with the first result.",
	.example = "{\"campaign_id\": \"cp-000000\"}",
	.flags = PRIM_MUTATES | PRIM_KEYED | PRIM_NEEDS_JOURNAL |
		 PRIM_NEEDS_CONFIG | PRIM_NEEDS_CLUSTER | PRIM_OWN_TX |
		 PRIM_HTTP,
	.errors = resubmit_failed_errors,
	.handler = resubmit_failed_run,
};
