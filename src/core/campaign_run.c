/*
 * campaign_run.c: the rows of a new campaign and the files and
 * submission of one of its arrays (see campaign.h and
 * campaign_internal.h); the calls themselves are in campaign_flow.c.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "campaign.h"
#include "campaign_internal.h"
#include "cluster.h"
#include "config.h"
#include "context.h"
#include "crypto.h"
#include "embedded.h"
#include "fault.h"
#include "ids.h"
#include "jobgen.h"
#include "journal.h"
#include "proc.h"
#include "sched.h"
#include "shquote.h"
#include "template.h"
#include "transport.h"
#include "waves.h"
#include "xalloc.h"
#include "banned.h"

#define TEMPLATE_PATH "templates/campaign.sh"

/* ---------------------------------------------------------------- */
/* The rows of a new campaign                                         */
/* ---------------------------------------------------------------- */

/* Insert the campaign, its tasks and its submissions; in a transaction. */
int cp_insert(struct journal *j, const char *id, const char *study,
	      const char *cluster, const char *dir, const json_t *spec,
		  const json_t *tasks, const json_t *subs, int canary,
		  const char *loop_id, struct err *err)
{
	char now[IDS_TIME_LEN], *text = json_dumps(spec, JSON_COMPACT);
	json_t *params, *t, *ev;
	size_t i;
	int r;

	ids_now(now);
	params = json_pack("[s, s, s, I, s, s, i, s?, s, s]", id, study, cluster,
			   (json_int_t)json_array_size(tasks), dir, text, canary,
			   loop_id, now, now);
	free(text);
	r = journal_exec(j, NULL,
			 "INSERT INTO campaigns (id, study, cluster, state, tasks,"
			 " directory, spec, canary, loop_id, created_at, "
			 "updated_at) VALUES (?, ?, ?, 'pending', ?, ?, ?, ?, ?, "
			 "?, ?)",
			 params, err);
	json_decref(params);
	json_array_foreach(tasks, i, t) {
		if (r < 0)
			break;
		text = json_dumps(t, JSON_COMPACT);
		params = json_pack("[s, I, s, s]", id, (json_int_t)i, text, now);
		free(text);
		r = journal_exec(j, NULL,
				 "INSERT INTO campaign_tasks (campaign_id, task, "
				 "params, updated_at) VALUES (?, ?, ?, ?)",
				 params, err);
		json_decref(params);
	}
	json_array_foreach(subs, i, t) {
		if (r < 0)
			break;
		text = json_dumps(json_object_get(t, "tasks"), JSON_COMPACT);
		params = json_pack("[s, O, O, s, O, O, s]", id,
				   json_object_get(t, "n"),
				   json_object_get(t, "wave"), text,
				   json_object_get(t, "array_limit"),
				   json_object_get(t, "kind"), now);
		free(text);
		r = journal_exec(j, NULL,
				 "INSERT INTO campaign_submissions (campaign_id, "
				 "n, wave, tasks, array_limit, kind, created_at) "
				 "VALUES (?, ?, ?, ?, ?, ?, ?)",
				 params, err);
		json_decref(params);
	}
	if (r == 0) {
		ev = json_pack("{s:s, s:s, s:I, s:I, s:s}", "study", study,
			       "cluster", cluster, "tasks",
			       (json_int_t)json_array_size(tasks), "submissions",
			       (json_int_t)json_array_size(subs), "directory", dir);
		r = journal_event(j, NULL, "campaign.created", id, ev, err);
		json_decref(ev);
	}
	return r;
}

/* ---------------------------------------------------------------- */
/* The files of a submission                                          */
/* ---------------------------------------------------------------- */

/* tasks/<t>/params.sh: export NAME='value' lines, for the task 'params'. */
static int write_params(struct transport *t, const char *dir, json_int_t task,
			const json_t *params, struct err *err)
{
	struct buf text = BUF_INIT, path = BUF_INIT;
	char name[JOBGEN_PARAM_NAME_MAX + 32];
	const char *k;
	json_t *v;
	int r = 0;

	buf_adds(&text, "# written by hpcloop: the parameters of this task\n");
	json_object_foreach((json_t *)params, k, v) {
		char *value = jobgen_param_text(v);

		jobgen_param_name(name, sizeof(name), k);
		buf_addf(&text, "export %s=", name);
		r = shquote_word(&text, value, strlen(value), err);
		free(value);
		if (r < 0)
			goto out;
		buf_adds(&text, "\n");
	}
	buf_addf(&path, "%s/tasks/%lld/params.sh", dir, (long long)task);
	r = transport_write_file(t, path.data, text.data, text.len, 0600, err);
out:
	buf_release(&text);
	buf_release(&path);
	return r;
}

