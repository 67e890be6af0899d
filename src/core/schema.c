/*
 * schema.c: a JSON Schema draft-07 validator (see schema.h).
 *
 * Validation walks the schema and the instance together.  A context
 * carries what one call needs: the error array being filled, the JSON
 * pointer of the current instance location, compiled patterns, a map
 * from "$id" URIs to the subschemas that declare them, resolved "$ref"s
 * and the stack of "$ref"s being followed (to stop cycles).  Everything
 * the context owns is released before schema_validate() returns.
 *
 * Branches whose failure is not itself an error (anyOf, oneOf, not, if,
 * contains, propertyNames) are evaluated "quietly": no errors are
 * recorded and evaluation stops at the first failure.
 */
#include <ctype.h>
#include <float.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "embedded.h"
#include "err.h"
#include "schema.h"
#include "xalloc.h"
#include "banned.h"

/*
 * The draft-07 meta-schema, so that "$ref":
 * "http://json-schema.org/draft-07/schema#" works without a network: the
 * standard document, schemas/meta/draft-07.json, embedded in the binary.
 */
#define META_URI "http://json-schema.org/draft-07/schema"
#define META_PATH "schemas/meta/draft-07.json"

/* A growable NUL-terminated string. */
struct sbuf {
	char *buf;
	size_t len;
	size_t alloc;
};

/* A compiled "pattern" (or patternProperties key); 'code' NULL if bad. */
struct schema_regex {
	char *src;
	size_t len;
	pcre2_code *code;
	pcre2_match_data *md;
};

/*
 * A subschema named by "$id": 'uri' is the absolute URI (without an
 * empty fragment), 'parent_base' the base URI in effect around it.
 */
struct schema_id {
	char *uri;
	const json_t *node;
	char *parent_base;
};

/*
 * A "$ref" resolved once: the object 'node' holding it, seen with base
 * URI 'base', leads to 'target' (to be evaluated with 'target_base' as
 * its parent's base URI), or, when 'target' is NULL, to 'error'.
 */
struct schema_ref {
	const json_t *node;
	char *base;
	const json_t *target;
	char *target_base;
	char *error;
};

/* One "$ref" being followed: its target applied to 'instance'. */
struct schema_frame {
	const json_t *target;
	const json_t *instance;
};

struct schema_ctx {
	json_t *errors;		/* owned; handed to the caller at the end */
	size_t max_errors;
	int quiet;		/* > 0: record nothing, stop at first failure */
	int full;		/* max_errors reached: stop everything */
	struct sbuf path;	/* JSON pointer of the current location */

	struct schema_regex *regexes;
	size_t nr_regexes, alloc_regexes;
	struct schema_id *ids;
	size_t nr_ids, alloc_ids;
	struct schema_ref *refs;
	size_t nr_refs, alloc_refs;
	struct schema_frame frames[SCHEMA_MAX_REF_DEPTH];
	size_t nr_frames;
	json_t *meta;		/* owned; the meta-schema once it is needed */
};

/* Arguments handed to every keyword checker. */
struct kw_args {
	const json_t *schema;	/* the schema object holding the keyword */
	const json_t *value;	/* the keyword's value */
	const json_t *inst;	/* the instance being validated */
	const char *base;	/* base URI in effect in 'schema' */
};

static int eval(struct schema_ctx *ctx, const json_t *schema,
		const json_t *inst, const char *parent_base);

/*
 * Out of memory inside jansson.  xmalloc() never returns NULL: an
 * impossible request funnels into xalloc's out-of-memory handler, which
 * does not return.
 */
static void oom(void)
{
	free(xmalloc(SIZE_MAX));
	abort();
}

/* Returns 'v' unchanged, treating a NULL from a jansson constructor as OOM. */
static json_t *must(json_t *v)
{
	if (!v)
		oom();
	return v;
}

/* Treats a failing (-1) jansson setter as OOM. */
static void must_ok(int rc)
{
	if (rc)
		oom();
}

/*
 * Makes room in the array '*p' of '*alloc' elements of 'size' bytes
 * for one more after 'nr'; returns the (possibly moved) array.
 */
static void *grow(void *p, size_t nr, size_t *alloc, size_t size)
{
	if (nr < *alloc)
		return p;
	if (*alloc > SIZE_MAX / 2 / size)
		oom();
	*alloc = *alloc ? *alloc * 2 : 8;
	return xrealloc(p, *alloc * size);
}

static void sb_init(struct sbuf *sb)
{
	sb->alloc = 64;
	sb->len = 0;
	sb->buf = xmalloc(sb->alloc);
	sb->buf[0] = '\0';
}

/* Makes room for 'extra' more bytes (and the NUL) in 'sb'. */
static void sb_grow(struct sbuf *sb, size_t extra)
{
	size_t want;

	if (extra > SIZE_MAX / 2 - sb->len)
		oom();
	want = sb->len + extra + 1;
	if (want <= sb->alloc)
		return;
	sb->alloc = sb->alloc * 2 > want ? sb->alloc * 2 : want;
	sb->buf = xrealloc(sb->buf, sb->alloc);
}

static void sb_addn(struct sbuf *sb, const char *s, size_t n)
{
	sb_grow(sb, n);
	memcpy(sb->buf + sb->len, s, n);
	sb->len += n;
	sb->buf[sb->len] = '\0';
}

static void sb_adds(struct sbuf *sb, const char *s)
{
	sb_addn(sb, s, strlen(s));
}

static void sb_addch(struct sbuf *sb, char c)
{
	sb_addn(sb, &c, 1);
}

/* Appends the printf-style 'fmt' formatted with 'ap' to 'sb'. */
static void sb_vaddf(struct sbuf *sb, const char *fmt, va_list ap)
{
	va_list cp;
	int n;

	va_copy(cp, ap);
	n = vsnprintf(sb->buf + sb->len, sb->alloc - sb->len, fmt, cp);
	va_end(cp);
	if (n < 0)
		return;
	if ((size_t)n >= sb->alloc - sb->len) {
		sb_grow(sb, (size_t)n);
		n = vsnprintf(sb->buf + sb->len, sb->alloc - sb->len, fmt, ap);
		if (n < 0) {
			sb->buf[sb->len] = '\0';
			return;
		}
	}
	sb->len += (size_t)n;
}

__attribute__((format(printf, 2, 3)))
static void sb_addf(struct sbuf *sb, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	sb_vaddf(sb, fmt, ap);
	va_end(ap);
}

static void sb_setlen(struct sbuf *sb, size_t len)
{
	sb->len = len;
	sb->buf[len] = '\0';
}

/* Returns the string of 'sb' (now owned by the caller); 'sb' is spent. */
static char *sb_detach(struct sbuf *sb)
{
	char *s = sb->buf;

	sb->buf = NULL;
	sb->len = sb->alloc = 0;
	return s;
}

static void sb_release(struct sbuf *sb)
{
	free(sb->buf);
	sb->buf = NULL;
	sb->len = sb->alloc = 0;
}

