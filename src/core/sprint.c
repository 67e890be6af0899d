/*
 * sprint.c: sprint rows, transitions and their events (see sprint.h).
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

static const char *const terminal_states[] = { "completed", "failed",
					       "timed_out", "cancelled",
					       "lost", NULL };
static const char *const live_states[] = { "pending", "submitted",
					   "running", NULL };

static int in_list(const char *const *list, const char *s)
{
	for (; s && *list; list++)
		if (!strcmp(*list, s))
			return 1;
	return 0;
}

int sprint_state_terminal(const char *state)
{
	return in_list(terminal_states, state);
}

int sprint_state_valid(const char *state)
{
	return in_list(terminal_states, state) || in_list(live_states, state);
}

int sprint_get(struct journal *j, json_t **row_out, const char *id,
	       struct err *err)
{
	json_t *params = json_pack("[s]", id);
	int r = journal_row(j, row_out, "SELECT * FROM sprints WHERE id = ?",
			    params, err);

	json_decref(params);
	if (r < 0)
		return -1;
	if (!*row_out)
		return err_set(err, ERR_NOT_FOUND, "no sprint '%s'", id);
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

int sprint_set_state(struct journal *j, const char *id, const char *state,
		     const char *type, const json_t *data, struct err *err)
{
	json_t *params = json_pack("[s,s]", state, id);
	int r = journal_exec(j, NULL,
			     "UPDATE sprints SET state = ? WHERE id = ?",
			     params, err);

	json_decref(params);
	if (r < 0)
		return -1;
	return journal_event(j, NULL, type, id, data, err);
}

int sprint_ingest_heartbeats(struct journal *j, int *stored_out,
			     const char *id, const json_t *beats,
			     const char *source, struct err *err)
{
	json_t *row = NULL, *params = NULL, *last = NULL;
	const char *state, *phase = NULL;
	char now[IDS_TIME_LEN];
	size_t i;
	int r = -1;

	*stored_out = 0;
	if (sprint_get(j, &row, id, err) < 0)
		return -1;
	state = json_string_value(json_object_get(row, "state"));
	if (sprint_state_terminal(state)) {
		err_set(err, ERR_CONFLICT,
			"sprint '%s' is %s; heartbeats are refused", id,
			state);
		goto out;
	}
	ids_now(now);
	for (i = 0; i < json_array_size(beats); i++) {
		const json_t *hb = json_array_get(beats, i);
		const char *ts = json_string_value(json_object_get(hb, "ts"));

		json_decref(params);
		params = json_pack("[s,I,s,s?,s,O]", id,
				   json_integer_value(json_object_get(hb,
								      "seq")),
				   ts ? ts : now,
				   json_string_value(
					   json_object_get(hb, "phase")),
				   source, hb);
		if (journal_exec(j, NULL,
				 "INSERT OR IGNORE INTO heartbeats (sprint_id, "
				 "seq, ts, phase, source, data) "
				 "VALUES (?, ?, ?, ?, ?, ?)",
				 params, err) < 0)
			goto out;
		if (journal_changes(j) > 0) {
			(*stored_out)++;
			last = (json_t *)hb;
			/* The newest phase any of them reported. */
			if (json_string_value(json_object_get(hb, "phase")))
				phase = json_string_value(
					json_object_get(hb, "phase"));
		}
	}
	if (last) {
		const char *ts = json_string_value(json_object_get(last, "ts"));
		json_t *ev;

		json_decref(params);
		params = json_pack("[s?,s,s]", phase, ts ? ts : now, id);
		if (journal_exec(j, NULL,
				 "UPDATE sprints SET phase = coalesce(?, phase),"
				 " last_heartbeat_at = ?, state = CASE WHEN "
				 "state IN ('pending', 'submitted') THEN "
				 "'running' ELSE state END, started_at = "
				 "coalesce(started_at, last_heartbeat_at) "
				 "WHERE id = ?",
				 params, err) < 0)
			goto out;
		ev = json_pack("{s:i, s:s, s:O}", "stored", *stored_out,
			       "source", source, "last", last);
		r = journal_event(j, NULL, "sprint.heartbeat", id, ev, err);
		json_decref(ev);
		if (r < 0)
			goto out;
	}
	r = 0;
out:
	json_decref(params);
	json_decref(row);
	return r;
}

int sprint_finish(struct journal *j, int *transitioned_out, const char *id,
		  const char *state, const json_t *completion,
		  const json_t *evidence, struct err *err)
{
	json_t *row = NULL, *params = NULL, *ev = NULL, *meta = NULL;
	const char *cur, *text;
	char now[IDS_TIME_LEN];
	int r = -1;

	*transitioned_out = 0;
	if (!sprint_state_terminal(state))
		BUG("sprint_finish to non-terminal '%s'", state);
	if (sprint_get(j, &row, id, err) < 0)
		return -1;
	cur = json_string_value(json_object_get(row, "state"));
	if (sprint_state_terminal(cur)) {
		r = 0;
		goto out;
	}
	ids_now(now);
	/* Keep the metadata keys; add the completion record beside them. */
	text = json_string_value(json_object_get(row, "metadata"));
	meta = text ? json_loads(text, 0, NULL) : NULL;
	if (!json_is_object(meta)) {
		json_decref(meta);
		meta = json_object();
	}
	if (completion)
		json_object_set(meta, "completion", (json_t *)completion);
	if (evidence)
		json_object_set(meta, "evidence", (json_t *)evidence);
	params = json_pack("[s,s?,s?,O,s,s]", state,
			   json_string_value(json_object_get(completion,
							     "summary")),
			   json_string_value(json_object_get(completion,
							     "error")),
			   meta, now, id);
	if (journal_exec(j, NULL,
			 "UPDATE sprints SET state = ?, summary = ?, "
			 "error = ?, metadata = ?, finished_at = ?, "
			 "phase = 'done' WHERE id = ?",
			 params, err) < 0)
		goto out;
	json_decref(params);
	params = json_pack("[s,s]", state, id);
	if (journal_exec(j, NULL,
			 "UPDATE jobs SET state = ? WHERE sprint_id = ?",
			 params, err) < 0)
		goto out;
	ev = json_pack("{s:s, s:s, s:O?, s:O?}", "state", state, "from", cur,
		       "completion", completion, "evidence", evidence);
	if (journal_event(j, NULL, "sprint.finished", id, ev, err) < 0)
		goto out;
	*transitioned_out = 1;
	r = 0;
out:
	json_decref(ev);
	json_decref(meta);
	json_decref(params);
	json_decref(row);
	return r;
}

json_t *sprint_public(const json_t *row)
{
	json_t *out = json_deep_copy(row);
	const char *text = json_string_value(json_object_get(row,
							      "metadata"));
	json_t *meta = text ? json_loads(text, 0, NULL) : NULL;

	json_object_del(out, "token_hash");
	json_object_del(out, "idem_key");
	json_object_del(out, "heartbeat_offset");
	json_object_set_new(out, "metadata", meta ? meta : json_object());
	return out;
}
