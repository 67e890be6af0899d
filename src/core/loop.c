/*
 * loop.c: a loop's states, events, budget and row (see loop.h).  The
 * tick that drives it lives in loop_tick.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "config.h"
#include "ids.h"
#include "journal.h"
#include "loop.h"
#include "sprint.h"
#include "xalloc.h"
#include "banned.h"

/* ---------------------------------------------------------------- */
/* States and events                                                  */
/* ---------------------------------------------------------------- */

static const char *const state_names[LOOP__COUNT] = {
	"running", "stopping", "stopped", "finished",
};

static const char *const event_names[LOOP_EV__COUNT] = {
	"loop.started", "loop.stop_requested", "loop.stopped",
	"loop.resumed", "loop.finished",
};

const char *loop_state_name(enum loop_state s)
{
	if ((int)s < 0 || s >= LOOP__COUNT)
		return "unknown";
	return state_names[s];
}

int loop_state_parse(enum loop_state *out, const char *name)
{
	int i;

	for (i = 0; name && i < LOOP__COUNT; i++) {
		if (!strcmp(name, state_names[i])) {
			*out = (enum loop_state)i;
			return 0;
		}
	}
	return -1;
}

const char *loop_event_name(enum loop_event ev)
{
	if ((int)ev < 0 || ev >= LOOP_EV__COUNT)
		return "loop.unknown";
	return event_names[ev];
}

int loop_next_state(enum loop_state *out, enum loop_state cur,
		    enum loop_event ev)
{
	if (cur == LOOP__COUNT) {
		if (ev != LOOP_EV_STARTED)
			return -1;
		*out = LOOP_RUNNING;
		return 0;
	}
	if ((int)cur < 0 || cur > LOOP__COUNT || cur == LOOP_FINISHED)
		return -1;
	switch (ev) {
	case LOOP_EV_STOP_REQUESTED:
		/* Stopping a stopped loop changes nothing. */
		*out = cur == LOOP_RUNNING ? LOOP_STOPPING : cur;
		return 0;
	case LOOP_EV_STOPPED:
		if (cur == LOOP_RUNNING)
			return -1;
		*out = LOOP_STOPPED;
		return 0;
	case LOOP_EV_RESUMED:
		*out = LOOP_RUNNING;
		return 0;
	case LOOP_EV_FINISHED:
		if (cur == LOOP_STOPPED)
			return -1;
		*out = LOOP_FINISHED;
		return 0;
	case LOOP_EV_STARTED:
	default:
		return -1;
	}
}

const char *loop_finish_reason(const struct loop_budget *b,
			       const struct loop_progress *p)
{
	if (b->stop_on_failure && p->last_failed)
		return "failure";
	if (b->max_runs > 0 && p->runs >= b->max_runs && b->max_runs < b->count)
		return "max_runs";
	if (p->runs >= b->count)
		return "count";
	if (b->max_hours > 0 && p->hours >= b->max_hours)
		return "max_hours";
	if (b->max_usd > 0 && p->usd >= b->max_usd)
		return "max_usd";
	return NULL;
}

int loop_gate_passed(int run_budget_s, double elapsed_s)
{
	return run_budget_s > 0 &&
	       elapsed_s > (double)LOOP_GATE_FACTOR * run_budget_s;
}

/* ---------------------------------------------------------------- */
/* Rows                                                               */
/* ---------------------------------------------------------------- */

/* Run 'sql' with 'params' (stolen). */
static int exec_steal(struct journal *j, const char *sql, json_t *params,
		      struct err *err)
{
	int r = journal_exec(j, NULL, sql, params, err);

	json_decref(params);
	return r;
}

/* A fresh "lp-" + 6 hex id that no loop has. */
static int new_id(struct journal *j, char out[LOOP_ID_MAX], struct err *err)
{
	json_t *row = NULL, *params;
	int tries;

	for (tries = 0; tries < 100; tries++) {
		if (ids_new(out, LOOP_ID_MAX, "lp-", 6) < 0)
			return err_set(err, ERR_INTERNAL,
				       "no randomness for a loop id");
		params = json_pack("[s]", out);
		if (journal_row(j, &row, "SELECT id FROM loops WHERE id = ?",
				params, err) < 0) {
			json_decref(params);
			return -1;
		}
		json_decref(params);
		if (!row)
			return 0;
		json_decref(row);
		row = NULL;
	}
	return err_set(err, ERR_INTERNAL, "no free loop id");
}

/* A number column: the value, or NULL when 'v' is 0 (no limit). */
static json_t *limit_or_null(double v, int integer)
{
	if (v <= 0)
		return json_null();
	return integer ? json_integer((json_int_t)v) : json_real(v);
}

