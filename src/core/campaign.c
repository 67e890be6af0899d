/*
 * campaign.c: the journal side of campaigns (see campaign.h): expanding
 * the tasks, the rows and their states, show and tick.
 */
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "campaign.h"
#include "campaign_internal.h"
#include "cluster.h"
#include "config.h"
#include "ids.h"
#include "journal.h"
#include "observe.h"
#include "sched.h"
#include "xalloc.h"
#include "banned.h"

/* The most failed task ids campaign_show() lists. */
#define SHOW_FAILED_MAX 1000

/* ---------------------------------------------------------------- */
/* Tasks                                                              */
/* ---------------------------------------------------------------- */

/* qsort() order of object keys. */
static int key_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

int campaign_expand(json_t **out, const json_t *campaign, struct err *err)
{
	const json_t *list = json_object_get(campaign, "tasks");
	const json_t *grid = json_object_get(campaign, "params");
	const char **names = NULL;
	json_t *tasks, *v;
	const char *k;
	size_t n = 0, i, total = 1;

	*out = NULL;
	if (json_is_array(list)) {
		if (json_array_size(list) == 0 ||
		    json_array_size(list) > CAMPAIGN_MAX_TASKS)
			return err_set(err, ERR_SPEC_INVALID,
				       "campaign.tasks must hold 1 to %d tasks",
				       CAMPAIGN_MAX_TASKS);
		*out = json_deep_copy(list);
		return 0;
	}
	if (!json_is_object(grid) || json_object_size(grid) == 0)
		return err_set(err, ERR_SPEC_INVALID,
			       "a campaign needs tasks (a list) or params (a "
			       "grid)");
	names = xcalloc(json_object_size(grid), sizeof(*names));
	json_object_foreach((json_t *)grid, k, v) {
		size_t m = json_array_size(v);

		if (!m || total > CAMPAIGN_MAX_TASKS / m) {
			free(names);
			return err_set(err, ERR_SPEC_INVALID,
				       "campaign.params: the grid must give each "
				       "name at least one value and make at "
				       "most %d tasks", CAMPAIGN_MAX_TASKS);
		}
		total *= m;
		names[n++] = k;
	}
	qsort(names, n, sizeof(*names), key_cmp);
	tasks = json_array();
	for (i = 0; i < total; i++) {
		json_t *task = json_object();
		size_t rest = i, d;

		/* The last name varies fastest. */
		for (d = n; d-- > 0;) {
			const json_t *vals = json_object_get(grid, names[d]);
			size_t m = json_array_size(vals);

			json_object_set(task, names[d],
					json_array_get(vals, rest % m));
			rest /= m;
		}
		json_array_append_new(tasks, task);
	}
	free(names);
	*out = tasks;
	return 0;
}

/* ---------------------------------------------------------------- */
/* Rows                                                               */
/* ---------------------------------------------------------------- */

int cp_row(struct journal *j, json_t **out, const char *id, struct err *err)
{
	json_t *params = json_pack("[s]", id);
	int r = journal_row(j, out, "SELECT * FROM campaigns WHERE id = ?",
			    params, err);

	json_decref(params);
	if (r == 0 && !*out) {
		err_set(err, ERR_NOT_FOUND, "no campaign '%s'", id);
		return err_remedy(err, "`hpcloop events` with {\"type\": "
				  "\"campaign.created\"} lists the campaigns");
	}
	return r;
}

int cp_submissions(struct journal *j, json_t **out, const char *id,
		   struct err *err)
{
	json_t *params = json_pack("[s]", id);
	int r = journal_exec(j, out,
			     "SELECT * FROM campaign_submissions WHERE "
			     "campaign_id = ? ORDER BY n",
			     params, err);

	json_decref(params);
	return r;
}

int cp_set_state(struct journal *j, const char *id, const char *state,
		 const char *error, struct err *err)
{
	char now[IDS_TIME_LEN];
	json_t *params, *ev;
	int r;

	ids_now(now);
	params = json_pack("[s, s?, s, s, s]", state, error, now, id, state);
	r = journal_exec(j, NULL,
			 "UPDATE campaigns SET state = ?, error = coalesce(?, "
			 "error), updated_at = ? WHERE id = ? AND state <> ?",
			 params, err);
	json_decref(params);
	if (r < 0 || journal_changes(j) == 0)
		return r;
	ev = json_pack("{s:s, s:s?}", "state", state, "error", error);
	r = journal_event(j, NULL, "campaign.state", id, ev, err);
	json_decref(ev);
	return r;
}

