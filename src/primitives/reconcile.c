/*
 * reconcile: bring the journal in line with the schedulers after a
 * crash: every live sprint is refreshed (a pending one whose submission
 * died is adopted when its job is found under its id; a job that
 * vanished without an exit record is lost, never success), and every
 * live campaign's arrays that a dead attempt submitted are adopted.
 */
#include <string.h>

#include "campaign.h"
#include "config.h"
#include "primitive.h"
#include "refresh.h"
#include "sprint.h"
#include "banned.h"

static int reconcile_run(struct ctx *ctx, const json_t *spec, json_t **data,
			 struct err *err)
{
	const char *cluster = json_string_value(json_object_get(spec, "cluster"));
	json_t *live = NULL, *mine = json_array(), *after = NULL, *s;
	json_t *evidence = json_object(), *clusters = json_object();
	json_t *sprints = json_array(), *campaigns = NULL, *now = json_object();
	size_t i;
	int r = -1;

	if (cluster && !config_cluster(ctx->config, cluster)) {
		err_set(err, ERR_NOT_FOUND, "no cluster '%s' in %s", cluster,
			ctx->config_path);
		err_remedy(err, "`hpcloop cluster-list` lists the clusters");
		goto out;
	}
	if (sprint_list_live(ctx->journal, &live, NULL, NULL, err) < 0)
		goto out;
	json_array_foreach(live, i, s) {
		if (!cluster || !strcmp(cluster, json_string_value(
					     json_object_get(s, "cluster"))))
			json_array_append(mine, s);
	}
	if (refresh_sprints(ctx, mine, evidence, clusters, err) < 0 ||
	    sprint_list_live(ctx->journal, &after, NULL, NULL, err) < 0)
		goto out;
	json_array_foreach(after, i, s)
		json_object_set(now, json_string_value(json_object_get(s, "id")), s);
	json_array_foreach(mine, i, s) {
		const char *id = json_string_value(json_object_get(s, "id"));
		json_t *row = json_incref(json_object_get(now, id));

		/* Finished since: no longer live, so read it again. */
		if (!row && sprint_get(ctx->journal, &row, id, err) < 0)
			goto out;
		json_array_append_new(sprints, json_pack(
			"{s:s, s:O, s:O, s:O}", "sprint_id", id, "before",
			json_object_get(s, "state"), "after",
			json_object_get(row, "state"), "job_id",
			json_object_get(row, "job_id")));
		json_decref(row);
	}
	if (campaign_reconcile(ctx->journal, &campaigns, ctx->config, cluster,
			       err) < 0)
		goto out;
	*data = json_pack("{s:O, s:O, s:O}", "sprints", sprints, "campaigns",
			  campaigns, "clusters", clusters);
	r = 0;
out:
	json_decref(live);
	json_decref(mine);
	json_decref(after);
	json_decref(evidence);
	json_decref(clusters);
	json_decref(sprints);
	json_decref(campaigns);
	json_decref(now);
	return r;
}

static const enum err_code reconcile_errors[] = {
	ERR_NOT_FOUND, ERR_CONFLICT, ERR_FILE_REFUSED, ERR_SCHEDULER_UNAVAILABLE,
	ERR_SSH_UNREACHABLE, ERR_HOST_KEY_MISMATCH, ERR_AUTH_FAILED,
	ERR_TIMEOUT, ERR_REMOTE_COMMAND_FAILED, ERR_NONE
};

const struct primitive prim_reconcile = {
	.name = "reconcile",
	.summary = "Bring the journal in line with the schedulers after a "
		   "crash: adopt jobs the journal lacks, mark vanished ones lost",
	.description =
		"Refreshes every live sprint (of one cluster, or all) as "
		"status does, but all of them, not a page: a pending sprint "
		"whose submitting process died is adopted at once when the "
		"scheduler has a job under its id (and failed after "
		"pending_timeout_s when it has none); a job that vanished "
		"without an exit record is lost, never success. Then every "
		"live campaign: the arrays a dead submit-flow submitted are "
		"adopted from the scheduler by their comments (the rest are "
		"left for a retry of that submit-flow), and its tasks are "
		"looked at. Each sprint and campaign is listed with its state "
		"before and after. An unreachable cluster is a partial error.",
	.example = "{}",
	.flags = PRIM_MUTATES | PRIM_IDEMPOTENT | PRIM_NEEDS_JOURNAL |
		 PRIM_NEEDS_CONFIG | PRIM_NEEDS_CLUSTER | PRIM_OWN_TX |
		 PRIM_HTTP,
	.errors = reconcile_errors,
	.handler = reconcile_run,
};
