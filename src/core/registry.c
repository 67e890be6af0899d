/*
 * registry.c: the table of primitives, expanded from
 * src/primitives/primitives.def (as redis expands commands.def), and
 * the small helpers around it.
 */
#include <stdlib.h>
#include <string.h>

#include "primitive.h"
#include "banned.h"

#define PRIM(n) extern const struct primitive prim_##n;
#include "primitives/primitives.def"
#undef PRIM

const struct primitive *const primitives[] = {
#define PRIM(n) &prim_##n,
#include "primitives/primitives.def"
#undef PRIM
};

const int primitives_count =
	(int)(sizeof(primitives) / sizeof(primitives[0]));

const struct primitive *primitive_find(const char *name)
{
	int i;

	for (i = 0; i < primitives_count; i++)
		if (!strcmp(primitives[i]->name, name))
			return primitives[i];
	return NULL;
}

void ctx_partial_error(struct ctx *ctx, enum err_code code,
		       const char *detail)
{
	if (!ctx->partial_errors)
		ctx->partial_errors = json_array();
	json_array_append_new(ctx->partial_errors,
			      json_pack("{s:s, s:s}", "code", err_name(code),
					"detail", detail));
}