int loop_create(struct journal *j, json_t **row_out, const struct loop_new *n,
		struct err *err)
{
	char id[LOOP_ID_MAX], now[IDS_TIME_LEN];
	const struct loop_budget *b = &n->budget;
	json_t *ev;
	int r;

	*row_out = NULL;
	if (sprint_ensure_study(j, n->study, n->cluster, err) < 0 ||
	    new_id(j, id, err) < 0)
		return -1;
	ids_now(now);
	if (exec_steal(j,
		       "INSERT INTO loops (id, study, state, mode, proposer, "
		       "guidance, count, max_runs, max_hours, max_usd, "
		       "stop_on_failure, run_budget_s, running_since, "
		       "created_at, updated_at) VALUES (?, ?, 'running', ?, "
		       "?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
		       json_pack("[s,s,s,s,s?,i,o,o,o,i,o,s,s,s]", id, n->study,
				 n->mode, n->proposer, n->guidance, b->count,
				 limit_or_null(b->max_runs, 1),
				 limit_or_null(b->max_hours, 0),
				 limit_or_null(b->max_usd, 0),
				 b->stop_on_failure ? 1 : 0,
				 limit_or_null(b->run_budget_s, 1), now, now,
				 now),
		       err) < 0)
		return -1;
	if (loop_get(j, row_out, id, err) < 0)
		return -1;
	ev = loop_public(*row_out);
	r = journal_event(j, NULL, loop_event_name(LOOP_EV_STARTED), id, ev,
			  err);
	json_decref(ev);
	if (r < 0) {
		json_decref(*row_out);
		*row_out = NULL;
	}
	return r;
}

int loop_get(struct journal *j, json_t **row_out, const char *id,
	     struct err *err)
{
	json_t *params = json_pack("[s]", id);
	int r = journal_row(j, row_out, "SELECT * FROM loops WHERE id = ?",
			    params, err);

	json_decref(params);
	if (r < 0)
		return -1;
	if (!*row_out) {
		err_set(err, ERR_NOT_FOUND, "no loop '%s'", id);
		return err_remedy(err, "`hpcloop loop-status` lists the "
				       "loops");
	}
	return 0;
}

/* Seconds since the ISO time 's' at 'now', or 0. */
static double since(const char *s, time_t now)
{
	time_t t;

	if (!s || ids_parse_time(&t, s) < 0 || t > now)
		return 0;
	return (double)(now - t);
}

double loop_active_hours(const json_t *row, time_t now)
{
	double s = json_number_value(json_object_get(row, "active_s"));
	const char *st = json_string_value(json_object_get(row, "state"));

	/* A stopping loop still runs until the tick stops it. */
	if (st && (!strcmp(st, "running") || !strcmp(st, "stopping")))
		s += since(
		    json_string_value(json_object_get(row, "running_since")),
		    now);
	return s / 3600.0;
}

int loop_apply(struct journal *j, int *changed_out, const char *id,
	       enum loop_event ev, const json_t *data, struct err *err)
{
	json_t *row = NULL, *evd = NULL;
	enum loop_state cur, to;
	char now[IDS_TIME_LEN];
	const char *reason = json_string_value(json_object_get(data, "reason"));
	double active;
	int r = -1;

	*changed_out = 0;
	if (loop_get(j, &row, id, err) < 0)
		return -1;
	if (loop_state_parse(
		&cur, json_string_value(json_object_get(row, "state"))) < 0)
		cur = LOOP_STOPPED;
	if (loop_next_state(&to, cur, ev) < 0) {
		err_set(err, ERR_CONFLICT, "loop '%s' is %s", id,
			loop_state_name(cur));
		err_detail(err, "state", json_string(loop_state_name(cur)));
		if (cur == LOOP_FINISHED)
			err_remedy(err,
				   "a finished loop stays finished; "
				   "start a new one with `hpcloop loop-start`");
		goto out;
	}
	if (to == cur) {
		r = 0;
		goto out;
	}
	ids_now(now);
	active = loop_active_hours(row, time(NULL)) * 3600.0;
	/* The clock runs while running or stopping, and stops with them. */
	if (to == LOOP_RUNNING) {
		if (exec_steal(j,
			       "UPDATE loops SET state = 'running', "
			       "running_since = ?, stop_reason = NULL, "
			       "updated_at = ? WHERE id = ?",
			       json_pack("[s,s,s]", now, now, id), err) < 0)
			goto out;
	} else if (to == LOOP_STOPPING) {
		if (exec_steal(j,
			       "UPDATE loops SET state = 'stopping', "
			       "stop_reason = ?, updated_at = ? WHERE id = ?",
			       json_pack("[s?,s,s]", reason, now, id), err) < 0)
			goto out;
	} else {
		if (exec_steal(j,
			       "UPDATE loops SET state = ?, active_s = ?, "
			       "running_since = NULL, stop_reason = "
			       "coalesce(?, stop_reason), updated_at = ?, "
			       "finished_at = CASE WHEN ? = 'finished' THEN ? "
			       "ELSE finished_at END WHERE id = ?",
			       json_pack("[s,f,s?,s,s,s,s]",
					 loop_state_name(to), active, reason,
					 now, loop_state_name(to), now, id),
			       err) < 0)
			goto out;
	}
	evd = data ? json_deep_copy(data) : json_object();
	json_object_set_new(evd, "from", json_string(loop_state_name(cur)));
	json_object_set_new(evd, "state", json_string(loop_state_name(to)));
	if (journal_event(j, NULL, loop_event_name(ev), id, evd, err) < 0)
		goto out;
	*changed_out = 1;
	r = 0;
out:
	json_decref(evd);
	json_decref(row);
	return r;
}

