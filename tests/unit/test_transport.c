/*
 * test_transport.c: unit tests for the transport module (transport.h)
 * through the local transport: commands run from argv with no shell,
 * exit codes and signals, standard input, bounded output, timeouts that
 * kill the process group, atomic writes with their modes and the words
 * of a full disk, reads of whole files and of ranges, listings that skip
 * symbolic links and FIFOs, the table of kinds, and every refusal of an
 * untrusted path: a symbolic link as the last part or a middle one, a
 * FIFO, a socket, a device, a directory, "..", an absolute path, a path
 * too long and a file too large.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "buf.h"
#include "err.h"
#include "transport.h"
#include "xalloc.h"
#include "banned.h"

/* The scratch directory of the whole run, made by group_setup(). */
static char tmpdir[] = "/tmp/test_transport.XXXXXX";

/* The path of 'name' inside tmpdir, in 'out' of 'size' bytes. */
static void tmp_path(char *out, size_t size, const char *name)
{
	snprintf(out, size, "%s/%s", tmpdir, name);
}

/* A new local transport; the test fails if it cannot be opened. */
static struct transport *open_local(void)
{
	struct err err = ERR_INIT;
	struct transport *t = NULL;

	assert_int_equal(transport_open(&t, NULL, &err), 0);
	assert_non_null(t);
	assert_string_equal(transport_name(t), "local");
	return t;
}

/* Whether 'path' exists (without following a final symlink). */
static int exists(const char *path)
{
	struct stat sb;

	return lstat(path, &sb) == 0;
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

/* Wait up to 'seconds' for the process 'pid' to be gone. */
static int wait_gone(long pid, int seconds)
{
	struct timespec step = { 0, 50 * 1000 * 1000 };
	int i;

	for (i = 0; i < seconds * 20; i++) {
		if (process_gone(pid))
			return 1;
		nanosleep(&step, NULL);
	}
	return process_gone(pid);
}

/* Write 'text' to 'path' with stdio (the test's own, independent way). */
static void put_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "wb");

	assert_non_null(f);
	assert_int_equal(fwrite(text, 1, strlen(text), f), strlen(text));
	assert_int_equal(fclose(f), 0);
}

/* ------------------------------------------------------------------ */
/* Commands                                                            */
/* ------------------------------------------------------------------ */

static void test_transport_exec_no_shell(void **state)
{
	struct transport *t = open_local();
	struct exec_result res;
	struct err err = ERR_INIT;
	char marker[512], touch[600];
	const char *argv[] = { "echo", NULL, "a b;", "`id`", "|", "x", NULL };

	(void)state;
	tmp_path(marker, sizeof(marker), "shell_ran");
	snprintf(touch, sizeof(touch), "$(touch %s)", marker);
	argv[1] = touch;
	exec_result_init(&res, 4096);
	assert_int_equal(transport_exec(t, &res, argv, NULL, NULL, 0, 10,
					&err), 0);
	assert_int_equal(res.exit_code, 0);
	assert_int_equal(res.signal, 0);
	assert_false(exists(marker));
	assert_non_null(strstr(buf_str(&res.out), touch));
	assert_non_null(strstr(buf_str(&res.out), " a b; `id` | x\n"));
	exec_result_release(&res);
	transport_close(t);
}

static void test_transport_exec_exit_codes(void **state)
{
	struct transport *t = open_local();
	struct exec_result res;
	struct err err = ERR_INIT;
	const char *exit3[] = { "sh", "-c", "echo oops >&2; exit 3", NULL };
	const char *killed[] = { "sh", "-c", "kill -TERM $$", NULL };
	const char *fail[] = { "false", NULL };

	(void)state;
	exec_result_init(&res, 4096);
	assert_int_equal(transport_exec(t, &res, exit3, NULL, NULL, 0, 10,
					&err), 0);
	assert_int_equal(res.exit_code, 3);
	assert_string_equal(buf_str(&res.err), "oops\n");
	exec_result_release(&res);

	exec_result_init(&res, 4096);
	assert_int_equal(transport_exec(t, &res, killed, NULL, NULL, 0, 10,
					&err), 0);
	assert_int_equal(res.exit_code, -1);
	assert_int_equal(res.signal, SIGTERM);
	exec_result_release(&res);

	exec_result_init(&res, 4096);
	assert_int_equal(transport_exec(t, &res, fail, NULL, NULL, 0, 0,
					&err), 0);
	assert_int_equal(res.exit_code, 1);
	exec_result_release(&res);
	transport_close(t);
}

