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
 * the states, the "#$" lines) are in sched_sge_parse.c.
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

/* The most any one SGE command may print that we keep. */
#define SGE_OUT_MAX (16 * 1024 * 1024)

/* Seconds any one SGE command may take. */
#define SGE_CMD_TIMEOUT_S 120

/* Seconds a job may be gone from the queue with no accounting record. */
#define SGE_ACCT_GRACE_S 120

/* Most ids on one qdel or qstat -j command line. */
#define SGE_IDS_PER_CALL 200

/* What the handle keeps. */
struct sched_sge {
	char *user;		/* the cluster's user for qstat -u, or NULL */
};

/* ------------------------------------------------------------------ */
/* Running commands                                                    */
/* ------------------------------------------------------------------ */

/* Copy the first line of 'b' (at most 200 bytes, printable) into 'out'. */
static void first_line(char *out, size_t size, const struct buf *b)
{
	const char *p = b->data ? b->data : "";
	size_t n = 0;

	p += strspn(p, " \t\r\n");
	while (p[n] && p[n] != '\n' && n + 1 < size && n < 200) {
		out[n] = isprint((unsigned char)p[n]) ? p[n] : '?';
		n++;
	}
	out[n] = '\0';
}

/* 1 when 'text' says the qmaster could not be reached. */
static int qmaster_down(const struct buf *b)
{
	const char *t = buf_str(b);

	return strstr(t, "unable to contact qmaster") ||
	       strstr(t, "unable to send message to qmaster") ||
	       strstr(t, "commlib error") || strstr(t, "can't find qmaster") ||
	       strstr(t, "cell directory") || strstr(t, "SGE_ROOT");
}

/*
 * Run 'argv' on the cluster of 's' into 'res' (initialised here with
 * SGE_OUT_MAX).  A program the cluster lacks is
 * ERR_SCHEDULER_UNAVAILABLE naming it; other transport errors pass up.
 */
static int run(struct sched *s, struct exec_result *res,
	       const char *const *argv, struct err *err)
{
	exec_result_init(res, SGE_OUT_MAX);
	if (transport_exec(s->t, res, argv, NULL, NULL, 0, SGE_CMD_TIMEOUT_S,
			   err) == 0)
		return 0;
	if (err->code == ERR_NOT_FOUND)
		return err_set(err, ERR_SCHEDULER_UNAVAILABLE,
			       "%s is not installed on cluster '%s'", argv[0],
			       s->cluster_name);
	return -1;
}

/* The error for the command 'what' of 's' that failed with 'res'. */
static int command_failed(struct sched *s, const char *what,
			  const struct exec_result *res, struct err *err)
{
	char line[256];

	first_line(line, sizeof(line), res->err.len ? &res->err : &res->out);
	return err_set(err, ERR_SCHEDULER_UNAVAILABLE,
		       "%s on cluster '%s' failed (exit %d): %s", what,
		       s->cluster_name, res->exit_code, line);
}

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

/* 1 when 'run_id' can go into a context variable and a job name. */
static int good_run_id(const char *run_id)
{
	size_t n;

	if (!run_id || !*run_id || strlen(run_id) > 64)
		return 0;
	for (n = 0; run_id[n]; n++) {
		if (!isalnum((unsigned char)run_id[n]) &&
		    !strchr("_.-", run_id[n]))
			return 0;
	}
	return 1;
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

	first_line(line, sizeof(line), res->err.len ? &res->err : &res->out);
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
	if (qmaster_down(&res->err))
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
	struct buf header = BUF_INIT, ctx = BUF_INIT;
	char name[SGE_NAME_MAX + 1];
	const char *argv[20];
	int n = 0, r = -1;

	*job_id_out = NULL;
	exec_result_init(&res, 0);
	if (!req->workdir || !req->script_path || !*req->workdir)
		return err_set(err, ERR_INTERNAL,
			       "an sge submission needs a directory and a "
			       "script");
	if (!good_run_id(req->comment))
		return err_set(err, ERR_SCHEDULER_REJECTED,
			       "run id '%s' cannot be an sge context value",
			       req->comment ? req->comment : "");
	/* The options are refused here as the script's header would be. */
	buf_init(&header, 64 * 1024);
	if (sched_sge_directives(&header, req, err) < 0 ||
	    check_script(s, req, err) < 0)
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
	argv[n++] = req->script_path;
	argv[n] = NULL;
	if (run(s, &res, argv, err) < 0)
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
	return r;
}

/* ------------------------------------------------------------------ */
/* Asking the queue                                                    */
/* ------------------------------------------------------------------ */

/*
 * The jobs of the queue of 's' (sched_sge_parse_qstat), from one
 * "qstat -xml -s prsz" ('tasks': each task on its own, "-g d"): the
 * live jobs, and the last ones that finished (state "z", as many as
 * the qmaster keeps: finished_jobs, 100 by default), whose accounting
 * record may not be written yet.  '*out' is new.
 */
