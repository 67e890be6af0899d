/*
 * recall: what past campaigns set out to do and what became of them.
 * One page of the intents `interview` recorded, newest first, by study
 * and by text in the goal, each with the runs of its study since (counts
 * by status, the parameter ranges actually tried, the best run with its
 * sprint and commit).  Bounded: see memory.h.  It only reads.
 */
#include <stdlib.h>

#include "journal.h"
#include "memory.h"
#include "primitive.h"
#include "banned.h"

static int recall_run(struct ctx *ctx, const json_t *spec, json_t **data,
		      struct err *err)
{
	const json_t *limit = json_object_get(spec, "limit");
	const char *cursor =
	    json_string_value(json_object_get(spec, "cursor"));
	struct memory_query q;
	json_t *list = NULL;
	int64_t total, next;

	q.study = json_string_value(json_object_get(spec, "study"));
	q.text = json_string_value(json_object_get(spec, "text"));
	q.limit = limit ? (int)json_integer_value(limit) : MEMORY_LIMIT_DEFAULT;
	q.before = cursor ? strtoll(cursor, NULL, 10) : 0;
	if (memory_recall(ctx->journal, &list, &total, &next, ctx->config, &q,
			  err) < 0)
		return -1;
	*data = json_pack("{s:o, s:I, s:I}", "campaigns", list, "count",
			  (json_int_t)json_array_size(list), "total_matching",
			  (json_int_t)total);
	if (next > 0)
		json_object_set_new(*data, "next",
				    json_sprintf("%lld", (long long)next));
	else
		json_object_set_new(*data, "next", json_null());
	return 0;
}

static const enum err_code recall_errors[] = { ERR_NONE };

const struct primitive prim_recall = {
	.name = "recall",
	.summary = "What past campaigns set out to do and what became of "
		   "them",
	.description =
		"One page of the intents `interview` recorded, newest "
		"first (`study` and `text`, a substring of the goal in any "
		"ASCII case, filter them; `limit`, default 10 and at most "
		"50, and `cursor` page them), each with what happened "
		"since, up to the next interview of its study: the runs by "
		"status, the parameter ranges the runs actually tried (min "
		"and max of numbers, the most frequent values of the "
		"others), and the best run that ran, in the study's metric "
		"direction, with its sprint and commit. Long text is cut "
		"to 400 bytes (`truncated`). It only reads.",
	.example = "{\"study\": \"demo\", \"text\": \"learning rate\"}",
	.flags = PRIM_NEEDS_JOURNAL | PRIM_NEEDS_CONFIG | PRIM_READ_SAFE |
		 PRIM_HTTP,
	.errors = recall_errors,
	.handler = recall_run,
};
