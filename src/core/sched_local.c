/*
 * sched_local.c: the "local" scheduler, which runs jobs as detached
 * processes on this machine: the parent side (records, submission,
 * query, cancel, find and the queue).  What runs after fork(), the
 * supervisor and the job, is in sched_local_child.c.  It is the
 * embedded default, so everything works with no cluster at all.
 *
 * The state directory holds:
 *
 *	lock		 flock()ed around every change and every look
 *	next_id		 the next job id; ids never repeat
 *	jobs/<id>/	 the record of job <id>:
 *	  spec.json	   the submission (0600: its environment may hold
 *			   secrets); the job exists from the moment it is
 *			   there, and not before
 *	  supervisor	   "<pid> <start>" of the supervisor: the job was
 *			   started (absent: it is queued)
 *	  start_time	   start time of the job (/proc/<pid>/stat #22)
 *	  pid		   the job's process group leader
 *	  cancel_requested the cancel grace period in seconds
 *	  exit_status	   {"exit_code", "signal", "reason", "ended_at"}
 *	live/<id>	 one entry per job not yet seen to end (queued or
 *			 started), holding its by-run key: the queue and
 *			 the count of active jobs read only this
 *	by-run/<key>/<id> one entry per job whose comment (the run id)
 *			 encodes to <key>, for find()
 *
 * An array of N tasks is the record jobs/<id>/array (holding N) and one
 * job per task, jobs/<id>_<i>/ for i = 1..N, each with its own
 * spec.json (its index in HPCLOOP_ARRAY_TASK_ID, the array's limit of
 * tasks at once, and the ids it waits for) and live and by-run
 * entries.  The queue starts a task only while fewer than the limit of
 * its array run, and any job only once every job it waits for has ended
 * (a whole array: every task of it).
 *
 * So no operation lists or reads the records of past jobs: the next id
 * is the counter, the queue is live/ (an ended job leaves it at the
 * next look), find() reads one by-run directory, and a query reads the
 * records of the ids it is given.
 *
 * Submission is crash-safe.  Under the lock it claims an id, writes the
 * live and by-run entries, and then spec.json, which is the commit:
 * killed before it, the job does not exist (find() ignores entries
 * without a spec.json, and the next look at the live index drops both
 * entries); killed after it, the job is queued and the next submit or
 * query starts it.  A start
 * forks the supervisor, which records itself and forks the job, which
 * records its pid; both keep a copy of the lock until those records are
 * written, so even a parent killed in the middle of a start leaves the
 * next lock holder a record that says either "started" (supervisor) or
 * "queued" (none), never half of one.  The fault points, in order:
 * local.after_id, local.after_live, local.after_by_run,
 * local.after_record (local.after_tasks for an array), local.after_fork,
 * local.after_pid.
 *
 * The file is longer than most in src/ because every part of it shares
 * the record layout above, which nothing outside it may know; banners
 * divide it: paths and records, inspecting a job, starting a job,
 * submission, query/cancel/find, directives and opening.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "buf.h"
#include "fault.h"
#include "ids.h"
#include "sched.h"
#include "sched_local_child.h"
#include "transport.h"
#include "xalloc.h"
#include "banned.h"

extern char **environ;

/* The largest spec.json read back. */
#define LOCAL_SPEC_MAX (1024 * 1024)
/* The largest small record file read back. */
#define LOCAL_SMALL_MAX 4096
/* The longest by-run key (an encoded comment), within NAME_MAX. */
#define LOCAL_KEY_MAX 200
/* Fallback bound for closing descriptors when close_range() fails. */
#define LOCAL_FD_LOOP_MAX 65536

/* The parsed cluster settings of an open local scheduler. */
struct sched_local {
	int max_jobs;	/* cluster.max_concurrent_jobs */
	int grace_s;	/* cluster.cancel_grace_s */
};

/* ------------------------------------------------------------------ */
/* Paths, records and the lock                                         */
/* ------------------------------------------------------------------ */

/* The settings of 's'. */
static const struct sched_local *settings(const struct sched *s)
{
	return s->priv;
}

/* A new string: the state directory of 's', '/', then 'fmt' and on. */
static char *state_path(const struct sched *s, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static char *state_path(const struct sched *s, const char *fmt, ...)
{
	struct buf b = BUF_INIT;
	va_list ap;

	buf_addf(&b, "%s/", s->state_dir);
	va_start(ap, fmt);
	buf_vaddf(&b, fmt, ap);
	va_end(ap);
	return buf_detach(&b, NULL);
}

/* A new string: the record file 'name' of job 'id' ("" for the dir). */
static char *job_path(const struct sched *s, const char *id,
		      const char *name)
{
	return state_path(s, "jobs/%s%s%s", id, *name ? "/" : "", name);
}

/* Whether 'path' exists. */
static int path_exists(const char *path)
{
	struct stat sb;

	return stat(path, &sb) == 0;
}

/* Whether the record file 'name' of job 'id' exists. */
static int job_has(const struct sched *s, const char *id, const char *name)
{
	char *p = job_path(s, id, name);
	int r = path_exists(p);

	free(p);
	return r;
}

/* Whether 's' is 1 to 'max' decimal digits with no leading zero. */
static int valid_number(const char *s, size_t n, size_t max)
{
	size_t i;

	if (n == 0 || n > max || s[0] == '0')
		return 0;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return 0;
	}
	return 1;
}

/*
 * Whether 'id' is a job id of ours: a number ("12"), or an array's
 * number and a task index ("12_3").
 */
static int valid_id(const char *id)
{
	const char *sep = strchr(id, '_');

	if (!sep)
		return valid_number(id, strlen(id), 19);
	return valid_number(id, (size_t)(sep - id), 19) &&
	       valid_number(sep + 1, strlen(sep + 1), 9);
}

/*
 * The by-run key of the comment 'comment' into 'out' (empty for NULL or
 * ""): letters, digits, '-' and '_' as they are, every other byte as
 * %XX, so that any comment is one safe file name.  -1 when it would be
 * longer than LOCAL_KEY_MAX.
 */
static int run_key(struct buf *out, const char *comment)
{
	const unsigned char *p;

	buf_init(out, LOCAL_KEY_MAX);
	for (p = (const unsigned char *)(comment ? comment : ""); *p; p++) {
		int r = isalnum(*p) || *p == '-' || *p == '_' ?
			buf_add(out, p, 1) : buf_addf(out, "%%%02X", *p);

		if (r < 0) {
			buf_release(out);
			return -1;
		}
	}
	return 0;
}

