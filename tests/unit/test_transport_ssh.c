/*
 * test_transport_ssh.c: unit tests for the ssh transport
 * (transport_ssh.h) that need no sshd: the cluster keys and their
 * defaults (the same numbers as schemas/config.json), opening without
 * connecting, a missing libssh2 refused with its remediation, an
 * unreachable port, and the per-host connection slots.  What needs a
 * real server (host keys, logins, every operation) is
 * tests/e2e/t3000-ssh-transport.sh.
 */
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "buf.h"
#include "err.h"
#include "transport.h"
#include "transport_ssh.h"
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

/* A cluster object from the JSON text 'text'; the test fails if bad. */
static json_t *cluster(const char *text)
{
	json_t *v = json_loads(text, 0, NULL);

	assert_non_null(v);
	return v;
}

static void test_ssh_conf_defaults(void **state)
{
	struct ssh_conf c = SSH_CONF_INIT;
	struct err err = ERR_INIT;
	json_t *j = cluster("{\"transport\":\"ssh\",\"host\":\"h.example\","
			    "\"user\":\"u\"}");
	char want[512];

	(void)state;
	setenv("HOME", "/home/tester", 1);
	assert_int_equal(ssh_conf_parse(&c, j, &err), 0);
	assert_string_equal(c.host, "h.example");
	assert_string_equal(c.user, "u");
	assert_int_equal(c.port, 22);
	assert_null(c.key);
	snprintf(want, sizeof(want), "/home/tester/.ssh/known_hosts");
	assert_string_equal(c.known_hosts, want);
	assert_int_equal(c.accept_new, 0);
	assert_string_equal(c.passphrase_env, "HPCLOOP_SSH_KEY_PASSPHRASE");
	assert_int_equal(c.connect_timeout_s, 10);
	assert_int_equal(c.io_timeout_s, 30);
	assert_int_equal(c.keepalive_s, 15);
	assert_int_equal(c.max_connections, 4);
	ssh_conf_release(&c);
	ssh_conf_release(NULL);
	json_decref(j);
}

static void test_ssh_conf_keys(void **state)
{
	struct ssh_conf c = SSH_CONF_INIT;
	struct err err = ERR_INIT;
	json_t *j = cluster(
		"{\"host\":\"h\",\"user\":\"u\",\"port\":2222,"
		"\"key\":\"~/.ssh/id_ed25519\",\"known_hosts\":\"/k/h\","
		"\"host_key_policy\":\"accept-new\","
		"\"key_passphrase_env\":\"MY_PASS\",\"connect_timeout_s\":3,"
		"\"io_timeout_s\":7,\"keepalive_s\":2,\"max_connections\":9}");

	(void)state;
	setenv("HOME", "/home/tester", 1);
	assert_int_equal(ssh_conf_parse(&c, j, &err), 0);
	assert_int_equal(c.port, 2222);
	assert_string_equal(c.key, "/home/tester/.ssh/id_ed25519");
	assert_string_equal(c.known_hosts, "/k/h");
	assert_int_equal(c.accept_new, 1);
	assert_string_equal(c.passphrase_env, "MY_PASS");
	assert_int_equal(c.connect_timeout_s, 3);
	assert_int_equal(c.io_timeout_s, 7);
	assert_int_equal(c.keepalive_s, 2);
	assert_int_equal(c.max_connections, 9);
	ssh_conf_release(&c);
	json_decref(j);
}

/* 'text' is refused with config_invalid and a message holding 'words'. */
static void conf_refused(const char *text, const char *words)
{
	struct ssh_conf c = SSH_CONF_INIT;
	struct err err = ERR_INIT;
	json_t *j = cluster(text);

	assert_int_equal(ssh_conf_parse(&c, j, &err), -1);
	assert_int_equal(err.code, ERR_CONFIG_INVALID);
	assert_non_null(strstr(err.message, words));
	ssh_conf_release(&c);
	json_decref(j);
	err_release(&err);
}

