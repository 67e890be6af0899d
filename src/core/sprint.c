/*
 * sprint.c: sprint states, events and transitions (see sprint.h).  Every
 * write to the sprints and jobs tables is here; the state column is
 * written only by transition(), which appends the event in the same
 * transaction.  The reads status needs live in sprint_read.c.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "ids.h"
#include "journal.h"
#include "sprint.h"
#include "xalloc.h"
#include "banned.h"

/* ---------------------------------------------------------------- */
/* States and events                                                  */
/* ---------------------------------------------------------------- */

static const char *const state_names[SPRINT__COUNT] = {
	[SPRINT_PENDING] = "pending",	  [SPRINT_SUBMITTED] = "submitted",
	[SPRINT_RUNNING] = "running",	  [SPRINT_COMPLETED] = "completed",
	[SPRINT_FAILED] = "failed",	  [SPRINT_TIMED_OUT] = "timed_out",
	[SPRINT_CANCELLED] = "cancelled", [SPRINT_LOST] = "lost",
};

static const char *const event_names[SPRINT_EV__COUNT] = {
	[SPRINT_EV_CREATED] = "sprint.created",
	[SPRINT_EV_SUBMITTED] = "sprint.submitted",
	[SPRINT_EV_STARTED] = "sprint.started",
	[SPRINT_EV_HEARTBEAT] = "sprint.heartbeat",
	[SPRINT_EV_REQUEUED] = "sprint.requeued",
	[SPRINT_EV_FINISHED] = "sprint.finished",
};

const char *sprint_state_name(enum sprint_state s)
{
	if ((int)s < 0 || s >= SPRINT__COUNT)
		return "unknown";
	return state_names[s];
}

int sprint_state_parse(enum sprint_state *out, const char *name)
{
	int i;

	for (i = 0; name && i < SPRINT__COUNT; i++) {
		if (!strcmp(state_names[i], name)) {
			*out = (enum sprint_state)i;
			return 0;
		}
	}
	return -1;
}

int sprint_state_terminal(enum sprint_state s)
{
	return s >= SPRINT_COMPLETED && s < SPRINT__COUNT;
}

int sprint_state_name_terminal(const char *name)
{
	enum sprint_state s;

	return sprint_state_parse(&s, name) == 0 && sprint_state_terminal(s);
}

const char *sprint_event_name(enum sprint_event ev)
{
	if ((int)ev < 0 || ev >= SPRINT_EV__COUNT)
		return "sprint.unknown";
	return event_names[ev];
}

int sprint_event_parse(enum sprint_event *out, const char *type)
{
	int i;

	for (i = 0; type && i < SPRINT_EV__COUNT; i++) {
		if (!strcmp(event_names[i], type)) {
			*out = (enum sprint_event)i;
			return 0;
		}
	}
	return -1;
}

int sprint_next_state(enum sprint_state *out, enum sprint_state cur,
		      enum sprint_event ev, enum sprint_state target)
{
	*out = cur;
	if (sprint_state_terminal(cur))
		return -1;
	switch (ev) {
	case SPRINT_EV_CREATED:
		return -1;
	case SPRINT_EV_SUBMITTED:
		if (cur != SPRINT_PENDING)
			return -1;
		*out = SPRINT_SUBMITTED;
		return 0;
	case SPRINT_EV_STARTED:
	case SPRINT_EV_HEARTBEAT:
		/* Only a job the journal knows can be running. */
		if (cur == SPRINT_SUBMITTED)
			*out = SPRINT_RUNNING;
		return 0;
	case SPRINT_EV_REQUEUED:
		if (cur == SPRINT_PENDING)
			return -1;
		*out = SPRINT_SUBMITTED;
		return 0;
	case SPRINT_EV_FINISHED:
		if (!sprint_state_terminal(target))
			return -1;
		*out = target;
		return 0;
	case SPRINT_EV__COUNT:
		break;
	}
	return -1;
}