/*
 * Returns a NEW json string holding the 'n' bytes at 's'.  Bytes that
 * are not valid UTF-8 (only possible for keys built without jansson's
 * checks) are replaced by '?' so that the error stays valid JSON.
 */
static json_t *new_string(const char *s, size_t n)
{
	json_t *v = json_stringn(s, n);
	char *copy;
	size_t i;

	if (v)
		return v;
	copy = xmalloc(n + 1);
	for (i = 0; i < n; i++)
		copy[i] = (unsigned char)s[i] < 0x80 && s[i] ? s[i] : '?';
	copy[n] = '\0';
	v = must(json_stringn(copy, n));
	free(copy);
	return v;
}

/* Iterate over a const object (jansson's iterator API is not const). */
static void *obj_iter(const json_t *obj)
{
	return json_object_iter((json_t *)obj);
}

static void *obj_next(const json_t *obj, void *it)
{
	return json_object_iter_next((json_t *)obj, it);
}

/* Stop evaluating: failures are not being collected, or enough are. */
static int stop(const struct schema_ctx *ctx)
{
	return ctx->quiet || ctx->full;
}

/*
 * Records an error at the current location of 'ctx' for 'keyword', the
 * message being the printf-style 'fmt'.  Does nothing while quiet.
 */
__attribute__((format(printf, 3, 4)))
static void emit(struct schema_ctx *ctx, const char *keyword,
		 const char *fmt, ...)
{
	struct sbuf msg;
	json_t *err;
	va_list ap;

	if (ctx->quiet || ctx->full)
		return;
	sb_init(&msg);
	va_start(ap, fmt);
	sb_vaddf(&msg, fmt, ap);
	va_end(ap);

	err = must(json_object());
	must_ok(json_object_set_new(err, "path",
				    new_string(ctx->path.buf,
					       ctx->path.len)));
	must_ok(json_object_set_new(err, "keyword",
				    new_string(keyword, strlen(keyword))));
	must_ok(json_object_set_new(err, "message",
				    new_string(msg.buf, msg.len)));
	must_ok(json_array_append_new(ctx->errors, err));
	sb_release(&msg);

	if (ctx->max_errors && json_array_size(ctx->errors) >= ctx->max_errors)
		ctx->full = 1;
}

/*
 * Appends "/" and the RFC 6901 escape of 'key' to the current location;
 * returns the previous length, to be given to path_pop().
 */
static size_t path_push_key(struct schema_ctx *ctx, const char *key)
{
	size_t old = ctx->path.len;

	if (ctx->quiet)
		return old;
	sb_addch(&ctx->path, '/');
	for (; *key; key++) {
		if (*key == '~')
			sb_adds(&ctx->path, "~0");
		else if (*key == '/')
			sb_adds(&ctx->path, "~1");
		else
			sb_addch(&ctx->path, *key);
	}
	return old;
}

/* Like path_push_key() for the array index 'i'. */
static size_t path_push_index(struct schema_ctx *ctx, size_t i)
{
	size_t old = ctx->path.len;

	if (!ctx->quiet)
		sb_addf(&ctx->path, "/%zu", i);
	return old;
}

static void path_pop(struct schema_ctx *ctx, size_t old)
{
	if (old <= ctx->path.len)
		sb_setlen(&ctx->path, old);
}

/*
 * Numbers.  JSON Schema has one number type; jansson has integers and
 * reals.  Integers compare exactly; mixed comparisons go through long
 * double, which holds every 64-bit integer and every double exactly on
 * the platforms hpcloop runs on.
 */
static long double num_ld(const json_t *v)
{
	if (json_is_integer(v))
		return (long double)json_integer_value(v);
	return (long double)json_real_value(v);
}

/* Returns <0, 0 or >0 as number 'a' is below, equal to or above 'b'. */
static int num_cmp(const json_t *a, const json_t *b)
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
 * Distance from the finite 'd' to the nearest integer.  (Written out
 * rather than with nearbyint() so that the module needs no libm.)
 * Every double of magnitude 2^53 or more is an integer.
 */
static double dist_to_integer(double d)
{
	double a = d < 0 ? -d : d;
	double frac;

	if (a >= 9007199254740992.0)
		return 0;
	frac = a - (double)(long long)a;
	return frac > 0.5 ? 1 - frac : frac;
}

/* Whether 'v' is a number with no fractional part (1 and 1.0 both are). */
static int is_integral(const json_t *v)
{
	double d;

	if (json_is_integer(v))
		return 1;
	if (!json_is_real(v))
		return 0;
	d = json_real_value(v);
	return isfinite(d) && dist_to_integer(d) == 0;
}

/*
 * Reads a keyword value that must be a non-negative integer (2 or 2.0)
 * into '*out'; returns 0 (and the keyword is ignored) when it is not.
 */
static int get_count(const json_t *v, size_t *out)
{
	double d;

	if (json_is_integer(v)) {
		if (json_integer_value(v) < 0)
			return 0;
		*out = (size_t)json_integer_value(v);
		return 1;
	}
	if (!is_integral(v))
		return 0;
	d = json_real_value(v);
	if (d < 0)
		return 0;
	*out = d >= (double)SIZE_MAX ? SIZE_MAX : (size_t)d;
	return 1;
}

/* Formats the number 'v' for a message into 'buf' of 'n' bytes. */
static const char *fmt_num(const json_t *v, char *buf, size_t n)
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

/*
 * JSON Schema equality of 'a' and 'b' (for enum, const, uniqueItems):
 * numbers by value, so 1 equals 1.0; arrays and objects deeply.
 */
static int values_equal(const json_t *a, const json_t *b)
{
	size_t i, n;
	void *it;

	if (json_is_number(a) && json_is_number(b))
		return num_cmp(a, b) == 0;
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
			if (!values_equal(json_array_get(a, i),
					  json_array_get(b, i)))
				return 0;
		return 1;
	case JSON_OBJECT:
		if (json_object_size(a) != json_object_size(b))
			return 0;
		for (it = obj_iter(a); it; it = obj_next(a, it)) {
			const json_t *other;

			other = json_object_get(b, json_object_iter_key(it));
			if (!other ||
			    !values_equal(json_object_iter_value(it), other))
				return 0;
		}
		return 1;
	default:
		return 1; /* true, false, null */
	}
}

/*
 * Writes a compact dump of 'v' (e.g. an enum) into 'buf' of 'n' bytes;
 * returns NULL when it does not fit, so the message leaves it out.
 */
static const char *fmt_value(const json_t *v, char *buf, size_t n)
{
	size_t len = json_dumpb(v, buf, n - 1,
				JSON_COMPACT | JSON_ENCODE_ANY);

	if (!len || len > n - 1)
		return NULL;
	buf[len] = '\0';
	return buf;
}

/* Counts the Unicode code points in the 'n' UTF-8 bytes at 's'. */
static size_t count_code_points(const char *s, size_t n)
{
	size_t i, count = 0;

	for (i = 0; i < n; i++)
		if (((unsigned char)s[i] & 0xC0) != 0x80)
			count++;
	return count;
}

