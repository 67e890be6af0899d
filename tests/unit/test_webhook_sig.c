/*
 * test_webhook_sig.c: unit tests for the webhook signature check
 * (webhook_sig.h): a vector computed with `openssl dgst -sha256 -hmac`,
 * the 5-minute window at both edges, missing and malformed headers, a
 * wrong signature and a body changed after signing.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "webhook_sig.h"
#include "banned.h"

#define BODY "{\"a\":1}"
#define TS "1700000000"
#define NOW ((time_t)1700000000)
/* printf '1700000000.{"a":1}' | openssl dgst -sha256 -hmac key */
#define SIG "a438e398bfafc57e4396bb7fc2304422f0f768e965d073ca313cb52e22e6ad03"
/* printf '1700000000.' | openssl dgst -sha256 -hmac key */
#define SIG_EMPTY \
	"0f1cc1f811f42fd12af9618acf321769899fa521fe07a642f70a61785e130770"

/* Check and return the result, leaving the error's message in 'msg'. */
static int check(const char *ts, const char *sig, const char *body,
		 time_t now, char msg[256])
{
	struct err err = ERR_INIT;
	int r = webhook_sig_check("key", ts, sig, body, strlen(body), now,
				  &err);

	msg[0] = '\0';
	if (r < 0) {
		assert_int_equal(err.code, ERR_UNAUTHORIZED);
		snprintf(msg, 256, "%.200s", err.message);
		assert_null(strstr(msg, "key"));
	}
	err_release(&err);
	return r;
}

static void test_webhook_sig_vector(void **state)
{
	char msg[256];

	(void)state;
	assert_int_equal(check(TS, SIG, BODY, NOW, msg), 0);
	assert_int_equal(check(TS, SIG_EMPTY, "", NOW, msg), 0);
}

static void test_webhook_sig_window(void **state)
{
	char msg[256];

	(void)state;
	assert_int_equal(check(TS, SIG, BODY, NOW + 300, msg), 0);
	assert_int_equal(check(TS, SIG, BODY, NOW - 300, msg), 0);
	assert_int_equal(check(TS, SIG, BODY, NOW + 301, msg), -1);
	assert_non_null(strstr(msg, "stale"));
	assert_int_equal(check(TS, SIG, BODY, NOW - 301, msg), -1);
	assert_non_null(strstr(msg, "future"));
}

static void test_webhook_sig_headers(void **state)
{
	char msg[256];

	(void)state;
	assert_int_equal(check(NULL, SIG, BODY, NOW, msg), -1);
	assert_non_null(strstr(msg, "X-Hpcloop-Timestamp"));
	assert_int_equal(check(TS, NULL, BODY, NOW, msg), -1);
	assert_non_null(strstr(msg, "X-Hpcloop-Signature"));
	assert_int_equal(check("", SIG, BODY, NOW, msg), -1);
	assert_int_equal(check("17e8", SIG, BODY, NOW, msg), -1);
	assert_int_equal(check("-1700000000", SIG, BODY, NOW, msg), -1);
	assert_int_equal(check("1700000000000", SIG, BODY, NOW, msg), -1);
	assert_int_equal(check(" 1700000000", SIG, BODY, NOW, msg), -1);
}

static void test_webhook_sig_wrong(void **state)
{
	char msg[256], upper[65];
	size_t i;

	(void)state;
	assert_int_equal(check(TS, SIG_EMPTY, BODY, NOW, msg), -1);
	assert_non_null(strstr(msg, "does not match"));
	assert_int_equal(check(TS, SIG, "{\"a\":2}", NOW, msg), -1);
	assert_int_equal(check(TS, SIG, BODY " ", NOW, msg), -1);
	assert_int_equal(check("1700000001", SIG, BODY, NOW, msg), -1);
	assert_int_equal(check(TS, "", BODY, NOW, msg), -1);
	for (i = 0; i < 64; i++)
		upper[i] = (char)(SIG[i] >= 'a' ? SIG[i] - 32 : SIG[i]);
	upper[64] = '\0';
	assert_int_equal(check(TS, upper, BODY, NOW, msg), -1);
	assert_int_equal(check(TS, SIG "00", BODY, NOW, msg), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_webhook_sig_vector),
		cmocka_unit_test(test_webhook_sig_window),
		cmocka_unit_test(test_webhook_sig_headers),
		cmocka_unit_test(test_webhook_sig_wrong),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
