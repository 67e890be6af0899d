/*
 * loop_tick.c: one tick of a loop (see loop_tick() in loop.h).  A tick
 * converges: it reads the journal and does each step that is due, in
 * order, each in a short transaction of its own, and stops where it
 * must wait (a run is live, another tick holds the iteration, the loop
 * is done):
 *
 *	refresh   bring the loop's live run up to date with its cluster
 *	          (which records a finished run's metric: refresh.c)
 *	gate      stop a run past twice its time budget as a timeout
 *	record    record every finished run the ledger lacks
 *	progress  count the runs, hours and dollars spent
 *	stop      honour a stop request
 *	finish    at the count, the budget, or a failure (stop_on_failure)
 *	meta      meta-analyze when due
 *	idea      propose the idea of the next iteration (claimed by key)
 *	submit    submit it (keyed by loop and iteration: submit.h)
 *
 * The steps stay in one file, a little over 800 lines, so that a tick
 * reads in the order it runs; the work of each step lives in the module
 * that owns it (refresh.h, ledger.h, meta.h, idea.h, submit.h, loop.h).
 *
 * A little longer than most files in src/: every step of a tick shares
 * the private struct tick and its small transaction helpers; the banners
 * divide it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "carry.h"
#include "cluster.h"
#include "config.h"
#include "crypto.h"
#include "fault.h"
#include "idea.h"
#include "idem.h"
#include "ids.h"
#include "journal.h"
#include "ledger.h"
#include "loop.h"
#include "meta.h"
#include "metric.h"
#include "refresh.h"
#include "sched.h"
#include "sprint.h"
#include "submit.h"
#include "transport.h"
#include "banned.h"

/* The primitive name the loop's keys are kept under. */
#define TICK_PRIMITIVE "loop-tick"

/* One tick of one loop. */
struct tick {
	struct journal *j;
	const struct config *cfg;
	const char *id;	   /* the loop */
	json_t *loop;	   /* its row, re-read as it changes (owned) */
	const char *study; /* borrowed from 'loop' */
	json_t *steps;	   /* what was done: [{step, ...}] (owned) */
	json_t *partial;   /* {code, detail} of partial failures */
	struct loop_budget budget;
	int64_t seen; /* the loop's newest result before the tick */
};

/* Add the step {"step": 'name'} with the members of 'data' (stolen). */
static void step(struct tick *t, const char *name, json_t *data)
{
	json_t *s = json_pack("{s:s}", "step", name);

	if (data) {
		json_object_update(s, data);
		json_decref(data);
	}
	json_array_append_new(t->steps, s);
}

/* Note the partial failure 'e' of 'what' (the tick goes on). */
static void partial(struct tick *t, const char *what, const struct err *e)
{
	struct buf b = BUF_INIT;

	if (!t->partial)
		return;
	buf_addf(&b, "loop %s: %s: %s", t->id, what, e->message);
	json_array_append_new(t->partial,
			      json_pack("{s:s, s:s}", "code", err_name(e->code),
					"detail", buf_str(&b)));
	buf_release(&b);
}

/* Re-read the loop row. */
static int reload(struct tick *t, struct err *err)
{
	json_t *row = NULL;

	if (loop_get(t->j, &row, t->id, err) < 0)
		return -1;
	json_decref(t->loop);
	t->loop = row;
	t->study = json_string_value(json_object_get(row, "study"));
	loop_budget_of(&t->budget, row);
	return 0;
}

/* Run 'sql' for loop 't' (one '?': its id) into a new array of rows. */
static int loop_rows(struct tick *t, json_t **out, const char *sql,
		     struct err *err)
{
	json_t *params = json_pack("[s]", t->id);
	int r = journal_exec(t->j, out, sql, params, err);

	json_decref(params);
	return r;
}

/* The loop's live sprints, oldest first: a new array of rows. */
static int live_sprints(struct tick *t, json_t **out, struct err *err)
{
	return loop_rows(t, out,
			 "SELECT * FROM sprints WHERE loop_id = ? AND state IN "
			 "('pending', 'submitted', 'running') ORDER BY "
			 "created_at, id",
			 err);
}

