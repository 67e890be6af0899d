/*
 * memory.c: campaign memory, intents and what became of them (see
 * memory.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "config.h"
#include "ids.h"
#include "journal.h"
#include "memory.h"
#include "banned.h"

/* The members of an intent, in the order they are shown. */
static const char *const intent_keys[] = {
	"goal", "budget", "task_count", "abort_if", "parameters", "notes",
};

/* Run 'sql' with 'params' (stolen) into '*rows_out'. */
static int rows_steal(struct journal *j, json_t **rows_out, const char *sql,
		      json_t *params, struct err *err)
{
	int r = journal_exec(j, rows_out, sql, params, err);

	json_decref(params);
	return r;
}

/* ---------------------------------------------------------------- */
/* interview                                                          */
/* ---------------------------------------------------------------- */

/* A fresh "iv-" + 6 hex id that no intent has. */
static int new_id(struct journal *j, char out[MEMORY_ID_MAX], struct err *err)
{
	json_t *rows = NULL;
	int tries;

	for (tries = 0; tries < 100; tries++) {
		if (ids_new(out, MEMORY_ID_MAX, "iv-", 6) < 0)
			return err_set(err, ERR_INTERNAL,
				       "no randomness for an interview id");
		if (rows_steal(j, &rows,
			       "SELECT 1 FROM interviews WHERE id = ?",
			       json_pack("[s]", out), err) < 0)
			return -1;
		if (!json_array_size(rows)) {
			json_decref(rows);
			return 0;
		}
		json_decref(rows);
		rows = NULL;
	}
	return err_set(err, ERR_INTERNAL, "no free interview id");
}

/* The public view of the interviews row 'row': a new object. */
static json_t *intent_public(const json_t *row)
{
	json_t *intent = json_loads(
	    json_string_value(json_object_get(row, "intent")), 0, NULL);
	json_t *out = json_pack(
	    "{s:O, s:O, s:O, s:O}", "interview_id", json_object_get(row, "id"),
	    "study", json_object_get(row, "study"), "after_result_id",
	    json_object_get(row, "after_result_id"), "created_at",
	    json_object_get(row, "created_at"));
	size_t i;

	for (i = 0; i < sizeof(intent_keys) / sizeof(intent_keys[0]); i++) {
		json_t *v = json_object_get(intent, intent_keys[i]);

		json_object_set(out, intent_keys[i], v ? v : json_null());
	}
	json_decref(intent);
	return out;
}

int memory_interview(struct journal *j, json_t **out, const char *study,
		     const json_t *intent, struct err *err)
{
	char id[MEMORY_ID_MAX], now[IDS_TIME_LEN];
	json_t *kept = json_object(), *rows = NULL, *ev;
	int64_t seq;
	size_t i;
	int r = -1;

	*out = NULL;
	for (i = 0; i < sizeof(intent_keys) / sizeof(intent_keys[0]); i++) {
		json_t *v = json_object_get(intent, intent_keys[i]);

		if (v)
			json_object_set(kept, intent_keys[i], v);
	}
	if (new_id(j, id, err) < 0)
		goto out;
	ids_now(now);
	if (rows_steal(j, NULL,
		       "INSERT INTO interviews (id, study, goal, intent, "
		       "after_result_id, created_at) VALUES (?, ?, ?, ?, "
		       "(SELECT coalesce(max(id), 0) FROM results WHERE "
		       "study = ?), ?)",
		       json_pack("[s,s,O,O,s,s]", id, study,
				 json_object_get(kept, "goal"), kept, study,
				 now),
		       err) < 0)
		goto out;
	seq = journal_last_id(j);
	if (rows_steal(j, &rows, "SELECT * FROM interviews WHERE seq = ?",
		       json_pack("[I]", (json_int_t)seq), err) < 0)
		goto out;
	ev = json_pack("{s:s, s:O}", "study", study, "after_result_id",
		       json_object_get(json_array_get(rows, 0),
				       "after_result_id"));
	r = journal_event(j, NULL, "interview.recorded", id, ev, err);
	json_decref(ev);
	if (r < 0)
		goto out;
	*out = intent_public(json_array_get(rows, 0));
out:
	json_decref(kept);
	json_decref(rows);
	return r;
}

/* ---------------------------------------------------------------- */
/* recall                                                             */
/* ---------------------------------------------------------------- */

/*
 * Cut the string member 'key' of 'o' to 'max' bytes (at a
 * UTF-8 boundary, "..." added); '*cut' is set when it was.
 */
