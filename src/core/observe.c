/*
 * observe.c: the shared query budget and the cache of scheduler answers
 * (see observe.h).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cluster.h"
#include "journal.h"
#include "lease.h"
#include "observe.h"
#include "sched.h"
#include "banned.h"

void observation_release(struct observation *o)
{
	if (!o)
		return;
	json_decref(o->states);
	o->states = NULL;
}

int observe_budget_of(const struct cluster *c, double *interval_s_out,
		      double *burst_out, struct err *err)
{
	const json_t *iv = json_object_get(c->conf, "query_interval_s");
	const json_t *burst = json_object_get(c->conf, "query_burst");

	if (!json_is_number(iv) || json_number_value(iv) <= 0)
		return err_set(err, ERR_CONFIG_INVALID,
			       "clusters.%s.query_interval_s is missing",
			       c->name);
	if (!json_is_number(burst) || json_number_value(burst) < 1)
		return err_set(err, ERR_CONFIG_INVALID,
			       "clusters.%s.query_burst is missing", c->name);
	*interval_s_out = json_number_value(iv);
	*burst_out = json_number_value(burst);
	return 0;
}

/*
 * Take one token of cluster 'c' in a short transaction: '*allowed_out'
 * 1 when there was one, else '*cached_out' receives the stored answer
 * (new, may be NULL) with its time in '*answered_at_out'.
 */
static int take_token(struct journal *j, const struct cluster *c,
		      double interval, double burst, int *allowed_out,
		      json_t **cached_out, double *answered_at_out,
		      double *wait_out, struct err *err)
{
	double now = lease_now(), tokens;
	json_t *row = NULL, *params = NULL;
	const char *text;
	int r = -1;

	*allowed_out = 0;
	*cached_out = NULL;
	*answered_at_out = 0;
	*wait_out = 0;
	if (journal_begin(j, err) < 0)
		return -1;
	params = json_pack("[s]", c->name);
	if (journal_row(j, &row,
			"SELECT tokens, refilled_at, answered_at, answer FROM "
			"query_budget WHERE cluster = ?",
			params, err) < 0)
		goto out;
	tokens = burst;
	if (row) {
		double last = json_number_value(json_object_get(row,
								"refilled_at"));

		tokens = json_number_value(json_object_get(row, "tokens")) +
			 (now > last ? (now - last) / interval : 0);
		if (tokens > burst)
			tokens = burst;
	}
	if (tokens >= 1) {
		*allowed_out = 1;
		tokens -= 1;
	} else {
		*wait_out = (1 - tokens) * interval;
		text = json_string_value(json_object_get(row, "answer"));
		*cached_out = text ? json_loads(text, 0, NULL) : NULL;
		*answered_at_out = json_number_value(json_object_get(
			row, "answered_at"));
	}
	json_decref(params);
	params = json_pack("[s,f,f,i]", c->name, tokens, now, *allowed_out);
	if (journal_exec(j, NULL,
			 "INSERT INTO query_budget (cluster, tokens, "
			 "refilled_at, queries) VALUES (?, ?, ?, ?) "
			 "ON CONFLICT (cluster) DO UPDATE SET tokens = "
			 "excluded.tokens, refilled_at = excluded.refilled_at, "
			 "queries = queries + excluded.queries",
			 params, err) < 0)
		goto out;
	r = journal_commit(j, err);
out:
	if (r < 0)
		journal_rollback(j);
	json_decref(params);
	json_decref(row);
	return r;
}

int observe_budget_state(struct journal *j, json_t **out, const char *cluster,
			 double interval_s, double burst, struct err *err)
{
	json_t *params = json_pack("[s]", cluster), *row = NULL;
	double now = lease_now(), tokens, last, answered;
	int r;

	*out = NULL;
	r = journal_row(j, &row,
			"SELECT tokens, refilled_at, answered_at, queries FROM "
			"query_budget WHERE cluster = ?",
			params, err);
	json_decref(params);
	if (r < 0 || !row)
		return r;
	last = json_number_value(json_object_get(row, "refilled_at"));
	tokens = json_number_value(json_object_get(row, "tokens")) +
		 (now > last && interval_s > 0 ? (now - last) / interval_s
					       : 0);
	if (tokens > burst)
		tokens = burst;
	answered = json_number_value(json_object_get(row, "answered_at"));
	*out = json_pack("{s:f, s:O, s:o}", "tokens", tokens, "queries",
			 json_object_get(row, "queries"), "answer_age_s",
			 answered > 0 ? json_real(now > answered ? now - answered
								 : 0)
				      : json_null());
	json_decref(row);
	return 0;
}

/* Store 'states' as the cluster's last answer, merged into the old one. */
static int store_answer(struct journal *j, const struct cluster *c,
			const json_t *states, struct err *err)
{
	json_t *params = json_pack("[O,f,s]", states, lease_now(), c->name);
	int r;

	if (journal_begin(j, err) < 0) {
		json_decref(params);
		return -1;
	}
	r = journal_exec(j, NULL,
			 "UPDATE query_budget SET answer = ?, answered_at = ? "
			 "WHERE cluster = ?",
			 params, err);
	json_decref(params);
	if (r == 0)
		r = journal_commit(j, err);
	if (r < 0)
		journal_rollback(j);
	return r;
}

/* The entries of 'cached' for the ids of 'job_ids': a new object. */
static json_t *covered(const json_t *cached, const json_t *job_ids)
{
	json_t *out = json_object();
	size_t i;

	for (i = 0; i < json_array_size(job_ids); i++) {
		const char *id = json_string_value(json_array_get(job_ids, i));
		json_t *v = id ? json_object_get(cached, id) : NULL;

		if (v)
			json_object_set(out, id, v);
	}
	return out;
}

int observe_jobs(struct journal *j, struct observation *out,
		 struct cluster *c, const json_t *job_ids, struct err *err)
{
	json_t *cached = NULL;
	double interval, burst, answered_at, wait;
	int allowed, r = -1;

	memset(out, 0, sizeof(*out));
	if (journal_in_transaction(j))
		BUG("observe_jobs inside a transaction");
	if (!json_array_size(job_ids)) {
		out->states = json_object();
		return 0;
	}
	if (!c->sched->ops->shared) {
		if (sched_query(c->sched, &out->states, job_ids, err) < 0)
			return -1;
		out->queried = 1;
		return 0;
	}
	if (observe_budget_of(c, &interval, &burst, err) < 0 ||
	    take_token(j, c, interval, burst, &allowed, &cached, &answered_at,
		       &wait, err) < 0)
		goto out;
	out->next_query_in_s = wait;
	if (!allowed) {
		out->cached = 1;
		out->states = covered(cached, job_ids);
		out->age_s = answered_at > 0 ? lease_now() - answered_at : 0;
		r = 0;
		goto out;
	}
	if (sched_query(c->sched, &out->states, job_ids, err) < 0)
		goto out;
	out->queried = 1;
	out->next_query_in_s = burst >= 2 ? 0 : interval;
	r = store_answer(j, c, out->states, err);
out:
	json_decref(cached);
	if (r < 0)
		observation_release(out);
	return r;
}