/*
 * Take the lock of 's' (creating the state directory as needed) and
 * put its descriptor in '*fd_out'.
 */
static int local_lock(struct sched *s, int *fd_out, struct err *err)
{
	char *p = NULL;
	int fd, ret = -1;

	*fd_out = -1;
	if (transport_mkdirs(s->t, s->state_dir, 0700, err) < 0)
		goto out;
	p = state_path(s, "lock");
	fd = open(p, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0) {
		err_set(err, ERR_IO_FAILED, "cannot open '%s': %s", p,
			strerror(errno));
		goto out;
	}
	while (flock(fd, LOCK_EX) < 0) {
		if (errno != EINTR) {
			err_set(err, ERR_IO_FAILED, "cannot lock '%s': %s", p,
				strerror(errno));
			close(fd);
			goto out;
		}
	}
	*fd_out = fd;
	ret = 0;
out:
	free(p);
	return ret;
}

/*
 * Release the lock taken by local_lock() as 'fd' (-1: none).  Unlocking
 * explicitly matters: the supervisors started under the lock may still
 * hold copies of the descriptor.
 */
static void local_unlock(int fd)
{
	if (fd < 0)
		return;
	flock(fd, LOCK_UN);
	close(fd);
}

/*
 * Draw the next job id under the lock: read <state_dir>/next_id, claim
 * the first free record directory from there, and store the one after.
 * Without the counter (lost or damaged) the claim walks from 1, which
 * costs one mkdir() per past job once.  '*id_out' is a new string.
 */
static int next_job_id(struct sched *s, char **id_out, struct err *err)
{
	struct buf text = BUF_INIT;
	struct err ignored = ERR_INIT;
	char *path = state_path(s, "next_id"), *dir = NULL;
	unsigned long long n = 1;
	char *end;
	int ret = -1;

	*id_out = NULL;
	if (transport_read_file(s->t, &text, s->state_dir, "next_id", 64,
				&ignored) == 0) {
		errno = 0;
		n = strtoull(buf_str(&text), &end, 10);
		if (errno || end == buf_str(&text) || n == 0)
			n = 1;
	}
	dir = state_path(s, "jobs");
	if (transport_mkdirs(s->t, dir, 0700, err) < 0)
		goto out;
	for (;;) {
		free(dir);
		dir = state_path(s, "jobs/%llu", n);
		if (mkdir(dir, 0700) == 0)
			break;
		if (errno != EEXIST) {
			err_set(err, ERR_IO_FAILED, "cannot create '%s': %s",
				dir, strerror(errno));
			goto out;
		}
		n++;
	}
	buf_release(&text);
	buf_addf(&text, "%llu\n", n + 1);
	if (transport_write_file(s->t, path, text.data, text.len, 0600,
				 err) < 0)
		goto out;
	buf_release(&text);
	buf_addf(&text, "%llu", n);
	*id_out = buf_detach(&text, NULL);
	ret = 0;
out:
	err_release(&ignored);
	buf_release(&text);
	free(path);
	free(dir);
	return ret;
}

/* qsort() order of job ids: numeric. */
static int id_cmp(const void *a, const void *b)
{
	const char *x = *(const char *const *)a, *y = *(const char *const *)b;
	unsigned long long nx = strtoull(x, NULL, 10), ny = strtoull(y, NULL, 10);
	const char *tx = strchr(x, '_'), *ty = strchr(y, '_');
	unsigned long long ix = tx ? strtoull(tx + 1, NULL, 10) : 0;
	unsigned long long iy = ty ? strtoull(ty + 1, NULL, 10) : 0;

	if (nx != ny)
		return nx < ny ? -1 : 1;
	if (ix != iy)
		return ix < iy ? -1 : 1;
	return 0;
}

/*
 * The job ids named by the entries of the directory 'dir' (new; other
 * names, such as temporary files, are skipped), oldest first, as a new
 * array of strings in '*out'; a missing 'dir' is an empty array.
 */
static int list_ids(json_t **out, const char *dir, struct err *err)
{
	char **ids = NULL;
	size_t n = 0, alloc = 0, i;
	struct dirent *de;
	DIR *d;

	*out = NULL;
	d = opendir(dir);
	if (!d && errno != ENOENT)
		return err_set(err, ERR_IO_FAILED, "cannot list '%s': %s", dir,
			       strerror(errno));
	while (d) {
		de = readdir(d);
		if (!de)
			break;
		if (!valid_id(de->d_name))
			continue;
		if (n == alloc) {
			alloc = alloc ? alloc * 2 : 32;
			ids = xrealloc(ids, alloc * sizeof(*ids));
		}
		ids[n++] = xstrdup(de->d_name);
	}
	if (d)
		closedir(d);
	if (n)
		qsort(ids, n, sizeof(*ids), id_cmp);
	*out = json_array();
	for (i = 0; i < n; i++) {
		json_array_append_new(*out, json_string(ids[i]));
		free(ids[i]);
	}
	free(ids);
	return 0;
}

/*
 * Read the JSON record file 'name' of job 'id' (at most 'max' bytes) as
 * a new object in '*out'; a missing file is ERR_NOT_FOUND.
 */
static int read_record(struct sched *s, json_t **out, const char *id,
		       const char *name, size_t max, struct err *err)
{
	struct buf text = BUF_INIT;
	json_error_t jerr;
	char *path = job_path(s, id, name), *dir = job_path(s, id, "");
	int ret = -1;

	*out = NULL;
	if (transport_read_file(s->t, &text, dir, name, max, err) < 0)
		goto out;
	*out = json_loadb(text.data ? text.data : "", text.len, 0, &jerr);
	if (!json_is_object(*out)) {
		json_decref(*out);
		*out = NULL;
		err_set(err, ERR_IO_FAILED, "cannot parse '%s': %s", path,
			jerr.text);
		goto out;
	}
	ret = 0;
out:
	buf_release(&text);
	free(path);
	free(dir);
	return ret;
}

/* Write the JSON 'v' as the record file 'name' of job 'id'. */
static int write_record(struct sched *s, const char *id, const char *name,
			const json_t *v, struct err *err)
{
	char *text = json_dumps(v, JSON_SORT_KEYS | JSON_INDENT(2));
	char *path = job_path(s, id, name);
	int ret;

	ret = transport_write_file(s->t, path, text, strlen(text), 0600, err);
	free(text);
	free(path);
	return ret;
}