static void cut_text_to(json_t *o, const char *key, size_t max, int *cut)
{
	const char *s = json_string_value(json_object_get(o, key));
	struct buf b = BUF_INIT;
	size_t n;

	if (!s || strlen(s) <= max)
		return;
	n = max;
	while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
		n--;
	buf_add(&b, s, n);
	buf_adds(&b, "...");
	json_object_set_new(o, key, json_string(buf_str(&b)));
	buf_release(&b);
	*cut = 1;
}

/* cut_text_to() at MEMORY_TEXT_MAX. */
static void cut_text(json_t *o, const char *key, int *cut)
{
	cut_text_to(o, key, MEMORY_TEXT_MAX, cut);
}

/*
 * Cut what the parameters of the intent view 'o' say to
 * MEMORY_PARAM_MAX bytes each: a longer description is cut, a longer
 * range becomes its JSON text, cut.  '*cut' is set when one was.
 */
static void cut_params(json_t *o, int *cut)
{
	json_t *params = json_object_get(o, "parameters"), *v, *tmp;
	const char *name;
	char *text;

	if (!json_is_object(params))
		return;
	json_object_foreach(params, name, v)
	{
		if (json_is_string(v)) {
			tmp = json_pack("{s:O}", "t", v);
			cut_text_to(tmp, "t", MEMORY_PARAM_MAX, cut);
			json_object_set(params, name, json_object_get(tmp, "t"));
			json_decref(tmp);
			continue;
		}
		text = json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS);
		if (text && strlen(text) > MEMORY_PARAM_MAX) {
			tmp = json_pack("{s:s}", "t", text);
			cut_text_to(tmp, "t", MEMORY_PARAM_MAX, cut);
			json_object_set(params, name, json_object_get(tmp, "t"));
			json_decref(tmp);
		}
		free(text);
	}
}

/* The span of results a campaign covers. */
struct span {
	const char *study;
	int64_t after;	/* results with a larger id ... */
	int64_t until;	/* ... up to this one, or 0 for no end */
};

/* The SQL that limits 'r' (results) to a span: four '?'. */
#define SPAN_SQL                                                         \
	"r.study = ? AND r.id > ? AND (? <= 0 OR r.id <= ?)"

/* The span's parameters of SPAN_SQL: a new array. */
static json_t *span_params(const struct span *s)
{
	return json_pack("[s,I,I,I]", s->study, (json_int_t)s->after,
			 (json_int_t)s->until, (json_int_t)s->until);
}

/* The counts of the span's results by status, with "total". */
static int span_counts(struct journal *j, json_t **out,
		       const struct span *s, struct err *err)
{
	static const char *const statuses[] = {"keep", "discard", "crash",
					       "timeout", "requeued"};
	json_t *rows = NULL;
	json_int_t total = 0;
	size_t i;

	*out = NULL;
	if (rows_steal(j, &rows,
		       "SELECT status, count(*) AS n FROM results r WHERE "
		       SPAN_SQL " GROUP BY status",
		       span_params(s), err) < 0)
		return -1;
	*out = json_object();
	for (i = 0; i < sizeof(statuses) / sizeof(statuses[0]); i++)
		json_object_set_new(*out, statuses[i], json_integer(0));
	for (i = 0; i < json_array_size(rows); i++) {
		json_t *row = json_array_get(rows, i);
		json_int_t n = json_integer_value(json_object_get(row, "n"));

		json_object_set_new(
		    *out, json_string_value(json_object_get(row, "status")),
		    json_integer(n));
		total += n;
	}
	json_object_set_new(*out, "total", json_integer(total));
	json_decref(rows);
	return 0;
}

/*
 * The parameters the span's runs tried: {name: {"runs", "min", "max"}}
 * for numbers, {name: {"runs", "values": [...]}} for the others (the
 * most frequent MEMORY_VALUES_MAX), at most MEMORY_PARAMS_MAX names.
 */
