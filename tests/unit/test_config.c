/*
 * test_config.c: unit tests for the configuration module (config.h):
 * YAML and JSON reading, limits, environment secrets, schema and
 * cross-check messages, job option layering, context, agent command,
 * directories, redaction and the default text.
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
#include <jansson.h>

#include "buf.h"
#include "config.h"
#include "err.h"
#include "xalloc.h"
#include "banned.h"

/* The scratch directory of the whole run, made by group_setup(). */
static char tmpdir[] = "/tmp/test_config.XXXXXX";

/* The path of 'name' inside tmpdir, in 'out' of 'size' bytes. */
static void tmp_path(char *out, size_t size, const char *name)
{
	snprintf(out, size, "%s/%s", tmpdir, name);
}

/* Write 'text' to the file 'name' inside tmpdir. */
static void write_file(const char *name, const char *text)
{
	char path[512];
	FILE *f;

	tmp_path(path, sizeof(path), name);
	f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(text, 1, strlen(text), f), strlen(text));
	assert_int_equal(fclose(f), 0);
}

/* Write 'text' as tmpdir/hpcloop.yaml and load it into 'cfg'. */
static int load_text(struct config *cfg, const char *text, struct err *err)
{
	char path[512];

	write_file("hpcloop.yaml", text);
	tmp_path(path, sizeof(path), "hpcloop.yaml");
	return config_load(cfg, path, err);
}

/* Parse 'text' with config_parse, expecting success. */
static json_t *parse_ok(const char *text)
{
	struct err err = ERR_INIT;
	json_t *v = NULL;

	if (config_parse(&v, text, strlen(text), "t.yaml", &err) < 0)
		fail_msg("unexpected error: %s", err.message);
	assert_non_null(v);
	err_release(&err);
	return v;
}

/* Parse 'text', expecting config_invalid with 'needle' in the message. */
static void parse_fails(const char *text, size_t len, const char *needle)
{
	struct err err = ERR_INIT;
	json_t *v = (json_t *)1;

	assert_int_equal(config_parse(&v, text, len, "t.yaml", &err), -1);
	assert_null(v);
	assert_int_equal(err.code, ERR_CONFIG_INVALID);
	if (!strstr(err.message, needle))
		fail_msg("'%s' not in '%s'", needle, err.message);
	err_release(&err);
}

/*
 * Load 'text', expecting 'code' and a message holding each needle that
 * follows (a NULL-ended list).
 */
static void load_fails(const char *text, enum err_code code, ...)
{
	struct config cfg = CONFIG_INIT;
	struct err err = ERR_INIT;
	const char *needle;
	va_list ap;

	assert_int_equal(load_text(&cfg, text, &err), -1);
	assert_null(cfg.root);
	assert_null(cfg.path);
	assert_int_equal(err.code, code);
	va_start(ap, code);
	for (needle = va_arg(ap, const char *); needle;
	     needle = va_arg(ap, const char *))
		if (!strstr(err.message, needle))
			fail_msg("'%s' not in '%s'", needle, err.message);
	va_end(ap);
	err_release(&err);
	config_release(&cfg);
}

/* Load 'text', expecting success. */
static void load_ok(struct config *cfg, const char *text)
{
	struct err err = ERR_INIT;

	if (load_text(cfg, text, &err) < 0)
		fail_msg("unexpected error: %s", err.message);
	err_release(&err);
}

/* ------------------------------------------------------------------ */
/* Reading                                                             */
/* ------------------------------------------------------------------ */

