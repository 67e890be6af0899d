/*
 * schema.c: a JSON Schema draft-07 validator (see schema.h): the entry
 * points, the validation context and the evaluation core.
 *
 * Validation walks the schema and the instance together.  A context
 * (struct schema_ctx, schema_internal.h) carries what one call needs:
 * the error array being filled, the JSON pointer of the current instance
 * location, the "$id"s and resolved "$ref"s (schema_ref.c), compiled
 * patterns (schema_regex.c), the sets of the enums met (schema_value.c)
 * and the stack of "$ref"s being followed, to stop cycles.
 * schema_eval() applies a schema to an instance by looking each of its
 * keywords up in the table of schema_keywords.c.  Everything the
 * context owns is released before schema_validate() returns.
 *
 * Branches whose failure is not itself an error (anyOf, oneOf, not, if,
 * contains, propertyNames) are evaluated "quietly": no errors are
 * recorded and evaluation stops at the first failure.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "schema.h"
#include "schema_internal.h"
#include "xalloc.h"
#include "banned.h"

/* ------------------------------------------------------------------ */
/* Memory                                                              */
/* ------------------------------------------------------------------ */

/*
 * xmalloc() never returns NULL: a request that cannot be met funnels
 * into xalloc's out-of-memory handler, which does not return.
 */
void schema_oom(void)
{
	free(xmalloc(SIZE_MAX));
	abort();
}

json_t *schema_must(json_t *v)
{
	if (!v)
		schema_oom();
	return v;
}

/* A failing (-1) jansson setter is OOM. */
static void must_ok(int rc)
{
	if (rc)
		schema_oom();
}

/* ------------------------------------------------------------------ */
/* Errors and the current location                                     */
/* ------------------------------------------------------------------ */

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
	v = schema_must(json_stringn(copy, n));
	free(copy);
	return v;
}

int schema_stop(const struct schema_ctx *ctx)
{
	return ctx->quiet || ctx->full;
}

void schema_emit(struct schema_ctx *ctx, const char *keyword,
		 const char *fmt, ...)
{
	struct buf msg = BUF_INIT;
	json_t *err;
	va_list ap;

	if (schema_stop(ctx))
		return;
	va_start(ap, fmt);
	buf_vaddf(&msg, fmt, ap);
	va_end(ap);

	err = schema_must(json_object());
	must_ok(json_object_set_new(err, "path",
				    new_string(buf_str(&ctx->path),
					       ctx->path.len)));
	must_ok(json_object_set_new(err, "keyword",
				    new_string(keyword, strlen(keyword))));
	must_ok(json_object_set_new(err, "message",
				    new_string(buf_str(&msg), msg.len)));
	must_ok(json_array_append_new(ctx->errors, err));
	buf_release(&msg);

	if (ctx->max_errors && json_array_size(ctx->errors) >= ctx->max_errors)
		ctx->full = 1;
}

/*
 * Append "/" and the RFC 6901 escape of 'key' to the current location;
 * returns the previous length, to be given to path_pop().  The location
 * is only kept while errors are recorded.
 */
static size_t path_push_key(struct schema_ctx *ctx, const char *key)
{
	size_t old = ctx->path.len;

	if (ctx->quiet)
		return old;
	buf_add(&ctx->path, "/", 1);
	for (; *key; key++) {
		if (*key == '~')
			buf_add(&ctx->path, "~0", 2);
		else if (*key == '/')
			buf_add(&ctx->path, "~1", 2);
		else
			buf_add(&ctx->path, key, 1);
	}
	return old;
}

/* Like path_push_key() for the array index 'i'. */
static size_t path_push_index(struct schema_ctx *ctx, size_t i)
{
	size_t old = ctx->path.len;

	if (!ctx->quiet)
		buf_addf(&ctx->path, "/%zu", i);
	return old;
}

static void path_pop(struct schema_ctx *ctx, size_t old)
{
	buf_truncate(&ctx->path, old);
}

/* ------------------------------------------------------------------ */
/* Evaluation                                                          */
/* ------------------------------------------------------------------ */

/*
 * Apply the "$ref" value 'ref' of 'schema' (base URI 'base') to 'inst';
 * returns 1 when valid.  The keywords next to it are ignored.  A "$ref"
 * that leads back to itself on the same instance is an error, and so is
 * a chain of more than SCHEMA_MAX_REF_DEPTH.
 */