static void test_transport_exec_stdin(void **state)
{
	struct transport *t = open_local();
	struct exec_result res;
	struct err err = ERR_INIT;
	const char *cat[] = { "cat", NULL };
	const char *ignore[] = { "true", NULL };
	static const char small[] = "hello\0world";
	size_t big_len = 300 * 1024, i;
	char *big = xmalloc(big_len);

	(void)state;
	exec_result_init(&res, 4096);
	assert_int_equal(transport_exec(t, &res, cat, NULL, small,
					sizeof(small) - 1, 10, &err), 0);
	assert_int_equal(res.out.len, sizeof(small) - 1);
	assert_memory_equal(res.out.data, small, sizeof(small) - 1);
	exec_result_release(&res);

	/* More than a pipe holds, both ways at once. */
	for (i = 0; i < big_len; i++)
		big[i] = (char)('a' + i % 26);
	exec_result_init(&res, big_len);
	assert_int_equal(transport_exec(t, &res, cat, NULL, big, big_len, 10,
					&err), 0);
	assert_int_equal(res.out.len, big_len);
	assert_memory_equal(res.out.data, big, big_len);
	assert_int_equal(res.out_truncated, 0);
	exec_result_release(&res);

	/* A command that never reads its input does not hurt us. */
	exec_result_init(&res, 4096);
	assert_int_equal(transport_exec(t, &res, ignore, NULL, big, big_len,
					10, &err), 0);
	assert_int_equal(res.exit_code, 0);
	exec_result_release(&res);
	free(big);
	transport_close(t);
}

static void test_transport_exec_output_limit(void **state)
{
	struct transport *t = open_local();
	struct exec_result res;
	struct err err = ERR_INIT;
	const char *argv[] = { "head", "-c", "200000", "/dev/zero", NULL };

	(void)state;
	exec_result_init(&res, 1000);
	assert_int_equal(transport_exec(t, &res, argv, NULL, NULL, 0, 10,
					&err), 0);
	assert_int_equal(res.exit_code, 0);
	assert_int_equal(res.out.len, 1000);
	assert_int_equal(res.out_truncated, 1);
	assert_int_equal(res.err_truncated, 0);
	exec_result_release(&res);
	transport_close(t);
}

static void test_transport_exec_timeout_kills_group(void **state)
{
	struct transport *t = open_local();
	struct exec_result res;
	struct err err = ERR_INIT;
	struct buf pid_text = BUF_INIT;
	char pidfile[512], script[700];
	const char *argv[] = { "sh", "-c", NULL, NULL };
	long child;

	(void)state;
	tmp_path(pidfile, sizeof(pidfile), "timeout.pid");
	snprintf(script, sizeof(script),
		 "sleep 100 & echo $! > %s; wait", pidfile);
	argv[2] = script;
	exec_result_init(&res, 4096);
	assert_int_equal(transport_exec(t, &res, argv, NULL, NULL, 0, 1,
					&err), -1);
	assert_int_equal(err.code, ERR_TIMEOUT);
	assert_int_equal(res.exit_code, -1);
	assert_int_equal(res.signal, SIGKILL);
	assert_int_equal(transport_read_file(t, &pid_text, tmpdir,
					     "timeout.pid", 64, &err), 0);
	child = strtol(buf_str(&pid_text), NULL, 10);
	assert_true(child > 0);
	assert_true(wait_gone(child, 5));
	buf_release(&pid_text);
	exec_result_release(&res);
	err_release(&err);
	transport_close(t);
}

static void test_transport_exec_background_keeps_pipe(void **state)
{
	struct transport *t = open_local();
	struct exec_result res;
	struct err err = ERR_INIT;
	const char *argv[] = { "sh", "-c", "sleep 20 & echo $!", NULL };
	long child;

	/*
	 * The background sleep keeps the output pipe open; the call must
	 * still end when the command does, well before its timeout.
	 */
	(void)state;
	exec_result_init(&res, 4096);
	assert_int_equal(transport_exec(t, &res, argv, NULL, NULL, 0, 15,
					&err), 0);
	assert_int_equal(res.exit_code, 0);
	child = strtol(buf_str(&res.out), NULL, 10);
	assert_true(child > 0);
	kill((pid_t)child, SIGKILL);
	exec_result_release(&res);
	transport_close(t);
}

