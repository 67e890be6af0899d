/*
 * interview: persist the intent of a campaign (its goal, budget, task
 * count, abort rule, parameters and notes) for a study, so that `recall`
 * can later say what earlier campaigns wanted and what became of them
 * (memory.h).  Replayed by idempotency key: the same spec, or the same
 * key, answers with the first intent and records nothing.
 */
#include "config.h"
#include "journal.h"
#include "memory.h"
#include "primitive.h"
#include "sprint.h"
#include "banned.h"

static int interview_run(struct ctx *ctx, const json_t *spec, json_t **data,
			 struct err *err)
{
	const char *study = json_string_value(json_object_get(spec, "study"));
	const json_t *s = config_study(ctx->config, study);
	json_t *view = NULL;

	if (!s) {
		err_set(err, ERR_NOT_FOUND, "no study '%s' in %s", study,
			ctx->config->path);
		return err_remedy(err, "`hpcloop study-list` lists the "
				       "studies of hpcloop.yaml");
	}
	if (sprint_ensure_study(
		ctx->journal, study,
		json_string_value(json_object_get(s, "cluster")), err) < 0 ||
	    memory_interview(ctx->journal, &view, study, spec, err) < 0)
		return -1;
	*data = json_pack("{s:o}", "interview", view);
	return 0;
}

static const enum err_code interview_errors[] = { ERR_NOT_FOUND,
						  ERR_CONFLICT, ERR_NONE };

const struct primitive prim_interview = {
	.name = "interview",
	.summary = "Persist the intent of a campaign: goal, budget, task "
		   "count, abort rule, parameters",
	.description =
		"Records what a campaign of a study sets out to do: its "
		"`goal`, and when given its `budget` (`runs`, `hours`, "
		"`usd`), `task_count`, `abort_if` (a condition in words), "
		"`parameters` (name to a description or a range) and "
		"`notes`, with an `interview.recorded` event. The campaign "
		"covers the study's results from now until the next "
		"interview of the same study; `recall` summarises it. "
		"Repeating the same spec, or the same `idempotency_key`, "
		"returns the first intent with \"idempotent\": true and "
		"records nothing; reusing a key with a different spec is "
		"`conflict`.",
	.example = "{\"study\": \"demo\", \"goal\": \"bring val_loss under "
		   "0.30 by tuning the learning rate\", \"budget\": "
		   "{\"runs\": 20, \"hours\": 4}, \"abort_if\": \"three "
		   "crashes in a row\", \"parameters\": {\"lr\": {\"low\": "
		   "0.0001, \"high\": 0.1, \"log\": true}}}",
	.flags = PRIM_MUTATES | PRIM_CREATES | PRIM_KEYED | PRIM_NEEDS_JOURNAL |
		 PRIM_NEEDS_CONFIG,
	.errors = interview_errors,
	.handler = interview_run,
};