static void test_ssh_conf_refusals(void **state)
{
	(void)state;
	conf_refused("{\"user\":\"u\"}", "needs a host and a user");
	conf_refused("{\"host\":\"h\"}", "needs a host and a user");
	conf_refused("{\"host\":\"h\",\"user\":\"u\",\"port\":\"22\"}",
		     "port");
	conf_refused("{\"host\":\"h\",\"user\":\"u\",\"port\":70000}",
		     "port");
	conf_refused("{\"host\":\"h\",\"user\":\"u\","
		     "\"host_key_policy\":\"yes\"}",
		     "host_key_policy");
	conf_refused("{\"host\":\"h\",\"user\":\"u\",\"io_timeout_s\":0}",
		     "io_timeout_s");
	conf_refused("{\"host\":\"\",\"user\":\"u\"}", "host");
}

/* The "default" of cluster key 'key' in schemas/config.json. */
static json_t *schema_default(json_t *schema, const char *key)
{
	json_t *props = json_object_get(
		json_object_get(json_object_get(schema, "definitions"),
				"cluster"),
		"properties");
	json_t *v = json_object_get(json_object_get(props, key), "default");
	json_t *branch;
	size_t i;

	/* ssh-only keys have their default where transport is "ssh" */
	json_array_foreach(json_object_get(json_object_get(
			       json_object_get(schema, "definitions"),
			       "cluster"), "allOf"), i, branch) {
		if (!v)
			v = json_object_get(
				json_object_get(
					json_object_get(json_object_get(
						branch, "then"), "properties"),
					key),
				"default");
	}
	if (!v)
		fail_msg("schemas/config.json: cluster.%s has no default", key);
	return v;
}

/* The defaults of the C code and of the schema are the same. */
static void test_ssh_defaults_match_schema(void **state)
{
	const char *src = getenv("HPCLOOP_SRC");
	char path[1024];
	json_t *schema;

	(void)state;
	snprintf(path, sizeof(path), "%s/schemas/config.json",
		 src ? src : ".");
	schema = json_load_file(path, 0, NULL);
	assert_non_null(schema);
	assert_int_equal(json_integer_value(schema_default(schema, "port")),
			 SSH_DEFAULT_PORT);
	assert_int_equal(json_integer_value(schema_default(
				 schema, "connect_timeout_s")),
			 SSH_DEFAULT_CONNECT_TIMEOUT_S);
	assert_int_equal(json_integer_value(schema_default(schema,
							   "io_timeout_s")),
			 SSH_DEFAULT_IO_TIMEOUT_S);
	assert_int_equal(json_integer_value(schema_default(schema,
							   "keepalive_s")),
			 SSH_DEFAULT_KEEPALIVE_S);
	assert_int_equal(json_integer_value(schema_default(
				 schema, "max_connections")),
			 SSH_DEFAULT_MAX_CONNECTIONS);
	assert_string_equal(json_string_value(schema_default(
				    schema, "key_passphrase_env")),
			    SSH_DEFAULT_PASSPHRASE_ENV);
	assert_string_equal(json_string_value(schema_default(
				    schema, "host_key_policy")),
			    "strict");
	json_decref(schema);
}

/* The name of the slot directory the tests use, under the scratch. */
static void slot_env(char *xdg, size_t size)
{
	snprintf(xdg, size, "%s/run", fixture_dir);
	mkdir(xdg, 0700);
	setenv("XDG_RUNTIME_DIR", xdg, 1);
}

/* A cluster on 127.0.0.1:1, where nothing listens. */
static const char nowhere[] =
	"{\"transport\":\"ssh\",\"host\":\"127.0.0.1\",\"port\":1,"
	"\"user\":\"nobody\",\"connect_timeout_s\":2}";

/* Run "true" on 't'; returns the error code (ERR_NONE on success). */
static enum err_code run_true(struct transport *t)
{
	const char *argv[] = { "true", NULL };
	struct exec_result res;
	struct err err = ERR_INIT;
	enum err_code code;

	exec_result_init(&res, 1024);
	transport_exec(t, &res, argv, NULL, NULL, 0, 5, &err);
	code = err.code;
	exec_result_release(&res);
	err_release(&err);
	return code;
}

/*
 * Opening connects nothing; a missing libssh2 is precondition_failed
 * with "install libssh2-1"; then the real one finds nobody on the port.
 * (One test, in this order: the library loads once per process.)
 */