/* Apply 'ev' to the loop row 'row' and add what happened to 'out'. */
static int apply_one(struct journal *j, json_t *out, const json_t *row,
		     enum loop_event ev, const json_t *data, struct err *err)
{
	const char *id = json_string_value(json_object_get(row, "id"));
	json_t *now = NULL;
	int changed;

	if (loop_apply(j, &changed, id, ev, data, err) < 0 ||
	    loop_get(j, &now, id, err) < 0)
		return -1;
	json_array_append_new(
	    out,
	    json_pack("{s:s, s:O, s:O, s:b}", "loop_id", id, "previous_state",
		      json_object_get(row, "state"), "state",
		      json_object_get(now, "state"), "changed", changed));
	json_decref(now);
	return 0;
}

int loop_apply_many(struct journal *j, json_t **out, const char *id,
		    const char *study, enum loop_event ev, const json_t *data,
		    struct err *err)
{
	json_t *rows = NULL, *row = NULL, *params;
	size_t i;
	int r = -1;

	*out = json_array();
	if (id) {
		if (loop_get(j, &row, id, err) < 0 ||
		    apply_one(j, *out, row, ev, data, err) < 0)
			goto fail;
		json_decref(row);
		return 0;
	}
	params = json_pack("[s,i]", study, ev == LOOP_EV_RESUMED);
	r = journal_exec(j, &rows,
			 "SELECT * FROM loops WHERE study = ? AND state IN "
			 "(CASE WHEN ? THEN 'stopped' ELSE 'running' END, "
			 "'stopping') ORDER BY rowid",
			 params, err);
	json_decref(params);
	if (r < 0)
		goto fail;
	for (i = 0; i < json_array_size(rows); i++)
		if (apply_one(j, *out, json_array_get(rows, i), ev, data, err) <
		    0)
			goto fail;
	json_decref(rows);
	return 0;
fail:
	json_decref(row);
	json_decref(rows);
	json_decref(*out);
	*out = NULL;
	return -1;
}

int loop_note(struct journal *j, const char *id, const char *type,
	      const json_t *data, struct err *err)
{
	int i;

	for (i = 0; i < LOOP_EV__COUNT; i++)
		if (!strcmp(type, event_names[i]))
			BUG("loop_note with the state event '%s'", type);
	return journal_event(j, NULL, type, id, data, err);
}

int loop_set_progress(struct journal *j, const char *id,
		      const struct loop_progress *p, struct err *err)
{
	char now[IDS_TIME_LEN];

	ids_now(now);
	return exec_steal(j,
			  "UPDATE loops SET runs = ?, spent_usd = ?, "
			  "updated_at = CASE WHEN runs <> ? OR spent_usd <> ? "
			  "THEN ? ELSE updated_at END WHERE id = ?",
			  json_pack("[i,f,i,f,s,s]", p->runs, p->usd, p->runs,
				    p->usd, now, id),
			  err);
}

int loop_advance(struct journal *j, int *advanced_out, const char *id,
		 int iteration, const char *sprint_id, const char *idea_id,
		 struct err *err)
{
	char now[IDS_TIME_LEN];
	json_t *ev;
	int r;

	*advanced_out = 0;
	ids_now(now);
	if (exec_steal(j,
		       "UPDATE loops SET iteration = ?, current_sprint_id = ?, "
		       "updated_at = ? WHERE id = ? AND iteration < ?",
		       json_pack("[i,s,s,s,i]", iteration, sprint_id, now, id,
				 iteration),
		       err) < 0)
		return -1;
	if (!journal_changes(j))
		return 0;
	ev = json_pack("{s:i, s:s, s:s?}", "iteration", iteration, "sprint_id",
		       sprint_id, "idea_id", idea_id);
	r = journal_event(j, NULL, "loop.iteration", id, ev, err);
	json_decref(ev);
	if (r == 0)
		*advanced_out = 1;
	return r;
}