static int queue_jobs(struct sched *s, json_t **out, int tasks,
		      struct err *err)
{
	struct sched_sge *g = s->priv;
	struct exec_result res;
	const char *argv[10];
	int n = 0, r = -1;

	*out = NULL;
	argv[n++] = "qstat";
	argv[n++] = "-xml";
	argv[n++] = "-s";
	argv[n++] = "prsz";
	if (tasks) {
		argv[n++] = "-g";
		argv[n++] = "d";
	}
	if (g->user) {
		argv[n++] = "-u";
		argv[n++] = g->user;
	}
	argv[n] = NULL;
	if (run(s, &res, argv, err) < 0)
		goto out;
	if (res.exit_code != 0) {
		command_failed(s, "qstat", &res, err);
		goto out;
	}
	if (res.out_truncated) {
		err_set(err, ERR_SCHEDULER_UNAVAILABLE,
			"qstat on cluster '%s' printed more than %d bytes",
			s->cluster_name, SGE_OUT_MAX);
		goto out;
	}
	r = sched_sge_parse_qstat(out, res.out.data ? res.out.data : "",
				  res.out.len, err);
out:
	exec_result_release(&res);
	return r;
}

/*
 * The accounting records of the job (or name pattern) 'which' into
 * '*out' (new; empty when qacct has none).
 */
static int acct_records(struct sched *s, json_t **out, const char *which,
			struct err *err)
{
	struct exec_result res;
	const char *argv[] = { "qacct", "-j", which, NULL };
	int r = -1;

	*out = NULL;
	if (run(s, &res, argv, err) < 0)
		goto out;
	if (res.exit_code != 0 || !res.out.len) {
		/* "error: job id N not found", or no accounting file yet. */
		if (qmaster_down(&res.err)) {
			command_failed(s, "qacct", &res, err);
			goto out;
		}
		*out = json_array();
		r = 0;
		goto out;
	}
	if (res.out_truncated) {
		err_set(err, ERR_SCHEDULER_UNAVAILABLE,
			"qacct on cluster '%s' printed more than %d bytes",
			s->cluster_name, SGE_OUT_MAX);
		goto out;
	}
	r = sched_sge_parse_qacct(out, res.out.data, res.out.len, err);
out:
	exec_result_release(&res);
	return r;
}

/*
 * The "qstat -j" text of the jobs 'ids' (numbers, comma-separated in
 * one word) into 'out' ("job_number: N", "context: ...", "error reason
 * 1: ..." lines); the caller reads what it needs.
 */
static int job_details(struct sched *s, struct exec_result *res,
		       const char *ids, struct err *err)
{
	const char *argv[] = { "qstat", "-j", ids, NULL };

	if (run(s, res, argv, err) < 0)
		return -1;
	if (res->exit_code != 0 && qmaster_down(&res->err))
		return command_failed(s, "qstat -j", res, err);
	return 0;
}

/*
 * The value of the line "KEY: value" of job 'job' in the "qstat -j"
 * text 'text', into 'out' (at most 'size' bytes, printable); "" when
 * there is none.
 */