int cp_set_canary(struct journal *j, const char *id, int mark,
		  struct err *err)
{
	/* A verdict (2, 3) is given once: only a waiting canary takes one;
	   1 (waiting again) only after a failed one is run again. */
	json_t *params = json_pack("[i, s, i]", mark, id, mark == 1 ? 3 : 1);
	int r = journal_exec(j, NULL,
			     "UPDATE campaigns SET canary = ? WHERE id = ? AND "
			     "canary = ?",
			     params, err);

	json_decref(params);
	return r;
}

int cp_record_submission(struct journal *j, const char *id, int n,
			 const char *job_id, const json_t *task_job_ids,
			 struct err *err)
{
	char now[IDS_TIME_LEN];
	json_t *params, *sub = NULL, *tasks = NULL, *ev;
	size_t i;
	int r = -1;

	ids_now(now);
	if (journal_begin(j, err) < 0)
		return -1;
	params = json_pack("[s, s, i]", job_id, id, n);
	r = journal_exec(j, NULL,
			 "UPDATE campaign_submissions SET job_id = ? WHERE "
			 "campaign_id = ? AND n = ? AND job_id IS NULL",
			 params, err);
	json_decref(params);
	if (r < 0 || journal_changes(j) == 0)
		goto out;	/* recorded before: nothing to do */
	params = json_pack("[s, i]", id, n);
	r = journal_row(j, &sub,
			"SELECT tasks FROM campaign_submissions WHERE "
			"campaign_id = ? AND n = ?",
			params, err);
	json_decref(params);
	if (r < 0)
		goto out;
	tasks = json_loads(json_string_value(json_object_get(sub, "tasks")), 0,
			   NULL);
	for (i = 0; r == 0 && i < json_array_size(tasks); i++) {
		params = json_pack("[O, i, s, s, O]",
				   json_array_get(task_job_ids, i), n, now, id,
				   json_array_get(tasks, i));
		r = journal_exec(j, NULL,
				 "UPDATE campaign_tasks SET job_id = ?, "
				 "submission = ?, state = 'submitted', "
				 "evidence = NULL, updated_at = ? WHERE "
				 "campaign_id = ? AND task = ?",
				 params, err);
		json_decref(params);
	}
	if (r < 0)
		goto out;
	ev = json_pack("{s:i, s:s, s:I}", "submission", n, "job_id", job_id,
		       "tasks", (json_int_t)json_array_size(tasks));
	r = journal_event(j, NULL, "campaign.submitted", id, ev, err);
	json_decref(ev);
	if (r == 0)
		r = cp_set_state(j, id, "submitted", NULL, err);
out:
	json_decref(sub);
	json_decref(tasks);
	if (r == 0)
		r = journal_commit(j, err);
	if (r < 0)
		journal_rollback(j);
	return r;
}

int cp_add_submission(struct journal *j, const char *id, int n,
		      const char *kind, const json_t *tasks, struct err *err)
{
	char now[IDS_TIME_LEN];
	json_t *params;
	char *text = json_dumps(tasks, JSON_COMPACT);
	size_t i;
	int r;

	ids_now(now);
	params = json_pack("[s, i, i, s, s, s]", id, n, 0, text, kind, now);
	free(text);
	r = journal_exec(j, NULL,
			 "INSERT INTO campaign_submissions (campaign_id, n, "
			 "wave, tasks, kind, created_at) VALUES (?, ?, ?, ?, "
			 "?, ?)",
			 params, err);
	json_decref(params);
	for (i = 0; r == 0 && i < json_array_size(tasks); i++) {
		params = json_pack("[s, s, O]", now, id, json_array_get(tasks, i));
		r = journal_exec(j, NULL,
				 "UPDATE campaign_tasks SET attempt = attempt "
				 "+ 1, state = 'pending', job_id = NULL, "
				 "updated_at = ? WHERE campaign_id = ? AND "
				 "task = ?",
				 params, err);
		json_decref(params);
	}
	return r;
}

int cp_cluster(struct cluster *c, const struct config *cfg,
	       const json_t *row, struct err *err)
{
	return cluster_open(c, cfg,
			    json_string_value(json_object_get(row, "cluster")),
			    err);
}

/* ---------------------------------------------------------------- */
/* Show                                                               */
/* ---------------------------------------------------------------- */

/* The counts of campaign 'id's tasks by state, a new object. */
static int counts_of(struct journal *j, json_t **out, const char *id,
		     struct err *err)
{
	static const char *const states[] = {
		"pending", "submitted", "running", "completed", "failed",
		"timed_out", "cancelled", "lost",
	};
	json_t *params = json_pack("[s]", id), *rows = NULL, *row;
	size_t i;
	int r;