void loop_budget_of(struct loop_budget *out, const json_t *row)
{
	memset(out, 0, sizeof(*out));
	out->count = (int)json_integer_value(json_object_get(row, "count"));
	out->max_runs =
	    (int)json_integer_value(json_object_get(row, "max_runs"));
	out->max_hours = json_number_value(json_object_get(row, "max_hours"));
	out->max_usd = json_number_value(json_object_get(row, "max_usd"));
	out->stop_on_failure =
	    (int)json_integer_value(json_object_get(row, "stop_on_failure"));
	out->run_budget_s =
	    (int)json_integer_value(json_object_get(row, "run_budget_s"));
}

json_t *loop_public(const json_t *row)
{
	json_t *out = json_pack(
	    "{s:O, s:O, s:O, s:O, s:O, s:O, s:O, s:O, s:O, s:O, s:O, s:O,"
	    " s:O}",
	    "loop_id", json_object_get(row, "id"), "study",
	    json_object_get(row, "study"), "state",
	    json_object_get(row, "state"), "mode", json_object_get(row, "mode"),
	    "proposer", json_object_get(row, "proposer"), "guidance",
	    json_object_get(row, "guidance"), "count",
	    json_object_get(row, "count"), "iteration",
	    json_object_get(row, "iteration"), "current_sprint_id",
	    json_object_get(row, "current_sprint_id"), "stop_reason",
	    json_object_get(row, "stop_reason"), "created_at",
	    json_object_get(row, "created_at"), "updated_at",
	    json_object_get(row, "updated_at"), "finished_at",
	    json_object_get(row, "finished_at"));

	json_object_set_new(
	    out, "budget",
	    json_pack("{s:O, s:O, s:O, s:b, s:O}", "max_runs",
		      json_object_get(row, "max_runs"), "max_hours",
		      json_object_get(row, "max_hours"), "max_usd",
		      json_object_get(row, "max_usd"), "stop_on_failure",
		      json_integer_value(
			  json_object_get(row, "stop_on_failure")) != 0,
		      "run_budget_s", json_object_get(row, "run_budget_s")));
	json_object_set_new(
	    out, "spent",
	    json_pack("{s:O, s:f, s:f}", "runs", json_object_get(row, "runs"),
		      "hours", loop_active_hours(row, time(NULL)), "usd",
		      json_number_value(json_object_get(row, "spent_usd"))));
	return out;
}

int loop_page(struct journal *j, json_t **rows_out, char **next_out,
	      const char *study, const char *state, int limit,
	      const char *cursor, struct err *err)
{
	json_t *rows = NULL, *params, *last;
	struct buf b = BUF_INIT;
	json_int_t after = cursor ? strtoll(cursor, NULL, 10) : 0;
	int r;

	*rows_out = NULL;
	*next_out = NULL;
	params = json_pack("[s?,s?,s?,s?,I,I,i]", study, study, state, state,
			   after, after, limit + 1);
	r = journal_exec(j, &rows,
			 "SELECT rowid AS seq, * FROM loops WHERE (? IS NULL "
			 "OR study = ?) AND (? IS NULL OR state = ?) AND (? <= "
			 "0 OR rowid < ?) ORDER BY rowid DESC LIMIT ?",
			 params, err);
	json_decref(params);
	if (r < 0)
		return -1;
	if (json_array_size(rows) > (size_t)limit) {
		json_array_remove(rows, (size_t)limit);
		last = json_array_get(rows, (size_t)limit - 1);
		buf_addf(&b, "%" JSON_INTEGER_FORMAT,
			 json_integer_value(json_object_get(last, "seq")));
		*next_out = buf_detach(&b, NULL);
	}
	*rows_out = rows;
	return 0;
}

int loop_scope(struct journal *j, const char **study_out, json_t **loop_out,
	       const struct config *cfg, const char *study, const char *loop_id,
	       struct err *err)
{
	*study_out = NULL;
	*loop_out = NULL;
	if ((study == NULL) == (loop_id == NULL)) {
		err_set(err, ERR_SPEC_INVALID,
			"spec invalid: give study or "
			"loop_id (one of them)");
		return err_remedy(err, "name the study, or the loop (whose "
				       "study it is)");
	}
	if (loop_id) {
		if (loop_get(j, loop_out, loop_id, err) < 0)
			return -1;
		study = json_string_value(json_object_get(*loop_out, "study"));
	}
	if (!config_study(cfg, study)) {
		err_set(err, ERR_NOT_FOUND, "no study '%s' in %s", study,
			cfg->path);
		json_decref(*loop_out);
		*loop_out = NULL;
		return err_remedy(err, "`hpcloop study-list` lists the "
				       "studies of hpcloop.yaml");
	}
	*study_out = study;
	return 0;
}
