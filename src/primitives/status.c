/*
 * status: refresh every live sprint and report its state with the
 * evidence for it.  Per cluster, ONE scheduler query covers all its job
 * ids (and only when the shared query budget allows; otherwise the
 * states the journal already holds are reported as cached).  New lines
 * of each sprint's heartbeats.jsonl are read through the transport from
 * the stored offset and ingested; a job the scheduler reports finished
 * is closed with its completion.json, or without one as failed, lost or
 * whatever the scheduler's record says — never as success without
 * proof.
 *
 * The journal's write lock is never held across a scheduler query or a
 * file read: per cluster, everything remote is gathered first, then
 * applied in one short transaction (PRIM_OWN_TX), so heartbeats pushed
 * to the server meanwhile are not kept waiting on a slow cluster.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "cluster.h"
#include "config.h"
#include "ids.h"
#include "journal.h"
#include "primitive.h"
#include "sched.h"
#include "sprint.h"
#include "transport.h"
#include "xalloc.h"
#include "banned.h"

/* The most of heartbeats.jsonl read in one call per sprint. */
#define STATUS_HEARTBEAT_READ_MAX (256 * 1024)
/* The largest completion.json accepted. */
#define STATUS_COMPLETION_MAX (64 * 1024)

/* ---------------------------------------------------------------- */
/* Heartbeats                                                         */
/* ---------------------------------------------------------------- */

/* What was read of one sprint before the journal is touched. */
struct gathered {
	const json_t *row;	/* the sprint row; borrowed */
	const json_t *job;	/* the scheduler's answer, or NULL */
	json_t *beats;		/* complete heartbeat lines, parsed */
	json_int_t offset;	/* heartbeats.jsonl offset after them */
	int unreadable;		/* lines that were not heartbeats */
	json_t *completion;	/* completion.json, or NULL */
};

static void gathered_release(struct gathered *g)
{
	json_decref(g->beats);
	json_decref(g->completion);
	memset(g, 0, sizeof(*g));
}

/*
 * Read the lines of '<dir>/heartbeats.jsonl' after the stored offset of
 * 'g->row' into 'g', up to the last complete line.
 */
static int read_heartbeats(struct cluster *c, struct gathered *g,
			   struct err *err)
{
	struct buf path = BUF_INIT, data = BUF_INIT;
	int64_t size = 0;
	const char *p, *nl;
	size_t used = 0;
	int r = -1;

	g->offset = json_integer_value(json_object_get(g->row,
							"heartbeat_offset"));
	g->beats = json_array();
	buf_addf(&path, "%s/heartbeats.jsonl",
		 json_string_value(json_object_get(g->row, "directory")));
	if (transport_read_range(c->t, &data, &size, buf_str(&path),
				 g->offset, STATUS_HEARTBEAT_READ_MAX,
				 err) < 0) {
		if (err->code != ERR_NOT_FOUND)
			goto out;
		err_clear(err);
	}
	/* Only whole lines; a partial last line is read next time. */
	p = buf_str(&data);
	for (;;) {
		size_t n;
		json_t *hb;

		nl = memchr(p, '\n', data.len - used);
		if (!nl)
			break;
		n = (size_t)(nl - p);
		hb = n < SPRINT_HEARTBEAT_LINE_MAX ? json_loadb(p, n, 0, NULL)
						   : NULL;
		used += n + 1;
		p = nl + 1;
		if (json_is_object(hb) &&
		    json_is_integer(json_object_get(hb, "seq")))
			json_array_append(g->beats, hb);
		else
			g->unreadable++;
		json_decref(hb);
	}
	/* A full read without one newline is garbage: step over it. */
	if (!used && data.len >= STATUS_HEARTBEAT_READ_MAX) {
		used = data.len;
		g->unreadable++;
	}
	g->offset += (json_int_t)used;
	r = 0;
out:
	buf_release(&path);
	buf_release(&data);
	return r;
}

/*
 * Ingest the heartbeats gathered in 'g' and move the stored offset
 * forward (never back: another status call may have gone further).
 * '*evidence' receives {"new", "unreadable", "offset"}.
 */
