/*
 * test_envelope.c: unit tests for the result line (envelope.h, DESIGN
 * §1): the exact keys and key order of the success and failure
 * envelopes, partial_errors only when there are some, a NULL primitive
 * printed as null, one line per print, and a write error reported.  The
 * torture test (curl's torture mode, jansson's test_chaos) forks one
 * child per allocation point and fails that allocation: every child
 * must still print exactly one line, either the normal envelope or the
 * pre-built out-of-memory one, and exit 0 or 3.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "envelope.h"
#include "err.h"
#include "spec.h"
#include "xalloc.h"
#include "banned.h"

/* ---------------------------------------------------------------- */
/* Running code in a child with its stdout on a pipe                  */
/* ---------------------------------------------------------------- */

/* How much of a child's stdout is kept; more is an error. */
#define CHILD_OUT_MAX 65536

/* What a child left behind. */
struct child {
	char out[CHILD_OUT_MAX + 1];	/* its stdout, NUL-terminated */
	size_t len;			/* bytes kept in 'out' */
	int overflow;			/* it wrote more than CHILD_OUT_MAX */
	int status;			/* from waitpid() */
};

/*
 * Fork, run 'fn' in the child with fd 1 on a pipe ('fn' must leave
 * through _exit, so that no atexit handler or leak check runs), and
 * collect its output and status in 'c'.
 */
static void run_child(struct child *c, void (*fn)(void))
{
	char chunk[4096];
	int fds[2];
	pid_t pid;
	ssize_t n;

	c->len = 0;
	c->overflow = 0;
	assert_int_equal(pipe(fds), 0);
	/* Nothing buffered in the parent may be written twice. */
	fflush(NULL);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(fds[0]);
		if (dup2(fds[1], STDOUT_FILENO) < 0)
			_exit(126);
		close(fds[1]);
		fn();
		_exit(125);
	}
	close(fds[1]);
	for (;;) {
		n = read(fds[0], chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		if (c->len + (size_t)n > CHILD_OUT_MAX) {
			c->overflow = 1;
			continue;
		}
		memcpy(c->out + c->len, chunk, (size_t)n);
		c->len += (size_t)n;
	}
	c->out[c->len] = '\0';
	close(fds[0]);
	while (waitpid(pid, &c->status, 0) < 0)
		assert_int_equal(errno, EINTR);
}

/*
 * The child's output is exactly one line ending in '\n', without NUL
 * bytes.  Returns the line parsed as JSON (new), or NULL when it is
 * not JSON.
 */
static json_t *one_json_line(const struct child *c)
{
	if (c->overflow || c->len == 0)
		fail_msg("child wrote %s",
			 c->overflow ? "too much" : "nothing");
	if (strlen(c->out) != c->len)
		fail_msg("child output holds a NUL byte");
	if (c->out[c->len - 1] != '\n' || memchr(c->out, '\n', c->len - 1))
		fail_msg("child output is not one line: '%s'", c->out);
	return json_loadb(c->out, c->len - 1, JSON_REJECT_DUPLICATES, NULL);
}

/* The exit code of a child that must have exited (not been killed). */
static int exit_code(const struct child *c)
{
	if (WIFSIGNALED(c->status))
		fail_msg("child killed by signal %d; output '%s'",
			 WTERMSIG(c->status), c->out);
	assert_true(WIFEXITED(c->status));
	return WEXITSTATUS(c->status);
}

/* ---------------------------------------------------------------- */
/* Printing, captured from a child                                    */
/* ---------------------------------------------------------------- */

/* The envelope the next print_child() prints, and how. */
static json_t *print_env;
static int print_pretty;

/* Child: print 'print_env'; exit 0 when envelope_print said 0. */
static void print_child(void)
{
	_exit(envelope_print(print_env, print_pretty) == 0 ? 0 : 1);
}

/* Print 'env' in a child and check it wrote exactly 'want'. */
static void assert_prints(json_t *env, const char *want)
{
	struct child c;

	print_env = env;
	print_pretty = 0;
	run_child(&c, print_child);
	assert_int_equal(exit_code(&c), 0);
	assert_string_equal(c.out, want);
}

/* The keys of 'obj', in order, joined by ','. */
static void keys_of(char *out, size_t size, json_t *obj)
{
	const char *key;
	json_t *v;
	size_t used = 0;

	out[0] = '\0';
	json_object_foreach(obj, key, v) {
		int n = snprintf(out + used, size - used, "%s%s",
				 used ? "," : "", key);

		assert_true(n > 0 && (size_t)n < size - used);
		used += (size_t)n;
	}
}

