/*
 * test_buf.c: unit tests for the bounded buffer (buf.h): appending raw
 * bytes, strings and formatted text, the hard limit on each of them and
 * on buf_read_file, NUL termination after every operation, handing the
 * contents over with buf_detach, shortening with buf_truncate, and
 * releasing an empty buffer.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "buf.h"
#include "banned.h"

/* 'b' holds exactly the 'len' bytes 'want', followed by a NUL. */
static void assert_holds(const struct buf *b, const void *want, size_t len)
{
	assert_int_equal(b->len, len);
	assert_non_null(b->data);
	assert_memory_equal(b->data, want, len);
	assert_int_equal(b->data[len], '\0');
	assert_true(b->alloc > len);
	assert_ptr_equal(buf_str(b), b->data);
}

/* A temporary file holding 'len' bytes of a repeating pattern. */
static FILE *pattern_file(size_t len)
{
	FILE *f = tmpfile();
	size_t i;

	assert_non_null(f);
	for (i = 0; i < len; i++)
		assert_int_not_equal(fputc('a' + (int)(i % 26), f), EOF);
	rewind(f);
	return f;
}

/* An empty buffer reads as "" and owns nothing. */
static void test_buf_empty(void **state)
{
	struct buf a = BUF_INIT;
	struct buf b;

	(void)state;
	buf_init(&b, 10);
	assert_null(a.data);
	assert_int_equal(a.len, 0);
	assert_string_equal(buf_str(&a), "");
	assert_null(b.data);
	assert_int_equal(b.len, 0);
	assert_int_equal(b.max, 10);
	assert_string_equal(buf_str(&b), "");
	buf_release(&a);
	buf_release(&b);
}

/* Bytes, including NULs, are appended in order and terminated. */
static void test_buf_add_appends(void **state)
{
	struct buf b = BUF_INIT;

	(void)state;
	assert_int_equal(buf_add(&b, "ab\0c", 4), 0);
	assert_holds(&b, "ab\0c", 4);
	assert_int_equal(buf_adds(&b, "def"), 0);
	assert_holds(&b, "ab\0cdef", 7);
	assert_int_equal(buf_add(&b, "", 0), 0);
	assert_holds(&b, "ab\0cdef", 7);
	buf_release(&b);
}

/* Growing far past the first allocation keeps every byte. */
static void test_buf_add_grows(void **state)
{
	struct buf b = BUF_INIT;
	char want[10000];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(want); i++) {
		want[i] = (char)('0' + i % 10);
		assert_int_equal(buf_add(&b, &want[i], 1), 0);
		assert_int_equal(b.data[b.len], '\0');
	}
	assert_holds(&b, want, sizeof(want));
	buf_release(&b);
}

/* Up to the limit is fine; one byte more is -1 and appends nothing. */
static void test_buf_add_limit(void **state)
{
	struct buf b;

	(void)state;
	buf_init(&b, 8);
	assert_int_equal(buf_add(&b, "12345", 5), 0);
	assert_int_equal(buf_add(&b, "6789", 4), -1);
	assert_holds(&b, "12345", 5);
	assert_int_equal(buf_adds(&b, "678"), 0);
	assert_holds(&b, "12345678", 8);
	assert_int_equal(buf_add(&b, "9", 1), -1);
	assert_int_equal(buf_adds(&b, "9"), -1);
	assert_holds(&b, "12345678", 8);
	buf_release(&b);
}

/* A single addition larger than the limit fails on an empty buffer. */
static void test_buf_add_limit_empty(void **state)
{
	struct buf b;

	(void)state;
	buf_init(&b, 3);
	assert_int_equal(buf_add(&b, "abcd", 4), -1);
	assert_int_equal(b.len, 0);
	assert_string_equal(buf_str(&b), "");
	buf_release(&b);
}

/* buf_addf formats, appends and terminates, however long the text. */
static void test_buf_addf_formats(void **state)
{
	struct buf b = BUF_INIT;
	char big[3000];

	(void)state;
	assert_int_equal(buf_addf(&b, "%s=%d", "n", 42), 0);
	assert_holds(&b, "n=42", 4);
	memset(big, 'z', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(buf_addf(&b, ";%s;", big), 0);
	assert_int_equal(b.len, 4 + 1 + sizeof(big) - 1 + 1);
	assert_memory_equal(b.data, "n=42;zz", 7);
	assert_int_equal(b.data[b.len - 1], ';');
	assert_int_equal(b.data[b.len], '\0');
	assert_int_equal(strlen(b.data), b.len);
	buf_release(&b);
}

/* buf_addf up to the limit is fine; past it is -1 with nothing added. */
static void test_buf_addf_limit(void **state)
{
	struct buf b;

	(void)state;
	buf_init(&b, 6);
	assert_int_equal(buf_addf(&b, "%d", 123), 0);
	assert_int_equal(buf_addf(&b, "%s", "4567"), -1);
	assert_holds(&b, "123", 3);
	assert_int_equal(buf_addf(&b, "%03d", 45), 0);
	assert_holds(&b, "123045", 6);
	assert_int_equal(buf_addf(&b, "%c", 'x'), -1);
	assert_holds(&b, "123045", 6);
	buf_release(&b);
}

/* A file within the limit is read whole, across several chunks. */
static void test_buf_read_file_whole(void **state)
{
	struct buf b;
	FILE *f = pattern_file(20000);
	size_t i;

	(void)state;
	buf_init(&b, 20000);
	assert_int_equal(buf_read_file(&b, f), 0);
	assert_int_equal(b.len, 20000);
	assert_int_equal(b.data[b.len], '\0');
	for (i = 0; i < b.len; i++)
		if (b.data[i] != (char)('a' + i % 26))
			fail_msg("byte %zu is '%c'", i, b.data[i]);
	fclose(f);
	buf_release(&b);
}

/* Appending a file adds to what is there; an empty file adds nothing. */
static void test_buf_read_file_appends(void **state)
{
	struct buf b = BUF_INIT;
	FILE *f = pattern_file(3);
	FILE *empty = pattern_file(0);

	(void)state;
	buf_adds(&b, "<");
	assert_int_equal(buf_read_file(&b, f), 0);
	assert_int_equal(buf_read_file(&b, empty), 0);
	assert_holds(&b, "<abc", 4);
	fclose(f);
	fclose(empty);
	buf_release(&b);
}

/* One byte past the limit is -2, small or large file. */
static void test_buf_read_file_limit(void **state)
{
	static const size_t sizes[] = { 101, 8193, 20001 };
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		struct buf b;
		FILE *f = pattern_file(sizes[i]);

		buf_init(&b, sizes[i] - 1);
		assert_int_equal(buf_read_file(&b, f), -2);
		assert_true(b.len <= sizes[i] - 1);
		if (b.data)
			assert_int_equal(b.data[b.len], '\0');
		fclose(f);
		buf_release(&b);
	}
}