/* The terminal state a claim's "status" names, or -1. */
static int claim_state(const json_t *claim, enum sprint_state *out)
{
	const char *s = json_string_value(json_object_get(claim, "status"));

	if (sprint_state_parse(out, s) < 0 || !sprint_state_terminal(*out) ||
	    *out == SPRINT_LOST)
		return -1;
	return 0;
}

void sprint_event_for_job(int *ev_out, enum sprint_state *target_out,
			  enum sprint_state cur, enum sched_state s,
			  const json_t *claim)
{
	enum sprint_state claimed = SPRINT_FAILED;
	int have = claim && claim_state(claim, &claimed) == 0;

	*ev_out = -1;
	*target_out = SPRINT_FAILED;
	if (sprint_state_terminal(cur))
		return;
	switch (s) {
	case SCHED_PENDING:
		return;
	case SCHED_RUNNING:
		if (cur == SPRINT_SUBMITTED)
			*ev_out = SPRINT_EV_STARTED;
		return;
	case SCHED_REQUEUED:
		if (cur == SPRINT_RUNNING)
			*ev_out = SPRINT_EV_REQUEUED;
		return;
	case SCHED_COMPLETED:
		/* Success needs proof: the job's own record. */
		*target_out = have ? claimed : SPRINT_FAILED;
		break;
	case SCHED_FAILED:
		*target_out = have && claimed != SPRINT_COMPLETED
				      ? claimed
				      : SPRINT_FAILED;
		break;
	case SCHED_CANCELLED:
		*target_out = SPRINT_CANCELLED;
		break;
	case SCHED_TIMED_OUT:
		*target_out = SPRINT_TIMED_OUT;
		break;
	case SCHED_LOST:
		*target_out = SPRINT_LOST;
		break;
	case SCHED_UNKNOWN:
		return;
	}
	*ev_out = SPRINT_EV_FINISHED;
}

/* ---------------------------------------------------------------- */
/* Rows                                                               */
/* ---------------------------------------------------------------- */

int sprint_get(struct journal *j, json_t **row_out, const char *id,
	       struct err *err)
{
	json_t *params = json_pack("[s]", id);
	int r = journal_row(j, row_out, "SELECT * FROM sprints WHERE id = ?",
			    params, err);

	json_decref(params);
	if (r < 0)
		return -1;
	if (!*row_out) {
		err_set(err, ERR_NOT_FOUND, "no sprint '%s'", id);
		return err_remedy(err, "`hpcloop status` lists the live and "
				  "recently finished sprints");
	}
	return 0;
}

int sprint_new_id(struct journal *j, char out[SPRINT_ID_MAX],
		  struct err *err)
{
	json_t *row = NULL, *params;
	int tries;

