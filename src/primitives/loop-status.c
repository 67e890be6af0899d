/*
 * loop-status: where a loop stands (its state, iteration, budget and
 * what it spent, its live run, best and newest results, what is due
 * next), or one page of loops.  It reads the journal only: loop-tick is
 * what brings a loop up to date.
 */
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "digest.h"
#include "journal.h"
#include "loop.h"
#include "primitive.h"
#include "banned.h"

/* The page size when the spec gives none (DESIGN §12). */
#define LOOP_STATUS_DEFAULT_LIMIT 50

/* The detailed view of the loop row 'row': a new object. */
static int detail(struct ctx *ctx, json_t **out, const json_t *row,
		  struct err *err)
{
	const char *study = json_string_value(json_object_get(row, "study"));
	const json_t *live;
	json_t *d = NULL;

	*out = NULL;
	if (!config_study(ctx->config, study)) {
		/* The study left the config: show the row alone. */
		*out = loop_public(row);
		json_object_set_new(*out, "next_step",
				    json_string("its study is no longer in "
						"hpcloop.yaml"));
		return 0;
	}
	if (digest_build(ctx->journal, &d, ctx->config, study,
			 json_string_value(json_object_get(row, "id")), 3,
			 err) < 0)
		return -1;
	*out = loop_public(row);
	json_object_set(*out, "best", json_object_get(d, "best"));
	json_object_set(*out, "last", json_object_get(d, "last"));
	json_object_set(*out, "counts", json_object_get(d, "counts"));
	/* Its live run, as loop-tick shows it. */
	live = json_array_get(json_object_get(d, "live"), 0);
	json_object_set_new(*out, "live",
			    live ? json_pack("{s:O, s:O, s:O}", "sprint_id",
					     json_object_get(live, "sprint_id"),
					     "state",
					     json_object_get(live, "state"),
					     "phase",
					     json_object_get(live, "phase"))
				 : json_null());
	json_object_set(*out, "next_step", json_object_get(d, "next_step"));
	json_decref(d);
	return 0;
}

static int loop_status_run(struct ctx *ctx, const json_t *spec,
			   json_t **data, struct err *err)
{
	const char *id = json_string_value(json_object_get(spec, "loop_id"));
	const json_t *limit = json_object_get(spec, "limit");
	json_t *row = NULL, *rows = NULL, *list, *view = NULL;
	char *next = NULL;
	size_t i;
	int r = -1;

	if (id) {
		if (loop_get(ctx->journal, &row, id, err) < 0 ||
		    detail(ctx, &view, row, err) < 0)
			goto out;
		*data = json_pack("{s:o, s:[o], s:I, s:n}", "loop", view,
				  "loops", json_incref(view), "count",
				  (json_int_t)1, "next");
		r = 0;
		goto out;
	}
	if (loop_page(ctx->journal, &rows, &next,
		      json_string_value(json_object_get(spec, "study")),
		      json_string_value(json_object_get(spec, "state")),
		      limit ? (int)json_integer_value(limit)
			    : LOOP_STATUS_DEFAULT_LIMIT,
		      json_string_value(json_object_get(spec, "cursor")),
		      err) < 0)
		goto out;
	list = json_array();
	for (i = 0; i < json_array_size(rows); i++)
		json_array_append_new(list,
				      loop_public(json_array_get(rows, i)));
	*data = json_pack("{s:n, s:o, s:I, s:s?}", "loop", "loops", list,
			  "count", (json_int_t)json_array_size(list), "next",
			  next);
	if (!next)
		json_object_set_new(*data, "next", json_null());
	r = 0;
out:
	free(next);
	json_decref(row);
	json_decref(rows);
	return r;
}

static const enum err_code loop_status_errors[] = { ERR_NOT_FOUND,
						    ERR_NONE };

const struct primitive prim_loop_status = {
	.name = "loop-status",
	.summary = "Show where a loop stands, or list the loops",
	.description =
		"With `loop_id`: the loop's state, iteration, budget and "
		"what it spent (runs, hours it ran, dollars), its live run, "
		"its best and three newest results, the counts by status "
		"and `next_step`. Without: one page of loops, newest first "
		"(`study`, `state` filter it; `limit`, default 50, and "
		"`next` page it). It only reads: `loop-tick` advances a "
		"loop.",
	.example = "{\"study\": \"demo\"}",
	.flags = PRIM_NEEDS_JOURNAL | PRIM_NEEDS_CONFIG | PRIM_READ_SAFE |
		 PRIM_HTTP,
	.errors = loop_status_errors,
	.handler = loop_status_run,
};
