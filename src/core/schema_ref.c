/*
 * schema_ref.c: where a "$ref" leads, for the validator (see
 * schema_internal.h).  Before validation starts, every "$id" of the
 * schema is collected into a map from absolute URIs to the subschemas
 * that declare them.  A "$ref" is then resolved against the base URI in
 * effect where it stands: to a subschema named by an "$id", or to a
 * document named by one followed by a JSON pointer (RFC 6901, in a URI
 * fragment, so %-escaped too).  The draft-07 meta-schema is the one
 * document known without an "$id" in the schema: it is loaded from the
 * embedded schemas/meta/draft-07.json the first time a "$ref" names it.
 * Nothing is ever fetched.  Each "$ref" is resolved once per validation
 * and kept in a map from its node; the "$id"s are kept sorted by URI, so
 * neither lookup walks a list however many the schema holds.
 */
#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "embedded.h"
#include "err.h"
#include "schema_internal.h"
#include "xalloc.h"
#include "banned.h"

#define META_URI "http://json-schema.org/draft-07/schema"
#define META_PATH "schemas/meta/draft-07.json"

/*
 * A subschema named by "$id": 'uri' is the absolute URI (without an
 * empty fragment), 'parent_base' the base URI in effect around it.
 */
struct schema_id {
	char *uri;		/* owned */
	const json_t *node;	/* borrowed: the subschema */
	char *parent_base;	/* owned */
	size_t seq;		/* order of collection: the first one wins */
};

/*
 * Make room in the array '*p' of '*alloc' elements of 'size' bytes for
 * one more after 'nr'; returns the (possibly moved) array.
 */
static void *grow(void *p, size_t nr, size_t *alloc, size_t size)
{
	if (nr < *alloc)
		return p;
	if (*alloc > SIZE_MAX / 2 / size)
		schema_oom();
	*alloc = *alloc ? *alloc * 2 : 8;
	return xrealloc(p, *alloc * size);
}

/* ------------------------------------------------------------------ */
/* Collecting "$id"s                                                   */
/* ------------------------------------------------------------------ */

char *schema_own_base(const json_t *schema, const char *parent_base)
{
	const json_t *id;

	if (!json_is_object(schema) ||
	    json_is_string(json_object_get(schema, "$ref")))
		return xstrdup(parent_base);
	id = json_object_get(schema, "$id");
	if (!json_is_string(id))
		return xstrdup(parent_base);
	return schema_uri_resolve(json_string_value(id), parent_base);
}

/*
 * Record that 'uri' (stolen) names 'node', around which the base is
 * 'parent_base'.
 */
static void add_id(struct schema_refs *refs, char *uri, const json_t *node,
		   const char *parent_base)
{
	struct schema_id *id;

	refs->ids = grow(refs->ids, refs->nr_ids, &refs->alloc_ids,
			 sizeof(*refs->ids));
	id = &refs->ids[refs->nr_ids++];
	id->uri = uri;
	id->node = node;
	id->parent_base = xstrdup(parent_base);
	id->seq = refs->nr_ids - 1;
}

static void collect_ids(struct schema_refs *refs, const json_t *schema,
			const char *parent_base);

/* collect_ids() over every element of the array 'arr'. */
static void collect_ids_array(struct schema_refs *refs, const json_t *arr,
			      const char *base)
{
	size_t i;

	for (i = 0; i < json_array_size(arr); i++)
		collect_ids(refs, json_array_get(arr, i), base);
}

/* collect_ids() over every member value of the object 'obj'. */
static void collect_ids_members(struct schema_refs *refs, const json_t *obj,
				const char *base)
{
	void *it;

	if (!json_is_object(obj))
		return;
	for (it = schema_obj_iter(obj); it; it = schema_obj_next(obj, it))
		collect_ids(refs, json_object_iter_value(it), base);
}

/*
 * Walk 'schema' (around which the base URI is 'parent_base') through
 * the keywords whose values are subschemas and record every "$id" in
 * 'refs', so that "$ref"s can find them.
 */
