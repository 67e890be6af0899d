/*
 * schema_keywords.c: one checker per draft-07 validation keyword, and
 * the table that schema_eval() looks them up in (see schema_internal.h).
 * A checker applies its keyword to the instance and returns 1 when it
 * holds; when it does not, it records errors (unless quiet) at the
 * current location and returns 0.  A keyword that does not apply to the
 * instance's type holds.  The checkers of an object's members are in
 * schema_keywords_object.c.  "format" and the "content*" keywords are
 * annotations: they have no checker.
 */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "schema_internal.h"
#include "banned.h"

/* ------------------------------------------------------------------ */
/* Types and values                                                    */
/* ------------------------------------------------------------------ */

/* Whether 'inst' is of the schema type named 'name'. */
static int type_matches(const char *name, const json_t *inst)
{
	if (!strcmp(name, "integer"))
		return schema_is_integral(inst);
	if (!strcmp(name, "number"))
		return json_is_number(inst);
	if (!strcmp(name, "boolean"))
		return json_is_boolean(inst);
	return !strcmp(name, schema_type_name(inst));
}

/* The 'i'th type named by the "type" value 'value' (a string or array). */
static const json_t *type_at(const json_t *value, size_t i)
{
	return json_is_string(value) ? value : json_array_get(value, i);
}

static int check_type(struct schema_ctx *ctx,
		      const struct schema_kw_args *a)
{
	struct buf want = BUF_INIT;
	size_t i, n;

	if (json_is_string(a->value))
		n = 1;
	else if (json_is_array(a->value))
		n = json_array_size(a->value);
	else
		return 1;
	for (i = 0; i < n; i++) {
		const json_t *t = type_at(a->value, i);

		if (json_is_string(t) &&
		    type_matches(json_string_value(t), a->inst))
			return 1;
	}
	if (ctx->quiet)
		return 0;
	for (i = 0; i < n; i++) {
		const json_t *t = type_at(a->value, i);

		if (i)
			buf_adds(&want, i + 1 == n ? " or " : ", ");
		buf_adds(&want, json_is_string(t) ? json_string_value(t) : "?");
	}
	schema_emit(ctx, "type", "expected %s, got %s", buf_str(&want),
		    schema_type_name(a->inst));
	buf_release(&want);
	return 0;
}

/*
 * The set of the "enum" array 'value', built the first time this
 * validation meets it and kept in 'ctx'; borrowed.
 */
static const struct schema_valset *enum_set(struct schema_ctx *ctx,
					    const json_t *value)
{
	struct schema_valset *set = schema_map_get(&ctx->enums, value);

	if (!set) {
		set = schema_valset_new(value);
		schema_map_put(&ctx->enums, value, set);
	}
	return set;
}

static int check_enum(struct schema_ctx *ctx,
		      const struct schema_kw_args *a)
{
	char buf[128];
	const char *shown;

	if (!json_is_array(a->value))
		return 1;
	if (schema_valset_has(enum_set(ctx, a->value), a->inst))
		return 1;
	if (schema_stop(ctx))
		return 0;
	shown = schema_fmt_value(a->value, buf, sizeof(buf));
	if (shown)
		schema_emit(ctx, "enum", "value must be one of %s", shown);
	else
		schema_emit(ctx, "enum",
			    "value is not one of the allowed values");
	return 0;
}

static int check_const(struct schema_ctx *ctx,
		       const struct schema_kw_args *a)
{
	char buf[128];
	const char *shown;

	if (schema_values_equal(a->value, a->inst))
		return 1;
	if (schema_stop(ctx))
		return 0;
	shown = schema_fmt_value(a->value, buf, sizeof(buf));
	if (shown)
		schema_emit(ctx, "const", "value must be %s", shown);
	else
		schema_emit(ctx, "const", "value is not the allowed constant");
	return 0;
}

/* ------------------------------------------------------------------ */
/* Counts: of properties, items and characters                         */
/* ------------------------------------------------------------------ */

/* Count the Unicode code points in the 'n' UTF-8 bytes at 's'. */
static size_t count_code_points(const char *s, size_t n)
{
	size_t i, count = 0;

	for (i = 0; i < n; i++)
		if (((unsigned char)s[i] & 0xC0) != 0x80)
			count++;
	return count;
}

/*
 * The min/max counting keywords: 'keyword' bounds the count 'have' (of
 * 'what': "items", "properties" or "characters") from above when
 * 'is_max', else from below.
 */
