/*
 * complete: take a sprint's completion record (what the job writes to
 * completion.json and posts to the webhook) as a claim (DESIGN §12).
 * The record is kept with the sprint and the sprint finishes with it
 * when the scheduler confirms that the job ended (the next status call
 * does that); a record never ends a sprint on its own word, so a job
 * cannot be left running untracked.  A repeated record, or one for a
 * sprint that already finished, changes nothing and answers
 * "idempotent": true.
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
	json_t *row = NULL;
	int fresh = 0, terminal, r = -1;

	if (sprint_get(ctx->journal, &row, id, err) < 0)
		goto out;
	terminal = sprint_state_name_terminal(
		json_string_value(json_object_get(row, "state")));
	if (!terminal) {
		if (sprint_claim(ctx->journal, &fresh, id, spec, "complete",
				 err) < 0)
			goto out;
		json_decref(row);
		row = NULL;
		if (sprint_get(ctx->journal, &row, id, err) < 0)
			goto out;
	}
	ctx->replayed = !fresh;
	*data = json_pack("{s:s, s:O, s:b, s:b, s:O, s:O}", "sprint_id", id,
			  "state", json_object_get(row, "state"),
			  "transitioned", 0, "claimed", !terminal, "summary",
			  json_object_get(row, "summary"), "finished_at",
			  json_object_get(row, "finished_at"));
	r = 0;
out:
	json_decref(row);
	return r;
}

static const enum err_code complete_errors[] = { ERR_NOT_FOUND, ERR_NONE };

const struct primitive prim_complete = {
	.name = "complete",
	.summary = "Record a sprint's completion as a claim; the sprint ends "
		   "when its job is confirmed ended",
	.description = "Takes the completion record the job writes "
		       "(`completion.json`): status, summary, error, exit "
		       "code, cost, session id, steps. The record is kept "
		       "with the sprint as a claim (`claimed`: true); the "
		       "next `status` finishes the sprint with it once the "
		       "scheduler confirms the job ended, or cancels a job "
		       "that lingers long after its claim. A repeat, or a "
		       "record for a finished sprint, changes nothing and "
		       "answers \"idempotent\": true.",
	.example = "{\"sprint_id\": \"sp-000000\", \"status\": \"completed\", "
		   "\"summary\": \"done\"}",
	.flags = PRIM_MUTATES | PRIM_IDEMPOTENT | PRIM_NEEDS_JOURNAL |
		 PRIM_HTTP,
	.errors = complete_errors,
	.handler = complete_run,
};
