/*
 * test_sched_local.c: unit tests for the scheduler interface (sched.h)
 * and the local scheduler (sched_local.c, sched_local_child.c):
 * detached jobs and their pid records, the states pending, running,
 * completed, failed, timed_out, cancelled, lost and unknown with their
 * evidence, the queue under max_concurrent_jobs, cancel killing the
 * whole process group, ids that never repeat, find by comment, the
 * settings a cluster must give, past records left out of every look,
 * and a submission killed at each of its fault points.  Every wait
 * polls with a generous limit; nothing asserts how long a step took.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "buf.h"
#include "err.h"
#include "sched.h"
#include "transport.h"
#include "xalloc.h"
#include "banned.h"

/* The scratch directory of the whole run, made by group_setup(). */
static char tmpdir[] = "/tmp/test_sched_local.XXXXXX";

/* How long any wait in these tests may last, in seconds. */
#define WAIT_S 15

/* One test's world: a transport, a scheduler and its directories. */
struct world {
	struct transport *t;	/* local */
	struct sched *s;	/* local scheduler */
	char dir[512];		/* the test's own directory */
	char state[600];	/* the scheduler's state directory */
};

/* Sleep a twentieth of a second. */
static void tick(void)
{
	struct timespec step = { 0, 50 * 1000 * 1000 };

	nanosleep(&step, NULL);
}

/*
 * A complete local cluster object, as config loading makes one: every
 * setting the local scheduler reads is there.
 */
static json_t *cluster_conf(int max_jobs, int grace_s)
{
	return json_pack("{s:s, s:s, s:s, s:i, s:i}", "transport", "local",
			 "scheduler", "local", "working_dir", "sprints",
			 "max_concurrent_jobs", max_jobs, "cancel_grace_s",
			 grace_s);
}

/*
 * Set up 'w' in the directory 'name' of tmpdir with a local scheduler
 * running at most 'max_jobs' jobs at once, with a cancel grace of
 * 'grace_s' seconds.
 */
static void world_open(struct world *w, const char *name, int max_jobs,
		       int grace_s)
{
	struct err err = ERR_INIT;
	json_t *conf = cluster_conf(max_jobs, grace_s);

	snprintf(w->dir, sizeof(w->dir), "%s/%s", tmpdir, name);
	snprintf(w->state, sizeof(w->state), "%s/.hpcloop-local", w->dir);
	assert_int_equal(mkdir(w->dir, 0700), 0);
	assert_int_equal(transport_open(&w->t, conf, &err), 0);
	assert_int_equal(sched_open(&w->s, w->t, conf, "here", w->state,
				    &err), 0);
	assert_string_equal(w->s->ops->name, "local");
	json_decref(conf);
}

/* Close what 'w' opened. */
static void world_close(struct world *w)
{
	sched_close(w->s);
	transport_close(w->t);
}

/* The path of 'name' in the test's directory, in 'out' of 'size'. */
static void world_path(const struct world *w, char *out, size_t size,
		       const char *name)
{
	snprintf(out, size, "%s/%s", w->dir, name);
}

/* Whether the file 'name' exists in the test's directory. */
static int world_has(const struct world *w, const char *name)
{
	char path[700];
	struct stat sb;

	world_path(w, path, sizeof(path), name);
	return stat(path, &sb) == 0;
}

/* Create the empty file 'name' in the test's directory. */
static void world_touch(const struct world *w, const char *name)
{
	char path[700];
	FILE *f;

	world_path(w, path, sizeof(path), name);
	f = fopen(path, "w");
	assert_non_null(f);
	fclose(f);
}

/* Wait until the file 'name' exists in the test's directory. */
static int world_wait_file(const struct world *w, const char *name)
{
	int i;

	for (i = 0; i < WAIT_S * 20; i++) {
		if (world_has(w, name))
			return 1;
		tick();
	}
	return world_has(w, name);
}

/* The number in the file 'name' of the test's directory. */
static long world_number(const struct world *w, const char *name)
{
	char path[700];
	struct buf b = BUF_INIT;
	struct err err = ERR_INIT;
	long v;

	world_path(w, path, sizeof(path), name);
	assert_int_equal(transport_read_file(w->t, &b, "/", path + 1, 64, &err), 0);
	v = strtol(buf_str(&b), NULL, 10);
	buf_release(&b);
	return v;
}

/* The number in the record file 'name' of job 'id'. */
static long record_number(const struct world *w, const char *id,
			  const char *name)
{
	char rel[128];

	snprintf(rel, sizeof(rel), ".hpcloop-local/jobs/%s/%s", id, name);
	return world_number(w, rel);
}

/* Write the bash script 'body' as the file 'name'; its path in 'out'. */
static void world_script(const struct world *w, char *out, size_t size,
			 const char *name, const char *body)
{
	struct err err = ERR_INIT;

	world_path(w, out, size, name);
	assert_int_equal(transport_write_file(w->t, out, body, strlen(body),
					      0700, &err), 0);
}

/*
 * Submit the script 'body' (written as <tag>.sh) with the comment
 * 'comment', the time limit 'limit_s' and the environment 'env' (may be
 * NULL); the job's output goes to <tag>.out and <tag>.err.  Returns the
 * new job id.
 */
