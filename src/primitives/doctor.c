/*
 * doctor: check the journal (integrity, schema version, foreign keys)
 * and the config, and say what is wrong in terms a person can act on.
 */
#include <string.h>

#include "config.h"
#include "journal.h"
#include "primitive.h"
#include "banned.h"

/* Append a check row {name, ok, detail} to 'checks'. */
static void check(json_t *checks, const char *name, int ok,
		  const char *detail)
{
	json_array_append_new(checks, json_pack("{s:s, s:b, s:s}", "name",
						name, "ok", ok, "detail",
						detail));
}

static int doctor_run(struct ctx *ctx, const json_t *spec, json_t **data,
		      struct err *err)
{
	struct config cfg = CONFIG_INIT;
	struct err cerr = ERR_INIT;
	json_t *report = NULL, *checks = json_array();
	char detail[ERR_MESSAGE_MAX + 64];
	int healthy = 1, ok;

	(void)spec;
	if (journal_check(ctx->journal, &report, err) < 0) {
		json_decref(checks);
		return -1;
	}
	ok = !strcmp(json_string_value(json_object_get(report, "integrity")),
		     "ok");
	check(checks, "journal_integrity", ok,
	      ok ? "PRAGMA integrity_check: ok"
		 : "PRAGMA integrity_check found problems");
	healthy &= ok;
	ok = json_integer_value(json_object_get(report, "schema_version")) ==
	     JOURNAL_SCHEMA_VERSION;
	snprintf(detail, sizeof(detail), "schema version %lld, expected %d",
		 (long long)json_integer_value(
			 json_object_get(report, "schema_version")),
		 JOURNAL_SCHEMA_VERSION);
	check(checks, "journal_schema_version", ok, detail);
	healthy &= ok;
	ok = json_integer_value(
		     json_object_get(report, "foreign_key_violations")) == 0;
	check(checks, "journal_foreign_keys", ok,
	      ok ? "no violations" : "foreign key violations found");
	healthy &= ok;
	ok = config_load(&cfg, ctx->config_path, &cerr) == 0;
	snprintf(detail, sizeof(detail), "%s",
		 ok ? "config loads and validates" : cerr.message);
	check(checks, "config", ok, detail);
	healthy &= ok;
	*data = json_pack("{s:b, s:o, s:o, s:s, s:s}", "healthy", healthy,
			  "checks", checks, "journal", report, "config_path",
			  ctx->config_path, "journal_path",
			  ctx->journal_path);
	config_release(&cfg);
	err_release(&cerr);
	return 0;
}

static const enum err_code doctor_errors[] = { ERR_JOURNAL_CORRUPT,
					       ERR_NONE };

const struct primitive prim_doctor = {
	.name = "doctor",
	.summary = "Check the journal's integrity and schema version and "
		   "the config",
	.description = "A successful call with `healthy`: false lists what "
		       "failed in `checks`; a journal that cannot be opened "
		       "at all is `journal_corrupt`.",
	.example = "{}",
	.flags = PRIM_IDEMPOTENT | PRIM_NEEDS_JOURNAL | PRIM_HTTP,
	.errors = doctor_errors,
	.handler = doctor_run,
};