/* Write the text 'text' as the file 'path' (a new string it frees). */
static int write_text(struct sched *s, char *path, const char *text,
		      struct err *err)
{
	int ret = transport_write_file(s->t, path, text, strlen(text), 0600,
				       err);

	free(path);
	return ret;
}

/* Remove the file 'path' (a new string it frees); missing is fine. */
static int remove_path(struct sched *s, char *path, struct err *err)
{
	int ret = transport_remove(s->t, path, err);

	free(path);
	return ret;
}

/* ------------------------------------------------------------------ */
/* Inspecting a job                                                    */
/* ------------------------------------------------------------------ */

/* What one look at a job record found. */
struct job_view {
	enum sched_state state;	/* the verdict */
	int64_t pid;		/* the job's pid, or -1 */
	json_t *exit;		/* the exit_status object (owned), or NULL */
	const char *detail;	/* static words on the evidence, or NULL */
	int queued;		/* 1 while waiting for a slot */
	int cancel_requested;	/* 1 when a cancel was asked for */
};

/* Free what 'v' owns. */
static void job_view_release(struct job_view *v)
{
	json_decref(v->exit);
	v->exit = NULL;
}

/* The state that the exit record 'exit' stands for. */
static enum sched_state exit_state(const json_t *exit)
{
	const char *reason = json_string_value(json_object_get(exit,
							       "reason"));
	const json_t *code = json_object_get(exit, "exit_code");

	if (!reason)
		return SCHED_LOST;
	if (!strcmp(reason, "cancelled"))
		return SCHED_CANCELLED;
	if (!strcmp(reason, "timed_out"))
		return SCHED_TIMED_OUT;
	if (json_is_integer(code) && json_integer_value(code) == 0)
		return SCHED_COMPLETED;
	return SCHED_FAILED;
}

/*
 * Look for the exit record of job 'id' into 'v'.  Returns 1 when found
 * (state set), 0 when there is none yet, -1 on error.
 */
static int inspect_exit(struct sched *s, const char *id, struct job_view *v,
			struct err *err)
{
	struct err e = ERR_INIT;

	if (read_record(s, &v->exit, id, "exit_status", LOCAL_SMALL_MAX,
			&e) == 0) {
		v->state = exit_state(v->exit);
		if (v->state == SCHED_LOST)
			v->detail = "the exit record is unreadable";
		err_release(&e);
		return 1;
	}
	if (e.code == ERR_NOT_FOUND) {
		err_release(&e);
		return 0;
	}
	if (e.code == ERR_IO_FAILED && job_has(s, id, "exit_status")) {
		/* There, but not JSON: the supervisor died writing it? */
		v->state = SCHED_LOST;
		v->detail = "the exit record is unreadable";
		err_release(&e);
		return 1;
	}
	err_set(err, e.code, "%s", e.message);
	err_release(&e);
	return -1;
}

/* Read the numbers of the record file 'name' of job 'id'; 0 or -1. */
static int job_numbers(const struct sched *s, const char *id,
		       const char *name, uint64_t *a, uint64_t *b)
{
	char *path = job_path(s, id, name);
	int r = sched_local_read_numbers(path, a, b);

	free(path);
	return r;
}

/*
 * The task count of the array job 'id' (its jobs/<id>/array record), or
 * 0 when 'id' is not an array that was committed.
 */
static int array_size_of(struct sched *s, const char *id)
{
	uint64_t n = 0;

	if (strchr(id, '_') || job_numbers(s, id, "array", &n, NULL) < 0 ||
	    n > INT_MAX)
		return 0;
	return (int)n;
}

/* 0 for a task of an array whose submission did not finish; else 1. */
static int task_committed(struct sched *s, const char *id)
{
	const char *sep = strchr(id, '_');
	char base[32];

	if (!sep)
		return 1;
	if ((size_t)(sep - id) >= sizeof(base))
		return 0;
	memcpy(base, id, (size_t)(sep - id));
	base[sep - id] = '\0';
	return array_size_of(s, base) >= (int)strtol(sep + 1, NULL, 10);
}

/*
 * Decide the state of the job 'id' into 'v' (zeroed by the caller),
 * looking at that job's record only, under the lock: no spec.json, no
 * job; else its exit record; else no supervisor record means queued;
 * else whether its processes are alive, checked against their start
 * times.  Starts are finished under the lock (sched_local_child.h), so
 * a supervisor record without a live supervisor and without an exit
 * record is a job that really vanished.
 */
static int job_inspect(struct sched *s, const char *id, struct job_view *v,
		       struct err *err)
{
	uint64_t pid = 0, start = 0, sup = 0, sup_start = 0;
	int have_pid, have_sup, r;

	v->state = SCHED_UNKNOWN;
	v->pid = -1;
	if (!valid_id(id) || !job_has(s, id, "spec.json") ||
	    !task_committed(s, id)) {
		v->detail = "no such job";
		return 0;
	}
	v->cancel_requested = job_has(s, id, "cancel_requested");
	have_pid = job_numbers(s, id, "pid", &pid, NULL) == 0;
	if (have_pid)
		v->pid = (int64_t)pid;
	r = inspect_exit(s, id, v, err);
	if (r != 0)
		return r < 0 ? -1 : 0;
	if (!job_has(s, id, "supervisor")) {
		v->state = SCHED_PENDING;
		v->detail = "queued";
		v->queued = 1;
		return 0;
	}
	if (have_pid && job_numbers(s, id, "start_time", &start, NULL) == 0 &&
	    sched_local_proc_alive(pid, start)) {
		v->state = SCHED_RUNNING;
		return 0;
	}
	have_sup = job_numbers(s, id, "supervisor", &sup, &sup_start) == 0 &&
		   sched_local_proc_alive(sup, sup_start);
	/* The supervisor may have written exit_status since we looked. */
	r = inspect_exit(s, id, v, err);
	if (r != 0)
		return r < 0 ? -1 : 0;
	if (have_sup) {
		v->state = have_pid ? SCHED_RUNNING : SCHED_PENDING;
		v->detail = have_pid ? "ending" : "starting";
		return 0;
	}
	v->state = SCHED_LOST;
	v->detail = "the job and its supervisor are gone and left no exit "
		    "record";
	return 0;
}