/*
 * Searches the 'len' bytes of 'subject' for the ECMA-262-style regular
 * expression 'pat' ('patlen' bytes), compiling it once per validation.
 * Returns 1 on a match, 0 on none and -1 when 'pat' does not compile.
 */
static int regex_search(struct schema_ctx *ctx, const char *pat,
			size_t patlen, const char *subject, size_t len)
{
	struct schema_regex *re = NULL;
	size_t i;
	int rc;

	for (i = 0; i < ctx->nr_regexes; i++) {
		if (ctx->regexes[i].len == patlen &&
		    !memcmp(ctx->regexes[i].src, pat, patlen)) {
			re = &ctx->regexes[i];
			break;
		}
	}
	if (!re) {
		int errcode;
		PCRE2_SIZE erroff;

		ctx->regexes = grow(ctx->regexes, ctx->nr_regexes,
				    &ctx->alloc_regexes, sizeof(*re));
		re = &ctx->regexes[ctx->nr_regexes++];
		re->src = xmalloc(patlen + 1);
		memcpy(re->src, pat, patlen);
		re->src[patlen] = '\0';
		re->len = patlen;
		/*
		 * ECMA-262 semantics as far as PCRE2 goes: '$' only at the
		 * very end, \uXXXX escapes, Unicode-aware classes.
		 */
		re->code = pcre2_compile((PCRE2_SPTR)pat, patlen,
					 PCRE2_UTF | PCRE2_UCP |
					 PCRE2_DOLLAR_ENDONLY |
					 PCRE2_ALT_BSUX,
					 &errcode, &erroff, NULL);
		re->md = NULL;
		if (re->code) {
			re->md = pcre2_match_data_create_from_pattern(re->code,
								      NULL);
			if (!re->md)
				oom();
		}
	}
	if (!re->code)
		return -1;
	rc = pcre2_match(re->code, (PCRE2_SPTR)subject, len, 0, 0, re->md,
			 NULL);
	return rc >= 0;
}

/*
 * URIs, just enough of RFC 3986 to resolve "$id" and "$ref" against a
 * base URI.  A part is a span of the parsed string; 'set' tells an
 * empty part from a missing one.
 */
struct uri_part {
	const char *p;
	size_t n;
	int set;
};

struct uri {
	struct uri_part scheme, auth, path, query, frag;
};

static void uri_part_set(struct uri_part *part, const char *p, size_t n)
{
	part->p = p;
	part->n = n;
	part->set = 1;
}

/* Splits the URI reference 's' into the parts of 'u' (RFC 3986 B). */
static void uri_parse(const char *s, struct uri *u)
{
	const char *q;

	memset(u, 0, sizeof(*u));
	if (isalpha((unsigned char)*s)) {
		q = s + 1;
		while (isalnum((unsigned char)*q) || *q == '+' || *q == '-' ||
		       *q == '.')
			q++;
		if (*q == ':') {
			uri_part_set(&u->scheme, s, (size_t)(q - s));
			s = q + 1;
		}
	}
	if (s[0] == '/' && s[1] == '/') {
		s += 2;
		q = s + strcspn(s, "/?#");
		uri_part_set(&u->auth, s, (size_t)(q - s));
		s = q;
	}
	q = s + strcspn(s, "?#");
	uri_part_set(&u->path, s, (size_t)(q - s));
	s = q;
	if (*s == '?') {
		s++;
		q = s + strcspn(s, "#");
		uri_part_set(&u->query, s, (size_t)(q - s));
		s = q;
	}
	if (*s == '#') {
		s++;
		uri_part_set(&u->frag, s, strlen(s));
	}
}

/* Drops the last segment (and the '/' before it) from 'out'. */
static void drop_last_segment(struct sbuf *out)
{
	char *slash = memrchr(out->buf, '/', out->len);

	sb_setlen(out, slash ? (size_t)(slash - out->buf) : 0);
}

/*
 * Appends the path 'src' ('n' bytes) to 'out' with "." and ".."
 * segments removed (RFC 3986 5.2.4).
 */
static void remove_dots(const char *src, size_t n, struct sbuf *out)
{
	char *in = xmalloc(n + 1);
	size_t i = 0;

	memcpy(in, src, n);
	in[n] = '\0';
	while (i < n) {
		const char *s = in + i;
		size_t left = n - i;

		if (left >= 3 && !memcmp(s, "../", 3)) {
			i += 3;
		} else if (left >= 2 && !memcmp(s, "./", 2)) {
			i += 2;
		} else if (left >= 3 && !memcmp(s, "/./", 3)) {
			i += 2;
		} else if (left == 2 && !memcmp(s, "/.", 2)) {
			i += 1;
			in[i] = '/';
		} else if (left >= 4 && !memcmp(s, "/../", 4)) {
			i += 3;
			drop_last_segment(out);
		} else if (left == 3 && !memcmp(s, "/..", 3)) {
			i += 2;
			in[i] = '/';
			drop_last_segment(out);
		} else if ((left == 1 && s[0] == '.') ||
			   (left == 2 && !memcmp(s, "..", 2))) {
			i = n;
		} else {
			size_t j = s[0] == '/' ? 1 : 0;

			while (j < left && s[j] != '/')
				j++;
			sb_addn(out, s, j);
			i += j;
		}
	}
	free(in);
}

/*
 * Returns a NEW (malloc'd) string: the URI reference 'ref' resolved
 * against the base URI 'base' (RFC 3986 5.2.2).  A relative 'base'
 * (such as "" for a schema without "$id") gives a relative result.
 */
static char *uri_resolve(const char *ref, const char *base)
{
	struct uri r, b;
	const struct uri_part *scheme, *auth, *query;
	struct sbuf path, out;

	uri_parse(ref, &r);
	uri_parse(base, &b);
	sb_init(&path);
	if (r.scheme.set) {
		scheme = &r.scheme;
		auth = &r.auth;
		query = &r.query;
		remove_dots(r.path.p, r.path.n, &path);
	} else if (r.auth.set) {
		scheme = &b.scheme;
		auth = &r.auth;
		query = &r.query;
		remove_dots(r.path.p, r.path.n, &path);
	} else if (!r.path.n) {
		scheme = &b.scheme;
		auth = &b.auth;
		query = r.query.set ? &r.query : &b.query;
		sb_addn(&path, b.path.p, b.path.n);
	} else {
		struct sbuf merged;

		scheme = &b.scheme;
		auth = &b.auth;
		query = &r.query;
		sb_init(&merged);
		if (r.path.p[0] != '/') {
			const char *slash = memrchr(b.path.p, '/', b.path.n);

			if (b.auth.set && !b.path.n)
				sb_addch(&merged, '/');
			else if (slash)
				sb_addn(&merged, b.path.p,
					(size_t)(slash - b.path.p) + 1);
		}
		sb_addn(&merged, r.path.p, r.path.n);
		remove_dots(merged.buf, merged.len, &path);
		sb_release(&merged);
	}

	sb_init(&out);
	if (scheme->set) {
		sb_addn(&out, scheme->p, scheme->n);
		sb_addch(&out, ':');
	}
	if (auth->set) {
		sb_adds(&out, "//");
		sb_addn(&out, auth->p, auth->n);
	}
	sb_addn(&out, path.buf, path.len);
	if (query->set) {
		sb_addch(&out, '?');
		sb_addn(&out, query->p, query->n);
	}
	if (r.frag.set) {
		sb_addch(&out, '#');
		sb_addn(&out, r.frag.p, r.frag.n);
	}
	sb_release(&path);
	return sb_detach(&out);
}