static void test_config_yaml_scalars(void **state)
{
	json_t *v = parse_ok("i: 42\n"
			     "neg: -7\n"
			     "hex: 0x1F\n"
			     "oct: 0o17\n"
			     "f: 1.5\n"
			     "e: 2e3\n"
			     "dot: .5\n"
			     "t: true\n"
			     "f2: False\n"
			     "yes: yes\n"
			     "n: null\n"
			     "tilde: ~\n"
			     "empty:\n"
			     "qi: \"42\"\n"
			     "qt: 'true'\n"
			     "s: hello world\n"
			     "ver: 1.2.3\n"
			     "lit: |\n  a\n  b\n");

	(void)state;
	assert_int_equal(json_integer_value(json_object_get(v, "i")), 42);
	assert_int_equal(json_integer_value(json_object_get(v, "neg")), -7);
	assert_int_equal(json_integer_value(json_object_get(v, "hex")), 31);
	assert_int_equal(json_integer_value(json_object_get(v, "oct")), 15);
	assert_true(json_is_real(json_object_get(v, "f")));
	assert_true(json_real_value(json_object_get(v, "f")) == 1.5);
	assert_true(json_real_value(json_object_get(v, "e")) == 2000.0);
	assert_true(json_real_value(json_object_get(v, "dot")) == 0.5);
	assert_true(json_is_true(json_object_get(v, "t")));
	assert_true(json_is_false(json_object_get(v, "f2")));
	/* YAML 1.2 core: yes is a string, and so is the key */
	assert_string_equal(json_string_value(json_object_get(v, "yes")),
			    "yes");
	assert_true(json_is_null(json_object_get(v, "n")));
	assert_true(json_is_null(json_object_get(v, "tilde")));
	assert_true(json_is_null(json_object_get(v, "empty")));
	assert_string_equal(json_string_value(json_object_get(v, "qi")), "42");
	assert_string_equal(json_string_value(json_object_get(v, "qt")),
			    "true");
	assert_string_equal(json_string_value(json_object_get(v, "s")),
			    "hello world");
	assert_string_equal(json_string_value(json_object_get(v, "ver")),
			    "1.2.3");
	assert_string_equal(json_string_value(json_object_get(v, "lit")),
			    "a\nb\n");
	json_decref(v);
}

static void test_config_yaml_bad_scalars(void **state)
{
	(void)state;
	parse_fails("a: 99999999999999999999\n", 24, "t.yaml:1: a: integer");
	parse_fails("a:\n  b: .inf\n", 13, "t.yaml:2: a.b: infinite");
	parse_fails("a: !!binary aGk=\n", 17, "unsupported tag");
	parse_fails("a: [1\n", 6, "t.yaml:");
	parse_fails("a: 1\n---\nb: 2\n", 14, "more than one document");
	parse_fails("# nothing\n", 10, "empty configuration");
}

static void test_config_nested(void **state)
{
	json_t *v = parse_ok("a:\n"
			     "  b:\n"
			     "    - 1\n"
			     "    - {c: x, d: [true, ~]}\n"
			     "base: &base\n"
			     "  k: v\n"
			     "  l: [1, 2]\n"
			     "copy: *base\n");
	json_t *item;

	(void)state;
	item = json_array_get(json_object_get(json_object_get(v, "a"), "b"),
			      1);
	assert_string_equal(json_string_value(json_object_get(item, "c")),
			    "x");
	assert_true(json_is_null(json_array_get(json_object_get(item, "d"),
						1)));
	assert_true(json_equal(json_object_get(v, "base"),
			       json_object_get(v, "copy")));
	/* aliases are copies, not shared references */
	assert_ptr_not_equal(json_object_get(v, "base"),
			     json_object_get(v, "copy"));
	json_decref(v);
}

static void test_config_alias_limits(void **state)
{
	struct buf b = BUF_INIT;
	int i;

	(void)state;
	parse_fails("a: *nope\n", 9, "unknown anchor 'nope'");
	/* a "billion laughs" document */
	buf_adds(&b, "l0: &l0 [x, x, x, x, x, x, x, x, x, x]\n");
	for (i = 1; i < 9; i++)
		buf_addf(&b, "l%d: &l%d [*l%d, *l%d, *l%d, *l%d, *l%d, *l%d, "
			 "*l%d, *l%d, *l%d, *l%d]\n", i, i, i - 1, i - 1,
			 i - 1, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1,
			 i - 1);
	parse_fails(buf_str(&b), b.len, "expands to more than");
	buf_release(&b);
}

static void test_config_json_input(void **state)
{
	const char *text = "  {\"version\": 1, \"a\": {\"b\": [1, 2.5, "
			   "\"x\", null, false]}}";
	json_t *v = parse_ok(text);
	json_t *b;

	(void)state;
	b = json_object_get(json_object_get(v, "a"), "b");
	assert_int_equal(json_array_size(b), 5);
	assert_int_equal(json_integer_value(json_array_get(b, 0)), 1);
	assert_true(json_is_false(json_array_get(b, 4)));
	json_decref(v);
	parse_fails("{\n\"a\": 1,\n\"a\": 2}", 17, "t.yaml:3:");
	parse_fails("{\n\"a\": [1,\n}", 12, "cannot parse json");
	/* a YAML flow mapping that is not JSON still reads */
	v = parse_ok("{a: 1}");
	assert_int_equal(json_integer_value(json_object_get(v, "a")), 1);
	json_decref(v);
}

static void test_config_duplicate_key(void **state)
{
	(void)state;
	parse_fails("a:\n  b: 1\n  b: 2\n", 17, "t.yaml:3: a.b: duplicate key");
	parse_fails("{\"a\": 1, \"a\": 2}", 16, "duplicate");
	load_fails("version: 1\nversion: 1\n", ERR_CONFIG_INVALID,
		   "hpcloop.yaml:2: version: duplicate key", NULL);
}