static char *submit_env(struct world *w, const char *tag, const char *body,
			const char *comment, int limit_s, const json_t *env)
{
	struct sched_submit req;
	struct err err = ERR_INIT;
	char script[700], out[700], errp[700], name[64];
	char *id = NULL;

	snprintf(name, sizeof(name), "%s.sh", tag);
	world_script(w, script, sizeof(script), name, body);
	snprintf(name, sizeof(name), "%s.out", tag);
	world_path(w, out, sizeof(out), name);
	snprintf(name, sizeof(name), "%s.err", tag);
	world_path(w, errp, sizeof(errp), name);
	memset(&req, 0, sizeof(req));
	req.name = tag;
	req.comment = comment;
	req.workdir = w->dir;
	req.script_path = script;
	req.stdout_path = out;
	req.stderr_path = errp;
	req.time_limit_s = limit_s;
	req.env = env;
	if (sched_submit(w->s, &id, &req, &err) < 0)
		fail_msg("submit failed: %s", err.message);
	assert_non_null(id);
	return id;
}

/* submit_env() with no environment and no time limit. */
static char *submit(struct world *w, const char *tag, const char *body)
{
	return submit_env(w, tag, body, tag, 0, NULL);
}

/*
 * Query the one job 'id'; return its state (static) and, when
 * 'evidence' is not NULL, a new reference to its evidence there.
 */
static const char *query(struct world *w, const char *id, json_t **evidence)
{
	struct err err = ERR_INIT;
	json_t *ids = json_pack("[s]", id), *out = NULL, *entry;
	enum sched_state st;
	const char *name;

	if (sched_query(w->s, &out, ids, &err) < 0)
		fail_msg("query failed: %s", err.message);
	entry = json_object_get(out, id);
	assert_non_null(entry);
	name = json_string_value(json_object_get(entry, "state"));
	assert_int_equal(sched_state_from_name(&st, name), 0);
	assert_string_equal(json_string_value(json_object_get(json_object_get(
		entry, "evidence"), "source")), "local");
	if (evidence)
		*evidence = json_incref(json_object_get(entry, "evidence"));
	json_decref(ids);
	json_decref(out);
	return sched_state_name(st);
}

/* Query 'id' until its state is 'want' or WAIT_S passes; the last one. */
static const char *wait_state(struct world *w, const char *id,
			      const char *want)
{
	const char *got = query(w, id, NULL);
	int i;

	for (i = 0; i < WAIT_S * 20 && strcmp(got, want); i++) {
		tick();
		got = query(w, id, NULL);
	}
	return got;
}

/* Whether the process 'pid' is gone (or a zombie nobody reaped yet). */
static int process_gone(long pid)
{
	char path[64], text[512];
	const char *paren;
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
	f = fopen(path, "r");
	if (!f)
		return 1;
	n = fread(text, 1, sizeof(text) - 1, f);
	fclose(f);
	text[n] = '\0';
	paren = strrchr(text, ')');
	return !paren || paren[1] != ' ' || paren[2] == 'Z' ||
	       paren[2] == 'X';
}

/* Wait until the process 'pid' is gone. */
static int wait_gone(long pid)
{
	int i;

	for (i = 0; i < WAIT_S * 20; i++) {
		if (process_gone(pid))
			return 1;
		tick();
	}
	return process_gone(pid);
}

/* The integer 'key' of 'evidence', or -1000 when it is not an integer. */
static long long ev_int(const json_t *evidence, const char *key)
{
	const json_t *v = json_object_get(evidence, key);

	return json_is_integer(v) ? json_integer_value(v) : -1000;
}

/* The string 'key' of 'evidence', or "" when it is not a string. */
static const char *ev_str(const json_t *evidence, const char *key)
{
	const char *s = json_string_value(json_object_get(evidence, key));

	return s ? s : "";
}

/* ------------------------------------------------------------------ */
/* Tests                                                               */
/* ------------------------------------------------------------------ */

static void test_sched_local_runs_detached(void **state)
{
	struct world w;
	json_t *env = json_pack("{s:s}", "HPL_GREETING", "hello $(x) world");
	json_t *ev = NULL;
	char path[700], *id;
	struct buf out = BUF_INIT;
	struct err err = ERR_INIT;
	long pid;

	(void)state;
	world_open(&w, "detached", 4, 10);
	id = submit_env(&w, "job", "echo \"$HPL_GREETING\"; pwd\n"
			"echo to-stderr >&2\n"
			"while [ ! -e go ]; do sleep 0.05; done\n",
			"run-1", 0, env);
	/* The pid record is there as soon as submit returns. */
	pid = record_number(&w, id, "pid");
	assert_true(pid > 1);
	assert_string_equal(query(&w, id, &ev), "running");
	assert_int_equal(ev_int(ev, "pid"), pid);
	assert_true(json_is_null(json_object_get(ev, "exit_code")));
	assert_non_null(json_object_get(ev, "checked_at"));
	json_decref(ev);

	/* Detached: its own session and process group. */
	assert_int_equal(getpgid((pid_t)pid), (pid_t)pid);
	assert_true(getsid((pid_t)pid) != getsid(0));

	world_touch(&w, "go");
	assert_string_equal(wait_state(&w, id, "completed"), "completed");
	query(&w, id, &ev);
	assert_int_equal(ev_int(ev, "exit_code"), 0);
	assert_true(json_is_null(json_object_get(ev, "signal")));
	assert_string_equal(ev_str(ev, "reason"), "exited");
	assert_true(strlen(ev_str(ev, "ended_at")) > 0);
	json_decref(ev);

	world_path(&w, path, sizeof(path), "job.out");
	assert_int_equal(transport_read_file(w.t, &out, "/", path + 1, 4096, &err), 0);
	assert_non_null(strstr(buf_str(&out), "hello $(x) world\n"));
	assert_non_null(strstr(buf_str(&out), w.dir));
	world_path(&w, path, sizeof(path), "job.err");
	assert_int_equal(transport_read_file(w.t, &out, "/", path + 1, 4096, &err), 0);
	assert_string_equal(buf_str(&out), "to-stderr\n");
	assert_true(wait_gone(pid));
	buf_release(&out);
	json_decref(env);
	free(id);
	world_close(&w);
}

