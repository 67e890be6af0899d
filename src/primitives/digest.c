/*
 * digest: a bounded, token-cheap summary of a study or a loop for an
 * agent's context (digest.h), so that no agent reads whole ledgers and
 * logs.
 */
#include "config.h"
#include "digest.h"
#include "journal.h"
#include "loop.h"
#include "primitive.h"
#include "banned.h"

/* How many newest results a digest lists when the spec says nothing. */
#define DIGEST_DEFAULT_LAST 5

static int digest_run(struct ctx *ctx, const json_t *spec, json_t **data,
		      struct err *err)
{
	const json_t *last = json_object_get(spec, "last");
	const char *study;
	json_t *loop = NULL;
	int r;

	if (loop_scope(ctx->journal, &study, &loop, ctx->config,
		       json_string_value(json_object_get(spec, "study")),
		       json_string_value(json_object_get(spec, "loop_id")),
		       err) < 0)
		return -1;
	r = digest_build(ctx->journal, data, ctx->config, study,
			 loop ? json_string_value(json_object_get(loop, "id"))
			      : NULL,
			 last ? (int)json_integer_value(last)
			      : DIGEST_DEFAULT_LAST,
			 err);
	json_decref(loop);
	return r;
}

static const enum err_code digest_errors[] = { ERR_NOT_FOUND, ERR_NONE };

const struct primitive prim_digest = {
	.name = "digest",
	.summary = "Summarise a study or a loop in a few kilobytes for an "
		   "agent's context",
	.description =
		"The best result, the `last` newest (default 5, at most 20), "
		"the trend, the counts by status, the live runs, the newest "
		"meta-analysis's top hypotheses and whether one is due, the "
		"loop's state and budget when `loop_id` is given, and "
		"`next_step`: what is due next, as a command. Texts are "
		"clipped (descriptions to 160 bytes, summaries to 240) and "
		"lists are short, so the answer stays small whatever the "
		"ledger holds: read it instead of the ledger and the logs.",
	.example = "{\"study\": \"demo\"}",
	.flags = PRIM_NEEDS_JOURNAL | PRIM_NEEDS_CONFIG | PRIM_READ_SAFE |
		 PRIM_HTTP,
	.errors = digest_errors,
	.handler = digest_run,
};