static void test_config_depth_limit(void **state)
{
	struct buf b = BUF_INIT;
	json_t *v;
	char *big;
	int i;

	(void)state;
	for (i = 0; i < CONFIG_MAX_DEPTH; i++)
		buf_adds(&b, "[");
	for (i = 0; i < CONFIG_MAX_DEPTH; i++)
		buf_adds(&b, "]");
	v = parse_ok(buf_str(&b));
	json_decref(v);
	buf_release(&b);
	for (i = 0; i <= CONFIG_MAX_DEPTH; i++)
		buf_adds(&b, "[");
	for (i = 0; i <= CONFIG_MAX_DEPTH; i++)
		buf_adds(&b, "]");
	parse_fails(buf_str(&b), b.len, "nested deeper than 64");
	buf_release(&b);
	/* the same in JSON */
	for (i = 0; i <= CONFIG_MAX_DEPTH; i++)
		buf_adds(&b, "{\"a\":");
	buf_adds(&b, "1");
	for (i = 0; i <= CONFIG_MAX_DEPTH; i++)
		buf_adds(&b, "}");
	parse_fails(buf_str(&b), b.len, "nested deeper than 64");
	buf_release(&b);
	/* an alias may not carry a document past the limit either */
	buf_adds(&b, "deep: &d ");
	for (i = 0; i < 60; i++)
		buf_adds(&b, "[");
	for (i = 0; i < 60; i++)
		buf_adds(&b, "]");
	buf_adds(&b, "\nx: [[[[[*d]]]]]\n");
	parse_fails(buf_str(&b), b.len, "nested deeper than 64");
	buf_release(&b);
	/* and nothing larger than 1 MiB is read */
	big = xmalloc(CONFIG_MAX_SIZE + 2);
	memset(big, '#', CONFIG_MAX_SIZE + 1);
	big[CONFIG_MAX_SIZE + 1] = '\0';
	parse_fails(big, CONFIG_MAX_SIZE + 1, "larger than");
	free(big);
}

/* ------------------------------------------------------------------ */
/* Loading and validation                                              */
/* ------------------------------------------------------------------ */

static const char base_config[] =
	"version: 1\n"
	"clusters:\n"
	"  local:\n"
	"    transport: local\n"
	"    scheduler: local\n"
	"studies:\n"
	"  demo:\n"
	"    cluster: local\n";

static void test_config_env_secret_wins(void **state)
{
	struct config cfg = CONFIG_INIT;
	const json_t *chan;

	(void)state;
	setenv("HPCLOOP_ORCHESTRATOR_SECRET", "from-env", 1);
	setenv("HPCLOOP_ORCHESTRATOR_URL", "", 1); /* empty: ignored */
	setenv("HPCLOOP_DASHBOARD_PASSWORD_HASH", "$6$env", 1);
	setenv("HPCLOOP_NOTIFY_OPS_TEAM_TOKEN", "tok-env", 1);
	load_ok(&cfg, "version: 1\n"
		      "orchestrator_url: http://127.0.0.1:9000\n"
		      "orchestrator_secret: from-file\n"
		      "notifications:\n"
		      "  - name: ops-team\n"
		      "    type: ntfy\n"
		      "    topic: t\n"
		      "    token: tok-file\n"
		      "  - name: other\n"
		      "    type: webhook\n"
		      "    url: https://example.com/hook\n");
	assert_string_equal(json_string_value(json_object_get(
		cfg.root, "orchestrator_secret")), "from-env");
	assert_string_equal(json_string_value(json_object_get(
		cfg.root, "orchestrator_url")), "http://127.0.0.1:9000");
	assert_string_equal(json_string_value(json_object_get(
		json_object_get(cfg.root, "dashboard"), "password_hash")),
		"$6$env");
	chan = json_array_get(json_object_get(cfg.root, "notifications"), 0);
	assert_string_equal(json_string_value(json_object_get(chan, "token")),
			    "tok-env");
	chan = json_array_get(json_object_get(cfg.root, "notifications"), 1);
	assert_null(json_object_get(chan, "token"));
	config_release(&cfg);
	/* a bad value from the environment is blamed on the variable */
	setenv("HPCLOOP_ORCHESTRATOR_URL", "not a url", 1);
	load_fails(base_config, ERR_CONFIG_INVALID,
		   "orchestrator_url (from HPCLOOP_ORCHESTRATOR_URL)", NULL);
}