static void collect_ids(struct schema_refs *refs, const json_t *schema,
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
	base = schema_own_base(schema, parent_base);
	if (strcmp(base, parent_base)) {
		char *uri = xstrdup(base);

		schema_uri_strip_empty_fragment(uri);
		add_id(refs, uri, schema, parent_base);
	}
	for (i = 0; i < sizeof(single) / sizeof(*single); i++)
		collect_ids(refs, json_object_get(schema, single[i]), base);
	for (i = 0; i < sizeof(arrays) / sizeof(*arrays); i++)
		collect_ids_array(refs, json_object_get(schema, arrays[i]),
				  base);
	for (i = 0; i < sizeof(maps) / sizeof(*maps); i++)
		collect_ids_members(refs, json_object_get(schema, maps[i]),
				    base);
	free(base);
}

/* qsort() order of "$id"s: by URI, a URI named twice in collection order. */
static int id_cmp(const void *pa, const void *pb)
{
	const struct schema_id *a = pa, *b = pb;
	int c = strcmp(a->uri, b->uri);

	if (c)
		return c;
	return (a->seq > b->seq) - (a->seq < b->seq);
}

/* Sort the "$id"s of 'refs' after a collection, for find_id(). */
static void sort_ids(struct schema_refs *refs)
{
	qsort(refs->ids, refs->nr_ids, sizeof(*refs->ids), id_cmp);
}

/*
 * The (borrowed) "$id" entry of 'refs' named 'uri', or NULL; of two
 * with the same URI, the one collected first.
 */
static const struct schema_id *find_id(const struct schema_refs *refs,
				       const char *uri)
{
	size_t lo = 0, hi = refs->nr_ids;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (strcmp(refs->ids[mid].uri, uri) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < refs->nr_ids && !strcmp(refs->ids[lo].uri, uri))
		return &refs->ids[lo];
	return NULL;
}

/*
 * Load the embedded meta-schema into 'refs' (once) and map its ids.
 * The file is part of the build, so its absence is a bug.
 */
static void load_meta_schema(struct schema_refs *refs)
{
	const struct embedded_file *f;
	json_error_t jerr;

	if (refs->meta)
		return;
	f = embedded_find(META_PATH);
	if (!f)
		BUG("%s is not embedded", META_PATH);
	refs->meta = json_loadb((const char *)f->data, f->len, 0, &jerr);
	if (!refs->meta)
		BUG("%s: %s", META_PATH, jerr.text);
	collect_ids(refs, refs->meta, "");
	sort_ids(refs);
}

void schema_refs_init(struct schema_refs *refs, const json_t *root)
{
	memset(refs, 0, sizeof(*refs));
	add_id(refs, xstrdup(""), root, "");
	collect_ids(refs, root, "");
	sort_ids(refs);
}

/* Free the list of resolutions 'p' (a struct schema_ref *). */
static void ref_free(void *p)
{
	struct schema_ref *r = p;

	while (r) {
		struct schema_ref *next = r->next;

		free(r->base);
		free(r->target_base);
		free(r->error);
		free(r);
		r = next;
	}
}

void schema_refs_release(struct schema_refs *refs)
{
	size_t i;

	for (i = 0; i < refs->nr_ids; i++) {
		free(refs->ids[i].uri);
		free(refs->ids[i].parent_base);
	}
	free(refs->ids);
	schema_map_release(&refs->resolved, ref_free);
	json_decref(refs->meta);
	memset(refs, 0, sizeof(*refs));
}

/* ------------------------------------------------------------------ */
/* JSON pointers                                                       */
/* ------------------------------------------------------------------ */

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

/* Append the URI fragment 'frag' to 'out' with its %-escapes decoded. */
static void percent_decode(struct buf *out, const char *frag)
{
	size_t i;

	for (i = 0; frag[i]; i++) {
		int hi, lo;

		if (frag[i] == '%') {
			hi = hexval(frag[i + 1]);
			lo = hi < 0 ? -1 : hexval(frag[i + 2]);
			if (hi >= 0 && lo >= 0) {
				char c = (char)(hi * 16 + lo);

				buf_add(out, &c, 1);
				i += 2;
				continue;
			}
		}
		buf_add(out, &frag[i], 1);
	}
}

/*
 * The member or element of 'cur' named by the unescaped reference token
 * 'tok' ('len' bytes), or NULL.
 */
