/*
 * version: the hpcloop version and the versions of the libraries it was
 * built with and runs with.
 */
#include "journal.h"
#include "primitive.h"
#include "version.h"
#include "banned.h"

static int version_run(struct ctx *ctx, const json_t *spec, json_t **data,
		       struct err *err)
{
	(void)ctx;
	(void)spec;
	(void)err;
	*data = json_pack("{s:s, s:i, s:o}", "version", HPCLOOP_VERSION,
			  "journal_schema", JOURNAL_SCHEMA_VERSION,
			  "libraries", version_libraries());
	return 0;
}

static const enum err_code version_errors[] = { ERR_NONE };

const struct primitive prim_version = {
	.name = "version",
	.summary = "Print the hpcloop version and its libraries' versions",
	.description = "Useful in bug reports and for an agent to check it "
		       "speaks the expected contract.",
	.example = "{}",
	.flags = PRIM_IDEMPOTENT | PRIM_READ_SAFE | PRIM_HTTP,
	.errors = version_errors,
	.handler = version_run,
};