static int apply_heartbeats(struct ctx *ctx, const struct gathered *g,
			    json_t **evidence, struct err *err)
{
	const char *id = json_string_value(json_object_get(g->row, "id"));
	json_t *params;
	int stored = 0, r;

	*evidence = NULL;
	if (json_array_size(g->beats)) {
		/* A sprint another call just closed takes no more. */
		json_t *row = NULL;

		if (sprint_get(ctx->journal, &row, id, err) < 0)
			return -1;
		r = sprint_state_terminal(json_string_value(
			    json_object_get(row, "state")))
			    ? 0
			    : sprint_ingest_heartbeats(ctx->journal, &stored,
						       id, g->beats, "pull",
						       err);
		json_decref(row);
		if (r < 0)
			return -1;
	}
	params = json_pack("[I,s]", g->offset, id);
	r = journal_exec(ctx->journal, NULL,
			 "UPDATE sprints SET heartbeat_offset = "
			 "max(heartbeat_offset, ?) WHERE id = ?",
			 params, err);
	json_decref(params);
	if (r < 0)
		return -1;
	*evidence = json_pack("{s:i, s:i, s:I}", "new", stored, "unreadable",
			      g->unreadable, "offset", g->offset);
	return 0;
}

/* ---------------------------------------------------------------- */
/* Completion                                                         */
/* ---------------------------------------------------------------- */

/*
 * Read '<dir>/completion.json' of sprint 'row' into a new object in
 * '*out', or NULL when there is none (or it is not a completion).
 */
static int read_completion(struct cluster *c, const json_t *row,
			   json_t **out, struct err *err)
{
	struct buf path = BUF_INIT, data = BUF_INIT;
	json_t *v = NULL;
	const char *status;
	int r = -1;

	*out = NULL;
	buf_addf(&path, "%s/completion.json",
		 json_string_value(json_object_get(row, "directory")));
	if (transport_read_file(c->t, &data, buf_str(&path),
				STATUS_COMPLETION_MAX, err) < 0) {
		if (err->code == ERR_NOT_FOUND) {
			err_clear(err);
			r = 0;
		}
		goto out;
	}
	v = json_loadb(buf_str(&data), data.len, 0, NULL);
	status = json_string_value(json_object_get(v, "status"));
	if (status && sprint_state_terminal(status) &&
	    strcmp(status, "lost")) {
		*out = v;
		v = NULL;
	}
	r = 0;
out:
	json_decref(v);
	buf_release(&path);
	buf_release(&data);
	return r;
}

/*
 * The terminal state for a job the scheduler reports as 'sched_state'
 * when no completion record exists: the scheduler's word, except that
 * "completed" without a record is failed — success needs proof.
 */
static const char *state_without_record(const char *sched_state)
{
	if (!strcmp(sched_state, "completed"))
		return "failed";
	return sched_state;
}

/* ---------------------------------------------------------------- */
/* One sprint                                                         */
/* ---------------------------------------------------------------- */

/* Seconds since the ISO time 's', or -1. */
static json_int_t age_of(const char *s)
{
	time_t t;

	if (!s || ids_parse_time(&t, s) < 0)
		return -1;
	return (json_int_t)(time(NULL) - t);
}

/*
 * 1 when sprint 'row' has been silent for longer than five heartbeat
 * intervals (at least 300 s), counting from its last heartbeat or, with
 * none, from its submission.
 */
static int stale(struct ctx *ctx, const json_t *row)
{
	json_int_t interval = json_integer_value(json_object_get(
		ctx->config->root, "heartbeat_interval_s"));
	json_int_t limit = interval * 5 < 300 ? 300 : interval * 5;
	const char *last = json_string_value(json_object_get(row,
						"last_heartbeat_at"));
	json_int_t age;

	if (!last)
		last = json_string_value(json_object_get(row,
							 "submitted_at"));
	age = age_of(last);
	return age >= 0 && age > limit;
}

/*
 * Apply what was gathered for one sprint in 'g' (its heartbeats, its
 * completion record, the scheduler's answer) inside the caller's
 * transaction, and put the evidence into 'report'.
 */
