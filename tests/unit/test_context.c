/*
 * test_context.c: unit tests for what a job of a study is given
 * (context.h): the layered job options, the context text in its order,
 * the agent command's precedence, the environment and the sprint
 * directories, all read from a loaded config.
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

#include "config.h"
#include "context.h"
#include "err.h"
#include "banned.h"

/* The scratch directory of the whole run, made by group_setup(). */
static char tmpdir[] = "/tmp/test_context.XXXXXX";

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

/* Load 'text', expecting success. */
static void load_ok(struct config *cfg, const char *text)
{
	struct err err = ERR_INIT;

	if (load_text(cfg, text, &err) < 0)
		fail_msg("unexpected error: %s", err.message);
	err_release(&err);
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

static void test_context_job_options_layering(void **state)
{
	struct config cfg = CONFIG_INIT;
	struct err err = ERR_INIT;
	json_t *req, *opts = NULL, *want;

	(void)state;
	load_ok(&cfg, options_config);
	assert_int_equal(context_job_options(&opts, &cfg, "demo", NULL, &err),
			 0);
	want = json_pack("{s:s, s:s, s:s, s:s}", "partition", "cpu", "time",
			 "02:00:00", "gpus", "2", "frac", "0.5");
	assert_true(json_equal(opts, want));
	json_decref(want);
	json_decref(opts);
	req = json_pack("{s:s, s:i, s:s}", "partition", "", "cpus", 4,
			"account", "abc");
	assert_int_equal(context_job_options(&opts, &cfg, "demo", req, &err),
			 0);
	want = json_pack("{s:s, s:s, s:s, s:s, s:s}", "time", "02:00:00",
			 "gpus", "2", "frac", "0.5", "cpus", "4", "account",
			 "abc");
	assert_true(json_equal(opts, want));
	json_decref(want);
	json_decref(opts);
	json_decref(req);
	opts = (json_t *)1;
	assert_int_equal(context_job_options(&opts, &cfg, "nope", NULL, &err),
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

	assert_int_equal(context_job_options(&opts, cfg, "demo", req, &err),
			 -1);
	assert_null(opts);
	assert_int_equal(err.code, ERR_SPEC_INVALID);
	if (!strstr(err.message, needle))
		fail_msg("'%s' not in '%s'", needle, err.message);
	err_release(&err);
	json_decref(req);
}

static void test_context_job_options_bad(void **state)
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
}

/* ------------------------------------------------------------------ */
/* Context, agent command, directories                                 */
/* ------------------------------------------------------------------ */

static void test_context_order(void **state)
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
	assert_int_equal(context_text(&ctx, &cfg, "demo", &err), 0);
	assert_string_equal(ctx, "global text\n\nglobal file one\n\n"
			    "global file two\n\ncluster text\n\n"
			    "cluster file\n\nstudy text\n\nstudy file");
	free(ctx);
	assert_int_equal(context_text(&ctx, &cfg, "bare", &err), 0);
	assert_string_equal(ctx, "global text\n\nglobal file one\n\n"
			    "global file two\n\ncluster text\n\n"
			    "cluster file");
	free(ctx);
	assert_int_equal(context_text(&ctx, &cfg, NULL, &err), 0);
	assert_string_equal(ctx, "global text\n\nglobal file one\n\n"
			    "global file two");
	free(ctx);
	assert_int_equal(context_text(&ctx, &cfg, "nope", &err), -1);
	assert_null(ctx);
	assert_int_equal(err.code, ERR_NOT_FOUND);
	err_release(&err);
	config_release(&cfg);
	load_ok(&cfg, base_config);
	assert_int_equal(context_text(&ctx, &cfg, "demo", &err), 0);
	assert_string_equal(ctx, "");
	free(ctx);
	config_release(&cfg);
}

static void test_context_missing_file(void **state)
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
	assert_int_equal(context_text(&ctx, &cfg, "demo", &err), -1);
	assert_null(ctx);
	assert_int_equal(err.code, ERR_CONFIG_INVALID);
	/* the line is known after loading too */
	assert_non_null(strstr(err.message, "hpcloop.yaml:7: "
			       "studies.demo.context_file: "));
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

