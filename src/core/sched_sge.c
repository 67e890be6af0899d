/*
 * sched_sge.c: the Son of Grid Engine scheduler ("sge" in sched.h's
 * table): qsub, qstat, qacct and qdel run through the cluster's
 * transport, always as argument vectors.
 *
 * submit is "qsub -terse" with the job name made from the request's
 * name and the run id in the job's context (-ac hpcloop_run=ID), so
 * that find can tell our jobs from any other of the same name.  query
 * asks the queue once ("qstat -xml -g d", every task on its own) and
 * then "qacct -j" once per job that left it.  The accounting file lags
 * the queue (SGE flushes it every few seconds, 15 by default), so a job
 * that left the queue without a record yet is still "running" for
 * SGE_ACCT_GRACE_S after it was first seen gone, then "lost"; when that
 * was first seen is kept in a small file per job under the scheduler's
 * state directory (<state_dir>/sge/gone/ID, through the transport), as
 * is a mark per job we deleted (<state_dir>/sge/deleted/ID), because a
 * job deleted before it started leaves no accounting record at all.
 * A qmaster that does not answer is ERR_SCHEDULER_UNAVAILABLE and no
 * state is made up from it.  The pure parts (the XML and qacct readers,
 * the states, the "#$" lines) are in sched_sge_parse.c; the commands
 * that look (qstat, qacct, qstat -j) and find in sched_sge_cmd.c.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sched.h"
#include "sched_sge.h"
#include "transport.h"
#include "xalloc.h"
#include "banned.h"

/* ------------------------------------------------------------------ */
/* The marks kept under the state directory                            */
/* ------------------------------------------------------------------ */

/* The directory of the marks of kind 'kind' ("gone", "deleted"); new. */
static char *mark_dir(const struct sched *s, const char *kind)
{
	struct buf b = BUF_INIT;

	buf_addf(&b, "%s/sge/%s", s->state_dir, kind);
	return buf_detach(&b, NULL);
}

/*
 * The epoch seconds stored in the mark 'kind' of job 'id' into '*out',
 * or 0 when there is none (or it cannot be read: a mark is a hint).
 */
static void mark_read(struct sched *s, long long *out, const char *kind,
		      const char *id)
{
	struct buf text = BUF_INIT;
	struct err e = ERR_INIT;
	char *dir = mark_dir(s, kind);

	*out = 0;
	buf_init(&text, 64);
	if (transport_read_file(s->t, &text, dir, id, 32, &e) == 0)
		*out = strtoll(buf_str(&text), NULL, 10);
	if (*out < 0)
		*out = 0;
	err_release(&e);
	buf_release(&text);
	free(dir);
}

/* Write the mark 'kind' of job 'id' holding 'when'; -1 on failure. */
static int mark_write(struct sched *s, const char *kind, const char *id,
		      long long when, struct err *err)
{
	struct buf path = BUF_INIT, text = BUF_INIT;
	int r;

	buf_addf(&path, "%s/sge/%s/%s", s->state_dir, kind, id);
	buf_addf(&text, "%lld\n", when);
	r = transport_write_file(s->t, buf_str(&path), text.data, text.len,
				 0600, err);
	buf_release(&path);
	buf_release(&text);
	return r;
}

/* Remove the mark 'kind' of job 'id', if any (a failure is ignored). */
static void mark_remove(struct sched *s, const char *kind, const char *id)
{
	struct buf path = BUF_INIT;
	struct err e = ERR_INIT;

	buf_addf(&path, "%s/sge/%s/%s", s->state_dir, kind, id);
	transport_remove(s->t, buf_str(&path), &e);
	err_release(&e);
	buf_release(&path);
}

/* ------------------------------------------------------------------ */
/* Submitting                                                          */
/* ------------------------------------------------------------------ */

/*
 * Check that the paths of 'req' mean to qsub what they say: -o and -e
 * read "host:path,path" and expand $JOB_ID and the like, and a word
 * that starts with '-' is an option.  Paths hpcloop makes have none of
 * these; a working_dir that does is refused, not rewritten.
 */
static int check_paths(struct sched *s, const struct sched_submit *req,
		       struct err *err)
{
	const char *const paths[] = { req->stdout_path, req->stderr_path,
				      req->workdir, req->script_path };
	size_t i;

