/*
 * validate: check an instance against a schema given inline, or against
 * a primitive's input or output schema, so that an agent can check a
 * spec before sending it.
 */
#include <string.h>

#include "embedded.h"
#include "primitive.h"
#include "schema.h"
#include "spec.h"
#include "banned.h"

static int validate_run(struct ctx *ctx, const json_t *spec, json_t **data,
			struct err *err)
{
	const json_t *schema = json_object_get(spec, "schema");
	const char *prim = json_string_value(json_object_get(spec,
							      "primitive"));
	const char *which = json_string_value(json_object_get(spec, "which"));
	json_t *loaded = NULL, *errors;

	(void)ctx;
	if (!which)
		which = "input";
	if (prim && !strcmp(prim, "config")) {
		const struct embedded_file *f =
			embedded_find("schemas/config.json");

		loaded = f ? json_loadb((const char *)f->data, f->len, 0,
					NULL)
			   : NULL;
		if (!loaded)
			return err_set(err, ERR_INTERNAL,
				       "config schema is not embedded");
		schema = loaded;
	} else if (prim) {
		if (!registry_find(ctx->registry, prim))
			return err_set(err, ERR_NOT_FOUND,
				       "no primitive '%s'", prim);
		loaded = spec_schema(prim, which);
		if (!loaded)
			return err_set(err, ERR_INTERNAL,
				       "no %s schema for '%s'", which, prim);
		schema = loaded;
	}
	errors = schema_validate(schema, json_object_get(spec, "instance"),
				 100);
	*data = json_pack("{s:b, s:o}", "valid", json_array_size(errors) == 0,
			  "errors", errors);
	json_decref(loaded);
	return 0;
}

static const enum err_code validate_errors[] = { ERR_NOT_FOUND, ERR_NONE };

const struct primitive prim_validate = {
	.name = "validate",
	.summary = "Check a JSON instance against a schema or a primitive's "
		   "spec schema",
	.description = "Give `schema` inline, or `primitive` (and `which`: "
		       "input, the default, or output; `config` names the "
		       "config schema), and the `instance`. Answers "
		       "`valid` and the errors, each with the instance's "
		       "JSON pointer and the failing keyword. An invalid "
		       "instance is a successful call.",
	.example = "{\"primitive\": \"events\", \"instance\": "
		   "{\"since\": -1}}",
	.flags = PRIM_IDEMPOTENT | PRIM_READ_SAFE | PRIM_HTTP,
	.errors = validate_errors,
	.handler = validate_run,
};
