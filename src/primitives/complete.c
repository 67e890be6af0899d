/*
 * complete: ingest a sprint's completion record (what the job writes to
 * completion.json and posts to the webhook).  The terminal transition
 * happens once; a duplicate changes nothing and answers
 * "idempotent": true with the state first recorded.
 */
#include "journal.h"
#include "primitive.h"
#include "sprint.h"
#include "banned.h"

static int complete_run(struct ctx *ctx, const json_t *spec, json_t **data,
			struct err *err)
{
	const char *id = json_string_value(json_object_get(spec,
							    "sprint_id"));
	const char *status = json_string_value(json_object_get(spec,
								"status"));
	json_t *row = NULL, *evidence;
	int transitioned, r = -1;

	evidence = json_pack("{s:s}", "source", "completion record");
	if (sprint_finish(ctx->journal, &transitioned, id, status, spec,
			  evidence, err) < 0 ||
	    sprint_get(ctx->journal, &row, id, err) < 0)
		goto out;
	ctx->replayed = !transitioned;
	*data = json_pack("{s:s, s:O, s:b, s:O, s:O}", "sprint_id", id,
			  "state", json_object_get(row, "state"),
			  "transitioned", transitioned, "summary",
			  json_object_get(row, "summary"), "finished_at",
			  json_object_get(row, "finished_at"));
	r = 0;
out:
	json_decref(evidence);
	json_decref(row);
	return r;
}

static const enum err_code complete_errors[] = { ERR_NOT_FOUND, ERR_NONE };

const struct primitive prim_complete = {
	.name = "complete",
	.summary = "Record a sprint's completion; the terminal transition "
		   "happens once",
	.description = "Takes the completion record the job writes "
		       "(`completion.json`): status, summary, error, exit "
		       "code, cost, session id, steps. The first call moves "
		       "the sprint to its terminal state and keeps the "
		       "record in its metadata; a repeat changes nothing "
		       "and answers \"idempotent\": true with the state "
		       "first recorded.",
	.example = "{\"sprint_id\": \"sp-000000\", \"status\": \"completed\", "
		   "\"summary\": \"done\"}",
	.flags = PRIM_MUTATES | PRIM_IDEMPOTENT | PRIM_NEEDS_JOURNAL |
		 PRIM_HTTP,
	.errors = complete_errors,
	.handler = complete_run,
};