/* ---------------------------------------------------------------- */
/* Shapes                                                             */
/* ---------------------------------------------------------------- */

/* Success: ok, primitive, idempotent, data, in that order; data copied. */
static void test_envelope_success_shape(void **state)
{
	json_t *data = json_pack("{s:[i,s],s:{}}", "a", 1, "x", "b");
	json_t *env;
	char keys[256];

	(void)state;
	env = envelope_success("status", 0, data, NULL);
	keys_of(keys, sizeof(keys), env);
	assert_string_equal(keys, "ok,primitive,idempotent,data");
	assert_true(json_is_true(json_object_get(env, "ok")));
	assert_string_equal(json_string_value(json_object_get(env,
							      "primitive")),
			    "status");
	assert_true(json_is_false(json_object_get(env, "idempotent")));
	assert_true(json_equal(json_object_get(env, "data"), data));
	json_decref(env);
	/* 'data' is borrowed: still ours, and unchanged. */
	assert_int_equal(data->refcount, 1);
	assert_int_equal(json_object_size(data), 2);
	env = envelope_success("status", 1, data, NULL);
	assert_true(json_is_true(json_object_get(env, "idempotent")));
	json_decref(env);
	json_decref(data);
}

/* partial_errors appears only when it has entries. */
static void test_envelope_partial_errors_when_non_empty(void **state)
{
	json_t *data = json_object();
	json_t *none = json_array();
	json_t *some = json_pack("[{s:s,s:s}]", "code", "ssh_unreachable",
				 "detail", "hpc2");
	json_t *env;
	char keys[256];

	(void)state;
	env = envelope_success("status", 0, data, NULL);
	assert_null(json_object_get(env, "partial_errors"));
	json_decref(env);
	env = envelope_success("status", 0, data, none);
	assert_null(json_object_get(env, "partial_errors"));
	assert_int_equal(json_object_size(env), 4);
	json_decref(env);
	env = envelope_success("status", 0, data, some);
	keys_of(keys, sizeof(keys), env);
	assert_string_equal(keys, "ok,primitive,idempotent,data,"
				  "partial_errors");
	assert_true(json_is_true(json_object_get(env, "ok")));
	assert_true(json_equal(json_object_get(env, "partial_errors"), some));
	json_decref(env);
	assert_int_equal(some->refcount, 1);
	json_decref(data);
	json_decref(none);
	json_decref(some);
}

/* Failure: the seven keys of DESIGN §1, filled from the error tables. */
static void test_envelope_failure_shape(void **state)
{
	struct err err = ERR_INIT;
	json_t *env;
	char keys[256];

	(void)state;
	err_set(&err, ERR_SSH_UNREACHABLE, "cannot reach '%s'", "hpc1");
	err_detail(&err, "host", json_string("hpc1"));
	env = envelope_failure("submit-flow", &err);
	keys_of(keys, sizeof(keys), env);
	assert_string_equal(keys, "ok,primitive,error_code,message,"
				  "retry_safe,remediation,details");
	assert_true(json_is_false(json_object_get(env, "ok")));
	assert_string_equal(json_string_value(json_object_get(env,
							      "primitive")),
			    "submit-flow");
	assert_string_equal(json_string_value(json_object_get(env,
							      "error_code")),
			    "ssh_unreachable");
	assert_string_equal(json_string_value(json_object_get(env,
							      "message")),
			    "cannot reach 'hpc1'");
	assert_true(json_is_true(json_object_get(env, "retry_safe")));
	assert_string_equal(json_string_value(json_object_get(env,
							      "remediation")),
			    err_remediation(ERR_SSH_UNREACHABLE));
	assert_true(json_equal(json_object_get(env, "details"),
			       err.details));
	json_decref(env);
	/* 'err' is borrowed: its details are still whole. */
	assert_int_equal(err.details->refcount, 1);
	assert_int_equal(err.code, ERR_SSH_UNREACHABLE);
	err_release(&err);
	/* A code that is not retry-safe, and no details: {}. */
	err_set(&err, ERR_NOT_FOUND, "no study 'x'");
	env = envelope_failure("status", &err);
	assert_true(json_is_false(json_object_get(env, "retry_safe")));
	assert_string_equal(json_string_value(json_object_get(env,
							      "error_code")),
			    "not_found");
	assert_true(json_is_object(json_object_get(env, "details")));
	assert_int_equal(json_object_size(json_object_get(env, "details")),
			 0);
	json_decref(env);
	err_release(&err);
}

