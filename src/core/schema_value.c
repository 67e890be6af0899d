/*
 * schema_value.c: JSON values as JSON Schema sees them, for the
 * validator (see schema_internal.h).  JSON Schema has one number type
 * where jansson has integers and reals, so 1 and 1.0 are the same value,
 * the same "integer", and equal under "enum", "const" and "uniqueItems";
 * objects are equal whatever the order of their members.  Also here:
 * the type names and the dumps of values that messages show.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "schema_internal.h"
#include "banned.h"

/* ------------------------------------------------------------------ */
/* Types and numbers                                                   */
/* ------------------------------------------------------------------ */

const char *schema_type_name(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT:
		return "object";
	case JSON_ARRAY:
		return "array";
	case JSON_STRING:
		return "string";
	case JSON_INTEGER:
		return "integer";
	case JSON_REAL:
		return "number";
	case JSON_TRUE:
	case JSON_FALSE:
		return "boolean";
	default:
		return "null";
	}
}

/*
 * Integers compare exactly; mixed comparisons go through long double,
 * which holds every 64-bit integer and every double exactly on the
 * platforms hpcloop runs on.
 */
static long double num_ld(const json_t *v)
{
	if (json_is_integer(v))
		return (long double)json_integer_value(v);
	return (long double)json_real_value(v);
}

int schema_num_cmp(const json_t *a, const json_t *b)
{
	long double x, y;

	if (json_is_integer(a) && json_is_integer(b)) {
		json_int_t i = json_integer_value(a);
		json_int_t j = json_integer_value(b);

		return (i > j) - (i < j);
	}
	x = num_ld(a);
	y = num_ld(b);
	return (x > y) - (x < y);
}

/*
 * Written out rather than with nearbyint() so that the module needs no
 * libm.  Every double of magnitude 2^53 or more is an integer.
 */
double schema_dist_to_integer(double d)
{
	double a = d < 0 ? -d : d;
	double frac;

	if (a >= 9007199254740992.0)
		return 0;
	frac = a - (double)(long long)a;
	return frac > 0.5 ? 1 - frac : frac;
}

int schema_is_integral(const json_t *v)
{
	double d;

	if (json_is_integer(v))
		return 1;
	if (!json_is_real(v))
		return 0;
	d = json_real_value(v);
	return isfinite(d) && schema_dist_to_integer(d) == 0;
}

int schema_get_count(size_t *out, const json_t *v)
{
	double d;

	if (json_is_integer(v)) {
		if (json_integer_value(v) < 0)
			return 0;
		*out = (size_t)json_integer_value(v);
		return 1;
	}
	if (!schema_is_integral(v))
		return 0;
	d = json_real_value(v);
	if (d < 0)
		return 0;
	*out = d >= (double)SIZE_MAX ? SIZE_MAX : (size_t)d;
	return 1;
}

const char *schema_fmt_num(const json_t *v, char *buf, size_t n)
{
	double d;

	if (json_is_integer(v)) {
		snprintf(buf, n, "%" JSON_INTEGER_FORMAT,
			 json_integer_value(v));
		return buf;
	}
	d = json_real_value(v);
	snprintf(buf, n, "%.15g", d);
	if (strtod(buf, NULL) != d)
		snprintf(buf, n, "%.17g", d);
	return buf;
}

const char *schema_fmt_value(const json_t *v, char *buf, size_t n)
{
	size_t len = json_dumpb(v, buf, n - 1,
				JSON_COMPACT | JSON_ENCODE_ANY);

	if (!len || len > n - 1)
		return NULL;
	buf[len] = '\0';
	return buf;
}

/* ------------------------------------------------------------------ */
/* Equality                                                            */
/* ------------------------------------------------------------------ */

int schema_values_equal(const json_t *a, const json_t *b)
{
	size_t i, n;
	void *it;

	if (json_is_number(a) && json_is_number(b))
		return schema_num_cmp(a, b) == 0;
	if (json_typeof(a) != json_typeof(b))
		return 0;
	switch (json_typeof(a)) {
	case JSON_STRING:
		n = json_string_length(a);
		return n == json_string_length(b) &&
		       !memcmp(json_string_value(a), json_string_value(b), n);
	case JSON_ARRAY:
		n = json_array_size(a);
		if (n != json_array_size(b))
			return 0;
		for (i = 0; i < n; i++)
			if (!schema_values_equal(json_array_get(a, i),
						 json_array_get(b, i)))
				return 0;
		return 1;
	case JSON_OBJECT:
		if (json_object_size(a) != json_object_size(b))
			return 0;
		for (it = schema_obj_iter(a); it; it = schema_obj_next(a, it)) {
			const json_t *other;

			other = json_object_get(b, json_object_iter_key(it));
			if (!other ||
			    !schema_values_equal(json_object_iter_value(it),
						 other))
				return 0;
		}
		return 1;
	default:
		return 1; /* true, false, null */
	}
}