static void test_transport_exec_not_found(void **state)
{
	struct transport *t = open_local();
	struct exec_result res;
	struct err err = ERR_INIT;
	const char *missing[] = { "hpcloop-no-such-program", NULL };
	const char *missing_path[] = { "/nonexistent/prog", NULL };
	const char *pwd[] = { "pwd", NULL };
	char nodir[512];

	(void)state;
	exec_result_init(&res, 4096);
	assert_int_equal(transport_exec(t, &res, missing, NULL, NULL, 0, 10,
					&err), -1);
	assert_int_equal(err.code, ERR_NOT_FOUND);
	assert_non_null(strstr(err.message, "hpcloop-no-such-program"));
	assert_int_equal(transport_exec(t, &res, missing_path, NULL, NULL, 0,
					10, &err), -1);
	assert_int_equal(err.code, ERR_NOT_FOUND);
	tmp_path(nodir, sizeof(nodir), "no/such/dir");
	assert_int_equal(transport_exec(t, &res, pwd, nodir, NULL, 0, 10,
					&err), -1);
	assert_int_equal(err.code, ERR_NOT_FOUND);
	assert_non_null(strstr(err.message, nodir));
	exec_result_release(&res);

	exec_result_init(&res, 4096);
	assert_int_equal(transport_exec(t, &res, pwd, tmpdir, NULL, 0, 10,
					&err), 0);
	assert_non_null(strstr(buf_str(&res.out), tmpdir));
	exec_result_release(&res);
	err_release(&err);
	transport_close(t);
}

/* ------------------------------------------------------------------ */
/* Files hpcloop writes                                                */
/* ------------------------------------------------------------------ */

/* The number of entries of the directory 'path', "." and ".." aside. */
static int count_entries(const char *path)
{
	struct dirent *de;
	DIR *d = opendir(path);
	int n = 0;

	assert_non_null(d);
	for (;;) {
		de = readdir(d);
		if (!de)
			break;
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			n++;
	}
	closedir(d);
	return n;
}

static void test_transport_write_file_atomic_mode(void **state)
{
	struct transport *t = open_local();
	struct err err = ERR_INIT;
	struct buf b = BUF_INIT;
	char path[512], dir[512];
	struct stat sb;

	(void)state;
	tmp_path(path, sizeof(path), "w/deep/er/secret.txt");
	tmp_path(dir, sizeof(dir), "w/deep/er");
	assert_int_equal(transport_write_file(t, path, "one", 3, 0600, &err),
			 0);
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sb.st_mode & 07777, 0600);
	assert_int_equal(transport_read_file(t, &b, tmpdir,
					     "w/deep/er/secret.txt", 100,
					     &err), 0);
	assert_string_equal(buf_str(&b), "one");

	assert_int_equal(transport_write_file(t, path, "#!/bin/sh\n", 10,
					      0700, &err), 0);
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sb.st_mode & 07777, 0700);
	assert_int_equal(transport_read_file(t, &b, dir, "secret.txt", 100,
					     &err), 0);
	assert_string_equal(buf_str(&b), "#!/bin/sh\n");

	/* No temporary file is left beside it. */
	assert_int_equal(count_entries(dir), 1);

	/* An empty file is a file too. */
	assert_int_equal(transport_write_file(t, path, "", 0, 0644, &err), 0);
	assert_int_equal(transport_read_file(t, &b, dir, "secret.txt", 100,
					     &err), 0);
	assert_int_equal(b.len, 0);

	/* A parent that is a file cannot be a directory. */
	tmp_path(path, sizeof(path), "w/deep/er/secret.txt/below");
	assert_int_equal(transport_write_file(t, path, "x", 1, 0600, &err),
			 -1);
	assert_int_equal(err.code, ERR_IO_FAILED);
	buf_release(&b);
	err_release(&err);
	transport_close(t);
}

/* A directory on a 64 KiB tmpfs, when this process may mount one. */
struct full_disk {
	char dir[512];		/* the mount point */
	int mounted;		/* 1 once the tmpfs is mounted there */
	char why[256];		/* why not, for the skip message */
};

static int full_disk_setup(void **state)
{
	static struct full_disk fd;

	memset(&fd, 0, sizeof(fd));
	tmp_path(fd.dir, sizeof(fd.dir), "full");
	if (mkdir(fd.dir, 0700) < 0)
		return -1;
	if (geteuid() != 0)
		snprintf(fd.why, sizeof(fd.why), "not running as root");
	else if (mount("tmpfs", fd.dir, "tmpfs", 0, "size=64k") < 0)
		snprintf(fd.why, sizeof(fd.why), "cannot mount a tmpfs: %s",
			 strerror(errno));
	else
		fd.mounted = 1;
	*state = &fd;
	return 0;
}

