/*
 * sched_slurm.c: the "slurm" scheduler: sbatch, squeue, sacct,
 * scontrol and scancel, run through the cluster's transport (over SSH
 * on a real cluster) as argument vectors, never as pasted strings.  The
 * parsing of what they print, the state table and the #SBATCH lines are
 * in sched_slurm_parse.c, running commands and the accounting source in
 * sched_slurm_cmd.c (both through sched_slurm.h).
 *
 * A query is one squeue call for every id (cut in chunks only when the
 * list would pass SLURM_ARGLIST_MAX bytes), then accounting only for
 * the ids that left the queue: `sacct -P` when the cluster stores
 * accounting, `sacct -c` (the job completion log) when it does not, and
 * `scontrol -o show job ID` for what neither answers (array tasks in a
 * completion log, or no log at all).  Which of those the cluster has is
 * found once and remembered in <state_dir>/slurm-accounting ("sacct",
 * "jobcomp" or "scontrol"), written through the transport; this module
 * never touches the journal.  A controller that does not answer is
 * ERR_SCHEDULER_UNAVAILABLE and nothing is reported as ended.
 */
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "sched.h"
#include "sched_slurm.h"
#include "transport.h"
#include "xalloc.h"
#include "banned.h"

/* Seconds a command may take when the cluster gives no io_timeout_s. */
#define SLURM_TIMEOUT_S 60

/* ------------------------------------------------------------------ */
/* Query                                                               */
/* ------------------------------------------------------------------ */

/*
 * What squeue says of the valid ids 'ids' into 'queue' (id -> record):
 * one call per chunk, normally one.
 */
static int ask_squeue(struct sched *s, json_t *queue, const json_t *ids,
		      struct err *err)
{
	static const char *const fixed[] = { "squeue", "--noheader",
		"--array", "--Format=JobArrayID:|,State:|,Reason:|,RestartCnt:",
		NULL };
	static const char *const gone[] = { "Invalid job id", NULL };
	json_t *lists = slurm_chunks(ids, ","), *v;
	struct exec_result res;
	size_t i;
	int r = 0;

	json_array_foreach(lists, i, v) {
		struct buf jobs = BUF_INIT;
		const char **argv;

		buf_addf(&jobs, "--jobs=%s", json_string_value(v));
		argv = slurm_argv(fixed, buf_str(&jobs));
		r = slurm_run(s, &res, argv, 1, err);
		/* Every id unknown (purged): rc 1, "Invalid job id". */
		if (r == 0 && res.exit_code == 0)
			slurm_parse_squeue(queue, buf_str(&res.out),
					   res.out.len);
		else if (r == 0 && !slurm_only_errors(&res, gone))
			r = slurm_failed(s, err, ERR_SCHEDULER_UNAVAILABLE, "squeue",
				   &res);
		exec_result_release(&res);
		buf_release(&jobs);
		free(argv);
		if (r < 0)
			break;
	}
	json_decref(lists);
	return r;
}

/*
 * The record of the array job 'id' from its tasks in 'queue' (a new
 * object), or NULL when none of its tasks is queued: running when one
 * runs, else pending.
 */
static json_t *array_record(const json_t *queue, const char *id)
{
	const char *key;
	json_t *v;
	size_t n = strlen(id);
	int tasks = 0, running = 0;
	char reason[64];

	json_object_foreach((json_t *)queue, key, v) {
		enum sched_state st;

		if (strncmp(key, id, n) || key[n] != '_')
			continue;
		tasks++;
		st = slurm_state(json_string_value(json_object_get(
					 v, "raw_state")), -1, -1, 1);
		running |= st == SCHED_RUNNING;
	}
	if (!tasks)
		return NULL;
	snprintf(reason, sizeof(reason), "%d array tasks in the queue", tasks);
	return json_pack("{s:s, s:n, s:n, s:s}", "raw_state",
			 running ? "RUNNING" : "PENDING", "exit_code", "signal",
			 "reason", reason);
}

/* The states of 'job_ids' (see struct sched_ops). */
static int slurm_query(struct sched *s, json_t **out, const json_t *job_ids,
		       struct err *err)
{
	json_t *valid = json_array(), *queue = json_object();
	json_t *left = json_array(), *recs = json_object();
	json_t *result = json_object(), *v, *rec;
	enum sched_state st;
	size_t i;
	int r = -1;

