/*
 * sprint_read.c: the reads of sprints that status, study-show and doctor
 * need (see sprint.h), each one statement served by an index, and the
 * replay of every sprint's events that doctor compares with the stored
 * states.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "ids.h"
#include "journal.h"
#include "sprint.h"
#include "xalloc.h"
#include "banned.h"

#define LIVE_STATES "('pending', 'submitted', 'running')"

/* Run 'sql' with 'params' (stolen) into a new array of rows. */
static int rows_steal(struct journal *j, json_t **out, const char *sql,
		      json_t *params, struct err *err)
{
	int r = journal_exec(j, out, sql, params, err);

	json_decref(params);
	return r;
}

int sprint_list_live(struct journal *j, json_t **out, const char *study,
		     const char *id, struct err *err)
{
	struct buf sql = BUF_INIT;
	json_t *params = json_array();
	int r;

	buf_adds(&sql, "SELECT * FROM sprints WHERE state IN " LIVE_STATES);
	if (study) {
		buf_adds(&sql, " AND study = ?");
		json_array_append_new(params, json_string(study));
	}
	if (id) {
		buf_adds(&sql, " AND id = ?");
		json_array_append_new(params, json_string(id));
	}
	buf_adds(&sql, " ORDER BY created_at, id");
	r = rows_steal(j, out, buf_str(&sql), params, err);
	buf_release(&sql);
	return r;
}

/* ---------------------------------------------------------------- */
/* Pages                                                              */
/* ---------------------------------------------------------------- */

/*
 * A cursor is "L<created_at>|<id>" inside the live part of the page
 * sequence, "F<finished_at>|<id>" inside the finished part.  Parse
 * 'cursor' into its part and its two keys (pointers into 'copy', which
 * the caller frees); -1 when it is not a cursor of ours.
 */
static int parse_cursor(char **copy_out, char *part, const char **k1,
			const char **k2, const char *cursor)
{
	char *c, *bar;

	*copy_out = NULL;
	if (!cursor || (cursor[0] != 'L' && cursor[0] != 'F'))
		return -1;
	c = xstrdup(cursor + 1);
	bar = strchr(c, '|');
	if (!bar || bar == c || !bar[1]) {
		free(c);
		return -1;
	}
	*bar = '\0';
	*part = cursor[0];
	*k1 = c;
	*k2 = bar + 1;
	*copy_out = c;
	return 0;
}

/* The cursor after row 'row' of part 'part': a new string. */
static char *cursor_after(char part, const json_t *row)
{
	struct buf b = BUF_INIT;

	buf_addf(&b, "%c%s|%s", part,
		 json_string_value(json_object_get(
			 row, part == 'L' ? "created_at" : "finished_at")),
		 json_string_value(json_object_get(row, "id")));
	return buf_detach(&b, NULL);
}

/* Up to 'limit' live rows after the keys (NULL: from the start). */
static int live_part(struct journal *j, json_t **out, const char *study,
		     const char *after_t, const char *after_id, int limit,
		     struct err *err)
{
	struct buf sql = BUF_INIT;
	json_t *params = json_array();
	int r;

	buf_adds(&sql, "SELECT * FROM sprints WHERE state IN " LIVE_STATES);
	if (study) {
		buf_adds(&sql, " AND study = ?");
		json_array_append_new(params, json_string(study));
	}
	if (after_t) {
		buf_adds(&sql, " AND (created_at > ? OR (created_at = ? AND "
			       "id > ?))");
		json_array_append_new(params, json_string(after_t));
		json_array_append_new(params, json_string(after_t));
		json_array_append_new(params, json_string(after_id));
	}
	buf_adds(&sql, " ORDER BY created_at, id LIMIT ?");
	json_array_append_new(params, json_integer(limit));
	r = rows_steal(j, out, buf_str(&sql), params, err);
	buf_release(&sql);
	return r;
}

/*
 * Up to 'limit' rows finished at or after 'since', newest first, before
 * the keys (NULL: from the newest): the sprints_finished index serves
 * both the order and the LIMIT.
 */
static int finished_part(struct journal *j, json_t **out, const char *study,
			 const char *since, const char *before_t,
			 const char *before_id, int limit, struct err *err)
{
	struct buf sql = BUF_INIT;
	json_t *params = json_array();
	int r;

	buf_adds(&sql, "SELECT * FROM sprints WHERE finished_at >= ?");
	json_array_append_new(params, json_string(since));
	if (before_t) {
		buf_adds(&sql, " AND (finished_at < ? OR (finished_at = ? AND "
			       "id < ?))");
		json_array_append_new(params, json_string(before_t));
		json_array_append_new(params, json_string(before_t));
		json_array_append_new(params, json_string(before_id));
	}
	if (study) {
		buf_adds(&sql, " AND study = ?");
		json_array_append_new(params, json_string(study));
	}
	buf_adds(&sql, " ORDER BY finished_at DESC, id DESC LIMIT ?");
	json_array_append_new(params, json_integer(limit));
	r = rows_steal(j, out, buf_str(&sql), params, err);
	buf_release(&sql);
	return r;
}

