/*
 * transport_ssh_chan.c: commands and SFTP writes on a session of
 * transport_ssh.c (see transport_ssh.h).  A command's channel is pumped
 * without blocking, so that its standard input, output and error move
 * together and no wait outlasts its bound: the command's timeout, and
 * io_timeout_s of silence from the server, keepalives included, so that
 * a quiet command is told from a dead server.
 */
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "transport_ssh_lib.h"
#include "banned.h"

/* The longest wait in one poll() of the exec pump. */
#define PUMP_TICK_MS 1000

/* ------------------------------------------------------------------ */
/* Commands                                                            */
/* ------------------------------------------------------------------ */

/* The signal called 'name' by SSH ("KILL", "TERM"), or 0. */
static int signal_number(const char *name, size_t len)
{
	static const struct {
		const char *name;
		int sig;
	} sigs[] = {
		{ "ABRT", SIGABRT }, { "ALRM", SIGALRM }, { "BUS", SIGBUS },
		{ "FPE", SIGFPE },   { "HUP", SIGHUP },   { "ILL", SIGILL },
		{ "INT", SIGINT },   { "KILL", SIGKILL }, { "PIPE", SIGPIPE },
		{ "QUIT", SIGQUIT }, { "SEGV", SIGSEGV }, { "TERM", SIGTERM },
		{ "USR1", SIGUSR1 }, { "USR2", SIGUSR2 }, { "XCPU", SIGXCPU },
		{ "XFSZ", SIGXFSZ },
	};
	size_t i;

	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
		if (strlen(sigs[i].name) == len &&
		    !memcmp(sigs[i].name, name, len))
			return sigs[i].sig;
	}
	return 0;
}

/*
 * Keep the 'n' bytes of 'chunk' in 'b' up to its limit (SSH_OUTPUT_MAX
 * when it has none), setting '*truncated' when some are dropped.
 */
static void keep_bounded(struct buf *b, const char *chunk, size_t n,
			 int *truncated)
{
	size_t max = b->max ? b->max : SSH_OUTPUT_MAX;
	size_t room = max > b->len ? max - b->len : 0;

	if (n > room) {
		*truncated = 1;
		n = room;
	}
	if (n)
		buf_add(b, chunk, n);
}

/* Where one run of the exec pump stands. */
struct pump {
	LIBSSH2_CHANNEL *ch;	/* the channel, non-blocking */
	const char *in;		/* standard input still to send */
	size_t in_left;		/* its bytes */
	int eof_sent;		/* 1 once standard input is closed */
	long long last_rx;	/* when the server last sent anything */
};

/*
 * One round of the pump: send what standard input the channel takes,
 * then read what output is there.  Sets '*moved' when anything moved,
 * '*done' at end of output.  Returns 0, or a libssh2 error.
 */
static int pump_round(struct pump *p, struct exec_result *res, int *moved,
		      int *done)
{
	char chunk[16384];
	ssize_t n;
	int stream, rc;

	*moved = 0;
	*done = 0;
	while (p->in_left) {
		n = ssh_lib.channel_write_ex(p->ch, 0, p->in, p->in_left);
		if (n == LIBSSH2_ERROR_EAGAIN)
			break;
		if (n < 0) {
			/* The command stopped reading: drop the rest. */
			p->in_left = 0;
			break;
		}
		p->in += n;
		p->in_left -= (size_t)n;
		*moved = 1;
	}
	if (!p->in_left && !p->eof_sent) {
		rc = ssh_lib.channel_send_eof(p->ch);
		if (rc != LIBSSH2_ERROR_EAGAIN)
			p->eof_sent = 1;
	}
	for (stream = 0; stream < 2; stream++) {
		for (;;) {
			n = ssh_lib.channel_read_ex(p->ch, stream, chunk,
						    sizeof(chunk));
			if (n == LIBSSH2_ERROR_EAGAIN || n == 0)
				break;
			if (n < 0)
				return (int)n;
			*moved = 1;
			if (stream == 0)
				keep_bounded(&res->out, chunk, (size_t)n,
					     &res->out_truncated);
			else
				keep_bounded(&res->err, chunk, (size_t)n,
					     &res->err_truncated);
		}
	}
	if (!*moved && ssh_lib.channel_eof(p->ch))
		*done = 1;
	return 0;
}

