/*
 * test_idem.c: unit tests for idempotency keys and leases (idem.h,
 * lease.h): a key bound to its spec from the first write, replays of
 * done calls, claims that tell a live attempt from a dead one (a real
 * child process that exits, a zombie, another host's lease), and the
 * key freed after a clean failure.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "idem.h"
#include "journal.h"
#include "lease.h"
#include "fixtures.h"
#include "banned.h"

#define open_ok fixture_journal

/* The key of the spec text 'text'. */
static void key_of(struct idem_key *k, const char *text)
{
	json_t *spec = json_loads(text, 0, NULL);

	assert_non_null(spec);
	idem_key_of(k, spec);
	json_decref(spec);
}

/* Run 'sql' on 'j' or fail. */
static void sql_ok(struct journal *j, const char *sql, json_t *params)
{
	struct err err = ERR_INIT;

	if (journal_exec(j, NULL, sql, params, &err) < 0)
		fail_msg("%s: %s", sql, err.message);
	json_decref(params);
}

/* The key is the given one, or the canonical hash; key order is moot. */
static void test_idem_key_of(void **state)
{
	struct idem_key a, b, c;

	(void)state;
	key_of(&a, "{\"b\": 1, \"a\": [1, 2]}");
	key_of(&b, "{\"a\": [1, 2], \"b\": 1}");
	assert_string_equal(a.key, a.hash);
	assert_string_equal(a.hash, b.hash);
	assert_int_equal(strlen(a.hash), SHA256_HEX_LEN);
	key_of(&c, "{\"idempotency_key\": \"k-1\", \"a\": 1}");
	assert_string_equal(c.key, "k-1");
	assert_string_not_equal(c.hash, a.hash);
}

/* One-transaction calls: store, replay, conflict on another spec. */
static void test_idem_lookup_store(void **state)
{
	struct journal *j = open_ok("lookup.db");
	struct err err = ERR_INIT;
	struct idem_key k, other;
	json_t *data = json_pack("{s:i}", "n", 7), *got = NULL;

	(void)state;
	key_of(&k, "{\"idempotency_key\": \"k\", \"x\": 1}");
	key_of(&other, "{\"idempotency_key\": \"k\", \"x\": 2}");
	assert_int_equal(idem_lookup(j, &got, "annotate", &k, &err), 0);
	assert_null(got);
	assert_int_equal(idem_store(j, "annotate", &k, NULL, data, &err), 0);
	assert_int_equal(idem_lookup(j, &got, "annotate", &k, &err), 1);
	assert_true(json_equal(got, data));
	json_decref(got);
	/* Keys are per primitive. */
	assert_int_equal(idem_lookup(j, &got, "notify", &k, &err), 0);
	assert_int_equal(idem_lookup(j, &got, "annotate", &other, &err), -1);
	assert_int_equal(err.code, ERR_CONFLICT);
	assert_non_null(strstr(err.message, "'k'"));
	assert_non_null(strstr(err.remedy, "new idempotency_key"));
	err_release(&err);
	json_decref(data);
	journal_close(j);
}

/* A claim is fresh, then in progress for others while its owner lives. */
static void test_idem_claim_live_owner(void **state)
{
	struct journal *j = open_ok("claim.db");
	struct idem_claim c = IDEM_CLAIM_INIT;
	struct err err = ERR_INIT;
	struct idem_key k, other;

	(void)state;
	key_of(&k, "{\"idempotency_key\": \"s\", \"idea\": \"one\"}");
	key_of(&other, "{\"idempotency_key\": \"s\", \"idea\": \"two\"}");
	assert_int_equal(idem_claim(j, &c, "submit-flow", &k, &err), 0);
	assert_int_equal(c.found, IDEM_FRESH);
	assert_int_equal(idem_bind(j, "submit-flow", &k, "sp-000001", &err),
			 0);
	/* This process holds it: another caller must wait... */
	assert_int_equal(idem_claim(j, &c, "submit-flow", &k, &err), -1);
	assert_int_equal(err.code, ERR_IN_PROGRESS);
	assert_true(err_retry_safe(err.code));
	assert_int_equal(json_integer_value(json_object_get(err.details,
							    "retry_after_s")),
			 IDEM_RETRY_AFTER_S);
	err_release(&err);
	/* ...and another spec under the key is refused at once. */
	assert_int_equal(idem_claim(j, &c, "submit-flow", &other, &err), -1);
	assert_int_equal(err.code, ERR_CONFLICT);
	err_release(&err);
	journal_close(j);
}