	for (i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		const char *p = paths[i];

		if (!p)
			continue;
		if (p[0] == '-' || strpbrk(p, i < 2 ? ",:$\n" : ",\n"))
			return err_set(err, ERR_SCHEDULER_REJECTED,
				       "cluster '%s': sge cannot be given the "
				       "path %s (a leading '-', or ',', ':' or "
				       "'$' in an output path)",
				       s->cluster_name, p);
	}
	return 0;
}

/* Check that the script of 'req' exists (when it is under workdir). */
static int check_script(struct sched *s, const struct sched_submit *req,
			struct err *err)
{
	size_t n = strlen(req->workdir);
	int exists = 0;

	if (strncmp(req->script_path, req->workdir, n) ||
	    req->script_path[n] != '/')
		return 0;
	if (transport_stat(s->t, &exists, NULL, NULL, req->workdir,
			   req->script_path + n + 1, err) < 0) {
		if (err->code != ERR_NOT_FOUND)
			return -1;
		err_clear(err);
	}
	if (!exists)
		return err_set(err, ERR_PRECONDITION_FAILED,
			       "no job script %s on cluster '%s'",
			       req->script_path, s->cluster_name);
	return 0;
}

/*
 * The error for a qsub that exited non-zero with 'res': the qmaster not
 * reached before anything was sent is ERR_SCHEDULER_UNAVAILABLE (clean:
 * nothing was submitted); a connection lost later may have left a job
 * (ERR_REMOTE_COMMAND_FAILED, so that the caller looks with find); any
 * other refusal is ERR_SCHEDULER_REJECTED with qsub's words.
 */
static int qsub_failed(struct sched *s, const struct exec_result *res,
		       struct err *err)
{
	const char *t = buf_str(&res->err);
	char line[256];

	sched_sge_first_line(line, sizeof(line),
			     res->err.len ? &res->err : &res->out);
	if (strstr(t, "Unable to read script file"))
		return err_set(err, ERR_PRECONDITION_FAILED,
			       "qsub on cluster '%s' cannot read the job "
			       "script: %s", s->cluster_name, line);
	if (strstr(t, "got send error") || strstr(t, "Connection refused") ||
	    strstr(t, "unable to contact qmaster") ||
	    strstr(t, "can't find qmaster"))
		return err_set(err, ERR_SCHEDULER_UNAVAILABLE,
			       "qsub on cluster '%s': the qmaster did not "
			       "answer: %s", s->cluster_name, line);
	if (sched_sge_qmaster_down(&res->err))
		return err_set(err, ERR_REMOTE_COMMAND_FAILED,
			       "qsub on cluster '%s' lost the qmaster: %s",
			       s->cluster_name, line);
	return err_set(err, ERR_SCHEDULER_REJECTED,
		       "qsub on cluster '%s' refused the job: %s",
		       s->cluster_name, line);
}

