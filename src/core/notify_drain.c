/*
 * notify_drain.c: the journal side of notifications (see notify.h):
 * each (channel, key) sent once, through the notifications table, and
 * the drain that turns journal events into messages from a cursor per
 * channel.  Every transaction here is short and its own; none is open
 * while a channel is being talked to.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "config.h"
#include "fault.h"
#include "ids.h"
#include "journal.h"
#include "lease.h"
#include "notify.h"
#include "xalloc.h"
#include "banned.h"

/* The most events one drain looks at per channel. */
#define DRAIN_MAX 50

static const char *str_of(const json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

/* Run 'sql' with 'params' (stolen) in the open transaction. */
static int exec_steal(struct journal *j, json_t **rows, const char *sql,
		      json_t *params, struct err *err)
{
	int r = journal_exec(j, rows, sql, params, err);

	json_decref(params);
	return r;
}

/* ---------------------------------------------------------------- */
/* One message, once                                                  */
/* ---------------------------------------------------------------- */

/* What claim() found. */
enum claim_found { CLAIM_SEND, CLAIM_DONE, CLAIM_BUSY };

/*
 * In one transaction: the row of ('channel', m->key); delivered is
 * CLAIM_DONE, another live sender's CLAIM_BUSY; otherwise it is taken
 * for this process ("sending" with its lease) and CLAIM_SEND.
 */
static int claim(struct journal *j, enum claim_found *found,
		 const char *channel, const struct notify_msg *m,
		 struct err *err)
{
	char owner[LEASE_OWNER_MAX], now[IDS_TIME_LEN];
	json_t *row = NULL, *params, *body;
	const char *status;
	int r = -1;

	if (journal_begin(j, err) < 0)
		return -1;
	params = json_pack("[s,s]", channel, m->key);
	r = journal_row(j, &row,
			"SELECT status, lease_owner, lease_at FROM "
			"notifications WHERE channel = ? AND key = ?",
			params, err);
	json_decref(params);
	if (r < 0)
		goto out;
	r = -1;
	status = row ? str_of(row, "status") : "";
	if (!strcmp(status, "delivered")) {
		*found = CLAIM_DONE;
		r = journal_commit(j, err);
		goto out;
	}
	if (!strcmp(status, "sending") &&
	    lease_held(str_of(row, "lease_owner"),
		       json_number_value(json_object_get(row, "lease_at")),
		       lease_now())) {
		*found = CLAIM_BUSY;
		r = journal_commit(j, err);
		goto out;
	}
	lease_self(owner);
	ids_now(now);
	body = json_pack("{s:s, s:s?}", "title", m->title, "body", m->body);
	if (exec_steal(j, NULL,
		       "INSERT INTO notifications (channel, key, event, "
		       "subject, event_id, status, lease_owner, lease_at, "
		       "body, created_at, updated_at) VALUES (?, ?, ?, ?, ?, "
		       "'sending', ?, ?, ?, ?, ?) ON CONFLICT (channel, key) "
		       "DO UPDATE SET status = 'sending', lease_owner = "
		       "excluded.lease_owner, lease_at = excluded.lease_at, "
		       "updated_at = excluded.updated_at",
		       json_pack("[s,s,s,s?,o,s,f,o,s,s]", channel, m->key,
				 m->event, m->subject,
				 m->event_id ? json_integer((json_int_t)
							    m->event_id)
					     : json_null(),
				 owner, lease_now(), body, now, now),
		       err) < 0)
		goto out;
	*found = CLAIM_SEND;
	r = journal_commit(j, err);
out:
	if (journal_in_transaction(j))
		journal_rollback(j);
	json_decref(row);
	return r;
}

/* Record how the tries 'o' of ('channel', m->key) ended. */
static int settle(struct journal *j, const char *channel,
		  const struct notify_msg *m, const struct notify_outcome *o,
		  const struct err *failure, struct err *err)
{
	char now[IDS_TIME_LEN];
	int r;

	ids_now(now);
	if (journal_begin(j, err) < 0)
		return -1;
	r = exec_steal(j, NULL,
		       "UPDATE notifications SET status = ?, attempts = "
		       "attempts + ?, http_status = ?, last_error = ?, "
		       "lease_owner = NULL, lease_at = NULL, updated_at = ?, "
		       "sent_at = CASE WHEN ? THEN ? ELSE sent_at END "
		       "WHERE channel = ? AND key = ?",
		       json_pack("[s,i,o,s?,s,b,s,s,s]",
				 failure ? "failed" : "delivered", o->attempts,
				 o->http_status ? json_integer(o->http_status)
						: json_null(),
				 failure ? err_name(failure->code) : NULL, now,
				 !failure, now, channel, m->key),
		       err);
	if (r == 0)
		r = journal_commit(j, err);
	if (r < 0)
		journal_rollback(j);
	return r;
}

int notify_deliver(struct journal *j, json_t **out, const struct config *cfg,
		   const json_t *channel, const struct notify_msg *m,
		   struct err *err)
{
	const char *name = str_of(channel, "name");
	struct notify_outcome o = { 0, 0 };
	struct err failure = ERR_INIT;
	enum claim_found found = CLAIM_SEND;
	int r = -1;

	*out = json_pack("{s:s, s:s}", "channel", name, "type",
			 str_of(channel, "type"));
	if (claim(j, &found, name, m, err) < 0)
		goto fail;
	if (found == CLAIM_DONE) {
		json_object_set_new(*out, "status", json_string("duplicate"));
		json_object_set_new(*out, "attempts", json_integer(0));
		return 0;
	}
	if (found == CLAIM_BUSY) {
		err_set(err, ERR_IN_PROGRESS,
			"another process is sending '%s' to channel '%s'",
			m->key, name);
		err_detail(err, "retry_after_s", json_integer(2));
		goto fail;
	}
	fault_point("notify.before_send");
	if (notify_send(&o, cfg, channel, m, &failure) == 0) {
		fault_point("notify.after_send");
		if (settle(j, name, m, &o, NULL, err) < 0)
			goto fail;
		json_object_set_new(*out, "status", json_string("delivered"));
		r = 0;
	} else {
		if (settle(j, name, m, &o, &failure, err) < 0)
			goto fail;
		err_set(err, failure.code, "%s", failure.message);
		if (failure.details)
			err->details = json_deep_copy(failure.details);
	}
	json_object_set_new(*out, "attempts", json_integer(o.attempts));
	if (o.http_status)
		json_object_set_new(*out, "http_status",
				    json_integer(o.http_status));
	if (r == 0)
		goto out;
fail:
	json_object_set_new(*out, "status", json_string("failed"));
	json_object_set_new(*out, "error_code",
			    json_string(err_name(err->code)));
	json_object_set_new(*out, "message", json_string(err->message));
	if (!json_object_get(*out, "attempts"))
		json_object_set_new(*out, "attempts", json_integer(o.attempts));
out:
	err_release(&failure);
	return r;
}

/* ---------------------------------------------------------------- */
/* Journal events as messages                                         */
/* ---------------------------------------------------------------- */

/* A message being made from one event: what it owns. */
struct event_msg {
	struct notify_msg m;
	char key[48];
	struct buf title;
	struct buf body;
};

static void event_msg_release(struct event_msg *e)
{
	buf_release(&e->title);
	buf_release(&e->body);
}

/*
 * Fill 'e' from the journal event 'ev' ({id, type, subject, data}):
 * 1 when it is one that is notified, else 0.
 */
static int event_message(struct event_msg *e, const json_t *ev)
{
	const char *type = str_of(ev, "type");
	const char *subject = str_of(ev, "subject");
	const json_t *data = json_object_get(ev, "data");
	const json_t *rec = json_object_get(data, "completion"), *metric;
	const char *to, *text;

	memset(e, 0, sizeof(*e));
	e->m.event_id = (int64_t)json_integer_value(json_object_get(ev, "id"));
	e->m.subject = subject;
	snprintf(e->key, sizeof(e->key), "event:%lld",
		 (long long)e->m.event_id);
	e->m.key = e->key;
	if (!strcmp(type, "sprint.finished")) {
		to = str_of(data, "to");
		if (!to || (strcmp(to, "completed") && strcmp(to, "failed") &&
			    strcmp(to, "timed_out") && strcmp(to, "lost")))
			return 0;
		e->m.event = to;
		buf_addf(&e->title, "sprint %s %s", subject,
			 !strcmp(to, "timed_out") ? "timed out" : to);
		text = str_of(rec, "error");
		if (!text)
			text = str_of(rec, "summary");
		if (text)
			buf_addf(&e->body, "%.2000s", text);
	} else if (!strcmp(type, "sprint.started")) {
		e->m.event = "started";
		buf_addf(&e->title, "sprint %s started", subject);
	} else if (!strcmp(type, "result.recorded")) {
		if (strcmp(str_of(data, "status") ? str_of(data, "status") : "",
			   "keep") ||
		    json_is_true(json_object_get(data, "baseline")))
			return 0;
		e->m.event = "new_best";
		metric = json_object_get(data, "metric");
		buf_addf(&e->title, "new best in study %s",
			 str_of(data, "study"));
		if (json_is_number(metric))
			buf_addf(&e->body, "metric %.10g",
				 json_number_value(metric));
		if (str_of(data, "sprint_id"))
			buf_addf(&e->body, "%ssprint %s",
				 e->body.len ? ", " : "",
				 str_of(data, "sprint_id"));
	} else if (!strcmp(type, "loop.finished")) {
		e->m.event = "loop_finished";
		buf_addf(&e->title, "loop %s finished", subject);
		if (str_of(data, "reason"))
			buf_addf(&e->body, "%s after %lld runs",
				 str_of(data, "reason"),
				 (long long)json_integer_value(
					 json_object_get(data, "runs")));
	} else {
		return 0;
	}
	e->m.title = buf_str(&e->title);
	e->m.body = e->body.len ? buf_str(&e->body) : NULL;
	e->m.data = data;
	return 1;
}

/* The cursor of 'channel': the last event id its drain got past. */
static int cursor_get(struct journal *j, json_int_t *out,
		      const char *channel, struct err *err)
{
	json_t *row = NULL, *params = json_pack("[s]", channel);
	int r = journal_row(j, &row,
			    "SELECT event_id FROM notify_cursors WHERE "
			    "channel = ?",
			    params, err);

	json_decref(params);
	*out = row ? json_integer_value(json_object_get(row, "event_id")) : 0;
	json_decref(row);
	return r;
}

static int cursor_set(struct journal *j, const char *channel, json_int_t id,
		      struct err *err)
{
	char now[IDS_TIME_LEN];
	int r;

	ids_now(now);
	if (journal_begin(j, err) < 0)
		return -1;
	r = exec_steal(j, NULL,
		       "INSERT INTO notify_cursors (channel, event_id, "
		       "updated_at) VALUES (?, ?, ?) ON CONFLICT (channel) DO "
		       "UPDATE SET event_id = "
		       "max(event_id, excluded.event_id), "
		       "updated_at = excluded.updated_at",
		       json_pack("[s,I,s]", channel, id, now), err);
	if (r == 0)
		r = journal_commit(j, err);
	if (r < 0)
		journal_rollback(j);
	return r;
}

/* Add {code, detail} for the failed delivery 'e' to 'partial'. */
static void add_partial(json_t *partial, const char *channel,
			const struct err *e)
{
	struct buf b = BUF_INIT;

	buf_addf(&b, "notification channel %s: %s", channel, e->message);
	json_array_append_new(partial,
			      json_pack("{s:s, s:s}", "code", err_name(e->code),
					"detail", buf_str(&b)));
	buf_release(&b);
}

/* Drain the events of one channel 'ch'; counts into '*row_out'. */
static int drain_channel(struct journal *j, json_t **row_out,
			 const struct config *cfg, const json_t *ch,
			 json_t *deliveries, json_t *partial, struct err *err)
{
	const char *name = str_of(ch, "name");
	json_t *events = NULL, *params, *d;
	json_int_t cursor, start;
	int delivered = 0, dups = 0, skipped = 0, failed = 0, r = -1;
	const json_t *ev;
	size_t i;

	*row_out = NULL;
	if (cursor_get(j, &cursor, name, err) < 0)
		return -1;
	start = cursor;
	params = json_pack("[I,i]", cursor, DRAIN_MAX);
	r = journal_exec(j, &events,
			 "SELECT id, type, subject, data FROM events WHERE "
			 "id > ? AND type IN ('sprint.finished', "
			 "'sprint.started', 'result.recorded', "
			 "'loop.finished') ORDER BY id LIMIT ?",
			 params, err);
	json_decref(params);
	if (r < 0)
		return -1;
	r = -1;
	json_array_foreach(events, i, ev) {
		struct event_msg e;
		struct err derr = ERR_INIT;
		json_t *parsed = NULL, *copy = json_deep_copy(ev);

		/* The data column comes back as text. */
		parsed = json_loads(str_of(ev, "data") ? str_of(ev, "data")
						       : "{}",
				    0, NULL);
		json_object_set_new(copy, "data", parsed ? parsed
							 : json_object());
		if (!event_message(&e, copy) ||
		    !notify_channel_wants(ch, e.m.event)) {
			skipped++;
			cursor = json_integer_value(json_object_get(ev, "id"));
			event_msg_release(&e);
			json_decref(copy);
			continue;
		}
		if (notify_deliver(j, &d, cfg, ch, &e.m, &derr) < 0 &&
		    derr.code == ERR_IN_PROGRESS) {
			/* Another drain is sending it: leave the rest to it. */
			json_decref(d);
			err_release(&derr);
			event_msg_release(&e);
			json_decref(copy);
			break;
		}
		json_object_set_new(d, "event_id",
				    json_integer((json_int_t)e.m.event_id));
		json_object_set_new(d, "event", json_string(e.m.event));
		if (derr.code != ERR_NONE) {
			failed++;
			json_array_append_new(deliveries, d);
			add_partial(partial, name, &derr);
			err_release(&derr);
			event_msg_release(&e);
			json_decref(copy);
			break;
		}
		if (!strcmp(str_of(d, "status"), "duplicate"))
			dups++;
		else
			delivered++;
		json_array_append_new(deliveries, d);
		cursor = json_integer_value(json_object_get(ev, "id"));
		event_msg_release(&e);
		json_decref(copy);
	}
	if (cursor != start && cursor_set(j, name, cursor, err) < 0)
		goto out;
	*row_out = json_pack("{s:s, s:I, s:i, s:i, s:i, s:i}", "channel", name,
			     "cursor", cursor, "delivered", delivered,
			     "duplicates", dups, "skipped", skipped, "failed",
			     failed);
	r = 0;
out:
	json_decref(events);
	return r;
}

int notify_drain(struct journal *j, json_t **out, const struct config *cfg,
		 const json_t *channels, json_t *partial, struct err *err)
{
	json_t *rows = json_array(), *deliveries = json_array(), *row;
	json_int_t total = 0;
	const json_t *ch;
	size_t i;

	*out = NULL;
	json_array_foreach(channels, i, ch) {
		if (drain_channel(j, &row, cfg, ch, deliveries, partial,
				  err) < 0) {
			json_decref(rows);
			json_decref(deliveries);
			return -1;
		}
		total += json_integer_value(json_object_get(row, "delivered"));
		json_array_append_new(rows, row);
	}
	*out = json_pack("{s:I, s:o, s:o}", "delivered", total, "channels",
			 rows, "deliveries", deliveries);
	return 0;
}