static int apply_sprint(struct ctx *ctx, const struct gathered *g,
			json_t *report, struct err *err)
{
	const json_t *row = g->row, *job = g->job, *completion = g->completion;
	const char *id = json_string_value(json_object_get(row, "id"));
	const char *sstate = json_string_value(json_object_get(job, "state"));
	json_t *hb = NULL, *evidence = NULL;
	enum sched_state st;
	int transitioned, r = -1;

	if (apply_heartbeats(ctx, g, &hb, err) < 0)
		goto out;
	evidence = json_pack("{s:O?, s:O}", "scheduler", job, "heartbeats",
			     hb);
	if (completion) {
		json_object_set(evidence, "completion_file", json_true());
		if (sprint_finish(ctx->journal, &transitioned, id,
				  json_string_value(json_object_get(
					  completion, "status")),
				  completion, evidence, err) < 0)
			goto out;
	} else if (sstate && !sched_state_from_name(&st, sstate) &&
		   sched_state_terminal(st)) {
		json_t *rec = json_pack(
			"{s:s, s:s}", "status", state_without_record(sstate),
			"error",
			!strcmp(sstate, "completed")
				? "the job ended without a completion record"
				: "the job ended without a completion record; "
				  "see the scheduler evidence");

		r = sprint_finish(ctx->journal, &transitioned, id,
				  state_without_record(sstate), rec, evidence,
				  err);
		json_decref(rec);
		if (r < 0)
			goto out;
	} else if (sstate && !strcmp(sstate, "unknown") &&
		   json_integer_value(json_object_get(hb, "new")) == 0 &&
		   stale(ctx, row)) {
		json_t *rec = json_pack(
			"{s:s, s:s}", "status", "lost", "error",
			"the scheduler does not know the job and its "
			"heartbeats stopped");

		r = sprint_finish(ctx->journal, &transitioned, id, "lost",
				  rec, evidence, err);
		json_decref(rec);
		if (r < 0)
			goto out;
	} else if (sstate && !strcmp(sstate, "running")) {
		json_t *params = json_pack("[s]", id);

		r = journal_exec(ctx->journal, NULL,
				 "UPDATE sprints SET state = 'running', "
				 "started_at = coalesce(started_at, "
				 "strftime('%Y-%m-%dT%H:%M:%SZ', 'now')) "
				 "WHERE id = ? AND state = 'submitted'",
				 params, err);
		json_decref(params);
		if (r < 0)
			goto out;
	}
	if (json_is_null(json_object_get(row, "job_id")))
		json_object_set_new(evidence, "note",
				    json_string("no job id recorded: the "
						"submission was interrupted; "
						"repeat the same submit-flow "
						"call to adopt or submit the "
						"job"));
	json_object_set(report, "evidence", evidence);
	r = 0;
out:
	json_decref(hb);
	json_decref(evidence);
	return r;
}

/* The output row of sprint 'id' as it now stands in the journal. */
static int sprint_report(struct ctx *ctx, const char *id,
			 const json_t *evidence, json_t **out,
			 struct err *err)
{
	json_t *row = NULL;
	const char *last;

	*out = NULL;
	if (sprint_get(ctx->journal, &row, id, err) < 0)
		return -1;
	last = json_string_value(json_object_get(row, "last_heartbeat_at"));
	*out = json_pack("{s:O, s:O, s:O, s:O, s:O, s:O, s:O, s:O, s:O}",
			 "sprint_id", json_object_get(row, "id"), "study",
			 json_object_get(row, "study"), "cluster",
			 json_object_get(row, "cluster"), "state",
			 json_object_get(row, "state"), "phase",
			 json_object_get(row, "phase"), "job_id",
			 json_object_get(row, "job_id"), "summary",
			 json_object_get(row, "summary"), "error",
			 json_object_get(row, "error"), "last_heartbeat_at",
			 json_object_get(row, "last_heartbeat_at"));
	json_object_set_new(*out, "last_heartbeat_age_s",
			    last ? json_integer(age_of(last)) : json_null());
	if (evidence) {
		json_object_set_new(*out, "evidence", json_deep_copy(evidence));
	} else {
		/* Not refreshed now: the evidence kept when it finished. */
		json_t *meta = json_loads(json_string_value(json_object_get(
						  row, "metadata")),
					  0, NULL);
		json_t *kept = json_object_get(meta, "evidence");

		json_object_set_new(*out, "evidence",
				    json_is_object(kept) ? json_deep_copy(kept)
							 : json_object());
		json_decref(meta);
	}
	json_decref(row);
	return 0;
}

/* ---------------------------------------------------------------- */
/* One cluster                                                        */
/* ---------------------------------------------------------------- */

