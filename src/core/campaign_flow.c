/*
 * campaign_flow.c: the calls of campaigns that span the journal and the
 * cluster (see campaign.h): submit exactly once, resubmit failed tasks,
 * verify the canary.  Aggregation is in campaign_aggregate.c, reconcile
 * in campaign_reconcile.c.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "campaign.h"
#include "campaign_internal.h"
#include "cluster.h"
#include "config.h"
#include "context.h"
#include "crypto.h"
#include "fault.h"
#include "ids.h"
#include "journal.h"
#include "sched.h"
#include "transport.h"
#include "waves.h"
#include "xalloc.h"
#include "banned.h"

/* What the canary's output must not say. */
static const char *const failure_markers[] = {
	"Traceback (most recent call last)", "Segmentation fault",
	"MemoryError", "out of memory", "Killed", "core dumped",
};
#define OUTPUT_TAIL 2000
#define LOG_MAX (4u << 20)
/* The key under which one process at a time places a campaign's arrays. */
#define PLACE_PRIMITIVE "campaign-place"

/* The integer 'key' of 'o', or 'dflt'. */
static long long int_or(const json_t *o, const char *key, long long dflt)
{
	const json_t *v = json_object_get(o, key);

	return json_is_integer(v) ? (long long)json_integer_value(v) : dflt;
}

/* ---------------------------------------------------------------- */
/* Planning a new campaign                                            */
/* ---------------------------------------------------------------- */

/* The executor of the campaign (its own, else the study's); new. */
static int executor_of(json_t **out, const struct config *cfg,
		       const char *study, const json_t *campaign,
		       struct err *err)
{
	const json_t *e = json_object_get(campaign, "executor");

	*out = NULL;
	if (json_is_array(e)) {
		*out = json_deep_copy(e);
		return 0;
	}
	if (json_is_string(e)) {
		const char *p = json_string_value(e), *q;

		*out = json_array();
		while (*p) {
			while (*p == ' ' || *p == '\t')
				p++;
			for (q = p; *q && *q != ' ' && *q != '\t'; q++)
				;
			if (q > p)
				json_array_append_new(
					*out, json_stringn(p, (size_t)(q - p)));
			p = q;
		}
		if (json_array_size(*out))
			return 0;
		json_decref(*out);
		*out = NULL;
		return err_set(err, ERR_SPEC_INVALID,
			       "campaign.executor has no words");
	}
	if (context_executor_argv(out, cfg, study, err) < 0)
		return -1;
	if (!*out) {
		err_set(err, ERR_SPEC_INVALID,
			"the campaign has no executor: give campaign.executor, "
			"or an executor in study '%s'", study);
		return err_remedy(err, "add \"executor\": [\"python3\", "
				  "\"train.py\"] to the campaign, or executor: "
				  "to the study in hpcloop.yaml");
	}
	return 0;
}

/*
 * The submissions of the plan 'p' for the tasks first.. of the
 * campaign, numbered from 'next', appended to 'subs' as rows.
 */
static void plan_rows(json_t *subs, const struct wave_plan *p,
		      long long first, int next, long long wave0, int limit)
{
	struct wave_array a;
	long long i, t;

	for (i = 0; i < p->arrays; i++) {
		json_t *tasks = json_array();

		waves_array(p, &a, i);
		for (t = a.first_task; t <= a.last_task; t++)
			json_array_append_new(tasks, json_integer(first + t));
		json_array_append_new(subs, json_pack(
			"{s:i, s:I, s:o, s:s, s:i}", "n", next + (int)i, "wave",
			(json_int_t)(wave0 + a.wave), "tasks", tasks, "kind",
			"wave", "array_limit", limit));
	}
}

/* What a new campaign will be: its stored spec and its submissions. */
struct planned {
	json_t *spec;	/* executor_argv, job_options, time_limit_s, ... */
	json_t *tasks;	/* the parameter objects */
	json_t *subs;	/* rows of campaign_submissions */
	char *cluster;
	int canary;
};

static void planned_release(struct planned *p)
{
	json_decref(p->spec);
	json_decref(p->tasks);
	json_decref(p->subs);
	free(p->cluster);
}