/* Removes an empty fragment ("x#" names the same document as "x"). */
static void strip_empty_fragment(char *uri)
{
	size_t n = strlen(uri);

	if (n && uri[n - 1] == '#')
		uri[n - 1] = '\0';
}

/*
 * Returns a NEW string: the base URI in effect inside 'schema' when the
 * base around it is 'parent_base', i.e. with its "$id" applied.  An
 * "$id" next to "$ref" is ignored, like every sibling of "$ref".
 */
static char *own_base(const json_t *schema, const char *parent_base)
{
	const json_t *id;

	if (!json_is_object(schema) ||
	    json_is_string(json_object_get(schema, "$ref")))
		return xstrdup(parent_base);
	id = json_object_get(schema, "$id");
	if (!json_is_string(id))
		return xstrdup(parent_base);
	return uri_resolve(json_string_value(id), parent_base);
}

/* Records that 'uri' (taken over) names 'node', around which the base is
 * 'parent_base'. */
static void add_id(struct schema_ctx *ctx, char *uri, const json_t *node,
		   const char *parent_base)
{
	struct schema_id *id;

	ctx->ids = grow(ctx->ids, ctx->nr_ids, &ctx->alloc_ids,
			sizeof(*ctx->ids));
	id = &ctx->ids[ctx->nr_ids++];
	id->uri = uri;
	id->node = node;
	id->parent_base = xstrdup(parent_base);
}

static void collect_ids(struct schema_ctx *ctx, const json_t *schema,
			const char *parent_base);

/* collect_ids() over every element of the array 'arr'. */
static void collect_ids_array(struct schema_ctx *ctx, const json_t *arr,
			      const char *base)
{
	size_t i;

	for (i = 0; i < json_array_size(arr); i++)
		collect_ids(ctx, json_array_get(arr, i), base);
}

/* collect_ids() over every member value of the object 'obj'. */
static void collect_ids_members(struct schema_ctx *ctx, const json_t *obj,
				const char *base)
{
	void *it;

	if (!json_is_object(obj))
		return;
	for (it = obj_iter(obj); it; it = obj_next(obj, it))
		collect_ids(ctx, json_object_iter_value(it), base);
}

/*
 * Walks 'schema' (around which the base URI is 'parent_base') through
 * the keywords whose values are subschemas and records every "$id" in
 * the map of 'ctx', so that "$ref"s can find them.
 */
static void collect_ids(struct schema_ctx *ctx, const json_t *schema,
			const char *parent_base)
{
	static const char *const single[] = {
		"additionalItems", "additionalProperties", "contains",
		"propertyNames", "not", "if", "then", "else", "items",
	};
	static const char *const arrays[] = {
		"allOf", "anyOf", "oneOf", "items",
	};
	static const char *const maps[] = {
		"properties", "patternProperties", "definitions",
		"dependencies",
	};
	char *base;
	size_t i;

	if (!json_is_object(schema))
		return;
	base = own_base(schema, parent_base);
	if (strcmp(base, parent_base)) {
		char *uri = xstrdup(base);

		strip_empty_fragment(uri);
		add_id(ctx, uri, schema, parent_base);
	}
	for (i = 0; i < sizeof(single) / sizeof(*single); i++)
		collect_ids(ctx, json_object_get(schema, single[i]), base);
	for (i = 0; i < sizeof(arrays) / sizeof(*arrays); i++)
		collect_ids_array(ctx, json_object_get(schema, arrays[i]),
				  base);
	for (i = 0; i < sizeof(maps) / sizeof(*maps); i++)
		collect_ids_members(ctx, json_object_get(schema, maps[i]),
				    base);
	free(base);
}

/* Returns the (borrowed) "$id" entry of 'ctx' named 'uri', or NULL. */
static const struct schema_id *find_id(const struct schema_ctx *ctx,
				       const char *uri)
{
	size_t i;

	for (i = 0; i < ctx->nr_ids; i++)
		if (!strcmp(ctx->ids[i].uri, uri))
			return &ctx->ids[i];
	return NULL;
}

/*
 * Loads the embedded meta-schema into 'ctx' (once) and maps its ids.
 * The file is part of the build, so its absence is a bug.
 */