/* The evidence object for the look 'v', a new reference. */
static json_t *evidence_of(const struct job_view *v)
{
	char now[IDS_TIME_LEN];
	json_t *e = json_object();
	json_t *code = json_object_get(v->exit, "exit_code");
	json_t *sig = json_object_get(v->exit, "signal");
	json_t *reason = json_object_get(v->exit, "reason");

	ids_now(now);
	json_object_set_new(e, "source", json_string("local"));
	json_object_set_new(e, "pid", v->pid >= 0 ?
			    json_integer(v->pid) : json_null());
	json_object_set_new(e, "exit_code", json_is_integer(code) ?
			    json_incref(code) : json_null());
	json_object_set_new(e, "signal", json_is_integer(sig) ?
			    json_incref(sig) : json_null());
	json_object_set_new(e, "reason", json_is_string(reason) ?
			    json_incref(reason) : json_null());
	if (json_is_string(json_object_get(v->exit, "ended_at")))
		json_object_set(e, "ended_at",
				json_object_get(v->exit, "ended_at"));
	if (v->detail)
		json_object_set_new(e, "detail", json_string(v->detail));
	if (v->cancel_requested)
		json_object_set_new(e, "cancel_requested", json_true());
	json_object_set_new(e, "checked_at", json_string(now));
	return e;
}

/* ------------------------------------------------------------------ */
/* Starting a job                                                      */
/* ------------------------------------------------------------------ */

/* Free what 'l' holds. */
static void launch_release(struct sched_local_launch *l)
{
	size_t i;

	free(l->sup_path);
	free(l->sup_tmp);
	free(l->pid_path);
	free(l->pid_tmp);
	free(l->start_path);
	free(l->start_tmp);
	free(l->exit_path);
	free(l->exit_tmp);
	free(l->cancel_path);
	free(l->workdir);
	free(l->stdout_path);
	free(l->stderr_path);
	free(l->argv[0]);
	free(l->argv[1]);
	for (i = 0; l->envp && l->envp[i]; i++)
		free(l->envp[i]);
	free(l->envp);
	memset(l, 0, sizeof(*l));
}

/*
 * 1 for variables that must not reach a job: hpcloop's own settings and
 * secrets (HPCLOOP_ORCHESTRATOR_SECRET and the like).  The agent inside
 * a job runs whatever it decides to, so it must not be able to read them.
 */
static int env_withheld(const char *name, size_t len)
{
	return len >= 8 && !strncmp(name, "HPCLOOP_", 8);
}

/*
 * The environment of the submitting process as a new object, kept with
 * the submission so that a job started later from the queue (by another
 * process) runs with it, as sbatch's --export=ALL does, less the
 * variables env_withheld() names.
 */
static json_t *submit_environ(void)
{
	json_t *env = json_object();
	size_t i;

	for (i = 0; environ && environ[i]; i++) {
		const char *eq = strchr(environ[i], '=');
		json_t *v;

		if (!eq || env_withheld(environ[i],
					 (size_t)(eq - environ[i])))
			continue;
		v = json_string(eq + 1);
		if (v)	/* a value that is not UTF-8 is left out */
			json_object_setn_new(env, environ[i],
					     (size_t)(eq - environ[i]), v);
	}
	return env;
}

/*
 * The job's environment: the submitter's 'base' (an object of strings;
 * NULL: this process's), with the variables of 'env' (may be NULL)
 * added or replacing.  A new NULL-terminated array of new strings.
 */
static char **build_envp(const json_t *base, const json_t *env)
{
	size_t n = 0, i, k = 0;
	const char *key, *eq;
	json_t *value;
	char **envp;
	struct buf b = BUF_INIT;

	if (base) {
		n = json_object_size(base);
	} else {
		while (environ && environ[n])
			n++;
	}
	envp = xcalloc(n + json_object_size(env) + 1, sizeof(*envp));
	if (base) {
		json_object_foreach((json_t *)base, key, value) {
			if (json_object_get(env, key))
				continue;
			buf_addf(&b, "%s=%s", key, json_string_value(value));
			envp[k++] = buf_detach(&b, NULL);
		}
	}
	for (i = 0; !base && i < n; i++) {
		eq = strchr(environ[i], '=');
		if (eq && (json_object_getn(env, environ[i],
					    (size_t)(eq - environ[i])) ||
			   env_withheld(environ[i],
					(size_t)(eq - environ[i]))))
			continue;
		envp[k++] = xstrdup(environ[i]);
	}
	json_object_foreach((json_t *)env, key, value) {
		buf_addf(&b, "%s=%s", key, json_string_value(value));
		envp[k++] = buf_detach(&b, NULL);
	}
	return envp;
}

/*
 * Fill 'l' for job 'id' from its submission 'spec', to be started while
 * 'lock_fd' is held.
 */
static void launch_prepare(struct sched *s, struct sched_local_launch *l,
			   const char *id, const json_t *spec, int lock_fd)
{
	const char *str;
	struct rlimit rl;

	memset(l, 0, sizeof(*l));
	l->sup_path = job_path(s, id, "supervisor");
	l->sup_tmp = job_path(s, id, ".supervisor.tmp");
	l->pid_path = job_path(s, id, "pid");
	l->pid_tmp = job_path(s, id, ".pid.tmp");
	l->start_path = job_path(s, id, "start_time");
	l->start_tmp = job_path(s, id, ".start_time.tmp");
	l->exit_path = job_path(s, id, "exit_status");
	l->exit_tmp = job_path(s, id, ".exit_status.tmp");
	l->cancel_path = job_path(s, id, "cancel_requested");
	str = json_string_value(json_object_get(spec, "workdir"));
	l->workdir = xstrdup(str ? str : "/");
	str = json_string_value(json_object_get(spec, "stdout"));
	l->stdout_path = str ? xstrdup(str) : job_path(s, id, "stdout");
	str = json_string_value(json_object_get(spec, "stderr"));
	l->stderr_path = str ? xstrdup(str) : job_path(s, id, "stderr");
	l->argv[0] = xstrdup("bash");
	str = json_string_value(json_object_get(spec, "script"));
	l->argv[1] = xstrdup(str ? str : "/dev/null");
	l->argv[2] = NULL;
	l->envp = build_envp(json_object_get(spec, "environ"),
			     json_object_get(spec, "env"));
	l->time_limit_s = (int)json_integer_value(json_object_get(
		spec, "time_limit_s"));
	l->grace_s = settings(s)->grace_s;
	l->lock_fd = lock_fd;
	l->fd_max = LOCAL_FD_LOOP_MAX;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 &&
	    rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < LOCAL_FD_LOOP_MAX)
		l->fd_max = (int)rl.rlim_cur;
}

