/*
 * sched_local_child.c: what the local scheduler runs after fork(): the
 * supervisor of a job and the job itself (see sched_local_child.h), and
 * the small record readers the parent shares with them.
 *
 * A job is started by a double fork: the grandchild, in a new session,
 * is the supervisor; it records itself, forks the job (bash on the
 * script, in its own process group), enforces the time limit and the
 * cancel grace period, and writes exit_status when the job ends.  The
 * job records its own pid before it runs anything.
 *
 * Everything here is async-signal-safe, because the parent may have had
 * threads: only system calls, on data prepared before the fork.  No
 * malloc, no stdio, no jansson, no gmtime_r (it takes a lock); numbers
 * and times are formatted by hand into fixed buffers.  t9002 checks the
 * symbols this file's object calls.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>	/* rename() only: no stream is used here */
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "proc.h"
#include "sched_local_child.h"
#include "banned.h"

/* Seconds from SIGUSR1 (time limit) to SIGTERM, and on to SIGKILL. */
#define CHILD_ESCALATE_S 10
/* How often the supervisor looks at its job, in nanoseconds. */
#define CHILD_TICK_NS 100000000L

/* ------------------------------------------------------------------ */
/* Text without allocating                                             */
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

/* ------------------------------------------------------------------ */
/* Files, clocks and processes                                         */
/* ------------------------------------------------------------------ */

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

int sched_local_parse_u64(const char **p, uint64_t *out)
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

int sched_local_read_numbers(const char *path, uint64_t *a, uint64_t *b)
{
	char text[64];
	const char *p = text;

	if (read_small(path, text, sizeof(text)) <= 0)
		return -1;
	if (sched_local_parse_u64(&p, a) < 0)
		return -1;
	if (!b)
		return 0;
	if (*p != ' ')
		return -1;
	p++;
	return sched_local_parse_u64(&p, b);
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
	return sched_local_parse_u64(&p, start_out);
}

int sched_local_proc_alive(uint64_t pid, uint64_t start)
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

/* Write "<pid> <start>\n" or "<pid>\n" to 'path' via 'tmp'; 0 or -1. */
static int write_numbers(const char *tmp, const char *path, uint64_t a,
			 uint64_t b, int with_b)
{
	struct text t = { "", 0 };

	text_add_u64(&t, a, 1);
	if (with_b) {
		text_add(&t, " ");
		text_add_u64(&t, b, 1);
	}
	text_add(&t, "\n");
	return write_small(tmp, path, t.b, t.n);
}

/*
 * Close the descriptors from 'lo' to 'hi' (inclusive; -1: all the rest)
 * when there are any; without close_range(), up to 'fd_max' only.
 */
static void close_span(int lo, int hi, int fd_max)
{
	int fd, end = hi < 0 ? fd_max - 1 : hi;

	if (hi >= 0 && lo > hi)
		return;
	if (close_range((unsigned)lo, hi < 0 ? ~0U : (unsigned)hi, 0) == 0)
		return;
	for (fd = lo; fd <= end; fd++)
		close(fd);
}

/*
 * Close every descriptor from 3 on but 'keep_a' and 'keep_b' (either
 * may be -1); 'fd_max' bounds the fallback loop of close_span().
 */
static void close_all_but(int keep_a, int keep_b, int fd_max)
{
	int lo = keep_a < keep_b ? keep_a : keep_b;
	int hi = keep_a < keep_b ? keep_b : keep_a;

	if (lo < 3)
		lo = hi;	/* at most one kept above stdio */
	if (hi < 3) {
		close_span(3, -1, fd_max);
		return;
	}
	close_span(3, lo - 1, fd_max);
	if (lo != hi)
		close_span(lo + 1, hi - 1, fd_max);
	close_span(hi + 1, -1, fd_max);
}

/* 'fd' moved above stdio (a copy at 3 or more), or -1 when it is -1. */
static int above_stdio(int fd)
{
	if (fd < 0 || fd > 2)
		return fd;
	return fcntl(fd, F_DUPFD, 3);
}

/* ------------------------------------------------------------------ */
/* The job                                                             */
/* ------------------------------------------------------------------ */

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
 * The job process: its own process group, its pid recorded (start_time
 * first, so that a pid file always has its start time), its output
 * files, every other descriptor closed (the copies of the lock and of
 * the ready pipe with them, which tells the parent the job is
 * recorded), its directory, then bash on the script.  Never returns.
 */