static int full_disk_teardown(void **state)
{
	struct full_disk *fd = *state;

	if (fd->mounted && umount2(fd->dir, MNT_DETACH) < 0)
		return -1;
	fd->mounted = 0;
	return 0;
}

static void test_transport_write_file_full_disk(void **state)
{
	struct full_disk *fd = *state;
	struct transport *t;
	struct err err = ERR_INIT;
	size_t len = 256 * 1024;
	char *data, path[600];

	if (!fd->mounted) {
		print_message("skipped: a full disk needs a small tmpfs (%s)\n",
			      fd->why);
		skip();
	}
	t = open_local();
	data = xmalloc(len);
	memset(data, 'x', len);
	snprintf(path, sizeof(path), "%s/big.bin", fd->dir);
	assert_int_equal(transport_write_file(t, path, data, len, 0600, &err),
			 -1);
	assert_int_equal(err.code, ERR_IO_FAILED);
	assert_non_null(strstr(err.message, path));
	assert_non_null(strstr(err.message, strerror(ENOSPC)));
	/* The temporary file is gone; the space is free again. */
	assert_int_equal(count_entries(fd->dir), 0);
	assert_int_equal(transport_write_file(t, path, "ok", 2, 0600, &err),
			 0);
	free(data);
	err_release(&err);
	transport_close(t);
}

static void test_transport_mkdirs(void **state)
{
	struct transport *t = open_local();
	struct err err = ERR_INIT;
	char path[512];
	struct stat sb;

	(void)state;
	tmp_path(path, sizeof(path), "m//a/b/c/");
	assert_int_equal(transport_mkdirs(t, path, 0700, &err), 0);
	assert_int_equal(transport_mkdirs(t, path, 0700, &err), 0);
	tmp_path(path, sizeof(path), "m/a/b/c");
	assert_int_equal(stat(path, &sb), 0);
	assert_true(S_ISDIR(sb.st_mode));
	transport_close(t);
}

/* ------------------------------------------------------------------ */
/* Files a sprint left behind: what is read                            */
/* ------------------------------------------------------------------ */

/*
 * The tree the read tests share, under tmpdir:
 *   ten.txt  r/sub/ok.txt  r/sub/ten.txt
 */
static void make_read_tree(void)
{
	char path[512];

	tmp_path(path, sizeof(path), "r");
	mkdir(path, 0755);
	tmp_path(path, sizeof(path), "r/sub");
	mkdir(path, 0755);
	tmp_path(path, sizeof(path), "ten.txt");
	put_file(path, "0123456789");
	tmp_path(path, sizeof(path), "r/sub/ok.txt");
	put_file(path, "ok\n");
	tmp_path(path, sizeof(path), "r/sub/ten.txt");
	put_file(path, "0123456789");
}

static void test_transport_read_file_limits(void **state)
{
	struct transport *t = open_local();
	struct err err = ERR_INIT;
	struct buf b = BUF_INIT;
	char path[512], target[512];

	(void)state;
	make_read_tree();
	assert_int_equal(transport_read_file(t, &b, tmpdir, "ten.txt", 10,
					     &err), 0);
	assert_string_equal(buf_str(&b), "0123456789");
	assert_int_equal(transport_read_file(t, &b, tmpdir, "r/sub/ok.txt",
					     10, &err), 0);
	assert_string_equal(buf_str(&b), "ok\n");

	/* Too large is refused, and nothing is kept. */
	assert_int_equal(transport_read_file(t, &b, tmpdir, "r/sub/ten.txt",
					     9, &err), -1);
	assert_int_equal(err.code, ERR_FILE_REFUSED);
	assert_string_equal(err.message,
			    "'r/sub/ten.txt' is larger than 9 bytes");
	assert_int_equal(b.len, 0);

	/* Missing: the file, a directory on the way, or 'dir' itself. */
	assert_int_equal(transport_read_file(t, &b, tmpdir, "missing.txt", 10,
					     &err), -1);
	assert_int_equal(err.code, ERR_NOT_FOUND);
	assert_non_null(strstr(err.message, "'missing.txt'"));
	assert_int_equal(transport_read_file(t, &b, tmpdir, "r/no/ok.txt", 10,
					     &err), -1);
	assert_int_equal(err.code, ERR_NOT_FOUND);
	assert_int_equal(transport_read_file(t, &b, tmpdir, "ten.txt/x", 10,
					     &err), -1);
	assert_int_equal(err.code, ERR_NOT_FOUND);
	tmp_path(path, sizeof(path), "no-such-dir");
	assert_int_equal(transport_read_file(t, &b, path, "ok.txt", 10, &err),
			 -1);
	assert_int_equal(err.code, ERR_NOT_FOUND);
	assert_non_null(strstr(err.message, path));

	/* The trusted directory may be reached through a link. */
	tmp_path(target, sizeof(target), "r/sub");
	tmp_path(path, sizeof(path), "sub-by-link");
	assert_int_equal(symlink(target, path), 0);
	assert_int_equal(transport_read_file(t, &b, path, "ok.txt", 10, &err),
			 0);
	assert_string_equal(buf_str(&b), "ok\n");
	buf_release(&b);
	err_release(&err);
	transport_close(t);
}

