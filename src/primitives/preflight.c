/*
 * preflight: check that a cluster is ready before work goes to it
 * (src/core/preflight.h): reached (TCP, host key, login), its scheduler
 * answering with its limits, its working directory writable, every
 * study's agent or executor on its PATH.  A failing check is reported,
 * with its error code and what to do, under "ready": false.
 */
#include <string.h>

#include "config.h"
#include "preflight.h"
#include "primitive.h"
#include "banned.h"

static int preflight_run(struct ctx *ctx, const json_t *spec, json_t **data,
			 struct err *err)
{
	const char *one = json_string_value(json_object_get(spec, "cluster"));
	json_t *clusters = json_object_get(ctx->config->root, "clusters");
	json_t *list = json_array(), *v, *res;
	const char *name;
	int ready = 1;

	if (one && !config_cluster(ctx->config, one)) {
		json_decref(list);
		err_set(err, ERR_NOT_FOUND, "no cluster '%s' in %s", one,
			ctx->config_path);
		return err_remedy(err, "`hpcloop cluster-list` lists the "
				  "clusters");
	}
	json_object_foreach(clusters, name, v) {
		if (one && strcmp(one, name))
			continue;
		if (preflight_cluster(&res, ctx->config, name, err) < 0) {
			json_decref(list);
			return -1;
		}
		if (!json_is_true(json_object_get(res, "ready")))
			ready = 0;
		json_array_append_new(list, res);
	}
	*data = json_pack("{s:b, s:o}", "ready", ready, "clusters", list);
	return 0;
}

static const enum err_code preflight_errors[] = { ERR_NOT_FOUND, ERR_NONE };

const struct primitive prim_preflight = {
	.name = "preflight",
	.summary = "Check that each cluster is ready: reached, its scheduler "
		   "answering with its limits, working_dir writable, agents "
		   "on PATH",
	.description =
		"For one cluster or every one: runs a command over the "
		"transport (TCP reach, the host key against known_hosts, "
		"the login), asks the scheduler for its limits (SLURM's "
		"MaxArraySize and MaxJobCount from `scontrol show config`, "
		"SGE's max_aj_tasks, max_aj_instances and max_jobs from "
		"`qconf -sconf`), writes and removes a file in working_dir, "
		"and looks up every study's agent (or executor) on the "
		"cluster's PATH. Each failing check carries its error_code "
		"and remediation; \"ready\" is true only when every check "
		"passed. It submits nothing and leaves nothing behind. "
		"plan-waves takes the limits it reports.",
	.example = "{}",
	.flags = PRIM_NEEDS_CONFIG | PRIM_NEEDS_CLUSTER | PRIM_READ_SAFE |
		 PRIM_IDEMPOTENT | PRIM_HTTP,
	.errors = preflight_errors,
	.handler = preflight_run,
};
