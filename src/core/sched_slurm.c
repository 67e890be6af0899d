/*
 * sched_slurm.c: the "slurm" scheduler: sbatch, squeue, sacct,
 * scontrol and scancel, run through the cluster's transport (over SSH
 * on a real cluster) as argument vectors, never as pasted strings.  The
 * parsing of what they print, the state table and the #SBATCH lines are
 * in sched_slurm_parse.c (sched_slurm.h).
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

/* The most output read from one command. */
#define SLURM_OUT_MAX (4 * 1024 * 1024)
/* The longest id list given to one command (well inside ARG_MAX and
 * sshd's command line). */
#define SLURM_ARGLIST_MAX (64 * 1024)
/* The most ids looked up one by one with scontrol in one query. */
#define SLURM_SCONTROL_MAX 32
/* Seconds a command may take when the cluster gives no io_timeout_s. */
#define SLURM_TIMEOUT_S 60
/* The file under the state directory naming the accounting source. */
#define SLURM_MODE_FILE "slurm-accounting"

/* Where the records of jobs that left the queue come from. */
enum slurm_mode {
	MODE_UNKNOWN,	/* not found out yet */
	MODE_SACCT,	/* accounting storage: sacct -P */
	MODE_JOBCOMP,	/* no storage, a completion log: sacct -c */
	MODE_SCONTROL	/* neither: scontrol, while the controller
			   remembers the job (MinJobAge) */
};

static const char *const mode_names[] = {
	[MODE_UNKNOWN] = "", [MODE_SACCT] = "sacct",
	[MODE_JOBCOMP] = "jobcomp", [MODE_SCONTROL] = "scontrol",
};

/* The state of an open slurm scheduler. */
struct sched_slurm {
	int timeout_s;		/* per command */
	enum slurm_mode mode;	/* the accounting source, once known */
};

/* ------------------------------------------------------------------ */
/* Running commands                                                    */
/* ------------------------------------------------------------------ */

static struct sched_slurm *priv(const struct sched *s)
{
	return s->priv;
}

/* The first line of 'res''s stderr into 'line', control bytes as '?'. */
static void first_line(struct buf *line, const struct exec_result *res)
{
	const char *p;

	for (p = buf_str(&res->err); *p && *p != '\n' && line->len < 300;
	     p++) {
		char c = (unsigned char)*p < 0x20 || (unsigned char)*p >= 0x7f
				 ? '?' : *p;

		buf_add(line, &c, 1);
	}
	if (!line->len)
		buf_addf(line, "exit status %d", res->exit_code);
}

/*
 * Fail with 'code' after the command 'what' ended badly with 'res':
 * the message quotes the first line of its standard error.
 */
static int failed(struct sched *s, struct err *err, enum err_code code,
		  const char *what, const struct exec_result *res)
{
	struct buf line = BUF_INIT;

	first_line(&line, res);
	err_set(err, code, "%s on cluster '%s' failed: %s", what,
		s->cluster_name, buf_str(&line));
	buf_release(&line);
	err_detail(err, "exit_code", json_integer(res->exit_code));
	if (code == ERR_SCHEDULER_UNAVAILABLE)
		err_remedy(err, "check that slurmctld answers (`sinfo` on the "
			   "cluster); retry later");
	return -1;
}

/*
 * Run 'argv' on the cluster into 'res' (set up here).  A command that
 * could not be found or was cut by the timeout is
 * ERR_SCHEDULER_UNAVAILABLE when 'map_timeout', the transport's own
 * error otherwise (a submission cut short may have submitted).
 */
