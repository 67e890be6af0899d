/*
 * primitive.c: the helpers around registry entries and the call
 * context (see primitive.h).
 */
#include <string.h>

#include "primitive.h"
#include "banned.h"

const struct primitive *registry_find(const struct registry *r,
				      const char *name)
{
	int i;

	for (i = 0; r && name && i < r->count; i++)
		if (!strcmp(r->entries[i]->name, name))
			return r->entries[i];
	return NULL;
}

int primitive_may_return(const struct primitive *p, enum err_code code)
{
	const enum err_code *e;

	switch (err_scope(code)) {
	case ERR_SCOPE_ANY:
		return 1;
	case ERR_SCOPE_JOURNAL:
		if (p->flags & PRIM_NEEDS_JOURNAL)
			return 1;
		break;
	case ERR_SCOPE_CONFIG:
		if (p->flags & PRIM_NEEDS_CONFIG)
			return 1;
		break;
	case ERR_SCOPE_OWN:
		break;
	}
	for (e = p->errors; e && *e != ERR_NONE; e++)
		if (*e == code)
			return 1;
	return 0;
}

void ctx_partial_error(struct ctx *ctx, enum err_code code,
		       const char *detail, const char *cluster)
{
	json_t *e = json_pack("{s:s, s:s}", "code", err_name(code), "detail",
			      detail);

	if (!ctx->partial_errors)
		ctx->partial_errors = json_array();
	/* "cluster" only when it concerns one (schemas/envelope.json). */
	if (cluster)
		json_object_set_new(e, "cluster", json_string(cluster));
	json_array_append_new(ctx->partial_errors, e);
}
