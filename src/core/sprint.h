/*
 * sprint.h: a sprint's life in the journal.  Each transition is one
 * function that checks the state it starts from and writes the event
 * that records it, inside the caller's transaction.
 *
 * States: pending (committed, not yet submitted) -> submitted (the
 * scheduler took it) -> running (a heartbeat or the scheduler says so)
 * -> one of the terminal states completed, failed, timed_out,
 * cancelled, lost.  A terminal state never changes again.
 */
#ifndef HPCLOOP_SPRINT_H
#define HPCLOOP_SPRINT_H

#include <jansson.h>
#include <stddef.h>
#include <time.h>

#include "err.h"

struct journal;

#define SPRINT_ID_MAX 16
/* The longest heartbeat line read from heartbeats.jsonl. */
#define SPRINT_HEARTBEAT_LINE_MAX 16384

/* 1 when 'state' is terminal. */
int sprint_state_terminal(const char *state);
/* 1 when 'state' is one of the sprint states. */
int sprint_state_valid(const char *state);

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

/* Make sure the study row 'study' on 'cluster' exists. */
int sprint_ensure_study(struct journal *j, const char *study,
			const char *cluster, struct err *err);

/*
 * Store the heartbeats in the array 'beats' (objects with an integer
 * "seq"; a repeated seq is ignored) for sprint 'id' from 'source'
 * ("push", "pull" or "cli").  Moves a pending or submitted sprint to
 * running and updates its phase and last heartbeat time; never touches
 * its metadata.  A terminal sprint is conflict.  '*stored_out' counts
 * the new ones.
 */
int sprint_ingest_heartbeats(struct journal *j, int *stored_out,
			     const char *id, const json_t *beats,
			     const char *source, struct err *err);

/*
 * The terminal transition of sprint 'id' to 'state' with the completion
 * record 'completion' (borrowed: summary, error, exit_code, cost_usd,
 * session_id, steps...) and the evidence object 'evidence' (borrowed,
 * may be NULL).  Happens once: when the sprint is already terminal,
 * nothing changes and '*transitioned_out' is 0.
 */
int sprint_finish(struct journal *j, int *transitioned_out, const char *id,
		  const char *state, const json_t *completion,
		  const json_t *evidence, struct err *err);

/*
 * Set the sprint's state (non-terminal) and phase with an event of
 * 'type' carrying 'data' (borrowed, may be NULL).
 */
int sprint_set_state(struct journal *j, const char *id, const char *state,
		     const char *type, const json_t *data, struct err *err);

/*
 * The public view of a sprint row 'row' for output: no token hash, the
 * metadata parsed.  A new object.
 */
json_t *sprint_public(const json_t *row);

#endif