/* Submit 'req' (see struct sched_ops). */
static int sge_submit(struct sched *s, char **job_id_out,
		      const struct sched_submit *req, struct err *err)
{
	struct exec_result res;
	struct buf header = BUF_INIT, ctx = BUF_INIT, tasks = BUF_INIT;
	struct buf tc = BUF_INIT, hold = BUF_INIT;
	char name[SGE_NAME_MAX + 1];
	const char *argv[26];
	size_t i;
	int n = 0, r = -1;

	*job_id_out = NULL;
	exec_result_init(&res, 0);
	if (!req->workdir || !req->script_path || !*req->workdir)
		return err_set(err, ERR_INTERNAL,
			       "an sge submission needs a directory and a "
			       "script");
	if (!sched_sge_good_run_id(req->comment))
		return err_set(err, ERR_SCHEDULER_REJECTED,
			       "run id '%s' cannot be an sge context value",
			       req->comment ? req->comment : "");
	/* The options are refused here as the script's header would be. */
	buf_init(&header, 64 * 1024);
	if (sched_sge_directives(&header, req, err) < 0 ||
	    check_paths(s, req, err) < 0 || check_script(s, req, err) < 0)
		goto out;
	sched_sge_job_name(name, req->name ? req->name : req->comment);
	buf_addf(&ctx, "hpcloop_run=%s", req->comment);
	argv[n++] = "qsub";
	argv[n++] = "-terse";
	argv[n++] = "-S";
	argv[n++] = "/bin/bash";
	argv[n++] = "-N";
	argv[n++] = name;
	argv[n++] = "-wd";
	argv[n++] = req->workdir;
	argv[n++] = "-ac";
	argv[n++] = buf_str(&ctx);
	if (req->stdout_path) {
		argv[n++] = "-o";
		argv[n++] = req->stdout_path;
	}
	if (req->stderr_path) {
		argv[n++] = "-e";
		argv[n++] = req->stderr_path;
	}
	if (req->array_size > 0) {
		buf_addf(&tasks, "1-%d", req->array_size);
		argv[n++] = "-t";
		argv[n++] = buf_str(&tasks);
		if (req->array_limit > 0) {
			buf_addf(&tc, "%d", req->array_limit);
			argv[n++] = "-tc";
			argv[n++] = buf_str(&tc);
		}
	}
	for (i = 0; req->after && i < json_array_size(req->after); i++) {
		const char *id = json_string_value(json_array_get(req->after, i));
		size_t k;

		for (k = 0; id[k]; k++)
			if (id[k] < '0' || id[k] > '9' || k > 18)
				break;
		if (!k || id[k]) {
			err_set(err, ERR_INTERNAL, "dependency '%s' is not an "
				"sge job id", id);
			goto out;
		}
		if (i)
			buf_adds(&hold, ",");
		buf_adds(&hold, id);
	}
	if (hold.len) {
		argv[n++] = "-hold_jid";
		argv[n++] = buf_str(&hold);
	}
	argv[n++] = req->script_path;
	argv[n] = NULL;
	if (sched_sge_run(s, &res, argv, err) < 0)
		goto out;
	if (res.exit_code != 0) {
		qsub_failed(s, &res, err);
		goto out;
	}
	if (res.out_truncated ||
	    sched_sge_parse_job_id(job_id_out, res.out.data ? res.out.data :
				   "", res.out.len, err) < 0) {
		/* It said yes in words we cannot read: a job may exist. */
		err_set(err, ERR_REMOTE_COMMAND_FAILED,
			"qsub on cluster '%s' printed no job id; look for "
			"the job of run %s", s->cluster_name, req->comment);
		goto out;
	}
	r = 0;
out:
	exec_result_release(&res);
	buf_release(&header);
	buf_release(&ctx);
	buf_release(&tasks);
	buf_release(&tc);
	buf_release(&hold);
	return r;
}

/* ------------------------------------------------------------------ */
/* Asking the queue                                                    */
/* ------------------------------------------------------------------ */

/* The error reasons of the jobs in error state in 'result'. */
static int add_error_reasons(struct sched *s, json_t *result,
			     const json_t *ids_in_error, struct err *err)
{
	struct exec_result res;
	struct buf list = BUF_INIT;
	const char *key;
	json_t *v, *e;
	char reason[300], num[24];
	size_t i;
	int r = -1;

	exec_result_init(&res, 0);
	if (!json_array_size(ids_in_error))
		return 0;
	json_array_foreach((json_t *)ids_in_error, i, v) {
		if (i >= SGE_IDS_PER_CALL)
			break;
		buf_addf(&list, "%s%.*s", i ? "," : "",
			 (int)strcspn(json_string_value(v), "."),
			 json_string_value(v));
	}
	if (sched_sge_job_details(s, &res, buf_str(&list), err) < 0)
		goto out;
	json_array_foreach((json_t *)ids_in_error, i, v) {
		key = json_string_value(v);
		snprintf(num, sizeof(num), "%.*s", (int)strcspn(key, "."),
			 key);
		sched_sge_job_detail(reason, sizeof(reason),
				     buf_str(&res.out), num, "error reason");
		e = json_object_get(json_object_get(result, key), "evidence");
		if (*reason && e)
			json_object_set_new(e, "error_reason",
					    json_string(reason));
	}
	r = 0;
out:
	exec_result_release(&res);
	buf_release(&list);
	return r;
}

/*
 * The state of 'id', which left the queue ('finished': the qmaster
 * still lists it as finished), from the accounting 'records' of its
 * job, or from its marks when there is no record yet.
 */
