/*
 * doctor: check what will fail, and say it in terms a person can act on:
 * the journal (integrity, schema version, foreign keys, every sprint's
 * state against the replay of its events), submissions whose attempt
 * died, the config, and for each study what its first sprint would
 * meet: its cluster's transport and scheduler in this build, a writable
 * sprints directory, the agent's program on the cluster's PATH, one
 * short run of the agent that answers in stream-json, and tools it may
 * use unattended.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent.h"
#include "buf.h"
#include "cluster.h"
#include "config.h"
#include "context.h"
#include "idem.h"
#include "journal.h"
#include "primitive.h"
#include "sprint.h"
#include "transport.h"
#include "banned.h"

/* How long the agent's dry run may take. */
#define DOCTOR_AGENT_TIMEOUT_S 90

/* The most mismatching sprints listed. */
#define DOCTOR_LIST_MAX 20

/*
 * Append a check row {name, ok, detail[, remediation]} to 'checks' and
 * clear '*healthy' when it failed.
 */
static void check(json_t *checks, int *healthy, const char *name, int ok,
		  const char *detail, const char *remediation)
{
	json_t *row = json_pack("{s:s, s:b, s:s}", "name", name, "ok", ok,
				"detail", detail ? detail : "");

	if (!ok && remediation)
		json_object_set_new(row, "remediation",
				    json_string(remediation));
	json_array_append_new(checks, row);
	if (!ok)
		*healthy = 0;
}

/* The checks of the journal file itself; 'report' as journal_check. */
static void journal_checks(json_t *checks, int *healthy, const json_t *report)
{
	char detail[128];
	int ok;

	ok = !strcmp(json_string_value(json_object_get(report, "integrity")),
		     "ok");
	check(checks, healthy, "journal_integrity", ok,
	      ok ? "PRAGMA integrity_check: ok"
		 : "PRAGMA integrity_check found problems",
	      "restore the journal from a backup");
	ok = json_integer_value(json_object_get(report, "schema_version")) ==
	     JOURNAL_SCHEMA_VERSION;
	snprintf(detail, sizeof(detail), "schema version %lld, expected %d",
		 (long long)json_integer_value(
			 json_object_get(report, "schema_version")),
		 JOURNAL_SCHEMA_VERSION);
	check(checks, healthy, "journal_schema_version", ok, detail,
	      "use the hpcloop that wrote this journal");
	ok = json_integer_value(
		     json_object_get(report, "foreign_key_violations")) == 0;
	check(checks, healthy, "journal_foreign_keys", ok,
	      ok ? "no violations" : "foreign key violations found",
	      "restore the journal from a backup");
}

/*
 * Every sprint's stored state against the replay of its events, and the
 * submissions whose attempt died; the lists go into 'details'.
 */
static int state_checks(struct ctx *ctx, json_t *checks, int *healthy,
			json_t *details, struct err *err)
{
	json_t *bad = NULL, *pending = NULL, *dead = json_array();
	char detail[256];
	size_t i;
	int checked, r = -1;

	if (sprint_replay_check(ctx->journal, &bad, &checked, DOCTOR_LIST_MAX,
				err) < 0 ||
	    idem_pending(ctx->journal, &pending, err) < 0)
		goto out;
	snprintf(detail, sizeof(detail),
		 "%d sprints replayed from their events, %zu differ from "
		 "the stored state", checked, json_array_size(bad));
	check(checks, healthy, "sprint_states", json_array_size(bad) == 0,
	      detail,
	      "the journal was changed outside hpcloop; see "
	      "details.state_mismatches");
	for (i = 0; i < json_array_size(pending); i++) {
		json_t *p = json_array_get(pending, i);

		if (!json_is_true(json_object_get(p, "alive")))
			json_array_append_new(
				dead, json_pack("{s:O, s:O, s:O}", "primitive",
						json_object_get(p, "primitive"),
						"idempotency_key",
						json_object_get(p, "key"),
						"sprint_id",
						json_object_get(p, "subject")));
	}
	snprintf(detail, sizeof(detail),
		 "%zu submissions were interrupted and not resumed",
		 json_array_size(dead));
	check(checks, healthy, "abandoned_submissions",
	      json_array_size(dead) == 0, detail,
	      "repeat each submit-flow call in details.abandoned (same spec "
	      "or idempotency_key) to resume it; `hpcloop status` fails "
	      "one that is not resumed within the cluster's "
	      "pending_timeout_s");
	json_object_set(details, "state_mismatches", bad);
	json_object_set(details, "abandoned", dead);
	r = 0;
out:
	json_decref(bad);
	json_decref(pending);
	json_decref(dead);
	return r;
}