static void test_sched_local_failed_exit_code(void **state)
{
	struct world w;
	json_t *ev = NULL;
	char *id, *killed;

	(void)state;
	world_open(&w, "failed", 4, 10);
	id = submit(&w, "fail", "exit 7\n");
	killed = submit(&w, "killed", "kill -KILL $$\n");
	assert_string_equal(wait_state(&w, id, "failed"), "failed");
	query(&w, id, &ev);
	assert_int_equal(ev_int(ev, "exit_code"), 7);
	assert_string_equal(ev_str(ev, "reason"), "exited");
	json_decref(ev);

	assert_string_equal(wait_state(&w, killed, "failed"), "failed");
	query(&w, killed, &ev);
	assert_true(json_is_null(json_object_get(ev, "exit_code")));
	assert_int_equal(ev_int(ev, "signal"), SIGKILL);
	json_decref(ev);
	free(id);
	free(killed);
	world_close(&w);
}

static void test_sched_local_time_limit(void **state)
{
	struct world w;
	json_t *ev = NULL;
	char *id;

	(void)state;
	world_open(&w, "timeout", 4, 10);
	id = submit_env(&w, "slow",
			"trap 'echo usr1 > got_usr1; exit 0' USR1\n"
			"sleep 30 & wait $!\n"
			"echo no-signal > not_reached\n", "run-t", 1, NULL);
	assert_string_equal(wait_state(&w, id, "timed_out"), "timed_out");
	/* SIGUSR1 came first, so the script could say why it stopped. */
	assert_true(world_has(&w, "got_usr1"));
	assert_false(world_has(&w, "not_reached"));
	query(&w, id, &ev);
	assert_string_equal(ev_str(ev, "reason"), "timed_out");
	assert_int_equal(ev_int(ev, "exit_code"), 0);
	json_decref(ev);
	free(id);
	world_close(&w);
}

static void test_sched_local_time_option(void **state)
{
	struct world w;
	struct sched_submit req;
	struct err err = ERR_INIT;
	json_t *bad = json_pack("{s:s}", "time", "soon");
	json_t *good = json_pack("{s:s}", "time", "0:01");
	char script[700], *id = NULL;

	(void)state;
	world_open(&w, "timeopt", 4, 10);
	world_script(&w, script, sizeof(script), "t.sh", "sleep 30\n");
	memset(&req, 0, sizeof(req));
	req.workdir = w.dir;
	req.script_path = script;
	req.job_options = bad;
	assert_int_equal(sched_submit(w.s, &id, &req, &err), -1);
	assert_null(id);
	assert_int_equal(err.code, ERR_SCHEDULER_REJECTED);

	/* "M:S" as Slurm reads it: one second. */
	req.job_options = good;
	assert_int_equal(sched_submit(w.s, &id, &req, &err), 0);
	assert_string_equal(wait_state(&w, id, "timed_out"), "timed_out");

	/* A missing work directory is refused before anything is kept. */
	req.workdir = "/nonexistent/dir";
	free(id);
	id = NULL;
	assert_int_equal(sched_submit(w.s, &id, &req, &err), -1);
	assert_int_equal(err.code, ERR_PRECONDITION_FAILED);
	err_release(&err);
	json_decref(bad);
	json_decref(good);
	world_close(&w);
}

static void test_sched_local_cancel_kills_group(void **state)
{
	struct world w;
	json_t *ids, *ev = NULL;
	struct err err = ERR_INIT;
	long child, pid;
	char *id;

	(void)state;
	world_open(&w, "cancel", 4, 2);
	id = submit(&w, "victim",
		    "sleep 1000 & echo $! > child.pid\n"
		    "echo ready > ready\n"
		    "wait\n");
	assert_true(world_wait_file(&w, "ready"));
	child = world_number(&w, "child.pid");
	pid = record_number(&w, id, "pid");
	assert_true(child > 1);
	assert_false(process_gone(child));

	ids = json_pack("[s]", id);
	assert_int_equal(sched_cancel(w.s, ids, &err), 0);
	assert_string_equal(wait_state(&w, id, "cancelled"), "cancelled");
	query(&w, id, &ev);
	assert_string_equal(ev_str(ev, "reason"), "cancelled");
	assert_true(json_is_true(json_object_get(ev, "cancel_requested")));
	json_decref(ev);
	assert_true(wait_gone(child));
	assert_true(wait_gone(pid));

	/* Cancelling again, once it ended, is not an error here. */
	assert_int_equal(sched_cancel(w.s, ids, &err), 0);
	assert_string_equal(query(&w, id, NULL), "cancelled");
	json_decref(ids);
	free(id);
	world_close(&w);
}