static int span_params_tried(struct journal *j, json_t **out,
			     const struct span *s, struct err *err)
{
	json_t *nums = NULL, *vals = NULL;
	size_t i;
	int r = -1;

	*out = json_object();
	if (rows_steal(j, &nums,
		       "SELECT p.key AS name, min(p.value) AS lo, "
		       "max(p.value) AS hi, count(*) AS n FROM results r, "
		       "json_each(r.params) p WHERE r.params IS NOT NULL AND "
		       "json_valid(r.params) AND json_type(r.params) = "
		       "'object' AND " SPAN_SQL " AND p.type IN ('integer', "
		       "'real') GROUP BY p.key ORDER BY p.key LIMIT 32",
		       span_params(s), err) < 0 ||
	    rows_steal(j, &vals,
		       "SELECT p.key AS name, p.atom AS value, p.type AS "
		       "type, count(*) AS n FROM results r, json_each(r.params) p WHERE "
		       "r.params IS NOT NULL AND json_valid(r.params) AND "
		       "json_type(r.params) = 'object' AND " SPAN_SQL
		       " AND p.type IN ('text', 'true', 'false') GROUP BY "
		       "p.key, p.atom ORDER BY p.key, n DESC LIMIT 512",
		       span_params(s), err) < 0)
		goto out;
	for (i = 0; i < json_array_size(nums); i++) {
		json_t *row = json_array_get(nums, i);

		if (json_object_size(*out) >= MEMORY_PARAMS_MAX)
			break;
		json_object_set_new(
		    *out, json_string_value(json_object_get(row, "name")),
		    json_pack("{s:O, s:O, s:O}", "runs",
			      json_object_get(row, "n"), "min",
			      json_object_get(row, "lo"), "max",
			      json_object_get(row, "hi")));
	}
	for (i = 0; i < json_array_size(vals); i++) {
		json_t *row = json_array_get(vals, i), *p, *v;
		const char *type, *name =
		    json_string_value(json_object_get(row, "name"));

		p = json_object_get(*out, name);
		if (!p) {
			if (json_object_size(*out) >= MEMORY_PARAMS_MAX)
				continue;
			p = json_pack("{s:i, s:[]}", "runs", 0, "values");
			json_object_set_new(*out, name, p);
		}
		if (!json_object_get(p, "values"))
			json_object_set_new(p, "values", json_array());
		json_object_set_new(
		    p, "runs",
		    json_integer(
			json_integer_value(json_object_get(p, "runs")) +
			json_integer_value(json_object_get(row, "n"))));
		v = json_object_get(p, "values");
		type = json_string_value(json_object_get(row, "type"));
		if (json_array_size(v) >= MEMORY_VALUES_MAX)
			continue;
		/* SQLite gives true and false as 1 and 0 */
		if (!strcmp(type, "text"))
			json_array_append(v, json_object_get(row, "value"));
		else
			json_array_append_new(
			    v, json_boolean(!strcmp(type, "true")));
	}
	r = 0;
out:
	json_decref(nums);
	json_decref(vals);
	if (r < 0) {
		json_decref(*out);
		*out = NULL;
	}
	return r;
}

/*
 * The best run of the span that ran (keep or discard) in the metric
 * direction of the study config 'study' (borrowed, may be NULL): a new
 * object, or JSON null.
 */
static int span_best(struct journal *j, json_t **out, const struct span *s,
		     const json_t *study, struct err *err)
{
	const json_t *m = json_object_get(study, "metric");
	const char *dir = json_string_value(json_object_get(m, "direction"));
	json_t *rows = NULL, *row;
	int r;

	*out = json_null();
	if (!dir)
		return 0;
	r = rows_steal(j, &rows,
		       !strcmp(dir, "maximize")
			   ? "SELECT * FROM results r WHERE " SPAN_SQL
			     " AND metric IS NOT NULL AND status IN ('keep', "
			     "'discard') ORDER BY metric DESC, id LIMIT 1"
			   : "SELECT * FROM results r WHERE " SPAN_SQL
			     " AND metric IS NOT NULL AND status IN ('keep', "
			     "'discard') ORDER BY metric ASC, id LIMIT 1",
		       span_params(s), err);
	if (r < 0)
		return -1;
	row = json_array_get(rows, 0);
	if (row) {
		int cut = 0;

		*out = json_pack(
		    "{s:O, s:f, s:O, s:O, s:O, s:O, s:O, s:O}", "result_id",
		    json_object_get(row, "id"), "metric",
		    json_number_value(json_object_get(row, "metric")),
		    "status", json_object_get(row, "status"), "sprint_id",
		    json_object_get(row, "sprint_id"), "loop_id",
		    json_object_get(row, "loop_id"), "commit",
		    json_object_get(row, "commit_sha"), "description",
		    json_object_get(row, "description"), "created_at",
		    json_object_get(row, "created_at"));
		cut_text(*out, "description", &cut);
	}
	json_decref(rows);
	return 0;
}