static int run(struct sched *s, struct exec_result *res,
	       const char *const *argv, int map_timeout, struct err *err)
{
	exec_result_init(res, SLURM_OUT_MAX);
	if (transport_exec(s->t, res, argv, NULL, NULL, 0,
			   priv(s)->timeout_s, err) < 0) {
		if (err->code == ERR_NOT_FOUND ||
		    (map_timeout && err->code == ERR_TIMEOUT)) {
			enum err_code was = err->code;

			err_clear(err);
			err_set(err, ERR_SCHEDULER_UNAVAILABLE,
				"%s on cluster '%s': %s", argv[0],
				s->cluster_name,
				was == ERR_TIMEOUT ? "no answer in time"
						   : "not installed");
		}
		return -1;
	}
	if (res->exit_code == 127) {
		err_set(err, ERR_SCHEDULER_UNAVAILABLE,
			"%s is not installed on cluster '%s' (exit 127)",
			argv[0], s->cluster_name);
		return err_remedy(err, "install the SLURM client commands "
				  "on the cluster or fix the login PATH");
	}
	if (res->out_truncated)
		return err_set(err, ERR_SCHEDULER_UNAVAILABLE,
			       "%s on cluster '%s' printed more than %d bytes",
			       argv[0], s->cluster_name, SLURM_OUT_MAX);
	return 0;
}

/* Whether every line of 'res''s stderr holds one of 'words'. */
static int only_errors(const struct exec_result *res,
		       const char *const *words)
{
	const char *p = buf_str(&res->err), *nl;
	int seen = 0;
	size_t i;

	for (; *p; p = *nl ? nl + 1 : nl) {
		struct buf l = BUF_INIT;
		int ok = 0;

		nl = strchr(p, '\n');
		if (!nl)
			nl = p + strlen(p);
		if (nl == p)
			continue;
		buf_add(&l, p, (size_t)(nl - p));
		for (i = 0; words[i]; i++)
			ok |= strstr(buf_str(&l), words[i]) != NULL;
		buf_release(&l);
		if (!ok)
			return 0;
		seen = 1;
	}
	return seen;
}

/* A NULL-terminated argv: 'fixed' (NULL-terminated), then 'extra'. */
static const char **argv_of(const char *const *fixed, const char *extra)
{
	size_t n = 0, i;
	const char **v;

	while (fixed[n])
		n++;
	v = xcalloc(n + 2, sizeof(*v));
	for (i = 0; i < n; i++)
		v[i] = fixed[i];
	v[n] = extra;
	return v;
}

/*
 * The valid ids of 'ids' cut into comma-separated lists of at most
 * SLURM_ARGLIST_MAX bytes: a new array of strings.
 */
static json_t *chunks(const json_t *ids, const char *sep)
{
	json_t *out = json_array(), *v;
	struct buf b = BUF_INIT;
	size_t i;

	json_array_foreach((json_t *)ids, i, v) {
		const char *id = json_string_value(v);

		if (b.len && b.len + strlen(id) + 1 > SLURM_ARGLIST_MAX) {
			json_array_append_new(out, json_string(buf_str(&b)));
			buf_release(&b);
		}
		buf_addf(&b, "%s%s", b.len ? sep : "", id);
	}
	if (b.len)
		json_array_append_new(out, json_string(buf_str(&b)));
	buf_release(&b);
	return out;
}

/* ------------------------------------------------------------------ */
/* The accounting source                                               */
/* ------------------------------------------------------------------ */

/* The remembered source of 's' (MODE_UNKNOWN when none is). */
static enum slurm_mode remembered(struct sched *s)
{
	struct buf b = BUF_INIT;
	struct err e = ERR_INIT;
	enum slurm_mode m = MODE_UNKNOWN, i;

	if (priv(s)->mode != MODE_UNKNOWN || !*s->state_dir)
		return priv(s)->mode;
	if (transport_read_file(s->t, &b, s->state_dir, SLURM_MODE_FILE, 64,
				&e) == 0) {
		for (i = MODE_SACCT; i <= MODE_SCONTROL; i++) {
			size_t n = strlen(mode_names[i]);

			if (b.len >= n && !strncmp(buf_str(&b), mode_names[i],
						   n) &&
			    (b.len == n || buf_str(&b)[n] == '\n'))
				m = i;
		}
	}
	err_release(&e);
	buf_release(&b);
	priv(s)->mode = m;
	return m;
}

/* Remember 'm' as the source of 's' (a failure to write only costs a
 * detection next time). */
static void remember(struct sched *s, enum slurm_mode m)
{
	struct buf path = BUF_INIT;
	struct err e = ERR_INIT;
	char text[16];

	priv(s)->mode = m;
	if (!*s->state_dir)
		return;
	snprintf(text, sizeof(text), "%s\n", mode_names[m]);
	buf_addf(&path, "%s/%s", s->state_dir, SLURM_MODE_FILE);
	transport_write_file(s->t, buf_str(&path), text, strlen(text), 0600,
			     &e);
	err_release(&e);
	buf_release(&path);
}

