/*
 * campaign_internal.h: what campaign.c (the journal side: rows, states,
 * show, tick) and campaign_run.c (the cluster side: files, submissions,
 * canary, aggregation) share.  Not for other modules: campaign.h is the
 * interface.
 */
#ifndef HPCLOOP_CAMPAIGN_INTERNAL_H
#define HPCLOOP_CAMPAIGN_INTERNAL_H

#include <jansson.h>

#include "err.h"

struct config;

struct cluster;
struct journal;

/* The campaigns row of 'id' (new) or NULL in '*out'; not_found. */
int cp_row(struct journal *j, json_t **out, const char *id,
	   struct err *err);

/*
 * Insert the new campaign 'id' with its tasks (parameter objects) and
 * its planned submissions (rows {n, wave, tasks, kind, array_limit}),
 * state pending, with an event; inside the caller's transaction.
 */
int cp_insert(struct journal *j, const char *id, const char *study,
	      const char *cluster, const char *dir, const json_t *spec,
	      const json_t *tasks, const json_t *subs, int canary,
	      const char *loop_id, struct err *err);

/* Its submissions, oldest first, as a new array of rows. */
int cp_submissions(struct journal *j, json_t **out, const char *id,
		   struct err *err);

/*
 * Record that submission 'n' of campaign 'id' is the scheduler's job
 * 'job_id', whose tasks have the ids 'task_job_ids' (an array, one per
 * line of its task list), with an event; in one transaction.
 */
int cp_record_submission(struct journal *j, const char *id, int n,
			 const char *job_id, const json_t *task_job_ids,
			 struct err *err);

/* Set campaign 'id' to 'state' with 'error' (may be NULL) and an event;
   inside the caller's transaction. */
int cp_set_state(struct journal *j, const char *id, const char *state,
		 const char *error, struct err *err);

/* Set the canary mark of campaign 'id' (2 passed, 3 failed). */
int cp_set_canary(struct journal *j, const char *id, int mark,
		  struct err *err);

/*
 * Add submission 'n' of kind 'kind' ("resubmit") for the tasks 'tasks'
 * (an array of ids) of campaign 'id', raising their attempt; inside the
 * caller's transaction.
 */
int cp_add_submission(struct journal *j, const char *id, int n,
		      const char *kind, const json_t *tasks, struct err *err);

/* Open the cluster campaign row 'row' runs on. */
int cp_cluster(struct cluster *c, const struct config *cfg,
	       const json_t *row, struct err *err);

/*
 * Write the files of submission 'sub' (a campaign_submissions row) of
 * the campaign row 'row' and submit it, or adopt the job a dead attempt
 * submitted (found by its comment); then record it.  Submissions it
 * waits for must be recorded already.
 */
int cp_place(struct journal *j, struct cluster *c, const json_t *row,
	     const json_t *sub, int *submitting_out, struct err *err);

#endif