/*
 * Wait until the start forked by sched_local_fork() is over: reap the
 * intermediate 'child' and read 'ready_fd' to its end, which comes once
 * the supervisor and the job have recorded themselves or given up.
 * Their steps before that are a few writes to the record, so this does
 * not wait on the job.  Closes 'ready_fd'.
 */
static void wait_started(pid_t child, int ready_fd)
{
	char c;
	ssize_t n;

	while (waitpid(child, NULL, 0) < 0 && errno == EINTR)
		;	/* ECHILD: SIGCHLD is ignored, reaped for us */
	do {
		n = read(ready_fd, &c, 1);
	} while (n > 0 || (n < 0 && errno == EINTR));
	close(ready_fd);
}

/*
 * Start the queued job 'id' (called while holding the lock 'lock_fd'):
 * fork its supervisor and wait until it and the job have recorded
 * themselves, so that a query right after sees the job running.  A job
 * whose supervisor could not record itself has no supervisor record,
 * so it is still queued: ERR_SCHEDULER_UNAVAILABLE.
 */
static int start_job(struct sched *s, const char *id, int lock_fd,
		     struct err *err)
{
	struct sched_local_launch l;
	json_t *spec = NULL;
	pid_t child;
	int ready_fd, ret = -1;

	memset(&l, 0, sizeof(l));
	if (read_record(s, &spec, id, "spec.json", LOCAL_SPEC_MAX, err) < 0)
		goto out;
	launch_prepare(s, &l, id, spec, lock_fd);
	if (sched_local_fork(&l, &child, &ready_fd) < 0) {
		err_set(err, ERR_SCHEDULER_UNAVAILABLE,
			"cannot start local job %s: %s", id, strerror(errno));
		goto out;
	}
	fault_point("local.after_fork");
	wait_started(child, ready_fd);
	if (!path_exists(l.sup_path)) {
		err_set(err, ERR_SCHEDULER_UNAVAILABLE,
			"cannot start local job %s: its supervisor could not "
			"start", id);
		goto out;
	}
	fault_point("local.after_pid");
	ret = 0;
out:
	launch_release(&l);
	json_decref(spec);
	return ret;
}

/*
 * Take job 'id' out of the live index (under the lock).  'committed' 0
 * is a submission killed before its spec.json was written: its by-run
 * entry goes too, named by the key the live entry holds.
 */
static int drop_live(struct sched *s, const char *id, int committed,
		     struct err *err)
{
	struct buf key = BUF_INIT;
	struct err ignored = ERR_INIT;
	char *live = state_path(s, "live/%s", id);
	char *live_dir = state_path(s, "live");
	int ret = -1;

	if (!committed &&
	    transport_read_file(s->t, &key, live_dir, id, LOCAL_KEY_MAX + 2,
				&ignored) == 0 && key.len > 1 &&
	    key.data[key.len - 1] == '\n') {
		key.data[--key.len] = '\0';
		if (!strchr(key.data, '/') && key.data[0] != '.' &&
		    remove_path(s, state_path(s, "by-run/%s/%s", key.data,
					      id), err) < 0)
			goto out;
	}
	ret = transport_remove(s->t, live, err);
out:
	err_release(&ignored);
	buf_release(&key);
	free(live);
	free(live_dir);
	return ret;
}

/*
 * Whether every job 'spec' (a queued job's spec.json) waits for has
 * ended, in any way; a whole array counts when all its tasks have.
 * 'ended' caches the answers of one look, by job id.
 */
static int waits_over(struct sched *s, const json_t *spec, json_t *ended,
		      struct err *err)
{
	const json_t *after = json_object_get(spec, "after"), *v;
	struct job_view view;
	size_t i;

	json_array_foreach(after, i, v) {
		const char *id = json_string_value(v);
		const json_t *known = json_object_get(ended, id);
		int n, k, over = 1;

		if (!id || !valid_id(id))
			continue;
		if (known) {
			if (!json_is_true(known))
				return 0;
			continue;
		}
		n = array_size_of(s, id);
		for (k = n ? 1 : 0; over && k <= n; k++) {
			char *task = NULL;

			if (n) {
				struct buf b = BUF_INIT;

				buf_addf(&b, "%s_%d", id, k);
				task = buf_detach(&b, NULL);
			}
			memset(&view, 0, sizeof(view));
			if (job_inspect(s, task ? task : id, &view, err) < 0) {
				free(task);
				return -1;
			}
			over = view.state != SCHED_PENDING &&
			       view.state != SCHED_RUNNING &&
			       view.state != SCHED_REQUEUED;
			job_view_release(&view);
			free(task);
		}
		json_object_set_new(ended, id, json_boolean(over));
		if (!over)
			return 0;
	}
	return 1;
}

/* The array an id belongs to ("12" of "12_3"), in 'out'; "" if none. */
static void array_of(char out[32], const char *id)
{
	const char *sep = strchr(id, '_');
	size_t n = sep ? (size_t)(sep - id) : 0;

	if (n >= 32)
		n = 0;
	memcpy(out, id, n);
	out[n] = '\0';
}

/*
 * Look at every live job (called under the lock 'lock_fd'): drop from
 * the index those that ended or never came to exist, count those
 * started, and start queued ones, oldest first, while fewer than
 * max_concurrent_jobs are active, skipping a task whose array already
 * runs its limit and a job still waiting for others to end.
 */
