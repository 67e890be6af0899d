/*
 * campaign.h: campaigns, N tasks of one executor run as scheduler arrays
 * in waves (issue 8: the campaign mode of submit-flow, monitor-flow,
 * resubmit-failed, aggregate-flow, verify-canary), and the only writer of
 * the campaigns, campaign_submissions and campaign_tasks tables.
 *
 * A campaign's tasks (0-based ids) come from a parameter grid or a list;
 * each task's parameters reach the executor as HPCLOOP_PARAM_<NAME>
 * variables.  The tasks are planned with waves.h into submissions, each
 * one scheduler array whose index i (1-based) runs the task on line i of
 * its list file; the submissions of wave w+1 start after every one of
 * wave w has ended (the scheduler's afterany).  With a canary, task 0 is
 * submitted alone first, and the rest only once verify-canary passed it.
 *
 * The directory (under the study's sprints directory, campaigns/<id>/):
 *
 *	submissions/<n>.sh	 the job script of submission n (templates/
 *				 campaign.sh), <n>.tasks its task ids
 *	tasks/<id>/params.sh	 written by hpcloop: export NAME='value'
 *	tasks/<id>/output.log	 the executor's output
 *	tasks/<id>/result/	 what the task kept, there only when the
 *				 executor exited 0 (written as result.tmp,
 *				 then renamed)
 *	tasks/<id>/exit_code	 the executor's exit status
 *
 * Exactly once, as for sprints (submit.h): the campaign is committed as
 * pending under the call's idempotency key with every task and
 * submission planned; each submission is found on the scheduler by its
 * comment (<campaign id>-s<n>) before it is submitted, so a retry after
 * a crash adopts what the dead attempt submitted.  Fault points:
 * campaign.after_pending, campaign.after_sched.
 */
#ifndef HPCLOOP_CAMPAIGN_H
#define HPCLOOP_CAMPAIGN_H

#include <jansson.h>

#include "err.h"
#include "idem.h"

struct config;
struct journal;

/* The most tasks one campaign may have. */
#define CAMPAIGN_MAX_TASKS 100000

struct campaign_request {
	const char *primitive;	    /* the keyed caller: "submit-flow" */
	const struct idem_key *key; /* the attempt's key */
	const char *study;	    /* a study of the config */
	const json_t *campaign;	    /* the spec's "campaign" object */
	const char *loop_id;	    /* the loop it belongs to, or NULL */
};

/*
 * The tasks of the campaign object 'campaign' (its "tasks" list, or the
 * product of its "params" grid, names in sorted order) as a new array
 * of parameter objects in '*out'.  More than CAMPAIGN_MAX_TASKS, or
 * none, is spec_invalid.
 */
int campaign_expand(json_t **out, const json_t *campaign, struct err *err);

/*
 * Submit 'req' (outside a transaction); '*data_out' is the campaign as
 * campaign_show() gives it, with 'replayed_out' set for a replay.
 */
int campaign_submit(struct journal *j, json_t **data_out, int *replayed_out,
		    const struct config *cfg, const struct campaign_request *req,
		    struct err *err);

/*
 * One look at campaign 'id': ask its scheduler (within the query
 * budget) about its tasks that have not ended and record what it said.
 * '*data_out' is campaign_show()'s answer.  Outside a transaction.
 */
int campaign_tick(struct journal *j, json_t **data_out,
		  const struct config *cfg, const char *id, struct err *err);

/*
 * The campaign 'id' as a new object: id, study, cluster, state, tasks,
 * counts by task state, the ids of failed tasks (at most 1000), the
 * submissions with their job ids, directory, error.  not_found when
 * there is no such campaign.
 */
int campaign_show(struct journal *j, json_t **data_out, const char *id,
		  struct err *err);

/*
 * Submit the tasks 'tasks' (an array of task ids; NULL: every failed,
 * timed-out, lost or cancelled one) of campaign 'id' again, as one new
 * array, under the key 'key' of the caller 'primitive' (a replay gives
 * the first answer).  Tasks that did not end badly are
 * precondition_failed.  '*data_out': {campaign_id, submission, job_id,
 * tasks}.
 */
int campaign_resubmit(struct journal *j, json_t **data_out, int *replayed_out,
		      const struct config *cfg, const char *primitive,
		      const struct idem_key *key, const char *id,
		      const json_t *tasks, struct err *err);

/*
 * Wait (at most 'wait_s' seconds, asking within the budget) for the
 * canary of campaign 'id' to end, then check it: it exited 0, its
 * output has none of the failure markers, and it kept every file of
 * 'expect' (an array of paths relative to its result/, may be NULL).
 * Passed: the rest of the tasks are submitted (once), '*data_out' says
 * so; failed: the campaign is failed with the reason, nothing more is
 * submitted.  Still running after 'wait_s': timeout (retry later).
 */
int campaign_verify_canary(struct journal *j, json_t **data_out,
			   const struct config *cfg, const char *id,
			   const json_t *expect, double wait_s,
			   struct err *err);

/*
 * Pull every task's result/ of campaign 'id' (all tasks must have
 * completed: precondition_failed names the missing ones) into
 * 'out_dir' (a new local directory; NULL: aggregate/<id> beside the
 * journal),
 * one pass through the transport, then run 'reducer' (an argv array,
 * may be NULL) there with the results in tasks/<id>/; its standard
 * output (bounded; parsed when it is JSON) is the answer.
 */
int campaign_aggregate(struct journal *j, json_t **data_out,
		       const struct config *cfg, const char *id,
		       const json_t *reducer, const char *out_dir,
		       struct err *err);

/*
 * The live campaigns (of 'cluster', or all) brought up to date: a
 * pending one whose submitting process died gets the arrays it
 * submitted adopted from the scheduler (found by their comments; the
 * rest are left for a retry of the same submit-flow to submit), and
 * every one is looked at as campaign_tick() does.  '*out' is a new
 * array of {campaign_id, before, after, adopted, not_on_scheduler,
 * in_progress}.
 */
int campaign_reconcile(struct journal *j, json_t **out,
		       const struct config *cfg, const char *cluster,
		       struct err *err);

#endif