/*
 * Take one query from the shared budget of 'c' in a short transaction
 * of its own; '*allowed_out' and '*wait_out' as cluster_take_query.
 */
static int take_budget(struct ctx *ctx, struct cluster *c, int *allowed_out,
		       double *wait_out, struct err *err)
{
	if (journal_begin(ctx->journal, err) < 0)
		return -1;
	if (cluster_take_query(ctx->journal, c, allowed_out, wait_out, err) <
	    0) {
		journal_rollback(ctx->journal);
		return -1;
	}
	return journal_commit(ctx->journal, err);
}

/*
 * Refresh the live sprints 'rows' of cluster 'name': one scheduler
 * query for all their job ids and the file reads, all before the
 * journal is locked; then every change in one transaction.  Results go
 * into 'evidence' ({sprint id: evidence}); a cluster that cannot be
 * reached becomes a partial error.
 */
static int refresh_cluster(struct ctx *ctx, const char *name,
			   const json_t *rows, json_t *evidence,
			   json_t *queried, struct err *err)
{
	struct cluster c = CLUSTER_INIT;
	struct err cerr = ERR_INIT;
	struct gathered *gs = NULL;
	json_t *ids = json_array(), *states = NULL, *cached = NULL;
	size_t i, n = json_array_size(rows);
	double wait = 0;
	int allowed = 0, r = -1;

	for (i = 0; i < n; i++) {
		const json_t *jid = json_object_get(json_array_get(rows, i),
						    "job_id");

		if (json_is_string(jid))
			json_array_append(ids, (json_t *)jid);
	}
	if (cluster_open(&c, ctx->config, name, &cerr) < 0)
		goto unreachable;
	if (json_array_size(ids)) {
		if (take_budget(ctx, &c, &allowed, &wait, err) < 0)
			goto out;
		if (allowed && sched_query(c.sched, &states, ids, &cerr) < 0)
			goto unreachable;
	}
	cached = json_pack("{s:s, s:{s:s}}", "state", "cached", "evidence",
			   "source", "query budget: not queried this call");
	/* Gather: remote reads only, the journal untouched. */
	gs = xcalloc(n ? n : 1, sizeof(*gs));
	for (i = 0; i < n; i++) {
		const char *jid;

		gs[i].row = json_array_get(rows, i);
		jid = json_string_value(json_object_get(gs[i].row, "job_id"));
		gs[i].job = jid && states ? json_object_get(states, jid) : NULL;
		if (read_heartbeats(&c, &gs[i], &cerr) < 0 ||
		    read_completion(&c, gs[i].row, &gs[i].completion,
				    &cerr) < 0)
			goto unreachable;
	}
	/* Apply: one transaction for the whole cluster. */
	if (journal_begin(ctx->journal, err) < 0)
		goto out;
	for (i = 0; i < n; i++) {
		json_t *rep = json_object();

		if (apply_sprint(ctx, &gs[i], rep, err) < 0) {
			json_decref(rep);
			journal_rollback(ctx->journal);
			goto out;
		}
		if (!gs[i].job && json_is_string(json_object_get(gs[i].row,
								 "job_id")) &&
		    !allowed)
			json_object_set(json_object_get(rep, "evidence"),
					"scheduler", cached);
		json_object_set_new(evidence,
				    json_string_value(json_object_get(
					    gs[i].row, "id")),
				    rep);
	}
	if (journal_commit(ctx->journal, err) < 0)
		goto out;
	json_object_set_new(queried, name,
			    json_pack("{s:b, s:I, s:f}", "queried", allowed,
				      "jobs", (json_int_t)json_array_size(ids),
				      "next_query_in_s", wait));
	r = 0;
	goto out;
unreachable:
	ctx_partial_error(ctx, cerr.code, cerr.message);
	json_object_set_new(queried, name,
			    json_pack("{s:b, s:s}", "queried", 0, "error",
				      err_name(cerr.code)));
	r = 0;
out:
	for (i = 0; gs && i < n; i++)
		gathered_release(&gs[i]);
	free(gs);
	cluster_release(&c);
	err_release(&cerr);
	json_decref(ids);
	json_decref(states);
	json_decref(cached);
	return r;
}

/* ---------------------------------------------------------------- */
/* The primitive                                                      */
/* ---------------------------------------------------------------- */