static void test_sched_local_queue_max_concurrent(void **state)
{
	struct world w;
	json_t *ids, *ev = NULL;
	struct err err = ERR_INIT;
	char *first, *second, *third;

	(void)state;
	world_open(&w, "queue", 1, 10);
	first = submit(&w, "first",
		       "while [ ! -e go1 ]; do sleep 0.05; done\n");
	second = submit(&w, "second",
			"touch second_ran\n"
			"while [ ! -e go2 ]; do sleep 0.05; done\n");
	third = submit(&w, "third", "touch third_ran\n");
	assert_string_equal(query(&w, first, NULL), "running");
	assert_string_equal(query(&w, second, &ev), "pending");
	assert_string_equal(ev_str(ev, "detail"), "queued");
	assert_true(json_is_null(json_object_get(ev, "pid")));
	json_decref(ev);
	assert_string_equal(query(&w, third, NULL), "pending");

	/* A queued job that is cancelled never runs. */
	ids = json_pack("[s]", third);
	assert_int_equal(sched_cancel(w.s, ids, &err), 0);
	assert_string_equal(query(&w, third, &ev), "cancelled");
	assert_true(json_is_null(json_object_get(ev, "exit_code")));
	json_decref(ev);

	/* Still one slot: the second waits while the first runs. */
	assert_string_equal(query(&w, second, NULL), "pending");
	assert_false(world_has(&w, "second_ran"));

	world_touch(&w, "go1");
	assert_string_equal(wait_state(&w, first, "completed"), "completed");
	/* That query, or the next, started the second. */
	assert_string_equal(wait_state(&w, second, "running"), "running");
	assert_true(world_wait_file(&w, "second_ran"));
	world_touch(&w, "go2");
	assert_string_equal(wait_state(&w, second, "completed"), "completed");
	assert_string_equal(query(&w, third, NULL), "cancelled");
	assert_false(world_has(&w, "third_ran"));
	json_decref(ids);
	free(first);
	free(second);
	free(third);
	world_close(&w);
}

static void test_sched_local_lost(void **state)
{
	struct world w;
	json_t *ev = NULL;
	char rel[128];
	long pid, sup;
	char *id;

	(void)state;
	world_open(&w, "lost", 4, 10);
	id = submit(&w, "doomed", "sleep 1000\n");
	assert_string_equal(query(&w, id, NULL), "running");
	pid = record_number(&w, id, "pid");
	sup = record_number(&w, id, "supervisor");
	assert_true(pid > 1 && sup > 1 && pid != sup);

	/* Kill both, so that no exit record is ever written. */
	assert_int_equal(kill((pid_t)sup, SIGKILL), 0);
	assert_true(wait_gone(sup));
	assert_int_equal(kill(-(pid_t)pid, SIGKILL), 0);
	assert_true(wait_gone(pid));

	assert_string_equal(wait_state(&w, id, "lost"), "lost");
	query(&w, id, &ev);
	assert_int_equal(ev_int(ev, "pid"), pid);
	assert_true(json_is_null(json_object_get(ev, "exit_code")));
	assert_non_null(strstr(ev_str(ev, "detail"), "no exit record"));
	json_decref(ev);
	snprintf(rel, sizeof(rel), ".hpcloop-local/jobs/%s/exit_status", id);
	assert_false(world_has(&w, rel));
	free(id);
	world_close(&w);
}

static void test_sched_local_unknown_id(void **state)
{
	struct world w;
	struct err err = ERR_INIT;
	json_t *ids = json_pack("[s, s, s, s]", "999", "abc", "../x", "");
	json_t *out = NULL, *bad = json_pack("[i]", 3);
	size_t i;

	(void)state;
	world_open(&w, "unknown", 4, 10);
	assert_int_equal(sched_query(w.s, &out, ids, &err), 0);
	assert_int_equal(json_object_size(out), 4);
	for (i = 0; i < json_array_size(ids); i++) {
		const char *id = json_string_value(json_array_get(ids, i));
		json_t *entry = json_object_get(out, id);

		assert_string_equal(json_string_value(json_object_get(
			entry, "state")), "unknown");
		assert_string_equal(ev_str(json_object_get(entry, "evidence"),
					   "source"), "local");
	}
	json_decref(out);
	assert_int_equal(sched_cancel(w.s, ids, &err), 0);
	assert_int_equal(sched_query(w.s, &out, bad, &err), -1);
	assert_null(out);
	json_decref(ids);
	json_decref(bad);
	err_release(&err);
	world_close(&w);
}

static void test_sched_local_find_by_comment(void **state)
{
	struct world w;
	struct err err = ERR_INIT;
	json_t *found = NULL;
	char *a, *b;

	(void)state;
	world_open(&w, "find", 4, 10);
	a = submit_env(&w, "hpl-sp-aaa", "true\n", "sp-aaa", 0, NULL);
	b = submit_env(&w, "hpl-sp-bbb", "true\n", "sp-bbb", 0, NULL);
	assert_int_equal(sched_find(w.s, &found, "sp-aaa", &err), 0);
	assert_int_equal(json_array_size(found), 1);
	assert_string_equal(json_string_value(json_array_get(found, 0)), a);
	json_decref(found);
	assert_int_equal(sched_find(w.s, &found, "sp-nothing", &err), 0);
	assert_int_equal(json_array_size(found), 0);
	json_decref(found);
	assert_string_equal(wait_state(&w, b, "completed"), "completed");
	free(a);
	free(b);
	world_close(&w);
}

