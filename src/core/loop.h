/*
 * loop.h: the unattended research loop (DESIGN §8): its states and
 * events, its budget, and the only writer of the loops table.
 *
 * As for sprints, a loop's state is the replay of its events: one pure
 * function, loop_next_state(), says what each event does in each state,
 * and the state column is written only by loop_apply(), with the event,
 * in the caller's transaction.
 *
 *	(none) --started--> running --stop_requested--> stopping
 *	                      ^  |                          |
 *	                      |  +---------finished------+  | stopped
 *	                      |                          v  v
 *	                      +------resumed-------- stopped  finished
 *
 * A stop request is honoured at the next tick (stopping -> stopped),
 * after that tick has recorded what finished; a resumed loop goes on
 * with its numbering.  A finished loop (count reached, budget spent, a
 * failure with stop_on_failure) is never left.
 *
 * The loop advances by loop_tick() (loop_tick.c), which converges: it
 * reads the journal and does what is due.  Its sprints are submitted
 * with the idempotency key "<loop id>:<iteration>" through the two
 * phases of sprint_submit_begin/commit (submit.h), so concurrent ticks
 * submit each iteration once; its ideas are claimed the same way, so the
 * agent proposer runs once per iteration.
 */
#ifndef HPCLOOP_LOOP_H
#define HPCLOOP_LOOP_H

#include <time.h>

#include <jansson.h>

#include "err.h"

struct config;
struct journal;

#define LOOP_ID_MAX 16
/* A run past LOOP_GATE_FACTOR times its budget is stopped (DESIGN §12). */
#define LOOP_GATE_FACTOR 2
/*
 * The scheduler's own limit for a loop sprint with a run budget: the
 * gate's time and this much more, so that the loop's gate acts first and
 * the scheduler is the backstop.
 */
#define LOOP_GATE_GRACE_S 60

/* ------------------------------------------------------------------ */
/* States and events (pure)                                            */
/* ------------------------------------------------------------------ */

enum loop_state {
	LOOP_RUNNING,  /* ticks submit the next run when due */
	LOOP_STOPPING, /* a stop was asked for: the next tick stops it */
	LOOP_STOPPED,  /* stopped; loop-resume goes on */
	LOOP_FINISHED, /* done for good: count, budget or failure */
	LOOP__COUNT
};

/* "running", ...; static storage ("unknown" when out of range). */
const char *loop_state_name(enum loop_state s);
/* Set '*out' to the state called 'name'; -1 when there is none. */
int loop_state_parse(enum loop_state *out, const char *name);

enum loop_event {
	LOOP_EV_STARTED,	/* "loop.started": (none) -> running */
	LOOP_EV_STOP_REQUESTED, /* "loop.stop_requested": -> stopping */
	LOOP_EV_STOPPED,	/* "loop.stopped": stopping -> stopped */
	LOOP_EV_RESUMED,	/* "loop.resumed": -> running */
	LOOP_EV_FINISHED,	/* "loop.finished": -> finished */
	LOOP_EV__COUNT
};

/* "loop.started", ...; static storage. */
const char *loop_event_name(enum loop_event ev);

/*
 * The state after event 'ev' in state 'cur' (LOOP__COUNT: the loop does
 * not exist yet).  Returns 0 with '*out' set (possibly 'cur': a second
 * stop request changes nothing), or -1 when 'ev' is not allowed in
 * 'cur' (resuming a finished loop, stopping one that never started).
 */
int loop_next_state(enum loop_state *out, enum loop_state cur,
		    enum loop_event ev);

/* What a loop may spend; 0 is no limit (but count is at least 1). */
struct loop_budget {
	int count;	     /* iterations to run */
	int max_runs;	     /* runs that count (not requeued) */
	double max_hours;    /* hours the loop ran (stopped time aside) */
	double max_usd;	     /* dollars its runs and agents cost */
	int stop_on_failure; /* finish at the first crash or timeout */
	int run_budget_s;    /* a run's time budget (the 2x gate) */
};

/* What it has spent. */
struct loop_progress {
	int runs;	 /* results that count */
	double hours;	 /* hours it ran */
	double usd;	 /* dollars spent */
	int last_failed; /* the newest result is a crash or timeout */
};

/*
 * Why the loop must finish now, or NULL: "count", "max_runs",
 * "max_hours", "max_usd" or "failure" (with stop_on_failure).  Static.
 */
const char *loop_finish_reason(const struct loop_budget *b,
			       const struct loop_progress *p);

/* Whether a run 'elapsed_s' old is past the gate of 'run_budget_s'. */
int loop_gate_passed(int run_budget_s, double elapsed_s);