static int advance_queue(struct sched *s, int lock_fd, struct err *err)
{
	json_t *ids = NULL, *queued = json_array(), *v;
	json_t *per_array = json_object(), *ended = json_object();
	json_t *spec = NULL;
	struct job_view view;
	char *dir = state_path(s, "live");
	char base[32];
	size_t i;
	int active = 0, ret = -1;

	memset(&view, 0, sizeof(view));
	if (list_ids(&ids, dir, err) < 0)
		goto out;
	json_array_foreach(ids, i, v) {
		const char *id = json_string_value(v);

		memset(&view, 0, sizeof(view));
		if (job_inspect(s, id, &view, err) < 0)
			goto out;
		if (view.queued) {
			json_array_append(queued, v);
		} else if (view.state == SCHED_RUNNING ||
			   view.state == SCHED_PENDING) {
			active++;
			array_of(base, id);
			if (*base)
				json_object_set_new(per_array, base, json_integer(
					json_integer_value(json_object_get(
						per_array, base)) + 1));
		} else if (drop_live(s, id, view.state != SCHED_UNKNOWN ||
					       array_size_of(s, id) > 0,
				     err) < 0) {
			/* an array's own entry: its tasks are the jobs */
			goto out;
		}
		job_view_release(&view);
	}
	json_array_foreach(queued, i, v) {
		const char *id = json_string_value(v);
		json_int_t limit, running;
		int over;

		if (active >= settings(s)->max_jobs)
			break;
		json_decref(spec);
		spec = NULL;
		if (read_record(s, &spec, id, "spec.json", LOCAL_SPEC_MAX,
				err) < 0)
			goto out;
		array_of(base, id);
		limit = json_integer_value(json_object_get(spec, "array_limit"));
		running = *base ? json_integer_value(json_object_get(per_array,
								     base))
				: 0;
		if (limit > 0 && running >= limit)
			continue;
		over = waits_over(s, spec, ended, err);
		if (over < 0)
			goto out;
		if (!over)
			continue;
		if (start_job(s, id, lock_fd, err) < 0)
			goto out;
		active++;
		if (*base)
			json_object_set_new(per_array, base,
					    json_integer(running + 1));
	}
	ret = 0;
out:
	job_view_release(&view);
	json_decref(spec);
	json_decref(ids);
	json_decref(queued);
	json_decref(per_array);
	json_decref(ended);
	free(dir);
	return ret;
}

/* ------------------------------------------------------------------ */
/* Submission                                                          */
/* ------------------------------------------------------------------ */

/*
 * Parse the Slurm-style time 's' ("M", "M:S", "H:M:S", "D-H", "D-H:M",
 * "D-H:M:S") into seconds in '*out'.  Returns 0 or -1.
 */
static int parse_time(const char *s, int *out)
{
	uint64_t part[3], days = 0, total;
	const char *p = s;
	int n = 0;

	if (strchr(s, '-')) {
		if (sched_local_parse_u64(&p, &days) < 0 || *p != '-')
			return -1;
		p++;
	}
	for (;;) {
		if (n == 3 || sched_local_parse_u64(&p, &part[n]) < 0)
			return -1;
		n++;
		if (!*p)
			break;
		if (*p != ':')
			return -1;
		p++;
	}
	if (days > 3650 || part[0] > 1000000 || (n > 1 && part[1] > 1000000) ||
	    (n > 2 && part[2] > 1000000))
		return -1;
	if (strchr(s, '-'))
		total = days * 86400 + part[0] * 3600 +
			(n > 1 ? part[1] * 60 : 0) + (n > 2 ? part[2] : 0);
	else if (n == 1)
		total = part[0] * 60;
	else if (n == 2)
		total = part[0] * 60 + part[1];
	else
		total = part[0] * 3600 + part[1] * 60 + part[2];
	if (total > INT_MAX)
		return -1;
	*out = (int)total;
	return 0;
}

/* The time limit of 'req': its own, else job_options "time", else 0. */
static int submit_time_limit(const struct sched_submit *req, int *out,
			     struct err *err)
{
	const json_t *t = json_object_get(req->job_options, "time");
	const char *text = json_string_value(t);

	*out = req->time_limit_s > 0 ? req->time_limit_s : 0;
	if (*out || !t)
		return 0;
	if (json_is_integer(t) && json_integer_value(t) > 0 &&
	    json_integer_value(t) <= INT_MAX / 60) {
		*out = (int)json_integer_value(t) * 60;
		return 0;
	}
	if (text && (!strcmp(text, "UNLIMITED") || !strcmp(text, "infinite")))
		return 0;
	if (!text || parse_time(text, out) < 0)
		return err_set(err, ERR_SCHEDULER_REJECTED,
			       "invalid job option time '%s'",
			       text ? text : "(not a string)");
	return 0;
}

/* Check the environment 'env' of a submission: names and string values. */
static int check_env(const json_t *env, struct err *err)
{
	const char *key, *k;
	json_t *value;

	if (!env)
		return 0;
	if (!json_is_object(env))
		return err_set(err, ERR_SCHEDULER_REJECTED,
			       "job environment is not an object");
	json_object_foreach((json_t *)env, key, value) {
		int ok = isalpha((unsigned char)key[0]) || key[0] == '_';

		for (k = key; ok && *k; k++)
			ok = isalnum((unsigned char)*k) || *k == '_';
		if (!ok)
			return err_set(err, ERR_SCHEDULER_REJECTED,
				       "invalid environment variable name "
				       "'%s'", key);
		if (!json_is_string(value) ||
		    strlen(json_string_value(value)) !=
		    json_string_length(value))
			return err_set(err, ERR_SCHEDULER_REJECTED,
				       "environment variable '%s' is not a "
				       "string", key);
	}
	return 0;
}

/* 'path' made absolute against the working directory; a new string. */
static char *absolute(const char *path)
{
	struct buf b = BUF_INIT;
	char *cwd;

	if (path[0] == '/')
		return xstrdup(path);
	cwd = getcwd(NULL, 0);
	buf_addf(&b, "%s/%s", cwd ? cwd : ".", path);
	free(cwd);
	return buf_detach(&b, NULL);
}

/* Set 'key' of 'spec' to 'path' made absolute, or null when NULL. */
static void set_path(json_t *spec, const char *key, const char *path)
{
	char *abs;

	if (!path) {
		json_object_set_new(spec, key, json_null());
		return;
	}
	abs = absolute(path);
	json_object_set_new(spec, key, json_string(abs));
	free(abs);
}

/* Check 'req' and turn it into the spec.json object in '*out'. */
static int submit_spec(json_t **out, const struct sched_submit *req,
		       struct err *err)
{
	char now[IDS_TIME_LEN];
	struct stat sb;
	json_t *spec;
	int limit;