static void test_context_agent_argv_precedence(void **state)
{
	struct config cfg = CONFIG_INIT;
	struct err err = ERR_INIT;
	json_t *argv = NULL;

	(void)state;
	load_ok(&cfg, base_config);
	assert_int_equal(context_agent_argv(&argv, &cfg, "demo", &err), 0);
	assert_string_equal(json_string_value(json_array_get(argv, 0)),
			    "claude");
	assert_string_equal(json_string_value(json_array_get(argv, 4)),
			    "--verbose");
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
	assert_int_equal(context_agent_argv(&argv, &cfg, "s1", &err), 0);
	assert_argv(argv, "study-agent", NULL);
	json_decref(argv);
	assert_int_equal(context_agent_argv(&argv, &cfg, "s2", &err), 0);
	assert_argv(argv, "cluster agent", "it's", NULL);
	json_decref(argv);
	assert_int_equal(context_agent_argv(&argv, &cfg, "s3", &err), 0);
	assert_argv(argv, "global", "agent", "-x", NULL);
	json_decref(argv);
	assert_int_equal(context_agent_argv(&argv, &cfg, NULL, &err), 0);
	assert_argv(argv, "global", "agent", "-x", NULL);
	json_decref(argv);
	assert_int_equal(context_agent_argv(&argv, &cfg, "s9", &err), -1);
	assert_null(argv);
	assert_int_equal(err.code, ERR_NOT_FOUND);
	err_release(&err);
	config_release(&cfg);
}

/*
 * Claude Code gets the tool permissions as flags (the default lets a
 * batch job work and refuses what waits for a person); a study's own
 * list wins; a command that sets the flags itself, or another agent,
 * is left as it is.
 */
/* The executor: none, a string split on whitespace, an array as is. */
static void test_context_executor_argv(void **state)
{
	struct config cfg = CONFIG_INIT;
	struct err err = ERR_INIT;
	json_t *argv = NULL;

	(void)state;
	load_ok(&cfg, "version: 1\n"
		      "clusters:\n"
		      "  a: {}\n"
		      "studies:\n"
		      "  none: {cluster: a}\n"
		      "  words: {cluster: a, executor: \" ./train.py\t--x 1 \"}\n"
		      "  list: {cluster: a, executor: [\"my train\", \"$(x)\"]}\n");
	assert_int_equal(context_executor_argv(&argv, &cfg, "none", &err), 0);
	assert_null(argv);
	assert_int_equal(context_executor_argv(&argv, &cfg, "words", &err),
			 0);
	assert_argv(argv, "./train.py", "--x", "1", NULL);
	json_decref(argv);
	assert_int_equal(context_executor_argv(&argv, &cfg, "list", &err), 0);
	assert_argv(argv, "my train", "$(x)", NULL);
	json_decref(argv);
	assert_int_equal(context_executor_argv(&argv, &cfg, "nine", &err), -1);
	assert_null(argv);
	assert_int_equal(err.code, ERR_NOT_FOUND);
	err_release(&err);
	config_release(&cfg);
	/* Blanks only pass the schema's pattern for none: refused there. */
	load_ok(&cfg, "version: 1\n"
		      "clusters:\n"
		      "  a: {}\n"
		      "studies:\n"
		      "  ok: {cluster: a, executor: x}\n");
	json_object_set_new((json_t *)config_study(&cfg, "ok"), "executor",
			    json_string(" \t "));
	assert_int_equal(context_executor_argv(&argv, &cfg, "ok", &err), -1);
	assert_null(argv);
	assert_int_equal(err.code, ERR_CONFIG_INVALID);
	assert_non_null(strstr(err.message, "studies.ok.executor"));
	err_release(&err);
	config_release(&cfg);
}