	json_array_foreach((json_t *)job_ids, i, v) {
		if (!json_is_string(v)) {
			err_set(err, ERR_INTERNAL, "job ids must be strings");
			goto out;
		}
		if (slurm_valid_id(json_string_value(v)) &&
		    !json_object_get(recs, json_string_value(v))) {
			json_array_append(valid, v);
			json_object_set_new(recs, json_string_value(v),
					    json_null());
		}
	}
	json_object_clear(recs);
	if (json_array_size(valid) && ask_squeue(s, queue, valid, err) < 0)
		goto out;
	json_array_foreach(valid, i, v) {
		const char *id = json_string_value(v);

		rec = json_incref(json_object_get(queue, id));
		if (!rec && !strchr(id, '_'))
			rec = array_record(queue, id);
		if (rec) {
			json_t *e = slurm_verdict(&st, rec, "squeue", 1);

			json_object_set_new(result, id,
					    json_pack("{s:s, s:o}", "state",
						      sched_state_name(st),
						      "evidence", e));
			json_decref(rec);
		} else {
			json_array_append(left, v);
		}
	}
	if (json_array_size(left) &&
	    slurm_accounting(s, recs, left, err) < 0)
		goto out;
	json_array_foreach(left, i, v) {
		const char *id = json_string_value(v);
		json_t *e;

		rec = json_object_get(recs, id);
		e = slurm_verdict(&st, rec, rec ? json_string_value(
					  json_object_get(rec, "source"))
					: "none", 0);
		json_object_set_new(result, id,
				    json_pack("{s:s, s:o}", "state",
					      sched_state_name(st),
					      "evidence", e));
	}
	json_array_foreach((json_t *)job_ids, i, v) {
		const char *id = json_string_value(v);

		if (json_object_get(result, id))
			continue;
		json_object_set_new(result, id, json_pack(
			"{s:s, s:{s:s, s:s}}", "state", "unknown", "evidence",
			"source", "none", "detail", "not a SLURM job id"));
	}
	*out = result;
	result = NULL;
	r = 0;
out:
	json_decref(valid);
	json_decref(queue);
	json_decref(left);
	json_decref(recs);
	json_decref(result);
	return r;
}

/* ------------------------------------------------------------------ */
/* Submit, cancel, find                                                */
/* ------------------------------------------------------------------ */

/* Words in sbatch's stderr that say the controller did not answer. */
static const char *const unreachable[] = { "Unable to contact slurm",
	"Socket timed out", "Zero Bytes were transmitted",
	"Connection refused", "Communication connection failure",
	"Transport endpoint", NULL };

static int slurm_submit(struct sched *s, char **job_id_out,
			const struct sched_submit *req, struct err *err)
{
	struct buf name = BUF_INIT, comment = BUF_INIT, chdir = BUF_INIT;
	struct buf o = BUF_INIT, e = BUF_INIT, arr = BUF_INIT, dep = BUF_INIT;
	struct exec_result res;
	const char *argv[11];
	size_t i;
	int n = 0, r;

	*job_id_out = NULL;
	if (!req->workdir || !req->script_path)
		return err_set(err, ERR_INTERNAL,
			       "a submission needs a workdir and a script");
	buf_addf(&name, "--job-name=%s", req->name ? req->name : "hpcloop");
	buf_addf(&comment, "--comment=%s", req->comment ? req->comment : "");
	buf_addf(&chdir, "--chdir=%s", req->workdir);
	argv[n++] = "sbatch";
	argv[n++] = "--parsable";
	argv[n++] = buf_str(&name);
	argv[n++] = buf_str(&comment);
	argv[n++] = buf_str(&chdir);
	if (req->stdout_path) {
		buf_addf(&o, "--output=%s", req->stdout_path);
		argv[n++] = buf_str(&o);
	}
	if (req->stderr_path) {
		buf_addf(&e, "--error=%s", req->stderr_path);
		argv[n++] = buf_str(&e);
	}
	if (req->array_size > 0) {
		buf_addf(&arr, "--array=1-%d", req->array_size);
		if (req->array_limit > 0)
			buf_addf(&arr, "%%%d", req->array_limit);
		argv[n++] = buf_str(&arr);
	}
	for (i = 0; req->after && i < json_array_size(req->after); i++) {
		const char *id = json_string_value(json_array_get(req->after, i));

		if (!slurm_valid_id(id)) {
			r = err_set(err, ERR_INTERNAL, "dependency '%s' is not a "
				    "SLURM job id", id);
			goto out;
		}
		buf_adds(&dep, i ? ":" : "--dependency=afterany:");
		buf_adds(&dep, id);
	}
	if (dep.len)
		argv[n++] = buf_str(&dep);
	argv[n++] = req->script_path;
	argv[n] = NULL;
	r = slurm_run(s, &res, argv, 0, err);
	if (r == 0 && res.exit_code == 0)
		r = slurm_parse_job_id(job_id_out, buf_str(&res.out),
				       res.out.len, err);
	else if (r == 0 && slurm_only_errors(&res, unreachable))
		r = slurm_failed(s, err, ERR_SCHEDULER_UNAVAILABLE, "sbatch", &res);
	else if (r == 0 && strstr(buf_str(&res.err), "Unable to open file"))
		r = slurm_failed(s, err, ERR_PRECONDITION_FAILED, "sbatch", &res);
	else if (r == 0)
		r = slurm_failed(s, err, ERR_SCHEDULER_REJECTED, "sbatch", &res);
	exec_result_release(&res);
out:
	buf_release(&arr);
	buf_release(&dep);
	buf_release(&name);
	buf_release(&comment);
	buf_release(&chdir);
	buf_release(&o);
	buf_release(&e);
	return r;
}

