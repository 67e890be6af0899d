/*
 * loop-resume: let a stopped loop (or every stopped loop of a study) go
 * on.  Its numbering, ledger and budget carry on; only the time it was
 * stopped does not count against max_hours.
 */
#include "journal.h"
#include "loop.h"
#include "primitive.h"
#include "banned.h"

static int loop_resume_run(struct ctx *ctx, const json_t *spec,
			   json_t **data, struct err *err)
{
	const char *id = json_string_value(json_object_get(spec, "loop_id"));
	const char *study = json_string_value(json_object_get(spec, "study"));
	json_t *loops = NULL;

	if ((id == NULL) == (study == NULL)) {
		err_set(err, ERR_SPEC_INVALID,
			"spec invalid: give loop_id or study (one of them)");
		return err_remedy(err, "name the loop, or the study whose "
				  "stopped loops should go on");
	}
	if (loop_apply_many(ctx->journal, &loops, id, study, LOOP_EV_RESUMED,
			    NULL, err) < 0)
		return -1;
	*data = json_pack("{s:o, s:s}", "loops", loops, "next_step",
			  "`hpcloop loop-tick` goes on with the next "
			  "iteration");
	return 0;
}

static const enum err_code loop_resume_errors[] = { ERR_NOT_FOUND,
						    ERR_CONFLICT, ERR_NONE };

const struct primitive prim_loop_resume = {
	.name = "loop-resume",
	.summary = "Let a stopped loop go on from where it stopped",
	.description =
		"Sets the loop (or every stopped loop of `study`) running "
		"again; a loop still `stopping` simply stays running. The "
		"next `loop-tick` records what finished meanwhile and goes "
		"on with the next iteration: the numbering, the ledger and "
		"the budget carry on, and the time it was stopped does not "
		"count against max_hours. A finished loop is `conflict`: "
		"start a new one.",
	.example = "{\"study\": \"demo\"}",
	.flags = PRIM_MUTATES | PRIM_IDEMPOTENT | PRIM_NEEDS_JOURNAL |
		 PRIM_HTTP,
	.errors = loop_resume_errors,
	.handler = loop_resume_run,
};
