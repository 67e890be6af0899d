/*
 * submit.h: submitting one sprint exactly once (DESIGN §4), for every
 * caller that submits: the submit-flow primitive and the loop's tick.
 *
 * Everything the config decides is checked before the journal changes
 * (the study, its job options, the rendering of its job, that its
 * cluster opens).  Then, with the two phases of sprint_submit.c, the
 * sprint is committed as pending under the caller's idempotency key; its
 * directory is written and its job submitted with the sprint id in the
 * job's name and comment, with no journal lock held; the job id is
 * committed with the result.  A concurrent caller with the same key is
 * told to retry (in_progress) or replays; one that finds a dead attempt
 * resumes it, adopting the job the scheduler already has (found by the
 * sprint id) rather than submitting twice.
 *
 * Fault points: submit.after_pending, submit.before_sched,
 * submit.after_sched, submit.after_commit.
 */
#ifndef HPCLOOP_SUBMIT_H
#define HPCLOOP_SUBMIT_H

#include <jansson.h>

#include "err.h"
#include "idem.h"

struct config;
struct journal;
struct transport;

/* One submission; everything borrowed. */
struct submit_request {
	const char *primitive;	    /* the keyed caller: "submit-flow" */
	const struct idem_key *key; /* the attempt's key */
	const char *study;	    /* a study of the config */
	const char *idea;	    /* the idea, any text */
	const json_t *job_options;  /* the request's job options, or NULL */
	int time_limit_s;	    /* 0: the study's */
	const char *retry_of;	    /* the finished sprint it retries */
	const char *loop_id;	    /* the loop it belongs to, or NULL */
	const json_t *metadata;	    /* more to keep with the sprint (an
				       object merged into its metadata),
				       or NULL */
	const json_t *params;	    /* the run's parameters (an object,
				       for the study's executor), or NULL */
	const char *code_dir;	    /* the checkout of the study's code in
				       the sprint directory, for the
				       prompt, or NULL (carry.h) */
	/*
	 * Called with the cluster's transport once the sprint's directory
	 * 'dir' is written and before its job is submitted (again when a
	 * dead attempt is resumed), or NULL: the loop checks the study's
	 * code out there.  A failure abandons the attempt cleanly.
	 */
	int (*prepare)(void *arg, struct transport *t, const char *sprint_id,
		       const char *dir, struct err *err);
	void *prepare_arg;
};

/*
 * Submit 'req' under 'cfg' into 'j' (outside a transaction).  '*data_out'
 * is the result (new; see submit-flow.output.json): for a replay, the
 * stored result with the sprint's live state, phase, error and job id,
 * and '*replayed_out' set.  Errors: not_found for an unknown study,
 * conflict or in_progress from the key, the cluster's and scheduler's
 * codes.
 */
int submit_sprint(struct journal *j, json_t **data_out, int *replayed_out,
		  const struct config *cfg, const struct submit_request *req,
		  struct err *err);

#endif
