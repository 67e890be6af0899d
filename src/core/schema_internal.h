/*
 * schema_internal.h: what the files of the draft-07 validator share, and
 * nothing else includes.  schema.h is the public API; behind it
 *
 *	schema.c		the entry points, the validation context,
 *				error recording and the evaluation core
 *	schema_keywords.c	one checker per keyword, and their table
 *	schema_keywords_object.c  the checkers of an object's members
 *	schema_value.c		values as JSON Schema sees them: numbers,
 *				type names, equality, sets of values
 *	schema_map.c		the pointer-keyed map of the caches
 *	schema_ref.c		"$id" collection and "$ref" resolution
 *				(JSON pointers, the meta-schema)
 *	schema_uri.c		RFC 3986 resolution of URI references
 *	schema_regex.c		ECMA-262 patterns through PCRE2
 *
 * Everything here is about one call of schema_validate(): pointers into
 * the schema and the instance are borrowed for that call, and whatever
 * the context owns is released before it returns.  Running out of memory
 * never returns: it ends in xalloc's handler (envelope_fatal).
 *
 * The validator's own buffers (struct buf) have no limit: what they hold
 * is a copy or an escape of parts of the schema and the instance, which
 * the callers have already bounded, so buf_add() cannot fail on them
 * and its result is not checked.
 */
#ifndef HPCLOOP_SCHEMA_INTERNAL_H
#define HPCLOOP_SCHEMA_INTERNAL_H

#include <jansson.h>
#include <stddef.h>

#include "buf.h"
#include "schema.h"

struct schema_regex_cache;
struct schema_valset;

/* ------------------------------------------------------------------ */
/* Maps from pointers (schema_map.c)                                   */
/* ------------------------------------------------------------------ */

struct schema_map_slot {
	const void *key;	/* borrowed; NULL in an empty slot */
	void *value;		/* whatever the map's user put there */
};

/*
 * A map from (non-NULL) pointers to (non-NULL) pointers.  All zero (as
 * memset() or xcalloc() leave it) is an empty map.
 */
struct schema_map {
	struct schema_map_slot *slots;	/* owned; 'alloc' of them, or NULL */
	size_t nr;			/* slots in use */
	size_t alloc;			/* slots allocated: 0 or a power of 2 */
};

/* The value put for 'key', or NULL; borrowed. */
void *schema_map_get(const struct schema_map *map, const void *key);
/* Map 'key' to 'value' (the map stores both pointers, owns neither). */
void schema_map_put(struct schema_map *map, const void *key, void *value);
/*
 * Free the slots of 'map', first handing each value to 'free_value'
 * unless it is NULL.  'map' is empty afterwards.
 */
void schema_map_release(struct schema_map *map, void (*free_value)(void *));

/* ------------------------------------------------------------------ */
/* The validation context (schema.c)                                   */
/* ------------------------------------------------------------------ */

/* One "$ref" being followed: its target applied to 'instance'. */
struct schema_frame {
	const json_t *target;	/* borrowed: the schema the "$ref" names */
	const json_t *instance;	/* borrowed: what it is applied to */
};

/* The "$id"s and resolved "$ref"s of one validation (schema_ref.c). */
struct schema_refs {
	struct schema_id *ids;	/* owned; every "$id" seen, sorted by URI */
	size_t nr_ids;		/* entries used in 'ids' */
	size_t alloc_ids;	/* entries allocated in 'ids' */
	struct schema_map resolved; /* "$ref" node -> struct schema_ref list */
	json_t *meta;		/* owned; the meta-schema once it is needed */
};

struct schema_ctx {
	json_t *errors;		/* owned; handed to the caller at the end */
	size_t max_errors;	/* stop after this many errors; 0: no limit */
	int quiet;		/* > 0: record nothing, stop at first failure */
	int full;		/* max_errors reached: stop everything */
	struct buf path;	/* JSON pointer of the current location */
	struct schema_frame frames[SCHEMA_MAX_REF_DEPTH]; /* "$ref"s followed */
	size_t nr_frames;	/* entries used in 'frames' */
	struct schema_refs refs; /* "$id" map, "$ref" cache, meta-schema */
	struct schema_regex_cache *regexes; /* owned; NULL until needed */
	struct schema_map enums; /* "enum" array -> its schema_valset (owned) */
};

/*
 * Out of memory where no x*alloc wrapper stood in between (a NULL from a
 * jansson constructor or a PCRE2 call): takes xalloc's handler, which
 * does not return.
 */
