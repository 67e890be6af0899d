/*
 * schema_keywords_object.c: the checkers of the keywords about an
 * object's members (see schema_internal.h; the table that names them is
 * in schema_keywords.c, the counts minProperties and maxProperties are
 * there too).  A problem with a member is reported at the object and
 * names the member: "missing required property 'study'", "unknown
 * property 'stduy'" for "additionalProperties": false, so that typos are
 * named; a member's own errors are reported at the member.
 */
#include <string.h>

#include "schema_internal.h"
#include "banned.h"

/* ------------------------------------------------------------------ */
/* Members and their schemas                                           */
/* ------------------------------------------------------------------ */

int schema_check_properties(struct schema_ctx *ctx,
			    const struct schema_kw_args *a)
{
	int ok = 1;
	void *it;

	if (!json_is_object(a->inst) || !json_is_object(a->value))
		return 1;
	for (it = schema_obj_iter(a->value); it;
	     it = schema_obj_next(a->value, it)) {
		const char *key = json_object_iter_key(it);
		const json_t *sub = json_object_iter_value(it);
		const json_t *item = json_object_get(a->inst, key);

		if (!item)
			continue;
		if (json_is_false(sub)) {
			schema_emit(ctx, "properties",
				    "property '%s' is not allowed", key);
			ok = 0;
		} else if (!schema_eval_child(ctx, sub, item, key, 0,
					      a->base)) {
			ok = 0;
		}
		if (!ok && schema_stop(ctx))
			return 0;
	}
	return ok;
}

/*
 * Search the member name 'key' for the pattern 'pat' (a key of a
 * "patternProperties"): 1, 0, or -1 when 'pat' is bad.
 */
static int key_matches(struct schema_ctx *ctx, const char *pat,
		       const char *key)
{
	return schema_regex_search(&ctx->regexes, pat, strlen(pat), key,
				   strlen(key));
}

/* Whether 'key' matches one of the patterns of 'pattern_props'. */
static int matches_pattern_property(struct schema_ctx *ctx,
				    const json_t *pattern_props,
				    const char *key)
{
	void *it;

	if (!json_is_object(pattern_props))
		return 0;
	for (it = schema_obj_iter(pattern_props); it;
	     it = schema_obj_next(pattern_props, it))
		if (key_matches(ctx, json_object_iter_key(it), key) > 0)
			return 1;
	return 0;
}

int schema_check_pattern_properties(struct schema_ctx *ctx,
				    const struct schema_kw_args *a)
{
	int ok = 1;
	void *pit, *it;

	if (!json_is_object(a->inst) || !json_is_object(a->value))
		return 1;
	for (pit = schema_obj_iter(a->value); pit;
	     pit = schema_obj_next(a->value, pit)) {
		const char *pat = json_object_iter_key(pit);
		const json_t *sub = json_object_iter_value(pit);

		for (it = schema_obj_iter(a->inst); it;
		     it = schema_obj_next(a->inst, it)) {
			const char *key = json_object_iter_key(it);
			int m = key_matches(ctx, pat, key);

			if (m < 0) {
				schema_emit(ctx, "patternProperties",
					    "invalid regular expression '%s'",
					    pat);
				ok = 0;
			} else if (!m) {
				continue;
			} else if (json_is_false(sub)) {
				schema_emit(ctx, "patternProperties",
					    "property '%s' is not allowed",
					    key);
				ok = 0;
			} else if (!schema_eval_child(
					   ctx, sub, json_object_iter_value(it),
					   key, 0, a->base)) {
				ok = 0;
			}
			if (!ok && schema_stop(ctx))
				return 0;
			if (m < 0)
				break;
		}
	}
	return ok;
}

/*
 * "additionalProperties": false names each unknown member at the
 * object itself, so that a typo is reported as "unknown property".
 */