static void test_sched_local_ids_never_repeat(void **state)
{
	struct world w;
	char path[700], *ids[4];
	int i, j;

	(void)state;
	world_open(&w, "ids", 4, 10);
	for (i = 0; i < 3; i++)
		ids[i] = submit(&w, "quick", "true\n");
	/* Even with the counter gone, an id in use is never handed out. */
	world_path(&w, path, sizeof(path), ".hpcloop-local/next_id");
	assert_int_equal(unlink(path), 0);
	ids[3] = submit(&w, "quick", "true\n");
	for (i = 0; i < 4; i++) {
		for (j = 0; j < i; j++)
			assert_string_not_equal(ids[i], ids[j]);
	}
	assert_true(strtol(ids[1], NULL, 10) > strtol(ids[0], NULL, 10));
	assert_true(strtol(ids[2], NULL, 10) > strtol(ids[1], NULL, 10));
	for (i = 0; i < 4; i++) {
		assert_string_equal(wait_state(&w, ids[i], "completed"),
				    "completed");
		free(ids[i]);
	}
	world_close(&w);
}

/* A transport kind that is not local, to show the scheduler refuses it. */
static const struct transport_ops remote_ops = { .name = "ssh" };

static void test_sched_local_open_checks(void **state)
{
	struct err err = ERR_INIT;
	struct transport *remote = transport_new(&remote_ops, NULL);
	struct transport *t = NULL;
	struct sched *s = NULL;
	json_t *pbs = json_pack("{s:s}", "scheduler", "pbs");
	enum sched_state st;

	(void)state;
	assert_int_equal(sched_open(&s, remote, NULL, "far", tmpdir, &err),
			 -1);
	assert_null(s);
	assert_int_equal(err.code, ERR_CONFIG_INVALID);
	assert_int_equal(transport_open(&t, NULL, &err), 0);
	assert_int_equal(sched_open(&s, t, pbs, "odd", tmpdir, &err), -1);
	assert_int_equal(err.code, ERR_CONFIG_INVALID);
	assert_non_null(strstr(err.message, "pbs"));

	assert_string_equal(sched_state_name(SCHED_TIMED_OUT), "timed_out");
	assert_string_equal(sched_state_name(SCHED_LOST), "lost");
	assert_int_equal(sched_state_from_name(&st, "cancelled"), 0);
	assert_int_equal(st, SCHED_CANCELLED);
	assert_int_equal(sched_state_from_name(&st, "done"), -1);
	assert_true(sched_state_terminal(SCHED_FAILED));
	assert_false(sched_state_terminal(SCHED_PENDING));
	assert_false(sched_state_terminal(SCHED_UNKNOWN));
	/* Requeued: back in the queue, so not an end. */
	assert_string_equal(sched_state_name(SCHED_REQUEUED), "requeued");
	assert_int_equal(sched_state_from_name(&st, "requeued"), 0);
	assert_int_equal(st, SCHED_REQUEUED);
	assert_false(sched_state_terminal(SCHED_REQUEUED));
	sched_close(NULL);
	json_decref(pbs);
	err_release(&err);
	transport_close(t);
	transport_close(remote);
}

static void test_sched_local_kind_table(void **state)
{
	const struct sched_ops *local = sched_kind("local");
	struct sched_submit req;
	struct err err = ERR_INIT;
	struct buf out = BUF_INIT;
	json_t *opts = json_pack("{s:s, s:s}", "mem", "4G", "time", "1:00");

	(void)state;
	assert_ptr_equal(local, &sched_local_ops);
	assert_null(sched_kind("pbs"));
	assert_null(sched_kind(NULL));
	/* Only this account uses it: no shared query budget. */
	assert_int_equal(local->shared, 0);
	/* No header syntax: nothing added, nothing refused. */
	memset(&req, 0, sizeof(req));
	req.job_options = opts;
	req.time_limit_s = 60;
	buf_init(&out, 4096);
	assert_int_equal(local->directives(&out, &req, &err), 0);
	assert_int_equal(out.len, 0);
	assert_int_equal(err.code, ERR_NONE);
	buf_release(&out);
	json_decref(opts);
}

/* Open a local scheduler on 'conf'; its error code, message in 'err'. */
static enum err_code open_code(json_t *conf, struct err *err)
{
	struct transport *t = NULL;
	struct sched *s = NULL;
	enum err_code code = ERR_NONE;

	assert_int_equal(transport_open(&t, NULL, err), 0);
	if (sched_open(&s, t, conf, "here", tmpdir, err) < 0)
		code = err->code;
	else
		assert_non_null(s);
	sched_close(s);
	transport_close(t);
	return code;
}

static void test_sched_local_settings_required(void **state)
{
	struct err err = ERR_INIT;
	json_t *conf = cluster_conf(2, 5);

	(void)state;
	assert_int_equal(open_code(conf, &err), ERR_NONE);
	/* Defaults come from config loading, not from C. */
	json_object_del(conf, "max_concurrent_jobs");
	assert_int_equal(open_code(conf, &err), ERR_CONFIG_INVALID);
	assert_string_equal(err.message,
			    "clusters.here.max_concurrent_jobs is missing");
	json_object_set_new(conf, "max_concurrent_jobs", json_integer(0));
	assert_int_equal(open_code(conf, &err), ERR_CONFIG_INVALID);
	assert_non_null(strstr(err.message, "max_concurrent_jobs"));
	json_object_set_new(conf, "max_concurrent_jobs", json_integer(2));
	json_object_del(conf, "cancel_grace_s");
	assert_int_equal(open_code(conf, &err), ERR_CONFIG_INVALID);
	assert_string_equal(err.message,
			    "clusters.here.cancel_grace_s is missing");
	/* No cluster object at all has neither. */
	assert_int_equal(open_code(NULL, &err), ERR_CONFIG_INVALID);
	err_release(&err);
	json_decref(conf);
}