/*
 * Wait on the socket of 'c' for what libssh2 is blocked on, at most
 * 'wait_ms', noting in 'p' when the server sent something.
 */
static void pump_wait(struct ssh_conn *c, struct pump *p, long long wait_ms)
{
	struct pollfd pfd;
	int dirs = ssh_lib.session_block_directions(c->s);

	pfd.fd = c->fd;
	pfd.events = POLLIN;
	if (dirs & LIBSSH2_SESSION_BLOCK_OUTBOUND)
		pfd.events |= POLLOUT;
	pfd.revents = 0;
	if (wait_ms < 0)
		wait_ms = 0;
	if (poll(&pfd, 1, (int)wait_ms) > 0 && (pfd.revents & POLLIN))
		p->last_rx = ssh_mono_ms();
}

/*
 * Pump the channel of 'p' until the command's output ends, 'timeout_s'
 * passes (1) or the server stops answering (2).  Returns 0, 1, 2, or a
 * libssh2 error (negative).
 */
static int pump_run(struct ssh_conn *c, struct pump *p,
		    struct exec_result *res, int timeout_s)
{
	long long start = ssh_mono_ms();
	long long deadline = start + (long long)timeout_s * 1000;
	long long silence = (long long)c->io_timeout_s * 1000;
	int moved, done, rc, next = 0;

	p->last_rx = start;
	for (;;) {
		long long now, wait_ms;

		rc = pump_round(p, res, &moved, &done);
		if (rc < 0)
			return rc;
		if (done)
			return 0;
		now = ssh_mono_ms();
		if (timeout_s > 0 && now >= deadline)
			return 1;
		if (moved) {
			p->last_rx = now;
			continue;
		}
		if (now - p->last_rx > silence)
			return 2;
		ssh_lib.keepalive_send(c->s, &next);
		wait_ms = PUMP_TICK_MS;
		if (timeout_s > 0 && deadline - now < wait_ms)
			wait_ms = deadline - now;
		pump_wait(c, p, wait_ms);
	}
}

/* Fill the exit status or signal of the finished channel 'ch' into 'res'. */
static void channel_status(struct ssh_conn *c, LIBSSH2_CHANNEL *ch,
			   struct exec_result *res)
{
	char *name = NULL;
	size_t len = 0;

	res->exit_code = ssh_lib.channel_get_exit_status(ch);
	res->signal = 0;
	if (ssh_lib.channel_get_exit_signal(ch, &name, &len, NULL, NULL, NULL,
					    NULL) == 0 &&
	    name && len) {
		res->exit_code = -1;
		res->signal = signal_number(name, len);
		if (!res->signal)
			res->signal = SIGKILL;
	}
	if (name)
		ssh_lib.free(c->s, name);
}