	r = journal_exec(j, &rows,
			 "SELECT state, count(*) AS n FROM campaign_tasks "
			 "WHERE campaign_id = ? GROUP BY state",
			 params, err);
	json_decref(params);
	if (r < 0)
		return -1;
	*out = json_object();
	for (i = 0; i < sizeof(states) / sizeof(states[0]); i++)
		json_object_set_new(*out, states[i], json_integer(0));
	json_array_foreach(rows, i, row)
		json_object_set(*out,
				json_string_value(json_object_get(row, "state")),
				json_object_get(row, "n"));
	json_decref(rows);
	return 0;
}

int campaign_show(struct journal *j, json_t **data_out, const char *id,
		  struct err *err)
{
	json_t *row = NULL, *subs = NULL, *counts = NULL, *failed = NULL;
	json_t *params, *list, *s;
	size_t i;
	int r = -1, canary;

	*data_out = NULL;
	if (cp_row(j, &row, id, err) < 0 || cp_submissions(j, &subs, id, err) < 0 ||
	    counts_of(j, &counts, id, err) < 0)
		goto out;
	params = json_pack("[s, i]", id, SHOW_FAILED_MAX);
	r = journal_exec(j, &failed,
			 "SELECT task FROM campaign_tasks WHERE campaign_id = ? "
			 "AND state IN ('failed', 'timed_out', 'cancelled', "
			 "'lost') ORDER BY task LIMIT ?",
			 params, err);
	json_decref(params);
	if (r < 0)
		goto out;
	list = json_array();
	json_array_foreach(failed, i, s)
		json_array_append(list, json_object_get(s, "task"));
	json_decref(failed);
	failed = list;
	list = json_array();
	json_array_foreach(subs, i, s) {
		json_t *tl = json_loads(json_string_value(json_object_get(s,
								    "tasks")),
					0, NULL);

		json_array_append_new(list, json_pack(
			"{s:O, s:O, s:O, s:O, s:I}", "n", json_object_get(s, "n"),
			"kind", json_object_get(s, "kind"), "wave",
			json_object_get(s, "wave"), "job_id",
			json_object_get(s, "job_id"), "tasks",
			(json_int_t)json_array_size(tl)));
		json_decref(tl);
	}
	canary = (int)json_integer_value(json_object_get(row, "canary"));
	*data_out = json_pack(
		"{s:O, s:O, s:O, s:O, s:O, s:O, s:O, s:o, s:o, s:o, s:s?, s:O}",
		"campaign_id", json_object_get(row, "id"), "study",
		json_object_get(row, "study"), "cluster",
		json_object_get(row, "cluster"), "state",
		json_object_get(row, "state"), "tasks",
		json_object_get(row, "tasks"), "directory",
		json_object_get(row, "directory"), "error",
		json_object_get(row, "error"), "counts", counts, "failed_tasks",
		failed, "submissions", list, "canary",
		canary == 0   ? NULL
		: canary == 1 ? "waiting"
		: canary == 2 ? "passed"
			      : "failed",
		"created_at", json_object_get(row, "created_at"));
	counts = failed = NULL;
	r = *data_out ? 0 : err_set(err, ERR_INTERNAL, "campaign show");
out:
	json_decref(row);
	json_decref(subs);
	json_decref(counts);
	json_decref(failed);
	return r;
}

/* ---------------------------------------------------------------- */
/* Tick                                                               */
/* ---------------------------------------------------------------- */

/* The task state the scheduler's 'state' means, or NULL: no change. */
static const char *task_state_of(const char *state)
{
	static const struct {
		const char *sched, *task;
	} map[] = {
		{ "pending", "submitted" },	{ "requeued", "submitted" },
		{ "running", "running" },	{ "completed", "completed" },
		{ "failed", "failed" },		{ "cancelled", "cancelled" },
		{ "timed_out", "timed_out" },	{ "lost", "lost" },
	};
	size_t i;

	for (i = 0; state && i < sizeof(map) / sizeof(map[0]); i++)
		if (!strcmp(map[i].sched, state))
			return map[i].task;
	return NULL;	/* unknown: the next look may know */
}

/*
 * The campaign's state from its task counts: running while any task
 * has not ended (and some started or ended), completed when every one
 * completed, cancelled when the rest were all cancelled, else failed.
 * A campaign whose canary is still waiting stays as it is.
 */
