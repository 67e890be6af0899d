/*
 * sprint.h: a sprint's life in the journal, and the only writer of the
 * sprints and jobs tables.
 *
 * A sprint's state is the replay of its events (as flux-core's job
 * manager derives a job's state from its eventlog): one pure function,
 * sprint_next_state(), says what each event does to each state, and the
 * state column is written only by the function that appends the event,
 * in the caller's transaction.  doctor replays every sprint's events
 * with the same function and reports any sprint whose stored state
 * differs (sprint_replay_check).
 *
 * States and their edges (the journal's trigger allows only these):
 *
 *	pending --submitted--> submitted --started/heartbeat--> running
 *	   |                       ^   |                            |
 *	   |                       +---+-------- requeued ----------+
 *	   +---------+-------------+----------------+---------------+
 *	             v    finished (completed, failed, timed_out,
 *	                  cancelled, lost): terminal, never left
 *
 * A heartbeat moves a submitted sprint to running, never a pending one
 * (the job id must be in the journal first); running without a job id
 * cannot happen (a CHECK says so).  A completion record while the job
 * still runs is a claim (sprint_claim): the sprint finishes when the
 * scheduler confirms the job ended (DESIGN §12).
 */
#ifndef HPCLOOP_SPRINT_H
#define HPCLOOP_SPRINT_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "err.h"
#include "idem.h"
#include "sched.h"

struct journal;

#define SPRINT_ID_MAX 16
/* The longest heartbeat line read from heartbeats.jsonl. */
#define SPRINT_HEARTBEAT_LINE_MAX 16384

/* ------------------------------------------------------------------ */
/* States and events                                                   */
/* ------------------------------------------------------------------ */

enum sprint_state {
	SPRINT_PENDING,	  /* committed, not yet known to a scheduler */
	SPRINT_SUBMITTED, /* the scheduler took it (job id recorded) */
	SPRINT_RUNNING,	  /* started: a heartbeat or the scheduler says so */
	SPRINT_COMPLETED, /* ended with a completion record saying so */
	SPRINT_FAILED,	  /* ended otherwise, or never reached a scheduler */
	SPRINT_TIMED_OUT, /* ended at its time limit */
	SPRINT_CANCELLED, /* ended because it was cancelled */
	SPRINT_LOST,	  /* vanished: nobody can confirm how it ended */
	SPRINT__COUNT
};

/* "pending", ..., "lost"; static storage ("unknown" when out of range). */
const char *sprint_state_name(enum sprint_state s);
/* Set '*out' to the state called 'name'; -1 when there is none. */
int sprint_state_parse(enum sprint_state *out, const char *name);
/* 1 when 's' is terminal. */
int sprint_state_terminal(enum sprint_state s);
/* 1 when 'name' names a terminal state. */
int sprint_state_name_terminal(const char *name);

/* The events that may change a sprint's state. */
enum sprint_event {
	SPRINT_EV_CREATED,   /* "sprint.created": -> pending */
	SPRINT_EV_SUBMITTED, /* "sprint.submitted": pending -> submitted */
	SPRINT_EV_STARTED,   /* "sprint.started": submitted -> running */
	SPRINT_EV_HEARTBEAT, /* "sprint.heartbeat": submitted -> running */
	SPRINT_EV_REQUEUED,  /* "sprint.requeued": running -> submitted */
	SPRINT_EV_FINISHED,  /* "sprint.finished": -> data.state */
	SPRINT_EV__COUNT
};

/* The event type "sprint.created" ...; static storage. */
const char *sprint_event_name(enum sprint_event ev);
/* Set '*out' to the event typed 'type'; -1 for other event types. */
int sprint_event_parse(enum sprint_event *out, const char *type);

/*
 * The pure transition: the state after event 'ev' in state 'cur'
 * ('target' is the terminal state of SPRINT_EV_FINISHED, ignored
 * otherwise).  Returns 0 with '*out' set (possibly to 'cur': a
 * heartbeat of a running sprint changes nothing), or -1 when the event
 * is not allowed in 'cur' (a heartbeat of a finished sprint, a second
 * submission).  A heartbeat or start of a pending sprint leaves it
 * pending.
 */