/* The job script of submission 'n', a new string. */
static int render(char **out, const json_t *row, const json_t *executor,
		  const char *index_var, int n, struct err *err)
{
	const struct embedded_file *f = embedded_find(TEMPLATE_PATH);
	const char *dir = json_string_value(json_object_get(row, "directory"));
	json_t *vars, *argv = json_array(), *v;
	char *b64;
	size_t i;
	int r;

	json_array_foreach(executor, i, v) {
		b64 = crypto_base64(json_string_value(v),
				    strlen(json_string_value(v)));
		json_array_append_new(argv, json_pack("{s:s}", "b64", b64));
		free(b64);
	}
	b64 = crypto_base64(dir, strlen(dir));
	vars = json_pack("{s:O, s:i, s:s, s:o, s:s}", "campaign_id",
			 json_object_get(row, "id"), "submission", n, "dir_b64",
			 b64, "executor_argv", argv, "index_var", index_var);
	free(b64);
	r = template_render(out, (const char *)f->data, vars, TEMPLATE_PATH, err);
	json_decref(vars);
	return r;
}

/* Insert the scheduler's header lines after the first line of 'script'. */
static char *with_directives(const char *script, const char *directives)
{
	const char *nl = strchr(script, '\n');
	struct buf b = BUF_INIT;

	if (!nl || !*directives)
		return xstrdup(script);
	buf_add(&b, script, (size_t)(nl - script) + 1);
	buf_adds(&b, directives);
	buf_adds(&b, nl + 1);
	return buf_detach(&b, NULL);
}

/* ---------------------------------------------------------------- */
/* Placing a submission                                               */
/* ---------------------------------------------------------------- */

/*
 * The job ids of the submissions of wave 'wave' - 1 that still have a
 * task that has not ended (a scheduler may have forgotten an ended job,
 * and refuses a dependency on one it does not know), a new array; none
 * for wave 0 (the canary is never waited for: it has ended).
 */
static json_t *after_of(struct journal *j, const char *id, const json_t *subs,
			json_int_t wave)
{
	json_t *after = json_array(), *s, *params, *row;
	struct err e = ERR_INIT;
	size_t i;

	json_array_foreach(subs, i, s) {
		if (wave < 1 ||
		    json_integer_value(json_object_get(s, "wave")) != wave - 1 ||
		    strcmp(json_string_value(json_object_get(s, "kind")), "wave") ||
		    !json_is_string(json_object_get(s, "job_id")))
			continue;
		row = NULL;
		params = json_pack("[s, O]", id, json_object_get(s, "n"));
		if (journal_row(j, &row,
				"SELECT count(*) AS n FROM campaign_tasks WHERE "
				"campaign_id = ? AND submission = ? AND state IN "
				"('pending', 'submitted', 'running')",
				params, &e) != 0 ||
		    json_integer_value(json_object_get(row, "n")) > 0)
			json_array_append(after, json_object_get(s, "job_id"));
		json_decref(row);
		json_decref(params);
		err_clear(&e);
	}
	err_release(&e);
	return after;
}

/* The request of the submission, its files written; fills 'req'. */
struct placing {
	struct buf script, out, errp, name, comment, directives;
	char *text;
	json_t *job_options, *env, *after, *spec, *executor, *tasks;
};

static void placing_release(struct placing *p)
{
	buf_release(&p->script);
	buf_release(&p->out);
	buf_release(&p->errp);
	buf_release(&p->name);
	buf_release(&p->comment);
	buf_release(&p->directives);
	free(p->text);
	json_decref(p->job_options);
	json_decref(p->env);
	json_decref(p->after);
	json_decref(p->spec);
	json_decref(p->executor);
	json_decref(p->tasks);
}

/* Write the files of submission 'sub' and fill 'req' for it. */
static int prepare(struct journal *j, struct cluster *c, const json_t *row,
		   const json_t *sub, struct placing *p,
		   struct sched_submit *req, struct err *err)
{
	const char *id = json_string_value(json_object_get(row, "id"));
	const char *dir = json_string_value(json_object_get(row, "directory"));
	json_int_t n = json_integer_value(json_object_get(sub, "n"));
	json_t *subs = NULL, *rows = NULL, *params, *t;
	struct buf list = BUF_INIT, path = BUF_INIT;
	char *script = NULL;
	size_t i;
	int r = -1;

