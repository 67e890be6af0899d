/*
 * observe.h: asking a cluster's scheduler about jobs, the only way to do
 * it (DESIGN §5).
 *
 * Schedulers are shared systems: a query of a shared scheduler (SLURM,
 * SGE; sched_ops.shared) takes a token from the cluster's query budget,
 * kept in the journal so that every process on the account shares it: a
 * token bucket of 'query_burst' tokens refilled at one per
 * 'query_interval_s'.  The answer is stored beside the budget and served
 * to every caller until the next token is due, so a status call inside
 * that window asks no scheduler and opens no connection.  A scheduler
 * that is cheap to ask (local) is asked on every call.
 *
 * Scheduler and transport code never touch the journal: this module is
 * above both, and the journal is locked only for the short moments of
 * taking a token and storing an answer, never across the query.
 */
#ifndef HPCLOOP_OBSERVE_H
#define HPCLOOP_OBSERVE_H

#include <jansson.h>

#include "err.h"

struct cluster;
struct journal;

/* What observe_jobs() learnt about a set of jobs. */
struct observation {
	json_t *states;		/* {job_id: {"state", "evidence"}} (owned),
				   or NULL when nothing is known */
	int queried;		/* 1: the scheduler was asked by this call */
	int cached;		/* 1: 'states' is an earlier answer */
	double age_s;		/* how old 'states' is, in seconds */
	double next_query_in_s;	/* when the budget allows the next query */
};

#define OBSERVATION_INIT { NULL, 0, 0, 0, 0 }

void observation_release(struct observation *o);

/*
 * The states of the jobs in the array 'job_ids' (borrowed) on the open
 * cluster 'c', within its budget (see above), into 'out'.  Jobs the
 * cached answer does not cover are left out of 'states'.  A scheduler
 * that cannot be asked is an error from the scheduler (ssh_unreachable,
 * scheduler_unavailable, ...); nothing is recorded then.  Must be called
 * outside a transaction.
 */
int observe_jobs(struct journal *j, struct observation *out,
		 struct cluster *c, const json_t *job_ids, struct err *err);

/*
 * What the journal holds of the budget of the cluster 'cluster', whose
 * bucket has 'burst' tokens refilled at one per 'interval_s': a new
 * object {"tokens" (now, refill counted), "queries" (made so far),
 * "answer_age_s" (of the cached answer, or null)} in '*out', or NULL
 * when the cluster has never been asked.  Reads only.
 */
int observe_budget_state(struct journal *j, json_t **out, const char *cluster,
			 double interval_s, double burst, struct err *err);

/* The budget's parameters of cluster 'c', as config loading filled them. */
int observe_budget_of(const struct cluster *c, double *interval_s_out,
		      double *burst_out, struct err *err);

#endif