int sprint_next_state(enum sprint_state *out, enum sprint_state cur,
		      enum sprint_event ev, enum sprint_state target);

/*
 * What the scheduler's answer 'job' (state 's') means for a sprint in
 * 'cur' that has the completion claim 'claim' (borrowed, may be NULL):
 * '*ev_out' is the event to apply (-1 for none) and '*target_out' the
 * terminal state for SPRINT_EV_FINISHED.  A job that ended "completed"
 * is a completed sprint only with a claim that says so (success needs
 * proof); a claim of failure or time-out refines an ended job; unknown
 * is no event (the caller decides lost from the heartbeats' age);
 * requeued moves a running sprint back to submitted.
 */
void sprint_event_for_job(int *ev_out, enum sprint_state *target_out,
			  enum sprint_state cur, enum sched_state s,
			  const json_t *claim);

/* ------------------------------------------------------------------ */
/* Rows                                                                */
/* ------------------------------------------------------------------ */

/* The sprint row 'id' as a new object; not_found when absent. */
int sprint_get(struct journal *j, json_t **row_out, const char *id,
	       struct err *err);

/* A fresh "sp-" + 6 hex id that no sprint in 'j' has. */
int sprint_new_id(struct journal *j, char out[SPRINT_ID_MAX],
		  struct err *err);

/*
 * The sprint directory name "YYYY-MM-DD--HH-MM--<id>--<slug>" (UTC at
 * 't'), the slug being the idea lower-cased, runs of other characters
 * than [a-z0-9] turned into '-', at most 60 characters ("sprint" when
 * empty).  A new string.
 */
char *sprint_dir_name(const char *id, const char *idea, time_t t);

/* What a new sprint is made of; everything borrowed. */
struct sprint_new {
	const char *id;		  /* from sprint_new_id */
	const char *study;	  /* a study of the config */
	const char *cluster;	  /* its cluster */
	const char *idea;	  /* the idea, any text */
	const char *directory;	  /* its directory on the cluster */
	const char *token_hash;	  /* SHA-256 hex of its webhook token */
	const char *retry_of;	  /* the sprint it retries, or NULL */
	const char *loop_id;	  /* the loop it belongs to, or NULL */
	const json_t *metadata;	  /* object kept with it, or NULL */
};

/*
 * Insert the sprint 'n' as pending with its "sprint.created" event (and
 * the study row and counts).  In the caller's transaction.
 */
int sprint_create(struct journal *j, const struct sprint_new *n,
		  struct err *err);

/* Store the hash of a new webhook token for sprint 'id'. */
int sprint_set_token(struct journal *j, const char *id,
		     const char *token_hash, struct err *err);


/* ------------------------------------------------------------------ */
/* Transitions (each in the caller's transaction)                      */
/* ------------------------------------------------------------------ */

/*
 * pending -> submitted: the scheduler's 'job_id' on 'cluster' and the
 * jobs row.  conflict when the sprint is not pending.
 */
int sprint_mark_submitted(struct journal *j, const char *id,
			  const char *cluster, const char *job_id,
			  struct err *err);

/*
 * Apply what the scheduler said about the sprint's job: 'ev' is
 * SPRINT_EV_STARTED or SPRINT_EV_REQUEUED with 'evidence' (borrowed).
 * An event the state does not allow changes nothing (the answer was
 * older than what the journal knows); '*changed_out' says whether it
 * did.
 */
int sprint_observe(struct journal *j, int *changed_out, const char *id,
		   enum sprint_event ev, const json_t *evidence,
		   struct err *err);

/*
 * Store the heartbeats in the array 'beats' (objects with an integer
 * "seq" >= 1; a repeated seq is ignored) for sprint 'id' from 'source'
 * ("push", "pull" or "cli").  Moves a submitted sprint to running,
 * never a pending one; updates its phase and last heartbeat time.  A
 * terminal sprint is conflict.  '*stored_out' counts the new ones.
 */
int sprint_ingest_heartbeats(struct journal *j, int *stored_out,
			     const char *id, const json_t *beats,
			     const char *source, struct err *err);