/* ---------------------------------------------------------------- */
/* Per study                                                          */
/* ---------------------------------------------------------------- */

/* One study's checks: where they go and what they know. */
struct study_run {
	json_t *checks;		/* the call's checks (borrowed) */
	int *healthy;		/* the call's verdict */
	const char *study;	/* the study's name */
};

/* A check of the study 'sr' (see check()). */
static void scheck(struct study_run *sr, const char *name, int ok,
		   const char *detail, const char *remediation)
{
	check(sr->checks, sr->healthy, name, ok, detail, remediation);
	json_object_set_new(json_array_get(sr->checks,
					   json_array_size(sr->checks) - 1),
			    "study", json_string(sr->study));
}

/* The sprints directory can be made and written on the cluster. */
static void check_dir(struct study_run *sr, struct cluster *c,
		      const char *dir)
{
	struct err e = ERR_INIT;
	struct buf probe = BUF_INIT, msg = BUF_INIT;
	int ok;

	buf_addf(&probe, "%s/.hpcloop-doctor-probe", dir);
	ok = transport_mkdirs(c->t, dir, 0700, &e) == 0 &&
	     transport_write_file(c->t, buf_str(&probe), "ok\n", 3, 0600,
				  &e) == 0 &&
	     transport_remove(c->t, buf_str(&probe), &e) == 0;
	if (ok)
		buf_addf(&msg, "%s is writable", dir);
	else
		buf_addf(&msg, "cannot write in %s: %s", dir, e.message);
	scheck(sr, "working_dir", ok, buf_str(&msg),
	       "make the directory writable, or set the study's sprints_dir "
	       "or the cluster's working_dir to one that is");
	buf_release(&probe);
	buf_release(&msg);
	err_release(&e);
}

/* Whether 'argv' gives Claude Code the tools a sprint needs. */
static int tools_unattended(const json_t *argv, char *missing, size_t size)
{
	static const char *const need[] = { "Bash", "Write", "Edit", "Read" };
	const char *allowed = NULL;
	size_t i;

	missing[0] = '\0';
	for (i = 1; i + 1 < json_array_size(argv); i++) {
		const char *a = json_string_value(json_array_get(argv, i));

		if (!strcmp(a, "--allowedTools") ||
		    !strcmp(a, "--allowed-tools"))
			allowed = json_string_value(json_array_get(argv,
								   i + 1));
		if (!strcmp(a, "--permission-mode") &&
		    !strcmp(json_string_value(json_array_get(argv, i + 1)),
			    "acceptEdits"))
			return 1;
	}
	for (i = 0; i < sizeof(need) / sizeof(need[0]); i++) {
		const char *hit = allowed ? strstr(allowed, need[i]) : NULL;

		if (!hit)
			snprintf(missing + strlen(missing),
				 size - strlen(missing), "%s%s",
				 missing[0] ? ", " : "", need[i]);
	}
	return missing[0] == '\0';
}

