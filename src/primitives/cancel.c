/*
 * cancel: cancel a sprint's job and record the sprint as cancelled.
 * A sprint that already finished is conflict.
 */
#include "cluster.h"
#include "journal.h"
#include "primitive.h"
#include "sched.h"
#include "sprint.h"
#include "banned.h"

static int cancel_run(struct ctx *ctx, const json_t *spec, json_t **data,
		      struct err *err)
{
	const char *id = json_string_value(json_object_get(spec,
							    "sprint_id"));
	struct cluster c = CLUSTER_INIT;
	json_t *row = NULL, *ids = NULL, *completion = NULL, *ev = NULL;
	const char *state, *job_id;
	int transitioned, r = -1;

	if (sprint_get(ctx->journal, &row, id, err) < 0)
		goto out;
	state = json_string_value(json_object_get(row, "state"));
	if (sprint_state_terminal(state)) {
		err_set(err, ERR_CONFLICT, "sprint '%s' is already %s", id,
			state);
		err_detail(err, "state", json_string(state));
		goto out;
	}
	job_id = json_string_value(json_object_get(row, "job_id"));
	if (job_id) {
		if (cluster_open(&c, ctx->config,
				 json_string_value(json_object_get(row,
								   "cluster")),
				 err) < 0)
			goto out;
		ids = json_pack("[s]", job_id);
		if (sched_cancel(c.sched, ids, err) < 0)
			goto out;
	}
	completion = json_pack("{s:s, s:s}", "status", "cancelled", "error",
			       "cancelled on request");
	ev = json_pack("{s:s, s:s?}", "source", "cancel", "job_id", job_id);
	/* The lock is taken only now, after the scheduler answered. */
	if (journal_begin(ctx->journal, err) < 0 ||
	    sprint_finish(ctx->journal, &transitioned, id, "cancelled",
			  completion, ev, err) < 0)
		goto out;
	if (!transitioned) {
		/* It finished on its own while the cancel was on its way. */
		err_set(err, ERR_CONFLICT,
			"sprint '%s' finished before the cancel took effect",
			id);
		goto out;
	}
	*data = json_pack("{s:s, s:s, s:s, s:O}", "sprint_id", id, "state",
			  "cancelled", "previous_state", state, "job_id",
			  json_object_get(row, "job_id"));
	r = 0;
out:
	cluster_release(&c);
	json_decref(completion);
	json_decref(ev);
	json_decref(ids);
	json_decref(row);
	return r;
}

static const enum err_code cancel_errors[] = {
	ERR_NOT_FOUND,	    ERR_CONFLICT,	   ERR_SCHEDULER_UNAVAILABLE,
	ERR_SSH_UNREACHABLE, ERR_REMOTE_COMMAND_FAILED,	   ERR_NONE
};

const struct primitive prim_cancel = {
	.name = "cancel",
	.summary = "Cancel a sprint's job and record it as cancelled",
	.description = "Asks the sprint's scheduler to cancel the job (the "
		       "job script traps the signal, stops the agent's "
		       "process group and writes a cancelled completion), "
		       "then records the sprint as cancelled. Cancelling a "
		       "sprint that already finished is `conflict`.",
	.example = "{\"sprint_id\": \"sp-000000\"}",
	.flags = PRIM_MUTATES | PRIM_NEEDS_JOURNAL | PRIM_NEEDS_CONFIG |
		 PRIM_NEEDS_CLUSTER | PRIM_OWN_TX | PRIM_HTTP,
	.errors = cancel_errors,
	.handler = cancel_run,
};