/* Unset what test_config_env_secret_wins set, even when it failed. */
static int env_teardown(void **state)
{
	(void)state;
	unsetenv("HPCLOOP_ORCHESTRATOR_SECRET");
	unsetenv("HPCLOOP_ORCHESTRATOR_URL");
	unsetenv("HPCLOOP_DASHBOARD_PASSWORD_HASH");
	unsetenv("HPCLOOP_NOTIFY_OPS_TEAM_TOKEN");
	return 0;
}

static void test_config_unknown_key_at_depth(void **state)
{
	(void)state;
	load_fails("version: 1\n"
		   "clusters:\n"
		   "  local:\n"
		   "    scheduler: local\n"
		   "    job_options: {partition: cpu}\n"
		   "    workdir: x\n",
		   ERR_CONFIG_INVALID,
		   "hpcloop.yaml:6: clusters.local.workdir: unknown key",
		   NULL);
	load_fails("version: 1\nbogus: 1\n", ERR_CONFIG_INVALID,
		   "hpcloop.yaml:2: bogus: unknown key", NULL);
	/* JSON input gets line numbers too */
	load_fails("{\"version\": 1,\n"
		   " \"clusters\": {\"local\": {\n"
		   "   \"bogus\": 1}}}\n",
		   ERR_CONFIG_INVALID,
		   "hpcloop.yaml:3: clusters.local.bogus: unknown key", NULL);
	load_fails("version: 1\n"
		   "studies:\n"
		   "  demo:\n"
		   "    cluster: local\n"
		   "    metric: {name: x, direction: minimize, goal: 1}\n",
		   ERR_CONFIG_INVALID, "studies.demo.metric.goal: unknown key",
		   NULL);
}

static void test_config_schema_errors(void **state)
{
	struct config cfg = CONFIG_INIT;
	struct err err = ERR_INIT;
	const json_t *errors;

	(void)state;
	assert_int_equal(load_text(&cfg, "version: 1\n"
				   "clusters:\n"
				   "  local:\n"
				   "    max_concurrent_jobs: many\n",
				   &err), -1);
	assert_int_equal(err.code, ERR_CONFIG_INVALID);
	assert_non_null(strstr(err.message, "hpcloop.yaml:4: "
			       "clusters.local.max_concurrent_jobs: "));
	errors = json_object_get(err.details, "errors");
	assert_true(json_array_size(errors) >= 1);
	assert_string_equal(json_string_value(json_object_get(
		json_array_get(errors, 0), "path")),
		"/clusters/local/max_concurrent_jobs");
	err_release(&err);
	load_fails("clusters: {}\n", ERR_CONFIG_INVALID,
		   "hpcloop.yaml: top level: ", NULL);
	load_fails("version: 2\n", ERR_CONFIG_INVALID,
		   "hpcloop.yaml:1: version: ", NULL);
	load_fails("version: 1\nclusters:\n  Bad_Name: {}\n",
		   ERR_CONFIG_INVALID, "clusters", NULL);
	/* ssh needs a host and a user; ssh keys need ssh */
	load_fails("version: 1\nclusters:\n  hpc:\n    transport: ssh\n",
		   ERR_CONFIG_INVALID, "clusters.hpc", NULL);
	load_fails("version: 1\nclusters:\n  hpc:\n    host: h\n",
		   ERR_CONFIG_INVALID,
		   "hpcloop.yaml:4: clusters.hpc.host: only for transport ssh",
		   NULL);
	load_fails("version: 1\n"
		   "clusters:\n"
		   "  hpc:\n"
		   "    environment: {\"A B\": x}\n",
		   ERR_CONFIG_INVALID, "clusters.hpc.environment", NULL);
	load_fails("version: 1\n"
		   "notifications:\n"
		   "  - {name: a, type: slack, url: \"https://x.y/z\"}\n"
		   "  - {name: a, type: slack, url: \"https://x.y/z\"}\n",
		   ERR_CONFIG_INVALID, "hpcloop.yaml:4: notifications[1].name: "
		   "duplicate channel name 'a'", NULL);
}

/* Load 'text', expecting an error that does not quote "s3cr3t". */
static void secret_not_quoted(const char *text, const char *needle)
{
	struct config cfg = CONFIG_INIT;
	struct err err = ERR_INIT;
	char *dump;

	assert_int_equal(load_text(&cfg, text, &err), -1);
	assert_int_equal(err.code, ERR_CONFIG_INVALID);
	if (!strstr(err.message, needle))
		fail_msg("'%s' not in '%s'", needle, err.message);
	assert_null(strstr(err.message, "s3cr3t"));
	if (err.details) {
		dump = json_dumps(err.details, 0);
		assert_non_null(dump);
		assert_null(strstr(dump, "s3cr3t"));
		free(dump);
	}
	err_release(&err);
}