/* ------------------------------------------------------------------ */
/* Rows (each in the caller's transaction)                             */
/* ------------------------------------------------------------------ */

/* What a new loop is made of; strings borrowed. */
struct loop_new {
	const char *study;    /* a study of the config */
	const char *cluster;  /* its cluster (for the study row) */
	const char *mode;     /* "sprint" or "campaign" */
	const char *proposer; /* "agent" or "builtin" */
	const char *guidance; /* text for the proposer, or NULL */
	struct loop_budget budget;
};

/*
 * Create the loop 'n' running, with its "loop.started" event: '*row_out'
 * is its row (new).
 */
int loop_create(struct journal *j, json_t **row_out, const struct loop_new *n,
		struct err *err);

/* The loop row 'id' (new); not_found when there is none. */
int loop_get(struct journal *j, json_t **row_out, const char *id,
	     struct err *err);

/*
 * Apply 'ev' to loop 'id' with 'data' (borrowed, may be NULL; its
 * "reason" becomes the stop reason of a stop or finish): the state, the
 * clock that counts running time, and the event.  '*changed_out' is 0
 * when the state stays as it was (no event is written then); an event
 * the state does not allow is conflict.
 */
int loop_apply(struct journal *j, int *changed_out, const char *id,
	       enum loop_event ev, const json_t *data, struct err *err);

/*
 * Apply 'ev' (a stop request or a resume) with 'data' (borrowed, may be
 * NULL) to loop 'id', or, when 'id' is NULL, to every loop of 'study'
 * whose state allows it, each in the caller's transaction: '*out' is a
 * new array of {loop_id, previous_state, state, changed}.  A loop named
 * by 'id' whose state forbids it is conflict.
 */
int loop_apply_many(struct journal *j, json_t **out, const char *id,
		    const char *study, enum loop_event ev, const json_t *data,
		    struct err *err);

/* An event about loop 'id' that changes no state ("loop.tick", ...). */
int loop_note(struct journal *j, const char *id, const char *type,
	      const json_t *data, struct err *err);

/* Store what loop 'id' has spent ('p') for status pages. */
int loop_set_progress(struct journal *j, const char *id,
		      const struct loop_progress *p, struct err *err);

/*
 * Record that iteration 'iteration' of loop 'id' runs as 'sprint_id':
 * the loop's iteration becomes at least 'iteration', with a
 * "loop.iteration" event the first time.  '*advanced_out' says whether
 * it moved.
 */
int loop_advance(struct journal *j, int *advanced_out, const char *id,
		 int iteration, const char *sprint_id, const char *idea_id,
		 struct err *err);

/* The budget of the loop row 'row' into 'out'. */
void loop_budget_of(struct loop_budget *out, const json_t *row);

/* The hours loop 'row' has been running at 'now'. */
double loop_active_hours(const json_t *row, time_t now);

/* The public view of the loop row 'row': a new object. */
json_t *loop_public(const json_t *row);

/*
 * One page of loops, newest first, optionally of one 'study' and/or in
 * one 'state': '*rows_out' a new array of rows, '*next_out' a new
 * cursor (or NULL on the last page).
 */
int loop_page(struct journal *j, json_t **rows_out, char **next_out,
	      const char *study, const char *state, int limit,
	      const char *cursor, struct err *err);

/*
 * What a spec that names a 'study' or a 'loop_id' (one of the two, not
 * both) is about: '*study_out' is the study's name (borrowed from 'cfg'
 * or from '*loop_out'), '*loop_out' the loop row (new) or NULL.
 * spec_invalid for neither or both, not_found for a study that is not in
 * 'cfg' or a loop that is not in 'j'.
 */
int loop_scope(struct journal *j, const char **study_out, json_t **loop_out,
	       const struct config *cfg, const char *study, const char *loop_id,
	       struct err *err);

/* ------------------------------------------------------------------ */
/* Ticking (loop_tick.c)                                               */
/* ------------------------------------------------------------------ */

/*
 * Do what is due for loop 'id' under 'cfg' (outside a transaction; each
 * step takes its own short one): bring its live run up to date with its
 * cluster, stop a run past its time gate as a timeout, record what
 * finished, honour a stop request, finish at its count or budget,
 * meta-analyze when due, propose the next idea and submit the next run.
 * '*out' is a new object {loop_id, state, steps: [...], next_step, ...}.
 * Another tick working on the same iteration is not an error: the step
 * says "busy".  Partial failures (a cluster that cannot be reached) go
 * into 'partial' (an array, borrowed) as {code, detail}.
 */
int loop_tick(struct journal *j, json_t **out, const struct config *cfg,
	      const char *id, json_t *partial, struct err *err);

#endif