/*
 * Record the completion record 'record' (borrowed) from 'source' as a
 * claim: kept in the sprint's metadata with a "sprint.claimed" event,
 * the state unchanged until the scheduler confirms the end.  A second
 * identical claim changes nothing ('*new_out' 0).  A terminal sprint is
 * conflict.
 */
int sprint_claim(struct journal *j, int *new_out, const char *id,
		 const json_t *record, const char *source, struct err *err);

/*
 * Forget the completion claim of sprint 'id' (a requeued job: the
 * record was written by the run the scheduler killed to requeue it),
 * with an event saying 'why'; nothing when there is none.  In the
 * caller's transaction.
 */
int sprint_drop_claim(struct journal *j, const char *id, const char *why,
		      struct err *err);

/*
 * The terminal transition of sprint 'id' to 'state' with the completion
 * record 'completion' (borrowed: summary, error, exit_code, cost_usd,
 * session_id, steps...) and the evidence object 'evidence' (borrowed,
 * may be NULL).  Happens once: when the sprint is already terminal,
 * nothing changes and '*transitioned_out' is 0.
 */
int sprint_finish(struct journal *j, int *transitioned_out, const char *id,
		  enum sprint_state state, const json_t *completion,
		  const json_t *evidence, struct err *err);

/*
 * An event about sprint 'id' that changes no state ("sprint.annotated",
 * "sprint.completion_refused", ...), with 'data' (borrowed, may be NULL).
 */
int sprint_note(struct journal *j, const char *id, const char *type,
		const json_t *data, struct err *err);

/* ------------------------------------------------------------------ */
/* Reading for status                                                  */
/* ------------------------------------------------------------------ */

/*
 * The live sprints (pending, submitted, running), optionally of one
 * 'study' and/or one sprint 'id' (NULL: all), oldest first: a new array
 * of rows.
 */
int sprint_list_live(struct journal *j, json_t **out, const char *study,
		     const char *id, struct err *err);

/* Which sprints sprint_page() returns. */
struct sprint_page_query {
	const char *id;		/* only this one, or NULL */
	const char *study;	/* only this study's, or NULL */
	int limit;		/* page size */
	const char *cursor;	/* resume after this "created_at|id", or NULL */
	int finished_window_s;	/* also those finished this recently */
};

/*
 * One page of sprints for output, oldest first: the live ones and those
 * finished within the window, in one statement served by indexes.
 * '*rows_out' is a new array of rows; '*next_out' a new cursor string
 * for the next page, or NULL when this was the last.
 */
int sprint_page(struct journal *j, json_t **rows_out, char **next_out,
		const struct sprint_page_query *q, struct err *err);

/* The 'limit' newest sprints of 'study': a new array of rows. */
int sprint_recent(struct journal *j, json_t **out, const char *study,
		  int limit, struct err *err);

/*
 * Remember how far heartbeats.jsonl of sprint 'id' was read ('offset')
 * and the size:mtime stamps of it and of completion.json (NULL: keep),
 * so an unchanged file is not read again.
 */
int sprint_set_file_marks(struct journal *j, const char *id,
			  int64_t offset, const char *heartbeat_stamp,
			  const char *completion_stamp, struct err *err);

/* ------------------------------------------------------------------ */
/* Studies and artifacts                                               */
/* ------------------------------------------------------------------ */

/* Make sure the study row 'study' on 'cluster' exists. */
int sprint_ensure_study(struct journal *j, const char *study,
			const char *cluster, struct err *err);

/*
 * The sprint counts of every study in the journal, kept as sprints are
 * created and finish (never by walking the sprints): a new object
 * {study: {"sprints", "live", "last_sprint_at"}}.
 */
int sprint_study_counts(struct journal *j, json_t **out, struct err *err);

/*
 * How many sprints are live (pending, submitted, running) on each
 * cluster: a new object {cluster: n} (clusters with none left out).
 */
int sprint_live_by_cluster(struct journal *j, json_t **out, struct err *err);

