/*
 * sched_sge_cmd.c: the Son of Grid Engine commands that look (qstat
 * -xml, qacct -j, qstat -j) run through the cluster's transport, their
 * failures told apart, and find built on them (see sched_sge.h).
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "sched.h"
#include "sched_sge.h"
#include "transport.h"
#include "xalloc.h"
#include "banned.h"

/* ------------------------------------------------------------------ */
/* Running commands                                                    */
/* ------------------------------------------------------------------ */

/* Copy the first line of 'b' (at most 200 bytes, printable) into 'out'. */
void sched_sge_first_line(char *out, size_t size, const struct buf *b)
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
int sched_sge_qmaster_down(const struct buf *b)
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
int sched_sge_run(struct sched *s, struct exec_result *res,
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
int sched_sge_command_failed(struct sched *s, const char *what,
			     const struct exec_result *res, struct err *err)
{
	char line[256];

	sched_sge_first_line(line, sizeof(line),
			     res->err.len ? &res->err : &res->out);
	return err_set(err, ERR_SCHEDULER_UNAVAILABLE,
		       "%s on cluster '%s' failed (exit %d): %s", what,
		       s->cluster_name, res->exit_code, line);
}

/* ------------------------------------------------------------------ */
/* Looking at the queue and the accounting                             */
/* ------------------------------------------------------------------ */

/*
 * The jobs of the queue of 's' (sched_sge_parse_qstat), from one
 * "qstat -xml -s prsz" ('tasks': each task on its own, "-g d"): the
 * live jobs, and the last ones that finished (state "z", as many as
 * the qmaster keeps: finished_jobs, 100 by default), whose accounting
 * record may not be written yet.  '*out' is new.
 */
int sched_sge_queue_jobs(struct sched *s, json_t **out, int tasks,
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
	if (sched_sge_run(s, &res, argv, err) < 0)
		goto out;
	if (res.exit_code != 0) {
		sched_sge_command_failed(s, "qstat", &res, err);
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
int sched_sge_acct_records(struct sched *s, json_t **out, const char *which,
			   struct err *err)
{
	struct exec_result res;
	const char *argv[] = { "qacct", "-j", which, NULL };
	int r = -1;

	*out = NULL;
	if (sched_sge_run(s, &res, argv, err) < 0)
		goto out;
	if (res.exit_code != 0 || !res.out.len) {
		/* "error: job id N not found", or no accounting file yet. */
		if (sched_sge_qmaster_down(&res.err)) {
			sched_sge_command_failed(s, "qacct", &res, err);
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
int sched_sge_job_details(struct sched *s, struct exec_result *res,
			  const char *ids, struct err *err)
{
	const char *argv[] = { "qstat", "-j", ids, NULL };

	if (sched_sge_run(s, res, argv, err) < 0)
		return -1;
	if (res->exit_code != 0 && sched_sge_qmaster_down(&res->err))
		return sched_sge_command_failed(s, "qstat -j", res, err);
	return 0;
}

/*
 * The value of the line "KEY: value" of job 'job' in the "qstat -j"
 * text 'text', into 'out' (at most 'size' bytes, printable); "" when
 * there is none.
 */
void sched_sge_job_detail(char *out, size_t size, const char *text,
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

/* ------------------------------------------------------------------ */
/* Finding the jobs of a run                                           */
/* ------------------------------------------------------------------ */

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
int sched_sge_find(struct sched *s, json_t **out, const char *run_id,
		   struct err *err)
{
	json_t *queue = NULL, *records = NULL, *seen = json_object(), *e;
	struct sched_sge *g = s->priv;
	struct exec_result res;
	struct buf list = BUF_INIT, pattern = BUF_INIT;
	const char *key, **ids = NULL;
	char ctx[512];
	size_t i, n = 0;
	int r = -1;

	*out = NULL;
	exec_result_init(&res, 0);
	if (!sched_sge_good_run_id(run_id)) {
		*out = json_array();	/* never submitted: qsub refuses it */
		r = 0;
		goto out;
	}
	/*
	 * Queued or running: by name, then by the context variable.  Just
	 * finished (kept by the qmaster, perhaps not yet in the
	 * accounting): by name.
	 */
	if (sched_sge_queue_jobs(s, &queue, 0, err) < 0)
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
		if (sched_sge_job_details(s, &res, buf_str(&list), err) < 0)
			goto out;
		json_array_foreach(queue, i, e) {
			key = json_string_value(json_object_get(e, "job"));
			sched_sge_job_detail(ctx, sizeof(ctx),
					     buf_str(&res.out), key,
					     "context");
			if (json_is_false(json_object_get(seen, key)) &&
			    context_has_run(ctx, run_id))
				json_object_set_new(seen, key, json_true());
		}
	}
	/* Ended: by name in the accounting (which has no context). */
	buf_addf(&pattern, "*%s*", run_id);
	if (sched_sge_acct_records(s, &records, buf_str(&pattern), err) < 0)
		goto out;
	json_array_foreach(records, i, e) {
		const char *owner = json_string_value(json_object_get(e,
								      "owner"));

		/* qacct -j lists every user's jobs: ours only. */
		if (g->user && owner && strcmp(owner, g->user))
			continue;
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