static void test_context_agent_tools(void **state)
{
	struct config cfg = CONFIG_INIT;
	struct err err = ERR_INIT;
	json_t *argv = NULL;

	(void)state;
	load_ok(&cfg, "version: 1\n"
		      "clusters: {a: {}}\n"
		      "studies:\n"
		      "  dflt: {cluster: a}\n"
		      "  own: {cluster: a, agent_tools: {allow: [Read, "
		      "\"Bash(git:*)\"], deny: []}}\n"
		      "  flags: {cluster: a, agent_command: \"/opt/x/claude "
		      "-p --allowedTools Read\"}\n"
		      "  other: {cluster: a, agent_command: \"codex exec\"}\n");
	assert_int_equal(context_agent_argv(&argv, &cfg, "dflt", &err), 0);
	assert_string_equal(json_string_value(json_array_get(argv, 5)),
			    "--allowedTools");
	assert_non_null(strstr(json_string_value(json_array_get(argv, 6)),
			       "Bash,Read,Write,Edit"));
	assert_string_equal(json_string_value(json_array_get(argv, 7)),
			    "--disallowedTools");
	assert_non_null(strstr(json_string_value(json_array_get(argv, 8)),
			       "AskUserQuestion"));
	json_decref(argv);
	assert_int_equal(context_agent_argv(&argv, &cfg, "own", &err), 0);
	assert_string_equal(json_string_value(json_array_get(argv, 6)),
			    "Read,Bash(git:*)");
	assert_int_equal(json_array_size(argv), 7);
	json_decref(argv);
	assert_int_equal(context_agent_argv(&argv, &cfg, "flags", &err), 0);
	assert_argv(argv, "/opt/x/claude", "-p", "--allowedTools", "Read",
		    "--disallowedTools",
		    "AskUserQuestion,ExitPlanMode,EnterPlanMode,ScheduleWakeup,"
		    "CronCreate,CronDelete,CronList,RemoteTrigger",
		    NULL);
	json_decref(argv);
	assert_int_equal(context_agent_argv(&argv, &cfg, "other", &err), 0);
	assert_argv(argv, "codex", "exec", NULL);
	json_decref(argv);
	config_release(&cfg);
}

static void test_context_dirs_and_environment(void **state)
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
		      "    scheduler: slurm\n"
		      "    working_dir: scratch\n"
		      "studies:\n"
		      "  s1: {cluster: a}\n"
		      "  s2: {cluster: b}\n"
		      "  s3: {cluster: a, sprints_dir: /abs/dir}\n"
		      "  s4: {cluster: r}\n");
	assert_non_null(cfg.dir);
	assert_true(cfg.dir[0] == '/');
	p = context_sprints_dir(&cfg, "s1");
	snprintf(want, sizeof(want), "%s/work/s1", cfg.dir);
	assert_string_equal(p, want);
	free(p);
	p = context_sprints_dir(&cfg, "s2");
	snprintf(want, sizeof(want), "%s/sprints/s2", cfg.dir);
	assert_string_equal(p, want);
	free(p);
	p = context_sprints_dir(&cfg, "s3");
	assert_string_equal(p, "/abs/dir");
	free(p);
	p = context_sprints_dir(&cfg, "s4");
	assert_string_equal(p, "scratch/s4");
	free(p);
	assert_null(context_sprints_dir(&cfg, "nope"));
	p = config_path(&cfg, "x/y.md");
	snprintf(want, sizeof(want), "%s/x/y.md", cfg.dir);
	assert_string_equal(p, want);
	free(p);
	p = config_path(&cfg, "/etc/x");
	assert_string_equal(p, "/etc/x");
	free(p);
	env = context_environment(&cfg, "a");
	expect = json_pack("{s:s, s:s}", "OMP_NUM_THREADS", "4", "HOME_X",
			   "/x");
	assert_true(json_equal(env, expect));
	json_decref(env);
	json_decref(expect);
	env = context_environment(&cfg, "nope");
	assert_int_equal(json_object_size(env), 0);
	json_decref(env);
	assert_non_null(config_cluster(&cfg, "r"));
	assert_null(config_cluster(&cfg, "s1"));
	assert_non_null(config_study(&cfg, "s1"));
	assert_null(config_study(&cfg, NULL));
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
		cmocka_unit_test(test_context_job_options_layering),
		cmocka_unit_test(test_context_job_options_bad),
		cmocka_unit_test(test_context_order),
		cmocka_unit_test(test_context_missing_file),
		cmocka_unit_test(test_context_agent_argv_precedence),
		cmocka_unit_test(test_context_executor_argv),
		cmocka_unit_test(test_context_agent_tools),
		cmocka_unit_test(test_context_dirs_and_environment),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