static void load_meta_schema(struct schema_ctx *ctx)
{
	const struct embedded_file *f;
	json_error_t jerr;

	if (ctx->meta)
		return;
	f = embedded_find(META_PATH);
	if (!f)
		BUG("%s is not embedded", META_PATH);
	ctx->meta = json_loadb((const char *)f->data, f->len, 0, &jerr);
	if (!ctx->meta)
		BUG("%s: %s", META_PATH, jerr.text);
	collect_ids(ctx, ctx->meta, "");
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * Follows the JSON pointer 'frag' (a URI fragment, so %-escaped) from
 * 'doc', around which the base URI is 'doc_base'.  Returns the
 * (borrowed) value it names, or NULL, and in '*target_base' a NEW
 * string: the base URI around that value.
 */
static const json_t *follow_pointer(const json_t *doc, const char *doc_base,
				    const char *frag, char **target_base)
{
	struct sbuf ptr, tok;
	const json_t *cur = doc;
	char *base = xstrdup(doc_base);
	size_t i;

	sb_init(&ptr);
	for (i = 0; frag[i]; i++) {
		int hi, lo;

		if (frag[i] == '%') {
			hi = hexval(frag[i + 1]);
			lo = hi < 0 ? -1 : hexval(frag[i + 2]);
			if (hi >= 0 && lo >= 0) {
				sb_addch(&ptr, (char)(hi * 16 + lo));
				i += 2;
				continue;
			}
		}
		sb_addch(&ptr, frag[i]);
	}

	sb_init(&tok);
	i = 0;
	while (cur && i < ptr.len && ptr.buf[i] == '/') {
		char *next;

		sb_setlen(&tok, 0);
		for (i++; i < ptr.len && ptr.buf[i] != '/'; i++) {
			if (ptr.buf[i] == '~' && ptr.buf[i + 1] == '0') {
				sb_addch(&tok, '~');
				i++;
			} else if (ptr.buf[i] == '~' && ptr.buf[i + 1] == '1') {
				sb_addch(&tok, '/');
				i++;
			} else {
				sb_addch(&tok, ptr.buf[i]);
			}
		}
		next = own_base(cur, base);
		free(base);
		base = next;
		if (json_is_object(cur)) {
			cur = json_object_get(cur, tok.buf);
		} else if (json_is_array(cur)) {
			char *end;
			unsigned long long idx;

			if (!tok.len || !isdigit((unsigned char)tok.buf[0]) ||
			    (tok.buf[0] == '0' && tok.len > 1)) {
				cur = NULL;
				break;
			}
			idx = strtoull(tok.buf, &end, 10);
			cur = *end ? NULL : json_array_get(cur, (size_t)idx);
		} else {
			cur = NULL;
		}
	}
	if (i < ptr.len)
		cur = NULL;
	sb_release(&tok);
	sb_release(&ptr);
	if (!cur) {
		free(base);
		base = NULL;
	}
	*target_base = base;
	return cur;
}

/*
 * Resolves the "$ref" value 'ref' of the schema object 'node', whose
 * base URI is 'base'.  Returns the (borrowed) cache entry of 'ctx';
 * the pointer is only good until the next call.
 */
static const struct schema_ref *resolve_ref(struct schema_ctx *ctx,
					    const json_t *node,
					    const char *ref, const char *base)
{
	const struct schema_id *doc;
	struct schema_ref *r;
	char *uri, *hash;
	size_t i;

	for (i = 0; i < ctx->nr_refs; i++)
		if (ctx->refs[i].node == node &&
		    !strcmp(ctx->refs[i].base, base))
			return &ctx->refs[i];

	ctx->refs = grow(ctx->refs, ctx->nr_refs, &ctx->alloc_refs,
			 sizeof(*ctx->refs));
	r = &ctx->refs[ctx->nr_refs++];
	r->node = node;
	r->base = xstrdup(base);
	r->target = NULL;
	r->target_base = NULL;
	r->error = NULL;

	uri = uri_resolve(ref, base);
	strip_empty_fragment(uri);
	doc = find_id(ctx, uri);
	if (doc) {
		r->target = doc->node;
		r->target_base = xstrdup(doc->parent_base);
		free(uri);
		return r;
	}

	hash = strchr(uri, '#');
	if (hash)
		*hash = '\0';
	doc = find_id(ctx, uri);
	if (!doc && !strcmp(uri, META_URI)) {
		load_meta_schema(ctx);
		doc = find_id(ctx, uri);
	}
	if (hash)
		*hash = '#';
	if (!doc) {
		struct sbuf msg;

		sb_init(&msg);
		sb_addf(&msg, "cannot resolve '%s': remote references "
			"are not fetched", ref);
		r->error = sb_detach(&msg);
	} else if (!hash || !hash[1]) {
		r->target = doc->node;
		r->target_base = xstrdup(doc->parent_base);
	} else if (hash[1] == '/') {
		r->target = follow_pointer(doc->node, doc->parent_base,
					   hash + 1, &r->target_base);
	}
	if (!r->target && !r->error) {
		struct sbuf msg;

		sb_init(&msg);
		sb_addf(&msg, "cannot resolve '%s'", ref);
		r->error = sb_detach(&msg);
	}
	free(uri);
	return r;
}

/*
 * Applies the "$ref" value 'ref' of 'schema' (base URI 'base') to
 * 'inst'; returns 1 when valid.  The keywords next to it are ignored.
 */
static int eval_ref(struct schema_ctx *ctx, const json_t *schema,
		    const json_t *ref, const json_t *inst, const char *base)
{
	const struct schema_ref *r;
	const json_t *target;
	const char *target_base;
	size_t i;
	int ok;

	r = resolve_ref(ctx, schema, json_string_value(ref), base);
	if (!r->target) {
		emit(ctx, "$ref", "%s", r->error);
		return 0;
	}
	target = r->target;
	target_base = r->target_base;
	for (i = 0; i < ctx->nr_frames; i++) {
		if (ctx->frames[i].target == target &&
		    ctx->frames[i].instance == inst) {
			emit(ctx, "$ref", "infinite recursion: '%s' leads "
			     "back to itself", json_string_value(ref));
			return 0;
		}
	}
	if (ctx->nr_frames >= SCHEMA_MAX_REF_DEPTH) {
		emit(ctx, "$ref", "'%s' nested more than %d levels deep",
		     json_string_value(ref), SCHEMA_MAX_REF_DEPTH);
		return 0;
	}
	ctx->frames[ctx->nr_frames].target = target;
	ctx->frames[ctx->nr_frames].instance = inst;
	ctx->nr_frames++;
	ok = eval(ctx, target, inst, target_base);
	ctx->nr_frames--;
	return ok;
}

/*
 * Applies 'schema' to the element 'item' of the current location,
 * reached by the member 'key' (when not NULL) or the index 'idx'.
 */
static int eval_child(struct schema_ctx *ctx, const json_t *schema,
		      const json_t *item, const char *key, size_t idx,
		      const char *base)
{
	size_t old = key ? path_push_key(ctx, key) :
			   path_push_index(ctx, idx);
	int ok = eval(ctx, schema, item, base);

	path_pop(ctx, old);
	return ok;
}

/* Applies 'schema' to 'inst' without recording errors; 1 when valid. */
static int eval_quiet(struct schema_ctx *ctx, const json_t *schema,
		      const json_t *inst, const char *base)
{
	int ok;

	ctx->quiet++;
	ok = eval(ctx, schema, inst, base);
	ctx->quiet--;
	return ok;
}

/* The name of the JSON type of 'v' for messages. */
static const char *type_name(const json_t *v)
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

/* Whether 'inst' is of the schema type named 'name'. */
static int type_matches(const char *name, const json_t *inst)
{
	if (!strcmp(name, "integer"))
		return is_integral(inst);
	if (!strcmp(name, "number"))
		return json_is_number(inst);
	if (!strcmp(name, "boolean"))
		return json_is_boolean(inst);
	return !strcmp(name, type_name(inst));
}

/*
 * The keyword checkers.  Each applies the keyword 'a->value' of the
 * schema 'a->schema' to the instance 'a->inst' and returns 1 when it
 * holds, recording errors (unless quiet) when it does not.  Keywords
 * that do not apply to the instance's type hold.
 */
static int check_type(struct schema_ctx *ctx, const struct kw_args *a)
{
	struct sbuf want;
	size_t i, n;

	if (json_is_string(a->value))
		n = 1;
	else if (json_is_array(a->value))
		n = json_array_size(a->value);
	else
		return 1;
	for (i = 0; i < n; i++) {
		const json_t *t = json_is_string(a->value) ? a->value :
				  json_array_get(a->value, i);

		if (json_is_string(t) &&
		    type_matches(json_string_value(t), a->inst))
			return 1;
	}
	if (ctx->quiet)
		return 0;
	sb_init(&want);
	for (i = 0; i < n; i++) {
		const json_t *t = json_is_string(a->value) ? a->value :
				  json_array_get(a->value, i);

		if (i)
			sb_adds(&want, i + 1 == n ? " or " : ", ");
		sb_adds(&want, json_is_string(t) ? json_string_value(t) : "?");
	}
	emit(ctx, "type", "expected %s, got %s", want.buf,
	     type_name(a->inst));
	sb_release(&want);
	return 0;
}

static int check_enum(struct schema_ctx *ctx, const struct kw_args *a)
{
	char buf[128];
	const char *shown;
	size_t i;

	if (!json_is_array(a->value))
		return 1;
	for (i = 0; i < json_array_size(a->value); i++)
		if (values_equal(json_array_get(a->value, i), a->inst))
			return 1;
	shown = fmt_value(a->value, buf, sizeof(buf));
	if (shown)
		emit(ctx, "enum", "value must be one of %s", shown);
	else
		emit(ctx, "enum", "value is not one of the allowed values");
	return 0;
}

static int check_const(struct schema_ctx *ctx, const struct kw_args *a)
{
	char buf[128];
	const char *shown;

	if (values_equal(a->value, a->inst))
		return 1;
	shown = fmt_value(a->value, buf, sizeof(buf));
	if (shown)
		emit(ctx, "const", "value must be %s", shown);
	else
		emit(ctx, "const", "value is not the allowed constant");
	return 0;
}

static int check_properties(struct schema_ctx *ctx, const struct kw_args *a)
{
	int ok = 1;
	void *it;

	if (!json_is_object(a->inst) || !json_is_object(a->value))
		return 1;
	for (it = obj_iter(a->value); it; it = obj_next(a->value, it)) {
		const char *key = json_object_iter_key(it);
		const json_t *sub = json_object_iter_value(it);
		const json_t *item = json_object_get(a->inst, key);

		if (!item)
			continue;
		if (json_is_false(sub)) {
			emit(ctx, "properties", "property '%s' is not allowed",
			     key);
			ok = 0;
		} else if (!eval_child(ctx, sub, item, key, 0, a->base)) {
			ok = 0;
		}
		if (!ok && stop(ctx))
			return 0;
	}
	return ok;
}

/* Whether 'key' matches one of the patterns of 'pattern_props'. */
static int matches_pattern_property(struct schema_ctx *ctx,
				    const json_t *pattern_props,
				    const char *key)
{
	void *it;

	if (!json_is_object(pattern_props))
		return 0;
	for (it = obj_iter(pattern_props); it;
	     it = obj_next(pattern_props, it)) {
		const char *pat = json_object_iter_key(it);

		if (regex_search(ctx, pat, strlen(pat), key,
				 strlen(key)) > 0)
			return 1;
	}
	return 0;
}

static int check_pattern_properties(struct schema_ctx *ctx,
				    const struct kw_args *a)
{
	int ok = 1;
	void *pit, *it;

	if (!json_is_object(a->inst) || !json_is_object(a->value))
		return 1;
	for (pit = obj_iter(a->value); pit; pit = obj_next(a->value, pit)) {
		const char *pat = json_object_iter_key(pit);
		const json_t *sub = json_object_iter_value(pit);

		for (it = obj_iter(a->inst); it; it = obj_next(a->inst, it)) {
			const char *key = json_object_iter_key(it);
			int m = regex_search(ctx, pat, strlen(pat), key,
					     strlen(key));

			if (m < 0) {
				emit(ctx, "patternProperties",
				     "invalid regular expression '%s'", pat);
				ok = 0;
			} else if (!m) {
				continue;
			} else if (json_is_false(sub)) {
				emit(ctx, "patternProperties",
				     "property '%s' is not allowed", key);
				ok = 0;
			} else if (!eval_child(ctx, sub,
					       json_object_iter_value(it),
					       key, 0, a->base)) {
				ok = 0;
			}
			if (!ok && stop(ctx))
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
static int check_additional_properties(struct schema_ctx *ctx,
				       const struct kw_args *a)
{
	const json_t *props = json_object_get(a->schema, "properties");
	const json_t *pats = json_object_get(a->schema, "patternProperties");
	int ok = 1;
	void *it;

	if (!json_is_object(a->inst) || json_is_true(a->value))
		return 1;
	for (it = obj_iter(a->inst); it; it = obj_next(a->inst, it)) {
		const char *key = json_object_iter_key(it);

		if (json_is_object(props) && json_object_get(props, key))
			continue;
		if (matches_pattern_property(ctx, pats, key))
			continue;
		if (json_is_false(a->value)) {
			emit(ctx, "additionalProperties",
			     "unknown property '%s'", key);
			ok = 0;
		} else if (!eval_child(ctx, a->value,
				       json_object_iter_value(it), key, 0,
				       a->base)) {
			ok = 0;
		}
		if (!ok && stop(ctx))
			return 0;
	}
	return ok;
}

/* Each name is validated as a string; one error names the property. */
static int check_property_names(struct schema_ctx *ctx,
				const struct kw_args *a)
{
	int ok = 1;
	void *it;

	if (!json_is_object(a->inst) || json_is_true(a->value))
		return 1;
	for (it = obj_iter(a->inst); it; it = obj_next(a->inst, it)) {
		const char *key = json_object_iter_key(it);
		json_t *name = must(json_stringn_nocheck(key, strlen(key)));

		if (!eval_quiet(ctx, a->value, name, a->base)) {
			emit(ctx, "propertyNames",
			     "invalid property name '%s'", key);
			ok = 0;
		}
		json_decref(name);
		if (!ok && stop(ctx))
			return 0;
	}
	return ok;
}

static int check_required(struct schema_ctx *ctx, const struct kw_args *a)
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
		emit(ctx, "required", "missing required property '%s'",
		     json_string_value(name));
		ok = 0;
		if (stop(ctx))
			return 0;
	}
	return ok;
}

static int check_dependencies(struct schema_ctx *ctx,
			      const struct kw_args *a)
{
	int ok = 1;
	void *it;
	size_t i;

	if (!json_is_object(a->inst) || !json_is_object(a->value))
		return 1;
	for (it = obj_iter(a->value); it; it = obj_next(a->value, it)) {
		const char *key = json_object_iter_key(it);
		const json_t *dep = json_object_iter_value(it);

		if (!json_object_get(a->inst, key))
			continue;
		if (json_is_false(dep)) {
			emit(ctx, "dependencies",
			     "property '%s' is not allowed", key);
			ok = 0;
		} else if (json_is_array(dep)) {
			for (i = 0; i < json_array_size(dep); i++) {
				const json_t *n = json_array_get(dep, i);
				const char *need = json_string_value(n);

				if (!need || json_object_get(a->inst, need))
					continue;
				emit(ctx, "dependencies",
				     "property '%s' requires property '%s'",
				     key, need);
				ok = 0;
				if (stop(ctx))
					return 0;
			}
		} else if (!eval(ctx, dep, a->inst, a->base)) {
			ok = 0;
		}
		if (!ok && stop(ctx))
			return 0;
	}
	return ok;
}

/*
 * The min/max counting keywords: 'keyword' bounds the count 'have' (of
 * 'what': "items", "properties" or "characters") from above when
 * 'is_max', else from below.
 */
static int check_count(struct schema_ctx *ctx, const struct kw_args *a,
		       const char *keyword, size_t have, int is_max,
		       const char *what)
{
	size_t limit;

	if (!get_count(a->value, &limit))
		return 1;
	if (is_max ? have <= limit : have >= limit)
		return 1;
	emit(ctx, keyword, "expected at %s %zu %s, got %zu",
	     is_max ? "most" : "least", limit, what, have);
	return 0;
}

static int check_min_properties(struct schema_ctx *ctx,
				const struct kw_args *a)
{
	if (!json_is_object(a->inst))
		return 1;
	return check_count(ctx, a, "minProperties",
			   json_object_size(a->inst), 0, "properties");
}

static int check_max_properties(struct schema_ctx *ctx,
				const struct kw_args *a)
{
	if (!json_is_object(a->inst))
		return 1;
	return check_count(ctx, a, "maxProperties",
			   json_object_size(a->inst), 1, "properties");
}

static int check_min_items(struct schema_ctx *ctx, const struct kw_args *a)
{
	if (!json_is_array(a->inst))
		return 1;
	return check_count(ctx, a, "minItems", json_array_size(a->inst), 0,
			   "items");
}

static int check_max_items(struct schema_ctx *ctx, const struct kw_args *a)
{
	if (!json_is_array(a->inst))
		return 1;
	return check_count(ctx, a, "maxItems", json_array_size(a->inst), 1,
			   "items");
}

static int check_min_length(struct schema_ctx *ctx, const struct kw_args *a)
{
	if (!json_is_string(a->inst))
		return 1;
	return check_count(ctx, a, "minLength",
			   count_code_points(json_string_value(a->inst),
					     json_string_length(a->inst)),
			   0, "characters");
}

static int check_max_length(struct schema_ctx *ctx, const struct kw_args *a)
{
	if (!json_is_string(a->inst))
		return 1;
	return check_count(ctx, a, "maxLength",
			   count_code_points(json_string_value(a->inst),
					     json_string_length(a->inst)),
			   1, "characters");
}

static int check_items(struct schema_ctx *ctx, const struct kw_args *a)
{
	size_t i, n;
	int ok = 1;

	if (!json_is_array(a->inst))
		return 1;
	n = json_array_size(a->inst);
	if (json_is_false(a->value) && n) {
		emit(ctx, "items", "expected no items, got %zu", n);
		return 0;
	}
	if (json_is_array(a->value) && json_array_size(a->value) < n)
		n = json_array_size(a->value);
	for (i = 0; i < n; i++) {
		const json_t *sub = json_is_array(a->value) ?
				    json_array_get(a->value, i) : a->value;

		if (!eval_child(ctx, sub, json_array_get(a->inst, i), NULL, i,
				a->base)) {
			ok = 0;
			if (stop(ctx))
				return 0;
		}
	}
	return ok;
}

static int check_additional_items(struct schema_ctx *ctx,
				  const struct kw_args *a)
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
		emit(ctx, "additionalItems", "expected at most %zu items, "
		     "got %zu", first, n);
		return 0;
	}
	for (i = first; i < n; i++) {
		if (!eval_child(ctx, a->value, json_array_get(a->inst, i),
				NULL, i, a->base)) {
			ok = 0;
			if (stop(ctx))
				return 0;
		}
	}
	return ok;
}

