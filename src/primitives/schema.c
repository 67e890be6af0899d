/*
 * schema: print a primitive's input and output JSON Schemas (or the
 * config schema, or the envelope's), as embedded in the binary.
 */
#include <stdio.h>
#include <string.h>

#include "embedded.h"
#include "primitive.h"
#include "spec.h"
#include "banned.h"

static int schema_run(struct ctx *ctx, const json_t *spec, json_t **data,
		      struct err *err)
{
	const char *name = json_string_value(json_object_get(spec, "name"));
	json_t *in, *out;

	(void)ctx;
	if (!strcmp(name, "config") || !strcmp(name, "envelope")) {
		char path[64];
		const struct embedded_file *f;

		snprintf(path, sizeof(path), "schemas/%s.json", name);
		f = embedded_find(path);
		if (!f)
			return err_set(err, ERR_INTERNAL,
				       "%s schema is not embedded", name);
		*data = json_pack("{s:s, s:o}", "name", name, name,
				  json_loadb((const char *)f->data, f->len, 0,
					     NULL));
		return *data ? 0 : err_set(err, ERR_INTERNAL,
					   "embedded %s schema is bad", name);
	}
	if (!registry_find(ctx->registry, name))
		return err_set(err, ERR_NOT_FOUND, "no primitive '%s'", name);
	in = spec_schema(name, "input");
	out = spec_schema(name, "output");
	if (!in || !out) {
		json_decref(in);
		json_decref(out);
		return err_set(err, ERR_INTERNAL,
			       "schemas of '%s' are not embedded", name);
	}
	*data = json_pack("{s:s, s:o, s:o}", "name", name, "input", in,
			  "output", out);
	return 0;
}

static const enum err_code schema_errors[] = { ERR_NOT_FOUND, ERR_NONE };

const struct primitive prim_schema = {
	.name = "schema",
	.summary = "Print the input and output JSON Schemas of a primitive, "
		   "or the config or envelope schema",
	.description = "`hpcloop schema NAME` is shorthand for "
		       "`--spec '{\"name\": NAME}'`. The name `config` "
		       "gives the schema of hpcloop.yaml; `envelope` the schema "
		       "of the line every primitive prints (success with "
		       "`data` and `partial_errors`, or failure).",
	.example = "{\"name\": \"events\"}",
	.flags = PRIM_IDEMPOTENT | PRIM_READ_SAFE | PRIM_HTTP,
	.errors = schema_errors,
	.handler = schema_run,
};