/* The agent's tools, its program, and (run) one short answer. */
static void check_agent(struct study_run *sr, struct cluster *c,
			const struct config *cfg, const char *dir, int run)
{
	static const char prompt[] =
		"This is `hpcloop doctor` checking that the agent runs. "
		"Reply with the single word ok and do nothing else.\n";
	struct agent_answer a = AGENT_ANSWER_INIT;
	struct err e = ERR_INIT;
	struct buf msg = BUF_INIT;
	json_t *argv = NULL, *env = NULL;
	const char *prog, *base;
	char *path = NULL, missing[64];
	int found = 0, ok;

	if (context_agent_argv(&argv, cfg, sr->study, &e) < 0) {
		scheck(sr, "agent_command", 0, e.message, NULL);
		goto out;
	}
	prog = json_string_value(json_array_get(argv, 0));
	base = strrchr(prog, '/') ? strrchr(prog, '/') + 1 : prog;
	if (!strcmp(base, "claude")) {
		ok = tools_unattended(argv, missing, sizeof(missing));
		buf_addf(&msg, ok ? "the agent may use its tools unattended"
				  : "the agent may not use %s unattended: its "
				    "steps would get nothing done",
			 missing);
		scheck(sr, "agent_tools", ok, buf_str(&msg),
		       "allow them in agent_tools.allow in hpcloop.yaml");
		buf_release(&msg);
	}
	if (agent_find_program(c->t, &found, &path, argv, &e) < 0 || !found) {
		buf_addf(&msg, "'%s' is not an executable on the cluster's "
			       "PATH%s%s",
			 prog, e.message[0] ? ": " : "", e.message);
		scheck(sr, "agent_program", 0, buf_str(&msg),
		       "install the agent on the cluster, or set "
		       "agent_command to its full path");
		goto out;
	}
	buf_addf(&msg, "%s", path);
	scheck(sr, "agent_program", 1, buf_str(&msg), NULL);
	buf_release(&msg);
	if (!run)
		goto out;
	env = context_environment(cfg, json_string_value(json_object_get(
					       config_study(cfg, sr->study),
					       "cluster")));
	if (agent_ask(c->t, &a, argv, env, prompt, dir,
		      DOCTOR_AGENT_TIMEOUT_S, &e) < 0) {
		buf_addf(&msg, "the agent did not run: %s", e.message);
		scheck(sr, "agent_run", 0, buf_str(&msg),
		       "run the agent command by hand on the cluster");
		goto out;
	}
	ok = 0;
	if (a.lines && !a.json_lines)
		buf_adds(&msg, "the agent printed plain text, not stream-json");
	else if (!a.saw_result)
		buf_addf(&msg, "the agent wrote no result (exit %d)%s%s",
			 a.exit_code, a.stderr_tail ? ": " : "",
			 a.stderr_tail ? a.stderr_tail : "");
	else if (a.is_error)
		buf_addf(&msg, "the agent answered with an error: %s",
			 a.text ? a.text : "(no text)");
	else
		ok = 1;
	if (ok)
		buf_adds(&msg, "the agent answered in stream-json");
	scheck(sr, "agent_run", ok, buf_str(&msg),
	       a.lines && !a.json_lines
		       ? "add --output-format stream-json --verbose to "
			 "agent_command"
		       : "fix what the agent said (its login or API key, its "
			 "model, its network) and run doctor again");
out:
	agent_answer_release(&a);
	buf_release(&msg);
	json_decref(argv);
	json_decref(env);
	free(path);
	err_release(&e);
}

/* Every check of study 'name' of 'cfg'. */
static void check_study(json_t *checks, int *healthy,
			const struct config *cfg, const char *name, int run)
{
	struct study_run sr = { checks, healthy, name };
	struct cluster c = CLUSTER_INIT;
	struct err e = ERR_INIT;
	struct buf msg = BUF_INIT;
	const char *cl = json_string_value(json_object_get(
		config_study(cfg, name), "cluster"));
	char *dir = NULL;

	if (cluster_open(&c, cfg, cl, &e) < 0) {
		buf_addf(&msg, "cluster '%s': %s", cl, e.message);
		scheck(&sr, "cluster", 0, buf_str(&msg),
		       e.remedy[0] ? e.remedy : err_remediation(e.code));
		goto out;
	}
	buf_addf(&msg, "cluster '%s': %s transport, %s scheduler", cl,
		 transport_name(c.t), c.sched->ops->name);
	scheck(&sr, "cluster", 1, buf_str(&msg), NULL);
	dir = context_sprints_dir(cfg, name);
	check_dir(&sr, &c, dir);
	check_agent(&sr, &c, cfg, dir, run);
out:
	cluster_release(&c);
	buf_release(&msg);
	err_release(&e);
	free(dir);
}

