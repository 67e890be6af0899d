/*
 * heartbeat-ingest: store one heartbeat or a batch for a sprint.  Both
 * ways heartbeats come in go through here: push (the server's webhook)
 * and pull (`status` reading heartbeats.jsonl).  A repeated seq is
 * ignored, so replays are harmless; a terminal sprint refuses them.
 */
#include "journal.h"
#include "primitive.h"
#include "sprint.h"
#include "banned.h"

static int heartbeat_ingest_run(struct ctx *ctx, const json_t *spec,
				json_t **data, struct err *err)
{
	const char *id = json_string_value(json_object_get(spec,
							    "sprint_id"));
	const char *source = json_string_value(json_object_get(spec,
								"source"));
	json_t *beats = json_incref(json_object_get(spec, "heartbeats"));
	json_t *row = NULL;
	int stored, r = -1;

	if (!beats)
		beats = json_pack("[O]", json_object_get(spec, "heartbeat"));
	if (sprint_ingest_heartbeats(ctx->journal, &stored, id, beats,
				     source ? source : "cli", err) < 0 ||
	    sprint_get(ctx->journal, &row, id, err) < 0)
		goto out;
	ctx->replayed = stored == 0;
	*data = json_pack("{s:s, s:i, s:I, s:O, s:O}", "sprint_id", id,
			  "stored", stored, "received",
			  (json_int_t)json_array_size(beats), "state",
			  json_object_get(row, "state"), "phase",
			  json_object_get(row, "phase"));
	r = 0;
out:
	json_decref(row);
	json_decref(beats);
	return r;
}

static const enum err_code heartbeat_ingest_errors[] = { ERR_NOT_FOUND,
							 ERR_CONFLICT,
							 ERR_NONE };

const struct primitive prim_heartbeat_ingest = {
	.name = "heartbeat-ingest",
	.summary = "Store heartbeats of a running sprint",
	.description = "Give one `heartbeat` or a batch in `heartbeats`, "
		       "each with its `seq` (1 or more). A heartbeat moves a "
		       "submitted sprint to running (never a pending one: "
		       "its job id must be known first) and updates its "
		       "phase; it never "
		       "touches the sprint's stored metadata. A seq already "
		       "stored is ignored (a call that stores nothing "
		       "answers \"idempotent\": true). A finished sprint "
		       "refuses heartbeats with `conflict`.",
	.example = "{\"sprint_id\": \"sp-000000\", \"heartbeat\": {\"seq\": 1, "
		   "\"phase\": \"running (research)\"}}",
	.flags = PRIM_MUTATES | PRIM_IDEMPOTENT | PRIM_NEEDS_JOURNAL |
		 PRIM_HTTP,
	.errors = heartbeat_ingest_errors,
	.handler = heartbeat_ingest_run,
};