static int check_count(struct schema_ctx *ctx,
		       const struct schema_kw_args *a, const char *keyword,
		       size_t have, int is_max, const char *what)
{
	size_t limit;

	if (!schema_get_count(&limit, a->value))
		return 1;
	if (is_max ? have <= limit : have >= limit)
		return 1;
	schema_emit(ctx, keyword, "expected at %s %zu %s, got %zu",
		    is_max ? "most" : "least", limit, what, have);
	return 0;
}

static int check_min_properties(struct schema_ctx *ctx,
				const struct schema_kw_args *a)
{
	if (!json_is_object(a->inst))
		return 1;
	return check_count(ctx, a, "minProperties",
			   json_object_size(a->inst), 0, "properties");
}

static int check_max_properties(struct schema_ctx *ctx,
				const struct schema_kw_args *a)
{
	if (!json_is_object(a->inst))
		return 1;
	return check_count(ctx, a, "maxProperties",
			   json_object_size(a->inst), 1, "properties");
}

static int check_min_items(struct schema_ctx *ctx,
			   const struct schema_kw_args *a)
{
	if (!json_is_array(a->inst))
		return 1;
	return check_count(ctx, a, "minItems", json_array_size(a->inst), 0,
			   "items");
}

static int check_max_items(struct schema_ctx *ctx,
			   const struct schema_kw_args *a)
{
	if (!json_is_array(a->inst))
		return 1;
	return check_count(ctx, a, "maxItems", json_array_size(a->inst), 1,
			   "items");
}

/* The length of the string 'inst' in code points. */
static size_t string_length(const json_t *inst)
{
	return count_code_points(json_string_value(inst),
				 json_string_length(inst));
}

static int check_min_length(struct schema_ctx *ctx,
			    const struct schema_kw_args *a)
{
	if (!json_is_string(a->inst))
		return 1;
	return check_count(ctx, a, "minLength", string_length(a->inst), 0,
			   "characters");
}

static int check_max_length(struct schema_ctx *ctx,
			    const struct schema_kw_args *a)
{
	if (!json_is_string(a->inst))
		return 1;
	return check_count(ctx, a, "maxLength", string_length(a->inst), 1,
			   "characters");
}

/* ------------------------------------------------------------------ */
/* Arrays                                                              */
/* ------------------------------------------------------------------ */

static int check_items(struct schema_ctx *ctx,
		       const struct schema_kw_args *a)
{
	size_t i, n;
	int ok = 1;

	if (!json_is_array(a->inst))
		return 1;
	n = json_array_size(a->inst);
	if (json_is_false(a->value) && n) {
		schema_emit(ctx, "items", "expected no items, got %zu", n);
		return 0;
	}
	if (json_is_array(a->value) && json_array_size(a->value) < n)
		n = json_array_size(a->value);
	for (i = 0; i < n; i++) {
		const json_t *sub = json_is_array(a->value) ?
				    json_array_get(a->value, i) : a->value;

		if (!schema_eval_child(ctx, sub, json_array_get(a->inst, i),
				       NULL, i, a->base)) {
			ok = 0;
			if (schema_stop(ctx))
				return 0;
		}
	}
	return ok;
}

static int check_additional_items(struct schema_ctx *ctx,
				  const struct schema_kw_args *a)
{
	const json_t *items = json_object_get(a->schema, "items");
	size_t i, first, n;
	int ok = 1;

	if (!json_is_array(a->inst) || !json_is_array(items))
		return 1;
	first = json_array_size(items);
	n = json_array_size(a->inst);
	if (n <= first)
		return 1;
	if (json_is_false(a->value)) {
		schema_emit(ctx, "additionalItems",
			    "expected at most %zu items, got %zu", first, n);
		return 0;
	}
	for (i = first; i < n; i++) {
		if (!schema_eval_child(ctx, a->value,
				       json_array_get(a->inst, i), NULL, i,
				       a->base)) {
			ok = 0;
			if (schema_stop(ctx))
				return 0;
		}
	}
	return ok;
}

static int check_contains(struct schema_ctx *ctx,
			  const struct schema_kw_args *a)
{
	size_t i;

	if (!json_is_array(a->inst))
		return 1;
	for (i = 0; i < json_array_size(a->inst); i++)
		if (schema_eval_quiet(ctx, a->value,
				      json_array_get(a->inst, i), a->base))
			return 1;
	schema_emit(ctx, "contains", "no item matches the 'contains' schema");
	return 0;
}