static void __attribute__((noreturn))
job_run(const struct sched_local_launch *l)
{
	uint64_t start = 0;

	setpgid(0, 0);
	proc_read((uint64_t)getpid(), &start, NULL);
	write_numbers(l->start_tmp, l->start_path, start, 0, 0);
	write_numbers(l->pid_tmp, l->pid_path, (uint64_t)getpid(), 0, 0);
	if (open_onto(l->stdout_path, 1) < 0)
		_exit(126);
	if (open_onto(l->stderr_path, 2) < 0) {
		job_complain("cannot open ", l->stderr_path);
		_exit(126);
	}
	close_all_but(-1, -1, l->fd_max);
	if (chdir(l->workdir) < 0) {
		job_complain("cannot enter ", l->workdir);
		_exit(126);
	}
	execve("/bin/bash", l->argv, l->envp);
	job_complain("cannot run /bin/bash for ", l->argv[1]);
	_exit(127);
}

/* ------------------------------------------------------------------ */
/* The supervisor                                                      */
/* ------------------------------------------------------------------ */

/* The cancel grace in the marker 'path', or 'fallback' seconds. */
static int read_grace(const char *path, int fallback)
{
	uint64_t v;

	if (sched_local_read_numbers(path, &v, NULL) < 0 || v > 86400)
		return fallback;
	return (int)v;
}

/*
 * Record how the job ended, from the waitid() answer 'si', in the
 * exit_status file: 'timed_out' when the time limit was enforced; a
 * cancel marker wins over both.
 */
static void write_exit_status(const struct sched_local_launch *l,
			      const siginfo_t *si, int timed_out)
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
static int supervise_wait(const struct sched_local_launch *l, pid_t job,
			  siginfo_t *si)
{
	int64_t t0 = mono_ms(), now, cancel_at = 0, usr1_at = 0;
	int64_t limit_ms = (int64_t)l->time_limit_s * 1000;
	int64_t step_ms = (int64_t)CHILD_ESCALATE_S * 1000;
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
		nap(CHILD_TICK_NS);
	}
}

/*
 * The supervisor: standard streams to /dev/null and every descriptor
 * closed but its copies of the lock and of the ready pipe 'ready_fd';
 * record itself; fork the job; then let go of the lock and the pipe (the
 * job keeps its own copies until it has recorded its pid), wait for the
 * job and record how it ended.  When the job cannot be forked, its own
 * record goes too, so the job is still queued.  Never returns.
 */
static void __attribute__((noreturn))
supervise(const struct sched_local_launch *l, int ready_fd)
{
	uint64_t self_start = 0;
	int lock_fd = above_stdio(l->lock_fd), null_fd;
	siginfo_t si;
	pid_t job;
	int timed_out;

	proc_reset_signals();
	ready_fd = above_stdio(ready_fd);
	null_fd = open("/dev/null", O_RDWR);
	if (null_fd >= 0) {
		dup2(null_fd, 0);
		dup2(null_fd, 1);
		dup2(null_fd, 2);
	}
	close_all_but(lock_fd, ready_fd, l->fd_max);
	if (proc_read((uint64_t)getpid(), &self_start, NULL) < 0 ||
	    write_numbers(l->sup_tmp, l->sup_path, (uint64_t)getpid(),
			  self_start, 1) < 0)
		_exit(1);
	job = fork();
	if (job < 0) {
		unlink(l->sup_path);
		_exit(1);
	}
	if (job == 0)
		job_run(l);
	setpgid(job, job);
	close(ready_fd);
	if (lock_fd >= 0)
		close(lock_fd);
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

int sched_local_fork(const struct sched_local_launch *l, pid_t *child_out,
		     int *ready_fd_out)
{
	int ready[2];
	pid_t child, sup;

	*child_out = -1;
	*ready_fd_out = -1;
	if (pipe2(ready, O_CLOEXEC) < 0)
		return -1;
	child = fork();
	if (child < 0) {
		close(ready[0]);
		close(ready[1]);
		return -1;
	}
	if (child == 0) {
		close(ready[0]);
		setsid();
		sup = fork();
		if (sup == 0)
			supervise(l, ready[1]);
		_exit(sup < 0 ? 1 : 0);
	}
	close(ready[1]);
	*child_out = child;
	*ready_fd_out = ready[0];
	return 0;
}