static int plan(struct planned *out, const struct config *cfg,
		const struct campaign_request *req, struct err *err)
{
	const json_t *cp = req->campaign, *study;
	struct wave_limits l;
	struct wave_plan p;
	json_t *exe = NULL, *opts = NULL, *canary_sub;
	long long n, first;
	int limit;

	memset(out, 0, sizeof(*out));
	study = config_study(cfg, req->study);
	if (!study) {
		err_set(err, ERR_NOT_FOUND, "no study '%s' in %s", req->study,
			cfg->path);
		return err_remedy(err, "`hpcloop study-list` lists the studies "
				  "of hpcloop.yaml");
	}
	if (campaign_expand(&out->tasks, cp, err) < 0 ||
	    executor_of(&exe, cfg, req->study, cp, err) < 0 ||
	    context_job_options(&opts, cfg, req->study,
				json_object_get(cp, "job_options"), err) < 0)
		goto fail;
	out->cluster = xstrdup(json_string_value(json_object_get(study,
								 "cluster")));
	out->canary = json_is_true(json_object_get(cp, "canary"));
	n = (long long)json_array_size(out->tasks);
	limit = (int)int_or(cp, "array_concurrency", 0);
	out->subs = json_array();
	first = 0;
	if (out->canary) {
		canary_sub = json_pack("{s:i, s:i, s:[i], s:s, s:i}", "n", 0,
				       "wave", -1, "tasks", 0, "kind", "canary",
				       "array_limit", 0);
		json_array_append_new(out->subs, canary_sub);
		first = 1;
	}
	if (n > first) {
		memset(&l, 0, sizeof(l));
		l.tasks = n - first;
		l.max_array_size = int_or(cp, "max_array_size", 1000);
		l.max_concurrent = int_or(cp, "arrays_per_wave", 4);
		l.array_concurrency = limit;
		if (waves_plan(&p, &l, err) < 0)
			goto fail;
		plan_rows(out->subs, &p, first, (int)first, 0, limit);
	}
	out->spec = json_pack("{s:o, s:o, s:I, s:O}", "executor_argv", exe,
			      "job_options", opts, "time_limit_s",
			      (json_int_t)int_or(cp, "time_limit_s", 0),
			      "campaign", cp);
	return 0;
fail:
	json_decref(exe);
	json_decref(opts);
	planned_release(out);
	memset(out, 0, sizeof(*out));
	return -1;
}

/* ---------------------------------------------------------------- */
/* Submitting                                                         */
/* ---------------------------------------------------------------- */

/*
 * Place every submission of campaign 'id' that has no job yet, in order
 * (a wave's dependencies are recorded before it is placed), leaving the
 * waves alone while a canary waits.  '*placed_out' counts the jobs this
 * call got onto the scheduler (submitted or adopted).
 */
static int place_all(struct journal *j, struct cluster *c, const char *id,
		     int *placed_out, int *submitting_out, struct err *err)
{
	struct idem_claim claim = IDEM_CLAIM_INIT;
	struct idem_key k;
	struct err e = ERR_INIT;
	json_t *row = NULL, *subs = NULL, *s;
	size_t i;
	int r = -1, held = 0, waves_wait, mark;

	*placed_out = 0;
	*submitting_out = 0;
	/*
	 * One process places a campaign's arrays at a time (a lease on
	 * the key "campaign-place"/ID, taken over when its owner died),
	 * so that two callers never both find an array missing and both
	 * submit it.
	 */
	memset(&k, 0, sizeof(k));
	snprintf(k.key, sizeof(k.key), "%s", id);
	crypto_sha256_hex(k.hash, id, strlen(id));
	if (journal_begin(j, err) < 0)
		return -1;
	if (idem_claim(j, &claim, PLACE_PRIMITIVE, &k, err) < 0 ||
	    journal_commit(j, err) < 0) {
		journal_rollback(j);
		goto out;
	}
	held = 1;
	if (cp_row(j, &row, id, err) < 0 || cp_submissions(j, &subs, id, err) < 0)
		goto out;
	/* The waves wait for a canary that has not passed. */
	mark = (int)int_or(row, "canary", 0);
	waves_wait = mark == 1 || mark == 3;
	json_array_foreach(subs, i, s) {
		int submitting = 0;

		if (json_is_string(json_object_get(s, "job_id")))
			continue;
		if (waves_wait && !strcmp(json_string_value(json_object_get(
						  s, "kind")), "wave"))
			continue;
		r = cp_place(j, c, row, s, &submitting, err);
		*submitting_out |= submitting;
		if (r < 0)
			goto out;
		r = -1;
		(*placed_out)++;
		/* Later waves need this one's job id. */
		json_decref(subs);
		subs = NULL;
		if (cp_submissions(j, &subs, id, err) < 0)
			goto out;
	}
	r = 0;
out:
	if (held) {
		/* Free the lease (the row stays bound to the id). */
		if (journal_begin(j, &e) == 0 &&
		    idem_fail(j, PLACE_PRIMITIVE, &k, &e) == 0)
			journal_commit(j, &e);
		else
			journal_rollback(j);
		err_release(&e);
	}
	idem_claim_release(&claim);
	json_decref(row);
	json_decref(subs);
	return r;
}

