/*
 * sched_local.c: the "local" scheduler, which runs jobs as detached
 * processes on this machine.  It is the embedded default, so everything
 * works with no cluster at all.
 *
 * Each job has a record directory <state_dir>/jobs/<id>/ holding:
 *
 *	spec.json	 the submission (0600: its environment may hold secrets)
 *	queued		 present while the job waits for a free slot
 *	launched	 written just before the job is started
 *	supervisor	 "<pid> <start>" of the supervisor process
 *	start_time	 start time of the job process (/proc/<pid>/stat #22)
 *	pid		 the job's process group leader
 *	cancel_requested the cancel grace period in seconds
 *	exit_status	 {"exit_code", "signal", "reason", "ended_at"}
 *
 * Ids come from the counter <state_dir>/next_id and never repeat.  All
 * changes to the queue happen under flock() on <state_dir>/lock.
 *
 * A job is started by a double fork: the grandchild, in a new session,
 * is the supervisor; it forks the job (bash on the script, in its own
 * process group), records its pid, enforces the time limit and the
 * cancel grace period, and writes exit_status when the job ends.  The
 * supervisor runs after fork() in a process that may have had threads,
 * so it calls only async-signal-safe functions on data prepared before
 * the fork: no stdio, no jansson, no malloc.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "ids.h"
#include "sched.h"
#include "transport.h"
#include "proc.h"
#include "xalloc.h"
#include "banned.h"

extern char **environ;

/* Seconds from SIGUSR1 (time limit) to SIGTERM, and on to SIGKILL. */
#define LOCAL_ESCALATE_S 10
/* How long a start waits for the pid file. */
#define LOCAL_START_WAIT_MS 5000
/* How long a record may sit without a pid before it counts as lost. */
#define LOCAL_STARTING_S 30
/* How often the supervisor looks at its job, in nanoseconds. */
#define LOCAL_TICK_NS 100000000L
/* The largest spec.json read back. */
#define LOCAL_SPEC_MAX (1024 * 1024)
/* The largest small record file read back. */
#define LOCAL_SMALL_MAX 4096
/* Fallback bound for closing descriptors when close_range() fails. */
#define LOCAL_FD_LOOP_MAX 65536

/* The parsed cluster settings of an open local scheduler. */
struct sched_local {
	int max_jobs;	/* cluster.max_concurrent_jobs */
	int grace_s;	/* cluster.cancel_grace_s */
};

/* ------------------------------------------------------------------ */
/* Async-signal-safe helpers (usable after fork)                       */
/* ------------------------------------------------------------------ */

/* A fixed-size text being built without allocating. */
struct text {
	char b[512];	/* NUL-terminated contents */
	size_t n;	/* length */
};

/* Append 's' to 't', silently cut at its size. */
static void text_add(struct text *t, const char *s)
{
	while (*s && t->n < sizeof(t->b) - 1)
		t->b[t->n++] = *s++;
	t->b[t->n] = '\0';
}

/* Append the decimal 'v' to 't', at least 'width' digits. */
static void text_add_u64(struct text *t, uint64_t v, int width)
{
	char digits[24];
	int i = 0;

	do {
		digits[i++] = (char)('0' + v % 10);
		v /= 10;
	} while (v && i < (int)sizeof(digits));
	while (i < width && i < (int)sizeof(digits))
		digits[i++] = '0';
	while (i > 0 && t->n < sizeof(t->b) - 1)
		t->b[t->n++] = digits[--i];
	t->b[t->n] = '\0';
}

/* Append the signed decimal 'v' to 't'. */
static void text_add_i64(struct text *t, int64_t v)
{
	if (v < 0) {
		text_add(t, "-");
		text_add_u64(t, (uint64_t)0 - (uint64_t)v, 1);
	} else {
		text_add_u64(t, (uint64_t)v, 1);
	}
}

/*
 * Append the UTC time 'secs' (since the epoch) to 't' as in ids.h,
 * "2026-11-22T02:07:50Z", without gmtime_r() (which takes a lock).
 * The date is Howard Hinnant's civil_from_days().
 */