static const char *derive(const json_t *counts, const json_t *row)
{
	json_int_t live = 0, done = 0, bad = 0, cancelled, completed, n;

	live = json_integer_value(json_object_get(counts, "pending")) +
	       json_integer_value(json_object_get(counts, "submitted"));
	n = json_integer_value(json_object_get(counts, "running"));
	completed = json_integer_value(json_object_get(counts, "completed"));
	cancelled = json_integer_value(json_object_get(counts, "cancelled"));
	bad = json_integer_value(json_object_get(counts, "failed")) +
	      json_integer_value(json_object_get(counts, "timed_out")) +
	      json_integer_value(json_object_get(counts, "lost"));
	done = completed + cancelled + bad;
	if (live + n > 0)
		return n + done > 0 ? "running" : NULL;
	if (json_integer_value(json_object_get(row, "canary")) == 1 &&
	    done < json_integer_value(json_object_get(row, "tasks")))
		return NULL;
	if (bad == 0 && cancelled == 0)
		return "completed";
	if (bad == 0)
		return "cancelled";
	return "failed";
}

/* Apply the scheduler's answer 'states' to the tasks 'rows'. */
static int apply(struct journal *j, const char *id, const json_t *rows,
		 const json_t *states, const json_t *row, struct err *err)
{
	char now[IDS_TIME_LEN];
	json_t *t, *params, *counts = NULL;
	const char *state;
	size_t i;
	int r = 0, changed = 0;

	ids_now(now);
	if (journal_begin(j, err) < 0)
		return -1;
	json_array_foreach(rows, i, t) {
		const char *job = json_string_value(json_object_get(t, "job_id"));
		const json_t *ans = json_object_get(states, job);
		const char *to = task_state_of(json_string_value(
			json_object_get(ans, "state")));
		char *ev;

		if (!to || !strcmp(to, json_string_value(json_object_get(
					       t, "state"))))
			continue;
		ev = json_dumps(json_object_get(ans, "evidence"), JSON_COMPACT);
		params = json_pack("[s, s?, s, s, O, s]", to, ev, now, id,
				   json_object_get(t, "task"), job);
		free(ev);
		r = journal_exec(j, NULL,
				 "UPDATE campaign_tasks SET state = ?, "
				 "evidence = ?, updated_at = ? WHERE "
				 "campaign_id = ? AND task = ? AND job_id = ?",
				 params, err);
		json_decref(params);
		if (r < 0)
			goto out;
		changed++;
	}
	if (counts_of(j, &counts, id, err) < 0) {
		r = -1;
		goto out;
	}
	state = derive(counts, row);
	if (changed) {
		params = json_pack("{s:i, s:O}", "changed", changed, "counts",
				   counts);
		r = journal_event(j, NULL, "campaign.progress", id, params, err);
		json_decref(params);
	}
	if (r == 0 && state &&
	    strcmp(state, json_string_value(json_object_get(row, "state"))))
		r = cp_set_state(j, id, state, NULL, err);
out:
	json_decref(counts);
	if (r == 0)
		r = journal_commit(j, err);
	if (r < 0)
		journal_rollback(j);
	return r;
}

int campaign_tick(struct journal *j, json_t **data_out,
		  const struct config *cfg, const char *id, struct err *err)
{
	struct cluster c = CLUSTER_INIT;
	struct observation obs = OBSERVATION_INIT;
	json_t *row = NULL, *rows = NULL, *ids = NULL, *params, *t;
	const char *state;
	size_t i;
	int r = -1;

	*data_out = NULL;
	if (cp_row(j, &row, id, err) < 0)
		goto out;
	state = json_string_value(json_object_get(row, "state"));
	if (!strcmp(state, "completed") || !strcmp(state, "failed") ||
	    !strcmp(state, "cancelled") || !strcmp(state, "pending")) {
		r = campaign_show(j, data_out, id, err);
		goto out;
	}
	params = json_pack("[s]", id);
	r = journal_exec(j, &rows,
			 "SELECT task, job_id, state FROM campaign_tasks WHERE "
			 "campaign_id = ? AND job_id IS NOT NULL AND state IN "
			 "('submitted', 'running')",
			 params, err);
	json_decref(params);
	if (r < 0)
		goto out;
	ids = json_array();
	json_array_foreach(rows, i, t)
		json_array_append(ids, json_object_get(t, "job_id"));
	if (json_array_size(ids)) {
		r = cp_cluster(&c, cfg, row, err);
		if (r == 0)
			r = observe_jobs(j, &obs, &c, ids, err);
		if (r < 0)
			goto out;
	}
	r = apply(j, id, rows, obs.states, row, err);
	if (r == 0)
		r = campaign_show(j, data_out, id, err);
	if (r == 0) {
		json_object_set_new(*data_out, "scheduler", json_pack(
			"{s:b, s:b, s:f, s:f}", "queried", obs.queried, "cached",
			obs.cached, "answer_age_s", obs.age_s,
			"next_query_in_s", obs.next_query_in_s));
	}
out:
	observation_release(&obs);
	cluster_release(&c);
	json_decref(row);
	json_decref(rows);
	json_decref(ids);
	return r;
}