/* The summary of the intent row 'row': a new object in '*out'. */
static int summary_of(struct journal *j, json_t **out, const json_t *row,
		      const struct config *cfg, struct err *err)
{
	json_t *view = intent_public(row), *rows = NULL, *counts = NULL;
	json_t *params = NULL, *best = NULL, *metric = json_null();
	const json_t *study_cfg;
	struct span s;
	int cut = 0, r = -1;

	*out = NULL;
	s.study = json_string_value(json_object_get(row, "study"));
	s.after = json_integer_value(json_object_get(row, "after_result_id"));
	/* The campaign ends where the next intent of its study starts. */
	if (rows_steal(j, &rows,
		       "SELECT min(after_result_id) AS until FROM interviews "
		       "WHERE study = ? AND seq > ?",
		       json_pack("[s,O]", s.study, json_object_get(row, "seq")),
		       err) < 0)
		goto out;
	s.until = json_integer_value(
	    json_object_get(json_array_get(rows, 0), "until"));
	if (s.until > 0 && s.until < s.after)
		s.until = s.after;
	study_cfg = cfg ? config_study(cfg, s.study) : NULL;
	if (span_counts(j, &counts, &s, err) < 0 ||
	    span_params_tried(j, &params, &s, err) < 0 ||
	    span_best(j, &best, &s, study_cfg, err) < 0)
		goto out;
	if (json_object_get(study_cfg, "metric"))
		metric = json_pack(
		    "{s:O, s:O}", "name",
		    json_object_get(json_object_get(study_cfg, "metric"),
				    "name"),
		    "direction",
		    json_object_get(json_object_get(study_cfg, "metric"),
				    "direction"));
	cut_text(view, "goal", &cut);
	cut_text(view, "abort_if", &cut);
	cut_text(view, "notes", &cut);
	cut_params(view, &cut);
	*out = json_pack("{s:o, s:{s:o, s:o, s:o, s:o, s:I, s:o}, s:b}",
			 "interview", view, "since", "results", counts,
			 "params", params, "best", best, "metric", metric,
			 "after_result_id", (json_int_t)s.after,
			 "until_result_id",
			 s.until > 0 ? json_integer(s.until) : json_null(),
			 "truncated", cut);
	view = counts = params = best = metric = NULL;
	r = 0;
out:
	json_decref(view);
	json_decref(rows);
	json_decref(counts);
	json_decref(params);
	json_decref(best);
	json_decref(metric);
	return r;
}

int memory_recall(struct journal *j, json_t **out, int64_t *total_out,
		  int64_t *next_out, const struct config *cfg,
		  const struct memory_query *q, struct err *err)
{
	json_t *rows = NULL, *count = NULL, *list = NULL, *one;
	int limit = q->limit > 0 && q->limit <= MEMORY_LIMIT_MAX
			? q->limit
			: MEMORY_LIMIT_DEFAULT;
	size_t i;
	int r = -1;

	*out = NULL;
	*total_out = 0;
	*next_out = 0;
	if (rows_steal(j, &count,
		       "SELECT count(*) AS n FROM interviews WHERE (? IS NULL "
		       "OR study = ?) AND (? IS NULL OR instr(lower(goal), "
		       "lower(?)) > 0)",
		       json_pack("[s?,s?,s?,s?]", q->study, q->study, q->text,
				 q->text),
		       err) < 0 ||
	    rows_steal(j, &rows,
		       "SELECT * FROM interviews WHERE (? IS NULL OR study = "
		       "?) AND (? IS NULL OR instr(lower(goal), lower(?)) > "
		       "0) AND (? <= 0 OR seq < ?) ORDER BY seq DESC LIMIT ?",
		       json_pack("[s?,s?,s?,s?,I,I,i]", q->study, q->study,
				 q->text, q->text, (json_int_t)q->before,
				 (json_int_t)q->before, limit + 1),
		       err) < 0)
		goto out;
	*total_out = json_integer_value(
	    json_object_get(json_array_get(count, 0), "n"));
	if (json_array_size(rows) > (size_t)limit) {
		json_array_remove(rows, (size_t)limit);
		*next_out = json_integer_value(json_object_get(
		    json_array_get(rows, (size_t)limit - 1), "seq"));
	}
	list = json_array();
	for (i = 0; i < json_array_size(rows); i++) {
		if (summary_of(j, &one, json_array_get(rows, i), cfg, err) < 0)
			goto out;
		json_array_append_new(list, one);
	}
	*out = list;
	list = NULL;
	r = 0;
out:
	json_decref(rows);
	json_decref(count);
	json_decref(list);
	return r;
}