/* Run 'fn' in a transaction of its own. */
static int in_tx(struct tick *t, int (*fn)(struct tick *, void *, struct err *),
		 void *arg, struct err *err)
{
	if (journal_begin(t->j, err) < 0)
		return -1;
	if (fn(t, arg, err) < 0 || journal_commit(t->j, err) < 0) {
		journal_rollback(t->j);
		return -1;
	}
	return 0;
}

/* ---------------------------------------------------------------- */
/* refresh, gate, record                                              */
/* ---------------------------------------------------------------- */

/* Bring the live sprints of the loop up to date with their clusters. */
static int refresh(struct tick *t, struct err *err)
{
	json_t *live = NULL, *by = json_object(), *evidence = json_object();
	const char *name;
	json_t *rows;
	size_t i;
	int r = -1;

	if (live_sprints(t, &live, err) < 0)
		goto out;
	for (i = 0; i < json_array_size(live); i++) {
		json_t *s = json_array_get(live, i);
		const char *cl =
		    json_string_value(json_object_get(s, "cluster"));

		if (!json_object_get(by, cl))
			json_object_set_new(by, cl, json_array());
		json_array_append(json_object_get(by, cl), s);
	}
	json_object_foreach(by, name, rows)
	{
		struct err unreachable = ERR_INIT;
		json_t *summary = NULL;

		r = refresh_cluster(t->j, t->cfg, name, rows, evidence,
				    &summary, &unreachable, err);
		if (r == 0 && unreachable.code != ERR_NONE)
			partial(t, "refresh", &unreachable);
		err_release(&unreachable);
		json_decref(summary);
		if (r < 0)
			goto out;
	}
	r = 0;
out:
	json_decref(live);
	json_decref(by);
	json_decref(evidence);
	return r;
}

/* What a gated sprint is finished with. */
struct gated {
	const json_t *row; /* the sprint */
	double elapsed;	   /* seconds it ran */
};

/* Finish the gated sprint as timed out and record it (in the tx). */
static int finish_gated(struct tick *t, void *arg, struct err *err)
{
	struct gated *g = arg;
	const char *id = json_string_value(json_object_get(g->row, "id"));
	json_t *rec, *ev, *row = NULL;
	struct buf why = BUF_INIT;
	int done, r = -1;

	buf_addf(&why,
		 "ran %.0f s, past %d times its time budget of %d s: "
		 "stopped by the loop's time gate",
		 g->elapsed, LOOP_GATE_FACTOR, t->budget.run_budget_s);
	rec = json_pack("{s:s, s:s}", "status", "timed_out", "error",
			buf_str(&why));
	ev = json_pack("{s:s, s:f, s:i, s:i}", "source", "loop-gate",
		       "elapsed_s", g->elapsed, "run_budget_s",
		       t->budget.run_budget_s, "factor", LOOP_GATE_FACTOR);
	if (sprint_finish(t->j, &done, id, SPRINT_TIMED_OUT, rec, ev, err) < 0)
		goto out;
	if (done) {
		if (sprint_get(t->j, &row, id, err) < 0 ||
		    ledger_record_sprint(t->j, NULL, t->cfg, row, NULL, 0, NULL,
					 err) < 0 ||
		    loop_note(t->j, t->id, "loop.gate", ev, err) < 0)
			goto out;
	}
	r = 0;
out:
	buf_release(&why);
	json_decref(rec);
	json_decref(ev);
	json_decref(row);
	return r;
}

/* Seconds since the ISO time 's', or -1. */
static double age_of(const char *s)
{
	time_t then;

	if (!s || ids_parse_time(&then, s) < 0)
		return -1;
	return (double)(time(NULL) - then);
}

/*
 * The time gate: a running sprint past LOOP_GATE_FACTOR times the run
 * budget is cancelled on its scheduler and finished as timed out.
 */