/* The first two equal items are named: "items 0 and 2 are equal". */
static int check_unique_items(struct schema_ctx *ctx,
			      const struct schema_kw_args *a)
{
	struct schema_valset *set;
	size_t i, j;
	int dup;

	if (!json_is_array(a->inst) || !json_is_true(a->value) ||
	    json_array_size(a->inst) < 2)
		return 1;
	set = schema_valset_new(a->inst);
	dup = schema_valset_duplicate(&i, &j, set);
	schema_valset_free(set);
	if (!dup)
		return 1;
	schema_emit(ctx, "uniqueItems", "items %zu and %zu are equal", i, j);
	return 0;
}

/* ------------------------------------------------------------------ */
/* Strings                                                             */
/* ------------------------------------------------------------------ */

static int check_pattern(struct schema_ctx *ctx,
			 const struct schema_kw_args *a)
{
	const char *pat = json_string_value(a->value);
	int m;

	if (!json_is_string(a->inst) || !pat)
		return 1;
	m = schema_regex_search(&ctx->regexes, pat,
				json_string_length(a->value),
				json_string_value(a->inst),
				json_string_length(a->inst));
	if (m > 0)
		return 1;
	if (m < 0)
		schema_emit(ctx, "pattern", "invalid regular expression '%s'",
			    pat);
	else
		schema_emit(ctx, "pattern",
			    "string does not match pattern '%s'", pat);
	return 0;
}

/* ------------------------------------------------------------------ */
/* Numbers                                                             */
/* ------------------------------------------------------------------ */

/*
 * The four bounds: 'keyword' holds when comparing the instance with the
 * bound gives a sign allowed by 'allow_below', 'allow_equal' and
 * 'allow_above'; 'op' is the relation named in the message.
 */
static int check_bound(struct schema_ctx *ctx,
		       const struct schema_kw_args *a, const char *keyword,
		       const char *op, int allow_below, int allow_equal,
		       int allow_above)
{
	char want[64], got[64];
	int c;

	if (!json_is_number(a->inst) || !json_is_number(a->value))
		return 1;
	c = schema_num_cmp(a->inst, a->value);
	if ((c < 0 && allow_below) || (c == 0 && allow_equal) ||
	    (c > 0 && allow_above))
		return 1;
	schema_emit(ctx, keyword, "expected a number %s %s, got %s", op,
		    schema_fmt_num(a->value, want, sizeof(want)),
		    schema_fmt_num(a->inst, got, sizeof(got)));
	return 0;
}

static int check_minimum(struct schema_ctx *ctx,
			 const struct schema_kw_args *a)
{
	return check_bound(ctx, a, "minimum", ">=", 0, 1, 1);
}

static int check_maximum(struct schema_ctx *ctx,
			 const struct schema_kw_args *a)
{
	return check_bound(ctx, a, "maximum", "<=", 1, 1, 0);
}

static int check_exclusive_minimum(struct schema_ctx *ctx,
				   const struct schema_kw_args *a)
{
	return check_bound(ctx, a, "exclusiveMinimum", ">", 0, 0, 1);
}

static int check_exclusive_maximum(struct schema_ctx *ctx,
				   const struct schema_kw_args *a)
{
	return check_bound(ctx, a, "exclusiveMaximum", "<", 1, 0, 0);
}

/*
 * Whether the number 'x' is a multiple of the positive number 'd'.
 * Integers are exact.  Otherwise the quotient is computed in floating
 * point and must be within a few units in the last place of an
 * integer: 0.0075 / 0.0001 is 74.99999999999999, not 75, because
 * neither operand is exact in binary.
 */
static int is_multiple(const json_t *x, const json_t *d)
{
	double q;

	if (json_is_integer(x) && json_is_integer(d))
		return json_integer_value(x) % json_integer_value(d) == 0;
	q = json_number_value(x) / json_number_value(d);
	if (!isfinite(q))
		return 0;
	return schema_dist_to_integer(q) <=
	       (q < 0 ? -q : q) * 8 * DBL_EPSILON;
}

static int check_multiple_of(struct schema_ctx *ctx,
			     const struct schema_kw_args *a)
{
	char want[64], got[64];

	if (!json_is_number(a->inst) || !json_is_number(a->value) ||
	    json_number_value(a->value) <= 0)
		return 1;
	if (is_multiple(a->inst, a->value))
		return 1;
	schema_emit(ctx, "multipleOf", "expected a multiple of %s, got %s",
		    schema_fmt_num(a->value, want, sizeof(want)),
		    schema_fmt_num(a->inst, got, sizeof(got)));
	return 0;
}

