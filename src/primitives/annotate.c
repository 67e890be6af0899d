/*
 * annotate: record a note in the journal's event stream, so that an
 * agent or a person can leave the reasoning behind a decision where the
 * rest of the history is.  Replayed by idempotency key.
 */
#include "journal.h"
#include "primitive.h"
#include "banned.h"

static int annotate_run(struct ctx *ctx, const json_t *spec, json_t **data,
			struct err *err)
{
	const char *subject =
		json_string_value(json_object_get(spec, "subject"));
	json_t *ev;
	json_int_t id = 0;
	int64_t id64;
	int r;

	ev = json_pack("{s:O, s:O?}", "text", json_object_get(spec, "text"),
		       "data", json_object_get(spec, "data"));
	r = journal_event(ctx->journal, &id64, "note", subject, ev, err);
	json_decref(ev);
	if (r < 0)
		return -1;
	id = (json_int_t)id64;
	*data = json_pack("{s:I, s:s?}", "event_id", id, "subject", subject);
	return 0;
}

static const enum err_code annotate_errors[] = { ERR_CONFLICT, ERR_NONE };

const struct primitive prim_annotate = {
	.name = "annotate",
	.summary = "Record a note in the journal's event stream",
	.description = "Appends a `note` event (text, optional subject and "
		       "data). Repeating the same spec, or the same "
		       "`idempotency_key`, returns the first result with "
		       "\"idempotent\": true and writes nothing; reusing a "
		       "key with a different spec is `conflict`.",
	.example = "{\"subject\": \"demo\", \"text\": \"baseline looks "
		   "noisy; trying lr 3e-4 next\"}",
	.flags = PRIM_MUTATES | PRIM_CREATES | PRIM_KEYED | PRIM_NEEDS_JOURNAL |
		 PRIM_HTTP,
	.errors = annotate_errors,
	.handler = annotate_run,
};
