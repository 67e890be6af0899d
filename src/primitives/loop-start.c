/*
 * loop-start: start an unattended loop of a study: 'count' iterations,
 * each an idea (from the agent or the builtin proposer) run as a sprint,
 * recorded, decided and learnt from, advanced by loop-tick.  Everything
 * the loop will need is checked first: the study allows loops, declares
 * a metric, and (for the builtin proposer) a parameter space.
 */
#include <stdio.h>
#include <string.h>

#include "buf.h"
#include "config.h"
#include "idem.h"
#include "journal.h"
#include "loop.h"
#include "primitive.h"
#include "proposer.h"
#include "banned.h"

/* Check that 'study' can run the loop 'spec' asks for. */
static int check_study(struct ctx *ctx, const char *study,
		       const json_t *spec, struct err *err)
{
	const json_t *conf = config_study(ctx->config, study);
	const char *mode = json_string_value(json_object_get(spec, "mode"));
	const char *proposer = json_string_value(json_object_get(spec,
								 "proposer"));
	struct proposer_space space;
	char where[128];

	if (!conf) {
		err_set(err, ERR_NOT_FOUND, "no study '%s' in %s", study,
			ctx->config_path);
		return err_remedy(err, "`hpcloop study-list` lists the "
				  "studies of hpcloop.yaml");
	}
	if (!json_is_true(json_object_get(conf, "allow_loop"))) {
		err_set(err, ERR_PRECONDITION_FAILED,
			"study '%s' does not allow loops", study);
		return err_remedy(err, "set allow_loop: true for the study in "
				  "hpcloop.yaml");
	}
	if (!json_is_object(json_object_get(conf, "metric"))) {
		err_set(err, ERR_PRECONDITION_FAILED,
			"study '%s' declares no metric: a loop keeps or "
			"discards each run by it", study);
		return err_remedy(err, "add metric: {name, direction} to the "
				  "study in hpcloop.yaml");
	}
	if (!strcmp(mode, "campaign")) {
		err_set(err, ERR_PRECONDITION_FAILED,
			"loops whose iterations are campaigns are not built "
			"yet");
		return err_remedy(err, "use mode sprint; a campaign runs on "
				  "its own with submit-flow's campaign mode");
	}
	if (!strcmp(proposer, "builtin")) {
		if (!json_object_get(conf, "params")) {
			err_set(err, ERR_PRECONDITION_FAILED,
				"study '%s' declares no params: the builtin "
				"proposer searches them", study);
			return err_remedy(err, "add params to the study, or "
					  "use the agent proposer");
		}
		snprintf(where, sizeof(where), "studies.%s", study);
		if (proposer_space_parse(&space, json_object_get(conf,
								 "params"),
					 where, err) < 0)
			return -1;
	}
	return 0;
}

/* The budget of 'spec'. */
static void budget_of(struct loop_budget *b, const json_t *spec)
{
	memset(b, 0, sizeof(*b));
	b->count = (int)json_integer_value(json_object_get(spec, "count"));
	b->max_runs = (int)json_integer_value(json_object_get(spec,
							      "max_runs"));
	b->max_hours = json_number_value(json_object_get(spec, "max_hours"));
	b->max_usd = json_number_value(json_object_get(spec, "max_usd"));
	b->stop_on_failure = json_is_true(json_object_get(spec,
							  "stop_on_failure"));
	b->run_budget_s = (int)json_integer_value(json_object_get(
		spec, "run_budget_s"));
}

static int loop_start_run(struct ctx *ctx, const json_t *spec,
			  json_t **data, struct err *err)
{
	const char *study = json_string_value(json_object_get(spec, "study"));
	struct loop_new n;
	struct idem_key k;
	json_t *row = NULL;
	const json_t *key = json_object_get(spec, "idempotency_key");
	struct buf step = BUF_INIT;
	int found;

	if (check_study(ctx, study, spec, err) < 0)
		return -1;
	/* Replayed by key only when the caller gave one. */
	if (key) {
		idem_key_of(&k, spec);
		found = idem_lookup(ctx->journal, data, ctx->prim->name, &k,
				    err);
		if (found < 0)
			return -1;
		if (found) {
			ctx->replayed = 1;
			return 0;
		}
	}
	memset(&n, 0, sizeof(n));
	n.study = study;
	n.cluster = json_string_value(json_object_get(
		config_study(ctx->config, study), "cluster"));
	n.mode = json_string_value(json_object_get(spec, "mode"));
	n.proposer = json_string_value(json_object_get(spec, "proposer"));
	n.guidance = json_string_value(json_object_get(spec, "guidance"));
	budget_of(&n.budget, spec);
	if (loop_create(ctx->journal, &row, &n, err) < 0)
		return -1;
	*data = loop_public(row);
	buf_addf(&step, "`hpcloop loop-tick --spec '{\"loop_id\": \"%s\"}'` "
			"proposes and submits its first run; run it from cron "
			"or an agent until the loop finishes",
		 json_string_value(json_object_get(row, "id")));
	json_object_set_new(*data, "next_step", json_string(buf_str(&step)));
	buf_release(&step);
	json_decref(row);
	if (key && idem_store(ctx->journal, ctx->prim->name, &k,
			      json_string_value(json_object_get(*data,
								"loop_id")),
			      *data, err) < 0) {
		json_decref(*data);
		*data = NULL;
		return -1;
	}
	return 0;
}

static const enum err_code loop_start_errors[] = {
	ERR_NOT_FOUND, ERR_CONFLICT, ERR_PRECONDITION_FAILED, ERR_NONE
};

const struct primitive prim_loop_start = {
	.name = "loop-start",
	.summary = "Start an unattended research loop of a study, driven by "
		   "loop-tick",
	.description =
		"Creates a running loop of `count` iterations of the study: "
		"each tick records what finished, decides keep or discard, "
		"meta-analyzes when due, proposes the next idea (`proposer` "
		"agent or builtin) and submits it as a sprint (`mode` "
		"sprint; loops of campaigns are not built yet; campaigns run on their own with submit-flow). The budget "
		"fields stop it early: `max_runs` (runs that count; "
		"requeued ones do not), `max_hours` (time it ran, stopped "
		"time aside), `max_usd` (its sprints' and agents' cost), "
		"`stop_on_failure` (finish at the first crash or timeout; "
		"by default a failed run is recorded as a crash and the "
		"loop goes on), and `run_budget_s`: a run past twice this "
		"is stopped and recorded as a timeout. The study must have "
		"allow_loop, a metric and, for the builtin proposer, "
		"params. With an `idempotency_key` a repeat answers with "
		"the first loop.",
	.example = "{\"study\": \"demo\", \"count\": 3, \"mode\": \"sprint\", "
		   "\"proposer\": \"agent\", \"max_hours\": 8}",
	.flags = PRIM_MUTATES | PRIM_CREATES | PRIM_NEEDS_JOURNAL |
		 PRIM_NEEDS_CONFIG | PRIM_HTTP,
	.errors = loop_start_errors,
	.handler = loop_start_run,
};