static json_t *ended_state(struct sched *s, const char *id,
			   const json_t *records, int finished,
			   long long now)
{
	const char *detail = finished ?
		"finished; no accounting record yet" :
		"left the queue; no accounting record yet";
	const json_t *rec = sched_sge_qacct_find(records, id);
	struct err e = ERR_INIT;
	long long since, deleted;
	enum sched_state st;
	json_t *ev;

	if (rec) {
		/* Terminal: the caller asks no more, and ids come back. */
		mark_remove(s, "gone", id);
		mark_remove(s, "deleted", id);
		st = sched_sge_acct_state(rec);
		ev = json_pack("{s:s, s:s, s:O, s:O, s:O}", "source", "sge",
			       "seen", "qacct", "failed",
			       json_object_get(rec, "failed"),
			       "failed_reason",
			       json_object_get(rec, "failed_reason"),
			       "exit_status",
			       json_object_get(rec, "exit_status"));
		return json_pack("{s:s, s:o}", "state", sched_state_name(st),
				 "evidence", ev);
	}
	mark_read(s, &deleted, "deleted", id);
	if (deleted) {
		mark_remove(s, "gone", id);
		mark_remove(s, "deleted", id);
		return json_pack("{s:s, s:{s:s, s:s}}", "state", "cancelled",
				 "evidence", "source", "sge", "detail",
				 "deleted with qdel before it left an "
				 "accounting record");
	}
	mark_read(s, &since, "gone", id);
	if (!since) {
		if (mark_write(s, "gone", id, now, &e) < 0) {
			err_release(&e);
			return json_pack("{s:s, s:{s:s, s:s}}", "state",
					 "unknown", "evidence", "source",
					 "sge", "detail", "not in the queue "
					 "nor in the accounting");
		}
		since = now;
	}
	if (now - since < SGE_ACCT_GRACE_S)
		return json_pack("{s:s, s:{s:s, s:s, s:I}}", "state",
				 "running", "evidence", "source", "sge",
				 "detail", detail, "gone_for_s",
				 (json_int_t)(now - since));
	mark_remove(s, "gone", id);
	return json_pack("{s:s, s:{s:s, s:s, s:I}}", "state", "lost",
			 "evidence", "source", "sge", "detail",
			 "left the queue without an accounting record",
			 "gone_for_s", (json_int_t)(now - since));
}

/* The state of 'id' as the queue entry 'q' shows it; new. */
static json_t *queued_state(const json_t *q)
{
	const char *code = json_string_value(json_object_get(q, "state"));

	return json_pack("{s:s, s:{s:s, s:s, s:s}}", "state",
			 sched_state_name(sched_sge_queue_state(code)),
			 "evidence", "source", "sge", "seen", "qstat",
			 "sge_state", code);
}

/* The states of 'job_ids' (see struct sched_ops). */
static int sge_query(struct sched *s, json_t **out, const json_t *job_ids,
		     struct err *err)
{
	json_t *result = json_object(), *queue = NULL, *gone = json_array();
	json_t *in_error = json_array(), *records = NULL, *v;
	json_t *finished = json_object();
	const json_t *q;
	unsigned long long job, last = 0;
	unsigned long task;
	long long now = (long long)time(NULL);
	char num[24];
	size_t i;
	int r = -1;

	*out = NULL;
	json_array_foreach((json_t *)job_ids, i, v) {
		if (!json_is_string(v)) {
			err_set(err, ERR_INTERNAL, "job ids must be strings");
			goto out;
		}
	}
	if (sched_sge_queue_jobs(s, &queue, 1, err) < 0)
		goto out;
	json_array_foreach((json_t *)job_ids, i, v) {
		const char *id = json_string_value(v);

		if (json_object_get(result, id))
			continue;
		if (sched_sge_split_id(id, &job, &task) < 0) {
			json_object_set_new(result, id, json_pack(
				"{s:s, s:{s:s, s:s}}", "state", "unknown",
				"evidence", "source", "sge", "detail",
				"not an sge job id"));
			continue;
		}
		q = sched_sge_qstat_find(queue, id);
		if (!q || strchr(json_string_value(json_object_get(q,
							"state")), 'z')) {
			if (q)
				json_object_set_new(finished, id,
						    json_true());
			json_object_set_new(result, id, json_null());
			json_array_append(gone, v);
			continue;
		}
		json_object_set_new(result, id, queued_state(q));
		if (strchr(json_string_value(json_object_get(q, "state")),
			   'E'))
			json_array_append(in_error, v);
	}
	if (add_error_reasons(s, result, in_error, err) < 0)
		goto out;
	/* The ids that left the queue, one qacct per job number. */
	json_array_foreach(gone, i, v) {
		const char *id = json_string_value(v);

		sched_sge_split_id(id, &job, &task);
		if (!records || job != last) {
			json_decref(records);
			records = NULL;
			snprintf(num, sizeof(num), "%llu", job);
			if (sched_sge_acct_records(s, &records, num, err) < 0)
				goto out;
			last = job;
		}
		json_object_set_new(result, id, ended_state(
			s, id, records, json_object_get(finished, id) != NULL,
			now));
	}
	*out = result;
	result = NULL;
	r = 0;
out:
	json_decref(result);
	json_decref(queue);
	json_decref(gone);
	json_decref(in_error);
	json_decref(finished);
	json_decref(records);
	return r;
}

