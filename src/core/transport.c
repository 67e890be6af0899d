/*
 * transport.c: the transport handle, its dispatch, and the "local"
 * transport (see transport.h).  Local commands are forked and exec'd
 * directly, in their own process group, with pipes read through poll();
 * no shell is ever involved.  Local files are written atomically through
 * a temporary file in the same directory.  The code between fork() and
 * exec() calls only async-signal-safe functions, because `hpcloop serve`
 * runs this inside a threaded process.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "transport.h"
#include "proc.h"
#include "xalloc.h"
#include "banned.h"

/* The largest relative path transport_list() builds. */
#define LIST_PATH_MAX 4096
/* The deepest transport_list() descends, whatever the caller asks. */
#define LIST_DEPTH_MAX 64
/* How long exec waits in poll() before it looks at the child again. */
#define EXEC_TICK_MS 100

struct transport {
	const struct transport_ops *ops;	/* static table of the kind */
	void *priv;				/* the kind's own data */
};

/* The way to open "ssh", once ssh.c registered it. */
static int (*ssh_open)(struct transport **out, const json_t *cluster,
		       struct err *err);

/* ------------------------------------------------------------------ */
/* Handles and results                                                 */
/* ------------------------------------------------------------------ */

struct transport *transport_new(const struct transport_ops *ops, void *priv)
{
	struct transport *t = xmalloc(sizeof(*t));

	t->ops = ops;
	t->priv = priv;
	return t;
}

void *transport_priv(const struct transport *t)
{
	return t->priv;
}

void transport_register_ssh(int (*open)(struct transport **out,
					const json_t *cluster,
					struct err *err))
{
	ssh_open = open;
}

void transport_close(struct transport *t)
{
	if (!t)
		return;
	if (t->ops->close)
		t->ops->close(t);
	free(t);
}

const char *transport_name(const struct transport *t)
{
	return t->ops->name;
}

void exec_result_init(struct exec_result *r, size_t max_out)
{
	r->exit_code = 0;
	r->signal = 0;
	buf_init(&r->out, max_out);
	buf_init(&r->err, max_out);
	r->out_truncated = 0;
	r->err_truncated = 0;
}

void exec_result_release(struct exec_result *r)
{
	if (!r)
		return;
	buf_release(&r->out);
	buf_release(&r->err);
}

/* ------------------------------------------------------------------ */
/* Local commands                                                      */
/* ------------------------------------------------------------------ */

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
 * The child side of transport_exec(): set up the process group, the
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
	if (msg[0] == EXEC_STAGE_CWD)
		return err_set(err, msg[1] == ENOENT ? ERR_NOT_FOUND : ERR_IO_FAILED,
			       "cannot enter directory '%s': %s", cwd,
			       strerror(msg[1]));
	if (msg[0] == EXEC_STAGE_EXEC)
		return err_set(err, msg[1] == ENOENT ? ERR_NOT_FOUND : ERR_IO_FAILED,
			       "cannot run '%s': %s", argv0,
			       strerror(msg[1]));
	return err_set(err, ERR_IO_FAILED, "cannot set up '%s': %s", argv0,
		       strerror(msg[1]));
}

/*
 * The pump of transport_exec(): feed 'stdin_data' to '*in_fd', read
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

/*
 * The local exec: see transport_exec() in transport.h for 'res',
 * 'argv', 'cwd', 'stdin_data', 'stdin_len' and 'timeout_s'.
 */
static int local_exec(struct transport *t, struct exec_result *res,
		      const char *const *argv, const char *cwd,
		      const void *stdin_data, size_t stdin_len, int timeout_s,
		      struct err *err)
{
	int in_pipe[2] = { -1, -1 }, out_pipe[2] = { -1, -1 };
	int err_pipe[2] = { -1, -1 }, report[2] = { -1, -1 };
	int null_fd = -1;
	char *path = NULL;
	struct exec_child c;
	pid_t pid;
	int r, ret = -1;

	(void)t;
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

/* ------------------------------------------------------------------ */
/* Local files                                                         */
/* ------------------------------------------------------------------ */

/*
 * Make the one directory 'path' with 'mode'; one that is already there
 * is fine.  'report' is the path the caller asked for, for messages.
 */
static int mkdir_one(const char *path, int mode, const char *report,
		     struct err *err)
{
	struct stat sb;