	p->spec = json_loads(json_string_value(json_object_get(row, "spec")), 0,
			     NULL);
	p->executor = json_incref(json_object_get(p->spec, "executor_argv"));
	p->tasks = json_loads(json_string_value(json_object_get(sub, "tasks")),
			      0, NULL);
	if (!json_is_array(p->executor) || !json_is_array(p->tasks)) {
		err_set(err, ERR_JOURNAL_CORRUPT, "campaign %s: its stored spec "
			"is damaged", id);
		goto out;
	}
	/* Every task's parameters, then the task list, then the script. */
	params = json_pack("[s, s]", id,
			   json_string_value(json_object_get(sub, "tasks")));
	r = journal_exec(j, &rows,
			 "SELECT task, params FROM campaign_tasks WHERE "
			 "campaign_id = ? AND task IN (SELECT value FROM "
			 "json_each(?)) ORDER BY task",
			 params, err);
	json_decref(params);
	if (r < 0)
		goto out;
	json_array_foreach(rows, i, t) {
		json_t *pv = json_loads(json_string_value(json_object_get(t, "params")),
					0, NULL);

		buf_truncate(&path, 0);
		buf_addf(&path, "%s/tasks/%lld", dir,
			 (long long)json_integer_value(json_object_get(t, "task")));
		r = transport_mkdirs(c->t, path.data, 0700, err);
		if (r == 0)
			r = write_params(c->t, dir,
					 json_integer_value(json_object_get(t, "task")),
					 pv, err);
		json_decref(pv);
		if (r < 0)
			goto out;
	}
	json_array_foreach(p->tasks, i, t)
		buf_addf(&list, "%lld\n", (long long)json_integer_value(t));
	buf_truncate(&path, 0);
	buf_addf(&path, "%s/submissions/%lld.tasks", dir, (long long)n);
	if (transport_write_file(c->t, path.data, list.data, list.len, 0600,
				 err) < 0)
		goto out;
	if (render(&script, row, p->executor,
		   c->sched->ops->task_index_env ? c->sched->ops->task_index_env
						 : "HPCLOOP_ARRAY_TASK_ID",
		   (int)n, err) < 0)
		goto out;
	/* The scheduler's header lines from the job options kept. */
	p->job_options = json_incref(json_object_get(p->spec, "job_options"));
	memset(req, 0, sizeof(*req));
	req->job_options = p->job_options;
	req->time_limit_s = (int)json_integer_value(json_object_get(p->spec,
								    "time_limit_s"));
	buf_init(&p->directives, 64 * 1024);
	if (c->sched->ops->directives(&p->directives, req, err) < 0)
		goto out;
	p->text = with_directives(script, buf_str(&p->directives));
	buf_addf(&p->script, "%s/submissions/%lld.sh", dir, (long long)n);
	if (transport_write_file(c->t, p->script.data, p->text,
				 strlen(p->text), 0700, err) < 0)
		goto out;
	buf_addf(&p->out, "%s/submissions/%lld.out", dir, (long long)n);
	buf_addf(&p->errp, "%s/submissions/%lld.err", dir, (long long)n);
	buf_addf(&p->name, "hpl-%s-s%lld", id, (long long)n);
	buf_addf(&p->comment, "%s-s%lld", id, (long long)n);
	if (cp_submissions(j, &subs, id, err) < 0)
		goto out;
	p->after = strcmp(json_string_value(json_object_get(sub, "kind")), "wave")
			   ? json_array()
			   : after_of(j, id, subs,
				      json_integer_value(json_object_get(sub,
									  "wave")));
	req->name = p->name.data;
	req->comment = p->comment.data;
	req->workdir = dir;
	req->script_path = p->script.data;
	req->stdout_path = p->out.data;
	req->stderr_path = p->errp.data;
	req->array_size = (int)json_array_size(p->tasks);
	req->array_limit = (int)json_integer_value(json_object_get(sub,
								   "array_limit"));
	req->after = json_array_size(p->after) ? p->after : NULL;
	r = 0;
out:
	free(script);
	json_decref(subs);
	json_decref(rows);
	buf_release(&list);
	buf_release(&path);
	return r;
}

int cp_place(struct journal *j, struct cluster *c, const json_t *row,
	     const json_t *sub, int *submitting_out, struct err *err)
{
	struct placing p;
	struct sched_submit req;
	json_t *found = NULL, *task_ids = NULL;
	char *job = NULL;
	size_t i;
	int r = -1;

	if (json_is_string(json_object_get(sub, "job_id")))
		return 0;
	memset(&p, 0, sizeof(p));
	if (prepare(j, c, row, sub, &p, &req, err) < 0)
		goto out;
	/* A dead attempt may have submitted it: adopt that job. */
	if (sched_find(c->sched, &found, p.comment.data, err) < 0)
		goto out;
	if (json_array_size(found)) {
		job = xstrdup(json_string_value(json_array_get(found, 0)));
	} else {
		*submitting_out = 1;
		if (sched_submit(c->sched, &job, &req, err) < 0)
			goto out;
	}
	fault_point("campaign.after_sched");
	task_ids = json_array();
	for (i = 1; i <= json_array_size(p.tasks); i++) {
		char *tid = sched_task_id(c->sched, job, (int)i);

		json_array_append_new(task_ids, json_string(tid));
		free(tid);
	}
	r = cp_record_submission(j, json_string_value(json_object_get(row, "id")),
				 (int)json_integer_value(json_object_get(sub, "n")),
				 job, task_ids, err);
out:
	placing_release(&p);
	json_decref(found);
	json_decref(task_ids);
	free(job);
	return r;
}
