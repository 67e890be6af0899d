/*
 * list: the catalog of primitives, generated from the registry.
 */
#include "docs.h"
#include "primitive.h"
#include "banned.h"

static int list_run(struct ctx *ctx, const json_t *spec, json_t **data,
		    struct err *err)
{
	json_t *arr = json_array();
	int i;

	(void)spec;
	(void)err;
	for (i = 0; i < ctx->registry->count; i++)
		json_array_append_new(arr, docs_catalog_entry(ctx->registry->entries[i]));
	*data = json_pack("{s:o, s:i}", "primitives", arr, "count",
			  ctx->registry->count);
	return 0;
}

static const enum err_code list_errors[] = { ERR_NONE };

const struct primitive prim_list = {
	.name = "list",
	.summary = "List every primitive with its summary, flags and error "
		   "codes",
	.description = "The catalog an agent reads first: one row per "
		       "primitive, generated from the registry, so it "
		       "never disagrees with the binary.",
	.example = "{}",
	.flags = PRIM_IDEMPOTENT | PRIM_READ_SAFE | PRIM_HTTP,
	.errors = list_errors,
	.handler = list_run,
};