void schema_oom(void) __attribute__((noreturn));
/* Returns 'v' unchanged; a NULL (from a jansson constructor) is OOM. */
json_t *schema_must(json_t *v);

/* Whether to stop: failures are not being collected, or enough are. */
int schema_stop(const struct schema_ctx *ctx);

/*
 * Record an error for 'keyword' at the current location, the message
 * being the printf-style 'fmt'.  Does nothing while quiet or full.
 */
void schema_emit(struct schema_ctx *ctx, const char *keyword,
		 const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/*
 * Apply 'schema' to 'inst'; 'parent_base' is the base URI around
 * 'schema' (its own "$id", if any, is applied inside).  Returns 1 when
 * 'inst' is valid, else 0 with the errors recorded in 'ctx'.
 */
int schema_eval(struct schema_ctx *ctx, const json_t *schema,
		const json_t *inst, const char *parent_base);
/*
 * schema_eval() of the element 'item' of the current location, reached
 * by the member 'key' (when not NULL) or else by the index 'idx'.
 */
int schema_eval_child(struct schema_ctx *ctx, const json_t *schema,
		      const json_t *item, const char *key, size_t idx,
		      const char *base);
/* schema_eval() recording nothing and stopping at the first failure. */
int schema_eval_quiet(struct schema_ctx *ctx, const json_t *schema,
		      const json_t *inst, const char *base);

/* Iterate over a const object (jansson's iterator API is not const). */
static inline void *schema_obj_iter(const json_t *obj)
{
	return json_object_iter((json_t *)obj);
}

static inline void *schema_obj_next(const json_t *obj, void *it)
{
	return json_object_iter_next((json_t *)obj, it);
}

/* ------------------------------------------------------------------ */
/* Keywords (schema_keywords.c)                                        */
/* ------------------------------------------------------------------ */

/* What every keyword checker is handed. */
struct schema_kw_args {
	const json_t *schema;	/* the schema object holding the keyword */
	const json_t *value;	/* the keyword's value */
	const json_t *inst;	/* the instance being validated */
	const char *base;	/* base URI in effect in 'schema' */
};

/*
 * A checker applies the keyword 'a->value' of 'a->schema' to 'a->inst'
 * and returns 1 when it holds, recording errors (unless quiet) when it
 * does not.  A keyword that does not apply to the instance's type holds.
 */
struct schema_keyword {
	const char *name;	/* as in the schema: "additionalItems" */
	int (*check)(struct schema_ctx *ctx, const struct schema_kw_args *a);
};

/* The checker of the keyword 'name'; borrowed (static), or NULL. */
const struct schema_keyword *schema_keyword_find(const char *name);

/* The checkers of the object keywords (schema_keywords_object.c). */
int schema_check_properties(struct schema_ctx *ctx,
			    const struct schema_kw_args *a);
int schema_check_pattern_properties(struct schema_ctx *ctx,
				    const struct schema_kw_args *a);
int schema_check_additional_properties(struct schema_ctx *ctx,
				       const struct schema_kw_args *a);
int schema_check_property_names(struct schema_ctx *ctx,
				const struct schema_kw_args *a);
int schema_check_required(struct schema_ctx *ctx,
			  const struct schema_kw_args *a);
int schema_check_dependencies(struct schema_ctx *ctx,
			      const struct schema_kw_args *a);

/* ------------------------------------------------------------------ */
/* Values (schema_value.c)                                             */
/* ------------------------------------------------------------------ */

/* The name of the JSON type of 'v' for messages ("integer", "number"). */
const char *schema_type_name(const json_t *v);

/* <0, 0 or >0 as the number 'a' is below, equal to or above 'b'. */
int schema_num_cmp(const json_t *a, const json_t *b);
/* Distance from the finite 'd' to the nearest integer. */
double schema_dist_to_integer(double d);
/* Whether 'v' is a number with no fractional part (1 and 1.0 both are). */
int schema_is_integral(const json_t *v);
/*
 * Read a keyword value that must be a non-negative integer (2 or 2.0)
 * into '*out'; returns 1, or 0 (and the keyword is ignored) when it is
 * not one.
 */
int schema_get_count(size_t *out, const json_t *v);
/* Format the number 'v' for a message into 'buf' of 'n' bytes. */
const char *schema_fmt_num(const json_t *v, char *buf, size_t n);
/*
 * Write a compact dump of 'v' into 'buf' of 'n' bytes; returns 'buf',
 * or NULL when it does not fit (the message then leaves it out).
 */
const char *schema_fmt_value(const json_t *v, char *buf, size_t n);

/*
 * JSON Schema equality of 'a' and 'b' (enum, const, uniqueItems):
 * numbers by value, so 1 equals 1.0; arrays and objects deeply, object
 * members in any order.
 */
int schema_values_equal(const json_t *a, const json_t *b);

/*
 * A set of values under that equality, built once from an array and
 * then asked in O(log n): each element is reduced to a canonical form
 * (equal values, equal forms) and the forms are sorted.  Hostile sizes
 * stay cheap: 100,000 items or 200,000 enum values take milliseconds,
 * where comparing pairs would take minutes.
 */

/* A NEW set of the elements of the array 'arr' (schema_valset_free). */
struct schema_valset *schema_valset_new(const json_t *arr);
/* Free 'set'; NULL is fine.  Takes void * to serve schema_map_release. */
void schema_valset_free(void *set);
/* Whether 'v' equals an element of 'set'. */
int schema_valset_has(const struct schema_valset *set, const json_t *v);
/*
 * Find the first pair of equal elements: the smallest index '*first_out'
 * that has an equal element after it, and the smallest such index
 * '*second_out'.  Returns 1, or 0 (outputs untouched) when all differ.
 */
int schema_valset_duplicate(size_t *first_out, size_t *second_out,
			    const struct schema_valset *set);

/* ------------------------------------------------------------------ */
/* "$id" and "$ref" (schema_ref.c)                                     */
/* ------------------------------------------------------------------ */

/*
 * A "$ref" resolved once: the object holding it, seen with base URI
 * 'base', leads to 'target' (to be evaluated with 'target_base' as its
 * parent's base URI), or, when 'target' is NULL, to 'error'.
 */
struct schema_ref {
	char *base;		/* owned: the base URI it was seen with */
	const json_t *target;	/* borrowed: what it names, or NULL */
	char *target_base;	/* owned: base URI around 'target', or NULL */
	char *error;		/* owned: why 'target' is NULL, or NULL */
	struct schema_ref *next; /* owned: same node, other base, or NULL */
};

/*
 * Start 'refs' for validating against 'root' (the document, base URI
 * ""): map every "$id" in it.
 */
void schema_refs_init(struct schema_refs *refs, const json_t *root);
/* Free everything 'refs' owns. */
void schema_refs_release(struct schema_refs *refs);

/*
 * Resolve the "$ref" value 'ref' of the schema object 'node', whose base
 * URI is 'base'.  Returns the (borrowed) cache entry of 'refs', which
 * lives as long as 'refs'.
 */
const struct schema_ref *schema_ref_resolve(struct schema_refs *refs,
					    const json_t *node,
					    const char *ref,
					    const char *base);

/*
 * Returns a NEW string: the base URI in effect inside 'schema' when the
 * base around it is 'parent_base', i.e. with its "$id" applied.  An
 * "$id" next to "$ref" is ignored, like every sibling of "$ref".
 */
char *schema_own_base(const json_t *schema, const char *parent_base);

/* ------------------------------------------------------------------ */
/* URIs (schema_uri.c)                                                 */
/* ------------------------------------------------------------------ */

/*
 * Returns a NEW string: the URI reference 'ref' resolved against the
 * base URI 'base' (RFC 3986 5.2.2).  A relative 'base' (such as "" for a
 * schema without "$id") gives a relative result.
 */
char *schema_uri_resolve(const char *ref, const char *base);
/* Remove an empty fragment in place ("x#" names the same as "x"). */
void schema_uri_strip_empty_fragment(char *uri);

/* ------------------------------------------------------------------ */
/* Patterns (schema_regex.c)                                           */
/* ------------------------------------------------------------------ */

/*
 * Search the 'len' bytes of 'subject' for the ECMA-262 regular
 * expression 'pat' ('patlen' bytes), compiled once per validation into
 * '*cache' (created on first use).  'pat' must be a string inside the
 * schema, as a "pattern" value or a "patternProperties" key: the cache
 * knows it by its address.  Returns 1 on a match, 0 on none and -1 when
 * 'pat' does not compile.
 */
int schema_regex_search(struct schema_regex_cache **cache, const char *pat,
			size_t patlen, const char *subject, size_t len);
/* Free 'cache' and every pattern compiled into it; NULL is fine. */
void schema_regex_cache_free(struct schema_regex_cache *cache);

#endif