/*
 * Ask sacct (plain when 'completion' is 0, -c otherwise) about the
 * comma-separated 'list' into 'recs'.  Returns 0 when it answered, 1
 * when that source is not there on this cluster, -1 on a failure.
 */
static int ask_sacct(struct sched *s, json_t *recs, const char *list,
		     int completion, struct err *err)
{
	static const char *const plain[] = { "sacct", "--noheader",
		"--parsable2", "--allocations",
		"--format=JobID,State,ExitCode", NULL };
	static const char *const comp[] = { "sacct", "--completion",
		"--noheader", "--parsable2",
		"--format=JobID,State,ExitCode", NULL };
	static const char *const absent[] = { "accounting storage is disabled",
		"not configured", "JobCompType", "jobcomp/none",
		"No such file", "Unknown type", NULL };
	struct exec_result res;
	struct buf jobs = BUF_INIT;
	const char **argv;
	int r;

	buf_addf(&jobs, "--jobs=%s", list);
	argv = argv_of(completion ? comp : plain, buf_str(&jobs));
	r = run(s, &res, argv, 1, err);
	if (r == 0 && res.exit_code == 0) {
		json_t *got = json_object(), *rec;
		const char *id;

		slurm_parse_sacct(got, buf_str(&res.out), res.out.len);
		json_object_foreach(got, id, rec) {
			json_object_set_new(rec, "source", json_string(
				completion ? "sacct-completion" : "sacct"));
			json_object_set(recs, id, rec);
		}
		json_decref(got);
	} else if (r == 0 && only_errors(&res, absent)) {
		r = 1;
	} else if (r == 0) {
		r = failed(s, err, ERR_SCHEDULER_UNAVAILABLE, "sacct", &res);
	}
	exec_result_release(&res);
	buf_release(&jobs);
	free(argv);
	return r;
}

/* Ask scontrol about each of 'ids' that 'recs' lacks (at most
 * SLURM_SCONTROL_MAX of them). */
static int ask_scontrol(struct sched *s, json_t *recs, const json_t *ids,
			struct err *err)
{
	static const char *const gone[] = { "Invalid job id", NULL };
	struct exec_result res;
	json_t *v, *rec;
	size_t i;
	int asked = 0, r = 0;

	json_array_foreach((json_t *)ids, i, v) {
		const char *id = json_string_value(v);
		const char *argv[] = { "scontrol", "--oneliner", "show", "job",
				       id, NULL };

		if (json_object_get(recs, id) || asked >= SLURM_SCONTROL_MAX)
			continue;
		asked++;
		r = run(s, &res, argv, 1, err);
		if (r == 0 && res.exit_code == 0) {
			rec = slurm_parse_scontrol(id, buf_str(&res.out),
						   res.out.len);
			if (rec) {
				json_object_set_new(rec, "source",
						    json_string("scontrol"));
				json_object_set_new(recs, id, rec);
			}
		} else if (r == 0 && !only_errors(&res, gone)) {
			r = failed(s, err, ERR_SCHEDULER_UNAVAILABLE,
				   "scontrol", &res);
		}
		exec_result_release(&res);
		if (r < 0)
			return -1;
	}
	return 0;
}

/*
 * The records of the ids 'left' (which left the queue) into 'recs'
 * (id -> record, each with its "source"): the cluster's accounting,
 * then scontrol for the rest.
 */
static int accounting(struct sched *s, json_t *recs, const json_t *left,
		      struct err *err)
{
	enum slurm_mode m = remembered(s);
	json_t *lists = chunks(left, ","), *whole = json_array(), *comp;
	json_t *v;
	size_t i;
	int r = 0, tried_sacct = 0;

	/* A completion log knows array tasks only by their raw ids, and
	 * answers "123_4" with the record of another task: ask it about
	 * whole jobs only; scontrol tells the tasks. */
	json_array_foreach((json_t *)left, i, v) {
		if (!strchr(json_string_value(v), '_'))
			json_array_append(whole, v);
	}
	comp = chunks(whole, ",");
	json_decref(whole);