int schema_check_additional_properties(struct schema_ctx *ctx,
				       const struct schema_kw_args *a)
{
	const json_t *props = json_object_get(a->schema, "properties");
	const json_t *pats = json_object_get(a->schema, "patternProperties");
	int ok = 1;
	void *it;

	if (!json_is_object(a->inst) || json_is_true(a->value))
		return 1;
	for (it = schema_obj_iter(a->inst); it;
	     it = schema_obj_next(a->inst, it)) {
		const char *key = json_object_iter_key(it);

		if (json_is_object(props) && json_object_get(props, key))
			continue;
		if (matches_pattern_property(ctx, pats, key))
			continue;
		if (json_is_false(a->value)) {
			schema_emit(ctx, "additionalProperties",
				    "unknown property '%s'", key);
			ok = 0;
		} else if (!schema_eval_child(ctx, a->value,
					      json_object_iter_value(it), key,
					      0, a->base)) {
			ok = 0;
		}
		if (!ok && schema_stop(ctx))
			return 0;
	}
	return ok;
}

/* Each name is validated as a string; one error names the property. */
int schema_check_property_names(struct schema_ctx *ctx,
				const struct schema_kw_args *a)
{
	int ok = 1;
	void *it;

	if (!json_is_object(a->inst) || json_is_true(a->value))
		return 1;
	for (it = schema_obj_iter(a->inst); it;
	     it = schema_obj_next(a->inst, it)) {
		const char *key = json_object_iter_key(it);
		json_t *name;

		name = schema_must(json_stringn_nocheck(key, strlen(key)));
		if (!schema_eval_quiet(ctx, a->value, name, a->base)) {
			schema_emit(ctx, "propertyNames",
				    "invalid property name '%s'", key);
			ok = 0;
		}
		json_decref(name);
		if (!ok && schema_stop(ctx))
			return 0;
	}
	return ok;
}

/* ------------------------------------------------------------------ */
/* Members that must be present                                        */
/* ------------------------------------------------------------------ */

int schema_check_required(struct schema_ctx *ctx,
			  const struct schema_kw_args *a)
{
	int ok = 1;
	size_t i;

	if (!json_is_object(a->inst) || !json_is_array(a->value))
		return 1;
	for (i = 0; i < json_array_size(a->value); i++) {
		const json_t *name = json_array_get(a->value, i);

		if (!json_is_string(name) ||
		    json_object_get(a->inst, json_string_value(name)))
			continue;
		schema_emit(ctx, "required", "missing required property '%s'",
			    json_string_value(name));
		ok = 0;
		if (schema_stop(ctx))
			return 0;
	}
	return ok;
}

/*
 * The array form of a dependency: the member 'key' is present, so each
 * name in 'dep' must be too.
 */
static int check_dependency_names(struct schema_ctx *ctx,
				  const struct schema_kw_args *a,
				  const char *key, const json_t *dep)
{
	int ok = 1;
	size_t i;

	for (i = 0; i < json_array_size(dep); i++) {
		const char *need = json_string_value(json_array_get(dep, i));

		if (!need || json_object_get(a->inst, need))
			continue;
		schema_emit(ctx, "dependencies",
			    "property '%s' requires property '%s'", key, need);
		ok = 0;
		if (schema_stop(ctx))
			return 0;
	}
	return ok;
}

int schema_check_dependencies(struct schema_ctx *ctx,
			      const struct schema_kw_args *a)
{
	int ok = 1;
	void *it;

	if (!json_is_object(a->inst) || !json_is_object(a->value))
		return 1;
	for (it = schema_obj_iter(a->value); it;
	     it = schema_obj_next(a->value, it)) {
		const char *key = json_object_iter_key(it);
		const json_t *dep = json_object_iter_value(it);

		if (!json_object_get(a->inst, key))
			continue;
		if (json_is_false(dep)) {
			schema_emit(ctx, "dependencies",
				    "property '%s' is not allowed", key);
			ok = 0;
		} else if (json_is_array(dep)) {
			if (!check_dependency_names(ctx, a, key, dep))
				ok = 0;
		} else if (!schema_eval(ctx, dep, a->inst, a->base)) {
			ok = 0;
		}
		if (!ok && schema_stop(ctx))
			return 0;
	}
	return ok;
}
