/*
 * ledger: a study's (or a loop's) results, one page at a time, with the
 * best, the trend and the counts, as JSON rows or as the tab-separated
 * results.tsv autoresearch users know (id, metric, status,
 * description).
 */
#include <stdlib.h>
#include <string.h>

#include "carry.h"
#include "config.h"
#include "journal.h"
#include "ledger.h"
#include "loop.h"
#include "primitive.h"
#include "banned.h"

/* The page size when the spec gives none (DESIGN §12). */
#define LEDGER_DEFAULT_LIMIT 50
/* The trend's window, in runs. */
#define LEDGER_TREND_WINDOW 10

static int ledger_run(struct ctx *ctx, const json_t *spec, json_t **data,
		      struct err *err)
{
	const json_t *limit = json_object_get(spec, "limit");
	const char *cursor = json_string_value(json_object_get(spec,
							       "cursor"));
	const char *format = json_string_value(json_object_get(spec,
							       "format"));
	struct ledger_query q;
	struct ledger_metric m;
	struct err ignored = ERR_INIT;
	json_t *loop = NULL, *rows = NULL, *best = NULL, *trend = NULL;
	json_t *counts = NULL, *out, *code = NULL;
	const char *diff = json_string_value(json_object_get(spec, "diff"));
	const char *study, *loop_id = NULL;
	int64_t next = 0;
	int have_metric, r = -1;
	char *tsv;

	if (loop_scope(ctx->journal, &study, &loop, ctx->config,
		       json_string_value(json_object_get(spec, "study")),
		       json_string_value(json_object_get(spec, "loop_id")),
		       err) < 0)
		goto out;
	if (loop)
		loop_id = json_string_value(json_object_get(loop, "id"));
	have_metric = ledger_metric_of(&m, config_study(ctx->config, study),
				       study, &ignored) == 0;
	err_release(&ignored);
	memset(&q, 0, sizeof(q));
	q.study = study;
	q.loop_id = loop_id;
	q.status = json_string_value(json_object_get(spec, "status"));
	q.limit = limit ? (int)json_integer_value(limit)
			: LEDGER_DEFAULT_LIMIT;
	q.after = cursor ? strtoll(cursor, NULL, 10) : 0;
	if (ledger_page(ctx->journal, &rows, &next, &q, err) < 0 ||
	    ledger_counts(ctx->journal, &counts, study, loop_id, err) < 0 ||
	    (have_metric && ledger_best(ctx->journal, &best, study, loop_id,
					&m, err) < 0) ||
	    (have_metric && ledger_trend(ctx->journal, &trend, study, loop_id,
					 &m, LEDGER_TREND_WINDOW, err) < 0))
		goto out;
	out = json_pack("{s:s, s:s?, s:o, s:I, s:O, s:o, s:o}", "study", study,
			"loop_id", loop_id, "metric",
			have_metric ? json_pack("{s:s, s:s}", "name", m.name,
						"direction",
						m.maximize ? "maximize"
							   : "minimize")
				    : json_null(),
			"count", (json_int_t)json_array_size(rows), "counts",
			counts, "best", best ? json_incref(best) : json_null(),
			"trend", trend ? json_incref(trend) : json_null());
	if (!loop_id)
		json_object_set_new(out, "loop_id", json_null());
	if (next) {
		char buf[32];

		snprintf(buf, sizeof(buf), "%lld", (long long)next);
		json_object_set_new(out, "next", json_string(buf));
	} else {
		json_object_set_new(out, "next", json_null());
	}
	if (carry_state(ctx->journal, &code, study, err) < 0)
		goto fail;
	json_object_set_new(out, "code", code ? code : json_null());
	if (diff) {
		if (carry_diff(ctx->journal, &code, ctx->config, study, diff,
			       err) < 0)
			goto fail;
		json_object_set_new(out, "diff", code);
	}
	if (format && !strcmp(format, "tsv")) {
		tsv = ledger_tsv(rows);
		json_object_set_new(out, "tsv", json_string(tsv));
		free(tsv);
	} else {
		json_object_set(out, "rows", rows);
	}
	*data = out;
	r = 0;
	goto out;
fail:
	json_decref(out);
out:
	json_decref(loop);
	json_decref(rows);
	json_decref(counts);
	json_decref(best);
	json_decref(trend);
	return r;
}

static const enum err_code ledger_errors[] = {
	ERR_NOT_FOUND,	     ERR_PRECONDITION_FAILED, ERR_SSH_UNREACHABLE,
	ERR_REMOTE_COMMAND_FAILED, ERR_TIMEOUT,	      ERR_NONE
};

const struct primitive prim_ledger = {
	.name = "ledger",
	.summary = "List a study's or a loop's results with the best, the "
		   "trend and a results.tsv export",
	.description =
		"One page of the ledger, oldest first (`limit`, default 50; "
		"`next` continues it), optionally of one `status`: each row "
		"with its metric, status (keep, discard, crash, timeout, "
		"requeued), baseline flag, description, analysis summary, "
		"parameters, commit, cost and the decision that gave its "
		"status. Beside the page: `best` (the best kept row), "
		"`trend` over the last 10 runs, and `counts` by status "
		"(`runs` leaves out requeued ones, which do not count "
		"against a loop's budget). `format: \"tsv\"` gives the page "
		"as tab-separated text with the columns id, metric, status "
		"and description instead of rows. For a study with `code`, "
		"`code` says which commit its first run started from and "
		"which is the best (where the next run starts); `diff: "
		"\"sp-...\"` adds `git diff BEST RUN`, the best commit "
		"against the one that run produced, run on the study's "
		"cluster and cut at 64 KiB.",
	.example = "{\"study\": \"demo\", \"format\": \"tsv\"}",
	.flags = PRIM_NEEDS_JOURNAL | PRIM_NEEDS_CONFIG | PRIM_READ_SAFE |
		 PRIM_HTTP,
	.errors = ledger_errors,
	.handler = ledger_run,
};