int ssh_conn_exec(struct ssh_conn *c, struct exec_result *res,
		  const char *line, const char *what, const void *in,
		  size_t in_len, int timeout_s, struct err *err)
{
	struct pump p;
	int rc, ret = -1;

	memset(&p, 0, sizeof(p));
	pthread_mutex_lock(&c->lock);
	if (atomic_load(&c->lost)) {
		err_set(err, ERR_SSH_UNREACHABLE,
			"the connection to %s:%d was lost", c->host, c->port);
		goto out;
	}
	p.ch = ssh_lib.channel_open_ex(c->s, "session", sizeof("session") - 1,
				       LIBSSH2_CHANNEL_WINDOW_DEFAULT,
				       LIBSSH2_CHANNEL_PACKET_DEFAULT, NULL, 0);
	if (!p.ch) {
		ssh_session_error(c, err, ERR_SSH_UNREACHABLE,
				  "cannot open an ssh channel");
		goto out;
	}
	if (ssh_lib.channel_process_startup(p.ch, "exec", sizeof("exec") - 1,
					    line,
					    (unsigned)strlen(line)) != 0) {
		ssh_session_error(c, err, ERR_REMOTE_COMMAND_FAILED,
				  "cannot start a command");
		goto out;
	}
	p.in = in;
	p.in_left = in ? in_len : 0;
	ssh_lib.session_set_blocking(c->s, 0);
	rc = pump_run(c, &p, res, timeout_s);
	ssh_lib.session_set_blocking(c->s, 1);
	if (rc < 0) {
		ssh_session_error(c, err, ERR_SSH_UNREACHABLE,
				  "cannot read the output of a command");
		goto out;
	}
	if (rc == 1) {
		err_set(err, ERR_TIMEOUT, "'%s' timed out after %d s", what,
			timeout_s);
		goto out;
	}
	if (rc == 2) {
		atomic_store(&c->lost, 1);
		err_set(err, ERR_SSH_UNREACHABLE,
			"%s:%d stopped answering for %d s while '%s' ran",
			c->host, c->port, c->io_timeout_s, what);
		goto out;
	}
	if (ssh_lib.channel_close(p.ch) != 0 ||
	    ssh_lib.channel_wait_closed(p.ch) != 0) {
		ssh_session_error(c, err, ERR_SSH_UNREACHABLE,
				  "cannot close an ssh channel");
		goto out;
	}
	channel_status(c, p.ch, res);
	ret = 0;
out:
	if (p.ch) {
		/* A channel left running is closed without waiting long. */
		if (ret < 0 && !atomic_load(&c->lost)) {
			ssh_lib.session_set_timeout(c->s, 2000);
			ssh_lib.channel_close(p.ch);
			ssh_lib.session_set_timeout(
			    c->s, (long)c->io_timeout_s * 1000);
		}
		ssh_lib.channel_free(p.ch);
	}
	pthread_mutex_unlock(&c->lock);
	return ret;
}

/* ------------------------------------------------------------------ */
/* Files over SFTP                                                     */
/* ------------------------------------------------------------------ */

/* The words for the SFTP status 'code'. */
static const char *sftp_words(unsigned long code)
{
	switch (code) {
	case LIBSSH2_FX_NO_SUCH_FILE:
	case LIBSSH2_FX_NO_SUCH_PATH:
		return "No such file or directory";
	case LIBSSH2_FX_PERMISSION_DENIED:
		return "Permission denied";
	case LIBSSH2_FX_FILE_ALREADY_EXISTS:
		return "File exists";
	case LIBSSH2_FX_NO_SPACE_ON_FILESYSTEM:
		return "No space left on device";
	case LIBSSH2_FX_QUOTA_EXCEEDED:
		return "Disk quota exceeded";
	case LIBSSH2_FX_NOT_A_DIRECTORY:
		return "Not a directory";
	default:
		/* SFTP version 3 says only "failure" for a full disk. */
		return "the server reports a failure (a full disk or quota "
		       "is likely)";
	}
}

/* The SFTP session of 'c', started on first use (the lock is held). */
static LIBSSH2_SFTP *conn_sftp(struct ssh_conn *c, struct err *err)
{
	if (!c->sftp)
		c->sftp = ssh_lib.sftp_init(c->s);
	if (!c->sftp)
		ssh_session_error(c, err, ERR_TRANSFER_FAILED,
				  "cannot start SFTP");
	return c->sftp;
}

/*
 * The error for an SFTP call on 'c' that failed while 'doing' ("cannot
 * write 'x'"): the connection lost, a missing directory
 * (ERR_NOT_FOUND), or ERR_TRANSFER_FAILED with the server's words.
 */