	*out = NULL;
	if (!req->workdir || !req->script_path)
		return err_set(err, ERR_INTERNAL,
			       "a job needs a workdir and a script");
	if (stat(req->workdir, &sb) < 0 || !S_ISDIR(sb.st_mode))
		return err_set(err, ERR_PRECONDITION_FAILED,
			       "job directory '%s' does not exist",
			       req->workdir);
	if (stat(req->script_path, &sb) < 0 || !S_ISREG(sb.st_mode))
		return err_set(err, ERR_PRECONDITION_FAILED,
			       "job script '%s' does not exist",
			       req->script_path);
	if (submit_time_limit(req, &limit, err) < 0 ||
	    check_env(req->env, err) < 0)
		return -1;
	ids_now(now);
	spec = json_object();
	json_object_set_new(spec, "name", req->name ?
			    json_string(req->name) : json_null());
	json_object_set_new(spec, "comment", req->comment ?
			    json_string(req->comment) : json_null());
	set_path(spec, "workdir", req->workdir);
	set_path(spec, "script", req->script_path);
	set_path(spec, "stdout", req->stdout_path);
	set_path(spec, "stderr", req->stderr_path);
	json_object_set_new(spec, "time_limit_s", json_integer(limit));
	json_object_set_new(spec, "env", req->env ?
			    json_deep_copy(req->env) : json_object());
	json_object_set_new(spec, "environ", submit_environ());
	json_object_set_new(spec, "submitted_at", json_string(now));
	json_object_set_new(spec, "after", req->after ?
			    json_deep_copy(req->after) : json_array());
	json_object_set_new(spec, "array_limit",
			    json_integer(req->array_size ? req->array_limit : 0));
	*out = spec;
	return 0;
}

/*
 * The tasks 1..'n' of the array 'id' (under the lock): a live entry and
 * a spec.json (a copy of 'spec' with the task's index) for each, then
 * the array record, which commits them all at once: killed before it,
 * no task exists (job_inspect) and the next look drops their entries.
 */
static int submit_tasks(struct sched *s, const char *id, const json_t *spec,
			int n, struct err *err)
{
	struct buf b = BUF_INIT;
	json_t *task = NULL;
	int i, ret = -1;

	for (i = 1; i <= n; i++) {
		buf_truncate(&b, 0);
		buf_addf(&b, "%s_%d", id, i);
		if (write_text(s, state_path(s, "live/%s", b.data), "\n",
			       err) < 0)
			goto out;
		json_decref(task);
		task = json_deep_copy(spec);
		json_object_set_new(json_object_get(task, "env"),
				    "HPCLOOP_ARRAY_TASK_ID",
				    json_string(b.data + strlen(id) + 1));
		if (write_record(s, b.data, "spec.json", task, err) < 0)
			goto out;
	}
	fault_point("local.after_tasks");
	buf_truncate(&b, 0);
	buf_addf(&b, "%d\n", n);
	ret = write_text(s, job_path(s, id, "array"), b.data, err);
out:
	json_decref(task);
	buf_release(&b);
	return ret;
}

/*
 * Submit 'req' (see struct sched_ops): under the lock, claim an id, add
 * it to the live index (first, so that whatever a crash leaves is
 * reachable from there) and the by-run index, then write spec.json, the
 * commit (see the top of this file); then start queued jobs while slots
 * are free.  A start that fails leaves the job queued for the next query,
 * which reports the failure.
 */
static int local_submit(struct sched *s, char **job_id_out,
			const struct sched_submit *req, struct err *err)
{
	struct err start_err = ERR_INIT;
	struct buf key = BUF_INIT, entry = BUF_INIT;
	json_t *spec = NULL;
	char *id = NULL;
	int fd = -1, ret = -1;

	*job_id_out = NULL;
	if (submit_spec(&spec, req, err) < 0)
		goto out;
	if (run_key(&key, req->comment) < 0) {
		err_set(err, ERR_SCHEDULER_REJECTED, "job comment is longer "
			"than the local scheduler keeps");
		goto out;
	}
	if (local_lock(s, &fd, err) < 0 || next_job_id(s, &id, err) < 0)
		goto out;
	fault_point("local.after_id");
	buf_addf(&entry, "%s\n", buf_str(&key));
	if (write_text(s, state_path(s, "live/%s", id), buf_str(&entry),
		       err) < 0)
		goto out;
	fault_point("local.after_live");
	if (key.len && write_text(s, state_path(s, "by-run/%s/%s",
						buf_str(&key), id), "",
				  err) < 0)
		goto out;
	fault_point("local.after_by_run");
	if (req->array_size > 0) {
		if (submit_tasks(s, id, spec, req->array_size, err) < 0)
			goto out;
	} else if (write_record(s, id, "spec.json", spec, err) < 0) {
		goto out;
	}
	fault_point("local.after_record");
	if (advance_queue(s, fd, &start_err) < 0)
		err_clear(&start_err);
	*job_id_out = id;
	id = NULL;
	ret = 0;
out:
	local_unlock(fd);
	err_release(&start_err);
	buf_release(&key);
	buf_release(&entry);
	json_decref(spec);
	free(id);
	return ret;
}

/* ------------------------------------------------------------------ */
/* Query, cancel, find                                                 */
/* ------------------------------------------------------------------ */

/* Every element of 'job_ids' must be a string. */
static int check_ids(const json_t *job_ids, struct err *err)
{
	size_t i;
	json_t *v;

	json_array_foreach((json_t *)job_ids, i, v) {
		if (!json_is_string(v))
			return err_set(err, ERR_INTERNAL,
				       "job ids must be strings");
	}
	return 0;
}

/*
 * The states of 'job_ids' (see struct sched_ops), after a queue step:
 * each id is one direct look at its own record, live or not.
 */
static int local_query(struct sched *s, json_t **out, const json_t *job_ids,
		       struct err *err)
{
	json_t *result = NULL, *v;
	struct job_view view;
	size_t i;
	int fd = -1, ret = -1;

	*out = NULL;
	memset(&view, 0, sizeof(view));
	if (check_ids(job_ids, err) < 0 || local_lock(s, &fd, err) < 0 ||
	    advance_queue(s, fd, err) < 0)
		goto out;
	result = json_object();
	json_array_foreach((json_t *)job_ids, i, v) {
		const char *id = json_string_value(v);

		memset(&view, 0, sizeof(view));
		if (job_inspect(s, id, &view, err) < 0)
			goto out;
		json_object_set_new(result, id, json_pack(
			"{s:s, s:o}", "state", sched_state_name(view.state),
			"evidence", evidence_of(&view)));
		job_view_release(&view);
	}
	*out = result;
	result = NULL;
	ret = 0;
out:
	job_view_release(&view);
	local_unlock(fd);
	json_decref(result);
	return ret;
}