/*
 * Record the files 'files' (array of {path, size, sha256, stored_path})
 * copied from sprint 'id'; a file already recorded with the same hash
 * is skipped.
 */
int sprint_record_artifacts(struct journal *j, const char *id,
			    const json_t *files, struct err *err);

/* ------------------------------------------------------------------ */
/* Submission in two phases (sprint_submit.c; DESIGN §4)               */
/* ------------------------------------------------------------------ */

/*
 * One keyed submission attempt.  Phase 1 (sprint_submit_begin) claims
 * the call's idempotency key and commits the sprint as pending; the
 * caller then works on the cluster with no lock held; phase 2
 * (sprint_submit_commit) commits the job id and the call's result.  A
 * crash between the two leaves a pending sprint bound to the key: the
 * next call with that key (or status, once the attempt's lease is gone)
 * finds the job on the scheduler by the sprint id in its name and
 * adopts it, or submits it then, so a job is never lost or doubled.
 */
struct sprint_attempt {
	const char *primitive;	   /* the keyed primitive (borrowed) */
	const struct idem_key *key; /* its key (borrowed) */
	enum idem_found found;	   /* FRESH, RESUME or REPLAY */
	char id[SPRINT_ID_MAX];	   /* the sprint */
	json_t *row;		   /* its row after phase 1 (owned) */
	json_t *stored;		   /* REPLAY: the stored result (owned), or
				      NULL when the sprint was submitted but
				      its result never stored */
};

#define SPRINT_ATTEMPT_INIT { NULL, NULL, IDEM_FRESH, "", NULL, NULL }

void sprint_attempt_release(struct sprint_attempt *a);

/*
 * Phase 1, in a transaction of its own.  Claims 'a->key' for
 * 'a->primitive' (conflict for another spec, in_progress while another
 * process works on it).  Fresh (or after an attempt that died before
 * making anything): a new id, the directory '<base_dir>/<dir name>', and
 * the sprint 'n' (its id and directory are filled in here) created
 * pending and bound to the key.  Resumed: the dead attempt's sprint, as
 * it stands.  A resumed sprint that got past pending, and a key already
 * done, come back as IDEM_REPLAY.  'a->row' holds the sprint's row.
 */
int sprint_submit_begin(struct journal *j, struct sprint_attempt *a,
			struct sprint_new *n, const char *base_dir,
			struct err *err);

/*
 * Phase 2, in a transaction of its own: the sprint becomes submitted
 * with 'job_id' on 'cluster', and the call's result, built by
 * 'result'('row', 'arg') from the updated row, is stored under the key
 * and returned (new) in '*data_out'.
 */
int sprint_submit_commit(struct journal *j, struct sprint_attempt *a,
			 const char *cluster, const char *job_id,
			 json_t *(*result)(const json_t *row, void *arg),
			 void *arg, json_t **data_out, struct err *err);

/*
 * Store the result 'data' (borrowed) of a replay that had none (a crash
 * after phase 2's job id but before its result), in its own
 * transaction.
 */
int sprint_submit_store(struct journal *j, struct sprint_attempt *a,
			const json_t *data, struct err *err);

/*
 * The attempt failed with 'why' (borrowed).  'clean': nothing reached
 * the scheduler, so the sprint is failed with that error and the key
 * freed for another try of the same spec.  Otherwise (a timeout while
 * submitting, a lost connection) the job may exist: the sprint stays
 * pending with a "sprint.submit_interrupted" event, to be adopted or
 * submitted by the next call with the key, or by status.  In a
 * transaction of its own; never fails the caller's error.
 */
void sprint_submit_abandon(struct journal *j, struct sprint_attempt *a,
			   const struct err *why, int clean);

/* ------------------------------------------------------------------ */
/* Replay                                                              */
/* ------------------------------------------------------------------ */

/*
 * Replay the events of every sprint with sprint_next_state() and
 * compare with the stored states: a new array in '*out' of {sprint_id,
 * stored, replayed, events} for every sprint that differs, at most
 * 'max' of them; '*checked_out' counts the sprints checked.
 */
int sprint_replay_check(struct journal *j, json_t **out, int *checked_out,
			int max, struct err *err);

#endif