static void test_config_secret_not_in_message(void **state)
{
	(void)state;
	secret_not_quoted("version: 1\n"
			  "notifications:\n"
			  "  - {name: a, type: ntfy, topic: t,"
			  " token: [s3cr3t]}\n",
			  "notifications[0].token");
	secret_not_quoted("version: 1\n"
			  "orchestrator_url: \"http://u:s3cr3t@h x\"\n",
			  "hpcloop.yaml:2: orchestrator_url: ");
	secret_not_quoted("version: 1\n"
			  "clusters:\n"
			  "  a:\n"
			  "    environment: {K: \"s3cr3t\\n\"}\n",
			  "clusters.a.environment.K");
}

static void test_config_unknown_cluster(void **state)
{
	(void)state;
	load_fails("version: 1\n"
		   "clusters:\n"
		   "  local: {}\n"
		   "studies:\n"
		   "  demo:\n"
		   "    cluster: gpu\n",
		   ERR_CONFIG_INVALID,
		   "hpcloop.yaml:6: studies.demo.cluster: unknown cluster "
		   "'gpu'", NULL);
}

static void test_config_missing_file(void **state)
{
	struct config cfg = CONFIG_INIT;
	struct err err = ERR_INIT;

	(void)state;
	assert_int_equal(config_load(&cfg, "/nonexistent/hpcloop.yaml",
				     &err), -1);
	assert_int_equal(err.code, ERR_CONFIG_INVALID);
	assert_non_null(strstr(err.message, "/nonexistent/hpcloop.yaml"));
	err_release(&err);
	config_release(&cfg);
	config_release(NULL);
}

/* ------------------------------------------------------------------ */
/* Job options                                                         */
/* ------------------------------------------------------------------ */

static const char options_config[] =
	"version: 1\n"
	"clusters:\n"
	"  hpc:\n"
	"    job_options:\n"
	"      partition: cpu\n"
	"      time: \"01:00:00\"\n"
	"      mem: 4G\n"
	"studies:\n"
	"  demo:\n"
	"    cluster: hpc\n"
	"    job_options:\n"
	"      time: \"02:00:00\"\n"
	"      mem: \"\"\n"
	"      gpus: 2\n"
	"      frac: 0.5\n";

static void test_config_job_options_layering(void **state)
{
	struct config cfg = CONFIG_INIT;
	struct err err = ERR_INIT;
	json_t *req, *opts = NULL, *want;

	(void)state;
	load_ok(&cfg, options_config);
	assert_int_equal(config_job_options(&opts, &cfg, "demo", NULL, &err),
			 0);
	want = json_pack("{s:s, s:s, s:s, s:s}", "partition", "cpu", "time",
			 "02:00:00", "gpus", "2", "frac", "0.5");
	assert_true(json_equal(opts, want));
	json_decref(want);
	json_decref(opts);
	req = json_pack("{s:s, s:i, s:s}", "partition", "", "cpus", 4,
			"account", "abc");
	assert_int_equal(config_job_options(&opts, &cfg, "demo", req, &err),
			 0);
	want = json_pack("{s:s, s:s, s:s, s:s, s:s}", "time", "02:00:00",
			 "gpus", "2", "frac", "0.5", "cpus", "4", "account",
			 "abc");
	assert_true(json_equal(opts, want));
	json_decref(want);
	json_decref(opts);
	json_decref(req);
	opts = (json_t *)1;
	assert_int_equal(config_job_options(&opts, &cfg, "nope", NULL, &err),
			 -1);
	assert_null(opts);
	assert_int_equal(err.code, ERR_NOT_FOUND);
	err_release(&err);
	config_release(&cfg);
}

/* Expect 'req' to be refused as spec_invalid naming 'needle'. */
static void options_refused(const struct config *cfg, json_t *req,
			    const char *needle)
{
	struct err err = ERR_INIT;
	json_t *opts = (json_t *)1;

	assert_int_equal(config_job_options(&opts, cfg, "demo", req, &err),
			 -1);
	assert_null(opts);
	assert_int_equal(err.code, ERR_SPEC_INVALID);
	if (!strstr(err.message, needle))
		fail_msg("'%s' not in '%s'", needle, err.message);
	err_release(&err);
	json_decref(req);
}