/* The number of entries of the directory 'rel' of the test's directory. */
static int world_count(const struct world *w, const char *rel)
{
	struct transport *t = w->t;
	struct err err = ERR_INIT;
	char path[700];
	json_t *files = NULL;
	int n;

	world_path(w, path, sizeof(path), rel);
	if (transport_list(t, &files, path, 1, 1000, &err) < 0) {
		err_release(&err);
		return 0;
	}
	n = (int)json_array_size(files);
	json_decref(files);
	return n;
}

static void test_sched_local_past_jobs_left_alone(void **state)
{
	struct world w;
	struct err err = ERR_INIT;
	json_t *found = NULL, *planted;
	char path[700], *done, *now, *text;

	(void)state;
	world_open(&w, "history", 1, 10);
	done = submit_env(&w, "old", "true\n", "sp-old", 0, NULL);
	assert_string_equal(wait_state(&w, done, "completed"), "completed");
	/* Seen to end: out of the live index, still found by its run. */
	assert_int_equal(world_count(&w, ".hpcloop-local/live"), 0);
	assert_int_equal(sched_find(w.s, &found, "sp-old", &err), 0);
	assert_int_equal(json_array_size(found), 1);
	assert_string_equal(json_string_value(json_array_get(found, 0)),
			    done);
	json_decref(found);

	/*
	 * A queued record of the run sp-new that no index names: a queue
	 * that scanned jobs/ would start it, and a find() that read every
	 * spec would list it.  Neither looks at it.
	 */
	world_script(&w, path, sizeof(path), "planted.sh",
		     "touch planted.ran\n");
	planted = json_pack("{s:s, s:s, s:s, s:i, s:{}, s:{}}", "comment",
			    "sp-new", "workdir", w.dir, "script", path,
			    "time_limit_s", 0, "env", "environ");
	text = json_dumps(planted, 0);
	world_path(&w, path, sizeof(path),
		   ".hpcloop-local/jobs/900/spec.json");
	assert_int_equal(transport_write_file(w.t, path, text, strlen(text),
					      0600, &err), 0);
	now = submit_env(&w, "new", "true\n", "sp-new", 0, NULL);
	assert_string_equal(wait_state(&w, now, "completed"), "completed");
	assert_false(world_has(&w, ".hpcloop-local/jobs/900/supervisor"));
	assert_false(world_has(&w, "planted.ran"));
	assert_int_equal(sched_find(w.s, &found, "sp-new", &err), 0);
	assert_int_equal(json_array_size(found), 1);
	assert_string_equal(json_string_value(json_array_get(found, 0)), now);
	json_decref(found);
	/* An id that is not live is answered from its own record. */
	assert_string_equal(query(&w, done, NULL), "completed");
	json_decref(planted);
	free(text);
	free(done);
	free(now);
	world_close(&w);
}

/*
 * Submit the job 'tag' (its script appends a line to <tag>.ran) for the
 * run 'tag' in a child process killed by the fault point 'point'; check
 * that it died there.
 */
static void submit_killed_at(struct world *w, const char *tag,
			     const char *point)
{
	char body[128], script[700], name[64];
	pid_t child;
	int status;

	snprintf(body, sizeof(body), "echo ran >> %s.ran\n", tag);
	snprintf(name, sizeof(name), "%s.sh", tag);
	world_script(w, script, sizeof(script), name, body);
	child = fork();
	assert_true(child >= 0);
	if (child == 0) {
		struct sched_submit req;
		struct err err = ERR_INIT;
		char *id = NULL;

		setenv("HPCLOOP_FAULT", point, 1);
		memset(&req, 0, sizeof(req));
		req.name = tag;
		req.comment = tag;
		req.workdir = w->dir;
		req.script_path = script;
		sched_submit(w->s, &id, &req, &err);
		_exit(0);	/* not killed: the parent sees exit 0 */
	}
	assert_int_equal(waitpid(child, &status, 0), child);
	assert_true(WIFSIGNALED(status));
	assert_int_equal(WTERMSIG(status), SIGKILL);
}

/* The ids find() gives for the run 'run_id', a new array. */
static json_t *find_run(struct world *w, const char *run_id)
{
	struct err err = ERR_INIT;
	json_t *found = NULL;

	if (sched_find(w->s, &found, run_id, &err) < 0)
		fail_msg("find failed: %s", err.message);
	return found;
}

/* How many lines the file 'name' of the test's directory has. */
static int world_lines(const struct world *w, const char *name)
{
	char path[700];
	struct buf b = BUF_INIT;
	struct err err = ERR_INIT;
	int n = 0;
	size_t i;

	world_path(w, path, sizeof(path), name);
	if (transport_read_file(w->t, &b, "/", path + 1, 4096, &err) < 0) {
		err_release(&err);
		return 0;
	}
	for (i = 0; i < b.len; i++)
		n += b.data[i] == '\n';
	buf_release(&b);
	return n;
}

