/*
 * refresh.h: bringing live sprints up to date with what their cluster
 * says: the one routine status (and monitor-flow, loop-tick and the
 * server's monitor after it) uses to learn how sprints are doing.
 *
 * Per cluster, everything remote is gathered first with no journal lock
 * held: one scheduler answer for all the job ids (through the query
 * budget, observe.h), the new tail of each sprint's heartbeats.jsonl and
 * its completion.json (only when their size or mtime changed since the
 * last read), and, for a pending sprint whose submission attempt died,
 * the job the scheduler may hold under its id.  Then every change is
 * applied in one short transaction through sprint.h.
 *
 * The sprint directory is untrusted (DESIGN §10): a heartbeat counts
 * only with seq >= 1 and this sprint's id; an oversize line is skipped
 * with a note; a final line without its newline waits for it; a
 * completion record counts only when it names this sprint, and then
 * only as a claim until the scheduler confirms the job ended (§12).  A
 * state nobody can confirm is never success.
 */
#ifndef HPCLOOP_REFRESH_H
#define HPCLOOP_REFRESH_H

#include <jansson.h>

#include "err.h"

struct config;
struct journal;

/* The most of heartbeats.jsonl read in one refresh per sprint. */
#define REFRESH_HEARTBEAT_READ_MAX (256 * 1024)
/* The largest completion.json accepted. */
#define REFRESH_COMPLETION_MAX (64 * 1024)

/*
 * Refresh the live sprint rows 'rows' (borrowed; all of cluster 'name'
 * of 'cfg') in 'j' (outside a transaction).  Each sprint's evidence goes
 * into 'evidence' as {sprint_id: {...}}; '*summary_out' is a new object
 * saying what was asked of the cluster ({"queried", "cached", "jobs",
 * "next_query_in_s", "refused": ["sprint ID: why a file was not read"]}).  A cluster that cannot be reached is not a
 * failure: '*summary_out' says so and 'unreachable' (may be NULL) holds
 * the error, nothing is marked finished.  Returns -1 only for the
 * journal's own errors.
 */
int refresh_cluster(struct journal *j, const struct config *cfg,
		    const char *name, const json_t *rows, json_t *evidence,
		    json_t **summary_out, struct err *unreachable,
		    struct err *err);

struct ctx;

/*
 * Refresh the live sprint rows 'live' (any clusters) with
 * refresh_cluster() per cluster: their evidence into 'evidence', what
 * each cluster was asked into 'clusters' ({name: summary}).  An
 * unreachable cluster, and each file that was not read, is a partial
 * error of 'ctx' naming its cluster (status, reconcile).
 */
int refresh_sprints(struct ctx *ctx, const json_t *live, json_t *evidence,
		    json_t *clusters, struct err *err);

#endif