static int gate(struct tick *t, struct err *err)
{
	json_t *live = NULL;
	size_t i;
	int r = -1;

	if (t->budget.run_budget_s <= 0)
		return 0;
	if (live_sprints(t, &live, err) < 0)
		return -1;
	for (i = 0; i < json_array_size(live); i++) {
		const json_t *row = json_array_get(live, i);
		const json_t *job = json_object_get(row, "job_id");
		struct cluster c = CLUSTER_INIT;
		struct err cerr = ERR_INIT;
		struct gated g;
		json_t *ids;

		g.row = row;
		g.elapsed = age_of(
		    json_string_value(json_object_get(row, "started_at")));
		if (!json_is_string(job) ||
		    !loop_gate_passed(t->budget.run_budget_s, g.elapsed))
			continue;
		ids = json_pack("[O]", job);
		if (cluster_open(
			&c, t->cfg,
			json_string_value(json_object_get(row, "cluster")),
			&cerr) < 0 ||
		    sched_cancel(c.sched, ids, &cerr) < 0) {
			partial(t, "time gate", &cerr);
		} else if (in_tx(t, finish_gated, &g, err) < 0) {
			json_decref(ids);
			cluster_release(&c);
			err_release(&cerr);
			goto out;
		} else {
			step(t, "gate",
			     json_pack("{s:O, s:f, s:i}", "sprint_id",
				       json_object_get(row, "id"), "elapsed_s",
				       g.elapsed, "run_budget_s",
				       t->budget.run_budget_s));
		}
		json_decref(ids);
		cluster_release(&c);
		err_release(&cerr);
	}
	r = 0;
out:
	json_decref(live);
	return r;
}

/* What an ingested sprint is recorded with. */
struct ingest {
	const json_t *row; /* the sprint */
	char *metric;	   /* its metric file's text, or NULL */
	size_t len;
	char *why; /* why there is none */
};

static int record_one(struct tick *t, void *arg, struct err *err)
{
	struct ingest *in = arg;
	json_t *row = NULL;
	int r;

	/* The row as it is now: another tick may have recorded it. */
	if (sprint_get(t->j, &row,
		       json_string_value(json_object_get(in->row, "id")),
		       err) < 0)
		return -1;
	r = ledger_record_sprint(t->j, NULL, t->cfg, row, in->metric, in->len,
				 in->why, err);
	json_decref(row);
	return r;
}

/*
 * Record every finished sprint of the loop that the ledger lacks (one
 * that was cancelled, or finished by another path than a refresh),
 * reading a completed one's metric file through its cluster.
 */
static int record(struct tick *t, struct err *err)
{
	json_t *rows = NULL;
	size_t i;
	int r = -1;

	if (loop_rows(t, &rows,
		      "SELECT * FROM sprints s WHERE loop_id = ? AND state IN "
		      "('completed', 'failed', 'timed_out', 'cancelled', "
		      "'lost') AND NOT EXISTS (SELECT 1 FROM results r WHERE "
		      "r.sprint_id = s.id AND r.status <> 'requeued') ORDER "
		      "BY created_at, id",
		      err) < 0)
		return -1;
	for (i = 0; i < json_array_size(rows); i++) {
		const json_t *row = json_array_get(rows, i);
		struct cluster c = CLUSTER_INIT;
		struct err cerr = ERR_INIT;
		struct ingest in = {row, NULL, 0, NULL};
		int ok = 1;

		/* First the commit the run produced (carry.h). */
		if (carry_capture(t->j, t->cfg, row, &cerr) < 0) {
			partial(t, "carry", &cerr);
			ok = 0;
		} else if (!strcmp(json_string_value(
				       json_object_get(row, "state")),
				   "completed") &&
			   (cluster_open(
			 &c, t->cfg,
			 json_string_value(json_object_get(row, "cluster")),
			 &cerr) < 0 ||
		     metric_read(
			 c.t, &in.metric, &in.len, &in.why,
			 json_string_value(json_object_get(row, "directory")),
			 METRIC_SPRINT_FILE, METRIC_FILE_MAX, 0, &cerr) < 0)) {
			/* Not now: its cluster cannot be reached. */
			partial(t, "record", &cerr);
			ok = 0;
		}
		if (ok && in_tx(t, record_one, &in, err) < 0)
			ok = -1;
		cluster_release(&c);
		err_release(&cerr);
		free(in.metric);
		free(in.why);
		if (ok < 0)
			goto out;
	}
	r = 0;
out:
	json_decref(rows);
	return r;
}

/* What advancing the loop records. */
struct advance {
	int iteration;
	const char *sprint_id;
	const char *idea_id;
	int advanced;
};

