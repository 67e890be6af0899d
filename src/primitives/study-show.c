/*
 * study-show: one study as hpcloop will run it: its config (secrets
 * redacted), its cluster, the layered job options, the agent command,
 * the assembled context, where its sprints go, and its recent sprints.
 */
#include <stdlib.h>

#include "config.h"
#include "context.h"
#include "journal.h"
#include "primitive.h"
#include "sprint.h"
#include "banned.h"

static int study_show_run(struct ctx *ctx, const json_t *spec,
			  json_t **data, struct err *err)
{
	const char *name = json_string_value(json_object_get(spec, "name"));
	json_t *redacted = NULL, *opts = NULL, *argv = NULL, *recent = NULL;
	json_t *rows = NULL;
	char *context = NULL, *dir = NULL;
	const json_t *study;
	size_t i;
	int r = -1;

	study = config_study(ctx->config, name);
	if (!study) {
		err_set(err, ERR_NOT_FOUND, "no study '%s' in %s", name,
			ctx->config_path);
		return err_remedy(err, "`hpcloop study-list` lists the "
				  "studies of hpcloop.yaml");
	}
	redacted = config_redacted(ctx->config);
	if (context_job_options(&opts, ctx->config, name, NULL, err) < 0 ||
	    context_agent_argv(&argv, ctx->config, name, err) < 0 ||
	    context_text(&context, ctx->config, name, err) < 0)
		goto out;
	dir = context_sprints_dir(ctx->config, name);
	if (sprint_recent(ctx->journal, &rows, name, 10, err) < 0)
		goto out;
	recent = json_array();
	for (i = 0; i < json_array_size(rows); i++) {
		json_t *s = json_array_get(rows, i);

		json_array_append_new(
			recent,
			json_pack("{s:O, s:O, s:O, s:O, s:O}", "sprint_id",
				  json_object_get(s, "id"), "state",
				  json_object_get(s, "state"), "idea",
				  json_object_get(s, "idea"), "summary",
				  json_object_get(s, "summary"), "created_at",
				  json_object_get(s, "created_at")));
	}
	*data = json_pack(
		"{s:s, s:O, s:O, s:O, s:O, s:s, s:s, s:O}", "name", name,
		"study",
		json_object_get(json_object_get(redacted, "studies"), name),
		"cluster",
		json_object_get(json_object_get(redacted, "clusters"),
				json_string_value(json_object_get(study,
								  "cluster"))),
		"job_options", opts, "agent_argv", argv, "context", context,
		"sprints_dir", dir, "recent_sprints", recent);
	r = *data ? 0 : err_set(err, ERR_INTERNAL, "cannot build the answer");
out:
	json_decref(redacted);
	json_decref(opts);
	json_decref(argv);
	json_decref(recent);
	json_decref(rows);
	free(context);
	free(dir);
	return r;
}

static const enum err_code study_show_errors[] = { ERR_NOT_FOUND,
						   ERR_NONE };

const struct primitive prim_study_show = {
	.name = "study-show",
	.summary = "Show one study as it will run: config, options, agent, "
		   "context and recent sprints",
	.description = "`hpcloop study-show NAME` is shorthand for "
		       "`--spec '{\"name\": NAME}'`. Secrets in the config "
		       "are shown as \"***\".",
	.example = "{\"name\": \"demo\"}",
	.flags = PRIM_IDEMPOTENT | PRIM_NEEDS_JOURNAL | PRIM_NEEDS_CONFIG |
		 PRIM_READ_SAFE | PRIM_HTTP,
	.errors = study_show_errors,
	.handler = study_show_run,
};