/*
 * Cancel the job 'id' (under the lock): a queued job ends at once; a
 * started one gets the cancel marker (read by its supervisor, which
 * kills it after the grace period) and SIGTERM to its process group.
 * A started job always has its pid recorded here: starts finish under
 * the lock.
 */
static int cancel_one(struct sched *s, const char *id, struct err *err)
{
	char now[IDS_TIME_LEN], grace[32];
	uint64_t pid, start;
	json_t *exit = NULL;
	int ret = -1;

	if (!valid_id(id) || !job_has(s, id, "spec.json") ||
	    job_has(s, id, "exit_status"))
		return 0;
	if (!job_has(s, id, "supervisor")) {
		ids_now(now);
		exit = json_pack("{s:n, s:n, s:s, s:s}", "exit_code",
				 "signal", "reason", "cancelled", "ended_at",
				 now);
		ret = write_record(s, id, "exit_status", exit, err);
		goto out;
	}
	snprintf(grace, sizeof(grace), "%d\n", settings(s)->grace_s);
	if (write_text(s, job_path(s, id, "cancel_requested"), grace,
		       err) < 0)
		goto out;
	if (job_numbers(s, id, "pid", &pid, NULL) == 0 &&
	    job_numbers(s, id, "start_time", &start, NULL) == 0 &&
	    sched_local_proc_alive(pid, start))
		kill(-(pid_t)pid, SIGTERM);
	ret = 0;
out:
	json_decref(exit);
	return ret;
}

/* Cancel each of 'job_ids' (see struct sched_ops). */
static int local_cancel(struct sched *s, const json_t *job_ids,
			struct err *err)
{
	size_t i;
	json_t *v;
	int fd = -1, ret = -1;

	if (check_ids(job_ids, err) < 0 || local_lock(s, &fd, err) < 0)
		goto out;
	json_array_foreach((json_t *)job_ids, i, v) {
		const char *id = json_string_value(v);
		int n = array_size_of(s, id), k;

		for (k = 1; k <= n; k++) {
			struct buf task = BUF_INIT;
			int r;

			buf_addf(&task, "%s_%d", id, k);
			r = cancel_one(s, task.data, err);
			buf_release(&task);
			if (r < 0)
				goto out;
		}
		if (!n && cancel_one(s, id, err) < 0)
			goto out;
	}
	ret = 0;
out:
	local_unlock(fd);
	return ret;
}

/*
 * The ids of the jobs submitted with the comment 'run_id' (see struct
 * sched_ops): the entries of its one by-run directory whose spec.json
 * exists, read under the lock so that no submission is half-way.
 */
static int local_find(struct sched *s, json_t **out, const char *run_id,
		      struct err *err)
{
	struct buf key = BUF_INIT;
	json_t *ids = NULL, *found = NULL, *v;
	char *dir = NULL;
	size_t i;
	int fd = -1, ret = -1;

	*out = NULL;
	found = json_array();
	if (run_key(&key, run_id) < 0) {
		ret = 0;	/* too long to have been submitted */
		goto out;
	}
	dir = state_path(s, "by-run/%s", buf_str(&key));
	if (local_lock(s, &fd, err) < 0 || list_ids(&ids, dir, err) < 0)
		goto out;
	json_array_foreach(ids, i, v) {
		if (job_has(s, json_string_value(v), "spec.json") ||
		    array_size_of(s, json_string_value(v)) > 0)
			json_array_append(found, v);
	}
	ret = 0;
out:
	local_unlock(fd);
	if (ret == 0) {
		*out = found;
		found = NULL;
	}
	json_decref(found);
	json_decref(ids);
	buf_release(&key);
	free(dir);
	return ret;
}

/* ------------------------------------------------------------------ */
/* Directives and opening                                              */
/* ------------------------------------------------------------------ */

/*
 * The header lines of a local job script (see struct sched_ops): none.
 * The local scheduler reads its options ("time") from the submission.
 */
static int local_directives(struct buf *out, const struct sched_submit *req,
			    struct err *err)
{
	(void)out;
	(void)req;
	(void)err;
	return 0;
}

/*
 * Set '*out' to the integer setting 'key' of the cluster of 's', which
 * must be there (config loading fills in the defaults of
 * schemas/config.json) and at least 'min'.
 */
static int cluster_setting(const struct sched *s, int *out, const char *key,
			   int min, struct err *err)
{
	const json_t *v = json_object_get(s->cluster, key);

	if (!v)
		return err_set(err, ERR_CONFIG_INVALID,
			       "clusters.%s.%s is missing", s->cluster_name,
			       key);
	if (!json_is_integer(v) || json_integer_value(v) < min ||
	    json_integer_value(v) > INT_MAX)
		return err_set(err, ERR_CONFIG_INVALID,
			       "clusters.%s.%s must be an integer of at "
			       "least %d", s->cluster_name, key, min);
	*out = (int)json_integer_value(v);
	return 0;
}

/* Check that 's' runs over the local transport and read its settings. */
static int local_open(struct sched *s, struct err *err)
{
	struct sched_local *l;
	char *abs;

	if (!s->t || strcmp(transport_name(s->t), "local"))
		return err_set(err, ERR_CONFIG_INVALID,
			       "cluster '%s': the local scheduler needs the "
			       "local transport", s->cluster_name);
	if (!*s->state_dir)
		return err_set(err, ERR_INTERNAL,
			       "the local scheduler needs a state directory");
	l = xcalloc(1, sizeof(*l));
	if (cluster_setting(s, &l->max_jobs, "max_concurrent_jobs", 1,
			    err) < 0 ||
	    cluster_setting(s, &l->grace_s, "cancel_grace_s", 0, err) < 0) {
		free(l);
		return -1;
	}
	abs = absolute(s->state_dir);
	free(s->state_dir);
	s->state_dir = abs;
	s->priv = l;
	return 0;
}

/* Free the settings of 's'. */
static void local_release(struct sched *s)
{
	free(s->priv);
	s->priv = NULL;
}

const struct sched_ops sched_local_ops = {
	.name = "local",
	.task_sep = '_',
	.task_index_env = "HPCLOOP_ARRAY_TASK_ID",
	.shared = 0,
	.open = local_open,
	.directives = local_directives,
	.submit = local_submit,
	.query = local_query,
	.cancel = local_cancel,
	.find = local_find,
	.release = local_release,
};