static void test_transport_read_range_offsets(void **state)
{
	struct transport *t = open_local();
	struct err err = ERR_INIT;
	struct buf b = BUF_INIT;
	char path[512];
	int64_t size = -1;

	(void)state;
	tmp_path(path, sizeof(path), "range.txt");
	put_file(path, "0123456789");
	assert_int_equal(transport_read_range(t, &b, &size, tmpdir,
					      "range.txt", 3, 4, &err), 0);
	assert_string_equal(buf_str(&b), "3456");
	assert_int_equal(size, 10);
	assert_int_equal(transport_read_range(t, &b, &size, tmpdir,
					      "range.txt", 7, 100, &err), 0);
	assert_string_equal(buf_str(&b), "789");
	assert_int_equal(transport_read_range(t, &b, &size, tmpdir,
					      "range.txt", 10, 100, &err), 0);
	assert_int_equal(b.len, 0);
	assert_int_equal(transport_read_range(t, &b, &size, tmpdir,
					      "range.txt", 50, 100, &err), 0);
	assert_int_equal(b.len, 0);
	assert_int_equal(size, 10);
	assert_int_equal(transport_read_range(t, &b, NULL, tmpdir,
					      "range.txt", 0, 0, &err), 0);
	assert_int_equal(b.len, 0);

	assert_int_equal(transport_read_range(t, &b, &size, tmpdir,
					      "no-range.txt", 0, 10, &err),
			 -1);
	assert_int_equal(err.code, ERR_NOT_FOUND);
	assert_int_equal(size, 0);
	assert_int_equal(transport_read_range(t, &b, &size, tmpdir,
					      "range.txt", -1, 10, &err),
			 -1);
	assert_int_equal(err.code, ERR_INTERNAL);
	buf_release(&b);
	err_release(&err);
	transport_close(t);
}

static void test_transport_stat_and_remove(void **state)
{
	struct transport *t = open_local();
	struct err err = ERR_INIT;
	char path[512];
	int64_t size = -1, mtime = -1;
	int there = -1;

	(void)state;
	tmp_path(path, sizeof(path), "stat.txt");
	put_file(path, "abc");
	assert_int_equal(transport_stat(t, &there, &size, &mtime, tmpdir,
					"stat.txt", &err), 0);
	assert_int_equal(there, 1);
	assert_int_equal(size, 3);
	assert_true(mtime > 1600000000);

	assert_int_equal(transport_remove(t, path, &err), 0);
	assert_false(exists(path));
	assert_int_equal(transport_remove(t, path, &err), 0);
	assert_int_equal(transport_stat(t, &there, &size, &mtime, tmpdir,
					"stat.txt", &err), 0);
	assert_int_equal(there, 0);
	assert_int_equal(size, 0);
	assert_int_equal(mtime, 0);
	assert_int_equal(transport_remove(t, tmpdir, &err), -1);
	assert_int_equal(err.code, ERR_IO_FAILED);

	/* Missing on the way, or 'dir' missing: it does not exist. */
	there = -1;
	assert_int_equal(transport_stat(t, &there, NULL, NULL, tmpdir,
					"gone/stat.txt", &err), 0);
	assert_int_equal(there, 0);
	tmp_path(path, sizeof(path), "no-such-dir");
	there = -1;
	assert_int_equal(transport_stat(t, &there, NULL, NULL, path,
					"stat.txt", &err), 0);
	assert_int_equal(there, 0);
	err_release(&err);
	transport_close(t);
}

/* ------------------------------------------------------------------ */
/* Files a sprint left behind: what is refused                         */
/* ------------------------------------------------------------------ */

/*
 * Check that reading 'rel' under 'dir' with each read operation is
 * ERR_FILE_REFUSED with the message 'message' (NULL: any message), and
 * leaves nothing behind in the out-parameters.
 */
