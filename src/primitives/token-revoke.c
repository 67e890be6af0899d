/*
 * token-revoke: end an API token at once.
 */
#include "apitoken.h"
#include "primitive.h"
#include "banned.h"

static int token_revoke_run(struct ctx *ctx, const json_t *spec,
			    json_t **data, struct err *err)
{
	const char *which = json_string_value(json_object_get(spec, "id"));
	json_t *row = NULL;
	int changed;

	if (!which)
		which = json_string_value(json_object_get(spec, "name"));
	if (apitoken_revoke(ctx->journal, &row, &changed, which, err) < 0)
		return -1;
	ctx->replayed = !changed;
	json_object_set_new(row, "changed", json_boolean(changed));
	*data = row;
	return 0;
}

static const enum err_code token_revoke_errors[] = { ERR_NOT_FOUND,
						     ERR_NONE };

const struct primitive prim_token_revoke = {
	.name = "token-revoke",
	.summary = "Revoke an API token",
	.description = "Give the token's `id` (tk-...) or `name`. The next "
		       "request with it is refused with `unauthorized`. "
		       "Revoking a revoked token changes nothing and "
		       "answers \"idempotent\": true.",
	.example = "{\"name\": \"ci\"}",
	.flags = PRIM_MUTATES | PRIM_IDEMPOTENT | PRIM_NEEDS_JOURNAL,
	.errors = token_revoke_errors,
	.handler = token_revoke_run,
};