static void text_add_iso(struct text *t, int64_t secs)
{
	int64_t days = secs / 86400, rem = secs % 86400;
	int64_t z, era, yoe, doy, mp, year;
	uint64_t doe, month, day;

	if (rem < 0) {
		rem += 86400;
		days--;
	}
	z = days + 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = (uint64_t)(z - era * 146097);
	yoe = (int64_t)((doe - doe / 1460 + doe / 36524 - doe / 146096) /
			365);
	doy = (int64_t)doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	day = (uint64_t)(doy - (153 * mp + 2) / 5 + 1);
	month = (uint64_t)(mp < 10 ? mp + 3 : mp - 9);
	year = yoe + era * 400 + (month <= 2);
	text_add_u64(t, (uint64_t)year, 4);
	text_add(t, "-");
	text_add_u64(t, month, 2);
	text_add(t, "-");
	text_add_u64(t, day, 2);
	text_add(t, "T");
	text_add_u64(t, (uint64_t)(rem / 3600), 2);
	text_add(t, ":");
	text_add_u64(t, (uint64_t)(rem / 60 % 60), 2);
	text_add(t, ":");
	text_add_u64(t, (uint64_t)(rem % 60), 2);
	text_add(t, "Z");
}

/* The monotonic clock in milliseconds. */
static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Sleep for 'ns' nanoseconds (below a second). */
static void nap(long ns)
{
	struct timespec ts = { 0, ns };

	nanosleep(&ts, NULL);
}

/* Whether 'path' exists. */
static int path_exists(const char *path)
{
	struct stat sb;

	return stat(path, &sb) == 0;
}

/*
 * Read at most 'size' - 1 bytes of 'path' into 'out', NUL-terminated.
 * Returns the length, or -1.
 */