/* A failure with no code set still names a real code and a message. */
static void test_envelope_failure_never_none(void **state)
{
	struct err err = ERR_INIT;
	json_t *env = envelope_failure("list", &err);
	const char *code;

	(void)state;
	code = json_string_value(json_object_get(env, "error_code"));
	assert_non_null(code);
	assert_int_not_equal(err_from_name(code), ERR_NONE);
	assert_true(json_string_length(json_object_get(env, "message")) > 0);
	json_decref(env);
}

/* A NULL primitive is JSON null, in both shapes. */
static void test_envelope_null_primitive(void **state)
{
	struct err err = ERR_INIT;
	json_t *data = json_object();
	json_t *env;

	(void)state;
	env = envelope_success(NULL, 0, data, NULL);
	assert_non_null(json_object_get(env, "primitive"));
	assert_true(json_is_null(json_object_get(env, "primitive")));
	assert_prints(env, "{\"ok\":true,\"primitive\":null,"
			   "\"idempotent\":false,\"data\":{}}\n");
	json_decref(env);
	err_set(&err, ERR_UNKNOWN_PRIMITIVE, "no primitive 'x'");
	env = envelope_failure(NULL, &err);
	assert_non_null(json_object_get(env, "primitive"));
	assert_true(json_is_null(json_object_get(env, "primitive")));
	json_decref(env);
	err_release(&err);
	json_decref(data);
}

/* ---------------------------------------------------------------- */
/* Printing                                                           */
/* ---------------------------------------------------------------- */

/* The printed success line is compact, in DESIGN order, one line. */
static void test_envelope_print_success_line(void **state)
{
	json_t *data = json_pack("{s:i,s:[s]}", "n", 1, "names", "a b");
	json_t *pe = json_pack("[{s:s}]", "code", "timeout");
	json_t *env;

	(void)state;
	env = envelope_success("status", 0, data, NULL);
	assert_prints(env, "{\"ok\":true,\"primitive\":\"status\","
			   "\"idempotent\":false,"
			   "\"data\":{\"n\":1,\"names\":[\"a b\"]}}\n");
	json_decref(env);
	env = envelope_success("status", 1, data, pe);
	assert_prints(env, "{\"ok\":true,\"primitive\":\"status\","
			   "\"idempotent\":true,"
			   "\"data\":{\"n\":1,\"names\":[\"a b\"]},"
			   "\"partial_errors\":[{\"code\":\"timeout\"}]}\n");
	json_decref(env);
	json_decref(pe);
	json_decref(data);
}

/* The printed failure line, with every field, in DESIGN order. */
static void test_envelope_print_failure_line(void **state)
{
	struct err err = ERR_INIT;
	char want[1024];
	json_t *env;

	(void)state;
	err_set(&err, ERR_SSH_UNREACHABLE, "cannot reach 'hpc1'");
	err_detail(&err, "host", json_string("hpc1"));
	env = envelope_failure("submit-flow", &err);
	snprintf(want, sizeof(want),
		 "{\"ok\":false,\"primitive\":\"submit-flow\","
		 "\"error_code\":\"ssh_unreachable\","
		 "\"message\":\"cannot reach 'hpc1'\",\"retry_safe\":true,"
		 "\"remediation\":\"%s\",\"details\":{\"host\":\"hpc1\"}}\n",
		 err_remediation(ERR_SSH_UNREACHABLE));
	assert_prints(env, want);
	json_decref(env);
	err_release(&err);
}

/* --pretty output is the same JSON, ending in a newline. */
static void test_envelope_print_pretty(void **state)
{
	json_t *data = json_pack("{s:[i,i]}", "k", 1, 2);
	json_t *env = envelope_success("status", 0, data, NULL);
	json_t *back;
	struct child c;

	(void)state;
	print_env = env;
	print_pretty = 1;
	run_child(&c, print_child);
	assert_int_equal(exit_code(&c), 0);
	assert_true(c.len > 1);
	assert_int_equal(c.out[c.len - 1], '\n');
	/* Indented over several lines. */
	assert_true(strchr(c.out, '\n') < c.out + c.len - 1);
	back = json_loads(c.out, 0, NULL);
	assert_non_null(back);
	assert_true(json_equal(back, env));
	json_decref(back);
	json_decref(env);
	json_decref(data);
}

