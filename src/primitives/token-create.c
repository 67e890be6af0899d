/*
 * token-create: a new API bearer token for `hpcloop serve`, printed
 * once; only its SHA-256 is kept (apitoken.h).
 */
#include "apitoken.h"
#include "primitive.h"
#include "banned.h"

static int token_create_run(struct ctx *ctx, const json_t *spec,
			    json_t **data, struct err *err)
{
	const char *name = json_string_value(json_object_get(spec, "name"));
	int read_only = json_is_true(json_object_get(spec, "read_only"));
	char token[APITOKEN_MAX];
	json_t *row = NULL;

	if (apitoken_create(ctx->journal, &row, token, name, read_only,
			    err) < 0)
		return -1;
	json_object_set_new(row, "token", json_string(token));
	json_object_set_new(row, "next_step",
			    json_string("keep the token now: it is not shown "
					"again; send it as Authorization: "
					"Bearer TOKEN, or set "
					"HPCLOOP_API_TOKEN for the remote CLI"));
	*data = row;
	return 0;
}

static const enum err_code token_create_errors[] = { ERR_CONFLICT,
						     ERR_NONE };

const struct primitive prim_token_create = {
	.name = "token-create",
	.summary = "Create an API token for hpcloop serve (shown once)",
	.description = "Makes a bearer token for the HTTP API of `hpcloop "
		       "serve` and prints it once, in `token`; the journal "
		       "keeps only its SHA-256, and no other call shows it "
		       "again. A `read_only` token may call only the "
		       "read-safe primitives. Names are unique; "
		       "`token-revoke` ends a token.",
	.example = "{\"name\": \"ci\"}",
	.flags = PRIM_MUTATES | PRIM_NEEDS_JOURNAL,
	.errors = token_create_errors,
	.handler = token_create_run,
};
