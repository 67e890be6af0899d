/*
 * test_shquote.c: unit tests for POSIX single-quote escaping
 * (shquote.h): the exact quoting of plain words, the empty word,
 * single quotes, $(), backquotes, newlines, bytes that are not UTF-8
 * and a leading dash; a NUL refused; the limit of the buffer; the
 * display form; and a round trip of hostile words through /bin/sh (and
 * bash, when there is one) on this machine, compared byte for byte.
 */
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "buf.h"
#include "err.h"
#include "shquote.h"
#include "transport.h"
#include "banned.h"

/* The scratch directory of this test file, made by scratch_setup(). */
static char fixture_dir[64];

/* nftw callback: remove one entry, depth first. */
static int scratch_remove(const char *path, const struct stat *st, int flag,
			  struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

/* cmocka group setup: make the scratch directory. */
static int scratch_setup(void **state)
{
	(void)state;
	snprintf(fixture_dir, sizeof(fixture_dir), "/tmp/hpcloop-unit.XXXXXX");
	return mkdtemp(fixture_dir) ? 0 : -1;
}

/* cmocka group teardown: remove it and all it holds. */
static int scratch_teardown(void **state)
{
	(void)state;
	return nftw(fixture_dir, scratch_remove, 16, FTW_DEPTH | FTW_PHYS);
}

/* 'word' quoted by shquote_word(), as a string the test compares. */
static void expect_quoted(const char *word, const char *want)
{
	struct buf b = BUF_INIT;
	struct err err = ERR_INIT;

	assert_int_equal(shquote_word(&b, word, strlen(word), &err), 0);
	assert_string_equal(buf_str(&b), want);
	buf_release(&b);
}

static void test_shquote_words(void **state)
{
	(void)state;
	expect_quoted("abc", "'abc'");
	expect_quoted("", "''");
	expect_quoted("it's", "'it'\\''s'");
	expect_quoted("'", "''\\'''");
	expect_quoted("''", "''\\'''\\'''");
	expect_quoted("$(rm -rf /)", "'$(rm -rf /)'");
	expect_quoted("`id`", "'`id`'");
	expect_quoted("a\nb", "'a\nb'");
	expect_quoted("\xff\xfe\x80", "'\xff\xfe\x80'");
	expect_quoted("-rf", "'-rf'");
	expect_quoted("$HOME *", "'$HOME *'");
	expect_quoted("back\\slash", "'back\\slash'");
}

static void test_shquote_refuses_nul(void **state)
{
	struct buf b = BUF_INIT;
	struct err err = ERR_INIT;

	(void)state;
	buf_adds(&b, "x");
	assert_int_equal(shquote_word(&b, "a\0b", 3, &err), -1);
	assert_int_equal(err.code, ERR_INTERNAL);
	assert_non_null(strstr(err.message, "NUL"));
	/* Nothing was appended. */
	assert_string_equal(buf_str(&b), "x");
	/* A NUL at the very end is refused as well. */
	assert_int_equal(shquote_word(&b, "ab\0", 3, &err), -1);
	buf_release(&b);
	err_release(&err);
}

static void test_shquote_argv_and_limit(void **state)
{
	const char *argv[] = { "printf", "%s\\n", "a b", "", NULL };
	const char *none[] = { NULL };
	struct buf b = BUF_INIT;
	struct err err = ERR_INIT;

	(void)state;
	assert_int_equal(shquote_argv(&b, argv, &err), 0);
	assert_string_equal(buf_str(&b), "'printf' '%s\\n' 'a b' ''");
	buf_release(&b);
	assert_int_equal(shquote_argv(&b, none, &err), 0);
	assert_string_equal(buf_str(&b), "");

	buf_init(&b, 10);
	assert_int_equal(shquote_argv(&b, argv, &err), -1);
	assert_int_equal(err.code, ERR_INTERNAL);
	assert_true(b.len <= 10);
	buf_release(&b);
	err_release(&err);
}

static void test_shquote_display(void **state)
{
	struct buf b = BUF_INIT;

	(void)state;
	shquote_display(&b, "/home/u/.ssh/known_hosts");
	buf_adds(&b, " ");
	shquote_display(&b, "[127.0.0.1]:22");
	buf_adds(&b, " ");
	shquote_display(&b, "");
	buf_adds(&b, " ");
	shquote_display(&b, "a b'c");
	assert_string_equal(buf_str(&b), "/home/u/.ssh/known_hosts "
					 "'[127.0.0.1]:22' '' 'a b'\\''c'");
	buf_release(&b);
}

/* The hostile words of the round trip. */
static const char *const hostile[] = {
	"it's",
	"'",
	"''",
	"'\\''",
	"$(touch HOSTILE_MARKER)",
	"`touch HOSTILE_MARKER`",
	"a\nb\n",
	"\r",
	"\xff\xfe not utf-8 \xc3\x28",
	"",
	"-n",
	"--",
	"-rf /",
	"$HOME ${HOME} $((1+1)) $1 $@ $*",
	"* ? [a-z] ~ ~root",
	"; | & && || > < >> <<EOF ( ) { }",
	"\\ \\\\ \\n \"",
	"!! !$ #comment",
	"%s %n %%",
	"\t tab and  spaces ",
	NULL,
};

/*
 * Run "printf '%s\0' WORDS" through 'shell' -c on this machine, with
 * the words quoted by shquote_argv(), and check that the output is the
 * words ended by NULs, byte for byte, and that nothing ran.
 */
static void round_trip(const char *shell)
{
	const char *words[sizeof(hostile) / sizeof(hostile[0]) + 2];
	struct transport *t = NULL;
	struct exec_result res;
	struct buf line = BUF_INIT, want = BUF_INIT;
	struct err err = ERR_INIT;
	char marker[128];
	const char *argv[4];
	size_t i, n = 0;

	words[n++] = "printf";
	words[n++] = "%s\\0";
	for (i = 0; hostile[i]; i++) {
		words[n++] = hostile[i];
		buf_add(&want, hostile[i], strlen(hostile[i]) + 1);
	}
	words[n] = NULL;
	assert_int_equal(shquote_argv(&line, words, &err), 0);
	argv[0] = shell;
	argv[1] = "-c";
	argv[2] = buf_str(&line);
	argv[3] = NULL;
	assert_int_equal(transport_open(&t, NULL, &err), 0);
	exec_result_init(&res, 1 << 16);
	assert_int_equal(transport_exec(t, &res, argv, fixture_dir, NULL, 0,
					10, &err),
			 0);
	assert_int_equal(res.exit_code, 0);
	assert_string_equal(buf_str(&res.err), "");
	assert_int_equal(res.out.len, want.len);
	assert_memory_equal(res.out.data, want.data, want.len);
	snprintf(marker, sizeof(marker), "%s/HOSTILE_MARKER", fixture_dir);
	assert_int_equal(access(marker, F_OK), -1);
	exec_result_release(&res);
	transport_close(t);
	buf_release(&line);
	buf_release(&want);
}

static void test_shquote_round_trip_sh(void **state)
{
	(void)state;
	round_trip("/bin/sh");
}

static void test_shquote_round_trip_bash(void **state)
{
	(void)state;
	if (access("/bin/bash", X_OK) < 0)
		skip();
	round_trip("/bin/bash");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_shquote_words),
		cmocka_unit_test(test_shquote_refuses_nul),
		cmocka_unit_test(test_shquote_argv_and_limit),
		cmocka_unit_test(test_shquote_display),
		cmocka_unit_test(test_shquote_round_trip_sh),
		cmocka_unit_test(test_shquote_round_trip_bash),
	};

	return cmocka_run_group_tests(tests, scratch_setup, scratch_teardown);
}