/* End a fresh attempt that left nothing on the scheduler. */
static void abandon(struct journal *j, const struct campaign_request *req,
		    const char *id, const struct err *why)
{
	struct err e = ERR_INIT;

	if (journal_begin(j, &e) == 0 &&
	    cp_set_state(j, id, "failed", why->message, &e) == 0 &&
	    idem_fail(j, req->primitive, req->key, &e) == 0)
		journal_commit(j, &e);
	else
		journal_rollback(j);
	err_release(&e);
}

int campaign_submit(struct journal *j, json_t **data_out, int *replayed_out,
		    const struct config *cfg, const struct campaign_request *req,
		    struct err *err)
{
	struct idem_claim claim = IDEM_CLAIM_INIT;
	struct planned p;
	struct cluster c = CLUSTER_INIT;
	char id[sizeof(((struct idem_claim *)0)->subject)] = "", *base = NULL;
	struct buf dir = BUF_INIT;
	int placed = 0, submitting = 0, r = -1, fresh = 0;

	*data_out = NULL;
	*replayed_out = 0;
	memset(&p, 0, sizeof(p));
	if (plan(&p, cfg, req, err) < 0 ||
	    cluster_open(&c, cfg, p.cluster, err) < 0)
		goto out;
	if (journal_begin(j, err) < 0)
		goto out;
	if (idem_claim(j, &claim, req->primitive, req->key, err) < 0)
		goto rollback;
	if (claim.found == IDEM_REPLAY || claim.subject[0]) {
		snprintf(id, sizeof(id), "%s", claim.subject);
	} else {
		fresh = 1;
		ids_new(id, sizeof(id), "cp-", 6);
		base = context_sprints_dir(cfg, req->study);
		buf_addf(&dir, "%s/campaigns/%s", base, id);
		if (cp_insert(j, id, req->study, p.cluster, dir.data, p.spec,
			      p.tasks, p.subs, p.canary, req->loop_id, err) < 0 ||
		    idem_bind(j, req->primitive, req->key, id, err) < 0)
			goto rollback;
	}
	if (journal_commit(j, err) < 0)
		goto rollback;
	fault_point("campaign.after_pending");
	if (claim.found == IDEM_REPLAY) {
		*replayed_out = 1;
		r = campaign_show(j, data_out, id, err);
		goto out;
	}
	if (place_all(j, &c, id, &placed, &submitting, err) < 0) {
		/* Only when no submission may have reached the scheduler. */
		if (fresh && placed == 0 && !submitting &&
		    err->code != ERR_IN_PROGRESS)
			abandon(j, req, id, err);
		goto out;
	}
	if (campaign_show(j, data_out, id, err) < 0)
		goto out;
	if (journal_begin(j, err) < 0)
		goto out;
	if (idem_store(j, req->primitive, req->key, id, *data_out, err) < 0 ||
	    journal_commit(j, err) < 0)
		goto rollback;
	r = 0;
	goto out;
rollback:
	journal_rollback(j);
out:
	if (r < 0) {
		json_decref(*data_out);
		*data_out = NULL;
	}
	idem_claim_release(&claim);
	planned_release(&p);
	cluster_release(&c);
	buf_release(&dir);
	free(base);
	return r;
}

/* ---------------------------------------------------------------- */
/* Resubmitting failed tasks                                          */
/* ---------------------------------------------------------------- */