/* Append every element of 'from' to 'to'. */
static void append_all(json_t *to, const json_t *from)
{
	size_t i;

	for (i = 0; i < json_array_size(from); i++)
		json_array_append(to, json_array_get(from, i));
}

int sprint_page(struct journal *j, json_t **rows_out, char **next_out,
		const struct sprint_page_query *q, struct err *err)
{
	json_t *rows = json_array(), *part = NULL, *one = NULL;
	char *copy = NULL, which = 'L', since[IDS_TIME_LEN];
	const char *k1 = NULL, *k2 = NULL;
	int r = -1, want = q->limit;

	*rows_out = NULL;
	*next_out = NULL;
	if (q->id) {
		if (sprint_get(j, &one, q->id, err) < 0)
			goto out;
		json_array_append(rows, one);
		goto done;
	}
	if (q->cursor && parse_cursor(&copy, &which, &k1, &k2, q->cursor) < 0) {
		err_set(err, ERR_SPEC_INVALID, "cursor '%s' is not one that "
			"status returned", q->cursor);
		goto out;
	}
	if (which == 'L') {
		/* One more than asked: is there a next page? */
		if (live_part(j, &part, q->study, k1, k2, want + 1, err) < 0)
			goto out;
		if ((int)json_array_size(part) > want) {
			json_array_remove(part, (size_t)want);
			append_all(rows, part);
			*next_out = cursor_after(
				'L', json_array_get(rows, (size_t)want - 1));
			goto done;
		}
		append_all(rows, part);
		want -= (int)json_array_size(part);
		k1 = k2 = NULL;
		json_decref(part);
		part = NULL;
	}
	ids_iso_time(since, time(NULL) - q->finished_window_s);
	if (finished_part(j, &part, q->study, since, k1, k2, want + 1, err) <
	    0)
		goto out;
	if ((int)json_array_size(part) > want) {
		json_array_remove(part, (size_t)want);
		append_all(rows, part);
		*next_out = want > 0
				    ? cursor_after('F', json_array_get(
							       part,
							       (size_t)want - 1))
				    : NULL;
		if (want == 0) {
			/* The live part filled the page exactly. */
			const json_t *last = json_array_get(
				rows, json_array_size(rows) - 1);

			*next_out = last ? cursor_after('L', last) : NULL;
		}
	} else {
		append_all(rows, part);
	}
done:
	*rows_out = rows;
	rows = NULL;
	r = 0;
out:
	free(copy);
	json_decref(rows);
	json_decref(part);
	json_decref(one);
	return r;
}

int sprint_recent(struct journal *j, json_t **out, const char *study,
		  int limit, struct err *err)
{
	return rows_steal(j, out,
			  "SELECT * FROM sprints WHERE study = ? ORDER BY "
			  "created_at DESC, id DESC LIMIT ?",
			  json_pack("[s,i]", study, limit), err);
}

int sprint_set_file_marks(struct journal *j, const char *id,
			  int64_t offset, const char *heartbeat_stamp,
			  const char *completion_stamp, struct err *err)
{
	json_t *params = json_pack("[I,s?,s?,s]", (json_int_t)offset,
				   heartbeat_stamp, completion_stamp, id);
	int r = journal_exec(j, NULL,
			     "UPDATE sprints SET heartbeat_offset = "
			     "max(heartbeat_offset, ?), heartbeat_stamp = "
			     "coalesce(?, heartbeat_stamp), completion_stamp = "
			     "coalesce(?, completion_stamp) WHERE id = ?",
			     params, err);

	json_decref(params);
	return r;
}

/* ---------------------------------------------------------------- */
/* Replay                                                             */
/* ---------------------------------------------------------------- */

/* Where one sprint's replay stands. */
struct replay {
	char id[SPRINT_ID_MAX + 16];	/* the sprint, "" before the first */
	int created;			/* its sprint.created was seen */
	int broken;			/* an event its state did not allow */
	enum sprint_state state;	/* the state so far */
	int events;			/* events replayed */
};