	if (mkdir(path, (mode_t)mode) == 0)
		return 0;
	if (errno == EEXIST && stat(path, &sb) == 0 && S_ISDIR(sb.st_mode))
		return 0;
	if (errno == EEXIST)
		return err_set(err, ERR_IO_FAILED,
			       "cannot create directory '%s': '%s' is not a "
			       "directory", report, path);
	return err_set(err, ERR_IO_FAILED, "cannot create directory '%s': %s",
		       report, strerror(errno));
}

/* mkdir -p 'path' with 'mode' (see transport_mkdirs()). */
static int local_mkdirs(struct transport *t, const char *path, int mode,
			struct err *err)
{
	char *p = xstrdup(path);
	char *s;
	int ret = -1;

	(void)t;
	for (s = p + 1; *s; s++) {
		if (*s != '/' || s[-1] == '/')
			continue;
		*s = '\0';
		if (mkdir_one(p, mode, path, err) < 0)
			goto out;
		*s = '/';
	}
	if (mkdir_one(p, mode, path, err) < 0)
		goto out;
	ret = 0;
out:
	free(p);
	return ret;
}

/* The directory part of 'path' as a new string ("." when it has none). */
static char *dir_of(const char *path)
{
	const char *slash = strrchr(path, '/');

	if (!slash)
		return xstrdup(".");
	if (slash == path)
		return xstrdup("/");
	return xstrndup(path, (size_t)(slash - path));
}

/* Flush the directory 'dir' so that a rename in it is durable. */
static void sync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0)
		return;
	fsync(fd);
	close(fd);
}

/* Write all 'len' bytes of 'data' to 'fd'; -1 with errno on failure. */
static int write_all(int fd, const char *data, size_t len)
{
	while (len) {
		ssize_t w = write(fd, data, len);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -1;
		data += w;
		len -= (size_t)w;
	}
	return 0;
}

/*
 * Replace 'path' with 'data' of 'len' bytes, with exactly 'mode', through
 * a temporary file in the same directory (see transport_write_file()).
 */
static int local_write_file(struct transport *t, const char *path,
			    const void *data, size_t len, int mode,
			    struct err *err)
{
	char *dir = dir_of(path);
	const char *base = strrchr(path, '/');
	struct buf tmp = BUF_INIT;
	int fd = -1, ret = -1;

	base = base ? base + 1 : path;
	if (!*base) {
		err_set(err, ERR_IO_FAILED, "cannot write '%s': not a file name",
			path);
		goto out;
	}
	if (strcmp(dir, ".") && local_mkdirs(t, dir, 0755, err) < 0)
		goto out;
	buf_addf(&tmp, "%s/.%s.tmp-XXXXXX", dir, base);
	fd = mkostemp(tmp.data, O_CLOEXEC);
	if (fd < 0) {
		buf_release(&tmp);
		goto io_error;
	}
	if (fchmod(fd, (mode_t)(mode & 07777)) < 0 ||
	    write_all(fd, data, len) < 0 || fsync(fd) < 0)
		goto io_error;
	if (close(fd) < 0) {
		fd = -1;
		goto io_error;
	}
	fd = -1;
	if (rename(tmp.data, path) < 0)
		goto io_error;
	buf_release(&tmp);
	sync_dir(dir);
	ret = 0;
	goto out;

io_error:
	err_set(err, ERR_IO_FAILED, "cannot write '%s': %s", path, strerror(errno));
out:
	if (fd >= 0)
		close(fd);
	if (tmp.data)
		unlink(tmp.data);
	buf_release(&tmp);
	free(dir);
	return ret;
}

/*
 * Open 'path' for reading and stat it into 'sb', refusing directories.
 * Returns the descriptor, or -1 with 'err' filled.
 */
static int open_for_read(const char *path, struct stat *sb, struct err *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0 && (errno == ENOENT || errno == ENOTDIR))
		return err_set(err, ERR_NOT_FOUND, "no such file '%s'", path);
	if (fd < 0)
		return err_set(err, ERR_IO_FAILED, "cannot read '%s': %s", path,
			       strerror(errno));
	if (fstat(fd, sb) < 0 || S_ISDIR(sb->st_mode)) {
		int e = S_ISDIR(sb->st_mode) ? EISDIR : errno;

		close(fd);
		return err_set(err, ERR_IO_FAILED, "cannot read '%s': %s", path,
			       strerror(e));
	}
	return fd;
}

/*
 * Read from 'fd' at 'offset' into 'out' until end of file or 'max'
 * bytes.  Sets '*more' when there was more than 'max'.  Returns 0, or -1
 * with errno set.
 */