int campaign_resubmit(struct journal *j, json_t **data_out, int *replayed_out,
		      const struct config *cfg, const char *primitive,
		      const struct idem_key *key, const char *id,
		      const json_t *tasks, struct err *err)
{
	struct idem_claim claim = IDEM_CLAIM_INIT;
	struct cluster c = CLUSTER_INIT;
	json_t *row = NULL, *rows = NULL, *list = NULL, *params, *t, *subs = NULL;
	char *text = NULL;
	size_t i;
	int r = -1, n, placed, submitting;

	*data_out = NULL;
	*replayed_out = 0;
	if (cp_row(j, &row, id, err) < 0 || cp_cluster(&c, cfg, row, err) < 0)
		goto out;
	if (journal_begin(j, err) < 0)
		goto out;
	if (idem_claim(j, &claim, primitive, key, err) < 0)
		goto rollback;
	if (claim.found == IDEM_REPLAY) {
		journal_rollback(j);
		*replayed_out = 1;
		*data_out = json_incref(claim.data);
		r = 0;
		goto out;
	}
	if (!claim.subject[0]) {
		text = tasks ? json_dumps(tasks, JSON_COMPACT) : NULL;
		params = json_pack("[s, s?, s?]", id, text, text);
		r = journal_exec(j, &rows,
				 "SELECT task, state FROM campaign_tasks WHERE "
				 "campaign_id = ? AND (? IS NULL AND state IN "
				 "('failed', 'timed_out', 'lost', 'cancelled') "
				 "OR task IN (SELECT value FROM json_each(?))) "
				 "ORDER BY task",
				 params, err);
		json_decref(params);
		if (r < 0)
			goto rollback;
		r = -1;
		list = json_array();
		json_array_foreach(rows, i, t) {
			const char *st = json_string_value(json_object_get(t, "state"));

			if (strcmp(st, "failed") && strcmp(st, "timed_out") &&
			    strcmp(st, "lost") && strcmp(st, "cancelled")) {
				err_set(err, ERR_PRECONDITION_FAILED,
					"task %lld of %s is %s, not failed",
					(long long)json_integer_value(json_object_get(t, "task")),
					id, st);
				err_remedy(err, "resubmit only tasks that ended "
					   "badly; monitor-flow lists them in "
					   "failed_tasks");
				goto rollback;
			}
			json_array_append(list, json_object_get(t, "task"));
		}
		if (tasks && json_array_size(list) != json_array_size(tasks)) {
			err_set(err, ERR_NOT_FOUND, "some of the tasks given are "
				"not tasks of %s", id);
			goto rollback;
		}
		if (!json_array_size(list)) {
			err_set(err, ERR_PRECONDITION_FAILED,
				"campaign %s has no failed task to resubmit", id);
			goto rollback;
		}
		if (cp_submissions(j, &subs, id, err) < 0)
			goto rollback;
		n = (int)json_array_size(subs);
		if (cp_add_submission(j, id, n, "resubmit", list, err) < 0 ||
		    cp_set_state(j, id, "running", NULL, err) < 0)
			goto rollback;
		/* A failed canary run again must pass before the waves go. */
		if (int_or(row, "canary", 0) == 3 &&
		    json_integer_value(json_array_get(list, 0)) == 0 &&
		    cp_set_canary(j, id, 1, err) < 0)
			goto rollback;
		snprintf(claim.subject, sizeof(claim.subject), "%d", n);
		if (idem_bind(j, primitive, key, claim.subject, err) < 0)
			goto rollback;
	}
	n = (int)strtol(claim.subject, NULL, 10);
	if (journal_commit(j, err) < 0)
		goto rollback;
	if (place_all(j, &c, id, &placed, &submitting, err) < 0)
		goto out;
	json_decref(subs);
	subs = NULL;
	if (cp_submissions(j, &subs, id, err) < 0)
		goto out;
	t = json_array_get(subs, (size_t)n);
	json_decref(list);
	list = json_loads(json_string_value(json_object_get(t, "tasks")), 0, NULL);
	*data_out = json_pack("{s:s, s:i, s:O, s:O}", "campaign_id", id,
			      "submission", n, "job_id",
			      json_object_get(t, "job_id"), "tasks", list);
	if (journal_begin(j, err) < 0)
		goto out;
	if (idem_store(j, primitive, key, id, *data_out, err) < 0 ||
	    journal_commit(j, err) < 0)
		goto rollback;
	r = 0;
	goto out;
rollback:
	journal_rollback(j);
out:
	if (r < 0) {
		json_decref(*data_out);
		*data_out = NULL;
	}
	idem_claim_release(&claim);
	cluster_release(&c);
	json_decref(row);
	json_decref(rows);
	json_decref(list);
	json_decref(subs);
	free(text);
	return r;
}