/* Cancel 'job_ids' (see struct sched_ops): one scancel for them all. */
static int slurm_cancel(struct sched *s, const json_t *job_ids,
			struct err *err)
{
	static const char *const done[] = { "Invalid job id",
		"already completing or completed", "already finished", NULL };
	json_t *valid = json_array(), *lists, *v;
	struct exec_result res;
	size_t i, j;
	int r = 0;

	json_array_foreach((json_t *)job_ids, i, v) {
		if (!json_is_string(v)) {
			json_decref(valid);
			return err_set(err, ERR_INTERNAL,
				       "job ids must be strings");
		}
		if (slurm_valid_id(json_string_value(v)))
			json_array_append(valid, v);
	}
	lists = slurm_chunks(valid, " ");
	json_array_foreach(lists, i, v) {
		/* The chunk, split back into words for the argv. */
		char *copy = xstrdup(json_string_value(v)), *p, *save = NULL;
		const char **argv = xcalloc(strlen(copy) / 2 + 3,
					    sizeof(*argv));

		j = 0;
		argv[j++] = "scancel";
		for (p = strtok_r(copy, " ", &save); p;
		     p = strtok_r(NULL, " ", &save))
			argv[j++] = p;
		argv[j] = NULL;
		r = slurm_run(s, &res, argv, 1, err);
		if (r == 0 && res.exit_code != 0 && !slurm_only_errors(&res, done))
			r = slurm_failed(s, err, ERR_SCHEDULER_UNAVAILABLE, "scancel",
				   &res);
		exec_result_release(&res);
		free(argv);
		free(copy);
		if (r < 0)
			break;
	}
	json_decref(lists);
	json_decref(valid);
	return r;
}

/* One "ID|SUBMIT|COMMENT" line of 'text' whose comment is 'run_id'
 * into 'found' as {id, submit}. */
static void found_lines(json_t *found, const char *text, const char *run_id)
{
	const char *p = text, *nl;

	for (; *p; p = *nl ? nl + 1 : nl) {
		const char *a, *b;
		char *id;

		nl = strchr(p, '\n');
		if (!nl)
			nl = p + strlen(p);
		a = memchr(p, '|', (size_t)(nl - p));
		b = a ? memchr(a + 1, '|', (size_t)(nl - a - 1)) : NULL;
		if (!b || (size_t)(nl - b - 1) != strlen(run_id) ||
		    strncmp(b + 1, run_id, strlen(run_id)))
			continue;
		id = xstrndup(p, (size_t)(a - p));
		if (slurm_valid_id(id))
			json_array_append_new(found, json_pack(
				"{s:s, s:s%}", "id", id, "submit", a + 1,
				(size_t)(b - a - 1)));
		free(id);
	}
}

/* Oldest first: by submit time, then by job number. */
static int found_cmp(const void *pa, const void *pb)
{
	const json_t *a = *(json_t *const *)pa, *b = *(json_t *const *)pb;
	int c = strcmp(json_string_value(json_object_get(a, "submit")),
		       json_string_value(json_object_get(b, "submit")));
	const char *ia = json_string_value(json_object_get(a, "id"));
	const char *ib = json_string_value(json_object_get(b, "id"));
	long long na = strtoll(ia, NULL, 10), nb = strtoll(ib, NULL, 10);

	if (c)
		return c;
	if (na != nb)
		return na < nb ? -1 : 1;
	return strcmp(ia, ib);
}