/* A dead owner's attempt is resumed with the subject it left. */
static void test_idem_claim_dead_owner(void **state)
{
	struct journal *j = open_ok("dead.db");
	struct idem_claim c = IDEM_CLAIM_INIT;
	struct err err = ERR_INIT;
	struct idem_key k;
	char owner[LEASE_OWNER_MAX], host[256];
	pid_t pid;
	int status;

	(void)state;
	key_of(&k, "{\"idea\": \"resume me\"}");
	assert_int_equal(idem_claim(j, &c, "submit-flow", &k, &err), 0);
	assert_int_equal(idem_bind(j, "submit-flow", &k, "sp-00dead", &err),
			 0);
	/* Hand the lease to a child that then exits. */
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		pause();
		_exit(0);
	}
	gethostname(host, sizeof(host));
	snprintf(owner, sizeof(owner), "%s %ld 1", host, (long)pid);
	sql_ok(j, "UPDATE idempotency SET lease_owner = ?",
	       json_pack("[s]", owner));
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	assert_int_equal(idem_claim(j, &c, "submit-flow", &k, &err), 0);
	assert_int_equal(c.found, IDEM_RESUME);
	assert_string_equal(c.subject, "sp-00dead");
	journal_close(j);
}

/* Another host's lease holds until its TTL, then it is taken over. */
static void test_idem_claim_other_host(void **state)
{
	struct journal *j = open_ok("host.db");
	struct idem_claim c = IDEM_CLAIM_INIT;
	struct err err = ERR_INIT;
	struct idem_key k;

	(void)state;
	key_of(&k, "{\"idea\": \"elsewhere\"}");
	assert_int_equal(idem_claim(j, &c, "submit-flow", &k, &err), 0);
	sql_ok(j, "UPDATE idempotency SET lease_owner = "
		  "'node-that-is-not-here 12 34', lease_at = ?",
	       json_pack("[f]", lease_now()));
	assert_int_equal(idem_claim(j, &c, "submit-flow", &k, &err), -1);
	assert_int_equal(err.code, ERR_IN_PROGRESS);
	err_release(&err);
	sql_ok(j, "UPDATE idempotency SET lease_at = ?",
	       json_pack("[f]", lease_now() - LEASE_TTL_S - 1));
	assert_int_equal(idem_claim(j, &c, "submit-flow", &k, &err), 0);
	assert_int_equal(c.found, IDEM_RESUME);
	assert_string_equal(c.subject, "");
	journal_close(j);
}

/* Done is replayed; a clean failure frees the key for the same spec. */
static void test_idem_done_and_failed(void **state)
{
	struct journal *j = open_ok("done.db");
	struct idem_claim c = IDEM_CLAIM_INIT;
	struct err err = ERR_INIT;
	struct idem_key k, other;
	json_t *data = json_pack("{s:s}", "sprint_id", "sp-000002");

	(void)state;
	key_of(&k, "{\"idempotency_key\": \"f\", \"idea\": \"a\"}");
	key_of(&other, "{\"idempotency_key\": \"f\", \"idea\": \"b\"}");
	assert_int_equal(idem_claim(j, &c, "submit-flow", &k, &err), 0);
	assert_int_equal(idem_bind(j, "submit-flow", &k, "sp-000001", &err),
			 0);
	assert_int_equal(idem_fail(j, "submit-flow", &k, &err), 0);
	/* Still bound to its spec... */
	assert_int_equal(idem_claim(j, &c, "submit-flow", &other, &err), -1);
	assert_int_equal(err.code, ERR_CONFLICT);
	err_release(&err);
	/* ...and fresh again for it, with the old subject forgotten. */
	assert_int_equal(idem_claim(j, &c, "submit-flow", &k, &err), 0);
	assert_int_equal(c.found, IDEM_FRESH);
	assert_string_equal(c.subject, "");
	assert_int_equal(idem_store(j, "submit-flow", &k, "sp-000002", data,
				    &err),
			 0);
	assert_int_equal(idem_claim(j, &c, "submit-flow", &k, &err), 0);
	assert_int_equal(c.found, IDEM_REPLAY);
	assert_string_equal(c.subject, "sp-000002");
	assert_true(json_equal(c.data, data));
	idem_claim_release(&c);
	json_decref(data);
	journal_close(j);
}