/* ------------------------------------------------------------------ */
/* Combinators                                                         */
/* ------------------------------------------------------------------ */

static int check_all_of(struct schema_ctx *ctx,
			const struct schema_kw_args *a)
{
	int ok = 1;
	size_t i;

	if (!json_is_array(a->value))
		return 1;
	for (i = 0; i < json_array_size(a->value); i++) {
		if (!schema_eval(ctx, json_array_get(a->value, i), a->inst,
				 a->base)) {
			ok = 0;
			if (schema_stop(ctx))
				return 0;
		}
	}
	return ok;
}

static int check_any_of(struct schema_ctx *ctx,
			const struct schema_kw_args *a)
{
	size_t i, n;

	if (!json_is_array(a->value))
		return 1;
	n = json_array_size(a->value);
	for (i = 0; i < n; i++)
		if (schema_eval_quiet(ctx, json_array_get(a->value, i),
				      a->inst, a->base))
			return 1;
	schema_emit(ctx, "anyOf",
		    "value does not match any of the %zu 'anyOf' schemas", n);
	return 0;
}

static int check_one_of(struct schema_ctx *ctx,
			const struct schema_kw_args *a)
{
	size_t i, n, first = 0, matches = 0;

	if (!json_is_array(a->value))
		return 1;
	n = json_array_size(a->value);
	for (i = 0; i < n; i++) {
		if (!schema_eval_quiet(ctx, json_array_get(a->value, i),
				       a->inst, a->base))
			continue;
		if (matches++) {
			schema_emit(ctx, "oneOf",
				    "value matches both 'oneOf' schemas %zu "
				    "and %zu, exactly one must match",
				    first, i);
			return 0;
		}
		first = i;
	}
	if (matches)
		return 1;
	schema_emit(ctx, "oneOf",
		    "value does not match any of the %zu 'oneOf' schemas", n);
	return 0;
}

static int check_not(struct schema_ctx *ctx, const struct schema_kw_args *a)
{
	if (!schema_eval_quiet(ctx, a->value, a->inst, a->base))
		return 1;
	schema_emit(ctx, "not", "value must not match the 'not' schema");
	return 0;
}

/* "then" and "else" have no checker of their own: they belong to "if". */
static int check_if(struct schema_ctx *ctx, const struct schema_kw_args *a)
{
	const json_t *branch;

	if (schema_eval_quiet(ctx, a->value, a->inst, a->base))
		branch = json_object_get(a->schema, "then");
	else
		branch = json_object_get(a->schema, "else");
	return !branch || schema_eval(ctx, branch, a->inst, a->base);
}

/* ------------------------------------------------------------------ */
/* The table                                                           */
/* ------------------------------------------------------------------ */

/* Sorted by strcmp() for bsearch(). */
static const struct schema_keyword keywords[] = {
	{ "additionalItems", check_additional_items },
	{ "additionalProperties", schema_check_additional_properties },
	{ "allOf", check_all_of },
	{ "anyOf", check_any_of },
	{ "const", check_const },
	{ "contains", check_contains },
	{ "dependencies", schema_check_dependencies },
	{ "enum", check_enum },
	{ "exclusiveMaximum", check_exclusive_maximum },
	{ "exclusiveMinimum", check_exclusive_minimum },
	{ "if", check_if },
	{ "items", check_items },
	{ "maxItems", check_max_items },
	{ "maxLength", check_max_length },
	{ "maxProperties", check_max_properties },
	{ "maximum", check_maximum },
	{ "minItems", check_min_items },
	{ "minLength", check_min_length },
	{ "minProperties", check_min_properties },
	{ "minimum", check_minimum },
	{ "multipleOf", check_multiple_of },
	{ "not", check_not },
	{ "oneOf", check_one_of },
	{ "pattern", check_pattern },
	{ "patternProperties", schema_check_pattern_properties },
	{ "properties", schema_check_properties },
	{ "propertyNames", schema_check_property_names },
	{ "required", schema_check_required },
	{ "type", check_type },
	{ "uniqueItems", check_unique_items },
};

static int keyword_cmp(const void *key, const void *elem)
{
	const struct schema_keyword *kw = elem;

	return strcmp(key, kw->name);
}

const struct schema_keyword *schema_keyword_find(const char *name)
{
	return bsearch(name, keywords, sizeof(keywords) / sizeof(*keywords),
		       sizeof(*keywords), keyword_cmp);
}