static void test_config_job_options_bad(void **state)
{
	struct config cfg = CONFIG_INIT;

	(void)state;
	load_ok(&cfg, options_config);
	options_refused(&cfg, json_pack("{s:s}", "a;b", "x"), "'a;b'");
	options_refused(&cfg, json_pack("{s:s}", "x y", "x"), "'x y'");
	options_refused(&cfg, json_pack("{s:s}", "-x", "x"), "'-x'");
	options_refused(&cfg, json_pack("{s:s}", "time", "1\n#SBATCH -A x"),
			"'time'");
	options_refused(&cfg, json_pack("{s:s}", "time", "1\r"), "'time'");
	options_refused(&cfg, json_pack("{s:s#}", "time", "a\0b", 3),
			"'time'");
	options_refused(&cfg, json_pack("{s:b}", "exclusive", 1),
			"'exclusive'");
	options_refused(&cfg, json_pack("[s]", "x"), "object");
	config_release(&cfg);
	/* the same in the file is config_invalid */
	load_fails("version: 1\n"
		   "clusters:\n"
		   "  hpc:\n"
		   "    job_options: {\"a;b\": x}\n",
		   ERR_CONFIG_INVALID, "clusters.hpc.job_options", NULL);
	load_fails("version: 1\n"
		   "clusters:\n"
		   "  hpc: {}\n"
		   "studies:\n"
		   "  demo:\n"
		   "    cluster: hpc\n"
		   "    job_options:\n"
		   "      time: \"1\\n#SBATCH -A x\"\n",
		   ERR_CONFIG_INVALID, "studies.demo.job_options.time", NULL);
}

/* ------------------------------------------------------------------ */
/* Context, agent command, directories                                 */
/* ------------------------------------------------------------------ */

static void test_config_context_order(void **state)
{
	struct config cfg = CONFIG_INIT;
	struct err err = ERR_INIT;
	char *ctx = NULL;

	(void)state;
	write_file("g1.md", "global file one\n");
	write_file("g2.md", "global file two\n\n\n");
	write_file("c.md", "cluster file\n");
	write_file("s.md", "study file\n");
	write_file("empty.md", "\n");
	load_ok(&cfg, "version: 1\n"
		      "context: global text\n"
		      "context_paths: [g1.md, g2.md]\n"
		      "clusters:\n"
		      "  hpc:\n"
		      "    context: |\n"
		      "      cluster text\n"
		      "    context_paths: [c.md, empty.md]\n"
		      "studies:\n"
		      "  demo:\n"
		      "    cluster: hpc\n"
		      "    context: study text\n"
		      "    context_file: s.md\n"
		      "  bare:\n"
		      "    cluster: hpc\n");
	assert_int_equal(config_context(&ctx, &cfg, "demo", &err), 0);
	assert_string_equal(ctx, "global text\n\nglobal file one\n\n"
			    "global file two\n\ncluster text\n\n"
			    "cluster file\n\nstudy text\n\nstudy file");
	free(ctx);
	assert_int_equal(config_context(&ctx, &cfg, "bare", &err), 0);
	assert_string_equal(ctx, "global text\n\nglobal file one\n\n"
			    "global file two\n\ncluster text\n\n"
			    "cluster file");
	free(ctx);
	assert_int_equal(config_context(&ctx, &cfg, NULL, &err), 0);
	assert_string_equal(ctx, "global text\n\nglobal file one\n\n"
			    "global file two");
	free(ctx);
	assert_int_equal(config_context(&ctx, &cfg, "nope", &err), -1);
	assert_null(ctx);
	assert_int_equal(err.code, ERR_NOT_FOUND);
	err_release(&err);
	config_release(&cfg);
	load_ok(&cfg, base_config);
	assert_int_equal(config_context(&ctx, &cfg, "demo", &err), 0);
	assert_string_equal(ctx, "");
	free(ctx);
	config_release(&cfg);
}

static void test_config_context_missing_file(void **state)
{
	struct config cfg = CONFIG_INIT;
	struct err err = ERR_INIT;
	char *ctx = (char *)1;

	(void)state;
	load_ok(&cfg, "version: 1\n"
		      "clusters:\n"
		      "  hpc: {}\n"
		      "studies:\n"
		      "  demo:\n"
		      "    cluster: hpc\n"
		      "    context_file: no-such-notes.md\n");
	assert_int_equal(config_context(&ctx, &cfg, "demo", &err), -1);
	assert_null(ctx);
	assert_int_equal(err.code, ERR_CONFIG_INVALID);
	assert_non_null(strstr(err.message, "studies.demo.context_file"));
	assert_non_null(strstr(err.message, "no-such-notes.md"));
	err_release(&err);
	config_release(&cfg);
}