/*
 * Killed before its spec.json, a submission leaves no job: find() says
 * so (so submitting again is right), and the retry runs exactly once.
 */
static void killed_before_commit(const char *point)
{
	struct world w;
	json_t *found;
	char dir[64], *id;

	snprintf(dir, sizeof(dir), "crash-%s", point);
	world_open(&w, dir, 4, 10);
	submit_killed_at(&w, "sp-crash", point);
	found = find_run(&w, "sp-crash");
	assert_int_equal(json_array_size(found), 0);
	json_decref(found);
	/* The retry, as submit-flow does when find() is empty. */
	id = submit_env(&w, "sp-crash", "echo ran >> sp-crash.ran\n",
			"sp-crash", 0, NULL);
	assert_string_equal(wait_state(&w, id, "completed"), "completed");
	found = find_run(&w, "sp-crash");
	assert_int_equal(json_array_size(found), 1);
	assert_string_equal(json_string_value(json_array_get(found, 0)), id);
	json_decref(found);
	assert_int_equal(world_lines(&w, "sp-crash.ran"), 1);
	/* The dead attempt left nothing in the indexes. */
	assert_int_equal(world_count(&w, ".hpcloop-local/live"), 0);
	assert_int_equal(world_count(&w, ".hpcloop-local/by-run/sp-crash"),
			 1);
	free(id);
	world_close(&w);
}

/*
 * Killed after its spec.json, a submission leaves a job that will run:
 * find() gives it (so the caller adopts it), the next query starts it
 * if it is still queued, it is never lost, and it runs exactly once.
 */
static void killed_after_commit(const char *point)
{
	struct world w;
	json_t *found;
	char dir[64], *id;

	snprintf(dir, sizeof(dir), "crash-%s", point);
	world_open(&w, dir, 4, 10);
	submit_killed_at(&w, "sp-crash", point);
	found = find_run(&w, "sp-crash");
	assert_int_equal(json_array_size(found), 1);
	id = xstrdup(json_string_value(json_array_get(found, 0)));
	json_decref(found);
	assert_string_equal(wait_state(&w, id, "completed"), "completed");
	assert_int_equal(world_lines(&w, "sp-crash.ran"), 1);
	assert_int_equal(world_count(&w, ".hpcloop-local/live"), 0);
	free(id);
	world_close(&w);
}

static void test_sched_local_killed_after_id(void **state)
{
	(void)state;
	killed_before_commit("local.after_id");
}

static void test_sched_local_killed_after_by_run(void **state)
{
	(void)state;
	killed_before_commit("local.after_by_run");
}

static void test_sched_local_killed_after_live(void **state)
{
	(void)state;
	killed_before_commit("local.after_live");
}

static void test_sched_local_killed_after_record(void **state)
{
	(void)state;
	killed_after_commit("local.after_record");
}

static void test_sched_local_killed_after_fork(void **state)
{
	(void)state;
	killed_after_commit("local.after_fork");
}

static void test_sched_local_killed_after_pid(void **state)
{
	(void)state;
	killed_after_commit("local.after_pid");
}

/* ------------------------------------------------------------------ */

/*
 * Submit 'body' as an array of 'n' tasks, at most 'limit' at once,
 * starting after the jobs of 'after' (may be NULL).
 */
static char *submit_array(struct world *w, const char *tag, const char *body,
			  int n, int limit, const json_t *after)
{
	struct sched_submit req;
	struct err err = ERR_INIT;
	char script[700], name[64];
	char *id = NULL;

	snprintf(name, sizeof(name), "%s.sh", tag);
	world_script(w, script, sizeof(script), name, body);
	memset(&req, 0, sizeof(req));
	req.name = tag;
	req.comment = tag;
	req.workdir = w->dir;
	req.script_path = script;
	req.array_size = n;
	req.array_limit = limit;
	req.after = after;
	if (sched_submit(w->s, &id, &req, &err) < 0)
		fail_msg("submit failed: %s", err.message);
	return id;
}

/*
 * An array of 4 tasks with a limit of 2: each task sees its index, the
 * tasks are "<id>_<i>", never more than 2 run at once, and find() gives
 * the array.  A job after the array starts only once all 4 ended.
 */
static void test_sched_local_array_limit_and_after(void **state)
{
	struct world w;
	json_t *after, *found;
	char *id, *task, *later;
	int i, most = 0;

	(void)state;
	world_open(&w, "array", 8, 10);
	id = submit_array(&w, "arr",
			  "echo $$ > run.$HPCLOOP_ARRAY_TASK_ID\n"
			  "n=$(ls run.* 2>/dev/null | wc -l); d=$(ls done.* 2>/dev/null | wc -l)\n"
			  "echo $((n - d)) >> overlap\n"
			  "sleep 0.3\n"
			  "touch done.$HPCLOOP_ARRAY_TASK_ID\n",
			  4, 2, NULL);
	after = json_pack("[s]", id);
	later = submit_array(&w, "later",
			     "ls done.* | wc -l > later.saw\n", 0, 0, after);
	for (i = 1; i <= 4; i++) {
		task = sched_task_id(w.s, id, i);
		assert_string_equal(wait_state(&w, task, "completed"),
				    "completed");
		free(task);
	}
	assert_string_equal(wait_state(&w, later, "completed"), "completed");
	assert_int_equal(world_number(&w, "later.saw"), 4);
	for (i = 1; i <= 4; i++) {
		char f[32];

		snprintf(f, sizeof(f), "done.%d", i);
		assert_true(world_has(&w, f));
	}
	/* No task saw more than two of them running. */
	{
		char path[700];
		FILE *f;
		int v;

		world_path(&w, path, sizeof(path), "overlap");
		f = fopen(path, "r");
		assert_non_null(f);
		while (fscanf(f, "%d", &v) == 1)
			most = v > most ? v : most;
		fclose(f);
		assert_true(most >= 1 && most <= 2);
	}
	found = find_run(&w, "arr");
	assert_int_equal(json_array_size(found), 1);
	assert_string_equal(json_string_value(json_array_get(found, 0)), id);
	json_decref(found);
	json_decref(after);
	free(id);
	free(later);
	world_close(&w);
}

