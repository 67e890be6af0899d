/*
 * transport_ssh_slot.c: the cap on concurrent SSH connections to one
 * host from every process of this user on this machine (see
 * transport_ssh.h).  A login node counts connections per user, and an
 * agent that runs twenty hpcloop calls at once must not look like an
 * attack: each connection holds one of N lock files named after the
 * host and port with flock(2), which the kernel drops when the process
 * dies, so a crash never leaks a slot.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "transport_ssh.h"
#include "banned.h"

/* How long to sleep between two rounds of tries for a slot. */
#define SLOT_POLL_MS 50

/*
 * Make sure 'dir' is a directory of this user's that nobody else may
 * write to, creating it 0700 if it is missing: lock files in a
 * directory others control could be held by them or be links.
 */
static int private_dir(const char *dir, struct err *err)
{
	struct stat sb;

	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		return err_set(err, ERR_IO_FAILED,
			       "cannot create directory '%s': %s", dir,
			       strerror(errno));
	if (lstat(dir, &sb) < 0)
		return err_set(err, ERR_IO_FAILED, "cannot read '%s': %s", dir,
			       strerror(errno));
	if (!S_ISDIR(sb.st_mode) || sb.st_uid != geteuid() ||
	    (sb.st_mode & 022))
		return err_set(err, ERR_IO_FAILED,
			       "'%s' is not a private directory of this user",
			       dir);
	return 0;
}

/*
 * The directory of the lock files into 'out': $XDG_RUNTIME_DIR/hpcloop
 * when that variable names a directory, else /tmp/hpcloop-UID.
 */
static int slot_dir(struct buf *out, struct err *err)
{
	const char *xdg = getenv("XDG_RUNTIME_DIR");
	struct stat sb;

	if (xdg && xdg[0] == '/' && stat(xdg, &sb) == 0 && S_ISDIR(sb.st_mode))
		buf_addf(out, "%s/hpcloop", xdg);
	else
		buf_addf(out, "/tmp/hpcloop-%lu", (unsigned long)geteuid());
	return private_dir(buf_str(out), err);
}

/* Append 'host' to 'out' with every byte a file name should not hold as _. */
static void add_safe_name(struct buf *out, const char *host)
{
	const unsigned char *p;

	for (p = (const unsigned char *)host; *p; p++) {
		char c = (char)*p;

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '.' || c == '-' ||
		      c == ':'))
			c = '_';
		buf_add(out, &c, 1);
	}
}

/* Sleep for 'ms' milliseconds. */
static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/* The monotonic clock in milliseconds. */
static long long mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int ssh_slot_acquire(int *fd_out, const char *host, int port, int max,
		     int wait_s, struct err *err)
{
	struct buf path = BUF_INIT;
	long long deadline = mono_ms() + (long long)wait_s * 1000;
	size_t base;
	int i, fd, ret = -1;

	*fd_out = -1;
	if (max < 1)
		max = 1;
	if (slot_dir(&path, err) < 0)
		goto out;
	buf_adds(&path, "/ssh-");
	add_safe_name(&path, host);
	buf_addf(&path, ":%d.", port);
	base = path.len;
	for (;;) {
		for (i = 0; i < max; i++) {
			path.len = base;
			path.data[base] = '\0';
			buf_addf(&path, "%d", i);
			fd = open(buf_str(&path),
				  O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC,
				  0600);
			if (fd < 0) {
				err_set(err, ERR_IO_FAILED,
					"cannot open '%s': %s", buf_str(&path),
					strerror(errno));
				goto out;
			}
			if (flock(fd, LOCK_EX | LOCK_NB) == 0) {
				*fd_out = fd;
				ret = 0;
				goto out;
			}
			close(fd);
		}
		if (mono_ms() >= deadline)
			break;
		sleep_ms(SLOT_POLL_MS);
	}
	err_set(err, ERR_TIMEOUT,
		"all %d connections to %s:%d allowed from this machine are "
		"in use (waited %d s)", max, host, port, wait_s);
	err_remedy(err, "retry when fewer hpcloop calls talk to %s at once, "
			"or raise the cluster's max_connections", host);
out:
	buf_release(&path);
	return ret;
}

void ssh_slot_release(int fd)
{
	if (fd >= 0)
		close(fd);
}
