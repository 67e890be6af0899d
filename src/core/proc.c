/*
 * proc.c: running programs on this machine (see proc.h).  A command is
 * forked and exec'd directly, in its own process group, with its
 * standard input fed and its output read through poll(), each bounded;
 * no shell is ever involved.  The code between fork() and exec() calls
 * only async-signal-safe functions, because `hpcloop serve` runs this
 * inside a threaded process.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "proc.h"
#include "xalloc.h"
#include "banned.h"

/* How long the pump waits in poll() before it looks at the child again. */
#define EXEC_TICK_MS 100

/* ------------------------------------------------------------------ */
/* The child side                                                      */
/* ------------------------------------------------------------------ */

void proc_reset_signals(void)
{
	struct sigaction sa;
	sigset_t none;
	int sig;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	sigemptyset(&sa.sa_mask);
	for (sig = 1; sig < NSIG; sig++) {
		if (sig != SIGKILL && sig != SIGSTOP)
			sigaction(sig, &sa, NULL);
	}
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
}

/* Where the child failed before exec, as it reports it to the parent. */
enum exec_stage { EXEC_STAGE_SETUP = 1, EXEC_STAGE_CWD, EXEC_STAGE_EXEC };

/* What the child needs after fork(), all prepared before it. */
struct exec_child {
	const char *path;	/* the program, resolved */
	char *const *argv;	/* its arguments */
	const char *cwd;	/* where to run it, or NULL */
	int in_fd;		/* becomes standard input */
	int out_fd;		/* becomes standard output */
	int err_fd;		/* becomes standard error */
	int report_fd;		/* close-on-exec pipe for a failure report */
};

/* Tell the parent through 'fd' that 'stage' failed with 'e', and exit. */
static void __attribute__((noreturn)) child_fail(int fd, int stage, int e)
{
	int msg[2];
	ssize_t w;

	msg[0] = stage;
	msg[1] = e;
	w = write(fd, msg, sizeof(msg));
	(void)w;
	_exit(127);
}

/*
 * The child side of proc_run(): set up the process group, the
 * standard descriptors and the directory described by 'c', then exec.
 * Only async-signal-safe calls.
 */
static void __attribute__((noreturn)) exec_child_run(const struct exec_child *c)
{
	setpgid(0, 0);
	proc_reset_signals();
	if (dup2(c->in_fd, 0) < 0 || dup2(c->out_fd, 1) < 0 ||
	    dup2(c->err_fd, 2) < 0)
		child_fail(c->report_fd, EXEC_STAGE_SETUP, errno);
	/* Everything else this process holds closes on exec. */
	close_range(3, ~0U, CLOSE_RANGE_CLOEXEC);
	if (c->cwd && chdir(c->cwd) < 0)
		child_fail(c->report_fd, EXEC_STAGE_CWD, errno);
	execv(c->path, c->argv);
	child_fail(c->report_fd, EXEC_STAGE_EXEC, errno);
}

/* ------------------------------------------------------------------ */
/* The parent side                                                     */
/* ------------------------------------------------------------------ */

/* The current time on the monotonic clock, in milliseconds. */
static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * Find the program 'name' as execvp() would, but before forking (the
 * child must not allocate): a name with a slash is used as it is,
 * otherwise each directory of PATH is tried.  '*out' is a new string.
 */
static int resolve_program(char **out, const char *name, struct err *err)
{
	const char *path = getenv("PATH");
	const char *p, *end;
	struct buf cand = BUF_INIT;
	struct stat sb;

	*out = NULL;
	if (strchr(name, '/')) {
		*out = xstrdup(name);
		return 0;
	}
	if (!path || !*path)
		path = "/usr/local/bin:/usr/bin:/bin";
	for (p = path; ; p = end + 1) {
		end = strchr(p, ':');
		if (!end)
			end = p + strlen(p);
		buf_release(&cand);
		if (end == p)
			buf_adds(&cand, ".");
		else
			buf_add(&cand, p, (size_t)(end - p));
		buf_addf(&cand, "/%s", name);
		if (stat(buf_str(&cand), &sb) == 0 && S_ISREG(sb.st_mode) &&
		    access(buf_str(&cand), X_OK) == 0) {
			*out = buf_detach(&cand, NULL);
			return 0;
		}
		if (!*end)
			break;
	}
	buf_release(&cand);
	return err_set(err, ERR_NOT_FOUND, "cannot find program '%s' on PATH",
		       name);
}

/*
 * write() on 'fd' without dying of SIGPIPE when the reader is gone:
 * SIGPIPE is blocked in this thread for the call, and a SIGPIPE that
 * the call raised is consumed.  EPIPE is then returned as usual.
 */