/* Child: print an envelope to a full device; exit 0 when told -1. */
static void print_full_child(void)
{
	int fd = open("/dev/full", O_WRONLY);

	if (fd < 0 || dup2(fd, STDOUT_FILENO) < 0)
		_exit(2);
	_exit(envelope_print(print_env, 0) == -1 ? 0 : 1);
}

/* A stdout that cannot be written is reported as -1. */
static void test_envelope_print_write_error(void **state)
{
	json_t *data = json_object();
	json_t *env = envelope_success("status", 0, data, NULL);
	struct child c;

	(void)state;
	if (access("/dev/full", W_OK) < 0)
		skip();
	print_env = env;
	run_child(&c, print_full_child);
	assert_int_equal(exit_code(&c), 0);
	json_decref(env);
	json_decref(data);
}

/* ---------------------------------------------------------------- */
/* Torture: fail each allocation in turn                              */
/* ---------------------------------------------------------------- */

/* A valid "events" spec of about 200 bytes. */
static const char torture_ok_spec[] =
	"{\n"
	"    \"since\": 1234,\n"
	"    \"limit\": 250,\n"
	"    \"type\": \"sprint.state_changed\",\n"
	"    \"subject\": \"sprint-20261122-0123456789abcdef"
	"0123456789abcdef\"\n"
	"}\n";

/* The same with two mistakes, for the failure path. */
static const char torture_bad_spec[] =
	"{\n"
	"    \"since\": 1234,\n"
	"    \"limit\": 0,\n"
	"    \"type\": \"sprint.state_changed\",\n"
	"    \"subject\": \"sprint-20261122-0123456789abcdef\",\n"
	"    \"bogus\": [1, 2, {\"x\": \"y\"}]\n"
	"}\n";

/* Which allocation the child fails, counting from 0, and its path. */
static int torture_target;
static int torture_failure_path;

/* Set in the child: allocations seen, and whether the hook fired. */
static int torture_seen;
static int torture_fired;

/* The xalloc hook: fail allocation number 'torture_target'. */
static int torture_hook(void)
{
	if (torture_seen++ != torture_target)
		return 0;
	torture_fired = 1;
	return 1;
}

/*
 * The data of the success envelope: nested arrays and strings, and
 * enough text (about 8 KiB) that the line is larger than stdio's
 * buffer: a failure half-way through printing must not tear it.
 */
static json_t *torture_data(const json_t *spec)
{
	json_t *d = json_pack("{s:O,s:[{s:s,s:[i,i,i]},{s:s,s:[]}],"
			      "s:{s:[s,s,s],s:{s:s}},s:s}",
			      "spec", spec, "runs", "id", "run-1", "tasks", 1,
			      2, 3, "id", "run-2", "tasks", "summary",
			      "names", "alpha", "beta", "gamma", "nested",
			      "deep", "value", "note",
			      "a string long enough to be copied more than "
			      "once");
	char line[81], key[16];
	json_t *lines = json_object();
	int i;

	memset(line, 'x', sizeof(line) - 1);
	line[sizeof(line) - 1] = '\0';
	for (i = 0; i < 100; i++) {
		snprintf(key, sizeof(key), "k%03d", i);
		json_object_set_new(lines, key, json_pack("[s]", line));
	}
	json_object_set_new(d, "lines", lines);
	return d;
}

/* Child, success path: parse, validate, build, print. */
static void torture_success(void)
{
	struct err err = ERR_INIT;
	json_t *spec = NULL, *data, *env;

	if (spec_parse(&spec, torture_ok_spec, strlen(torture_ok_spec),
		       "test", &err) < 0 ||
	    spec_validate("events", "input", spec, ERR_SPEC_INVALID,
			  &err) < 0)
		_exit(5);
	data = torture_data(spec);
	env = envelope_success("list", 0, data, NULL);
	if (envelope_print(env, 0) < 0)
		_exit(6);
	json_decref(env);
	json_decref(data);
	json_decref(spec);
	err_release(&err);
}

/* Child, failure path: the spec fails validation; print the error. */
static void torture_failure(void)
{
	struct err err = ERR_INIT;
	json_t *spec = NULL, *env;

	if (spec_parse(&spec, torture_bad_spec, strlen(torture_bad_spec),
		       "test", &err) < 0)
		_exit(5);
	if (spec_validate("events", "input", spec, ERR_SPEC_INVALID,
			  &err) == 0)
		_exit(5);
	err_detail(&err, "hint", json_string("see details.errors"));
	env = envelope_failure("list", &err);
	if (envelope_print(env, 0) < 0)
		_exit(6);
	json_decref(env);
	json_decref(spec);
	err_release(&err);
}