static int read_up_to(int fd, struct buf *out, int64_t offset, size_t max,
		      int *more)
{
	char chunk[8192];
	size_t want;
	ssize_t n;

	*more = 0;
	for (;;) {
		want = sizeof(chunk);
		if (max - out->len < want)
			want = max - out->len;
		/* One byte past the limit tells "exactly max" from "more". */
		if (want == 0)
			want = 1;
		n = pread(fd, chunk, want, (off_t)offset);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0)
			return 0;
		if (out->len == max) {
			*more = 1;
			return 0;
		}
		buf_add(out, chunk, (size_t)n);
		offset += n;
	}
}

/* Read all of 'path' into 'out', at most 'max' bytes. */
static int local_read_file(struct transport *t, struct buf *out,
			   const char *path, size_t max, struct err *err)
{
	struct stat sb;
	int fd, more, ret = -1;

	(void)t;
	fd = open_for_read(path, &sb, err);
	if (fd < 0)
		return -1;
	if (sb.st_size > 0 && (uint64_t)sb.st_size > max) {
		err_set(err, ERR_TRANSFER_FAILED, "'%s' is larger than %zu bytes",
			path, max);
		goto out;
	}
	if (read_up_to(fd, out, 0, max, &more) < 0) {
		err_set(err, ERR_IO_FAILED, "cannot read '%s': %s", path,
			strerror(errno));
		goto out;
	}
	if (more) {
		err_set(err, ERR_TRANSFER_FAILED, "'%s' is larger than %zu bytes",
			path, max);
		goto out;
	}
	ret = 0;
out:
	close(fd);
	return ret;
}

/* Read 'max' bytes of 'path' from 'offset' (see transport_read_range()). */
static int local_read_range(struct transport *t, struct buf *out,
			    int64_t *size_out, const char *path,
			    int64_t offset, size_t max, struct err *err)
{
	struct stat sb;
	int fd, more, ret = -1;

	(void)t;
	fd = open_for_read(path, &sb, err);
	if (fd < 0)
		return -1;
	if (size_out)
		*size_out = (int64_t)sb.st_size;
	if (offset < (int64_t)sb.st_size &&
	    read_up_to(fd, out, offset, max, &more) < 0) {
		err_set(err, ERR_IO_FAILED, "cannot read '%s': %s", path,
			strerror(errno));
		goto out;
	}
	ret = 0;
out:
	close(fd);
	return ret;
}

/* Whether 'path' exists, and its size and mtime (see transport_stat()). */
static int local_stat(struct transport *t, int *exists_out,
		      int64_t *size_out, int64_t *mtime_out, const char *path,
		      struct err *err)
{
	struct stat sb;
	int exists = 1;

	(void)t;
	if (stat(path, &sb) < 0) {
		if (errno != ENOENT && errno != ENOTDIR)
			return err_set(err, ERR_IO_FAILED, "cannot stat '%s': %s",
				       path, strerror(errno));
		exists = 0;
	}
	*exists_out = exists;
	if (size_out)
		*size_out = exists ? (int64_t)sb.st_size : 0;
	if (mtime_out)
		*mtime_out = exists ? (int64_t)sb.st_mtime : 0;
	return 0;
}

/* Remove the file 'path'; a missing one is fine. */
static int local_remove(struct transport *t, const char *path,
			struct err *err)
{
	(void)t;
	if (unlink(path) < 0 && errno != ENOENT)
		return err_set(err, ERR_IO_FAILED, "cannot remove '%s': %s", path,
			       strerror(errno));
	return 0;
}

/* ------------------------------------------------------------------ */
/* Local listing                                                       */
/* ------------------------------------------------------------------ */

/* One file found by transport_list(). */
struct list_entry {
	char *path;	/* relative to the listed directory; owned */
	int64_t size;	/* bytes */
	int64_t mtime;	/* seconds since the epoch */
};

/* The walk of one transport_list() call. */
struct list_walk {
	struct list_entry *v;	/* files found so far; owned */
	size_t n;		/* how many */
	size_t alloc;		/* room in 'v' */
	size_t max_entries;	/* more is an error */
	int max_depth;		/* deepest level to list */
	const char *top;	/* the listed directory, for messages */
	struct buf rel;		/* the current relative directory */
};