static int check_contains(struct schema_ctx *ctx, const struct kw_args *a)
{
	size_t i;

	if (!json_is_array(a->inst))
		return 1;
	for (i = 0; i < json_array_size(a->inst); i++)
		if (eval_quiet(ctx, a->value, json_array_get(a->inst, i),
			       a->base))
			return 1;
	emit(ctx, "contains", "no item matches the 'contains' schema");
	return 0;
}

static int check_unique_items(struct schema_ctx *ctx,
			      const struct kw_args *a)
{
	size_t i, j, n;

	if (!json_is_array(a->inst) || !json_is_true(a->value))
		return 1;
	n = json_array_size(a->inst);
	for (i = 0; i < n; i++) {
		for (j = i + 1; j < n; j++) {
			if (values_equal(json_array_get(a->inst, i),
					 json_array_get(a->inst, j))) {
				emit(ctx, "uniqueItems",
				     "items %zu and %zu are equal", i, j);
				return 0;
			}
		}
	}
	return 1;
}

static int check_pattern(struct schema_ctx *ctx, const struct kw_args *a)
{
	int m;

	if (!json_is_string(a->inst) || !json_is_string(a->value))
		return 1;
	m = regex_search(ctx, json_string_value(a->value),
			 json_string_length(a->value),
			 json_string_value(a->inst),
			 json_string_length(a->inst));
	if (m > 0)
		return 1;
	if (m < 0)
		emit(ctx, "pattern", "invalid regular expression '%s'",
		     json_string_value(a->value));
	else
		emit(ctx, "pattern", "string does not match pattern '%s'",
		     json_string_value(a->value));
	return 0;
}

