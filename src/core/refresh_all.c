/*
 * refresh_all.c: refreshing every live sprint of a call, cluster by
 * cluster, with refresh_cluster() (see refresh.h): what status and
 * reconcile share.
 */
#include <stdio.h>
#include <string.h>

#include "primitive.h"
#include "refresh.h"
#include "banned.h"

/*
 * Each file of cluster 'name' that was not read (a link, a FIFO: see
 * refresh.h) is a partial error: the answer stands, without it.
 */
static void refusals(struct ctx *ctx, const char *name, const json_t *list)
{
	size_t i;

	for (i = 0; i < json_array_size(list); i++)
		ctx_partial_error(ctx, ERR_FILE_REFUSED,
				  json_string_value(json_array_get(list, i)),
				  name);
}

int refresh_sprints(struct ctx *ctx, const json_t *live, json_t *evidence,
		    json_t *clusters, struct err *err)
{
	json_t *by_cluster = json_object(), *rows, *summary = NULL;
	const char *name;
	size_t i;
	int r = -1;

	for (i = 0; i < json_array_size(live); i++) {
		json_t *s = json_array_get(live, i);
		const char *cl = json_string_value(json_object_get(s,
								    "cluster"));

		if (!json_object_get(by_cluster, cl))
			json_object_set_new(by_cluster, cl, json_array());
		json_array_append(json_object_get(by_cluster, cl), s);
	}
	json_object_foreach(by_cluster, name, rows) {
		struct err unreachable = ERR_INIT;
		char detail[ERR_MESSAGE_MAX + 128];

		if (refresh_cluster(ctx->journal, ctx->config, name, rows,
				    evidence, &summary, &unreachable,
				    err) < 0) {
			err_release(&unreachable);
			goto out;
		}
		if (unreachable.code != ERR_NONE) {
			/* the message may already name its cluster */
			snprintf(detail, sizeof(detail), "cluster '%s': ",
				 name);
			if (!strncmp(unreachable.message, detail,
				     strlen(detail)))
				*detail = '\0';
			snprintf(detail + strlen(detail),
				 sizeof(detail) - strlen(detail), "%s",
				 unreachable.message);
			ctx_partial_error(ctx, unreachable.code, detail, name);
		}
		err_release(&unreachable);
		refusals(ctx, name, json_object_get(summary, "refused"));
		json_object_del(summary, "refused");
		json_object_set_new(clusters, name, summary);
		summary = NULL;
	}
	r = 0;
out:
	json_decref(by_cluster);
	return r;
}