	if (m == MODE_UNKNOWN || m == MODE_SACCT) {
		tried_sacct = 1;
		json_array_foreach(lists, i, v) {
			r = ask_sacct(s, recs, json_string_value(v), 0, err);
			if (r != 0)
				break;
		}
		if (r < 0)
			goto out;
		if (r == 0) {
			if (m == MODE_UNKNOWN)
				remember(s, MODE_SACCT);
			m = MODE_SACCT;
		} else {
			m = MODE_JOBCOMP;
		}
	}
	if (m == MODE_JOBCOMP && json_array_size(comp)) {
		r = 0;
		json_array_foreach(comp, i, v) {
			r = ask_sacct(s, recs, json_string_value(v), 1, err);
			if (r != 0)
				break;
		}
		if (r < 0)
			goto out;
		if (r == 0) {
			if (tried_sacct || priv(s)->mode == MODE_UNKNOWN)
				remember(s, MODE_JOBCOMP);
		} else {
			remember(s, MODE_SCONTROL);
		}
	}
	/* What the accounting did not answer: the controller's memory. */
	r = ask_scontrol(s, recs, left, err);
out:
	json_decref(lists);
	json_decref(comp);
	return r < 0 ? -1 : 0;
}

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
	json_t *lists = chunks(ids, ","), *v;
	struct exec_result res;
	size_t i;
	int r = 0;

	json_array_foreach(lists, i, v) {
		struct buf jobs = BUF_INIT;
		const char **argv;

		buf_addf(&jobs, "--jobs=%s", json_string_value(v));
		argv = argv_of(fixed, buf_str(&jobs));
		r = run(s, &res, argv, 1, err);
		/* Every id unknown (purged): rc 1, "Invalid job id". */
		if (r == 0 && res.exit_code == 0)
			slurm_parse_squeue(queue, buf_str(&res.out),
					   res.out.len);
		else if (r == 0 && !only_errors(&res, gone))
			r = failed(s, err, ERR_SCHEDULER_UNAVAILABLE, "squeue",
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
	    accounting(s, recs, left, err) < 0)
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
	struct buf o = BUF_INIT, e = BUF_INIT;
	struct exec_result res;
	const char *argv[9];
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
	argv[n++] = req->script_path;
	argv[n] = NULL;
	r = run(s, &res, argv, 0, err);
	if (r == 0 && res.exit_code == 0)
		r = slurm_parse_job_id(job_id_out, buf_str(&res.out),
				       res.out.len, err);
	else if (r == 0 && only_errors(&res, unreachable))
		r = failed(s, err, ERR_SCHEDULER_UNAVAILABLE, "sbatch", &res);
	else if (r == 0 && strstr(buf_str(&res.err), "Unable to open file"))
		r = failed(s, err, ERR_PRECONDITION_FAILED, "sbatch", &res);
	else if (r == 0)
		r = failed(s, err, ERR_SCHEDULER_REJECTED, "sbatch", &res);
	exec_result_release(&res);
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
	lists = chunks(valid, " ");
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
		r = run(s, &res, argv, 1, err);
		if (r == 0 && res.exit_code != 0 && !only_errors(&res, done))
			r = failed(s, err, ERR_SCHEDULER_UNAVAILABLE, "scancel",
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
	r = run(s, &res, sq, 1, err);
	if (r == 0 && res.exit_code != 0)
		r = failed(s, err, ERR_SCHEDULER_UNAVAILABLE, "squeue", &res);
	if (r == 0)
		found_lines(found, buf_str(&res.out), run_id);
	exec_result_release(&res);
	if (r == 0 && remembered(s) == MODE_SACCT) {
		r = run(s, &res, sa, 1, err);
		if (r == 0 && res.exit_code != 0)
			r = failed(s, err, ERR_SCHEDULER_UNAVAILABLE, "sacct",
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

const struct sched_ops sched_slurm_ops = {
	.name = "slurm",
	.shared = 1,
	.open = slurm_open,
	.directives = slurm_directives_op,
	.submit = slurm_submit,
	.query = slurm_query,
	.cancel = slurm_cancel,
	.find = slurm_find,
	.release = slurm_release,
};
