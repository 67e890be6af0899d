/*
 * test_config.c: unit tests for loading hpcloop.yaml (config.h and
 * config_schema.h): environment secrets, schema and cross-check
 * messages with their lines, defaults filled in from the schema, the
 * secrets derived from the schema's marks (their variables, redaction,
 * and messages that never quote them), and the default text.
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
#include "config_schema.h"
#include "context.h"
#include "err.h"
#include "schema.h"
#include "xalloc.h"
#include "yaml.h"
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
/* Loading and validation                                              */
/* ------------------------------------------------------------------ */

static void test_config_duplicate_key(void **state)
{
	(void)state;
	load_fails("version: 1\nversion: 1\n", ERR_CONFIG_INVALID,
		   "hpcloop.yaml:2: version: duplicate key", NULL);
}

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
	load_fails("version: 1\nclusters:\n  hpc:\n    keepalive_s: 5\n",
		   ERR_CONFIG_INVALID,
		   "hpcloop.yaml:4: clusters.hpc.keepalive_s: only for "
		   "transport ssh",
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

static void test_config_job_options_in_file(void **state)
{
	(void)state;
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
	load_fails("version: 1\nagent_command: \"   \"\n", ERR_CONFIG_INVALID,
		   "agent_command", NULL);
}

/* ------------------------------------------------------------------ */
/* Defaults                                                            */
/* ------------------------------------------------------------------ */

static const char defaults_config[] =
	"version: 1\n"
	"clusters:\n"
	"  here: {}\n"
	"  hpc: {scheduler: slurm, transport: ssh, host: h, user: u}\n"
	"  fast: {scheduler: sge, query_interval_s: 2.5,"
	" max_concurrent_jobs: 9, cancel_grace_s: 0}\n"
	"studies:\n"
	"  s1: {cluster: here, metric: {name: m, direction: minimize}}\n"
	"  s2: {cluster: hpc, red_team_max_rounds: 0, allow_loop: true,"
	" max_sprint_duration_hours: 0.5}\n"
	"notifications:\n"
	"  - {name: n, type: ntfy, topic: t}\n"
	"  - {name: m, type: ntfy, topic: t, events: [failed]}\n";

/* The integer member 'key' of 'obj', failing when it is not one. */
static json_int_t int_of(const json_t *obj, const char *key)
{
	const json_t *v = json_object_get(obj, key);

	if (!json_is_integer(v))
		fail_msg("'%s' is not an integer", key);
	return json_integer_value(v);
}

static void test_config_defaults_filled(void **state)
{
	struct config cfg = CONFIG_INIT;
	const json_t *c, *s, *ev;

	(void)state;
	load_ok(&cfg, defaults_config);
	/* the top level */
	assert_int_equal(int_of(cfg.root, "heartbeat_interval_s"), 60);
	assert_int_equal(int_of(cfg.root, "watchdog_grace_s"), 60);
	assert_int_equal(int_of(cfg.root, "step_timeout_s"), 0);
	assert_true(json_is_string(json_object_get(cfg.root,
						   "agent_command")));
	/* absent objects are not made up */
	assert_null(json_object_get(cfg.root, "dashboard"));
	/* inside a cluster, a map member with a $ref'd definition */
	c = config_cluster(&cfg, "here");
	assert_string_equal(json_string_value(json_object_get(c,
			    "transport")), "local");
	assert_string_equal(json_string_value(json_object_get(c,
			    "scheduler")), "local");
	assert_string_equal(json_string_value(json_object_get(c,
			    "working_dir")), "sprints");
	assert_int_equal(int_of(c, "max_concurrent_jobs"), 4);
	assert_int_equal(int_of(c, "cancel_grace_s"), 10);
	/* the local scheduler has no query interval, nor ssh a port */
	assert_null(json_object_get(c, "query_interval_s"));
	assert_null(json_object_get(c, "port"));
	/* defaults that hold once an "if" does */
	c = config_cluster(&cfg, "hpc");
	assert_int_equal(int_of(c, "port"), 22);
	assert_true(json_number_value(json_object_get(
		c, "query_interval_s")) == 30);
	/* explicit values win, fractions and zeros included */
	c = config_cluster(&cfg, "fast");
	assert_true(json_real_value(json_object_get(
		c, "query_interval_s")) == 2.5);
	assert_int_equal(int_of(c, "max_concurrent_jobs"), 9);
	assert_int_equal(int_of(c, "cancel_grace_s"), 0);
	/* inside a study, and an object inside it */
	s = config_study(&cfg, "s1");
	assert_true(json_number_value(json_object_get(
		s, "max_sprint_duration_hours")) == 8);
	assert_int_equal(int_of(s, "red_team_max_rounds"), 3);
	assert_true(json_is_false(json_object_get(s, "allow_loop")));
	assert_true(json_number_value(json_object_get(json_object_get(
		s, "metric"), "min_improvement")) == 0);
	s = config_study(&cfg, "s2");
	assert_int_equal(int_of(s, "red_team_max_rounds"), 0);
	assert_true(json_is_true(json_object_get(s, "allow_loop")));
	assert_true(json_real_value(json_object_get(
		s, "max_sprint_duration_hours")) == 0.5);
	assert_null(json_object_get(s, "metric"));
	/* inside the items of a list */
	ev = json_object_get(json_array_get(json_object_get(
		cfg.root, "notifications"), 0), "events");
	assert_int_equal(json_array_size(ev), 6);
	ev = json_object_get(json_array_get(json_object_get(
		cfg.root, "notifications"), 1), "events");
	assert_int_equal(json_array_size(ev), 1);
	config_release(&cfg);
	/* an explicit value wins at the top level too */
	load_ok(&cfg, "version: 1\nheartbeat_interval_s: 5\n"
		      "step_timeout_s: 600\n");
	assert_int_equal(int_of(cfg.root, "heartbeat_interval_s"), 5);
	assert_int_equal(int_of(cfg.root, "step_timeout_s"), 600);
	assert_int_equal(int_of(cfg.root, "watchdog_grace_s"), 60);
	config_release(&cfg);
}

/* Every default is itself valid: a filled config validates. */
static void test_config_defaults_are_valid(void **state)
{
	struct config cfg = CONFIG_INIT;
	json_t *schema = config_schema_load(), *errors;

	(void)state;
	load_ok(&cfg, defaults_config);
	errors = schema_validate(schema, cfg.root, 0);
	if (json_array_size(errors))
		fail_msg("defaults broke the config: %s",
			 json_string_value(json_object_get(
				 json_array_get(errors, 0), "message")));
	json_decref(errors);
	json_decref(schema);
	config_release(&cfg);
}

static void test_config_fill_defaults_by_definition(void **state)
{
	json_t *c = json_pack("{s:s}", "scheduler", "sge");
	json_t *s = json_pack("{s:s}", "cluster", "x");
	json_t *all = json_pack("{s:i}", "version", 1);

	(void)state;
	config_fill_defaults(c, "cluster");
	assert_int_equal(int_of(c, "max_concurrent_jobs"), 4);
	assert_true(json_number_value(json_object_get(
		c, "query_interval_s")) == 30);
	config_fill_defaults(s, "study");
	assert_int_equal(int_of(s, "red_team_max_rounds"), 3);
	config_fill_defaults(all, NULL);
	assert_int_equal(int_of(all, "heartbeat_interval_s"), 60);
	json_decref(c);
	json_decref(s);
	json_decref(all);
}

/* ------------------------------------------------------------------ */
/* Secrets                                                             */
/* ------------------------------------------------------------------ */

/*
 * A config holding every kind of secret, each value unique so that a
 * leak names it.
 */
static const char secrets_config[] =
	"{\"version\": 1,\n"
	" \"orchestrator_url\": \"https://bob:url-pw@orch.example/x\",\n"
	" \"orchestrator_secret\": \"orch-secret-v\",\n"
	" \"dashboard\": {\"password_hash\": \"dash-hash-v\"},\n"
	" \"clusters\": {\"a\": {\"environment\":\n"
	"   {\"WANDB_API_KEY\": \"env-key-v\", \"db_password\": \"env-pw-v\",\n"
	"    \"PLAIN\": \"plain-v\"}}},\n"
	" \"notifications\": [\n"
	"  {\"name\": \"ops-team\", \"type\": \"ntfy\",\n"
	"   \"topic\": \"topic-v\", \"token\": \"ntfy-token-v\"},\n"
	"  {\"name\": \"s\", \"type\": \"slack\",\n"
	"   \"url\": \"https://hooks.slack.com/T/B/slack-hook-v\"},\n"
	"  {\"name\": \"w\", \"type\": \"webhook\",\n"
	"   \"url\": \"https://u:hook-pw@w.example/h\",\n"
	"   \"token\": \"hook-token-v\"}]}\n";

/* The values of secrets_config that must never be shown. */
static const char *const secret_values[] = {
	"url-pw", "orch-secret-v", "dash-hash-v", "env-key-v", "env-pw-v",
	"topic-v", "ntfy-token-v", "slack-hook-v", "hook-pw", "hook-token-v",
	NULL
};

/* The secrets of secrets_config as "pointer env redact" lines, sorted. */
static const char expected_secrets[] =
	"/clusters/a/environment/WANDB_API_KEY - all\n"
	"/clusters/a/environment/db_password - all\n"
	"/dashboard/password_hash HPCLOOP_DASHBOARD_PASSWORD_HASH all\n"
	"/notifications/0/secret HPCLOOP_NOTIFY_OPS_TEAM_SECRET all\n"
	"/notifications/0/token HPCLOOP_NOTIFY_OPS_TEAM_TOKEN all\n"
	"/notifications/0/topic - all\n"
	"/notifications/1/secret HPCLOOP_NOTIFY_S_SECRET all\n"
	"/notifications/1/token HPCLOOP_NOTIFY_S_TOKEN all\n"
	"/notifications/1/url - all\n"
	"/notifications/2/secret HPCLOOP_NOTIFY_W_SECRET all\n"
	"/notifications/2/token HPCLOOP_NOTIFY_W_TOKEN all\n"
	"/notifications/2/url - userinfo\n"
	"/orchestrator_secret HPCLOOP_ORCHESTRATOR_SECRET all\n"
	"/orchestrator_url HPCLOOP_ORCHESTRATOR_URL userinfo\n";

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The secrets of 'instance', as config_schema_secrets lists them. */
static json_t *secrets_of(const json_t *instance)
{
	json_t *schema = config_schema_load();
	json_t *secrets = config_schema_secrets(schema, instance);

	json_decref(schema);
	return secrets;
}

/* The mark in the schema is the one list: derived as expected. */
static void test_config_secrets_from_the_schema(void **state)
{
	json_t *inst = json_loads(secrets_config, 0, NULL), *secrets;
	struct buf got = BUF_INIT;
	const json_t *e;
	const char *env;
	char *lines[64];
	size_t i, n;

	(void)state;
	assert_non_null(inst);
	secrets = secrets_of(inst);
	n = json_array_size(secrets);
	assert_true(n < 64);
	json_array_foreach(secrets, i, e) {
		struct buf l = BUF_INIT;

		env = json_string_value(json_object_get(e, "env"));
		buf_addf(&l, "%s %s %s\n", json_string_value(json_object_get(
				 e, "pointer")), env ? env : "-",
			 json_string_value(json_object_get(e, "redact")));
		lines[i] = buf_detach(&l, NULL);
	}
	qsort(lines, n, sizeof(*lines), cmp_str);
	for (i = 0; i < n; i++) {
		buf_adds(&got, lines[i]);
		free(lines[i]);
	}
	assert_string_equal(buf_str(&got), expected_secrets);
	assert_true(config_schema_is_secret(secrets, "/orchestrator_secret"));
	assert_true(config_schema_is_secret(secrets,
					    "/orchestrator_secret/0"));
	assert_false(config_schema_is_secret(secrets,
					     "/orchestrator_secretx"));
	assert_false(config_schema_is_secret(secrets, "/orchestrator"));
	assert_false(config_schema_is_secret(secrets,
					     "/clusters/a/environment/PLAIN"));
	buf_release(&got);
	json_decref(secrets);
	json_decref(inst);
}

/* The value at the JSON pointer 'pointer' of 'root', or NULL. */
static json_t *value_at(json_t *root, const char *pointer)
{
	struct buf seg = BUF_INIT;
	const char *p = pointer;

	while (root && *p == '/') {
		p = yaml_pointer_next(p, &seg);
		if (json_is_array(root))
			root = json_array_get(root, strtoul(buf_str(&seg),
							    NULL, 10));
		else
			root = json_object_get(root, buf_str(&seg));
	}
	buf_release(&seg);
	return root;
}

/* Whether the dump of 'v' holds 'needle'. */
static int dump_has(const json_t *v, const char *needle)
{
	char *dump = json_dumps(v, JSON_SORT_KEYS);
	int has = dump && strstr(dump, needle);

	free(dump);
	return has;
}

/*
 * Each secret that has a variable is set by it (even where the file has
 * none), blamed on it, and redacted.
 */
static void test_config_every_secret_from_its_variable(void **state)
{
	json_t *inst = json_loads(secrets_config, 0, NULL), *secrets, *red;
	struct config cfg = CONFIG_INIT;
	const char *var, *ptr;
	const json_t *e;
	char want[128], pw[32];
	size_t i, vars = 0;

	(void)state;
	secrets = secrets_of(inst);
	json_array_foreach(secrets, i, e) {
		var = json_string_value(json_object_get(e, "env"));
		ptr = json_string_value(json_object_get(e, "pointer"));
		if (!var)
			continue;
		vars++;
		snprintf(pw, sizeof(pw), "envpw%zu", i);
		snprintf(want, sizeof(want), "https://u:%s@h.example/", pw);
		setenv(var, want, 1);
		load_ok(&cfg, secrets_config);
		unsetenv(var);
		assert_string_equal(json_string_value(value_at(cfg.root, ptr)),
				    want);
		assert_string_equal(json_string_value(json_object_get(
			cfg.lines, ptr)), var);
		red = config_redacted(&cfg);
		assert_false(dump_has(red, pw));
		json_decref(red);
		config_release(&cfg);
	}
	/* the nine variables of the contract, none written in C */
	assert_int_equal(vars, 9);
	json_decref(secrets);
	json_decref(inst);
}

static void test_config_every_secret_redacted(void **state)
{
	struct config cfg = CONFIG_INIT;
	json_t *red;
	size_t i;

	(void)state;
	load_ok(&cfg, secrets_config);
	red = config_redacted(&cfg);
	for (i = 0; secret_values[i]; i++)
		if (dump_has(red, secret_values[i]))
			fail_msg("'%s' is shown", secret_values[i]);
	assert_true(dump_has(red, "\"plain-v\""));
	assert_true(dump_has(red, "\"https://***@orch.example/x\""));
	assert_true(dump_has(red, "\"https://***@w.example/h\""));
	/* the loaded config itself is untouched */
	assert_string_equal(json_string_value(json_object_get(
		cfg.root, "orchestrator_secret")), "orch-secret-v");
	json_decref(red);
	config_release(&cfg);
}

/*
 * Load the JSON of 'inst' with 'bad' (stolen) at 'pointer'; when that
 * fails, its message and details must not hold the bad value.  Returns
 * 1 when the load failed.
 */
static int bad_value_unquoted(const json_t *inst, const char *pointer,
			      json_t *bad, struct err *err)
{
	json_t *copy = json_deep_copy(inst), *parent;
	struct config cfg = CONFIG_INIT;
	char *text, *slash, *dump;
	char *ppath = xstrdup(pointer);
	int failed;

	slash = strrchr(ppath, '/');
	*slash = '\0';
	parent = value_at(copy, ppath);
	if (json_is_array(parent))
		json_array_set_new(parent, strtoul(slash + 1, NULL, 10), bad);
	else
		json_object_set_new(parent, slash + 1, bad);
	text = json_dumps(copy, JSON_INDENT(1));
	failed = load_text(&cfg, text, err) < 0;
	if (failed) {
		dump = json_dumps(err->details, 0);
		if (strstr(err->message, "s3cr3t") ||
		    strstr(err->message, "31337") ||
		    (dump && (strstr(dump, "s3cr3t") || strstr(dump, "31337"))))
			fail_msg("%s: a secret is quoted: %s", pointer,
				 err->message);
		free(dump);
	}
	config_release(&cfg);
	free(text);
	free(ppath);
	json_decref(copy);
	return failed;
}

/* No bad value of a secret is ever quoted, whatever the validator says. */
static void test_config_secret_bad_values_unquoted(void **state)
{
	json_t *inst = json_loads(secrets_config, 0, NULL), *secrets;
	struct err err = ERR_INIT;
	const char *ptr;
	const json_t *e;
	size_t i;
	int failures;

	(void)state;
	secrets = secrets_of(inst);
	json_array_foreach(secrets, i, e) {
		ptr = json_string_value(json_object_get(e, "pointer"));
		if (!value_at(inst, ptr))
			continue;
		failures = bad_value_unquoted(inst, ptr,
					      json_string("s3cr3t x\n"), &err);
		err_release(&err);
		failures += bad_value_unquoted(inst, ptr, json_integer(31337),
					       &err);
		err_release(&err);
		failures += bad_value_unquoted(inst, ptr,
					       json_pack("[s]", "s3cr3t"),
					       &err);
		err_release(&err);
		failures += bad_value_unquoted(
			inst, ptr, json_pack("{s:s}", "s3cr3t", "s3cr3t"),
			&err);
		err_release(&err);
		if (!failures)
			fail_msg("%s: no bad value was refused", ptr);
	}
	/* the validator's own message, which may quote, is replaced */
	assert_int_equal(bad_value_unquoted(inst, "/orchestrator_url",
					    json_string("s3cr3t x"), &err), 1);
	assert_non_null(strstr(err.message, "orchestrator_url: value fails "
			       "the schema's 'pattern' check"));
	err_release(&err);
	json_decref(secrets);
	json_decref(inst);
}

/* ------------------------------------------------------------------ */
/* Redaction and the default text                                      */
/* ------------------------------------------------------------------ */

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
	json_t *argv = NULL, *schema = config_schema_load();
	struct err err = ERR_INIT;
	char *text = config_default_text();
	const char *agent;

	(void)state;
	/* it shows the schema's default agent command */
	agent = json_string_value(json_object_get(json_object_get(
		json_object_get(schema, "properties"), "agent_command"),
		"default"));
	assert_non_null(agent);
	assert_non_null(strstr(text, agent));
	load_ok(&cfg, text);
	assert_non_null(config_cluster(&cfg, "local"));
	study = config_study(&cfg, "demo");
	assert_non_null(study);
	assert_string_equal(json_string_value(json_object_get(
		json_object_get(study, "metric"), "name")), "val_loss");
	assert_int_equal(context_agent_argv(&argv, &cfg, "demo", &err), 0);
	assert_string_equal(json_string_value(json_array_get(argv, 0)),
			    "claude");
	json_decref(argv);
	json_decref(schema);
	free(text);
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
		cmocka_unit_test(test_config_duplicate_key),
		cmocka_unit_test_teardown(test_config_env_secret_wins,
					  env_teardown),
		cmocka_unit_test(test_config_unknown_key_at_depth),
		cmocka_unit_test(test_config_schema_errors),
		cmocka_unit_test(test_config_secret_not_in_message),
		cmocka_unit_test(test_config_unknown_cluster),
		cmocka_unit_test(test_config_missing_file),
		cmocka_unit_test(test_config_job_options_in_file),
		cmocka_unit_test(test_config_defaults_filled),
		cmocka_unit_test(test_config_defaults_are_valid),
		cmocka_unit_test(test_config_fill_defaults_by_definition),
		cmocka_unit_test(test_config_secrets_from_the_schema),
		cmocka_unit_test(test_config_every_secret_from_its_variable),
		cmocka_unit_test(test_config_every_secret_redacted),
		cmocka_unit_test(test_config_secret_bad_values_unquoted),
		cmocka_unit_test(test_config_redacted),
		cmocka_unit_test(test_config_default_text_loads),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