static int sftp_error(struct ssh_conn *c, struct err *err, const char *doing)
{
	int rc = ssh_lib.session_last_errno(c->s);
	unsigned long code;

	if (rc != LIBSSH2_ERROR_SFTP_PROTOCOL)
		return ssh_session_error(c, err, ERR_TRANSFER_FAILED, doing);
	code = ssh_lib.sftp_last_error(c->sftp);
	if (code == LIBSSH2_FX_NO_SUCH_FILE || code == LIBSSH2_FX_NO_SUCH_PATH)
		return err_set(err, ERR_NOT_FOUND, "%s on %s: %s", doing,
			       c->host, sftp_words(code));
	return err_set(err, ERR_TRANSFER_FAILED, "%s on %s: %s", doing,
		       c->host, sftp_words(code));
}

int ssh_conn_put_new(struct ssh_conn *c, const char *path, const void *data,
		     size_t len, int mode, struct err *err)
{
	LIBSSH2_SFTP_HANDLE *h = NULL;
	LIBSSH2_SFTP_ATTRIBUTES attrs;
	const char *p = data;
	struct buf doing = BUF_INIT;
	size_t left = len;
	int ret = -1, created = 0;

	buf_addf(&doing, "cannot write '%s'", path);
	pthread_mutex_lock(&c->lock);
	if (atomic_load(&c->lost)) {
		err_set(err, ERR_SSH_UNREACHABLE,
			"the connection to %s:%d was lost", c->host, c->port);
		goto out;
	}
	if (!conn_sftp(c, err))
		goto out;
	h = ssh_lib.sftp_open_ex(c->sftp, path, (unsigned)strlen(path),
				 LIBSSH2_FXF_WRITE | LIBSSH2_FXF_CREAT |
				     LIBSSH2_FXF_EXCL | LIBSSH2_FXF_TRUNC,
				 mode & 0777, LIBSSH2_SFTP_OPENFILE);
	if (!h) {
		sftp_error(c, err, buf_str(&doing));
		goto out;
	}
	created = 1;
	while (left) {
		ssize_t w = ssh_lib.sftp_write(h, p, left);

		if (w < 0) {
			sftp_error(c, err, buf_str(&doing));
			goto out;
		}
		p += w;
		left -= (size_t)w;
	}
	/* The server's umask applied to the mode at creation. */
	memset(&attrs, 0, sizeof(attrs));
	attrs.flags = LIBSSH2_SFTP_ATTR_PERMISSIONS;
	attrs.permissions = (unsigned long)(mode & 07777);
	if (ssh_lib.sftp_fstat_ex(h, &attrs, LIBSSH2_SFTP_SETSTAT) != 0) {
		sftp_error(c, err, buf_str(&doing));
		goto out;
	}
	if (ssh_lib.sftp_close_handle(h) != 0) {
		h = NULL;
		sftp_error(c, err, buf_str(&doing));
		goto out;
	}
	h = NULL;
	ret = 0;
out:
	if (h)
		ssh_lib.sftp_close_handle(h);
	if (ret < 0 && created && !atomic_load(&c->lost))
		ssh_lib.sftp_unlink_ex(c->sftp, path, (unsigned)strlen(path));
	/* A missing directory is the caller's to create, not a failure. */
	if (ret < 0 && err->code == ERR_NOT_FOUND && created)
		err->code = ERR_TRANSFER_FAILED;
	pthread_mutex_unlock(&c->lock);
	buf_release(&doing);
	return ret;
}

void ssh_conn_unlink(struct ssh_conn *c, const char *path)
{
	pthread_mutex_lock(&c->lock);
	if (!atomic_load(&c->lost) && conn_sftp(c, NULL))
		ssh_lib.sftp_unlink_ex(c->sftp, path, (unsigned)strlen(path));
	pthread_mutex_unlock(&c->lock);
}