static int advance(struct tick *t, void *arg, struct err *err)
{
	struct advance *a = arg;

	if (loop_advance(t->j, &a->advanced, t->id, a->iteration, a->sprint_id,
			 a->idea_id, err) < 0)
		return -1;
	return a->idea_id ? idea_set_sprint(t->j, a->idea_id, a->sprint_id, err)
			  : 0;
}

/*
 * A tick that died between submitting an iteration and advancing the
 * loop left a sprint of an iteration the loop row does not count yet:
 * advance it to the newest iteration its sprints carry.
 */
static int sync_iteration(struct tick *t, struct err *err)
{
	json_t *rows = NULL;
	struct advance a;
	int r;

	if (loop_rows(t, &rows,
		      "SELECT id, json_extract(metadata, '$.loop_iteration') "
		      "AS n, json_extract(metadata, '$.idea_id') AS idea "
		      "FROM sprints WHERE loop_id = ? AND n IS NOT NULL "
		      "ORDER BY n DESC, created_at DESC LIMIT 1",
		      err) < 0)
		return -1;
	memset(&a, 0, sizeof(a));
	a.iteration = (int)json_integer_value(
	    json_object_get(json_array_get(rows, 0), "n"));
	a.sprint_id =
	    json_string_value(json_object_get(json_array_get(rows, 0), "id"));
	a.idea_id =
	    json_string_value(json_object_get(json_array_get(rows, 0), "idea"));
	r = 0;
	if (a.sprint_id && a.iteration > json_integer_value(json_object_get(
					     t->loop, "iteration")))
		r = in_tx(t, advance, &a, err);
	json_decref(rows);
	return r < 0 ? -1 : reload(t, err);
}

/* The results recorded for the loop during this tick, as a step. */
static int recorded(struct tick *t, struct err *err)
{
	json_t *rows = NULL, *list, *params;
	size_t i;

	params = json_pack("[s,I]", t->id, (json_int_t)t->seen);
	if (journal_exec(t->j, &rows,
			 "SELECT id, sprint_id, metric, status FROM results "
			 "WHERE loop_id = ? AND id > ? ORDER BY id",
			 params, err) < 0) {
		json_decref(params);
		return -1;
	}
	json_decref(params);
	if (json_array_size(rows)) {
		list = json_array();
		for (i = 0; i < json_array_size(rows); i++) {
			json_t *row = json_array_get(rows, i);

			json_array_append_new(
			    list,
			    json_pack("{s:O, s:O, s:O, s:O}", "result_id",
				      json_object_get(row, "id"), "sprint_id",
				      json_object_get(row, "sprint_id"),
				      "metric", json_object_get(row, "metric"),
				      "status",
				      json_object_get(row, "status")));
		}
		step(t, "record", json_pack("{s:o}", "results", list));
	}
	json_decref(rows);
	return 0;
}

/* ---------------------------------------------------------------- */
/* progress, stop, finish                                             */
/* ---------------------------------------------------------------- */

/* What the loop has spent, from the ledger and its agents' costs. */
static int progress_of(struct tick *t, struct loop_progress *p, struct err *err)
{
	json_t *counts = NULL, *row = NULL, *params;
	int r;

	memset(p, 0, sizeof(*p));
	if (ledger_counts(t->j, &counts, t->study, t->id, err) < 0)
		return -1;
	p->runs = (int)json_integer_value(json_object_get(counts, "runs"));
	p->usd = json_number_value(json_object_get(counts, "cost_usd"));
	json_decref(counts);
	params = json_pack("[s,s,s]", t->id, t->id, t->id);
	r = journal_row(t->j, &row,
			"SELECT (SELECT coalesce(sum(cost_usd), 0) FROM ideas "
			"WHERE loop_id = ?) + (SELECT coalesce(sum(cost_usd), "
			"0) FROM meta_analyses WHERE loop_id = ?) AS agents, "
			"(SELECT status FROM results WHERE loop_id = ? AND "
			"status <> 'requeued' ORDER BY id DESC LIMIT 1) AS "
			"last",
			params, err);
	json_decref(params);
	if (r < 0)
		return -1;
	p->usd += json_number_value(json_object_get(row, "agents"));
	p->last_failed =
	    json_is_string(json_object_get(row, "last")) &&
	    (!strcmp(json_string_value(json_object_get(row, "last")),
		     "crash") ||
	     !strcmp(json_string_value(json_object_get(row, "last")),
		     "timeout"));
	p->hours = loop_active_hours(t->loop, time(NULL));
	json_decref(row);
	return 0;
}