/* The study checks the spec asks for; an unknown study is not_found. */
static int study_checks(json_t *checks, int *healthy,
			const struct config *cfg, const json_t *spec,
			int in_server, struct err *err)
{
	const char *one = json_string_value(json_object_get(spec, "study"));
	const char *mode = json_string_value(json_object_get(spec,
							      "agent_check"));
	/* Served calls only look: a dry run costs the agent's owner. */
	int run = mode ? !strcmp(mode, "run") : !in_server;
	const char *name;
	json_t *st;

	if (one && !config_study(cfg, one)) {
		err_set(err, ERR_NOT_FOUND, "no study '%s' in %s", one,
			cfg->path);
		return err_remedy(err, "`hpcloop study-list` lists the "
				  "studies of hpcloop.yaml");
	}
	json_object_foreach(json_object_get(cfg->root, "studies"), name, st) {
		if (!one || !strcmp(one, name))
			check_study(checks, healthy, cfg, name, run);
	}
	return 0;
}

static int doctor_run(struct ctx *ctx, const json_t *spec, json_t **data,
		      struct err *err)
{
	struct config cfg = CONFIG_INIT;
	struct err cerr = ERR_INIT;
	json_t *report = NULL, *checks = json_array(), *details = json_object();
	int healthy = 1, ok, r = -1;

	if (journal_check(ctx->journal, &report, err) < 0)
		goto out;
	journal_checks(checks, &healthy, report);
	if (state_checks(ctx, checks, &healthy, details, err) < 0)
		goto out;
	ok = config_load(&cfg, ctx->config_path, &cerr) == 0;
	check(checks, &healthy, "config", ok,
	      ok ? "config loads and validates" : cerr.message,
	      "fix the key named in the detail in hpcloop.yaml");
	if (ok && study_checks(checks, &healthy, &cfg, spec, ctx->in_server,
			       err) < 0)
		goto out;
	*data = json_pack("{s:b, s:O, s:O, s:O, s:s, s:s}", "healthy",
			  healthy, "checks", checks, "journal", report,
			  "details", details, "config_path", ctx->config_path,
			  "journal_path", ctx->journal_path);
	r = 0;
out:
	config_release(&cfg);
	err_release(&cerr);
	json_decref(report);
	json_decref(checks);
	json_decref(details);
	return r;
}

static const enum err_code doctor_errors[] = { ERR_NOT_FOUND, ERR_NONE };

const struct primitive prim_doctor = {
	.name = "doctor",
	.summary = "Check what will fail: the journal, sprint states, "
		   "abandoned submissions and the config",
	.description = "A successful call with `healthy`: false lists what "
		       "failed in `checks`, each with a remediation: the "
		       "journal's integrity, schema version and foreign "
		       "keys; every sprint's stored state against the "
		       "replay of its events; submissions whose attempt "
		       "died (repeat the same call to resume); whether the "
		       "config loads; and for each study (or the one "
		       "named) what its first sprint would meet: its "
		       "cluster's transport and scheduler in this build, a "
		       "writable sprints directory, the agent's program on "
		       "the cluster's PATH, tools it may use unattended, and "
		       "(`agent_check`: run, the default from the command "
		       "line) one short run of the agent that must answer in "
		       "stream-json. A journal that cannot be opened at all "
		       "is `journal_corrupt`; a missing one `not_found`.",
	.example = "{}",
	.flags = PRIM_IDEMPOTENT | PRIM_NEEDS_JOURNAL | PRIM_READ_SAFE |
		 PRIM_HTTP,
	.errors = doctor_errors,
	.handler = doctor_run,
};