/* Add the file 'name' of the current directory with the stat 'sb'. */
static int list_add(struct list_walk *w, const char *name,
		    const struct stat *sb, struct err *err)
{
	struct buf p = BUF_INIT;

	if (w->n >= w->max_entries)
		return err_set(err, ERR_TRANSFER_FAILED,
			       "more than %zu files under '%s'",
			       w->max_entries, w->top);
	if (w->n == w->alloc) {
		w->alloc = w->alloc ? w->alloc * 2 : 64;
		w->v = xrealloc(w->v, w->alloc * sizeof(*w->v));
	}
	buf_add(&p, w->rel.data ? w->rel.data : "", w->rel.len);
	buf_adds(&p, name);
	w->v[w->n].path = buf_detach(&p, NULL);
	w->v[w->n].size = (int64_t)sb->st_size;
	w->v[w->n].mtime = (int64_t)sb->st_mtime;
	w->n++;
	return 0;
}

/*
 * List the directory open as 'dfd' (taken over and closed here) at
 * level 'depth' into 'w', descending into subdirectories while 'depth'
 * is below the limit.  Symbolic links are skipped.
 */
static int list_dir(struct list_walk *w, int dfd, int depth, struct err *err)
{
	DIR *d = fdopendir(dfd);
	struct dirent *de;
	struct stat sb;
	size_t saved = w->rel.len;
	int ret = -1;

	if (!d) {
		close(dfd);
		return err_set(err, ERR_IO_FAILED, "cannot list '%s': %s", w->top,
			       strerror(errno));
	}
	for (;;) {
		errno = 0;
		de = readdir(d);
		if (!de)
			break;
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (fstatat(dirfd(d), de->d_name, &sb,
			    AT_SYMLINK_NOFOLLOW) < 0)
			continue;	/* gone since readdir() */
		if (S_ISREG(sb.st_mode)) {
			if (list_add(w, de->d_name, &sb, err) < 0)
				goto out;
		} else if (S_ISDIR(sb.st_mode) && depth < w->max_depth) {
			int sub = openat(dirfd(d), de->d_name,
					 O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
					 O_CLOEXEC);

			if (sub < 0) {
				err_set(err, ERR_IO_FAILED,
					"cannot list '%s/%s%s': %s", w->top,
					buf_str(&w->rel), de->d_name,
					strerror(errno));
				goto out;
			}
			if (buf_addf(&w->rel, "%s/", de->d_name) < 0) {
				close(sub);
				err_set(err, ERR_TRANSFER_FAILED,
					"path too long under '%s'", w->top);
				goto out;
			}
			if (list_dir(w, sub, depth + 1, err) < 0)
				goto out;
			w->rel.len = saved;
			w->rel.data[saved] = '\0';
		}
	}
	if (errno) {
		err_set(err, ERR_IO_FAILED, "cannot list '%s': %s", w->top,
			strerror(errno));
		goto out;
	}
	ret = 0;
out:
	closedir(d);
	return ret;
}

/* qsort() order of list entries: by path, bytewise. */
static int list_entry_cmp(const void *a, const void *b)
{
	const struct list_entry *x = a, *y = b;

	return strcmp(x->path, y->path);
}

/* List the files under 'dir' (see transport_list()). */
static int local_list(struct transport *t, json_t **out, const char *dir,
		      int max_depth, int max_entries, struct err *err)
{
	struct list_walk w;
	json_t *arr = NULL;
	size_t i;
	int fd, ret = -1;

	(void)t;
	*out = NULL;
	memset(&w, 0, sizeof(w));
	w.max_entries = max_entries > 0 ? (size_t)max_entries : 0;
	w.max_depth = max_depth < LIST_DEPTH_MAX ? max_depth : LIST_DEPTH_MAX;
	w.top = dir;
	buf_init(&w.rel, LIST_PATH_MAX);
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT)
			err_set(err, ERR_NOT_FOUND, "no such directory '%s'",
				dir);
		else
			err_set(err, ERR_IO_FAILED, "cannot list '%s': %s", dir,
				strerror(errno));
		goto out;
	}
	if (w.max_depth < 1)
		close(fd);
	else if (list_dir(&w, fd, 1, err) < 0)
		goto out;
	if (w.n)
		qsort(w.v, w.n, sizeof(*w.v), list_entry_cmp);
	arr = json_array();
	for (i = 0; i < w.n; i++)
		json_array_append_new(arr, json_pack("{s:s, s:I, s:I}",
						     "path", w.v[i].path,
						     "size",
						     (json_int_t)w.v[i].size,
						     "mtime",
						     (json_int_t)w.v[i].mtime));
	*out = arr;
	ret = 0;