static int store_progress(struct tick *t, void *arg, struct err *err)
{
	return loop_set_progress(t->j, t->id, arg, err);
}

/* What loop_apply() is asked. */
struct apply {
	enum loop_event ev;
	json_t *data; /* borrowed */
	int changed;
};

static int apply_event(struct tick *t, void *arg, struct err *err)
{
	struct apply *a = arg;

	return loop_apply(t->j, &a->changed, t->id, a->ev, a->data, err);
}

/* Apply 'ev' with 'data' (stolen) and add the step 'name' if it took. */
static int transition(struct tick *t, const char *name, enum loop_event ev,
		      json_t *data, struct err *err)
{
	struct apply a = {ev, data, 0};
	int r = in_tx(t, apply_event, &a, err);

	if (r == 0 && a.changed)
		step(t, name, json_incref(data));
	json_decref(data);
	return r < 0 ? -1 : reload(t, err);
}

/* ---------------------------------------------------------------- */
/* idea, submit                                                       */
/* ---------------------------------------------------------------- */

/* The key of iteration 'n' of the loop, for 'what' ("" or ":idea"). */
static void tick_key(struct idem_key *k, const char *id, int n,
		     const char *what)
{
	snprintf(k->key, sizeof(k->key), "%s:%d%s", id, n, what);
	crypto_sha256_hex(k->hash, k->key, strlen(k->key));
}

/*
 * The idea of iteration 'n': the one stored already, or a new one that
 * this tick proposes under the iteration's key (idea.h).  '*idea_out' is
 * its view (new), or NULL when another tick is proposing it
 * ('*busy_out').
 */
static int idea_for(struct tick *t, json_t **idea_out, int *busy_out, int n,
		    struct err *err)
{
	struct idem_key k;
	int fresh;

	tick_key(&k, t->id, n, ":idea");
	if (idea_for_iteration(
		t->j, idea_out, busy_out, &fresh, t->cfg, TICK_PRIMITIVE, &k,
		t->study, t->id, n,
		json_string_value(json_object_get(t->loop, "proposer")),
		err) < 0)
		return -1;
	if (fresh)
		step(t, "idea",
		     json_pack("{s:i, s:O, s:O, s:O}", "iteration", n,
			       "idea_id", json_object_get(*idea_out, "idea_id"),
			       "mode", json_object_get(*idea_out, "mode"),
			       "text", json_object_get(*idea_out, "text")));
	return 0;
}

/* Submit iteration 'n' with the idea 'idea' under the iteration's key. */
static int submit(struct tick *t, int *busy_out, int n, const json_t *idea,
		  struct err *err)
{
	struct submit_request req;
	struct carry_submit cs;
	struct advance a;
	struct idem_key k;
	json_t *meta, *data = NULL;
	int replayed = 0, r = -1;

	*busy_out = 0;
	tick_key(&k, t->id, n, "");
	meta = json_pack("{s:i, s:O, s:O}", "loop_iteration", n, "idea_id",
			 json_object_get(idea, "idea_id"), "params",
			 json_object_get(idea, "params"));
	memset(&req, 0, sizeof(req));
	req.primitive = TICK_PRIMITIVE;
	req.key = &k;
	req.study = t->study;
	req.idea = json_string_value(json_object_get(idea, "text"));
	req.loop_id = t->id;
	req.metadata = meta;
	req.params = json_object_get(idea, "params");
	carry_request(&req, &cs, t->j, t->cfg, t->study, t->id);
	if (t->budget.run_budget_s > 0)
		req.time_limit_s = LOOP_GATE_FACTOR * t->budget.run_budget_s +
				   LOOP_GATE_GRACE_S;
	if (submit_sprint(t->j, &data, &replayed, t->cfg, &req, err) < 0) {
		if (err->code == ERR_IN_PROGRESS) {
			err_clear(err);
			*busy_out = 1;
			r = 0;
		}
		goto out;
	}
	memset(&a, 0, sizeof(a));
	a.iteration = n;
	a.sprint_id = json_string_value(json_object_get(data, "sprint_id"));
	a.idea_id = json_string_value(json_object_get(idea, "idea_id"));
	fault_point("loop.before_advance");
	if (in_tx(t, advance, &a, err) < 0)
		goto out;
	if (a.advanced)
		step(t, "submit",
		     json_pack("{s:i, s:O, s:O, s:O, s:b}", "iteration", n,
			       "sprint_id", json_object_get(data, "sprint_id"),
			       "state", json_object_get(data, "state"),
			       "job_id", json_object_get(data, "job_id"),
			       "replayed", replayed));
	r = reload(t, err);
out:
	json_decref(meta);
	json_decref(data);
	return r;
}

