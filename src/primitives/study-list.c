/*
 * study-list: the studies of the config with their cluster, metric and
 * how many sprints the journal holds for each.
 */
#include "config.h"
#include "journal.h"
#include "primitive.h"
#include "sprint.h"
#include "banned.h"

static int study_list_run(struct ctx *ctx, const json_t *spec,
			  json_t **data, struct err *err)
{
	json_t *studies = json_object_get(ctx->config->root, "studies");
	json_t *out = json_array(), *counts = NULL, *st;
	const char *name;

	(void)spec;
	if (sprint_study_counts(ctx->journal, &counts, err) < 0) {
		json_decref(out);
		return -1;
	}
	json_object_foreach(studies, name, st) {
		json_t *c = json_object_get(counts, name);
		json_t *row = json_pack(
			"{s:s, s:O, s:O?, s:O?, s:b, s:O?, s:O?, s:O?}",
			"name", name, "cluster", json_object_get(st, "cluster"),
			"description", json_object_get(st, "description"),
			"metric", json_object_get(st, "metric"), "allow_loop",
			json_is_true(json_object_get(st, "allow_loop")),
			"sprints", json_object_get(c, "sprints"), "live",
			json_object_get(c, "live"), "last_sprint_at",
			json_object_get(c, "last_sprint_at"));

		if (!c) {
			json_object_set_new(row, "sprints", json_integer(0));
			json_object_set_new(row, "live", json_integer(0));
		}
		json_array_append_new(out, row);
	}
	json_decref(counts);
	*data = json_pack("{s:o, s:I}", "studies", out, "count",
			  (json_int_t)json_array_size(out));
	return 0;
}

static const enum err_code study_list_errors[] = { ERR_NOT_FOUND, ERR_NONE };

const struct primitive prim_study_list = {
	.name = "study-list",
	.summary = "List the configured studies with their sprint counts",
	.description = "Studies come from hpcloop.yaml; the counts (all "
		       "sprints, live ones, the newest) from the journal.",
	.example = "{}",
	.flags = PRIM_IDEMPOTENT | PRIM_NEEDS_JOURNAL | PRIM_NEEDS_CONFIG |
		 PRIM_READ_SAFE | PRIM_HTTP,
	.errors = study_list_errors,
	.handler = study_list_run,
};
