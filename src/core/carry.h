/*
 * carry.h: code that carries forward, as in autoresearch.  A study may
 * name a code base (its config's `code`: a git repository on the
 * cluster, or a directory that hpcloop imports into a repository of its
 * own); then every run of a loop starts from the study's best kept
 * commit, checked out with `git worktree add --detach` into the run's
 * directory, where the agent (or an executor) changes it.  When the run
 * is over, the commit it produced is captured (the HEAD of its
 * checkout, after committing what the agent left uncommitted, with a
 * fixed message and author) and recorded in its ledger row; a kept
 * result advances the study's best commit to it, in the transaction of
 * the decision, and a discard or a crash leaves it.  The first run
 * starts from the repository's `ref` (HEAD by default) as it is when the
 * study's first loop submits its first run: that commit is recorded as
 * the study's base.
 *
 * Only `git` is assumed on the cluster, always run through the cluster's
 * transport as an argv vector (never a shell string), with hooks, the
 * fsmonitor and signing turned off.  Every commit a run produced is kept
 * from garbage collection by a ref refs/hpcloop/<study>/<sprint id>.
 *
 * This module is the only writer of the study_code (one row per study:
 * the repository, its base and best commit) and code_runs (one row per
 * run: where it was checked out, what it started from, the commit it
 * produced) tables.  Events: code.based, code.checked_out, code.captured,
 * code.best_advanced.
 */
#ifndef HPCLOOP_CARRY_H
#define HPCLOOP_CARRY_H

#include <stdint.h>

#include <jansson.h>

#include "err.h"

struct config;
struct journal;
struct submit_request;
struct transport;

/* The author of the commits hpcloop makes for a run. */
#define CARRY_AUTHOR_NAME "hpcloop"
#define CARRY_AUTHOR_EMAIL "hpcloop@localhost"
/* The longest diff `ledger` shows, in bytes. */
#define CARRY_DIFF_MAX (64 * 1024)
/* Seconds a git command may take. */
#define CARRY_GIT_TIMEOUT_S 300

/* Whether the study config 'study' (borrowed, may be NULL) names code. */
int carry_wanted(const json_t *study);

/* What the checkout of a loop's run needs; borrowed. */
struct carry_submit {
	struct journal *j;
	const struct config *cfg;
	const char *study;
	const char *loop_id;
};

/*
 * Set up the submission 'req' of a run of loop 'loop_id' of 'study' so
 * that, when the study names code, its directory gets a checkout of the
 * study's best commit before its job is submitted: 'cs' (the caller's,
 * alive until the submission returns) is filled and named as the
 * request's prepare hook.  Nothing changes for a study without code.
 */
void carry_request(struct submit_request *req, struct carry_submit *cs,
		   struct journal *j, const struct config *cfg,
		   const char *study, const char *loop_id);

/*
 * Capture the commit the finished run 'sprint' (a sprint row, borrowed)
 * produced, through its cluster (outside a transaction; each write takes
 * a short one of its own).  Nothing happens for a run without a
 * checkout or one captured already.  A checkout that git cannot read is
 * captured without a commit, with a note; an unreachable cluster is an
 * error (the caller tries again later).
 */
int carry_capture(struct journal *j, const struct config *cfg,
		  const json_t *sprint, struct err *err);

/*
 * For the ledger (in its transaction): whether the run 'sprint_id' has
 * a checkout whose commit is not captured yet ('*pending_out': its
 * result must wait), and the commit it produced (new, or NULL).
 */
int carry_commit_of(struct journal *j, int *pending_out, char **commit_out,
		    const char *sprint_id, struct err *err);

/*
 * For the ledger (in the transaction of the decision): the result
 * 'result_id' of run 'sprint_id' of 'study' was kept: when the run has a
 * captured commit, it becomes the study's best.
 */
int carry_keep(struct journal *j, const char *study, const char *sprint_id,
	       int64_t result_id, struct err *err);

/*
 * The code state of 'study' for output: a new object {kind, source,
 * base_commit, best_commit, best_result_id, best_sprint_id}, or NULL
 * when the study has no code row yet.
 */
int carry_state(struct journal *j, json_t **out, const char *study,
		struct err *err);

/*
 * `git diff BEST RUN` of 'study': the study's best commit against the
 * commit run 'sprint_id' produced, at most CARRY_DIFF_MAX bytes, through
 * the study's cluster: a new object {sprint_id, best_commit, run_commit,
 * started_from, text, truncated}.  not_found for a run without a
 * checkout; precondition_failed for one not captured yet.
 */
int carry_diff(struct journal *j, json_t **out, const struct config *cfg,
	       const char *study, const char *sprint_id, struct err *err);

#endif
