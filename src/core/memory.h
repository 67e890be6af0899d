/*
 * memory.h: campaign memory.  The intent of each campaign (what the
 * `interview` primitive is told: its goal, budget, task count, abort
 * rule, parameters and notes) and what became of it (what `recall`
 * answers: the runs of its study since, by status, the parameter ranges
 * they actually tried, and the best of them), so that an agent starting
 * a campaign can read what earlier ones wanted and got without reading
 * whole ledgers.
 *
 * This module is the only writer of the interviews table.  An intent's
 * campaign runs from the result its study's ledger had reached when it
 * was given up to the one the next intent of the same study starts
 * from (or up to now).  Everything recall returns is bounded: a page of
 * at most MEMORY_LIMIT_MAX campaigns, text cut to MEMORY_TEXT_MAX bytes
 * (what an intent says of each parameter to MEMORY_PARAM_MAX), at most
 * MEMORY_PARAMS_MAX parameters tried with MEMORY_VALUES_MAX values each.
 */
#ifndef HPCLOOP_MEMORY_H
#define HPCLOOP_MEMORY_H

#include <stdint.h>

#include <jansson.h>

#include "err.h"

struct config;
struct journal;

#define MEMORY_ID_MAX 16
#define MEMORY_LIMIT_DEFAULT 10
#define MEMORY_LIMIT_MAX 50
#define MEMORY_TEXT_MAX 400
#define MEMORY_PARAM_MAX 200
#define MEMORY_PARAMS_MAX 32
#define MEMORY_VALUES_MAX 10

/*
 * Record the intent 'intent' (an object, borrowed: goal, and budget,
 * task_count, abort_if, parameters, notes when given) of a campaign of
 * 'study' (whose row must exist), with an "interview.recorded" event, in
 * the caller's transaction.  '*out' is its public view (new):
 * {interview_id, study, goal, budget, task_count, abort_if, parameters,
 * notes, after_result_id, created_at}, absent members null.
 */
int memory_interview(struct journal *j, json_t **out, const char *study,
		     const json_t *intent, struct err *err);

/* Which intents memory_recall() returns. */
struct memory_query {
	const char *study; /* only this study's, or NULL */
	const char *text;  /* only goals holding it (ASCII case folded) */
	int limit;	   /* page size, 1..MEMORY_LIMIT_MAX */
	int64_t before;	   /* the cursor: intents older than it, or 0 */
};

/*
 * One page of intents matching 'q', newest first, each with what
 * happened since (see recall.output.json): '*out' a new array,
 * '*total_out' how many intents match in all, '*next_out' the cursor of
 * the next page (0 on the last).  The best run is judged in the metric
 * direction of the study in 'cfg' (none when the study or its metric is
 * gone from the config).
 */
int memory_recall(struct journal *j, json_t **out, int64_t *total_out,
		  int64_t *next_out, const struct config *cfg,
		  const struct memory_query *q, struct err *err);

#endif