/*
 * The child of one torture round: the OOM path installed, then the
 * hook, then the work.  Exit 4 says the hook never fired (every
 * allocation point has been tried).
 */
static void torture_child(void)
{
	envelope_install_oom();
	envelope_set_primitive("list");
	xalloc_set_fail_hook(torture_hook);
	if (torture_failure_path)
		torture_failure();
	else
		torture_success();
	fflush(stdout);
	_exit(torture_fired ? 0 : 4);
}

/* The normal line of the success path is right. */
static void check_success_line(json_t *line)
{
	json_t *spec = json_loads(torture_ok_spec, 0, NULL);
	json_t *data = torture_data(spec);

	assert_true(json_is_true(json_object_get(line, "ok")));
	assert_string_equal(json_string_value(json_object_get(line,
							      "primitive")),
			    "list");
	assert_true(json_equal(json_object_get(line, "data"), data));
	json_decref(data);
	json_decref(spec);
}

/* The normal line of the failure path is right. */
static void check_failure_line(json_t *line)
{
	json_t *details = json_object_get(line, "details");

	assert_true(json_is_false(json_object_get(line, "ok")));
	assert_string_equal(json_string_value(json_object_get(line,
							      "primitive")),
			    "list");
	assert_string_equal(json_string_value(json_object_get(line,
							      "error_code")),
			    "spec_invalid");
	assert_int_equal(json_array_size(json_object_get(details, "errors")),
			 2);
	assert_string_equal(json_string_value(json_object_get(details,
							      "hint")),
			    "see details.errors");
}

/*
 * Fail allocation 0, 1, 2, ... of one path, each in a fresh child,
 * until a child runs through without its hook firing.  Returns the
 * number of allocation points.
 */
static int torture_run(int failure_path, void (*check)(json_t *))
{
	char oom[512];
	struct child c;
	json_t *line;
	int n, code;

	snprintf(oom, sizeof(oom),
		 "{\"ok\":false,\"primitive\":\"list\","
		 "\"error_code\":\"internal\","
		 "\"message\":\"out of memory\",\"retry_safe\":false,"
		 "\"remediation\":\"%s\",\"details\":{}}\n",
		 err_remediation(ERR_INTERNAL));
	torture_failure_path = failure_path;
	for (n = 0; n < 100000; n++) {
		torture_target = n;
		run_child(&c, torture_child);
		code = exit_code(&c);
		line = one_json_line(&c);
		if (!line)
			fail_msg("allocation %d: not JSON: '%s'", n, c.out);
		if (code == 3) {
			if (strcmp(c.out, oom))
				fail_msg("allocation %d: wrong OOM line '%s'",
					 n, c.out);
			json_decref(line);
			continue;
		}
		if (code != 0 && code != 4)
			fail_msg("allocation %d: exit %d, output '%s'", n,
				 code, c.out);
		check(line);
		json_decref(line);
		if (code == 4)
			return n;
	}
	fail_msg("more than %d allocation points", n);
	return -1;
}

/* Every allocation can fail and the output is still one valid line. */
static void test_envelope_torture_each_allocation(void **state)
{
	int ok_points, fail_points;

	(void)state;
	ok_points = torture_run(0, check_success_line);
	printf("# torture: %d allocation points (success path)\n",
	       ok_points);
	assert_true(ok_points >= 20);
	fail_points = torture_run(1, check_failure_line);
	printf("# torture: %d allocation points (failure path)\n",
	       fail_points);
	assert_true(fail_points >= 20);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_envelope_success_shape),
		cmocka_unit_test(test_envelope_partial_errors_when_non_empty),
		cmocka_unit_test(test_envelope_failure_shape),
		cmocka_unit_test(test_envelope_failure_never_none),
		cmocka_unit_test(test_envelope_null_primitive),
		cmocka_unit_test(test_envelope_print_success_line),
		cmocka_unit_test(test_envelope_print_failure_line),
		cmocka_unit_test(test_envelope_print_pretty),
		cmocka_unit_test(test_envelope_print_write_error),
		cmocka_unit_test(test_envelope_torture_each_allocation),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