static int eval_ref(struct schema_ctx *ctx, const json_t *schema,
		    const json_t *ref, const json_t *inst, const char *base)
{
	const struct schema_ref *r;
	const json_t *target;
	const char *target_base;
	size_t i;
	int ok;

	r = schema_ref_resolve(&ctx->refs, schema, json_string_value(ref),
			       base);
	if (!r->target) {
		schema_emit(ctx, "$ref", "%s", r->error);
		return 0;
	}
	target = r->target;
	target_base = r->target_base;
	for (i = 0; i < ctx->nr_frames; i++) {
		if (ctx->frames[i].target == target &&
		    ctx->frames[i].instance == inst) {
			schema_emit(ctx, "$ref", "infinite recursion: '%s' "
				    "leads back to itself",
				    json_string_value(ref));
			return 0;
		}
	}
	if (ctx->nr_frames >= SCHEMA_MAX_REF_DEPTH) {
		schema_emit(ctx, "$ref", "'%s' nested more than %d levels deep",
			    json_string_value(ref), SCHEMA_MAX_REF_DEPTH);
		return 0;
	}
	ctx->frames[ctx->nr_frames].target = target;
	ctx->frames[ctx->nr_frames].instance = inst;
	ctx->nr_frames++;
	ok = schema_eval(ctx, target, inst, target_base);
	ctx->nr_frames--;
	return ok;
}

int schema_eval_child(struct schema_ctx *ctx, const json_t *schema,
		      const json_t *item, const char *key, size_t idx,
		      const char *base)
{
	size_t old = key ? path_push_key(ctx, key) :
			   path_push_index(ctx, idx);
	int ok = schema_eval(ctx, schema, item, base);

	path_pop(ctx, old);
	return ok;
}

int schema_eval_quiet(struct schema_ctx *ctx, const json_t *schema,
		      const json_t *inst, const char *base)
{
	int ok;

	ctx->quiet++;
	ok = schema_eval(ctx, schema, inst, base);
	ctx->quiet--;
	return ok;
}

int schema_eval(struct schema_ctx *ctx, const json_t *schema,
		const json_t *inst, const char *parent_base)
{
	struct schema_kw_args a;
	const json_t *ref;
	char *base;
	void *it;
	int ok = 1;

	if (json_is_true(schema))
		return 1;
	if (json_is_false(schema)) {
		schema_emit(ctx, "false", "no value is allowed here");
		return 0;
	}
	if (!json_is_object(schema)) {
		schema_emit(ctx, "schema", "invalid schema: expected an "
			    "object or a boolean, got %s",
			    schema_type_name(schema));
		return 0;
	}
	ref = json_object_get(schema, "$ref");
	if (json_is_string(ref))
		return eval_ref(ctx, schema, ref, inst, parent_base);

	base = json_object_get(schema, "$id") ?
	       schema_own_base(schema, parent_base) : NULL;
	a.schema = schema;
	a.inst = inst;
	a.base = base ? base : parent_base;
	for (it = schema_obj_iter(schema); it;
	     it = schema_obj_next(schema, it)) {
		const struct schema_keyword *kw;

		kw = schema_keyword_find(json_object_iter_key(it));
		if (!kw)
			continue;
		a.value = json_object_iter_value(it);
		if (!kw->check(ctx, &a)) {
			ok = 0;
			if (schema_stop(ctx))
				break;
		}
	}
	free(base);
	return ok;
}

/* ------------------------------------------------------------------ */
/* Entry points                                                        */
/* ------------------------------------------------------------------ */

/*
 * Set up 'ctx' for validating against 'schema' (collecting at most
 * 'max_errors' errors) and map the "$id"s of 'schema'.
 */
static void ctx_init(struct schema_ctx *ctx, const json_t *schema,
		     size_t max_errors)
{
	memset(ctx, 0, sizeof(*ctx));
	ctx->errors = schema_must(json_array());
	ctx->max_errors = max_errors;
	buf_init(&ctx->path, 0);
	schema_refs_init(&ctx->refs, schema);
}

/* Release everything 'ctx' owns except 'ctx->errors'. */
static void ctx_release(struct schema_ctx *ctx)
{
	schema_map_release(&ctx->enums, schema_valset_free);
	schema_regex_cache_free(ctx->regexes);
	ctx->regexes = NULL;
	schema_refs_release(&ctx->refs);
	buf_release(&ctx->path);
}

json_t *schema_validate(const json_t *schema, const json_t *instance,
			size_t max_errors)
{
	struct schema_ctx ctx;

	ctx_init(&ctx, schema, max_errors);
	schema_eval(&ctx, schema, instance, "");
	ctx_release(&ctx);
	return ctx.errors;
}

int schema_is_valid(const json_t *schema, const json_t *instance)
{
	struct schema_ctx ctx;
	int ok;

	ctx_init(&ctx, schema, 1);
	ctx.quiet = 1;
	ok = schema_eval(&ctx, schema, instance, "");
	ctx_release(&ctx);
	json_decref(ctx.errors);
	return ok;
}