/*
 * The four bounds: 'keyword' holds when comparing the instance with
 * the bound gives a sign allowed by 'allow_below', 'allow_equal' and
 * 'allow_above'; 'op' is the relation named in the message.
 */
static int check_bound(struct schema_ctx *ctx, const struct kw_args *a,
		       const char *keyword, const char *op, int allow_below,
		       int allow_equal, int allow_above)
{
	char want[64], got[64];
	int c;

	if (!json_is_number(a->inst) || !json_is_number(a->value))
		return 1;
	c = num_cmp(a->inst, a->value);
	if ((c < 0 && allow_below) || (c == 0 && allow_equal) ||
	    (c > 0 && allow_above))
		return 1;
	emit(ctx, keyword, "expected a number %s %s, got %s", op,
	     fmt_num(a->value, want, sizeof(want)),
	     fmt_num(a->inst, got, sizeof(got)));
	return 0;
}

static int check_minimum(struct schema_ctx *ctx, const struct kw_args *a)
{
	return check_bound(ctx, a, "minimum", ">=", 0, 1, 1);
}

static int check_maximum(struct schema_ctx *ctx, const struct kw_args *a)
{
	return check_bound(ctx, a, "maximum", "<=", 1, 1, 0);
}

static int check_exclusive_minimum(struct schema_ctx *ctx,
				   const struct kw_args *a)
{
	return check_bound(ctx, a, "exclusiveMinimum", ">", 0, 0, 1);
}

static int check_exclusive_maximum(struct schema_ctx *ctx,
				   const struct kw_args *a)
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
	return dist_to_integer(q) <= (q < 0 ? -q : q) * 8 * DBL_EPSILON;
}

static int check_multiple_of(struct schema_ctx *ctx,
			     const struct kw_args *a)
{
	char want[64], got[64];

	if (!json_is_number(a->inst) || !json_is_number(a->value) ||
	    json_number_value(a->value) <= 0)
		return 1;
	if (is_multiple(a->inst, a->value))
		return 1;
	emit(ctx, "multipleOf", "expected a multiple of %s, got %s",
	     fmt_num(a->value, want, sizeof(want)),
	     fmt_num(a->inst, got, sizeof(got)));
	return 0;
}

