/*
 * help: a primitive's doc page (the same Markdown as
 * docs/primitives/NAME.md), or the overview without a name.
 */
#include <stdlib.h>

#include "buf.h"
#include "docs.h"
#include "primitive.h"
#include "banned.h"

static int help_run(struct ctx *ctx, const json_t *spec, json_t **data,
		    struct err *err)
{
	const char *name = json_string_value(json_object_get(spec, "name"));
	const struct primitive *p;
	struct buf b = BUF_INIT;
	char *text;
	int i;

	if (!name) {
		buf_adds(&b, "hpcloop PRIMITIVE [--spec FILE|-|JSON] "
			     "[--config FILE] [--journal FILE] [--pretty]\n\n"
			     "Primitives:\n");
		for (i = 0; i < ctx->registry->count; i++)
			buf_addf(&b, "  %-18s %s\n", ctx->registry->entries[i]->name,
				 ctx->registry->entries[i]->summary);
		buf_adds(&b, "\n`hpcloop help NAME` shows one as JSON; "
			     "`hpcloop help NAME --text` prints it to read.\n");
		text = buf_detach(&b, NULL);
		*data = json_pack("{s:n, s:s}", "name", "text", text);
		free(text);
		return 0;
	}
	p = registry_find(ctx->registry, name);
	if (!p) {
		err_set(err, ERR_NOT_FOUND, "no primitive '%s'", name);
		return err_remedy(err, "`hpcloop list` names the primitives");
	}
	text = docs_primitive_markdown(p);
	*data = json_pack("{s:s, s:s}", "name", name, "text", text);
	free(text);
	return 0;
}

static const enum err_code help_errors[] = { ERR_NOT_FOUND, ERR_NONE };

const struct primitive prim_help = {
	.name = "help",
	.summary = "Show the doc page of a primitive, or the overview",
	.description = "Returns the Markdown of docs/primitives/NAME.md in "
		       "`data.text`; `hpcloop help NAME` is shorthand for "
		       "`--spec '{\"name\": NAME}'`.",
	.example = "{\"name\": \"list\"}",
	.flags = PRIM_IDEMPOTENT | PRIM_READ_SAFE | PRIM_HTTP,
	.errors = help_errors,
	.handler = help_run,
};