static ssize_t write_nosigpipe(int fd, const void *data, size_t len)
{
	static const struct timespec zero = { 0, 0 };
	sigset_t pipe_set, old, pending;
	int was_pending, saved;
	ssize_t w;

	sigemptyset(&pipe_set);
	sigaddset(&pipe_set, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &pipe_set, &old);
	sigpending(&pending);
	was_pending = sigismember(&pending, SIGPIPE);
	w = write(fd, data, len);
	saved = errno;
	if (w < 0 && saved == EPIPE && !was_pending)
		sigtimedwait(&pipe_set, NULL, &zero);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	errno = saved;
	return w;
}

/*
 * Read what is ready on '*fd' into 'b', keeping at most its limit and
 * setting '*truncated' when more came; close '*fd' (and set it to -1)
 * at end of file.  Returns 0, or -1 on a read error (errno set).
 */
static int drain_pipe(int *fd, struct buf *b, int *truncated)
{
	char chunk[8192];
	size_t room;
	ssize_t n;

	n = read(*fd, chunk, sizeof(chunk));
	if (n < 0)
		return errno == EINTR || errno == EAGAIN ? 0 : -1;
	if (n == 0) {
		close(*fd);
		*fd = -1;
		return 0;
	}
	room = b->max && b->max > b->len ? b->max - b->len : 0;
	if (!b->max)
		room = (size_t)n;
	if ((size_t)n > room)
		*truncated = 1;
	if (room > (size_t)n)
		room = (size_t)n;
	if (room)
		buf_add(b, chunk, room);
	return 0;
}

/* Store the wait status 'status' in 'res'. */
static void set_status(struct exec_result *res, int status)
{
	if (WIFSIGNALED(status)) {
		res->exit_code = -1;
		res->signal = WTERMSIG(status);
	} else {
		res->exit_code = WEXITSTATUS(status);
		res->signal = 0;
	}
}

/* Close 'fd' unless it is -1, and set it to -1. */
static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

/*
 * Wait for the report of the child 'pid' on 'report_fd': nothing (end of
 * file) means exec succeeded; otherwise reap the child and turn the
 * report into an error about 'argv0' or 'cwd'.
 */
static int exec_check_report(int report_fd, pid_t pid, const char *argv0,
			     const char *cwd, struct err *err)
{
	enum err_code code;
	int msg[2];
	ssize_t n;
	int status;

	do {
		n = read(report_fd, msg, sizeof(msg));
	} while (n < 0 && errno == EINTR);
	if (n != (ssize_t)sizeof(msg))
		return 0;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	code = msg[1] == ENOENT ? ERR_NOT_FOUND : ERR_IO_FAILED;
	if (msg[0] == EXEC_STAGE_CWD)
		return err_set(err, code, "cannot enter directory '%s': %s",
			       cwd, strerror(msg[1]));
	if (msg[0] == EXEC_STAGE_EXEC)
		return err_set(err, code, "cannot run '%s': %s", argv0,
			       strerror(msg[1]));
	return err_set(err, ERR_IO_FAILED, "cannot set up '%s': %s", argv0,
		       strerror(msg[1]));
}

/*
 * The pump of proc_run(): feed 'stdin_data' to '*in_fd', read
 * '*out_fd' and '*err_fd' into 'res', and wait for the child 'pid',
 * killing its group when 'timeout_s' passes.  Returns 0 when the child
 * was reaped, 1 on timeout (the child killed and reaped), -1 on a poll
 * error (errno set).
 */