static void test_ssh_lazy_missing_lib_unreachable(void **state)
{
	const char *argv[] = { "true", NULL };
	struct transport *t = NULL;
	struct exec_result res;
	struct err err = ERR_INIT;
	json_t *j = cluster(nowhere);

	char xdg[256];

	(void)state;
	slot_env(xdg, sizeof(xdg));
	assert_int_equal(transport_open(&t, j, &err), 0);
	assert_string_equal(transport_name(t), "ssh");
	assert_int_equal(ssh_conn_opened(), 0);
	transport_close(t);
	assert_int_equal(ssh_conn_opened(), 0);

	ssh_lib_set_name("libhpcloop-no-such-ssh2.so.1");
	assert_int_equal(transport_open(&t, j, &err), 0);
	exec_result_init(&res, 1024);
	assert_int_equal(transport_exec(t, &res, argv, NULL, NULL, 0, 5,
					&err),
			 -1);
	assert_int_equal(err.code, ERR_PRECONDITION_FAILED);
	assert_non_null(strstr(err.remedy, "install libssh2-1"));
	assert_non_null(strstr(err.message, "libhpcloop-no-such-ssh2.so.1"));
	exec_result_release(&res);

	ssh_lib_set_name("libssh2.so.1");
	assert_int_equal(run_true(t), ERR_SSH_UNREACHABLE);
	assert_int_equal(err_exit_class(ERR_SSH_UNREACHABLE), 2);
	assert_true(err_retry_safe(ERR_SSH_UNREACHABLE));
	/* Again: a failed connection is not kept. */
	assert_int_equal(run_true(t), ERR_SSH_UNREACHABLE);
	assert_int_equal(ssh_conn_opened(), 0);
	transport_close(t);
	json_decref(j);
	err_release(&err);
}

static void test_ssh_slots(void **state)
{
	struct err err = ERR_INIT;
	char xdg[256], dir[300];
	struct stat sb;
	int a = -1, b = -1, c = -1;

	(void)state;
	slot_env(xdg, sizeof(xdg));
	assert_int_equal(ssh_slot_acquire(&a, "h/../x", 22, 2, 0, &err), 0);
	assert_true(a >= 0);
	assert_int_equal(ssh_slot_acquire(&b, "h/../x", 22, 2, 0, &err), 0);
	/* Both slots held: the third waits, then gives up. */
	assert_int_equal(ssh_slot_acquire(&c, "h/../x", 22, 2, 1, &err), -1);
	assert_int_equal(c, -1);
	assert_int_equal(err.code, ERR_TIMEOUT);
	assert_non_null(strstr(err.remedy, "max_connections"));
	/* Another port of the same host has its own slots. */
	assert_int_equal(ssh_slot_acquire(&c, "h/../x", 2222, 2, 0, &err), 0);
	ssh_slot_release(c);
	ssh_slot_release(a);
	assert_int_equal(ssh_slot_acquire(&c, "h/../x", 22, 2, 0, &err), 0);
	ssh_slot_release(b);
	ssh_slot_release(c);
	ssh_slot_release(-1);

	/* The directory is private, and the host cannot climb out of it. */
	snprintf(dir, sizeof(dir), "%s/hpcloop", xdg);
	assert_int_equal(stat(dir, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0700);
	snprintf(dir, sizeof(dir), "%s/hpcloop/ssh-h_.._x:22.0", xdg);
	assert_int_equal(stat(dir, &sb), 0);

	/* One that others may write to is refused. */
	snprintf(dir, sizeof(dir), "%s/hpcloop", xdg);
	assert_int_equal(chmod(dir, 0777), 0);
	assert_int_equal(ssh_slot_acquire(&a, "h", 22, 1, 0, &err), -1);
	assert_int_equal(err.code, ERR_IO_FAILED);
	assert_int_equal(chmod(dir, 0700), 0);
	err_release(&err);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ssh_conf_defaults),
		cmocka_unit_test(test_ssh_conf_keys),
		cmocka_unit_test(test_ssh_conf_refusals),
		cmocka_unit_test(test_ssh_defaults_match_schema),
		cmocka_unit_test(test_ssh_lazy_missing_lib_unreachable),
		cmocka_unit_test(test_ssh_slots),
	};

	return cmocka_run_group_tests(tests, scratch_setup, scratch_teardown);
}
