/*
 * cluster-list: the clusters of the config as hpcloop will use them:
 * transport and scheduler (and whether this build has them), where jobs
 * run, the studies on each, their live sprints, and the shared query
 * budget's state.  Nothing is contacted: `preflight` does that.
 */
#include <string.h>

#include "config.h"
#include "journal.h"
#include "observe.h"
#include "primitive.h"
#include "sched.h"
#include "sprint.h"
#include "transport.h"
#include "banned.h"

/* The names of the studies of 'cfg' on the cluster 'name', a new array. */
static json_t *studies_on(const struct config *cfg, const char *name)
{
	json_t *out = json_array(), *st;
	const char *study;

	json_object_foreach(json_object_get(cfg->root, "studies"), study, st) {
		if (!strcmp(json_string_value(json_object_get(st, "cluster")),
			    name))
			json_array_append_new(out, json_string(study));
	}
	return out;
}

/* Why the cluster 'c' cannot be used by this build, or NULL. */
static const char *unavailable(const json_t *c)
{
	if (!transport_kind_known(json_string_value(
		    json_object_get(c, "transport"))))
		return "its transport is not in this build";
	if (!sched_kind(json_string_value(json_object_get(c, "scheduler"))))
		return "its scheduler is not in this build";
	return NULL;
}

/* The row of cluster 'name' ('c'), or NULL with 'err' set. */
static json_t *cluster_row(struct ctx *ctx, const char *name, const json_t *c,
			   const json_t *live, struct err *err)
{
	const struct sched_ops *ops = sched_kind(json_string_value(
		json_object_get(c, "scheduler")));
	const char *why = unavailable(c);
	json_t *row, *budget = NULL, *state = NULL;
	double interval = json_number_value(json_object_get(c,
							    "query_interval_s"));
	double burst = json_number_value(json_object_get(c, "query_burst"));

	if (ops && ops->shared) {
		if (observe_budget_state(ctx->journal, &state, name, interval,
					 burst, err) < 0)
			return NULL;
		budget = json_pack("{s:f, s:f, s:o}", "query_interval_s",
				   interval, "query_burst", burst, "state",
				   state ? state : json_null());
	}
	row = json_pack(
		"{s:s, s:O, s:O, s:O*, s:O*, s:O*, s:O, s:O, s:b, s:s*, s:o,"
		" s:I, s:o}",
		"name", name, "transport", json_object_get(c, "transport"),
		"scheduler", json_object_get(c, "scheduler"), "host",
		json_object_get(c, "host"), "port", json_object_get(c, "port"),
		"user", json_object_get(c, "user"), "working_dir",
		json_object_get(c, "working_dir"), "max_concurrent_jobs",
		json_object_get(c, "max_concurrent_jobs"), "available", !why,
		"why", why, "studies", studies_on(ctx->config, name), "live",
		json_integer_value(json_object_get(live, name)), "budget",
		budget ? budget : json_null());
	return row;
}

static int cluster_list_run(struct ctx *ctx, const json_t *spec,
			    json_t **data, struct err *err)
{
	const char *only = json_string_value(json_object_get(spec, "cluster"));
	json_t *clusters = json_object_get(ctx->config->root, "clusters");
	json_t *out = NULL, *live = NULL, *c, *row;
	const char *name;
	int r = -1;

	if (only && !json_object_get(clusters, only)) {
		err_set(err, ERR_NOT_FOUND, "no cluster '%s' in %s", only,
			ctx->config_path);
		return err_remedy(err, "`hpcloop cluster-list` lists the "
				  "clusters of hpcloop.yaml");
	}
	if (sprint_live_by_cluster(ctx->journal, &live, err) < 0)
		return -1;
	out = json_array();
	json_object_foreach(clusters, name, c) {
		if (only && strcmp(name, only))
			continue;
		row = cluster_row(ctx, name, c, live, err);
		if (!row)
			goto out;
		json_array_append_new(out, row);
	}
	*data = json_pack("{s:O, s:I}", "clusters", out, "count",
			  (json_int_t)json_array_size(out));
	r = 0;
out:
	json_decref(out);
	json_decref(live);
	return r;
}

static const enum err_code cluster_list_errors[] = { ERR_NOT_FOUND,
						     ERR_NONE };

const struct primitive prim_cluster_list = {
	.name = "cluster-list",
	.summary = "List the configured clusters: transport, scheduler, "
		   "studies, live sprints and query budget",
	.description =
		"Clusters come from hpcloop.yaml (with their defaults "
		"filled in); `available` is false, with `why`, when this "
		"build lacks the cluster's transport or scheduler. `live` "
		"counts the cluster's pending, submitted and running "
		"sprints. `budget` (shared schedulers only) gives the "
		"token bucket that every hpcloop process on this journal "
		"shares: its rate, its burst and its state now (tokens "
		"left, queries made, the age of the cached answer). Nothing "
		"is contacted: `preflight` checks that a cluster answers.",
	.example = "{}",
	.flags = PRIM_IDEMPOTENT | PRIM_NEEDS_JOURNAL | PRIM_NEEDS_CONFIG |
		 PRIM_READ_SAFE | PRIM_HTTP,
	.errors = cluster_list_errors,
	.handler = cluster_list_run,
};
