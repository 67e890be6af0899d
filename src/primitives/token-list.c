/*
 * token-list: the API tokens, never the token or its hash.
 */
#include "apitoken.h"
#include "primitive.h"
#include "banned.h"

static int token_list_run(struct ctx *ctx, const json_t *spec,
			  json_t **data, struct err *err)
{
	json_t *rows = NULL;

	(void)spec;
	if (apitoken_list(ctx->journal, &rows, err) < 0)
		return -1;
	*data = json_pack("{s:o, s:I}", "tokens", rows, "count",
			  (json_int_t)json_array_size(rows));
	return 0;
}

static const enum err_code token_list_errors[] = { ERR_NONE };

const struct primitive prim_token_list = {
	.name = "token-list",
	.summary = "List the API tokens (never the tokens themselves)",
	.description = "Each token's id, name, whether it is read-only, and "
		       "when it was created, last used and revoked. Neither "
		       "the token nor its hash is ever shown.",
	.example = "{}",
	.flags = PRIM_IDEMPOTENT | PRIM_NEEDS_JOURNAL,
	.errors = token_list_errors,
	.handler = token_list_run,
};
