/*
 * doctor: check what will fail, and say it in terms a person can act on:
 * the journal (integrity, schema version, foreign keys, every sprint's
 * state against the replay of its events), submissions whose attempt
 * died, and the config.
 */
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "idem.h"
#include "journal.h"
#include "primitive.h"
#include "sprint.h"
#include "banned.h"

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
				"detail", detail);

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

static int doctor_run(struct ctx *ctx, const json_t *spec, json_t **data,
		      struct err *err)
{
	struct config cfg = CONFIG_INIT;
	struct err cerr = ERR_INIT;
	json_t *report = NULL, *checks = json_array(), *details = json_object();
	int healthy = 1, ok, r = -1;

	(void)spec;
	if (journal_check(ctx->journal, &report, err) < 0)
		goto out;
	journal_checks(checks, &healthy, report);
	if (state_checks(ctx, checks, &healthy, details, err) < 0)
		goto out;
	ok = config_load(&cfg, ctx->config_path, &cerr) == 0;
	check(checks, &healthy, "config", ok,
	      ok ? "config loads and validates" : cerr.message,
	      "fix the key named in the detail in hpcloop.yaml");
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
		       "config loads. A journal that cannot be opened at "
		       "all is `journal_corrupt`; a missing one "
		       "`not_found`.",
	.example = "{}",
	.flags = PRIM_IDEMPOTENT | PRIM_NEEDS_JOURNAL | PRIM_READ_SAFE |
		 PRIM_HTTP,
	.errors = doctor_errors,
	.handler = doctor_run,
};