/* Whether 'argv' is the array of the NULL-ended strings that follow. */
static void assert_argv(const json_t *argv, ...)
{
	const char *want;
	size_t i = 0;
	va_list ap;

	va_start(ap, argv);
	for (want = va_arg(ap, const char *); want;
	     want = va_arg(ap, const char *))
		assert_string_equal(json_string_value(json_array_get(argv,
								    i++)),
				    want);
	va_end(ap);
	assert_int_equal(json_array_size(argv), i);
}

static void test_config_agent_argv_precedence(void **state)
{
	struct config cfg = CONFIG_INIT;
	struct err err = ERR_INIT;
	json_t *argv = NULL;

	(void)state;
	load_ok(&cfg, base_config);
	assert_int_equal(config_agent_argv(&argv, &cfg, "demo", &err), 0);
	assert_argv(argv, "claude", "-p", "--output-format", "stream-json",
		    "--verbose", NULL);
	json_decref(argv);
	config_release(&cfg);
	load_ok(&cfg, "version: 1\n"
		      "agent_command: \"  global   agent\\t-x \"\n"
		      "clusters:\n"
		      "  a:\n"
		      "    agent_command: [cluster agent, \"it's\"]\n"
		      "  b: {}\n"
		      "studies:\n"
		      "  s1: {cluster: a, agent_command: study-agent}\n"
		      "  s2: {cluster: a}\n"
		      "  s3: {cluster: b}\n");
	assert_int_equal(config_agent_argv(&argv, &cfg, "s1", &err), 0);
	assert_argv(argv, "study-agent", NULL);
	json_decref(argv);
	assert_int_equal(config_agent_argv(&argv, &cfg, "s2", &err), 0);
	assert_argv(argv, "cluster agent", "it's", NULL);
	json_decref(argv);
	assert_int_equal(config_agent_argv(&argv, &cfg, "s3", &err), 0);
	assert_argv(argv, "global", "agent", "-x", NULL);
	json_decref(argv);
	assert_int_equal(config_agent_argv(&argv, &cfg, NULL, &err), 0);
	assert_argv(argv, "global", "agent", "-x", NULL);
	json_decref(argv);
	assert_int_equal(config_agent_argv(&argv, &cfg, "s9", &err), -1);
	assert_null(argv);
	assert_int_equal(err.code, ERR_NOT_FOUND);
	err_release(&err);
	config_release(&cfg);
	load_fails("version: 1\nagent_command: \"   \"\n", ERR_CONFIG_INVALID,
		   "agent_command", NULL);
}

static void test_config_dirs_and_environment(void **state)
{
	struct config cfg = CONFIG_INIT;
	char want[600], *p;
	json_t *env, *expect;

	(void)state;
	load_ok(&cfg, "version: 1\n"
		      "clusters:\n"
		      "  a:\n"
		      "    working_dir: work\n"
		      "    environment: {OMP_NUM_THREADS: 4, HOME_X: \"/x\"}\n"
		      "  b: {}\n"
		      "  r:\n"
		      "    transport: ssh\n"
		      "    host: login.example.org\n"
		      "    user: me\n"
		      "    working_dir: scratch\n"
		      "studies:\n"
		      "  s1: {cluster: a}\n"
		      "  s2: {cluster: b}\n"
		      "  s3: {cluster: a, sprints_dir: /abs/dir}\n"
		      "  s4: {cluster: r}\n");
	assert_non_null(cfg.dir);
	assert_true(cfg.dir[0] == '/');
	p = config_sprints_dir(&cfg, "s1");
	snprintf(want, sizeof(want), "%s/work/s1", cfg.dir);
	assert_string_equal(p, want);
	free(p);
	p = config_sprints_dir(&cfg, "s2");
	snprintf(want, sizeof(want), "%s/sprints/s2", cfg.dir);
	assert_string_equal(p, want);
	free(p);
	p = config_sprints_dir(&cfg, "s3");
	assert_string_equal(p, "/abs/dir");
	free(p);
	p = config_sprints_dir(&cfg, "s4");
	assert_string_equal(p, "scratch/s4");
	free(p);
	assert_null(config_sprints_dir(&cfg, "nope"));
	p = config_path(&cfg, "x/y.md");
	snprintf(want, sizeof(want), "%s/x/y.md", cfg.dir);
	assert_string_equal(p, want);
	free(p);
	p = config_path(&cfg, "/etc/x");
	assert_string_equal(p, "/etc/x");
	free(p);
	env = config_environment(&cfg, "a");
	expect = json_pack("{s:s, s:s}", "OMP_NUM_THREADS", "4", "HOME_X",
			   "/x");
	assert_true(json_equal(env, expect));
	json_decref(env);
	json_decref(expect);
	env = config_environment(&cfg, "nope");
	assert_int_equal(json_object_size(env), 0);
	json_decref(env);
	assert_non_null(config_cluster(&cfg, "r"));
	assert_null(config_cluster(&cfg, "s1"));
	assert_non_null(config_study(&cfg, "s1"));
	assert_null(config_study(&cfg, NULL));
	config_release(&cfg);
}