/*
 * A tick that died while submitting left its iteration's sprint pending
 * without a job: submit it again under the iteration's key, which
 * resumes the dead attempt (while that attempt lives, it says busy).
 */
static int resume_submit(struct tick *t, const json_t *s, struct err *err)
{
	json_t *meta, *idea = NULL;
	int busy = 0, n, r;

	if (strcmp(json_string_value(json_object_get(s, "state")),
		   "pending") ||
	    json_is_string(json_object_get(s, "job_id")))
		return 0;
	meta = json_loads(json_string_value(json_object_get(s, "metadata")),
			  0, NULL);
	n = (int)json_integer_value(json_object_get(meta, "loop_iteration"));
	json_decref(meta);
	if (n <= 0 || idea_for(t, &idea, &busy, n, err) < 0)
		return n <= 0 ? 0 : -1;
	r = busy ? 0 : submit(t, &busy, n, idea, err);
	json_decref(idea);
	return r;
}

/* ---------------------------------------------------------------- */
/* The tick                                                           */
/* ---------------------------------------------------------------- */

/* The newest result id of the loop into 't->seen'. */
static int newest_result(struct tick *t, struct err *err)
{
	json_t *rows = NULL;

	if (loop_rows(t, &rows,
		      "SELECT coalesce(max(id), 0) AS id FROM results WHERE "
		      "loop_id = ?",
		      err) < 0)
		return -1;
	t->seen =
	    json_integer_value(json_object_get(json_array_get(rows, 0), "id"));
	json_decref(rows);
	return 0;
}

/* The steps that need the loop to be running or stopping. */
static int advance_loop(struct tick *t, json_t **live_out, struct err *err)
{
	struct loop_progress p;
	json_t *meta = NULL, *idea = NULL;
	const char *state, *why, *mode;
	struct err merr = ERR_INIT;
	int busy, n;

	*live_out = NULL;
	if (newest_result(t, err) < 0 || refresh(t, err) < 0 ||
	    gate(t, err) < 0 || record(t, err) < 0 || recorded(t, err) < 0 ||
	    sync_iteration(t, err) < 0 || progress_of(t, &p, err) < 0 ||
	    in_tx(t, store_progress, &p, err) < 0 || reload(t, err) < 0)
		return -1;
	state = json_string_value(json_object_get(t->loop, "state"));
	if (!strcmp(state, "stopping"))
		return transition(
		    t, "stop", LOOP_EV_STOPPED,
		    json_pack("{s:i}", "iteration",
			      (int)json_integer_value(
				  json_object_get(t->loop, "iteration"))),
		    err);
	if (live_sprints(t, live_out, err) < 0)
		return -1;
	if (json_array_size(*live_out)) {
		const json_t *s = json_array_get(*live_out, 0);

		if (resume_submit(t, s, err) < 0)
			return -1;
		step(t, "wait",
		     json_pack("{s:O, s:O, s:O}", "sprint_id",
			       json_object_get(s, "id"), "state",
			       json_object_get(s, "state"), "phase",
			       json_object_get(s, "phase")));
		return 0;
	}
	why = loop_finish_reason(&t->budget, &p);
	if (why)
		return transition(t, "finish", LOOP_EV_FINISHED,
				  json_pack("{s:s, s:i, s:f, s:f}", "reason",
					    why, "runs", p.runs, "hours",
					    p.hours, "usd", p.usd),
				  err);
	mode = strcmp(json_string_value(json_object_get(t->loop, "proposer")),
		      "agent")
		   ? "builtin"
		   : "agent";
	if (meta_run(t->j, &meta, t->cfg, t->study, t->id, mode, NULL, 0,
		     t->partial, &merr) < 0) {
		/* Advisory: a failed meta-analysis does not stop the loop. */
		partial(t, "meta-analysis", &merr);
	} else if (json_is_true(json_object_get(
		       json_object_get(meta, "analysis"), "new"))) {
		step(
		    t, "meta",
		    json_pack("{s:O, s:O}", "meta_id",
			      json_object_get(json_object_get(meta, "analysis"),
					      "id"),
			      "reason",
			      json_object_get(json_object_get(meta, "analysis"),
					      "reason")));
	}
	json_decref(meta);
	err_release(&merr);
	n = (int)json_integer_value(json_object_get(t->loop, "iteration")) + 1;
	if (idea_for(t, &idea, &busy, n, err) < 0)
		return -1;
	if (busy) {
		step(t, "busy",
		     json_pack("{s:i, s:s}", "iteration", n, "what",
			       "another tick is proposing its "
			       "idea"));
		return 0;
	}
	fault_point("loop.after_idea");
	if (submit(t, &busy, n, idea, err) < 0) {
		json_decref(idea);
		return -1;
	}
	if (busy)
		step(t, "busy",
		     json_pack("{s:i, s:s}", "iteration", n, "what",
			       "another tick is submitting it"));
	json_decref(idea);
	return 0;
}

