/*
 * cancel: cancel a sprint's job and record the sprint as cancelled.
 * A sprint that already finished is conflict.
 */
#include <string.h>
#include <time.h>

#include "buf.h"
#include "cluster.h"
#include "idem.h"
#include "journal.h"
#include "primitive.h"
#include "sched.h"
#include "sprint.h"
#include "transport.h"
#include "banned.h"

/*
 * The scheduler's ids of sprint 'row': its job id, or for a pending
 * sprint whatever a dead submission attempt left on the scheduler
 * (found by the sprint id).  A new array in '*out'.
 */
static int job_ids(struct ctx *ctx, json_t **out, struct cluster *c,
		   const json_t *row, struct err *err)
{
	const char *id = json_string_value(json_object_get(row, "id"));
	const char *job = json_string_value(json_object_get(row, "job_id"));
	int active;

	*out = NULL;
	if (job) {
		*out = json_pack("[s]", job);
		return 0;
	}
	if (idem_subject_active(ctx->journal, &active, id, err) < 0)
		return -1;
	if (active) {
		err_set(err, ERR_IN_PROGRESS,
			"sprint '%s' is being submitted right now", id);
		err_detail(err, "retry_after_s",
			   json_integer(IDEM_RETRY_AFTER_S));
		return err_remedy(err, "repeat the cancel in a few seconds, "
				  "once the submission has finished");
	}
	return sched_find(c->sched, out, id, err);
}

/* How long cancel waits for the job's own completion record. */
#define CANCEL_RECORD_WAIT_MS 10000

/*
 * The completion record the cancelled job of sprint 'row' writes from
 * its exit trap, read for up to CANCEL_RECORD_WAIT_MS, so that its step
 * data reaches the journal: a new object naming the sprint, or NULL.
 */
static json_t *job_record(struct cluster *c, const json_t *row)
{
	const char *id = json_string_value(json_object_get(row, "id"));
	const char *dir = json_string_value(json_object_get(row, "directory"));
	struct timespec nap = { 0, 200 * 1000 * 1000 };
	struct err ignored = ERR_INIT;
	struct buf data = BUF_INIT;
	json_t *rec = NULL;
	int waited;

	for (waited = 0; waited < CANCEL_RECORD_WAIT_MS; waited += 200) {
		if (transport_read_file(c->t, &data, dir, "completion.json",
					64 * 1024, &ignored) == 0) {
			rec = json_loadb(data.len ? data.data : "", data.len,
					 0, NULL);
			if (json_is_object(rec) &&
			    json_is_string(json_object_get(rec, "sprint_id")) &&
			    !strcmp(json_string_value(json_object_get(
					    rec, "sprint_id")),
				    id))
				break;
			json_decref(rec);
			rec = NULL;
		}
		err_clear(&ignored);
		nanosleep(&nap, NULL);
	}
	buf_release(&data);
	err_release(&ignored);
	return rec;
}

static int cancel_run(struct ctx *ctx, const json_t *spec, json_t **data,
		      struct err *err)
{
	const char *id = json_string_value(json_object_get(spec,
							    "sprint_id"));
	struct cluster c = CLUSTER_INIT;
	json_t *row = NULL, *ids = NULL, *completion = NULL, *ev = NULL;
	const char *state;
	int transitioned, r = -1;

	if (sprint_get(ctx->journal, &row, id, err) < 0)
		goto out;
	state = json_string_value(json_object_get(row, "state"));
	if (sprint_state_name_terminal(state)) {
		err_set(err, ERR_CONFLICT, "sprint '%s' is already %s", id,
			state);
		err_detail(err, "state", json_string(state));
		err_remedy(err, "nothing to cancel; `hpcloop status --spec "
			   "'{\"sprint_id\": \"%s\"}'` shows how it ended", id);
		goto out;
	}
	if (cluster_open(&c, ctx->config,
			 json_string_value(json_object_get(row, "cluster")),
			 err) < 0 ||
	    job_ids(ctx, &ids, &c, row, err) < 0)
		goto out;
	if (json_array_size(ids) && sched_cancel(c.sched, ids, err) < 0)
		goto out;
	completion = json_array_size(ids) ? job_record(&c, row) : NULL;
	if (!completion)
		completion = json_object();
	/* The job's steps and cost stay; the state is the cancel's. */
	json_object_set_new(completion, "status", json_string("cancelled"));
	if (!json_is_string(json_object_get(completion, "error")))
		json_object_set_new(completion, "error",
				    json_string("cancelled on request"));
	ev = json_pack("{s:s, s:O}", "source", "cancel", "job_ids", ids);
	/* The lock is taken only now, after the scheduler answered. */
	if (journal_begin(ctx->journal, err) < 0 ||
	    sprint_finish(ctx->journal, &transitioned, id, SPRINT_CANCELLED,
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
	ERR_NOT_FOUND,		   ERR_CONFLICT,    ERR_IN_PROGRESS,
	ERR_SCHEDULER_UNAVAILABLE, ERR_SSH_UNREACHABLE,
	ERR_REMOTE_COMMAND_FAILED, ERR_NONE
};

const struct primitive prim_cancel = {
	.name = "cancel",
	.summary = "Cancel a sprint's job and record it as cancelled",
	.description = "Asks the sprint's scheduler to cancel the job (the "
		       "job script traps the signal, stops the agent's "
		       "process group and writes a cancelled completion), "
		       "waits a few seconds for that record so that the "
		       "steps and cost it holds are kept, then records the "
		       "sprint as cancelled. Cancelling a "
		       "sprint that already finished is `conflict`.",
	.example = "{\"sprint_id\": \"sp-000000\"}",
	.flags = PRIM_MUTATES | PRIM_NEEDS_JOURNAL | PRIM_NEEDS_CONFIG |
		 PRIM_NEEDS_CLUSTER | PRIM_OWN_TX | PRIM_HTTP,
	.errors = cancel_errors,
	.handler = cancel_run,
};