static int check_all_of(struct schema_ctx *ctx, const struct kw_args *a)
{
	int ok = 1;
	size_t i;

	if (!json_is_array(a->value))
		return 1;
	for (i = 0; i < json_array_size(a->value); i++) {
		if (!eval(ctx, json_array_get(a->value, i), a->inst,
			  a->base)) {
			ok = 0;
			if (stop(ctx))
				return 0;
		}
	}
	return ok;
}

static int check_any_of(struct schema_ctx *ctx, const struct kw_args *a)
{
	size_t i, n;

	if (!json_is_array(a->value))
		return 1;
	n = json_array_size(a->value);
	for (i = 0; i < n; i++)
		if (eval_quiet(ctx, json_array_get(a->value, i), a->inst,
			       a->base))
			return 1;
	emit(ctx, "anyOf", "value does not match any of the %zu 'anyOf' "
	     "schemas", n);
	return 0;
}

static int check_one_of(struct schema_ctx *ctx, const struct kw_args *a)
{
	size_t i, n, first = 0, matches = 0;

	if (!json_is_array(a->value))
		return 1;
	n = json_array_size(a->value);
	for (i = 0; i < n; i++) {
		if (!eval_quiet(ctx, json_array_get(a->value, i), a->inst,
				a->base))
			continue;
		if (matches++) {
			emit(ctx, "oneOf", "value matches both 'oneOf' "
			     "schemas %zu and %zu, exactly one must match",
			     first, i);
			return 0;
		}
		first = i;
	}
	if (matches)
		return 1;
	emit(ctx, "oneOf", "value does not match any of the %zu 'oneOf' "
	     "schemas", n);
	return 0;
}

static int check_not(struct schema_ctx *ctx, const struct kw_args *a)
{
	if (!eval_quiet(ctx, a->value, a->inst, a->base))
		return 1;
	emit(ctx, "not", "value must not match the 'not' schema");
	return 0;
}

static int check_if(struct schema_ctx *ctx, const struct kw_args *a)
{
	const json_t *branch;

	if (eval_quiet(ctx, a->value, a->inst, a->base))
		branch = json_object_get(a->schema, "then");
	else
		branch = json_object_get(a->schema, "else");
	return !branch || eval(ctx, branch, a->inst, a->base);
}

struct keyword {
	const char *name;
	int (*check)(struct schema_ctx *ctx, const struct kw_args *a);
};

/* Sorted by strcmp() for bsearch(); "then" and "else" belong to "if". */
static const struct keyword keywords[] = {
	{ "additionalItems", check_additional_items },
	{ "additionalProperties", check_additional_properties },
	{ "allOf", check_all_of },
	{ "anyOf", check_any_of },
	{ "const", check_const },
	{ "contains", check_contains },
	{ "dependencies", check_dependencies },
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
	{ "patternProperties", check_pattern_properties },
	{ "properties", check_properties },
	{ "propertyNames", check_property_names },
	{ "required", check_required },
	{ "type", check_type },
	{ "uniqueItems", check_unique_items },
};

static int keyword_cmp(const void *key, const void *elem)
{
	const struct keyword *kw = elem;

	return strcmp(key, kw->name);
}

/*
 * Applies 'schema' to 'inst'; 'parent_base' is the base URI around
 * 'schema' (its own "$id", if any, is applied here).  Returns 1 when
 * 'inst' is valid, else 0 with the errors recorded in 'ctx'.
 */
static int eval(struct schema_ctx *ctx, const json_t *schema,
		const json_t *inst, const char *parent_base)
{
	struct kw_args a;
	const json_t *ref;
	char *base;
	void *it;
	int ok = 1;

	if (json_is_true(schema))
		return 1;
	if (json_is_false(schema)) {
		emit(ctx, "false", "no value is allowed here");
		return 0;
	}
	if (!json_is_object(schema)) {
		emit(ctx, "schema", "invalid schema: expected an object or "
		     "a boolean, got %s", type_name(schema));
		return 0;
	}
	ref = json_object_get(schema, "$ref");
	if (json_is_string(ref))
		return eval_ref(ctx, schema, ref, inst, parent_base);

	base = json_object_get(schema, "$id") ?
	       own_base(schema, parent_base) : NULL;
	a.schema = schema;
	a.inst = inst;
	a.base = base ? base : parent_base;
	for (it = obj_iter(schema); it; it = obj_next(schema, it)) {
		const struct keyword *kw;

		kw = bsearch(json_object_iter_key(it), keywords,
			     sizeof(keywords) / sizeof(*keywords),
			     sizeof(*keywords), keyword_cmp);
		if (!kw)
			continue;
		a.value = json_object_iter_value(it);
		if (!kw->check(ctx, &a)) {
			ok = 0;
			if (stop(ctx))
				break;
		}
	}
	free(base);
	return ok;
}

/*
 * Sets up 'ctx' for validating against 'schema' (collecting at most
 * 'max_errors' errors) and maps the "$id"s of 'schema'.
 */
static void ctx_init(struct schema_ctx *ctx, const json_t *schema,
		     size_t max_errors)
{
	memset(ctx, 0, sizeof(*ctx));
	ctx->errors = must(json_array());
	ctx->max_errors = max_errors;
	sb_init(&ctx->path);
	add_id(ctx, xstrdup(""), schema, "");
	collect_ids(ctx, schema, "");
}

/* Releases everything 'ctx' owns except 'ctx->errors'. */
static void ctx_release(struct schema_ctx *ctx)
{
	size_t i;

	for (i = 0; i < ctx->nr_regexes; i++) {
		free(ctx->regexes[i].src);
		pcre2_match_data_free(ctx->regexes[i].md);
		pcre2_code_free(ctx->regexes[i].code);
	}
	free(ctx->regexes);
	for (i = 0; i < ctx->nr_ids; i++) {
		free(ctx->ids[i].uri);
		free(ctx->ids[i].parent_base);
	}
	free(ctx->ids);
	for (i = 0; i < ctx->nr_refs; i++) {
		free(ctx->refs[i].base);
		free(ctx->refs[i].target_base);
		free(ctx->refs[i].error);
	}
	free(ctx->refs);
	json_decref(ctx->meta);
	sb_release(&ctx->path);
}

json_t *schema_validate(const json_t *schema, const json_t *instance,
			size_t max_errors)
{
	struct schema_ctx ctx;

	ctx_init(&ctx, schema, max_errors);
	eval(&ctx, schema, instance, "");
	ctx_release(&ctx);
	return ctx.errors;
}

int schema_is_valid(const json_t *schema, const json_t *instance)
{
	struct schema_ctx ctx;
	int ok;

	ctx_init(&ctx, schema, 1);
	ctx.quiet = 1;
	ok = eval(&ctx, schema, instance, "");
	ctx_release(&ctx);
	json_decref(ctx.errors);
	return ok;
}