/* ---------------------------------------------------------------- */
/* The canary                                                         */
/* ---------------------------------------------------------------- */

/*
 * The last LOG_MAX bytes of task 0's output.log into 'whole' and its
 * last OUTPUT_TAIL bytes into 'tail'.  A missing log is empty; one that
 * is not a regular file is '*refused_out'; another failure (the
 * connection) is an error, never a verdict.
 */
static int output_tail(struct transport *t, const char *dir, struct buf *tail,
		       struct buf *whole, int *refused_out, struct err *err)
{
	int64_t size = 0;
	int exists = 0;
	size_t from;

	*refused_out = 0;
	if (transport_stat(t, &exists, &size, NULL, dir, "tasks/0/output.log",
			   err) < 0) {
		if (err->code != ERR_FILE_REFUSED)
			return -1;
		err_clear(err);
		*refused_out = 1;
		return 0;
	}
	if (!exists)
		return 0;
	if (transport_read_range(t, whole, NULL, dir, "tasks/0/output.log",
				 size > (int64_t)LOG_MAX ? size - (int64_t)LOG_MAX
							 : 0,
				 LOG_MAX, err) < 0) {
		if (err->code != ERR_FILE_REFUSED && err->code != ERR_NOT_FOUND)
			return -1;
		err_clear(err);
		*refused_out = 1;
		return 0;
	}
	from = whole->len > OUTPUT_TAIL ? whole->len - OUTPUT_TAIL : 0;
	buf_add(tail, whole->data + from, whole->len - from);
	return 0;
}

/*
 * Check the ended canary: '*kind_out' is NULL when it passed, else the
 * failure kind, with 'why' saying more.
 */
static int judge(struct cluster *c, const char *dir, const char *state,
		 const json_t *expect, const char **kind_out, struct buf *why,
		 struct buf *tail, struct err *err)
{
	struct buf whole = BUF_INIT, path = BUF_INIT;
	json_t *v;
	size_t i;
	int exists, refused = 0;

	*kind_out = NULL;
	if (output_tail(c->t, dir, tail, &whole, &refused, err) < 0) {
		buf_release(&whole);
		return -1;
	}
	if (refused) {
		*kind_out = "output_refused";
		buf_adds(why, "its output.log is not a regular file");
		goto out;
	}
	if (strcmp(state, "completed")) {
		*kind_out = "exit_nonzero";
		buf_addf(why, "the canary task ended %s", state);
		goto out;
	}
	for (i = 0; i < sizeof(failure_markers) / sizeof(failure_markers[0]);
	     i++) {
		if (whole.data && memmem(whole.data, whole.len, failure_markers[i],
					 strlen(failure_markers[i]))) {
			*kind_out = "failure_marker";
			buf_addf(why, "its output says \"%s\"", failure_markers[i]);
			goto out;
		}
	}
	json_array_foreach(expect, i, v) {
		buf_truncate(&path, 0);
		buf_addf(&path, "tasks/0/result/%s", json_string_value(v));
		if (strstr(json_string_value(v), "..") ||
		    json_string_value(v)[0] == '/') {
			buf_release(&whole);
			buf_release(&path);
			return err_set(err, ERR_SPEC_INVALID,
				       "expect_files must be paths inside the "
				       "task's result/");
		}
		if (transport_stat(c->t, &exists, NULL, NULL, dir, path.data,
				   err) < 0) {
			if (err->code != ERR_FILE_REFUSED) {
				buf_release(&whole);
				buf_release(&path);
				return -1;	/* the cluster, not the canary */
			}
			err_clear(err);
			exists = 0;
		}
		if (!exists) {
			*kind_out = "missing_output";
			buf_addf(why, "it did not keep result/%s",
				 json_string_value(v));
			goto out;
		}
	}
out:
	buf_release(&whole);
	buf_release(&path);
	return 0;
}