static void detail_of(char *out, size_t size, const char *text,
		      const char *job, const char *key)
{
	const char *p = text, *line, *v;
	int mine = 0;
	size_t n = 0, klen = strlen(key);

	out[0] = '\0';
	for (line = p; line && *line; line = strchr(line, '\n') ?
	     strchr(line, '\n') + 1 : NULL) {
		if (!strncmp(line, "job_number:", 11)) {
			v = line + 11 + strspn(line + 11, " \t");
			mine = !strncmp(v, job, strlen(job)) &&
			       !isdigit((unsigned char)v[strlen(job)]);
			continue;
		}
		if (!mine || strncmp(line, key, klen))
			continue;
		v = strchr(line + klen, ':');
		if (!v)
			continue;
		v += 1 + strspn(v + 1, " \t");
		while (v[n] && v[n] != '\n' && n + 1 < size) {
			out[n] = isprint((unsigned char)v[n]) ? v[n] : '?';
			n++;
		}
		out[n] = '\0';
		return;
	}
}

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
	if (job_details(s, &res, buf_str(&list), err) < 0)
		goto out;
	json_array_foreach((json_t *)ids_in_error, i, v) {
		key = json_string_value(v);
		snprintf(num, sizeof(num), "%.*s", (int)strcspn(key, "."),
			 key);
		detail_of(reason, sizeof(reason), buf_str(&res.out), num,
			  "error reason");
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
		mark_remove(s, "gone", id);
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
	if (queue_jobs(s, &queue, 1, err) < 0)
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
			if (acct_records(s, &records, num, err) < 0)
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
	if (run(s, &res, argv, err) < 0)
		goto out;
	/* Ids that ended or never existed make qdel exit 1: not an error. */
	if (res.exit_code != 0 && qmaster_down(&res.err)) {
		command_failed(s, "qdel", &res, err);
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

/* 1 when the job name 'name' holds 'run_id' as a whole word. */
static int name_has_run(const char *name, const char *run_id)
{
	size_t n = strlen(run_id);
	const char *p;

	for (p = name ? strstr(name, run_id) : NULL; p;
	     p = strstr(p + 1, run_id)) {
		if ((p == name || !isalnum((unsigned char)p[-1])) &&
		    !isalnum((unsigned char)p[n]))
			return 1;
	}
	return 0;
}

/* 1 when the context "a=b,c=d" has exactly "hpcloop_run=RUN". */
static int context_has_run(const char *ctx, const char *run_id)
{
	struct buf want = BUF_INIT;
	const char *p = ctx;
	size_t n;
	int found = 0;

	buf_addf(&want, "hpcloop_run=%s", run_id);
	while (p && *p && !found) {
		n = strcspn(p, ",");
		found = n == want.len && !memcmp(p, want.data, n);
		p = p[n] ? p + n + 1 : NULL;
	}
	buf_release(&want);
	return found;
}

/* Compare two job id strings by number, for qsort. */
static int by_number(const void *a, const void *b)
{
	unsigned long long x = strtoull(*(const char *const *)a, NULL, 10);
	unsigned long long y = strtoull(*(const char *const *)b, NULL, 10);

	return x < y ? -1 : x > y;
}

/* The ids of the jobs of run 'run_id' (see struct sched_ops). */
static int sge_find(struct sched *s, json_t **out, const char *run_id,
		    struct err *err)
{
	json_t *queue = NULL, *records = NULL, *seen = json_object(), *e;
	struct exec_result res;
	struct buf list = BUF_INIT, pattern = BUF_INIT;
	const char *key, **ids = NULL;
	char ctx[512];
	size_t i, n = 0;
	int r = -1;

	*out = NULL;
	exec_result_init(&res, 0);
	if (!good_run_id(run_id)) {
		*out = json_array();	/* never submitted: qsub refuses it */
		r = 0;
		goto out;
	}
	/*
	 * Queued or running: by name, then by the context variable.  Just
	 * finished (kept by the qmaster, perhaps not yet in the
	 * accounting): by name.
	 */
	if (queue_jobs(s, &queue, 0, err) < 0)
		goto out;
	json_array_foreach(queue, i, e) {
		if (!name_has_run(json_string_value(json_object_get(e,
						"name")), run_id))
			continue;
		key = json_string_value(json_object_get(e, "job"));
		if (strchr(json_string_value(json_object_get(e, "state")),
			   'z')) {
			/* Finished: qstat -j knows it no more; as qacct. */
			json_object_set_new(seen, key, json_true());
			continue;
		}
		if (json_object_get(seen, key) || n >= SGE_IDS_PER_CALL)
			continue;
		json_object_set_new(seen, key, json_false());
		buf_addf(&list, "%s%s", list.len ? "," : "", key);
		n++;
	}
	if (list.len) {
		if (job_details(s, &res, buf_str(&list), err) < 0)
			goto out;
		json_array_foreach(queue, i, e) {
			key = json_string_value(json_object_get(e, "job"));
			detail_of(ctx, sizeof(ctx), buf_str(&res.out), key,
				  "context");
			if (json_is_false(json_object_get(seen, key)) &&
			    context_has_run(ctx, run_id))
				json_object_set_new(seen, key, json_true());
		}
	}
	/* Ended: by name in the accounting (which has no context). */
	buf_addf(&pattern, "*%s*", run_id);
	if (acct_records(s, &records, buf_str(&pattern), err) < 0)
		goto out;
	json_array_foreach(records, i, e) {
		if (name_has_run(json_string_value(json_object_get(e,
						"jobname")), run_id))
			json_object_set_new(seen, json_string_value(
				json_object_get(e, "jobnumber")), json_true());
	}
	ids = xcalloc(json_object_size(seen) + 1, sizeof(*ids));
	n = 0;
	json_object_foreach(seen, key, e) {
		if (json_is_true(e))
			ids[n++] = key;
	}
	qsort(ids, n, sizeof(*ids), by_number);
	*out = json_array();
	for (i = 0; i < n; i++)
		json_array_append_new(*out, json_string(ids[i]));
	r = 0;
out:
	free(ids);
	exec_result_release(&res);
	json_decref(queue);
	json_decref(records);
	json_decref(seen);
	buf_release(&list);
	buf_release(&pattern);
	return r;
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

const struct sched_ops sched_sge_ops = {
	.name = "sge",
	.shared = 1,
	.open = sge_open,
	.directives = sched_sge_directives,
	.submit = sge_submit,
	.query = sge_query,
	.cancel = sge_cancel,
	.find = sge_find,
	.release = sge_release,
};
