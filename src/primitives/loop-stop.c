/*
 * loop-stop: ask a loop (or every running loop of a study) to stop.
 * The request is honoured at the next loop-tick, after that tick has
 * recorded what finished; a live run is left to end on its own, and
 * loop-resume goes on where the loop stopped.
 */
#include "journal.h"
#include "loop.h"
#include "primitive.h"
#include "banned.h"

static int loop_stop_run(struct ctx *ctx, const json_t *spec, json_t **data,
			 struct err *err)
{
	const char *reason = json_string_value(json_object_get(spec,
							       "reason"));
	const char *id = json_string_value(json_object_get(spec, "loop_id"));
	const char *study = json_string_value(json_object_get(spec, "study"));
	json_t *ev = json_pack("{s:s}", "reason",
			       reason ? reason : "stop requested");
	json_t *loops = NULL;
	int r;

	if ((id == NULL) == (study == NULL)) {
		json_decref(ev);
		err_set(err, ERR_SPEC_INVALID,
			"spec invalid: give loop_id or study (one of them)");
		return err_remedy(err, "name the loop, or the study whose "
				  "running loops should stop");
	}
	r = loop_apply_many(ctx->journal, &loops, id, study,
			    LOOP_EV_STOP_REQUESTED, ev, err);
	json_decref(ev);
	if (r < 0)
		return -1;
	*data = json_pack("{s:o, s:s}", "loops", loops, "next_step",
			  "the next `hpcloop loop-tick` stops it; `hpcloop "
			  "loop-resume` goes on afterwards");
	return 0;
}

static const enum err_code loop_stop_errors[] = { ERR_NOT_FOUND,
						  ERR_CONFLICT, ERR_NONE };

const struct primitive prim_loop_stop = {
	.name = "loop-stop",
	.summary = "Ask a loop to stop at its next tick",
	.description =
		"Marks the loop (or every running loop of `study`) as "
		"`stopping` with `reason`; the next `loop-tick` records what "
		"finished and then stops it, submitting nothing more. A run "
		"that is live is left to end, and is recorded by a later "
		"tick. Stopping a stopped loop changes nothing; a finished "
		"loop is `conflict`. `loop-resume` goes on with the "
		"numbering where it stopped.",
	.example = "{\"study\": \"demo\", \"reason\": \"checking the "
		   "baseline by hand\"}",
	.flags = PRIM_MUTATES | PRIM_IDEMPOTENT | PRIM_NEEDS_JOURNAL |
		 PRIM_HTTP,
	.errors = loop_stop_errors,
	.handler = loop_stop_run,
};
