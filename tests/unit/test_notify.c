/*
 * test_notify.c: unit tests for the pure parts of notifications
 * (notify.h, http.h): the webhook signature against a vector computed
 * independently (python's hmac), the backoff between tries and its
 * bound, which statuses are tried again, Retry-After's two forms, and
 * the channels a config gives (their defaults come from the schema).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "buf.h"
#include "config.h"
#include "http.h"
#include "notify.h"
#include "banned.h"

/* The signature is HMAC-SHA256(secret, "TIMESTAMP.BODY") in hex. */
static void test_notify_signature(void **state)
{
	char hex[SHA256_HEX_LEN + 1];
	const char body[] = "{\"a\":1}";

	(void)state;
	/* python3: hmac.new(b"k3y", b'1700000000.{"a":1}', sha256) */
	notify_signature(hex, "k3y", "1700000000", body, strlen(body));
	assert_string_equal(hex, "fd5a70e965043f7df6309c2c3b5ff5a8ffa99b1f"
				 "5175e9a311459e73c4634d4a");
	/* another timestamp, another signature: it is signed too */
	notify_signature(hex, "k3y", "1700000001", body, strlen(body));
	assert_string_not_equal(hex, "fd5a70e965043f7df6309c2c3b5ff5a8ffa99b1f"
				     "5175e9a311459e73c4634d4a");
}

/* The backoff doubles from its base up to its cap. */
static void test_notify_backoff_doubles(void **state)
{
	(void)state;
	assert_int_equal(notify_backoff_ms(1, -1, 0, 600000),
			 NOTIFY_BACKOFF_BASE_MS);
	assert_int_equal(notify_backoff_ms(2, -1, 0, 600000),
			 2 * NOTIFY_BACKOFF_BASE_MS);
	assert_int_equal(notify_backoff_ms(3, -1, 0, 600000),
			 4 * NOTIFY_BACKOFF_BASE_MS);
	assert_int_equal(notify_backoff_ms(9, -1, 0, 600000),
			 NOTIFY_BACKOFF_MAX_MS);
	assert_int_equal(notify_backoff_ms(1000, -1, 0, 600000),
			 NOTIFY_BACKOFF_MAX_MS);
}

/* Retry-After wins over the backoff, smaller or larger. */
static void test_notify_backoff_retry_after(void **state)
{
	(void)state;
	assert_int_equal(notify_backoff_ms(1, 2, 0, 60000), 2000);
	assert_int_equal(notify_backoff_ms(5, 0, 0, 60000), 0);
	assert_int_equal(notify_backoff_ms(1, 45, 0, 60000), 45000);
}

/* A wait that would pass the budget ends the tries. */
static void test_notify_backoff_budget(void **state)
{
	(void)state;
	assert_int_equal(notify_backoff_ms(1, 120, 0, 5000), -1);
	assert_int_equal(notify_backoff_ms(1, 2, 4000, 5000), -1);
	assert_int_equal(notify_backoff_ms(1, 1, 4000, 5000), 1000);
	assert_int_equal(notify_backoff_ms(3, -1, 3500, 5000), -1);
	assert_int_equal(notify_backoff_ms(1, -1, 0, 0), -1);
}

/* 429 and 5xx are tried again; nothing else is. */
static void test_notify_status_retryable(void **state)
{
	(void)state;
	assert_true(notify_status_retryable(429));
	assert_true(notify_status_retryable(500));
	assert_true(notify_status_retryable(503));
	assert_true(notify_status_retryable(599));
	assert_false(notify_status_retryable(200));
	assert_false(notify_status_retryable(400));
	assert_false(notify_status_retryable(401));
	assert_false(notify_status_retryable(404));
	assert_false(notify_status_retryable(301));
	assert_false(notify_status_retryable(600));
}