static void test_config_redacted(void **state)
{
	struct config cfg = CONFIG_INIT;
	json_t *r;
	char *dump;

	(void)state;
	load_ok(&cfg, "version: 1\n"
		      "orchestrator_url: \"https://bob:pw1@orch.example\"\n"
		      "orchestrator_secret: sec1\n"
		      "clusters:\n"
		      "  a:\n"
		      "    environment: {WANDB_API_KEY: key1, PLAIN: ok}\n"
		      "notifications:\n"
		      "  - {name: s, type: slack,"
		      " url: \"https://hooks.slack.com/T/B/hook1\"}\n"
		      "  - {name: n, type: ntfy, topic: topic1, token: tok1}\n"
		      "dashboard: {password_hash: hash1}\n");
	r = config_redacted(&cfg);
	dump = json_dumps(r, JSON_SORT_KEYS);
	assert_null(strstr(dump, "pw1"));
	assert_null(strstr(dump, "sec1"));
	assert_null(strstr(dump, "key1"));
	assert_null(strstr(dump, "hook1"));
	assert_null(strstr(dump, "topic1"));
	assert_null(strstr(dump, "tok1"));
	assert_null(strstr(dump, "hash1"));
	assert_non_null(strstr(dump, "\"https://***@orch.example\""));
	assert_non_null(strstr(dump, "\"PLAIN\": \"ok\""));
	free(dump);
	json_decref(r);
	/* the loaded config itself is untouched */
	assert_string_equal(json_string_value(json_object_get(
		cfg.root, "orchestrator_secret")), "sec1");
	config_release(&cfg);
	assert_null(config_redacted(&cfg));
}

static void test_config_default_text_loads(void **state)
{
	struct config cfg = CONFIG_INIT;
	const json_t *study;
	json_t *argv = NULL;
	struct err err = ERR_INIT;

	(void)state;
	load_ok(&cfg, config_default_text());
	assert_non_null(config_cluster(&cfg, "local"));
	study = config_study(&cfg, "demo");
	assert_non_null(study);
	assert_string_equal(json_string_value(json_object_get(
		json_object_get(study, "metric"), "name")), "val_loss");
	assert_int_equal(config_agent_argv(&argv, &cfg, "demo", &err), 0);
	assert_string_equal(json_string_value(json_array_get(argv, 0)),
			    "claude");
	json_decref(argv);
	config_release(&cfg);
}

/* Remove the scratch directory and what the tests wrote in it. */
static int group_teardown(void **state)
{
	static const char *const names[] = {
		"hpcloop.yaml", "g1.md", "g2.md", "c.md", "s.md", "empty.md",
		NULL
	};
	char path[512];
	size_t i;

	(void)state;
	for (i = 0; names[i]; i++) {
		tmp_path(path, sizeof(path), names[i]);
		unlink(path);
	}
	return rmdir(tmpdir);
}

static int group_setup(void **state)
{
	(void)state;
	return mkdtemp(tmpdir) ? 0 : -1;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_config_yaml_scalars),
		cmocka_unit_test(test_config_yaml_bad_scalars),
		cmocka_unit_test(test_config_nested),
		cmocka_unit_test(test_config_alias_limits),
		cmocka_unit_test(test_config_json_input),
		cmocka_unit_test(test_config_duplicate_key),
		cmocka_unit_test(test_config_depth_limit),
		cmocka_unit_test_teardown(test_config_env_secret_wins,
					  env_teardown),
		cmocka_unit_test(test_config_unknown_key_at_depth),
		cmocka_unit_test(test_config_schema_errors),
		cmocka_unit_test(test_config_secret_not_in_message),
		cmocka_unit_test(test_config_unknown_cluster),
		cmocka_unit_test(test_config_missing_file),
		cmocka_unit_test(test_config_job_options_layering),
		cmocka_unit_test(test_config_job_options_bad),
		cmocka_unit_test(test_config_context_order),
		cmocka_unit_test(test_config_context_missing_file),
		cmocka_unit_test(test_config_agent_argv_precedence),
		cmocka_unit_test(test_config_dirs_and_environment),
		cmocka_unit_test(test_config_redacted),
		cmocka_unit_test(test_config_default_text_loads),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