/* Apply one event row 'ev' to 'rp'. */
static void replay_event(struct replay *rp, const json_t *ev)
{
	const char *type = json_string_value(json_object_get(ev, "type"));
	const json_t *data = json_object_get(ev, "data");
	enum sprint_event kind;
	enum sprint_state target = SPRINT_FAILED, next;

	if (sprint_event_parse(&kind, type) < 0)
		return;
	rp->events++;
	if (kind == SPRINT_EV_CREATED) {
		if (rp->created)
			rp->broken = 1;
		rp->created = 1;
		rp->state = SPRINT_PENDING;
		return;
	}
	if (kind == SPRINT_EV_FINISHED &&
	    sprint_state_parse(&target, json_string_value(json_object_get(
						data, "state"))) < 0)
		rp->broken = 1;
	if (!rp->created || sprint_next_state(&next, rp->state, kind,
					      target) < 0) {
		rp->broken = 1;
		return;
	}
	rp->state = next;
}

/* Compare 'rp' with the stored state; append a mismatch to 'out'. */
static int replay_compare(struct journal *j, json_t *out,
			  const struct replay *rp, struct err *err)
{
	json_t *row = NULL;
	const char *stored;

	if (sprint_get(j, &row, rp->id, err) < 0)
		return -1;
	stored = json_string_value(json_object_get(row, "state"));
	if (rp->broken || !rp->created ||
	    strcmp(stored, sprint_state_name(rp->state)))
		json_array_append_new(
			out, json_pack("{s:s, s:s, s:s, s:i, s:b}", "sprint_id",
				       rp->id, "stored", stored, "replayed",
				       rp->created
					       ? sprint_state_name(rp->state)
					       : "none",
				       "events", rp->events, "illegal_event",
				       rp->broken));
	json_decref(row);
	return 0;
}

int sprint_replay_check(struct journal *j, json_t **out, int *checked_out,
			int max, struct err *err)
{
	json_t *events = NULL, *found = json_array(), *ids = NULL;
	struct replay rp;
	size_t i;
	int r = -1;

	*out = NULL;
	*checked_out = 0;
	/* Sprints with no event at all are mismatches too. */
	if (journal_exec(j, &ids,
			 "SELECT id, state FROM sprints WHERE id NOT IN "
			 "(SELECT subject FROM events WHERE type = "
			 "'sprint.created' AND subject IS NOT NULL)",
			 NULL, err) < 0)
		goto out;
	for (i = 0; i < json_array_size(ids) &&
		    (int)json_array_size(found) < max;
	     i++)
		json_array_append_new(
			found,
			json_pack("{s:O, s:O, s:s, s:i, s:b}", "sprint_id",
				  json_object_get(json_array_get(ids, i), "id"),
				  "stored",
				  json_object_get(json_array_get(ids, i),
						  "state"),
				  "replayed", "none", "events", 0,
				  "illegal_event", 0));
	if (journal_exec(j, &events,
			 "SELECT subject, type, data FROM events WHERE type IN "
			 "('sprint.created', 'sprint.submitted', "
			 "'sprint.started', 'sprint.heartbeat', "
			 "'sprint.requeued', 'sprint.finished') AND subject IN "
			 "(SELECT id FROM sprints) ORDER BY subject, id",
			 NULL, err) < 0)
		goto out;
	memset(&rp, 0, sizeof(rp));
	for (i = 0; i <= json_array_size(events); i++) {
		json_t *ev = json_array_get(events, i);
		const char *subject = ev ? json_string_value(json_object_get(
						   ev, "subject"))
					 : NULL;
		json_t *data = NULL;

		if (rp.id[0] && (!subject || strcmp(subject, rp.id))) {
			(*checked_out)++;
			if ((int)json_array_size(found) < max &&
			    replay_compare(j, found, &rp, err) < 0)
				goto out;
			memset(&rp, 0, sizeof(rp));
		}
		if (!ev)
			break;
		snprintf(rp.id, sizeof(rp.id), "%s", subject);
		data = json_loads(json_string_value(json_object_get(ev,
								    "data")),
				  0, NULL);
		json_object_set_new(ev, "data", data ? data : json_object());
		replay_event(&rp, ev);
	}
	*out = found;
	found = NULL;
	r = 0;
out:
	json_decref(events);
	json_decref(found);
	json_decref(ids);
	return r;
}

int sprint_live_by_cluster(struct journal *j, json_t **out, struct err *err)
{
	json_t *rows = NULL, *by;
	size_t i;

	*out = NULL;
	if (journal_exec(j, &rows,
			 "SELECT cluster, COUNT(*) AS n FROM sprints WHERE "
			 "state IN " LIVE_STATES " GROUP BY cluster",
			 NULL, err) < 0)
		return -1;
	by = json_object();
	for (i = 0; i < json_array_size(rows); i++) {
		json_t *row = json_array_get(rows, i);

		json_object_set(by,
				json_string_value(json_object_get(row,
								  "cluster")),
				json_object_get(row, "n"));
	}
	json_decref(rows);
	*out = by;
	return 0;
}