static void assert_refused(struct transport *t, const char *dir,
			   const char *rel, const char *message)
{
	struct err err = ERR_INIT;
	struct buf b = BUF_INIT;
	int64_t size = -1, mtime = -1;
	int there = -1;

	assert_int_equal(transport_read_file(t, &b, dir, rel, 4096, &err), -1);
	assert_int_equal(err.code, ERR_FILE_REFUSED);
	if (message)
		assert_string_equal(err.message, message);
	assert_int_equal(b.len, 0);

	assert_int_equal(transport_read_range(t, &b, &size, dir, rel, 0, 4096,
					      &err), -1);
	assert_int_equal(err.code, ERR_FILE_REFUSED);
	if (message)
		assert_string_equal(err.message, message);
	assert_int_equal(b.len, 0);
	assert_int_equal(size, 0);

	assert_int_equal(transport_stat(t, &there, &size, &mtime, dir, rel,
					&err), -1);
	assert_int_equal(err.code, ERR_FILE_REFUSED);
	if (message)
		assert_string_equal(err.message, message);
	assert_int_equal(there, 0);
	assert_int_equal(size, 0);
	assert_int_equal(mtime, 0);
	buf_release(&b);
	err_release(&err);
}

static void test_transport_refuses_symlink_last(void **state)
{
	struct transport *t = open_local();
	char path[512];

	(void)state;
	make_read_tree();
	tmp_path(path, sizeof(path), "r/sub/link.txt");
	assert_int_equal(symlink("ok.txt", path), 0);
	assert_refused(t, tmpdir, "r/sub/link.txt",
		       "'r/sub/link.txt' is a symbolic link");
	/* A link out of the directory, to what only root may read. */
	tmp_path(path, sizeof(path), "r/shadow");
	assert_int_equal(symlink("/etc/shadow", path), 0);
	assert_refused(t, tmpdir, "r/shadow", "'r/shadow' is a symbolic link");
	/* A dangling link is still a link, not a missing file. */
	tmp_path(path, sizeof(path), "r/dangling");
	assert_int_equal(symlink("/nonexistent/x", path), 0);
	assert_refused(t, tmpdir, "r/dangling",
		       "'r/dangling' is a symbolic link");
	transport_close(t);
}

static void test_transport_refuses_symlink_middle(void **state)
{
	struct transport *t = open_local();
	char path[512];

	(void)state;
	make_read_tree();
	tmp_path(path, sizeof(path), "r/linkdir");
	assert_int_equal(symlink("sub", path), 0);
	assert_refused(t, tmpdir, "r/linkdir/ok.txt",
		       "'r/linkdir' in 'r/linkdir/ok.txt' is a symbolic link");
	tmp_path(path, sizeof(path), "etc");
	assert_int_equal(symlink("/etc", path), 0);
	assert_refused(t, tmpdir, "etc/passwd",
		       "'etc' in 'etc/passwd' is a symbolic link");
	transport_close(t);
}

static void test_transport_refuses_fifo(void **state)
{
	struct transport *t = open_local();
	char path[512];

	(void)state;
	tmp_path(path, sizeof(path), "fifo");
	assert_int_equal(mkfifo(path, 0600), 0);
	/* A read that opened the FIFO for real would wait here forever. */
	alarm(20);
	assert_refused(t, tmpdir, "fifo", "'fifo' is a FIFO");
	assert_refused(t, tmpdir, "fifo/x", "'fifo' in 'fifo/x' is a FIFO");
	alarm(0);
	transport_close(t);
}