out:
	for (i = 0; i < w.n; i++)
		free(w.v[i].path);
	free(w.v);
	buf_release(&w.rel);
	return ret;
}

static const struct transport_ops local_ops = {
	.name = "local",
	.exec = local_exec,
	.mkdirs = local_mkdirs,
	.write_file = local_write_file,
	.read_file = local_read_file,
	.read_range = local_read_range,
	.stat = local_stat,
	.list = local_list,
	.remove = local_remove,
	.close = NULL,
};

/* ------------------------------------------------------------------ */
/* Opening and dispatch                                                */
/* ------------------------------------------------------------------ */

int transport_open(struct transport **out, const json_t *cluster,
		   struct err *err)
{
	const char *kind = NULL;

	*out = NULL;
	if (cluster)
		kind = json_string_value(json_object_get(cluster, "transport"));
	if (!kind || !strcmp(kind, "local")) {
		*out = transport_new(&local_ops, NULL);
		return 0;
	}
	if (strcmp(kind, "ssh"))
		return err_set(err, ERR_CONFIG_INVALID,
			       "unknown transport '%s'", kind);
	if (!ssh_open)
		return err_set(err, ERR_PRECONDITION_FAILED,
			       "ssh transport is not available in this build");
	return ssh_open(out, cluster, err);
}

int transport_exec(struct transport *t, struct exec_result *res,
		   const char *const *argv, const char *cwd,
		   const void *stdin_data, size_t stdin_len, int timeout_s,
		   struct err *err)
{
	if (!argv || !argv[0] || !argv[0][0])
		return err_set(err, ERR_INTERNAL, "exec without a program");
	exec_result_release(res);
	res->exit_code = 0;
	res->signal = 0;
	res->out_truncated = 0;
	res->err_truncated = 0;
	return t->ops->exec(t, res, argv, cwd, stdin_data, stdin_len,
			    timeout_s, err);
}

int transport_mkdirs(struct transport *t, const char *path, int mode,
		     struct err *err)
{
	return t->ops->mkdirs(t, path, mode, err);
}

int transport_write_file(struct transport *t, const char *path,
			 const void *data, size_t len, int mode,
			 struct err *err)
{
	return t->ops->write_file(t, path, data, len, mode, err);
}

/* '<dir>/<rel>' as a new string (interim: the safe walk comes next). */
static char *join(const char *dir, const char *rel)
{
	size_t n = strlen(dir) + strlen(rel) + 2;
	char *p = xmalloc(n);

	snprintf(p, n, "%s/%s", dir, rel);
	return p;
}

int transport_read_file(struct transport *t, struct buf *out,
			const char *dir, const char *rel, size_t max,
			struct err *err)
{
	char *path = join(dir, rel);
	int r = 0;

	buf_release(out);
	buf_init(out, max);
	if (t->ops->read_file(t, out, path, max, err) < 0) {
		buf_release(out);
		r = -1;
	}
	free(path);
	return r;
}

int transport_read_range(struct transport *t, struct buf *out,
			 int64_t *size_out, const char *dir, const char *rel,
			 int64_t offset, size_t max, struct err *err)
{
	char *path = join(dir, rel);
	int r = 0;

	buf_release(out);
	buf_init(out, max);
	if (size_out)
		*size_out = 0;
	if (offset < 0)
		r = err_set(err, ERR_INTERNAL, "negative offset reading '%s'",
			    path);
	else if (t->ops->read_range(t, out, size_out, path, offset, max,
				    err) < 0) {
		buf_release(out);
		r = -1;
	}
	free(path);
	return r;
}

int transport_stat(struct transport *t, int *exists_out, int64_t *size_out,
		   int64_t *mtime_out, const char *dir, const char *rel,
		   struct err *err)
{
	char *path = join(dir, rel);
	int r;

	*exists_out = 0;
	if (size_out)
		*size_out = 0;
	if (mtime_out)
		*mtime_out = 0;
	r = t->ops->stat(t, exists_out, size_out, mtime_out, path, err);
	free(path);
	return r;
}

int transport_list(struct transport *t, json_t **out, const char *dir,
		   int max_depth, int max_entries, struct err *err)
{
	*out = NULL;
	return t->ops->list(t, out, dir, max_depth, max_entries, err);
}

int transport_remove(struct transport *t, const char *path, struct err *err)
{
	return t->ops->remove(t, path, err);
}
