/*
 * events: read the append-only event stream from a cursor, which is how
 * agents tail what happened: `{"tail": 50}` for the newest, then
 * `{"since": NEXT}` to follow on.
 */
#include "journal.h"
#include "primitive.h"
#include "banned.h"

/* The page size when the spec gives none (DESIGN §12). */
#define EVENTS_DEFAULT_LIMIT 50

static int events_run(struct ctx *ctx, const json_t *spec, json_t **data,
		      struct err *err)
{
	struct journal_event_query q = { 0, EVENTS_DEFAULT_LIMIT, 0, NULL,
					 NULL };
	json_t *v, *events = NULL;
	json_int_t next;
	int64_t last;

	v = json_object_get(spec, "since");
	if (v)
		q.since = json_integer_value(v);
	v = json_object_get(spec, "limit");
	if (v)
		q.limit = (int)json_integer_value(v);
	v = json_object_get(spec, "tail");
	if (v) {
		if (json_object_get(spec, "since") ||
		    json_object_get(spec, "limit")) {
			err_set(err, ERR_SPEC_INVALID,
				"give tail alone, or since and limit");
			return err_remedy(err, "use {\"tail\": N} for the "
					  "newest N events, then {\"since\": "
					  "next} to follow on");
		}
		q.tail = 1;
		q.limit = (int)json_integer_value(v);
	}
	q.type = json_string_value(json_object_get(spec, "type"));
	q.subject = json_string_value(json_object_get(spec, "subject"));
	if (journal_events(ctx->journal, &events, &q, err) < 0)
		return -1;
	next = q.since;
	if (json_array_size(events))
		next = json_integer_value(json_object_get(
			json_array_get(events, json_array_size(events) - 1),
			"id"));
	else if (q.tail && journal_last_event_id(ctx->journal, &last, err) == 0)
		next = last;
	*data = json_pack("{s:o, s:I, s:I}", "events", events, "count",
			  (json_int_t)json_array_size(events), "next", next);
	return 0;
}

static const enum err_code events_errors[] = { ERR_NOT_FOUND, ERR_NONE };

const struct primitive prim_events = {
	.name = "events",
	.summary = "Read journal events: the newest with tail, or on from a "
		   "cursor",
	.description = "`{\"tail\": N}` returns the newest N events, oldest "
		       "first; pass the returned `next` as `since` to read on "
		       "from where the last call stopped (an empty page "
		       "returns the same cursor). Filter by `type` or "
		       "`subject` (a sprint, loop or study id). Pages hold "
		       "50 events unless `limit` says otherwise.",
	.example = "{\"tail\": 10}",
	.flags = PRIM_IDEMPOTENT | PRIM_NEEDS_JOURNAL | PRIM_READ_SAFE |
		 PRIM_HTTP,
	.errors = events_errors,
	.handler = events_run,
};
