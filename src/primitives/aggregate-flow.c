/*
 * aggregate-flow: pull every task's result/ of a finished campaign to
 * this machine in one pass and run a reducer over them; success only
 * when every task is there.
 */
#include "campaign.h"
#include "primitive.h"
#include "banned.h"

static int aggregate_flow_run(struct ctx *ctx, const json_t *spec,
			      json_t **data, struct err *err)
{
	return campaign_aggregate(
		ctx->journal, data, ctx->config,
		json_string_value(json_object_get(spec, "campaign_id")),
		json_object_get(spec, "reducer"),
		json_string_value(json_object_get(spec, "out_dir")), err);
}

static const enum err_code aggregate_flow_errors[] = {
	ERR_NOT_FOUND, ERR_OUTPUTS_MISSING, ERR_REDUCER_FAILED,
	ERR_TRANSFER_FAILED, ERR_SSH_UNREACHABLE, ERR_HOST_KEY_MISMATCH,
	ERR_AUTH_FAILED, ERR_FILE_REFUSED, ERR_TIMEOUT, ERR_NONE
};

const struct primitive prim_aggregate_flow = {
	.name = "aggregate-flow",
	.summary = "Pull a finished campaign's results and run a reducer "
		   "over them",
	.description =
		"When every task of the campaign has completed (else "
		"outputs_missing, naming the tasks that have not), copies each "
		"task's result/ from the cluster into out_dir/tasks/<id>/ "
		"(default: aggregate/<id> beside the journal, outside the "
		"campaign's directory, which the tasks could write), refusing "
		"symbolic links and anything but regular files, then runs reducer (an argv array, run on this machine "
		"in out_dir, never through a shell). Its standard output is "
		"returned, parsed when it is JSON; a non-zero exit is "
		"reducer_failed with its stderr. Running it again pulls and "
		"reduces again.",
	.example = "{\"campaign_id\": \"cp-000000\", \"reducer\": [\"ls\", "
		   "\"tasks\"]}",
	.flags = PRIM_MUTATES | PRIM_IDEMPOTENT | PRIM_NEEDS_JOURNAL |
		 PRIM_NEEDS_CONFIG | PRIM_NEEDS_CLUSTER | PRIM_OWN_TX |
		 PRIM_HTTP,
	.errors = aggregate_flow_errors,
	.handler = aggregate_flow_run,
};