/* Cancelling the array id cancels every task, queued or running. */
static void test_sched_local_array_cancel(void **state)
{
	struct world w;
	struct err err = ERR_INIT;
	json_t *ids;
	char *id, *t1, *t3;

	(void)state;
	world_open(&w, "array-cancel", 8, 1);
	id = submit_array(&w, "arrc", "sleep 30\n", 3, 1, NULL);
	t1 = sched_task_id(w.s, id, 1);
	t3 = sched_task_id(w.s, id, 3);
	assert_string_equal(wait_state(&w, t1, "running"), "running");
	assert_string_equal(query(&w, t3, NULL), "pending");
	ids = json_pack("[s]", id);
	assert_int_equal(sched_cancel(w.s, ids, &err), 0);
	assert_string_equal(wait_state(&w, t1, "cancelled"), "cancelled");
	assert_string_equal(query(&w, t3, NULL), "cancelled");
	json_decref(ids);
	free(t1);
	free(t3);
	free(id);
	world_close(&w);
}

/*
 * Killed after writing its tasks but before the array record, an array
 * submission left no task: find() is empty, no task runs, and the next
 * look drops their entries.
 */
static void test_sched_local_array_killed_before_commit(void **state)
{
	struct world w;
	json_t *found;
	char script[700];
	pid_t child;
	int status;

	(void)state;
	world_open(&w, "array-crash", 4, 10);
	world_script(&w, script, sizeof(script), "ac.sh",
		     "echo ran >> ac.ran\n");
	child = fork();
	assert_true(child >= 0);
	if (child == 0) {
		struct sched_submit req;
		struct err err = ERR_INIT;
		char *id = NULL;

		setenv("HPCLOOP_FAULT", "local.after_tasks", 1);
		memset(&req, 0, sizeof(req));
		req.name = "ac";
		req.comment = "ac";
		req.workdir = w.dir;
		req.script_path = script;
		req.array_size = 3;
		sched_submit(w.s, &id, &req, &err);
		_exit(0);
	}
	assert_int_equal(waitpid(child, &status, 0), child);
	assert_true(WIFSIGNALED(status));
	found = find_run(&w, "ac");
	assert_int_equal(json_array_size(found), 0);
	json_decref(found);
	assert_string_equal(query(&w, "1_1", NULL), "unknown");
	assert_int_equal(world_count(&w, ".hpcloop-local/live"), 0);
	assert_false(world_has(&w, "ac.ran"));
	world_close(&w);
}

static int group_setup(void **state)
{
	(void)state;
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int group_teardown(void **state)
{
	struct transport *t = NULL;
	struct exec_result res;
	struct err err = ERR_INIT;
	const char *rm[] = { "rm", "-rf", tmpdir, NULL };
	int r;

	(void)state;
	if (transport_open(&t, NULL, &err) < 0)
		return -1;
	exec_result_init(&res, 4096);
	r = transport_exec(t, &res, rm, NULL, NULL, 0, 30, &err);
	exec_result_release(&res);
	transport_close(t);
	return r;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sched_local_runs_detached),
		cmocka_unit_test(test_sched_local_failed_exit_code),
		cmocka_unit_test(test_sched_local_time_limit),
		cmocka_unit_test(test_sched_local_time_option),
		cmocka_unit_test(test_sched_local_cancel_kills_group),
		cmocka_unit_test(test_sched_local_queue_max_concurrent),
		cmocka_unit_test(test_sched_local_lost),
		cmocka_unit_test(test_sched_local_unknown_id),
		cmocka_unit_test(test_sched_local_find_by_comment),
		cmocka_unit_test(test_sched_local_ids_never_repeat),
		cmocka_unit_test(test_sched_local_open_checks),
		cmocka_unit_test(test_sched_local_kind_table),
		cmocka_unit_test(test_sched_local_settings_required),
		cmocka_unit_test(test_sched_local_past_jobs_left_alone),
		cmocka_unit_test(test_sched_local_killed_after_id),
		cmocka_unit_test(test_sched_local_killed_after_live),
		cmocka_unit_test(test_sched_local_killed_after_by_run),
		cmocka_unit_test(test_sched_local_killed_after_record),
		cmocka_unit_test(test_sched_local_killed_after_fork),
		cmocka_unit_test(test_sched_local_killed_after_pid),
		cmocka_unit_test(test_sched_local_array_limit_and_after),
		cmocka_unit_test(test_sched_local_array_cancel),
		cmocka_unit_test(test_sched_local_array_killed_before_commit),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
