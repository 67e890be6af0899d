/*
 * schema_value.c: JSON values as JSON Schema sees them, for the
 * validator (see schema_internal.h).  JSON Schema has one number type
 * where jansson has integers and reals, so 1 and 1.0 are the same value,
 * the same "integer", and equal under "enum", "const" and "uniqueItems";
 * objects are equal whatever the order of their members.  Sets of
 * values answer "enum" and "uniqueItems" on hostile sizes by sorting
 * canonical forms instead of comparing pairs.  Also here: the type
 * names and the dumps of values that messages show.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "schema_internal.h"
#include "xalloc.h"
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

/* A buffer of fixed size that a dump fills until it is full. */
struct fixed {
	char *buf;	/* borrowed */
	size_t len;	/* bytes written */
	size_t max;	/* bytes available */
};

/*
 * json_dump_callback()'s writer: -1 once 'data' is full, which stops
 * the dump, so that a huge value costs no more than a small one.
 */
static int fixed_add(const char *s, size_t n, void *data)
{
	struct fixed *f = data;

	if (n > f->max - f->len)
		return -1;
	memcpy(f->buf + f->len, s, n);
	f->len += n;
	return 0;
}

const char *schema_fmt_value(const json_t *v, char *buf, size_t n)
{
	struct fixed f = { buf, 0, n - 1 };

	if (json_dump_callback(v, fixed_add, &f,
			       JSON_COMPACT | JSON_ENCODE_ANY) < 0 ||
	    !f.len)
		return NULL;
	buf[f.len] = '\0';
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

/* ------------------------------------------------------------------ */
/* Canonical forms                                                     */
/* ------------------------------------------------------------------ */

/*
 * The canonical form of a value is a byte string that two values share
 * exactly when they are equal above.  Each value is a tag byte and a
 * body that says where it ends, so a form never is a prefix of another:
 *
 *	n, t, f			null, true, false
 *	i + 8 bytes		a number whose value is an integer that
 *				fits in 64 bits (1 and 1.0 alike): it
 *	r + 8 bytes		any other number: its double's bits
 *	s + length + bytes	a string (lengths and counts: 8 bytes)
 *	a + count + forms	an array, in order
 *	o + count + (length + key + form) for each member
 *				an object, its members sorted by key,
 *				so that their order is lost
 */

/* Append the 8 bytes of 'u' to 'out'. */
static void add_u64(struct buf *out, uint64_t u)
{
	unsigned char b[8];
	int i;

	for (i = 7; i >= 0; i--) {
		b[i] = (unsigned char)(u & 0xff);
		u >>= 8;
	}
	buf_add(out, b, sizeof(b));
}

/* Append the form of a number 'v'. */
static void canon_number(struct buf *out, const json_t *v)
{
	uint64_t bits;
	double d;

	if (json_is_integer(v)) {
		buf_add(out, "i", 1);
		add_u64(out, (uint64_t)json_integer_value(v));
		return;
	}
	d = json_real_value(v);
	/* [-2^63, 2^63): where a double may equal a json_int_t. */
	if (schema_is_integral(v) && d >= -9223372036854775808.0 &&
	    d < 9223372036854775808.0) {
		buf_add(out, "i", 1);
		add_u64(out, (uint64_t)(json_int_t)d);
		return;
	}
	memcpy(&bits, &d, sizeof(bits));
	buf_add(out, "r", 1);
	add_u64(out, bits);
}

/* A member of an object, for sorting by key. */
struct member {
	const char *key;	/* borrowed from the object */
	size_t len;		/* bytes in 'key' */
	const json_t *value;	/* borrowed */
};

/* qsort() order of members: by key, bytewise, a prefix first. */
static int member_cmp(const void *pa, const void *pb)
{
	const struct member *a = pa, *b = pb;
	int c = memcmp(a->key, b->key, a->len < b->len ? a->len : b->len);

	if (c)
		return c;
	return (a->len > b->len) - (a->len < b->len);
}

static void canon(struct buf *out, const json_t *v);

/* Append the form of the object 'v'. */
static void canon_object(struct buf *out, const json_t *v)
{
	size_t i, n = json_object_size(v);
	struct member *m;
	void *it;

	buf_add(out, "o", 1);
	add_u64(out, n);
	if (!n)
		return;
	m = xmalloc(n * sizeof(*m));
	for (i = 0, it = schema_obj_iter(v); it && i < n;
	     i++, it = schema_obj_next(v, it)) {
		m[i].key = json_object_iter_key(it);
		m[i].len = json_object_iter_key_len(it);
		m[i].value = json_object_iter_value(it);
	}
	qsort(m, i, sizeof(*m), member_cmp);
	n = i;
	for (i = 0; i < n; i++) {
		add_u64(out, m[i].len);
		buf_add(out, m[i].key, m[i].len);
		canon(out, m[i].value);
	}
	free(m);
}

/* Append the canonical form of 'v' to 'out'. */
static void canon(struct buf *out, const json_t *v)
{
	size_t i, n;

	switch (json_typeof(v)) {
	case JSON_NULL:
		buf_add(out, "n", 1);
		break;
	case JSON_TRUE:
		buf_add(out, "t", 1);
		break;
	case JSON_FALSE:
		buf_add(out, "f", 1);
		break;
	case JSON_INTEGER:
	case JSON_REAL:
		canon_number(out, v);
		break;
	case JSON_STRING:
		buf_add(out, "s", 1);
		add_u64(out, json_string_length(v));
		buf_add(out, json_string_value(v), json_string_length(v));
		break;
	case JSON_ARRAY:
		n = json_array_size(v);
		buf_add(out, "a", 1);
		add_u64(out, n);
		for (i = 0; i < n; i++)
			canon(out, json_array_get(v, i));
		break;
	case JSON_OBJECT:
		canon_object(out, v);
		break;
	}
}

/* ------------------------------------------------------------------ */
/* Sets of values                                                      */
/* ------------------------------------------------------------------ */

/* One element of a set: its canonical form and where it was. */
struct valset_entry {
	const char *form;	/* borrowed from the set's 'text' */
	size_t len;		/* bytes in 'form' */
	size_t index;		/* the element's index in the array */
};

struct schema_valset {
	char *text;			/* owned: the forms, end to end */
	struct valset_entry *entries;	/* owned: sorted by form, then index */
	size_t nr;			/* entries */
};

/* Order of forms: bytewise, a prefix first. */
static int form_cmp(const char *a, size_t alen, const char *b, size_t blen)
{
	int c = memcmp(a, b, alen < blen ? alen : blen);

	if (c)
		return c;
	return (alen > blen) - (alen < blen);
}

/* qsort() order of entries: by form, equal forms by index. */
static int entry_cmp(const void *pa, const void *pb)
{
	const struct valset_entry *a = pa, *b = pb;
	int c = form_cmp(a->form, a->len, b->form, b->len);

	if (c)
		return c;
	return (a->index > b->index) - (a->index < b->index);
}

struct schema_valset *schema_valset_new(const json_t *arr)
{
	struct schema_valset *set = xcalloc(1, sizeof(*set));
	struct buf text = BUF_INIT;
	size_t i, n = json_array_size(arr);
	size_t *ends;

	if (!n)
		return set;
	if (n > SIZE_MAX / sizeof(*set->entries))
		schema_oom();
	ends = xmalloc(n * sizeof(*ends));
	for (i = 0; i < n; i++) {
		canon(&text, json_array_get(arr, i));
		ends[i] = text.len;
	}
	/* The text has stopped moving: the entries may point into it. */
	set->text = buf_detach(&text, NULL);
	set->entries = xmalloc(n * sizeof(*set->entries));
	for (i = 0; i < n; i++) {
		size_t start = i ? ends[i - 1] : 0;

		set->entries[i].form = set->text + start;
		set->entries[i].len = ends[i] - start;
		set->entries[i].index = i;
	}
	set->nr = n;
	free(ends);
	qsort(set->entries, n, sizeof(*set->entries), entry_cmp);
	return set;
}

void schema_valset_free(void *p)
{
	struct schema_valset *set = p;

	if (!set)
		return;
	free(set->text);
	free(set->entries);
	free(set);
}

int schema_valset_has(const struct schema_valset *set, const json_t *v)
{
	struct buf form = BUF_INIT;
	size_t lo = 0, hi = set->nr;
	int found = 0;

	canon(&form, v);
	while (lo < hi && !found) {
		size_t mid = lo + (hi - lo) / 2;
		const struct valset_entry *e = &set->entries[mid];
		int c = form_cmp(buf_str(&form), form.len, e->form, e->len);

		if (c < 0)
			hi = mid;
		else if (c > 0)
			lo = mid + 1;
		else
			found = 1;
	}
	buf_release(&form);
	return found;
}

int schema_valset_duplicate(size_t *first_out, size_t *second_out,
			    const struct schema_valset *set)
{
	const struct valset_entry *e = set->entries;
	size_t i, first = SIZE_MAX, second = 0;

	/*
	 * Equal forms are neighbours, each run in index order: its first
	 * two entries are its first pair; keep the run that starts first.
	 */
	for (i = 0; i + 1 < set->nr; i++) {
		if (form_cmp(e[i].form, e[i].len, e[i + 1].form,
			     e[i + 1].len))
			continue;
		if (e[i].index < first) {
			first = e[i].index;
			second = e[i + 1].index;
		}
		while (i + 1 < set->nr &&
		       !form_cmp(e[i].form, e[i].len, e[i + 1].form,
				 e[i + 1].len))
			i++;
	}
	if (first == SIZE_MAX)
		return 0;
	*first_out = first;
	*second_out = second;
	return 1;
}