static int exec_pump(struct exec_result *res, pid_t pid, int *in_fd,
		     int *out_fd, int *err_fd, const char *stdin_data,
		     size_t stdin_len, int timeout_s)
{
	int64_t deadline = now_ms() + (int64_t)timeout_s * 1000;
	size_t sent = 0;
	int reaped = 0, status = 0;

	for (;;) {
		struct pollfd pfd[3];
		int *which[3];
		int nfds = 0, wait_ms, n, i;
		int64_t left = deadline - now_ms();

		if (!reaped && waitpid(pid, &status, WNOHANG) == pid)
			reaped = 1;
		if (reaped && *out_fd < 0 && *err_fd < 0)
			break;
		if (!reaped && timeout_s > 0 && left <= 0) {
			kill(-pid, SIGKILL);
			while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
				;
			set_status(res, status);
			return 1;
		}
		if (*in_fd >= 0) {
			pfd[nfds].fd = *in_fd;
			pfd[nfds].events = POLLOUT;
			which[nfds++] = in_fd;
		}
		if (*out_fd >= 0) {
			pfd[nfds].fd = *out_fd;
			pfd[nfds].events = POLLIN;
			which[nfds++] = out_fd;
		}
		if (*err_fd >= 0) {
			pfd[nfds].fd = *err_fd;
			pfd[nfds].events = POLLIN;
			which[nfds++] = err_fd;
		}
		wait_ms = EXEC_TICK_MS;
		if (timeout_s > 0 && left < wait_ms)
			wait_ms = left < 0 ? 0 : (int)left;
		if (reaped)
			wait_ms = 0;
		if (nfds == 0 && timeout_s == 0) {
			while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
				;
			reaped = 1;
			continue;
		}
		n = poll(nfds ? pfd : NULL, (nfds_t)nfds, wait_ms);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		/*
		 * The child is gone and nothing more is ready: whatever is
		 * still holding the pipes is some background process.
		 */
		if (n == 0 && reaped)
			break;
		for (i = 0; i < nfds; i++) {
			if (!pfd[i].revents)
				continue;
			if (which[i] == in_fd) {
				ssize_t w = 0;

				if (pfd[i].revents & POLLOUT)
					w = write_nosigpipe(*in_fd,
							    stdin_data + sent,
							    stdin_len - sent);
				if (w > 0)
					sent += (size_t)w;
				if (w < 0 && (errno == EAGAIN ||
					      errno == EINTR))
					w = 0;
				if (sent == stdin_len || w < 0 ||
				    !(pfd[i].revents & POLLOUT))
					close_fd(in_fd);
			} else if (which[i] == out_fd) {
				if (drain_pipe(out_fd, &res->out,
					       &res->out_truncated) < 0)
					close_fd(out_fd);
			} else if (drain_pipe(err_fd, &res->err,
					      &res->err_truncated) < 0) {
				close_fd(err_fd);
			}
		}
	}
	set_status(res, status);
	return 0;
}

int proc_run(struct exec_result *res, const char *const *argv,
	     const char *cwd, const void *stdin_data, size_t stdin_len,
	     int timeout_s, struct err *err)
{
	int in_pipe[2] = { -1, -1 }, out_pipe[2] = { -1, -1 };
	int err_pipe[2] = { -1, -1 }, report[2] = { -1, -1 };
	int null_fd = -1;
	char *path = NULL;
	struct exec_child c;
	pid_t pid;
	int r, ret = -1;

	if (resolve_program(&path, argv[0], err) < 0)
		goto out;
	if (stdin_data) {
		if (pipe2(in_pipe, O_CLOEXEC) < 0)
			goto io_error;
	} else {
		null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
		if (null_fd < 0)
			goto io_error;
	}
	if (pipe2(out_pipe, O_CLOEXEC) < 0 || pipe2(err_pipe, O_CLOEXEC) < 0 ||
	    pipe2(report, O_CLOEXEC) < 0)
		goto io_error;
	c.path = path;
	c.argv = (char *const *)argv;
	c.cwd = cwd;
	c.in_fd = stdin_data ? in_pipe[0] : null_fd;
	c.out_fd = out_pipe[1];
	c.err_fd = err_pipe[1];
	c.report_fd = report[1];

	pid = fork();
	if (pid < 0)
		goto io_error;
	if (pid == 0)
		exec_child_run(&c);
	/* Both sides set the group, so it exists before any kill(). */
	setpgid(pid, pid);
	close_fd(&in_pipe[0]);
	close_fd(&out_pipe[1]);
	close_fd(&err_pipe[1]);
	close_fd(&report[1]);
	close_fd(&null_fd);
	if (exec_check_report(report[0], pid, argv[0], cwd, err) < 0)
		goto out;
	if (in_pipe[1] >= 0 && stdin_len == 0)
		close_fd(&in_pipe[1]);
	if (in_pipe[1] >= 0)
		fcntl(in_pipe[1], F_SETFL, O_NONBLOCK);

	r = exec_pump(res, pid, &in_pipe[1], &out_pipe[0], &err_pipe[0],
		      stdin_data, stdin_len, timeout_s);
	if (r < 0) {
		err_set(err, ERR_IO_FAILED, "cannot wait for '%s': %s", argv[0],
			strerror(errno));
		kill(-pid, SIGKILL);
		while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
			;
		goto out;
	}
	if (r == 1) {
		err_set(err, ERR_TIMEOUT, "'%s' timed out after %d s",
			argv[0], timeout_s);
		goto out;
	}
	ret = 0;
	goto out;

io_error:
	err_set(err, ERR_IO_FAILED, "cannot start '%s': %s", argv[0],
		strerror(errno));
out:
	close_fd(&in_pipe[0]);
	close_fd(&in_pipe[1]);
	close_fd(&out_pipe[0]);
	close_fd(&out_pipe[1]);
	close_fd(&err_pipe[0]);
	close_fd(&err_pipe[1]);
	close_fd(&report[0]);
	close_fd(&report[1]);
	close_fd(&null_fd);
	free(path);
	return ret;
}
