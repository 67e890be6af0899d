/*
 * verify-canary: wait for a campaign's canary (task 0, run alone first)
 * to end, check it, and submit the rest of the campaign once it passed.
 */
#include "campaign.h"
#include "primitive.h"
#include "banned.h"

static int verify_canary_run(struct ctx *ctx, const json_t *spec,
			     json_t **data, struct err *err)
{
	const json_t *w = json_object_get(spec, "wait_s");

	return campaign_verify_canary(
		ctx->journal, data, ctx->config,
		json_string_value(json_object_get(spec, "campaign_id")),
		json_object_get(spec, "expect_files"),
		w ? json_number_value(w) : 600.0, err);
}

static const enum err_code verify_canary_errors[] = {
	ERR_NOT_FOUND, ERR_PRECONDITION_FAILED, ERR_CANARY_FAILED, ERR_TIMEOUT,
	ERR_SCHEDULER_UNAVAILABLE, ERR_SCHEDULER_REJECTED, ERR_SSH_UNREACHABLE,
	ERR_HOST_KEY_MISMATCH, ERR_AUTH_FAILED, ERR_TRANSFER_FAILED,
	ERR_REMOTE_COMMAND_FAILED, ERR_FILE_REFUSED, ERR_NONE
};

const struct primitive prim_verify_canary = {
	.name = "verify-canary",
	.summary = "Check a campaign's canary task and submit the rest once "
		   "it passed",
	.description =
		"Waits at most wait_s (default 600) for task 0 of a campaign "
		"submitted with \"canary\": true, then checks it: it "
		"completed (exit 0), its output.log has no failure marker "
		"(a Python traceback, a segfault, out of memory, Killed, a core "
		"dump), and its result/ holds every file of expect_files. "
		"Passed: the other tasks are submitted, once, and the answer is "
		"the campaign; failed: the campaign is failed and the answer is "
		"canary_failed with the failure_kind and the output's tail. "
		"Still running at the end of wait_s: timeout, retry later. "
		"Calling it again after a verdict answers with that verdict.",
	.example = "{\"campaign_id\": \"cp-000000\", \"wait_s\": 30}",
	.flags = PRIM_MUTATES | PRIM_IDEMPOTENT | PRIM_NEEDS_JOURNAL |
		 PRIM_NEEDS_CONFIG | PRIM_NEEDS_CLUSTER | PRIM_OWN_TX |
		 PRIM_HTTP,
	.errors = verify_canary_errors,
	.handler = verify_canary_run,
};