static const json_t *step(const json_t *cur, const char *tok, size_t len)
{
	unsigned long long idx;
	char *end;

	if (json_is_object(cur))
		return json_object_get(cur, tok);
	if (!json_is_array(cur))
		return NULL;
	if (!len || !isdigit((unsigned char)tok[0]) ||
	    (tok[0] == '0' && len > 1))
		return NULL;
	idx = strtoull(tok, &end, 10);
	return *end ? NULL : json_array_get(cur, (size_t)idx);
}

/*
 * Follow the JSON pointer 'frag' (a URI fragment, so %-escaped) from
 * 'doc', around which the base URI is 'doc_base'.  Returns the
 * (borrowed) value it names, or NULL, and in '*target_base' a NEW
 * string: the base URI around that value (NULL with the value).
 */
static const json_t *follow_pointer(char **target_base, const json_t *doc,
				    const char *doc_base, const char *frag)
{
	struct buf ptr = BUF_INIT, tok = BUF_INIT;
	const json_t *cur = doc;
	char *base = xstrdup(doc_base);
	const char *p;
	size_t i = 0;

	percent_decode(&ptr, frag);
	p = buf_str(&ptr);
	while (cur && i < ptr.len && p[i] == '/') {
		char *next;

		buf_truncate(&tok, 0);
		for (i++; i < ptr.len && p[i] != '/'; i++) {
			if (p[i] == '~' && p[i + 1] == '0') {
				buf_add(&tok, "~", 1);
				i++;
			} else if (p[i] == '~' && p[i + 1] == '1') {
				buf_add(&tok, "/", 1);
				i++;
			} else {
				buf_add(&tok, &p[i], 1);
			}
		}
		next = schema_own_base(cur, base);
		free(base);
		base = next;
		cur = step(cur, buf_str(&tok), tok.len);
	}
	if (i < ptr.len)
		cur = NULL;
	buf_release(&tok);
	buf_release(&ptr);
	if (!cur) {
		free(base);
		base = NULL;
	}
	*target_base = base;
	return cur;
}

/* ------------------------------------------------------------------ */
/* Resolving "$ref"s                                                   */
/* ------------------------------------------------------------------ */

/* A NEW string: the message of 'fmt' with the "$ref" value 'ref'. */
static char *ref_error(const char *fmt, const char *ref)
{
	struct buf msg = BUF_INIT;

	buf_addf(&msg, fmt, ref);
	return buf_detach(&msg, NULL);
}

/*
 * Fill 'r' for the "$ref" value 'ref' seen with base URI 'base': its
 * target and the base around it, or an error.
 */
static void resolve(struct schema_refs *refs, struct schema_ref *r,
		    const char *ref, const char *base)
{
	const struct schema_id *doc;
	char *uri, *hash;

	uri = schema_uri_resolve(ref, base);
	schema_uri_strip_empty_fragment(uri);
	doc = find_id(refs, uri);
	if (doc) {
		r->target = doc->node;
		r->target_base = xstrdup(doc->parent_base);
		free(uri);
		return;
	}

	hash = strchr(uri, '#');
	if (hash)
		*hash = '\0';
	doc = find_id(refs, uri);
	if (!doc && !strcmp(uri, META_URI)) {
		load_meta_schema(refs);
		doc = find_id(refs, uri);
	}
	if (hash)
		*hash = '#';
	if (!doc) {
		r->error = ref_error("cannot resolve '%s': remote references "
				     "are not fetched", ref);
	} else if (!hash || !hash[1]) {
		r->target = doc->node;
		r->target_base = xstrdup(doc->parent_base);
	} else if (hash[1] == '/') {
		r->target = follow_pointer(&r->target_base, doc->node,
					   doc->parent_base, hash + 1);
	}
	if (!r->target && !r->error)
		r->error = ref_error("cannot resolve '%s'", ref);
	free(uri);
}

const struct schema_ref *schema_ref_resolve(struct schema_refs *refs,
					    const json_t *node,
					    const char *ref,
					    const char *base)
{
	struct schema_ref *first = schema_map_get(&refs->resolved, node);
	struct schema_ref *r;

	for (r = first; r; r = r->next)
		if (!strcmp(r->base, base))
			return r;
	r = xcalloc(1, sizeof(*r));
	r->base = xstrdup(base);
	r->next = first;
	schema_map_put(&refs->resolved, node, r);
	resolve(refs, r, ref, base);
	return r;
}