/* Retry-After in seconds or as an HTTP-date; anything else is none. */
static void test_http_retry_after(void **state)
{
	/* Sun, 06 Nov 1994 08:49:37 GMT (RFC 9110's example) */
	const long date = 784111777;

	(void)state;
	assert_int_equal(http_parse_retry_after("120", 0), 120);
	assert_int_equal(http_parse_retry_after(" 7\r\n", 0), 7);
	assert_int_equal(http_parse_retry_after("0", 0), 0);
	assert_int_equal(http_parse_retry_after(
				 "Sun, 06 Nov 1994 08:49:37 GMT\r\n",
				 date - 30),
			 30);
	assert_int_equal(http_parse_retry_after(
				 "Sun, 06 Nov 1994 08:49:37 GMT", date + 5),
			 0);
	assert_int_equal(http_parse_retry_after("soon", 0), -1);
	assert_int_equal(http_parse_retry_after("12abc", 0), -1);
	assert_int_equal(http_parse_retry_after("-3", 0), -1);
}

/* Load 'yaml' from a fresh directory into 'cfg'. */
static void load(struct config *cfg, char dir[64], const char *yaml)
{
	struct err err = ERR_INIT;
	char path[128];
	FILE *f;

	snprintf(dir, 64, "/tmp/test_notify.XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/hpcloop.yaml", dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(yaml, f);
	assert_int_equal(fclose(f), 0);
	if (config_load(cfg, path, &err) < 0)
		fail_msg("config: %s", err.message);
	unlink(path);
	rmdir(dir);
}

static const char base[] = "version: 1\n"
			   "clusters:\n"
			   "  local: {transport: local, scheduler: local}\n"
			   "studies:\n"
			   "  demo: {cluster: local}\n";

/* No channel: the embedded default, a file channel. */
static void test_notify_default_channel(void **state)
{
	struct config cfg = CONFIG_INIT;
	json_t *chans;
	const json_t *c;
	char dir[64];

	(void)state;
	load(&cfg, dir, base);
	assert_false(notify_configured(&cfg));
	chans = notify_channels(&cfg);
	assert_int_equal(json_array_size(chans), 1);
	c = json_array_get(chans, 0);
	assert_string_equal(json_string_value(json_object_get(c, "type")),
			    "file");
	assert_string_equal(json_string_value(json_object_get(c, "path")),
			    ".hpcloop/notifications.jsonl");
	assert_true(notify_channel_wants(c, "completed"));
	assert_false(notify_channel_wants(c, "started"));
	json_decref(chans);
	config_release(&cfg);
}

/* Configured channels, with the schema's defaults filled in. */
static void test_notify_configured_channels(void **state)
{
	struct config cfg = CONFIG_INIT;
	struct buf yaml = BUF_INIT;
	json_t *chans;
	const json_t *c;
	char dir[64];

	(void)state;
	buf_adds(&yaml, base);
	buf_adds(&yaml, "notifications:\n"
			"  - {name: phone, type: ntfy, topic: t}\n"
			"  - {name: hook, type: webhook, url: 'http://h/x',"
			" events: [loop_finished]}\n");
	load(&cfg, dir, buf_str(&yaml));
	buf_release(&yaml);
	assert_true(notify_configured(&cfg));
	chans = notify_channels(&cfg);
	assert_int_equal(json_array_size(chans), 2);
	c = notify_channel_find(chans, "phone");
	assert_non_null(c);
	assert_string_equal(json_string_value(json_object_get(c, "url")),
			    "https://ntfy.sh");
	assert_int_equal(json_integer_value(json_object_get(c,
							    "max_attempts")),
			 4);
	c = notify_channel_find(chans, "hook");
	assert_non_null(c);
	assert_true(notify_channel_wants(c, "loop_finished"));
	assert_false(notify_channel_wants(c, "completed"));
	assert_null(json_object_get(c, "path"));
	assert_null(notify_channel_find(chans, "nope"));
	json_decref(chans);
	config_release(&cfg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_notify_signature),
		cmocka_unit_test(test_notify_backoff_doubles),
		cmocka_unit_test(test_notify_backoff_retry_after),
		cmocka_unit_test(test_notify_backoff_budget),
		cmocka_unit_test(test_notify_status_retryable),
		cmocka_unit_test(test_http_retry_after),
		cmocka_unit_test(test_notify_default_channel),
		cmocka_unit_test(test_notify_configured_channels),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