/*
 * The jobs whose comment is 'run_id' (see struct sched_ops): the queue
 * (finished jobs included while the controller keeps them), then the
 * accounting storage when the cluster has one.
 */
static int slurm_find(struct sched *s, json_t **out, const char *run_id,
		      struct err *err)
{
	static const char *const sq[] = { "squeue", "--noheader", "--array",
		"--me", "--states=all", "--format=%i|%V|%k", NULL };
	static const char *const sa[] = { "sacct", "--noheader",
		"--parsable2", "--allocations", "--starttime=now-7days",
		"--format=JobID,Submit,Comment", NULL };
	json_t *found = json_array(), *ids = NULL, *seen = json_object();
	json_t **sorted = NULL;
	struct exec_result res;
	size_t i, n;
	int r;

	*out = NULL;
	r = slurm_run(s, &res, sq, 1, err);
	if (r == 0 && res.exit_code != 0)
		r = slurm_failed(s, err, ERR_SCHEDULER_UNAVAILABLE, "squeue", &res);
	if (r == 0)
		found_lines(found, buf_str(&res.out), run_id);
	exec_result_release(&res);
	if (r == 0 && slurm_remembered(s) == MODE_SACCT) {
		r = slurm_run(s, &res, sa, 1, err);
		if (r == 0 && res.exit_code != 0)
			r = slurm_failed(s, err, ERR_SCHEDULER_UNAVAILABLE, "sacct",
				   &res);
		if (r == 0)
			found_lines(found, buf_str(&res.out), run_id);
		exec_result_release(&res);
	}
	if (r < 0)
		goto out;
	n = json_array_size(found);
	sorted = xcalloc(n + 1, sizeof(*sorted));
	for (i = 0; i < n; i++)
		sorted[i] = json_array_get(found, i);
	qsort(sorted, n, sizeof(*sorted), found_cmp);
	ids = json_array();
	for (i = 0; i < n; i++) {
		const char *id = json_string_value(json_object_get(sorted[i],
								   "id"));

		if (json_object_get(seen, id))
			continue;
		json_object_set_new(seen, id, json_true());
		json_array_append_new(ids, json_string(id));
	}
	*out = ids;
out:
	free(sorted);
	json_decref(found);
	json_decref(seen);
	return r;
}

/* ------------------------------------------------------------------ */
/* Opening                                                             */
/* ------------------------------------------------------------------ */

static int slurm_directives_op(struct buf *out,
			       const struct sched_submit *req,
			       struct err *err)
{
	return slurm_directives(out, req, err);
}

static int slurm_open(struct sched *s, struct err *err)
{
	struct sched_slurm *p;
	const json_t *t = json_object_get(s->cluster, "io_timeout_s");

	if (!s->t)
		return err_set(err, ERR_INTERNAL,
			       "the slurm scheduler needs a transport");
	p = xcalloc(1, sizeof(*p));
	p->timeout_s = SLURM_TIMEOUT_S;
	if (json_is_integer(t) && json_integer_value(t) > 0 &&
	    json_integer_value(t) < 86400)
		p->timeout_s = (int)json_integer_value(t);
	s->priv = p;
	return 0;
}

static void slurm_release(struct sched *s)
{
	free(s->priv);
	s->priv = NULL;
}

static const char *const limits_argv[] = { "scontrol", "show", "config",
					    NULL };
static const struct sched_limit limits[] = {
	{ "MaxArraySize", "max_array_size" },
	{ "MaxJobCount", "max_job_count" },
	{ "MaxStepCount", "max_step_count" },
	{ NULL, NULL },
};

const struct sched_ops sched_slurm_ops = {
	.name = "slurm",
	.task_sep = '_',
	.task_index_env = "SLURM_ARRAY_TASK_ID",
	.limits_argv = limits_argv,
	.limits = limits,
	.shared = 1,
	.open = slurm_open,
	.directives = slurm_directives_op,
	.submit = slurm_submit,
	.query = slurm_query,
	.cancel = slurm_cancel,
	.find = slurm_find,
	.release = slurm_release,
};