/* ------------------------------------------------------------------ */
/* Cancelling and finding                                              */
/* ------------------------------------------------------------------ */

/* qdel the ids in 'list' (at most SGE_IDS_PER_CALL, all valid). */
static int qdel_some(struct sched *s, const char *const *list, size_t n,
		     struct err *err)
{
	struct exec_result res;
	const char **argv = xcalloc(n + 2, sizeof(*argv));
	size_t i;
	int r = -1;

	argv[0] = "qdel";
	for (i = 0; i < n; i++)
		argv[i + 1] = list[i];
	if (sched_sge_run(s, &res, argv, err) < 0)
		goto out;
	/* Ids that ended or never existed make qdel exit 1: not an error. */
	if (res.exit_code != 0 && sched_sge_qmaster_down(&res.err)) {
		sched_sge_command_failed(s, "qdel", &res, err);
		goto out;
	}
	r = 0;
out:
	exec_result_release(&res);
	free(argv);
	return r;
}

/* Cancel 'job_ids' (see struct sched_ops). */
static int sge_cancel(struct sched *s, const json_t *job_ids,
		      struct err *err)
{
	const char *batch[SGE_IDS_PER_CALL];
	unsigned long long job;
	unsigned long task;
	long long now = (long long)time(NULL);
	size_t i, n = 0;
	json_t *v;

	json_array_foreach((json_t *)job_ids, i, v) {
		const char *id = json_string_value(v);

		if (sched_sge_split_id(id, &job, &task) < 0)
			continue;
		/* Marked first: a job deleted while queued leaves no record. */
		if (mark_write(s, "deleted", id, now, err) < 0)
			return -1;
		batch[n++] = id;
		if (n == SGE_IDS_PER_CALL) {
			if (qdel_some(s, batch, n, err) < 0)
				return -1;
			n = 0;
		}
	}
	return n ? qdel_some(s, batch, n, err) : 0;
}

/* ------------------------------------------------------------------ */
/* Opening                                                             */
/* ------------------------------------------------------------------ */

/* Keep the cluster's user, for qstat -u. */
static int sge_open(struct sched *s, struct err *err)
{
	struct sched_sge *g;
	const char *user = json_string_value(json_object_get(s->cluster,
							     "user"));

	if (!s->t)
		return err_set(err, ERR_INTERNAL, "sge needs a transport");
	if (!*s->state_dir)
		return err_set(err, ERR_INTERNAL,
			       "the sge scheduler needs a state directory");
	g = xcalloc(1, sizeof(*g));
	g->user = user && *user ? xstrdup(user) : NULL;
	s->priv = g;
	return 0;
}

static void sge_release(struct sched *s)
{
	struct sched_sge *g = s->priv;

	if (g)
		free(g->user);
	free(g);
	s->priv = NULL;
}

static const char *const limits_argv[] = { "qconf", "-sconf", NULL };
static const struct sched_limit limits[] = {
	{ "max_aj_tasks", "max_array_size" },
	{ "max_aj_instances", "max_array_concurrency" },
	{ "max_jobs", "max_job_count" },
	{ "max_u_jobs", "max_user_jobs" },
	{ NULL, NULL },
};

const struct sched_ops sched_sge_ops = {
	.name = "sge",
	.task_sep = '.',
	.task_index_env = "SGE_TASK_ID",
	.limits_argv = limits_argv,
	.limits = limits,
	.shared = 1,
	.open = sge_open,
	.directives = sched_sge_directives,
	.submit = sge_submit,
	.query = sge_query,
	.cancel = sge_cancel,
	.find = sched_sge_find,
	.release = sge_release,
};
