/*
 * test_transport.c: unit tests for the transport module (transport.h)
 * through the local transport: commands run from argv with no shell,
 * exit codes and signals, standard input, bounded output, timeouts that
 * kill the process group, atomic writes with their modes, reads of
 * whole files and of ranges, listings that skip symbolic links, and the
 * errors for what is missing.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <signal.h>
#include <sys/stat.h>
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
	assert_int_equal(transport_read_file(t, &pid_text, pidfile, 64, &err),
			 0);
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
/* Files                                                               */
/* ------------------------------------------------------------------ */

static void test_transport_write_file_atomic_mode(void **state)
{
	struct transport *t = open_local();
	struct err err = ERR_INIT;
	struct buf b = BUF_INIT;
	char path[512], dir[512];
	struct stat sb;
	struct dirent *de;
	DIR *d;
	int entries = 0;

	(void)state;
	tmp_path(path, sizeof(path), "w/deep/er/secret.txt");
	tmp_path(dir, sizeof(dir), "w/deep/er");
	assert_int_equal(transport_write_file(t, path, "one", 3, 0600, &err),
			 0);
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sb.st_mode & 07777, 0600);
	assert_int_equal(transport_read_file(t, &b, path, 100, &err), 0);
	assert_string_equal(buf_str(&b), "one");

	assert_int_equal(transport_write_file(t, path, "#!/bin/sh\n", 10,
					      0700, &err), 0);
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sb.st_mode & 07777, 0700);
	assert_int_equal(transport_read_file(t, &b, path, 100, &err), 0);
	assert_string_equal(buf_str(&b), "#!/bin/sh\n");

	/* No temporary file is left beside it. */
	d = opendir(dir);
	assert_non_null(d);
	for (;;) {
		de = readdir(d);
		if (!de)
			break;
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			entries++;
	}
	closedir(d);
	assert_int_equal(entries, 1);

	/* An empty file is a file too. */
	assert_int_equal(transport_write_file(t, path, "", 0, 0644, &err), 0);
	assert_int_equal(transport_read_file(t, &b, path, 100, &err), 0);
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

static void test_transport_read_file_limits(void **state)
{
	struct transport *t = open_local();
	struct err err = ERR_INIT;
	struct buf b = BUF_INIT;
	char path[512];

	(void)state;
	tmp_path(path, sizeof(path), "ten.txt");
	put_file(path, "0123456789");
	assert_int_equal(transport_read_file(t, &b, path, 10, &err), 0);
	assert_string_equal(buf_str(&b), "0123456789");
	assert_int_equal(transport_read_file(t, &b, path, 9, &err), -1);
	assert_int_equal(err.code, ERR_TRANSFER_FAILED);
	assert_non_null(strstr(err.message, path));
	assert_int_equal(b.len, 0);

	tmp_path(path, sizeof(path), "missing.txt");
	assert_int_equal(transport_read_file(t, &b, path, 10, &err), -1);
	assert_int_equal(err.code, ERR_NOT_FOUND);
	assert_non_null(strstr(err.message, path));

	assert_int_equal(transport_read_file(t, &b, tmpdir, 10, &err), -1);
	assert_int_equal(err.code, ERR_IO_FAILED);
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
	assert_int_equal(transport_read_range(t, &b, &size, path, 3, 4, &err),
			 0);
	assert_string_equal(buf_str(&b), "3456");
	assert_int_equal(size, 10);
	assert_int_equal(transport_read_range(t, &b, &size, path, 7, 100,
					      &err), 0);
	assert_string_equal(buf_str(&b), "789");
	assert_int_equal(transport_read_range(t, &b, &size, path, 10, 100,
					      &err), 0);
	assert_int_equal(b.len, 0);
	assert_int_equal(transport_read_range(t, &b, &size, path, 50, 100,
					      &err), 0);
	assert_int_equal(b.len, 0);
	assert_int_equal(size, 10);
	assert_int_equal(transport_read_range(t, &b, NULL, path, 0, 0, &err),
			 0);
	assert_int_equal(b.len, 0);

	tmp_path(path, sizeof(path), "no-range.txt");
	assert_int_equal(transport_read_range(t, &b, &size, path, 0, 10,
					      &err), -1);
	assert_int_equal(err.code, ERR_NOT_FOUND);
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
	assert_int_equal(transport_stat(t, &there, &size, &mtime, path, &err),
			 0);
	assert_int_equal(there, 1);
	assert_int_equal(size, 3);
	assert_true(mtime > 1600000000);

	assert_int_equal(transport_remove(t, path, &err), 0);
	assert_false(exists(path));
	assert_int_equal(transport_remove(t, path, &err), 0);
	assert_int_equal(transport_stat(t, &there, &size, &mtime, path, &err),
			 0);
	assert_int_equal(there, 0);
	assert_int_equal(size, 0);
	assert_int_equal(transport_remove(t, tmpdir, &err), -1);
	assert_int_equal(err.code, ERR_IO_FAILED);
	err_release(&err);
	transport_close(t);
}

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

	t = (struct transport *)&err;	/* must be reset on failure */
	assert_int_equal(transport_open(&t, ssh, &err), -1);
	assert_null(t);
	assert_int_equal(err.code, ERR_CONFIG_INVALID);
	assert_string_equal(err.message,
			    "transport 'ssh' is not available in this build");
	assert_non_null(strstr(err.remedy, "(local)"));

	assert_int_equal(transport_open(&t, bogus, &err), -1);
	assert_null(t);
	assert_int_equal(err.code, ERR_CONFIG_INVALID);
	assert_non_null(strstr(err.message, "'carrier-pigeon'"));
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
		cmocka_unit_test(test_transport_mkdirs),
		cmocka_unit_test(test_transport_read_file_limits),
		cmocka_unit_test(test_transport_read_range_offsets),
		cmocka_unit_test(test_transport_stat_and_remove),
		cmocka_unit_test(test_transport_list_depth_and_symlinks),
		cmocka_unit_test(test_transport_open_kinds),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