/* doctor's list says which pending attempts are alive. */
static void test_idem_pending_list(void **state)
{
	struct journal *j = open_ok("pending.db");
	struct idem_claim c = IDEM_CLAIM_INIT;
	struct err err = ERR_INIT;
	struct idem_key a, b;
	json_t *list = NULL;
	int active;

	(void)state;
	key_of(&a, "{\"idea\": \"alive\"}");
	key_of(&b, "{\"idea\": \"dead\"}");
	assert_int_equal(idem_claim(j, &c, "submit-flow", &a, &err), 0);
	assert_int_equal(idem_bind(j, "submit-flow", &a, "sp-00000a", &err),
			 0);
	assert_int_equal(idem_claim(j, &c, "submit-flow", &b, &err), 0);
	assert_int_equal(idem_bind(j, "submit-flow", &b, "sp-00000b", &err),
			 0);
	sql_ok(j, "UPDATE idempotency SET lease_owner = NULL WHERE subject = "
		  "'sp-00000b'",
	       NULL);
	assert_int_equal(idem_pending(j, &list, &err), 0);
	assert_int_equal(json_array_size(list), 2);
	assert_true(json_is_true(json_object_get(json_array_get(list, 0),
						 "alive")));
	assert_true(json_is_false(json_object_get(json_array_get(list, 1),
						  "alive")));
	json_decref(list);
	assert_int_equal(idem_subject_active(j, &active, "sp-00000a", &err),
			 0);
	assert_true(active);
	assert_int_equal(idem_subject_active(j, &active, "sp-00000b", &err),
			 0);
	assert_false(active);
	assert_int_equal(idem_fail_subject(j, "sp-00000b", &err), 0);
	assert_int_equal(idem_pending(j, &list, &err), 0);
	assert_int_equal(json_array_size(list), 1);
	json_decref(list);
	journal_close(j);
}

/* A live child holds its lease; killed (a zombie) or reaped it does not. */
static void test_lease_held(void **state)
{
	char me[LEASE_OWNER_MAX], owner[LEASE_OWNER_MAX] = "";
	int fds[2], status;
	ssize_t n;
	pid_t pid;

	(void)state;
	lease_self(me);
	assert_true(lease_held(me, lease_now(), lease_now()));
	assert_false(lease_held(NULL, 0, lease_now()));
	assert_false(lease_held("", 0, lease_now()));
	assert_false(lease_held("no numbers here", 0, lease_now()));
	assert_int_equal(pipe(fds), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		char mine[LEASE_OWNER_MAX];

		lease_self(mine);
		n = write(fds[1], mine, strlen(mine));
		(void)n;
		pause();
		_exit(0);
	}
	close(fds[1]);
	n = read(fds[0], owner, sizeof(owner) - 1);
	assert_true(n > 0);
	owner[n] = '\0';
	close(fds[0]);
	assert_true(lease_held(owner, lease_now(), lease_now()));
	kill(pid, SIGKILL);
	usleep(100 * 1000);
	/* Killed, not reaped yet: a zombie works on nothing. */
	assert_false(lease_held(owner, lease_now(), lease_now()));
	waitpid(pid, &status, 0);
	assert_false(lease_held(owner, lease_now(), lease_now()));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_idem_key_of),
		cmocka_unit_test(test_idem_lookup_store),
		cmocka_unit_test(test_idem_claim_live_owner),
		cmocka_unit_test(test_idem_claim_dead_owner),
		cmocka_unit_test(test_idem_claim_other_host),
		cmocka_unit_test(test_idem_done_and_failed),
		cmocka_unit_test(test_idem_pending_list),
		cmocka_unit_test(test_lease_held),
	};

	return cmocka_run_group_tests(tests, fixture_setup, fixture_teardown);
}
