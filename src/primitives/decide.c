/*
 * decide: would this value be kept?  The value is compared with the best
 * kept so far in the study's metric direction, with the minimum delta
 * (the study's min_improvement unless min_delta is given); when repeat
 * runs of the baseline are in the ledger the gain must also beat
 * noise_k standard deviations of those runs, and the answer says so.
 * Nothing is written: record-result records a run.
 */
#include <string.h>

#include "config.h"
#include "journal.h"
#include "ledger.h"
#include "loop.h"
#include "primitive.h"
#include "banned.h"

static int decide_run(struct ctx *ctx, const json_t *spec, json_t **data,
		      struct err *err)
{
	const json_t *value = json_object_get(spec, "value");
	const json_t *delta = json_object_get(spec, "min_delta");
	struct ledger_reference ref;
	struct ledger_verdict v;
	struct ledger_metric m;
	const char *study;
	json_t *loop = NULL, *best = NULL, *out;
	int r = -1;

	if (loop_scope(ctx->journal, &study, &loop, ctx->config,
		       json_string_value(json_object_get(spec, "study")),
		       json_string_value(json_object_get(spec, "loop_id")),
		       err) < 0 ||
	    ledger_metric_of(&m, config_study(ctx->config, study), study,
			     err) < 0 ||
	    ledger_reference_of(ctx->journal, &ref, study, &m, err) < 0 ||
	    ledger_best(ctx->journal, &best, study, NULL, &m, err) < 0)
		goto out;
	ledger_decide(&v, &m,
		      json_is_number(delta) ? json_number_value(delta)
					    : m.min_improvement,
		      &ref, json_is_number(value), json_number_value(value));
	out = ledger_verdict_json(&v, &ref);
	json_object_set_new(out, "value",
			    json_is_number(value)
				    ? json_real(json_number_value(value))
				    : json_null());
	json_object_set_new(out, "study", json_string(study));
	json_object_set_new(out, "metric",
			    json_pack("{s:s, s:s}", "name", m.name, "direction",
				      m.maximize ? "maximize" : "minimize"));
	json_object_set_new(out, "best", best ? best : json_null());
	best = NULL;
	*data = out;
	r = 0;
out:
	json_decref(loop);
	json_decref(best);
	return r;
}

static const enum err_code decide_errors[] = {
	ERR_NOT_FOUND, ERR_PRECONDITION_FAILED, ERR_NONE
};

const struct primitive prim_decide = {
	.name = "decide",
	.summary = "Say whether a metric value would be kept, discarded or "
		   "a crash against the best so far",
	.description =
		"Compares `value` with the best kept result of the study (a "
		"loop's study when `loop_id` is given) in its metric's "
		"direction: kept only when the gain exceeds the threshold, "
		"which is `min_delta` (default: the study's "
		"min_improvement), raised to noise_k standard deviations of "
		"the baseline runs when two or more are in the ledger "
		"(`noise` says so, and the reference is then the better of "
		"the best and the baseline mean). An equal value is a "
		"discard; no value is a crash; the first value of a study is "
		"kept. Nothing is written: `record-result` records.",
	.example = "{\"study\": \"demo\", \"value\": 0.48}",
	.flags = PRIM_NEEDS_JOURNAL | PRIM_NEEDS_CONFIG | PRIM_READ_SAFE |
		 PRIM_HTTP,
	.errors = decide_errors,
	.handler = decide_run,
};