static int status_run(struct ctx *ctx, const json_t *spec, json_t **data,
		      struct err *err)
{
	const char *one = json_string_value(json_object_get(spec,
							     "sprint_id"));
	const char *study = json_string_value(json_object_get(spec, "study"));
	json_t *live = NULL, *shown = NULL, *params = NULL, *by_cluster = NULL;
	json_t *evidence = json_object(), *queried = json_object();
	json_t *sprints = json_array(), *row = NULL;
	const char *name;
	json_t *rows;
	size_t i;
	int r = -1;

	if (one && sprint_get(ctx->journal, &row, one, err) < 0)
		goto out;
	params = json_pack("[s?,s?,s?,s?]", one, one, study, study);
	if (journal_exec(ctx->journal, &live,
			 "SELECT * FROM sprints WHERE state IN ('pending', "
			 "'submitted', 'running') AND (? IS NULL OR id = ?) "
			 "AND (? IS NULL OR study = ?) ORDER BY created_at, id",
			 params, err) < 0)
		goto out;
	by_cluster = json_object();
	for (i = 0; i < json_array_size(live); i++) {
		json_t *s = json_array_get(live, i);
		const char *cl = json_string_value(json_object_get(s,
								    "cluster"));

		if (!json_object_get(by_cluster, cl))
			json_object_set_new(by_cluster, cl, json_array());
		json_array_append(json_object_get(by_cluster, cl), s);
	}
	json_object_foreach(by_cluster, name, rows) {
		if (refresh_cluster(ctx, name, rows, evidence, queried, err) <
		    0)
			goto out;
	}
	/* What to show: the one asked for, else live ones and recent. */
	json_decref(params);
	params = json_pack("[s?,s?,s?,s?,s?]", one, one, one, study, study);
	if (journal_exec(ctx->journal, &shown,
			 "SELECT id FROM sprints WHERE id IN (SELECT ? UNION "
			 "SELECT id FROM sprints WHERE ? IS NULL AND state IN "
			 "('pending', 'submitted', 'running') UNION SELECT id "
			 "FROM sprints WHERE ? IS NULL AND finished_at >= "
			 "strftime('%Y-%m-%dT%H:%M:%SZ', 'now', '-1 day')) "
			 "AND (? IS NULL OR study = ?) "
			 "ORDER BY created_at, id LIMIT 1000",
			 params, err) < 0)
		goto out;
	for (i = 0; i < json_array_size(shown); i++) {
		const char *id = json_string_value(
			json_object_get(json_array_get(shown, i), "id"));
		json_t *rep = json_object_get(evidence, id);
		json_t *out = NULL;

		if (sprint_report(ctx, id,
				  rep ? json_object_get(rep, "evidence")
				      : NULL,
				  &out, err) < 0)
			goto out;
		json_array_append_new(sprints, out);
	}
	*data = json_pack("{s:O, s:I, s:O}", "sprints", sprints, "live",
			  (json_int_t)json_array_size(live), "clusters",
			  queried);
	r = 0;
out:
	json_decref(row);
	json_decref(live);
	json_decref(shown);
	json_decref(params);
	json_decref(by_cluster);
	json_decref(evidence);
	json_decref(queried);
	json_decref(sprints);
	return r;
}

static const enum err_code status_errors[] = { ERR_NOT_FOUND, ERR_NONE };

const struct primitive prim_status = {
	.name = "status",
	.summary = "Refresh live sprints with one scheduler query per "
		   "cluster and report their state with evidence",
	.description =
		"For every live sprint (or the one named): one scheduler "
		"query per cluster for all job ids, when the shared query "
		"budget allows (otherwise the journal's last answer is "
		"reported as cached); new lines of heartbeats.jsonl are "
		"ingested; a finished job is closed with its "
		"completion.json, and without one it is never a success. "
		"Each sprint comes with its state, phase, last heartbeat "
		"age and the evidence. An unreachable cluster is a "
		"`partial_errors` entry, not a failure.",
	.example = "{}",
	.flags = PRIM_MUTATES | PRIM_IDEMPOTENT | PRIM_NEEDS_JOURNAL |
		 PRIM_NEEDS_CONFIG | PRIM_NEEDS_CLUSTER | PRIM_OWN_TX |
		 PRIM_HTTP,
	.errors = status_errors,
	.handler = status_run,
};
