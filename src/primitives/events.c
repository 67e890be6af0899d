/*
 * events: read the append-only event stream from a cursor, which is how
 * agents tail what happened (`hpcloop events --since N`).
 */
#include "journal.h"
#include "primitive.h"
#include "banned.h"

static int events_run(struct ctx *ctx, const json_t *spec, json_t **data,
		      struct err *err)
{
	json_int_t since = 0, limit = 100, next;
	json_t *v, *events = NULL;

	v = json_object_get(spec, "since");
	if (v)
		since = json_integer_value(v);
	v = json_object_get(spec, "limit");
	if (v)
		limit = json_integer_value(v);
	if (journal_events(ctx->journal, &events, since, (int)limit,
			   json_string_value(json_object_get(spec, "type")),
			   json_string_value(json_object_get(spec,
							     "subject")),
			   err) < 0)
		return -1;
	next = since;
	if (json_array_size(events))
		next = json_integer_value(json_object_get(
			json_array_get(events, json_array_size(events) - 1),
			"id"));
	*data = json_pack("{s:o, s:I, s:I}", "events", events, "count",
			  (json_int_t)json_array_size(events), "next", next);
	return 0;
}

static const enum err_code events_errors[] = { ERR_NONE };

const struct primitive prim_events = {
	.name = "events",
	.summary = "Read journal events after a cursor, oldest first",
	.description = "Pass the returned `next` as `since` to read on from "
		       "where the last call stopped; an empty page returns "
		       "the same cursor. Filter by `type` or `subject` "
		       "(a sprint, loop or study id).",
	.example = "{\"since\": 0, \"limit\": 10}",
	.flags = PRIM_IDEMPOTENT | PRIM_NEEDS_JOURNAL | PRIM_HTTP,
	.errors = events_errors,
	.handler = events_run,
};