/* The canary's state in the journal, a static name or NULL. */
static int canary_state(struct journal *j, json_t **row_out, const char *id,
			struct err *err)
{
	json_t *params = json_pack("[s]", id);
	int r = journal_row(j, row_out,
			    "SELECT state FROM campaign_tasks WHERE campaign_id "
			    "= ? AND task = 0",
			    params, err);

	json_decref(params);
	return r;
}

int campaign_verify_canary(struct journal *j, json_t **data_out,
			   const struct config *cfg, const char *id,
			   const json_t *expect, double wait_s,
			   struct err *err)
{
	struct cluster c = CLUSTER_INIT;
	struct buf why = BUF_INIT, tail = BUF_INIT;
	json_t *row = NULL, *show = NULL, *task = NULL;
	const char *kind = NULL, *state = NULL;
	time_t start = time(NULL);
	size_t k;
	int r = -1, mark, placed, submitting;

	*data_out = NULL;
	/* Bad input is refused before anything is asked or written. */
	for (k = 0; k < json_array_size(expect); k++) {
		const char *p = json_string_value(json_array_get(expect, k));

		if (!p || p[0] == '/' || strstr(p, "..")) {
			err_set(err, ERR_SPEC_INVALID, "expect_files must be "
				"paths inside the task's result/, without ..");
			goto out;
		}
	}
	if (cp_row(j, &row, id, err) < 0)
		goto out;
	mark = (int)int_or(row, "canary", 0);
	if (mark == 0) {
		err_set(err, ERR_PRECONDITION_FAILED, "campaign %s has no canary",
			id);
		err_remedy(err, "submit the campaign with \"canary\": true to "
			   "run task 0 alone first");
		goto out;
	}
	if (cp_cluster(&c, cfg, row, err) < 0)
		goto out;
	while (mark == 1) {
		json_decref(show);
		show = NULL;
		if (campaign_tick(j, &show, cfg, id, err) < 0)
			goto out;
		json_decref(task);
		task = NULL;
		if (canary_state(j, &task, id, err) < 0)
			goto out;
		state = json_string_value(json_object_get(task, "state"));
		if (state && strcmp(state, "pending") && strcmp(state, "submitted") &&
		    strcmp(state, "running"))
			break;
		if (difftime(time(NULL), start) >= wait_s) {
			err_set(err, ERR_TIMEOUT, "the canary of %s is still %s "
				"after %.0f s", id, state ? state : "pending",
				wait_s);
			err_remedy(err, "call verify-canary again later, or with "
				   "a longer wait_s");
			goto out;
		}
		sleep(1);
	}
	if (mark == 1) {
		if (judge(&c, json_string_value(json_object_get(row, "directory")),
			  state, expect, &kind, &why, &tail, err) < 0)
			goto out;
		mark = kind ? 3 : 2;
		if (journal_begin(j, err) < 0)
			goto out;
		if (cp_set_canary(j, id, mark, err) < 0 ||
		    (kind && cp_set_state(j, id, "failed", why.data, err) < 0) ||
		    journal_commit(j, err) < 0) {
			journal_rollback(j);
			goto out;
		}
	}
	if (mark == 3) {
		json_t *again = NULL;

		if (cp_row(j, &again, id, err) < 0)
			goto out;
		err_set(err, ERR_CANARY_FAILED, "the canary of %s failed: %s", id,
			json_string_value(json_object_get(again, "error")));
		err_detail(err, "failure_kind", json_string(kind ? kind : "earlier"));
		err_detail(err, "output_tail", json_string(buf_str(&tail)));
		json_decref(again);
		goto out;
	}
	/* Passed (now or before): the rest go (once). */
	if (place_all(j, &c, id, &placed, &submitting, err) < 0)
		goto out;
	r = campaign_show(j, data_out, id, err);
	if (r == 0)
		json_object_set_new(*data_out, "submitted_now",
				    json_integer(placed));
out:
	cluster_release(&c);
	json_decref(row);
	json_decref(show);
	json_decref(task);
	buf_release(&why);
	buf_release(&tail);
	return r;
}