static ssize_t read_small(const char *path, char *out, size_t size)
{
	size_t got = 0;
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -1;
	while (got < size - 1) {
		n = read(fd, out + got, size - 1 - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	close(fd);
	out[got] = '\0';
	return (ssize_t)got;
}

/*
 * Parse the decimal number at '*p' into '*out', moving '*p' past it.
 * Returns 0, or -1 when there are no digits or it overflows.
 */
static int parse_u64(const char **p, uint64_t *out)
{
	const char *s = *p;
	uint64_t v = 0;

	if (*s < '0' || *s > '9')
		return -1;
	while (*s >= '0' && *s <= '9') {
		if (v > (UINT64_MAX - 9) / 10)
			return -1;
		v = v * 10 + (uint64_t)(*s - '0');
		s++;
	}
	*p = s;
	*out = v;
	return 0;
}

/*
 * Read the file 'path' holding one or two numbers separated by a space
 * ("123\n" or "123 456\n") into 'a' and, when 'b' is not NULL, 'b'.
 * Returns 0 or -1.
 */
static int read_numbers(const char *path, uint64_t *a, uint64_t *b)
{
	char text[64];
	const char *p = text;

	if (read_small(path, text, sizeof(text)) <= 0)
		return -1;
	if (parse_u64(&p, a) < 0)
		return -1;
	if (!b)
		return 0;
	if (*p != ' ')
		return -1;
	p++;
	return parse_u64(&p, b);
}

/*
 * Read /proc/'pid'/stat: its start time (field 22, in clock ticks since
 * boot) into '*start_out' and its state letter (field 3) into
 * '*state_out' (may be NULL).  Returns 0, or -1 when there is no such
 * process.
 */
static int proc_read(uint64_t pid, uint64_t *start_out, char *state_out)
{
	struct text path = { "", 0 };
	char stat[1024];
	const char *p, *close_paren = NULL;
	int field;

	text_add(&path, "/proc/");
	text_add_u64(&path, pid, 1);
	text_add(&path, "/stat");
	if (read_small(path.b, stat, sizeof(stat)) <= 0)
		return -1;
	/* The command name in field 2 may hold spaces and parentheses. */
	for (p = stat; *p; p++) {
		if (*p == ')')
			close_paren = p;
	}
	if (!close_paren || close_paren[1] != ' ')
		return -1;
	p = close_paren + 2;
	if (state_out)
		*state_out = *p;
	for (field = 3; field < 22; field++) {
		while (*p && *p != ' ')
			p++;
		if (!*p)
			return -1;
		p++;
	}
	return parse_u64(&p, start_out);
}

/*
 * Whether the process 'pid' is alive and is the one that started at
 * 'start' (a recycled pid has another start time).  Zombies are dead.
 */
static int proc_alive(uint64_t pid, uint64_t start)
{
	uint64_t now_start;
	char state;

	if (pid == 0 || pid > INT_MAX)
		return 0;
	if (proc_read(pid, &now_start, &state) < 0)
		return 0;
	return now_start == start && state != 'Z' && state != 'X';
}

/*
 * Write the 'len' bytes of 'data' to 'path' atomically through 'tmp'
 * (both prepared by the caller).  Returns 0 or -1.
 */
static int write_small(const char *tmp, const char *path, const char *data,
		       size_t len)
{
	ssize_t w;
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	if (fd < 0)
		return -1;
	while (len) {
		w = write(fd, data, len);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0) {
			close(fd);
			unlink(tmp);
			return -1;
		}
		data += w;
		len -= (size_t)w;
	}
	fsync(fd);
	if (close(fd) < 0 || rename(tmp, path) < 0) {
		unlink(tmp);
		return -1;
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* The supervisor                                                      */
/* ------------------------------------------------------------------ */

/* Everything the supervisor needs, prepared before the first fork. */
struct launch {
	char *sup_path, *sup_tmp;	/* supervisor file and its temp */
	char *pid_path, *pid_tmp;	/* pid file and its temp */
	char *start_path, *start_tmp;	/* start_time file and its temp */
	char *exit_path, *exit_tmp;	/* exit_status file and its temp */
	char *cancel_path;		/* cancel_requested marker */
	char *workdir;			/* where the job runs */
	char *stdout_path;		/* the job's standard output */
	char *stderr_path;		/* the job's standard error */
	char *argv[3];			/* "bash", the script, NULL */
	char **envp;			/* the job's environment */
	int time_limit_s;		/* 0: none */
	int grace_s;			/* cancel grace when unreadable */
	int fd_max;			/* bound for closing descriptors */
};

/* Write 'msg' and 'arg' to the standard error of a failing job. */
static void job_complain(const char *msg, const char *arg)
{
	struct text t = { "", 0 };
	ssize_t w;

	text_add(&t, "hpcloop: ");
	text_add(&t, msg);
	text_add(&t, arg);
	text_add(&t, "\n");
	w = write(2, t.b, t.n);
	(void)w;
}

/* Open 'path' for appending onto descriptor 'target'; 0 or -1. */
static int open_onto(const char *path, int target)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_APPEND, 0644);

	if (fd < 0)
		return -1;
	if (fd != target) {
		if (dup2(fd, target) < 0)
			return -1;
		close(fd);
	}
	return 0;
}

/*
 * The job process: its own process group, its output files, its
 * directory, then bash on the script.  Never returns.
 */
static void __attribute__((noreturn)) job_run(const struct launch *l)
{
	setpgid(0, 0);
	if (open_onto(l->stdout_path, 1) < 0)
		_exit(126);
	if (open_onto(l->stderr_path, 2) < 0) {
		job_complain("cannot open ", l->stderr_path);
		_exit(126);
	}
	if (chdir(l->workdir) < 0) {
		job_complain("cannot enter ", l->workdir);
		_exit(126);
	}
	execve("/bin/bash", l->argv, l->envp);
	job_complain("cannot run /bin/bash for ", l->argv[1]);
	_exit(127);
}

/* Stdio to /dev/null, every other descriptor closed. */
static void supervisor_detach(const struct launch *l)
{
	int fd = open("/dev/null", O_RDWR);

	if (fd >= 0) {
		dup2(fd, 0);
		dup2(fd, 1);
		dup2(fd, 2);
		if (fd > 2)
			close(fd);
	}
	if (close_range(3, ~0U, 0) < 0) {
		for (fd = 3; fd < l->fd_max; fd++)
			close(fd);
	}
}

/* Write "<pid> <start>\n" or "<pid>\n" (start 0) to 'path' via 'tmp'. */
static void write_pid_file(const char *tmp, const char *path, uint64_t pid,
			   uint64_t start, int with_start)
{
	struct text t = { "", 0 };

	text_add_u64(&t, pid, 1);
	if (with_start) {
		text_add(&t, " ");
		text_add_u64(&t, start, 1);
	}
	text_add(&t, "\n");
	write_small(tmp, path, t.b, t.n);
}

/* The cancel grace in the marker 'path', or 'fallback' seconds. */
static int read_grace(const char *path, int fallback)
{
	uint64_t v;

	if (read_numbers(path, &v, NULL) < 0 || v > 86400)
		return fallback;
	return (int)v;
}

/*
 * Record how the job ended, from the waitid() answer 'si', in the
 * exit_status file: 'timed_out' when the time limit was enforced; a
 * cancel marker wins over both.
 */
static void write_exit_status(const struct launch *l, const siginfo_t *si,
			      int timed_out)
{
	struct text t = { "", 0 };
	struct timespec now;
	const char *reason = "exited";

	if (path_exists(l->cancel_path))
		reason = "cancelled";
	else if (timed_out)
		reason = "timed_out";
	clock_gettime(CLOCK_REALTIME, &now);
	text_add(&t, "{\"exit_code\": ");
	if (si->si_code == CLD_EXITED) {
		text_add_i64(&t, si->si_status);
		text_add(&t, ", \"signal\": null");
	} else {
		text_add(&t, "null, \"signal\": ");
		text_add_i64(&t, si->si_status);
	}
	text_add(&t, ", \"reason\": \"");
	text_add(&t, reason);
	text_add(&t, "\", \"ended_at\": \"");
	text_add_iso(&t, (int64_t)now.tv_sec);
	text_add(&t, "\"}\n");
	write_small(l->exit_tmp, l->exit_path, t.b, t.n);
}

/*
 * Wait for the job 'job' without reaping it (so its pid, and its process
 * group, stay reserved until exit_status is written), enforcing the time
 * limit and the cancel grace of 'l'.  Fills 'si'; returns 1 when the
 * time limit was enforced, 0 otherwise, -1 when waiting failed.
 */
static int supervise_wait(const struct launch *l, pid_t job, siginfo_t *si)
{
	int64_t t0 = mono_ms(), now, cancel_at = 0, usr1_at = 0;
	int64_t limit_ms = (int64_t)l->time_limit_s * 1000;
	int64_t step_ms = (int64_t)LOCAL_ESCALATE_S * 1000;
	int64_t grace_ms = 0;
	int cancel_seen = 0, killed = 0, stage = 0;

	for (;;) {
		memset(si, 0, sizeof(*si));
		if (waitid(P_PID, (id_t)job, si,
			   WEXITED | WNOHANG | WNOWAIT) < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (si->si_pid == job)
			return stage > 0;
		now = mono_ms();
		if (!cancel_seen && path_exists(l->cancel_path)) {
			cancel_seen = 1;
			cancel_at = now;
			grace_ms = (int64_t)read_grace(l->cancel_path,
						       l->grace_s) * 1000;
		}
		if (cancel_seen && !killed && now - cancel_at >= grace_ms) {
			kill(-job, SIGKILL);
			killed = 1;
		}
		if (limit_ms > 0 && stage == 0 && now - t0 >= limit_ms) {
			kill(-job, SIGUSR1);
			usr1_at = now;
			stage = 1;
		} else if (stage == 1 && now - usr1_at >= step_ms) {
			kill(-job, SIGTERM);
			stage = 2;
		} else if (stage == 2 && now - usr1_at >= 2 * step_ms) {
			kill(-job, SIGKILL);
			stage = 3;
		}
		nap(LOCAL_TICK_NS);
	}
}

/*
 * The supervisor: detach, record itself, fork the job, record the job,
 * wait for it and record how it ended.  Never returns.
 */
static void __attribute__((noreturn)) supervise(const struct launch *l)
{
	uint64_t self_start = 0, job_start = 0;
	siginfo_t si;
	pid_t job;
	int timed_out;

	proc_reset_signals();
	supervisor_detach(l);
	if (proc_read((uint64_t)getpid(), &self_start, NULL) == 0)
		write_pid_file(l->sup_tmp, l->sup_path, (uint64_t)getpid(),
			       self_start, 1);
	job = fork();
	if (job < 0)
		_exit(1);
	if (job == 0)
		job_run(l);
	setpgid(job, job);
	/* The job is not reaped yet, so /proc/<job> is there. */
	proc_read((uint64_t)job, &job_start, NULL);
	write_pid_file(l->start_tmp, l->start_path, job_start, 0, 0);
	write_pid_file(l->pid_tmp, l->pid_path, (uint64_t)job, 0, 0);
	/* A cancel that came while the job was starting saw no pid. */
	if (path_exists(l->cancel_path))
		kill(-job, SIGTERM);
	timed_out = supervise_wait(l, job, &si);
	if (timed_out < 0)
		_exit(1);
	/* Whatever the job left running in its group goes with it. */
	kill(-job, SIGKILL);
	write_exit_status(l, &si, timed_out);
	while (waitpid(job, NULL, 0) < 0 && errno == EINTR)
		;
	_exit(0);
}

/* ------------------------------------------------------------------ */
/* Paths, records and the lock                                         */
/* ------------------------------------------------------------------ */

/* The settings of 's'. */
static const struct sched_local *settings(const struct sched *s)
{
	return s->priv;
}

/* A new string: the record file 'name' of job 'id' ("" for the dir). */
static char *job_path(const struct sched *s, const char *id,
		      const char *name)
{
	struct buf b = BUF_INIT;

	buf_addf(&b, "%s/jobs/%s%s%s", s->state_dir, id, *name ? "/" : "",
		 name);
	return buf_detach(&b, NULL);
}

/* Whether the record file 'name' of job 'id' exists. */
static int job_has(const struct sched *s, const char *id, const char *name)
{
	char *p = job_path(s, id, name);
	int r = path_exists(p);

	free(p);
	return r;
}

/* Whether 'id' is a job id of ours: decimal digits, not too many. */
static int valid_id(const char *id)
{
	size_t i, n = strlen(id);

	if (n == 0 || n > 19 || id[0] == '0')
		return 0;
	for (i = 0; i < n; i++) {
		if (id[i] < '0' || id[i] > '9')
			return 0;
	}
	return 1;
}

/*
 * Take the lock of 's' (creating the state directory as needed) and
 * put its descriptor in '*fd_out'.
 */
static int local_lock(struct sched *s, int *fd_out, struct err *err)
{
	struct buf p = BUF_INIT;
	int fd, ret = -1;

	*fd_out = -1;
	if (transport_mkdirs(s->t, s->state_dir, 0700, err) < 0)
		goto out;
	buf_addf(&p, "%s/lock", s->state_dir);
	fd = open(buf_str(&p), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0) {
		err_set(err, ERR_IO_FAILED, "cannot open '%s': %s", buf_str(&p),
			strerror(errno));
		goto out;
	}
	while (flock(fd, LOCK_EX) < 0) {
		if (errno != EINTR) {
			err_set(err, ERR_IO_FAILED, "cannot lock '%s': %s",
				buf_str(&p), strerror(errno));
			close(fd);
			goto out;
		}
	}
	*fd_out = fd;
	ret = 0;
out:
	buf_release(&p);
	return ret;
}

/* Release the lock taken by local_lock() as 'fd' (-1: none). */
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
 * '*id_out' is a new string.
 */
static int next_job_id(struct sched *s, char **id_out, struct err *err)
{
	struct buf path = BUF_INIT, text = BUF_INIT, dir = BUF_INIT;
	struct err ignored = ERR_INIT;
	unsigned long long n = 1;
	char *end;
	int ret = -1;

	*id_out = NULL;
	buf_addf(&path, "%s/next_id", s->state_dir);
	if (transport_read_file(s->t, &text, s->state_dir, "next_id", 64,
				&ignored) == 0) {
		errno = 0;
		n = strtoull(buf_str(&text), &end, 10);
		if (errno || end == buf_str(&text) || n == 0)
			n = 1;
	}
	buf_addf(&dir, "%s/jobs", s->state_dir);
	if (transport_mkdirs(s->t, buf_str(&dir), 0700, err) < 0)
		goto out;
	for (;;) {
		buf_release(&dir);
		buf_addf(&dir, "%s/jobs/%llu", s->state_dir, n);
		if (mkdir(buf_str(&dir), 0700) == 0)
			break;
		if (errno != EEXIST) {
			err_set(err, ERR_IO_FAILED, "cannot create '%s': %s",
				buf_str(&dir), strerror(errno));
			goto out;
		}
		n++;
	}
	buf_release(&text);
	buf_addf(&text, "%llu\n", n + 1);
	if (transport_write_file(s->t, buf_str(&path), text.data, text.len,
				 0600, err) < 0)
		goto out;
	buf_release(&text);
	buf_addf(&text, "%llu", n);
	*id_out = buf_detach(&text, NULL);
	ret = 0;
out:
	err_release(&ignored);
	buf_release(&path);
	buf_release(&text);
	buf_release(&dir);
	return ret;
}

/* qsort() order of job ids: numeric. */
static int id_cmp(const void *a, const void *b)
{
	const char *x = *(const char *const *)a, *y = *(const char *const *)b;
	size_t lx = strlen(x), ly = strlen(y);

	if (lx != ly)
		return lx < ly ? -1 : 1;
	return strcmp(x, y);
}

/*
 * All job ids with a record, oldest first, as a new array of strings in
 * '*out' (empty when there are none yet).
 */
static int list_ids(struct sched *s, json_t **out, struct err *err)
{
	struct buf path = BUF_INIT;
	char **ids = NULL;
	size_t n = 0, alloc = 0, i;
	struct dirent *de;
	DIR *d;

	*out = NULL;
	buf_addf(&path, "%s/jobs", s->state_dir);
	d = opendir(buf_str(&path));
	if (!d && errno != ENOENT) {
		err_set(err, ERR_IO_FAILED, "cannot list '%s': %s", buf_str(&path),
			strerror(errno));
		buf_release(&path);
		return -1;
	}
	buf_release(&path);
	for (;;) {
		if (!d)
			break;
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
	char *path = job_path(s, id, name);
	char *dir = job_path(s, id, "");
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

/* Write the text 'text' as the record file 'name' of job 'id'. */
static int write_marker(struct sched *s, const char *id, const char *name,
			const char *text, struct err *err)
{
	char *path = job_path(s, id, name);
	int ret;

	ret = transport_write_file(s->t, path, text, strlen(text), 0600, err);
	free(path);
	return ret;
}

/* Remove the record file 'name' of job 'id'; missing is fine. */
static int remove_marker(struct sched *s, const char *id, const char *name,
			 struct err *err)
{
	char *path = job_path(s, id, name);
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

/* How many seconds ago the record file 'name' of job 'id' changed. */
static int64_t record_age(struct sched *s, const char *id, const char *name)
{
	char *path = job_path(s, id, name);
	struct stat sb;
	int64_t age = INT64_MAX;

	if (stat(path, &sb) == 0)
		age = (int64_t)time(NULL) - (int64_t)sb.st_mtime;
	free(path);
	return age;
}

/*
 * Decide the state of the job 'id' into 'v' (initialised by the
 * caller): its exit record, else its queue marker, else whether its
 * processes are alive, checked against their start times.
 */
static int job_inspect(struct sched *s, const char *id, struct job_view *v,
		       struct err *err)
{
	uint64_t pid = 0, start = 0, sup = 0, sup_start = 0;
	char *path = NULL;
	int have_pid, have_sup, r;
	int64_t age;

	v->state = SCHED_UNKNOWN;
	v->pid = -1;
	if (!valid_id(id) || !job_has(s, id, "")) {
		v->detail = "no such job";
		return 0;
	}
	v->cancel_requested = job_has(s, id, "cancel_requested");
	path = job_path(s, id, "pid");
	have_pid = read_numbers(path, &pid, NULL) == 0;
	free(path);
	if (have_pid)
		v->pid = (int64_t)pid;
	r = inspect_exit(s, id, v, err);
	if (r != 0)
		return r < 0 ? -1 : 0;
	if (job_has(s, id, "queued")) {
		v->state = SCHED_PENDING;
		v->detail = "queued";
		v->queued = 1;
		return 0;
	}
	path = job_path(s, id, "start_time");
	if (have_pid && read_numbers(path, &start, NULL) == 0 &&
	    proc_alive(pid, start)) {
		free(path);
		v->state = SCHED_RUNNING;
		return 0;
	}
	free(path);
	path = job_path(s, id, "supervisor");
	have_sup = read_numbers(path, &sup, &sup_start) == 0 &&
		   proc_alive(sup, sup_start);
	free(path);
	/* The supervisor may have written exit_status since we looked. */
	r = inspect_exit(s, id, v, err);
	if (r != 0)
		return r < 0 ? -1 : 0;
	if (have_sup) {
		v->state = have_pid ? SCHED_RUNNING : SCHED_PENDING;
		v->detail = have_pid ? "ending" : "starting";
		return 0;
	}
	if (!have_pid) {
		age = record_age(s, id, "launched");
		if (age == INT64_MAX)
			age = record_age(s, id, "spec.json");
		if (age < LOCAL_STARTING_S) {
			v->state = SCHED_PENDING;
			v->detail = "starting";
			return 0;
		}
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
static void launch_release(struct launch *l)
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

/* Fill 'l' for job 'id' from its submission 'spec'. */
static void launch_prepare(struct sched *s, struct launch *l, const char *id,
			   const json_t *spec)
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
	l->fd_max = LOCAL_FD_LOOP_MAX;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 &&
	    rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < LOCAL_FD_LOOP_MAX)
		l->fd_max = (int)rl.rlim_cur;
}

/*
 * Fork the supervisor of 'l': a child that starts a new session, forks
 * the supervisor and exits at once, so that it is reaped here and the
 * supervisor belongs to no one.  Returns 0, or -1 with errno set.
 */
static int launch_fork(const struct launch *l)
{
	pid_t child, sup;
	int status;

	child = fork();
	if (child < 0)
		return -1;
	if (child == 0) {
		setsid();
		sup = fork();
		if (sup == 0)
			supervise(l);
		_exit(sup < 0 ? 1 : 0);
	}
	while (waitpid(child, &status, 0) < 0) {
		if (errno != EINTR)
			return 0;	/* SIGCHLD ignored: reaped for us */
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		errno = EAGAIN;
		return -1;
	}
	return 0;
}

/*
 * Start the job 'id' (called under the lock): drop its queue marker,
 * mark it launched, fork its supervisor and wait up to
 * LOCAL_START_WAIT_MS for its pid file, so that a query right after sees
 * it running.  A job whose fork fails goes back to the queue.
 */
static int start_job(struct sched *s, const char *id, struct err *err)
{
	struct launch l;
	json_t *spec = NULL;
	char *pid_path = job_path(s, id, "pid");
	char stamp[IDS_TIME_LEN + 2];
	int64_t deadline;
	int ret = -1;

	memset(&l, 0, sizeof(l));
	if (read_record(s, &spec, id, "spec.json", LOCAL_SPEC_MAX, err) < 0)
		goto out;
	launch_prepare(s, &l, id, spec);
	ids_now(stamp);
	if (remove_marker(s, id, "queued", err) < 0 ||
	    write_marker(s, id, "launched", stamp, err) < 0)
		goto out;
	if (launch_fork(&l) < 0) {
		err_set(err, ERR_SCHEDULER_UNAVAILABLE,
			"cannot start local job %s: %s", id, strerror(errno));
		write_marker(s, id, "queued", stamp, NULL);
		remove_marker(s, id, "launched", NULL);
		goto out;
	}
	deadline = mono_ms() + LOCAL_START_WAIT_MS;
	while (!path_exists(pid_path) && mono_ms() < deadline)
		nap(LOCAL_TICK_NS / 10);
	ret = 0;
out:
	launch_release(&l);
	json_decref(spec);
	free(pid_path);
	return ret;
}

/*
 * Start queued jobs, oldest first, while fewer than max_concurrent_jobs
 * are active (called under the lock).
 */
static int advance_queue(struct sched *s, struct err *err)
{
	json_t *ids = NULL, *queued = json_array(), *v;
	struct job_view view;
	size_t i;
	int active = 0, ret = -1;

	if (list_ids(s, &ids, err) < 0)
		goto out;
	json_array_foreach(ids, i, v) {
		const char *id = json_string_value(v);

		if (job_has(s, id, "exit_status"))
			continue;
		memset(&view, 0, sizeof(view));
		if (job_inspect(s, id, &view, err) < 0)
			goto out;
		if (view.queued)
			json_array_append(queued, v);
		else if (view.state == SCHED_RUNNING ||
			 view.state == SCHED_PENDING)
			active++;
		job_view_release(&view);
	}
	json_array_foreach(queued, i, v) {
		if (active >= settings(s)->max_jobs)
			break;
		if (start_job(s, json_string_value(v), err) < 0)
			goto out;
		active++;
	}
	ret = 0;
out:
	json_decref(ids);
	json_decref(queued);
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
		if (parse_u64(&p, &days) < 0 || *p != '-')
			return -1;
		p++;
	}
	for (;;) {
		if (n == 3 || parse_u64(&p, &part[n]) < 0)
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
	*out = spec;
	return 0;
}

/*
 * Submit 'req': record it as queued under a new id in '*job_id_out',
 * then start queued jobs while slots are free.  A start that fails
 * leaves the job queued for the next query, which reports the failure.
 */
static int local_submit(struct sched *s, char **job_id_out,
			const struct sched_submit *req, struct err *err)
{
	struct err start_err = ERR_INIT;
	json_t *spec = NULL;
	char *id = NULL;
	char now[IDS_TIME_LEN];
	int fd = -1, ret = -1;

	*job_id_out = NULL;
	if (submit_spec(&spec, req, err) < 0)
		goto out;
	if (local_lock(s, &fd, err) < 0 || next_job_id(s, &id, err) < 0)
		goto out;
	ids_now(now);
	if (write_record(s, id, "spec.json", spec, err) < 0 ||
	    write_marker(s, id, "queued", now, err) < 0)
		goto out;
	if (advance_queue(s, &start_err) < 0)
		err_clear(&start_err);
	*job_id_out = id;
	id = NULL;
	ret = 0;
out:
	local_unlock(fd);
	err_release(&start_err);
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

/* The states of 'job_ids' (see struct sched_ops), after a queue step. */
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
	    advance_queue(s, err) < 0)
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
 */
static int cancel_one(struct sched *s, const char *id, struct err *err)
{
	char now[IDS_TIME_LEN], grace[32];
	uint64_t pid, start;
	char *pid_path = NULL, *start_path = NULL;
	json_t *exit = NULL;
	int ret = -1;

	if (!valid_id(id) || !job_has(s, id, "") ||
	    job_has(s, id, "exit_status"))
		return 0;
	if (job_has(s, id, "queued")) {
		ids_now(now);
		exit = json_pack("{s:n, s:n, s:s, s:s}", "exit_code",
				 "signal", "reason", "cancelled", "ended_at",
				 now);
		if (write_record(s, id, "exit_status", exit, err) < 0 ||
		    remove_marker(s, id, "queued", err) < 0)
			goto out;
		ret = 0;
		goto out;
	}
	snprintf(grace, sizeof(grace), "%d\n", settings(s)->grace_s);
	if (write_marker(s, id, "cancel_requested", grace, err) < 0)
		goto out;
	pid_path = job_path(s, id, "pid");
	start_path = job_path(s, id, "start_time");
	if (read_numbers(pid_path, &pid, NULL) == 0 &&
	    read_numbers(start_path, &start, NULL) == 0 &&
	    proc_alive(pid, start))
		kill(-(pid_t)pid, SIGTERM);
	ret = 0;
out:
	json_decref(exit);
	free(pid_path);
	free(start_path);
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
		if (cancel_one(s, json_string_value(v), err) < 0)
			goto out;
	}
	ret = 0;
out:
	local_unlock(fd);
	return ret;
}

/* Whether the string 'key' of 'spec' contains 'needle'. */
static int field_contains(const json_t *spec, const char *key,
			  const char *needle)
{
	const char *v = json_string_value(json_object_get(spec, key));

	return v && strstr(v, needle);
}

/* The ids of the jobs whose comment or name contains 'run_id'. */
static int local_find(struct sched *s, json_t **out, const char *run_id,
		      struct err *err)
{
	json_t *ids = NULL, *found = NULL, *spec, *v;
	struct err ignored = ERR_INIT;
	size_t i;

	*out = NULL;
	if (list_ids(s, &ids, err) < 0)
		return -1;
	found = json_array();
	json_array_foreach(ids, i, v) {
		if (read_record(s, &spec, json_string_value(v), "spec.json",
				LOCAL_SPEC_MAX, &ignored) < 0) {
			err_clear(&ignored);
			continue;
		}
		if (field_contains(spec, "comment", run_id) ||
		    field_contains(spec, "name", run_id))
			json_array_append(found, v);
		json_decref(spec);
	}
	err_release(&ignored);
	json_decref(ids);
	*out = found;
	return 0;
}

/* ------------------------------------------------------------------ */
/* Opening                                                             */
/* ------------------------------------------------------------------ */

/*
 * The integer 'key' of 'cluster', which config loading filled in from
 * the schema's default when the file left it out, into '*out'.  A value
 * missing or below 'min' is a bug of the caller: the cluster did not
 * come from a loaded config.
 */
static int cluster_int(int *out, const struct sched *s, const char *key,
		       int min, struct err *err)
{
	const json_t *v = json_object_get(s->cluster, key);

	if (!json_is_integer(v) || json_integer_value(v) < min ||
	    json_integer_value(v) > INT_MAX)
		return err_set(err, ERR_INTERNAL, "cluster '%s': no valid %s "
			       "(its defaults were not filled in)",
			       s->cluster_name, key);
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
	abs = absolute(s->state_dir);
	free(s->state_dir);
	s->state_dir = abs;
	l = xmalloc(sizeof(*l));
	if (cluster_int(&l->max_jobs, s, "max_concurrent_jobs", 1, err) < 0 ||
	    cluster_int(&l->grace_s, s, "cancel_grace_s", 0, err) < 0) {
		free(l);
		return -1;
	}
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
	.open = local_open,
	.submit = local_submit,
	.query = local_query,
	.cancel = local_cancel,
	.find = local_find,
	.release = local_release,
};