/* A stream that cannot be read (opened for writing) is -1. */
static void test_buf_read_file_error(void **state)
{
	struct buf b = BUF_INIT;
	FILE *w = fopen("/dev/null", "w");

	(void)state;
	assert_non_null(w);
	assert_int_equal(buf_read_file(&b, w), -1);
	assert_int_equal(b.len, 0);
	fclose(w);
	buf_release(&b);
}

/* buf_detach hands over the string and leaves 'b' empty and usable. */
static void test_buf_detach(void **state)
{
	struct buf b;
	size_t len = 0;
	char *s;

	(void)state;
	buf_init(&b, 16);
	buf_adds(&b, "hello");
	s = buf_detach(&b, &len);
	assert_string_equal(s, "hello");
	assert_int_equal(len, 5);
	assert_null(b.data);
	assert_int_equal(b.len, 0);
	assert_string_equal(buf_str(&b), "");
	assert_int_equal(buf_adds(&b, "again"), 0);
	assert_holds(&b, "again", 5);
	assert_string_equal(s, "hello");
	free(s);
	buf_release(&b);
}

/* Detaching an empty buffer gives a new "" (never NULL). */
static void test_buf_detach_empty(void **state)
{
	struct buf b = BUF_INIT;
	size_t len = 99;
	char *s = buf_detach(&b, &len);

	(void)state;
	assert_non_null(s);
	assert_string_equal(s, "");
	assert_int_equal(len, 0);
	free(s);
	s = buf_detach(&b, NULL);
	assert_non_null(s);
	assert_string_equal(s, "");
	free(s);
}

/* Releasing empty, NULL and used buffers leaves them empty. */
static void test_buf_release_empty(void **state)
{
	struct buf b = BUF_INIT;

	(void)state;
	buf_release(NULL);
	buf_release(&b);
	buf_release(&b);
	assert_null(b.data);
	assert_int_equal(b.len, 0);
	buf_adds(&b, "x");
	buf_release(&b);
	assert_null(b.data);
	assert_int_equal(b.len, 0);
	assert_int_equal(b.alloc, 0);
	assert_string_equal(buf_str(&b), "");
	buf_release(&b);
}

/* buf_truncate shortens to a remembered length and never lengthens. */
static void test_buf_truncate(void **state)
{
	struct buf b = BUF_INIT;
	size_t mark;

	(void)state;
	buf_truncate(&b, 0);
	buf_truncate(&b, 5);
	assert_null(b.data);
	assert_int_equal(b.len, 0);
	assert_int_equal(buf_adds(&b, "/a"), 0);
	mark = b.len;
	assert_int_equal(buf_adds(&b, "/b~0c"), 0);
	buf_truncate(&b, mark);
	assert_holds(&b, "/a", 2);
	buf_truncate(&b, 10);
	assert_holds(&b, "/a", 2);
	buf_truncate(&b, 0);
	assert_holds(&b, "", 0);
	assert_int_equal(buf_adds(&b, "x"), 0);
	assert_holds(&b, "x", 1);
	buf_release(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_buf_empty),
		cmocka_unit_test(test_buf_add_appends),
		cmocka_unit_test(test_buf_add_grows),
		cmocka_unit_test(test_buf_add_limit),
		cmocka_unit_test(test_buf_add_limit_empty),
		cmocka_unit_test(test_buf_addf_formats),
		cmocka_unit_test(test_buf_addf_limit),
		cmocka_unit_test(test_buf_read_file_whole),
		cmocka_unit_test(test_buf_read_file_appends),
		cmocka_unit_test(test_buf_read_file_limit),
		cmocka_unit_test(test_buf_read_file_error),
		cmocka_unit_test(test_buf_detach),
		cmocka_unit_test(test_buf_detach_empty),
		cmocka_unit_test(test_buf_release_empty),
		cmocka_unit_test(test_buf_truncate),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