static void test_transport_refuses_socket_and_device(void **state)
{
	struct transport *t = open_local();
	struct sockaddr_un sa;
	char path[512];
	int s;

	(void)state;
	tmp_path(path, sizeof(path), "sock");
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	assert_true(strlen(path) < sizeof(sa.sun_path));
	memcpy(sa.sun_path, path, strlen(path));
	s = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_true(s >= 0);
	assert_int_equal(bind(s, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_refused(t, tmpdir, "sock", "'sock' is a socket");
	close(s);

	tmp_path(path, sizeof(path), "null");
	if (mknod(path, S_IFCHR | 0600, makedev(1, 3)) == 0)
		assert_refused(t, tmpdir, "null", "'null' is a device");
	else
		print_message("skipped the device case: mknod: %s\n",
			      strerror(errno));
	transport_close(t);
}

static void test_transport_refuses_directory(void **state)
{
	struct transport *t = open_local();

	(void)state;
	make_read_tree();
	assert_refused(t, tmpdir, "r/sub", "'r/sub' is a directory");
	transport_close(t);
}

static void test_transport_refuses_paths_outside(void **state)
{
	static const char *const bad[] = {
		"../ten.txt", "sub/../../ten.txt", "./sub/ok.txt",
		"sub//ok.txt", "sub/ok.txt/", "..", ".", "", NULL
	};
	struct transport *t = open_local();
	struct err err = ERR_INIT;
	struct buf b = BUF_INIT;
	char dir[512], abs_path[512], *long_rel;
	int i;

	(void)state;
	make_read_tree();
	tmp_path(dir, sizeof(dir), "r");
	/* "../ten.txt" names a real file: only the check stops it. */
	tmp_path(abs_path, sizeof(abs_path), "ten.txt");
	assert_true(exists(abs_path));
	for (i = 0; bad[i]; i++)
		assert_refused(t, dir, bad[i], NULL);
	assert_refused(t, dir, "../ten.txt",
		       "'../ten.txt' has an empty, '.' or '..' part");
	assert_refused(t, dir, abs_path, NULL);
	assert_int_equal(transport_read_file(t, &b, dir, abs_path, 100, &err),
			 -1);
	assert_non_null(strstr(err.message, "is not a relative path"));

	long_rel = xmalloc(TRANSPORT_REL_MAX + 2);
	memset(long_rel, 'a', TRANSPORT_REL_MAX + 1);
	long_rel[TRANSPORT_REL_MAX + 1] = '\0';
	assert_refused(t, dir, long_rel, NULL);
	free(long_rel);

	/* No path at all is a bug of the caller, not of the sprint. */
	assert_int_equal(transport_read_file(t, &b, dir, NULL, 100, &err), -1);
	assert_int_equal(err.code, ERR_INTERNAL);
	assert_int_equal(transport_read_file(t, &b, "", "ten.txt", 100, &err),
			 -1);
	assert_int_equal(err.code, ERR_INTERNAL);
	buf_release(&b);
	err_release(&err);
	transport_close(t);
}

/* ------------------------------------------------------------------ */
/* Listing                                                             */
/* ------------------------------------------------------------------ */

/* The "path" members of the listing 'arr', joined by spaces. */
static void list_paths(char *out, size_t size, const json_t *arr)
{
	size_t i, used = 0;
	json_t *v;

	out[0] = '\0';
	json_array_foreach((json_t *)arr, i, v) {
		const char *p = json_string_value(json_object_get(v, "path"));

		used += (size_t)snprintf(out + used, size - used, "%s%s",
					 i ? " " : "", p);
		assert_true(used < size);
	}
}

static void test_transport_list_depth_and_symlinks(void **state)
{
	struct transport *t = open_local();
	struct err err = ERR_INIT;
	json_t *arr = NULL;
	char top[512], path[512], target[512], got[512];

	(void)state;
	tmp_path(top, sizeof(top), "tree");
	tmp_path(path, sizeof(path), "tree/b.txt");
	assert_int_equal(transport_write_file(t, path, "bb", 2, 0644, &err),
			 0);
	tmp_path(path, sizeof(path), "tree/a.txt");
	assert_int_equal(transport_write_file(t, path, "a", 1, 0644, &err),
			 0);
	tmp_path(path, sizeof(path), "tree/sub/c.txt");
	assert_int_equal(transport_write_file(t, path, "ccc", 3, 0644, &err),
			 0);
	tmp_path(path, sizeof(path), "tree/sub/deep/d.txt");
	assert_int_equal(transport_write_file(t, path, "d", 1, 0644, &err),
			 0);
	tmp_path(target, sizeof(target), "tree/a.txt");
	tmp_path(path, sizeof(path), "tree/link.txt");
	assert_int_equal(symlink(target, path), 0);
	tmp_path(target, sizeof(target), "tree/sub");
	tmp_path(path, sizeof(path), "tree/linkdir");
	assert_int_equal(symlink(target, path), 0);
	tmp_path(path, sizeof(path), "tree/etc");
	assert_int_equal(symlink("/etc", path), 0);
	tmp_path(path, sizeof(path), "tree/sub/fifo");
	assert_int_equal(mkfifo(path, 0600), 0);

	alarm(20);
	assert_int_equal(transport_list(t, &arr, top, 1, 100, &err), 0);
	list_paths(got, sizeof(got), arr);
	assert_string_equal(got, "a.txt b.txt");
	assert_int_equal(json_integer_value(json_object_get(
		json_array_get(arr, 1), "size")), 2);
	assert_true(json_integer_value(json_object_get(
		json_array_get(arr, 1), "mtime")) > 1600000000);
	json_decref(arr);

	assert_int_equal(transport_list(t, &arr, top, 2, 100, &err), 0);
	list_paths(got, sizeof(got), arr);
	assert_string_equal(got, "a.txt b.txt sub/c.txt");
	json_decref(arr);

	assert_int_equal(transport_list(t, &arr, top, 10, 100, &err), 0);
	list_paths(got, sizeof(got), arr);
	assert_string_equal(got, "a.txt b.txt sub/c.txt sub/deep/d.txt");
	json_decref(arr);
	alarm(0);

	assert_int_equal(transport_list(t, &arr, top, 0, 100, &err), 0);
	assert_int_equal(json_array_size(arr), 0);
	json_decref(arr);

	assert_int_equal(transport_list(t, &arr, top, 10, 3, &err), -1);
	assert_null(arr);
	assert_int_equal(err.code, ERR_TRANSFER_FAILED);

	tmp_path(path, sizeof(path), "no-tree");
	assert_int_equal(transport_list(t, &arr, path, 3, 100, &err), -1);
	assert_int_equal(err.code, ERR_NOT_FOUND);
	assert_null(arr);
	err_release(&err);
	transport_close(t);
}

/* ------------------------------------------------------------------ */
/* Opening                                                             */
/* ------------------------------------------------------------------ */

static void test_transport_open_kinds(void **state)
{
	struct err err = ERR_INIT;
	struct transport *t = NULL;
	json_t *local = json_pack("{s:s}", "transport", "local");
	json_t *unsaid = json_pack("{s:s}", "host", "h");
	json_t *ssh = json_pack("{s:s, s:s, s:s}", "transport", "ssh",
				"host", "h", "user", "u");
	json_t *bogus = json_pack("{s:s}", "transport", "carrier-pigeon");

	(void)state;
	assert_int_equal(transport_open(&t, local, &err), 0);
	assert_string_equal(transport_name(t), "local");
	transport_close(t);
	assert_int_equal(transport_open(&t, unsaid, &err), 0);
	assert_string_equal(transport_name(t), "local");
	transport_close(t);

	/* Opening an ssh transport reads its keys and connects nothing. */
	assert_int_equal(transport_open(&t, ssh, &err), 0);
	assert_string_equal(transport_name(t), "ssh");
	transport_close(t);

	t = (struct transport *)&err;	/* must be reset on failure */
	assert_int_equal(transport_open(&t, bogus, &err), -1);
	assert_null(t);
	assert_int_equal(err.code, ERR_CONFIG_INVALID);
	assert_non_null(strstr(err.message, "'carrier-pigeon'"));
	assert_non_null(strstr(err.remedy, "(local, ssh)"));
	transport_close(NULL);
	json_decref(local);
	json_decref(unsaid);
	json_decref(ssh);
	json_decref(bogus);
	err_release(&err);
}

/* ------------------------------------------------------------------ */

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
		cmocka_unit_test(test_transport_exec_no_shell),
		cmocka_unit_test(test_transport_exec_exit_codes),
		cmocka_unit_test(test_transport_exec_stdin),
		cmocka_unit_test(test_transport_exec_output_limit),
		cmocka_unit_test(test_transport_exec_timeout_kills_group),
		cmocka_unit_test(test_transport_exec_background_keeps_pipe),
		cmocka_unit_test(test_transport_exec_not_found),
		cmocka_unit_test(test_transport_write_file_atomic_mode),
		cmocka_unit_test_setup_teardown(
			test_transport_write_file_full_disk, full_disk_setup,
			full_disk_teardown),
		cmocka_unit_test(test_transport_mkdirs),
		cmocka_unit_test(test_transport_read_file_limits),
		cmocka_unit_test(test_transport_read_range_offsets),
		cmocka_unit_test(test_transport_stat_and_remove),
		cmocka_unit_test(test_transport_refuses_symlink_last),
		cmocka_unit_test(test_transport_refuses_symlink_middle),
		cmocka_unit_test(test_transport_refuses_fifo),
		cmocka_unit_test(test_transport_refuses_socket_and_device),
		cmocka_unit_test(test_transport_refuses_directory),
		cmocka_unit_test(test_transport_refuses_paths_outside),
		cmocka_unit_test(test_transport_list_depth_and_symlinks),
		cmocka_unit_test(test_transport_open_kinds),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
