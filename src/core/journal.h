/*
 * journal.h: the SQLite journal every primitive shares (DESIGN §3).
 *
 * One file, WAL mode, busy_timeout, foreign keys on, schema version in
 * PRAGMA user_version with forward migrations.  Every state change and
 * the event that records it are written in one transaction: the
 * dispatcher opens it (journal_begin) before the handler runs and
 * commits after, or rolls back when the handler failed, so bad input
 * never changes the journal.
 *
 * This is the only file that includes <sqlite3.h>.  Statements are
 * given as SQL text with '?' placeholders and a JSON array of
 * parameters; rows come back as JSON objects keyed by column name.
 */
#ifndef HPCLOOP_JOURNAL_H
#define HPCLOOP_JOURNAL_H

#include <jansson.h>
#include <stdint.h>

#include "err.h"

struct journal;

/*
 * The schema version this build writes: the number of migrations in
 * journal_schema.c.
 */
#define JOURNAL_SCHEMA_VERSION 8

/* Flags of journal_open(). */
enum journal_open_flags {
	JOURNAL_CREATE = 1 << 0, /* create the file (0600) and its
				    directory (0700) when missing */
};

/*
 * Open the journal at 'path' and migrate it forward.  A missing journal
 * is created only with JOURNAL_CREATE; otherwise it is not_found with a
 * remediation that says how to make one, so reads never create state.
 * A journal from a newer hpcloop, or one on a network filesystem (NFS,
 * Lustre, GPFS... where WAL locking fails; HPCLOOP_ALLOW_NETWORK_JOURNAL
 * overrides), is precondition_failed; a file that is not SQLite is
 * journal_corrupt.  '*out' is owned by the caller (journal_close), NULL
 * on failure.
 */
int journal_open(struct journal **out, const char *path, unsigned flags,
		 struct err *err);

/*
 * Create a journal at 'path' at the old schema 'version' (1 up to
 * JOURNAL_SCHEMA_VERSION), for the tests of the migrations only.
 */
int journal_create_old(const char *path, int version, struct err *err);

/* Whether the statfs magic 'magic' is a network filesystem's. */
int journal_fs_is_network(long magic);
/* Close 'j', rolling back an open transaction; 'j' may be NULL. */
void journal_close(struct journal *j);
/* The path 'j' was opened with; borrowed. */
const char *journal_path(const struct journal *j);

/*
 * Transactions.  journal_begin takes the write lock at once (BEGIN
 * IMMEDIATE) so two writers queue on busy_timeout instead of failing
 * half-way.  journal_commit commits; journal_rollback undoes and never
 * fails.  journal_in_transaction says whether one is open.
 */
int journal_begin(struct journal *j, struct err *err);
int journal_commit(struct journal *j, struct err *err);
void journal_rollback(struct journal *j);
int journal_in_transaction(const struct journal *j);

/*
 * Run one statement 'sql' with the JSON array 'params' (borrowed, may
 * be NULL) bound to its '?' placeholders: strings as text, integers,
 * reals, booleans as 0/1, null as NULL; objects and arrays are bound as
 * their canonical JSON text.  When 'rows_out' is not NULL it receives a
 * new array of row objects.  Returns 0 or -1 with 'err' set.
 */
int journal_exec(struct journal *j, json_t **rows_out, const char *sql,
		 const json_t *params, struct err *err);

/*
 * Like journal_exec, for a statement that yields at most one row: a new
 * object in '*row_out', or NULL when there was no row.
 */
int journal_row(struct journal *j, json_t **row_out, const char *sql,
		const json_t *params, struct err *err);

/* Rows changed by the last statement, and the last inserted rowid. */
int64_t journal_changes(struct journal *j);
int64_t journal_last_id(struct journal *j);

/*
 * Append an event of 'type' about 'subject' (may be NULL) with the
 * object 'data' (borrowed, may be NULL).  Must be inside a transaction.
 * '*id_out' (may be NULL) receives the event id.
 */
int journal_event(struct journal *j, int64_t *id_out, const char *type,
		  const char *subject, const json_t *data, struct err *err);

/* Which events journal_events() returns. */
struct journal_event_query {
	int64_t since;		/* only ids above this */
	int limit;		/* at most this many */
	int tail;		/* 1: the newest 'limit', else the oldest */
	const char *type;	/* only this type, or NULL */
	const char *subject;	/* only about this subject, or NULL */
};

/*
 * The events 'q' asks for, oldest first (a tail is the newest 'limit',
 * still in order), each {id, ts, type, subject, data}: a new array in
 * '*out'.  Each filter combination uses its index.
 */
int journal_events(struct journal *j, json_t **out,
		   const struct journal_event_query *q, struct err *err);

/* Whether an event of 'type' exists, in '*found_out'. */
int journal_has_event(struct journal *j, int *found_out, const char *type,
		      struct err *err);

/* The id of the newest event (0 when there is none). */
int journal_last_event_id(struct journal *j, int64_t *id_out,
			  struct err *err);

/* A new object {table: row count} over every table. */
int journal_row_counts(struct journal *j, json_t **out, struct err *err);

/*
 * Integrity report for `doctor`: a new object with "schema_version",
 * "expected_version", "integrity" ("ok" or the problems),
 * "foreign_key_violations", "journal_mode", "events".
 */
int journal_check(struct journal *j, json_t **out, struct err *err);

/* The SQLite library version string; static storage. */
const char *journal_library_version(void);

#endif