/* Whether a step other than waiting was taken. */
static int did_something(const json_t *steps)
{
	size_t i;

	for (i = 0; i < json_array_size(steps); i++) {
		const char *s = json_string_value(
		    json_object_get(json_array_get(steps, i), "step"));

		if (strcmp(s, "busy") && strcmp(s, "wait"))
			return 1;
	}
	return 0;
}

static int note_tick(struct tick *t, void *arg, struct err *err)
{
	json_t *ev = json_pack("{s:O}", "steps", (json_t *)arg);
	int r = loop_note(t->j, t->id, "loop.tick", ev, err);

	json_decref(ev);
	return r;
}

int loop_tick(struct journal *j, json_t **out, const struct config *cfg,
	      const char *id, json_t *partials, struct err *err)
{
	struct tick t;
	json_t *live = NULL, *view = NULL, *current = json_null();
	char state[32];
	int r = -1;

	*out = NULL;
	memset(&t, 0, sizeof(t));
	t.j = j;
	t.cfg = cfg;
	t.id = id;
	t.steps = json_array();
	t.partial = partials;
	if (reload(&t, err) < 0)
		goto out;
	if (!config_study(cfg, t.study)) {
		err_set(err, ERR_NOT_FOUND,
			"loop '%s' runs study '%s', which "
			"is not in %s",
			id, t.study, cfg->path);
		err_remedy(err, "put the study back in hpcloop.yaml, or stop "
				"the loop");
		goto out;
	}
	/* A copy: advancing reloads t.loop, which frees the row. */
	snprintf(state, sizeof(state), "%s",
		 json_string_value(json_object_get(t.loop, "state")));
	if ((!strcmp(state, "running") || !strcmp(state, "stopping")) &&
	    advance_loop(&t, &live, err) < 0)
		goto out;
	/* A stopped loop's runs still finish and are recorded. */
	if (!strcmp(state, "stopped") &&
	    (refresh(&t, err) < 0 || record(&t, err) < 0))
		goto out;
	if (did_something(t.steps) && in_tx(&t, note_tick, t.steps, err) < 0)
		goto out;
	json_decref(live);
	live = NULL;
	if (live_sprints(&t, &live, err) < 0)
		goto out;
	if (json_array_size(live)) {
		const json_t *s = json_array_get(live, 0);

		current = json_pack("{s:O, s:O, s:O}", "sprint_id",
				    json_object_get(s, "id"), "state",
				    json_object_get(s, "state"), "phase",
				    json_object_get(s, "phase"));
	}
	view = loop_public(t.loop);
	json_object_set_new(view, "steps", json_incref(t.steps));
	json_object_set_new(view, "live", current);
	current = NULL;
	*out = view;
	r = 0;
out:
	json_decref(current);
	json_decref(live);
	json_decref(t.loop);
	json_decref(t.steps);
	return r;
}