	for (tries = 0; tries < 32; tries++) {
		if (ids_new(out, SPRINT_ID_MAX, "sp-", 6) < 0)
			return err_set(err, ERR_INTERNAL,
				       "no randomness for a sprint id");
		params = json_pack("[s]", out);
		if (journal_row(j, &row, "SELECT id FROM sprints WHERE id = ?",
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
	return err_set(err, ERR_INTERNAL, "no free sprint id after 32 draws");
}

char *sprint_dir_name(const char *id, const char *idea, time_t t)
{
	struct buf b = BUF_INIT;
	char stamp[32];
	struct tm tm;
	size_t slug = 0;
	int dash = 0;

	gmtime_r(&t, &tm);
	strftime(stamp, sizeof(stamp), "%Y-%m-%d--%H-%M", &tm);
	buf_addf(&b, "%s--%s--", stamp, id);
	for (; idea && *idea && slug < 60; idea++) {
		unsigned char c = (unsigned char)*idea;

		if (isascii(c) && isalnum(c)) {
			if (dash && slug) {
				buf_adds(&b, "-");
				slug++;
			}
			dash = 0;
			c = (unsigned char)tolower(c);
			buf_add(&b, &c, 1);
			slug++;
		} else {
			dash = 1;
		}
	}
	if (!slug)
		buf_adds(&b, "sprint");
	return buf_detach(&b, NULL);
}

int sprint_ensure_study(struct journal *j, const char *study,
			const char *cluster, struct err *err)
{
	char now[IDS_TIME_LEN];
	json_t *params;
	int r;

	ids_now(now);
	params = json_pack("[s,s,s,s,s]", study, cluster, now, now, cluster);
	r = journal_exec(j, NULL,
			 "INSERT INTO studies (name, cluster, created_at, "
			 "updated_at) VALUES (?, ?, ?, ?) ON CONFLICT(name) "
			 "DO UPDATE SET cluster = ?",
			 params, err);
	json_decref(params);
	return r;
}

/* Move the live count of 'study' by 'delta'; a new sprint also counts. */
static int study_count(struct journal *j, const char *study, int created,
		       int delta, struct err *err)
{
	char now[IDS_TIME_LEN];
	json_t *params;
	int r;

	ids_now(now);
	params = json_pack("[i,i,i,s,s]", created, delta, created, now, study);
	r = journal_exec(j, NULL,
			 "UPDATE studies SET sprints = sprints + ?, "
			 "live = max(0, live + ?), last_sprint_at = CASE WHEN ? "
			 "THEN ? ELSE last_sprint_at END WHERE name = ?",
			 params, err);
	json_decref(params);
	return r;
}

int sprint_create(struct journal *j, const struct sprint_new *n,
		  struct err *err)
{
	char now[IDS_TIME_LEN];
	json_t *params = NULL, *ev = NULL, *meta = NULL;
	int r = -1;

	ids_now(now);
	if (sprint_ensure_study(j, n->study, n->cluster, err) < 0)
		return -1;
	meta = n->metadata ? json_deep_copy(n->metadata) : json_object();
	params = json_pack("[s,s,s,s?,s,s?,s?,s?,O,s]", n->id, n->study,
			   n->cluster, n->idea, n->directory, n->token_hash,
			   n->retry_of, n->loop_id, meta, now);
	if (journal_exec(j, NULL,
			 "INSERT INTO sprints (id, study, cluster, idea, "
			 "state, directory, token_hash, retry_of, loop_id, "
			 "metadata, created_at) VALUES (?, ?, ?, ?, 'pending', "
			 "?, ?, ?, ?, ?, ?)",
			 params, err) < 0)
		goto out;
	if (study_count(j, n->study, 1, 1, err) < 0)
		goto out;
	ev = json_pack("{s:s, s:s, s:s, s:s?}", "study", n->study, "cluster",
		       n->cluster, "directory", n->directory, "retry_of",
		       n->retry_of);
	r = journal_event(j, NULL, sprint_event_name(SPRINT_EV_CREATED), n->id,
			  ev, err);
out:
	json_decref(ev);
	json_decref(meta);
	json_decref(params);
	return r;
}

int sprint_set_token(struct journal *j, const char *id,
		     const char *token_hash, struct err *err)
{
	json_t *params = json_pack("[s,s]", token_hash, id);
	int r = journal_exec(j, NULL,
			     "UPDATE sprints SET token_hash = ? WHERE id = ?",
			     params, err);

	json_decref(params);
	return r;
}

/* ---------------------------------------------------------------- */
/* The one writer of the state                                        */
/* ---------------------------------------------------------------- */

/* The current state of sprint row 'row'. */
static enum sprint_state row_state(const json_t *row)
{
	enum sprint_state s = SPRINT_FAILED;

	if (sprint_state_parse(&s, json_string_value(json_object_get(
					   row, "state"))) < 0)
		BUG("sprint row with state '%s'",
		    json_string_value(json_object_get(row, "state")));
	return s;
}

/*
 * Apply event 'ev' ('target' for SPRINT_EV_FINISHED) to the sprint row
 * 'row': compute the next state, write it when it changed, keep the
 * study's live count, and append the event with 'data' (borrowed, may
 * be NULL) plus "from" and "to".  An event its state does not allow is
 * conflict.  '*to_out' (may be NULL) receives the new state.
 */
static int transition(struct journal *j, enum sprint_state *to_out,
		      const json_t *row, enum sprint_event ev,
		      enum sprint_state target, const json_t *data,
		      struct err *err)
{
	const char *id = json_string_value(json_object_get(row, "id"));
	enum sprint_state from = row_state(row), to;
	json_t *params = NULL, *ev_data = NULL;
	int r = -1;

	if (sprint_next_state(&to, from, ev, target) < 0) {
		err_set(err, ERR_CONFLICT, "sprint '%s' is %s: %s is not "
			"allowed", id, sprint_state_name(from),
			sprint_event_name(ev));
		err_detail(err, "state", json_string(sprint_state_name(from)));
		return -1;
	}
	if (to != from) {
		params = json_pack("[s,s]", sprint_state_name(to), id);
		if (journal_exec(j, NULL,
				 "UPDATE sprints SET state = ? WHERE id = ?",
				 params, err) < 0)
			goto out;
		if (sprint_state_terminal(to) &&
		    study_count(j, json_string_value(json_object_get(row,
								     "study")),
				0, -1, err) < 0)
			goto out;
	}
	ev_data = data ? json_deep_copy(data) : json_object();
	json_object_set_new(ev_data, "from",
			    json_string(sprint_state_name(from)));
	json_object_set_new(ev_data, "to", json_string(sprint_state_name(to)));
	if (journal_event(j, NULL, sprint_event_name(ev), id, ev_data, err) < 0)
		goto out;
	if (to_out)
		*to_out = to;
	r = 0;
out:
	json_decref(params);
	json_decref(ev_data);
	return r;
}

/* Run 'sql' with 'params' (stolen). */
static int exec_steal(struct journal *j, const char *sql, json_t *params,
		      struct err *err)
{
	int r = journal_exec(j, NULL, sql, params, err);

	json_decref(params);
	return r;
}

/* ---------------------------------------------------------------- */
/* Transitions                                                        */
/* ---------------------------------------------------------------- */

int sprint_mark_submitted(struct journal *j, const char *id,
			  const char *cluster, const char *job_id,
			  struct err *err)
{
	char now[IDS_TIME_LEN];
	json_t *row = NULL, *ev = NULL;
	int r = -1;

	if (sprint_get(j, &row, id, err) < 0)
		return -1;
	ids_now(now);
	/* The job id first: the CHECK wants it with the new state. */
	if (row_state(row) != SPRINT_PENDING) {
		err_set(err, ERR_CONFLICT, "sprint '%s' is %s, not pending",
			id, json_string_value(json_object_get(row, "state")));
		goto out;
	}
	if (exec_steal(j, "UPDATE sprints SET job_id = ?, submitted_at = ? "
			  "WHERE id = ?",
		       json_pack("[s,s,s]", job_id, now, id), err) < 0 ||
	    exec_steal(j, "INSERT INTO jobs (sprint_id, cluster, "
			  "scheduler_job_id, state, submitted_at, updated_at) "
			  "VALUES (?, ?, ?, 'pending', ?, ?)",
		       json_pack("[s,s,s,s,s]", id, cluster, job_id, now, now),
		       err) < 0)
		goto out;
	ev = json_pack("{s:s, s:s}", "job_id", job_id, "cluster", cluster);
	r = transition(j, NULL, row, SPRINT_EV_SUBMITTED, SPRINT_FAILED, ev,
		       err);
out:
	json_decref(ev);
	json_decref(row);
	return r;
}

int sprint_observe(struct journal *j, int *changed_out, const char *id,
		   enum sprint_event ev, const json_t *evidence,
		   struct err *err)
{
	enum sprint_state from, to;
	json_t *row = NULL, *data = NULL;
	int r = -1;

	*changed_out = 0;
	if (ev != SPRINT_EV_STARTED && ev != SPRINT_EV_REQUEUED)
		BUG("sprint_observe with event %d", (int)ev);
	if (sprint_get(j, &row, id, err) < 0)
		return -1;
	from = row_state(row);
	if (sprint_next_state(&to, from, ev, SPRINT_FAILED) < 0 ||
	    to == from) {
		r = 0;
		goto out;
	}
	if (ev == SPRINT_EV_STARTED &&
	    exec_steal(j, "UPDATE sprints SET started_at = coalesce("
			  "started_at, strftime('%Y-%m-%dT%H:%M:%SZ', 'now')) "
			  "WHERE id = ?",
		       json_pack("[s]", id), err) < 0)
		goto out;
	if (ev == SPRINT_EV_REQUEUED &&
	    exec_steal(j, "UPDATE sprints SET phase = 'requeued' "
			  "WHERE id = ?",
		       json_pack("[s]", id), err) < 0)
		goto out;
	data = json_pack("{s:O?}", "evidence", evidence);
	if (transition(j, NULL, row, ev, SPRINT_FAILED, data, err) < 0)
		goto out;
	*changed_out = 1;
	r = 0;
out:
	json_decref(data);
	json_decref(row);
	return r;
}

/* Store one heartbeat 'hb' of sprint 'id'; '*new_out' 1 when new. */
static int store_heartbeat(struct journal *j, int *new_out, const char *id,
			   const json_t *hb, const char *source,
			   const char *now, struct err *err)
{
	const char *ts = json_string_value(json_object_get(hb, "ts"));
	json_int_t seq = json_integer_value(json_object_get(hb, "seq"));

	*new_out = 0;
	if (!json_is_integer(json_object_get(hb, "seq")) || seq < 1)
		return err_set(err, ERR_SPEC_INVALID,
			       "a heartbeat needs an integer seq of at least 1");
	if (exec_steal(j, "INSERT OR IGNORE INTO heartbeats (sprint_id, seq, "
			  "ts, phase, source, data) VALUES (?, ?, ?, ?, ?, ?)",
		       json_pack("[s,I,s,s?,s,O]", id, seq, ts ? ts : now,
				 json_string_value(json_object_get(hb,
								   "phase")),
				 source, hb),
		       err) < 0)
		return -1;
	*new_out = journal_changes(j) > 0;
	return 0;
}

int sprint_ingest_heartbeats(struct journal *j, int *stored_out,
			     const char *id, const json_t *beats,
			     const char *source, struct err *err)
{
	json_t *row = NULL, *ev = NULL;
	const json_t *last = NULL;
	const char *phase = NULL, *ts;
	char now[IDS_TIME_LEN];
	size_t i;
	int fresh, r = -1;

	*stored_out = 0;
	if (sprint_get(j, &row, id, err) < 0)
		return -1;
	if (sprint_state_terminal(row_state(row))) {
		err_set(err, ERR_CONFLICT,
			"sprint '%s' is %s; heartbeats are refused", id,
			json_string_value(json_object_get(row, "state")));
		goto out;
	}
	ids_now(now);
	for (i = 0; i < json_array_size(beats); i++) {
		const json_t *hb = json_array_get(beats, i);

		if (store_heartbeat(j, &fresh, id, hb, source, now, err) < 0)
			goto out;
		if (!fresh)
			continue;
		(*stored_out)++;
		last = hb;
		if (json_string_value(json_object_get(hb, "phase")))
			phase = json_string_value(json_object_get(hb, "phase"));
	}
	if (!last) {
		r = 0;
		goto out;
	}
	ts = json_string_value(json_object_get(last, "ts"));
	if (exec_steal(j, "UPDATE sprints SET phase = coalesce(?, phase), "
			  "last_heartbeat_at = ?, started_at = CASE WHEN "
			  "state = 'pending' THEN started_at ELSE "
			  "coalesce(started_at, ?) END WHERE id = ?",
		       json_pack("[s?,s,s,s]", phase, ts ? ts : now,
				 ts ? ts : now, id),
		       err) < 0)
		goto out;
	ev = json_pack("{s:i, s:s, s:O}", "stored", *stored_out, "source",
		       source, "last", last);
	r = transition(j, NULL, row, SPRINT_EV_HEARTBEAT, SPRINT_FAILED, ev,
		       err);
out:
	json_decref(ev);
	json_decref(row);
	return r;
}

/* The metadata object of sprint row 'row', parsed (new). */
static json_t *row_metadata(const json_t *row)
{
	const char *text = json_string_value(json_object_get(row,
							      "metadata"));
	json_t *meta = text ? json_loads(text, 0, NULL) : NULL;

	if (!json_is_object(meta)) {
		json_decref(meta);
		meta = json_object();
	}
	return meta;
}

int sprint_claim(struct journal *j, int *new_out, const char *id,
		 const json_t *record, const char *source, struct err *err)
{
	json_t *row = NULL, *meta = NULL, *ev = NULL;
	int r = -1;

	*new_out = 0;
	if (sprint_get(j, &row, id, err) < 0)
		return -1;
	if (sprint_state_terminal(row_state(row))) {
		err_set(err, ERR_CONFLICT, "sprint '%s' is already %s", id,
			json_string_value(json_object_get(row, "state")));
		err_detail(err, "state",
			   json_incref(json_object_get(row, "state")));
		goto out;
	}
	meta = row_metadata(row);
	if (json_equal(json_object_get(meta, "claim"), (json_t *)record)) {
		r = 0;
		goto out;
	}
	json_object_set(meta, "claim", (json_t *)record);
	{
		char now[IDS_TIME_LEN];

		ids_now(now);
		json_object_set_new(meta, "claim_at", json_string(now));
	}
	if (exec_steal(j, "UPDATE sprints SET metadata = ? WHERE id = ?",
		       json_pack("[O,s]", meta, id), err) < 0)
		goto out;
	ev = json_pack("{s:s, s:O}", "source", source, "claim", record);
	if (journal_event(j, NULL, "sprint.claimed", id, ev, err) < 0)
		goto out;
	*new_out = 1;
	r = 0;
out:
	json_decref(ev);
	json_decref(meta);
	json_decref(row);
	return r;
}

int sprint_drop_claim(struct journal *j, const char *id, const char *why,
		      struct err *err)
{
	json_t *row = NULL, *meta = NULL, *ev = NULL;
	int r = -1;

	if (sprint_get(j, &row, id, err) < 0)
		return -1;
	meta = row_metadata(row);
	if (!json_object_get(meta, "claim")) {
		r = 0;
		goto out;
	}
	ev = json_pack("{s:s, s:O}", "why", why, "claim",
		       json_object_get(meta, "claim"));
	json_object_del(meta, "claim");
	json_object_del(meta, "claim_at");
	if (exec_steal(j, "UPDATE sprints SET metadata = ? WHERE id = ?",
		       json_pack("[O,s]", meta, id), err) < 0)
		goto out;
	if (journal_event(j, NULL, "sprint.claim_dropped", id, ev, err) < 0)
		goto out;
	r = 0;
out:
	json_decref(ev);
	json_decref(meta);
	json_decref(row);
	return r;
}

int sprint_finish(struct journal *j, int *transitioned_out, const char *id,
		  enum sprint_state state, const json_t *completion,
		  const json_t *evidence, struct err *err)
{
	json_t *row = NULL, *ev = NULL, *meta = NULL;
	char now[IDS_TIME_LEN];
	int r = -1;

	*transitioned_out = 0;
	if (!sprint_state_terminal(state))
		BUG("sprint_finish to non-terminal '%s'",
		    sprint_state_name(state));
	if (sprint_get(j, &row, id, err) < 0)
		return -1;
	if (sprint_state_terminal(row_state(row))) {
		r = 0;
		goto out;
	}
	ids_now(now);
	/* Keep the metadata keys; add the completion record beside them. */
	meta = row_metadata(row);
	if (completion)
		json_object_set(meta, "completion", (json_t *)completion);
	if (evidence)
		json_object_set(meta, "evidence", (json_t *)evidence);
	if (exec_steal(j, "UPDATE sprints SET summary = ?, error = ?, "
			  "metadata = ?, finished_at = ?, phase = 'done' "
			  "WHERE id = ?",
		       json_pack("[s?,s?,O,s,s]",
				 json_string_value(json_object_get(completion,
								   "summary")),
				 json_string_value(json_object_get(completion,
								   "error")),
				 meta, now, id),
		       err) < 0 ||
	    exec_steal(j, "UPDATE jobs SET state = ?, updated_at = ? "
			  "WHERE sprint_id = ?",
		       json_pack("[s,s,s]", sprint_state_name(state), now, id),
		       err) < 0)
		goto out;
	ev = json_pack("{s:s, s:O?, s:O?}", "state", sprint_state_name(state),
		       "completion", completion, "evidence", evidence);
	if (transition(j, NULL, row, SPRINT_EV_FINISHED, state, ev, err) < 0)
		goto out;
	*transitioned_out = 1;
	r = 0;
out:
	json_decref(ev);
	json_decref(meta);
	json_decref(row);
	return r;
}

int sprint_note(struct journal *j, const char *id, const char *type,
		const json_t *data, struct err *err)
{
	enum sprint_event ev;

	if (sprint_event_parse(&ev, type) == 0)
		BUG("sprint_note with the state event '%s'", type);
	return journal_event(j, NULL, type, id, data, err);
}

/* ---------------------------------------------------------------- */
/* Studies and artifacts                                              */
/* ---------------------------------------------------------------- */

int sprint_study_counts(struct journal *j, json_t **out, struct err *err)
{
	json_t *rows = NULL, *by = NULL;
	size_t i;

	*out = NULL;
	if (journal_exec(j, &rows,
			 "SELECT name, sprints, live, last_sprint_at "
			 "FROM studies",
			 NULL, err) < 0)
		return -1;
	by = json_object();
	for (i = 0; i < json_array_size(rows); i++) {
		json_t *row = json_array_get(rows, i);

		json_object_set_new(by,
				    json_string_value(json_object_get(row,
								      "name")),
				    json_pack("{s:O, s:O, s:O}", "sprints",
					      json_object_get(row, "sprints"),
					      "live",
					      json_object_get(row, "live"),
					      "last_sprint_at",
					      json_object_get(
						      row, "last_sprint_at")));
	}
	json_decref(rows);
	*out = by;
	return 0;
}

int sprint_record_artifacts(struct journal *j, const char *id,
			    const json_t *files, struct err *err)
{
	char now[IDS_TIME_LEN];
	size_t i;

	ids_now(now);
	for (i = 0; i < json_array_size(files); i++) {
		const json_t *f = json_array_get(files, i);

		if (exec_steal(j, "INSERT OR IGNORE INTO artifacts (sprint_id, "
				  "path, size, sha256, stored_path, "
				  "created_at) VALUES (?, ?, ?, ?, ?, ?)",
			       json_pack("[s,O,O,O,O,s]", id,
					 json_object_get(f, "path"),
					 json_object_get(f, "size"),
					 json_object_get(f, "sha256"),
					 json_object_get(f, "stored_path"),
					 now),
			       err) < 0)
			return -1;
	}
	return 0;
}
