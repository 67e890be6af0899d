/*
 * config_schema.c: reading the annotations of schemas/config.json
 * ("default", "writeOnly", "x-hpcloop-env", "x-hpcloop-redact") along an
 * instance (see config_schema.h).  The validator answers "is it valid";
 * this file answers "which schemas apply here", by expanding a list of
 * subschemas at each location the way a validator would descend, and
 * reads the annotations off that list.
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "buf.h"
#include "config_schema.h"
#include "embedded.h"
#include "err.h"
#include "schema.h"
#include "yaml.h"
#include "banned.h"

#define CONFIG_SCHEMA "schemas/config.json"

/* Deepest walk, in instance levels and "$ref"s followed one in another. */
#define WALK_MAX_DEPTH 64
/* Most passes over one object while defaults make new "if"s hold. */
#define DEFAULT_PASSES 8
/* Longest value that may stand for {key} in a variable name. */
#define ENV_WORD_MAX 64

json_t *config_schema_load(void)
{
	const struct embedded_file *f = embedded_find(CONFIG_SCHEMA);
	json_t *schema;

	if (!f)
		BUG("'%s' is not embedded", CONFIG_SCHEMA);
	schema = json_loadb((const char *)f->data, f->len, 0, NULL);
	if (!json_is_object(schema))
		BUG("'%s' is not a json object", CONFIG_SCHEMA);
	return schema;
}

/* ------------------------------------------------------------------ */
/* Which schemas apply                                                 */
/* ------------------------------------------------------------------ */

/*
 * The subschema of 'top' named by the "$ref" 'ref' ("#" or "#/a/b", a
 * JSON pointer), or NULL for any other reference.  Borrowed from 'top'.
 */
static const json_t *resolve_ref(const json_t *top, const char *ref)
{
	const json_t *node = top;
	struct buf seg = BUF_INIT;
	const char *p;

	if (ref[0] != '#')
		return NULL;
	p = ref + 1;
	while (node && *p == '/') {
		p = yaml_pointer_next(p, &seg);
		node = json_object_get(node, buf_str(&seg));
	}
	buf_release(&seg);
	return *p ? NULL : node;
}

/* Whether the schema 'v' holds a "$ref" anywhere. */
static int has_ref(const json_t *v)
{
	const json_t *child;
	const char *key;
	size_t i;

	if (json_is_object(v)) {
		json_object_foreach((json_t *)v, key, child)
			if (!strcmp(key, "$ref") || has_ref(child))
				return 1;
	} else if (json_is_array(v)) {
		json_array_foreach(v, i, child)
			if (has_ref(child))
				return 1;
	}
	return 0;
}

/*
 * Whether 'instance' is valid against 'sub', a subschema of 'top'.  A
 * 'sub' with references is checked inside a document that carries the
 * "definitions" of 'top', so that its "#/definitions/..." resolve.
 */
static int sub_is_valid(const json_t *top, const json_t *sub,
			const json_t *instance)
{
	const json_t *defs = json_object_get(top, "definitions");
	json_t *doc;
	int valid;

	if (!has_ref(sub))
		return schema_is_valid(sub, instance);
	doc = json_object();
	if (defs)
		json_object_set(doc, "definitions", (json_t *)defs);
	json_object_set_new(doc, "allOf", json_pack("[O]", (json_t *)sub));
	valid = schema_is_valid(doc, instance);
	json_decref(doc);
	return valid;
}

/*
 * Append to the array 'set' the schema 'schema' and every schema that
 * applies with it to 'instance' (NULL: a value that is absent, for which
 * only "$ref" and "allOf" are followed).
 */
static void expand(const json_t *top, const json_t *schema,
		   const json_t *instance, json_t *set, int depth)
{
	static const char *const branches[] = { "anyOf", "oneOf", NULL };
	const json_t *v, *cond;
	const char *ref;
	size_t i, b;

	if (!json_is_object(schema) || depth > WALK_MAX_DEPTH)
		return;
	json_array_append(set, (json_t *)schema);
	ref = json_string_value(json_object_get(schema, "$ref"));
	if (ref) {
		expand(top, resolve_ref(top, ref), instance, set, depth + 1);
		return;
	}
	json_array_foreach(json_object_get(schema, "allOf"), i, v)
		expand(top, v, instance, set, depth + 1);
	if (!instance)
		return;
	for (b = 0; branches[b]; b++)
		json_array_foreach(json_object_get(schema, branches[b]), i, v)
			if (sub_is_valid(top, v, instance))
				expand(top, v, instance, set, depth + 1);
	cond = json_object_get(schema, "if");
	if (!cond)
		return;
	v = json_object_get(schema, sub_is_valid(top, cond, instance) ?
				    "then" : "else");
	expand(top, v, instance, set, depth + 1);
}

/* The schemas that apply to 'instance' under the array 'roots'; new. */
static json_t *expand_all(const json_t *top, const json_t *roots,
			  const json_t *instance, int depth)
{
	json_t *set = json_array();
	const json_t *s;
	size_t i;

	json_array_foreach(roots, i, s)
		expand(top, s, instance, set, depth);
	return set;
}

/* The first value of the annotation 'key' in the schemas 'set', or NULL. */
static const json_t *set_find(const json_t *set, const char *key)
{
	const json_t *s, *v;
	size_t i;

	json_array_foreach(set, i, s) {
		v = json_object_get(s, key);
		if (v)
			return v;
	}
	return NULL;
}

/* Whether one of the schemas 'set' says "'key': true". */
static int set_true(const json_t *set, const char *key)
{
	const json_t *s;
	size_t i;

	json_array_foreach(set, i, s)
		if (json_is_true(json_object_get(s, key)))
			return 1;
	return 0;
}

/* Whether the string 'key' matches the regular expression 'pattern'. */
static int key_matches(const char *pattern, const char *key)
{
	json_t *schema = json_pack("{s:s}", "pattern", pattern);
	json_t *k = json_string(key);
	int match = k && schema_is_valid(schema, k);

	json_decref(schema);
	json_decref(k);
	return match;
}

/*
 * A new array of the schemas that the schemas 'set' apply directly to
 * their member 'key': from "properties", from the "patternProperties"
 * that match it, else from "additionalProperties".  '*named_out' is 1
 * when one came from "properties".
 */
static json_t *member_roots(const json_t *set, const char *key,
			    int *named_out)
{
	json_t *roots = json_array();
	const json_t *s, *v, *sub;
	const char *pattern;
	size_t i;
	int hit;

	*named_out = 0;
	json_array_foreach(set, i, s) {
		v = json_object_get(json_object_get(s, "properties"), key);
		hit = v != NULL;
		if (v) {
			json_array_append(roots, (json_t *)v);
			*named_out = 1;
		}
		json_object_foreach((json_t *)json_object_get(
			s, "patternProperties"), pattern, sub) {
			if (!key_matches(pattern, key))
				continue;
			json_array_append(roots, (json_t *)sub);
			hit = 1;
		}
		v = json_object_get(s, "additionalProperties");
		if (!hit && json_is_object(v))
			json_array_append(roots, (json_t *)v);
	}
	return roots;
}

/* A new array of the schemas that the schemas 'set' apply to items. */
static json_t *item_roots(const json_t *set)
{
	json_t *roots = json_array();
	const json_t *s, *v;
	size_t i;

	json_array_foreach(set, i, s) {
		v = json_object_get(s, "items");
		if (json_is_object(v))
			json_array_append(roots, (json_t *)v);
	}
	return roots;
}

/* ------------------------------------------------------------------ */
/* Unknown keys                                                        */
/* ------------------------------------------------------------------ */

/*
 * Whether the schema 's' lets an object hold the member 'key': it has
 * no "additionalProperties": false, or names or patterns 'key'.
 */
static int allows_key(const json_t *s, const char *key)
{
	const json_t *sub;
	const char *pattern;

	if (!json_is_false(json_object_get(s, "additionalProperties")))
		return 1;
	if (json_object_get(json_object_get(s, "properties"), key))
		return 1;
	json_object_foreach((json_t *)json_object_get(s, "patternProperties"),
			    pattern, sub)
		if (key_matches(pattern, key))
			return 1;
	return 0;
}

const char *config_schema_unknown_key(const json_t *top,
				      const json_t *instance,
				      const char *pointer)
{
	json_t *roots = json_pack("[O]", (json_t *)top), *set, *next;
	const json_t *node = instance, *s, *v;
	struct buf seg = BUF_INIT;
	const char *p = pointer, *key, *unknown = NULL;
	size_t i;
	int named, depth = 0;

	while (node && *p == '/' && depth++ < WALK_MAX_DEPTH) {
		p = yaml_pointer_next(p, &seg);
		set = expand_all(top, roots, node, 0);
		if (json_is_array(node)) {
			next = item_roots(set);
			node = json_array_get(node, strtoul(buf_str(&seg),
							    NULL, 10));
		} else {
			next = member_roots(set, buf_str(&seg), &named);
			node = json_object_get(node, buf_str(&seg));
		}
		json_decref(set);
		json_decref(roots);
		roots = next;
	}
	set = expand_all(top, roots, node, 0);
	json_object_foreach((json_t *)(json_is_object(node) ? node : NULL),
			    key, v) {
		json_array_foreach(set, i, s)
			if (!allows_key(s, key))
				break;
		if (i < json_array_size(set)) {
			unknown = key;
			break;
		}
	}
	json_decref(set);
	json_decref(roots);
	buf_release(&seg);
	return unknown;
}

/* ------------------------------------------------------------------ */
/* Defaults                                                            */
/* ------------------------------------------------------------------ */

/* The "default" that applies to an absent 'key' under 'set', or NULL. */
static const json_t *default_of(const json_t *top, const json_t *set,
				const char *key)
{
	json_t *roots, *dset;
	const json_t *d;
	int named;

	roots = member_roots(set, key, &named);
	dset = expand_all(top, roots, NULL, 0);
	d = named ? set_find(dset, "default") : NULL;
	json_decref(roots);
	json_decref(dset);
	return d;
}

/*
 * Add to the object 'instance' the defaults of the properties that the
 * schemas 'set' name and it lacks.  Returns how many were added.
 */
static int add_defaults(const json_t *top, const json_t *set,
			json_t *instance)
{
	const json_t *s, *d, *prop;
	const char *key;
	int added = 0;
	size_t i;

	json_array_foreach(set, i, s) {
		json_object_foreach((json_t *)json_object_get(s, "properties"),
				    key, prop) {
			if (json_object_get(instance, key))
				continue;
			d = default_of(top, set, key);
			if (!d)
				continue;
			json_object_set_new(instance, key, json_deep_copy(d));
			added++;
		}
	}
	return added;
}

/* Fill the defaults of 'instance', to which the schemas 'roots' apply. */
static void fill(const json_t *top, const json_t *roots, json_t *instance,
		 int depth)
{
	json_t *set = NULL, *child_roots, *v;
	const char *key;
	int pass, named;
	size_t i;

	if (depth > WALK_MAX_DEPTH)
		return;
	set = expand_all(top, roots, instance, depth);
	for (pass = 0; json_is_object(instance) && pass < DEFAULT_PASSES;
	     pass++) {
		if (!add_defaults(top, set, instance))
			break;
		json_decref(set);
		set = expand_all(top, roots, instance, depth);
	}
	if (json_is_object(instance)) {
		json_object_foreach(instance, key, v) {
			child_roots = member_roots(set, key, &named);
			fill(top, child_roots, v, depth + 1);
			json_decref(child_roots);
		}
	} else if (json_is_array(instance)) {
		child_roots = item_roots(set);
		json_array_foreach(instance, i, v)
			fill(top, child_roots, v, depth + 1);
		json_decref(child_roots);
	}
	json_decref(set);
}

void config_schema_defaults(const json_t *top, const json_t *schema,
			    json_t *instance)
{
	json_t *roots = json_pack("[O]", (json_t *)schema);

	fill(top, roots, instance, 0);
	json_decref(roots);
}

/* ------------------------------------------------------------------ */
/* Secrets                                                             */
/* ------------------------------------------------------------------ */

/* The state of one walk for secrets. */
struct secret_walk {
	const json_t *top;	/* the schema document */
	json_t *out;		/* the array of secrets being built */
	struct buf ptr;		/* JSON pointer of the current location */
	struct buf env;		/* its derived variable name, while named */
};

/* Cut 'b' back to its first 'len' bytes. */
static void buf_cut(struct buf *b, size_t len)
{
	if (b->data && len <= b->len) {
		b->len = len;
		b->data[len] = '\0';
	}
}

/*
 * Append 's' to 'b' for a variable name: letters upper cased, '-' as
 * '_'.  Returns -1 (and appends nothing useful) when 's' is empty,
 * longer than 'max' (0: no limit) or holds anything but letters, digits,
 * '_' and '-'.
 */
static int env_add_word(struct buf *b, const char *s, size_t max)
{
	size_t n = strlen(s), i;
	char c;

	if (!n || (max && n > max))
		return -1;
	for (i = 0; i < n; i++) {
		c = s[i];
		if (c >= 'a' && c <= 'z')
			c = (char)(c - 'a' + 'A');
		else if (c == '-')
			c = '_';
		else if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
			   c == '_'))
			return -1;
		buf_add(b, &c, 1);
	}
	return 0;
}

/*
 * The variable named by the template 'tmpl' ("HPCLOOP_NOTIFY_{name}_
 * TOKEN") for a value inside the object 'parent', into 'out'.  Returns
 * -1 when a {key} cannot be filled.
 */
static int env_from_template(struct buf *out, const char *tmpl,
			     const json_t *parent)
{
	const char *end, *s;
	char key[128];
	size_t n;

	while (*tmpl) {
		if (*tmpl != '{') {
			buf_add(out, tmpl++, 1);
			continue;
		}
		end = strchr(tmpl, '}');
		n = end ? (size_t)(end - tmpl - 1) : 0;
		if (!end || !n || n >= sizeof(key))
			return -1;
		memcpy(key, tmpl + 1, n);
		key[n] = '\0';
		s = json_string_value(json_object_get(parent, key));
		if (!s || env_add_word(out, s, ENV_WORD_MAX) < 0)
			return -1;
		tmpl = end + 1;
	}
	return 0;
}

/*
 * Record the secret at the current location of 'w', to which the schemas
 * 'set' apply; 'value' is what is there (NULL: nothing), 'parent' the
 * object holding it and 'named' whether the derived variable applies.
 */
static void add_secret(struct secret_walk *w, const json_t *set,
		       const json_t *value, const json_t *parent, int named)
{
	const char *tmpl = json_string_value(set_find(set, "x-hpcloop-env"));
	const char *mode = json_string_value(set_find(set,
						       "x-hpcloop-redact"));
	struct buf var = BUF_INIT;
	json_t *entry;
	int has_env = 0;

	if (tmpl)
		has_env = env_from_template(&var, tmpl, parent) == 0;
	else if (named) {
		buf_addf(&var, "HPCLOOP_%s", buf_str(&w->env));
		has_env = 1;
	}
	if (value || has_env) {
		entry = json_pack("{s:s, s:s}", "pointer", buf_str(&w->ptr),
				  "redact", mode && !strcmp(mode, "userinfo") ?
				  "userinfo" : "all");
		if (has_env)
			json_object_set_new(entry, "env",
					    json_string(buf_str(&var)));
		json_array_append_new(w->out, entry);
	}
	buf_release(&var);
}

static void walk(struct secret_walk *w, const json_t *roots,
		 const json_t *value, const json_t *parent, int named,
		 int depth);

/*
 * Walk the member 'key' (holding 'value', or NULL when absent) of the
 * object 'parent', to which the schemas 'set' apply.
 */
static void walk_member(struct secret_walk *w, const json_t *set,
			const char *key, const json_t *value,
			const json_t *parent, int named, int depth)
{
	size_t ptr_len = w->ptr.len, env_len = w->env.len;
	json_t *roots;
	int by_name;

	roots = member_roots(set, key, &by_name);
	yaml_pointer_add(&w->ptr, key);
	named = named && by_name;
	if (named) {
		if (w->env.len)
			buf_adds(&w->env, "_");
		named = env_add_word(&w->env, key, 0) == 0;
	}
	walk(w, roots, value, parent, named, depth + 1);
	buf_cut(&w->ptr, ptr_len);
	buf_cut(&w->env, env_len);
	json_decref(roots);
}

/*
 * Walk the location of 'w', holding 'value' (NULL: absent) inside the
 * object 'parent', to which the schemas 'roots' apply.  'named' is 1
 * while every step from the top was a named property.
 */
static void walk(struct secret_walk *w, const json_t *roots,
		 const json_t *value, const json_t *parent, int named,
		 int depth)
{
	json_t *set, *seen = NULL, *item_set;
	const json_t *s, *prop, *v;
	size_t ptr_len = w->ptr.len, i, j;
	const char *key;

	if (depth > WALK_MAX_DEPTH)
		return;
	set = expand_all(w->top, roots, value, depth);
	if (set_true(set, "writeOnly")) {
		add_secret(w, set, value, parent, named);
		goto out;
	}
	if (json_is_object(value)) {
		json_object_foreach((json_t *)value, key, v)
			walk_member(w, set, key, v, value, named, depth);
	}
	if (json_is_object(value) || (!value && named)) {
		/* absent keys that a variable could fill */
		seen = json_object();
		json_array_foreach(set, i, s) {
			json_object_foreach((json_t *)json_object_get(
				s, "properties"), key, prop) {
				if (json_object_get(value, key) ||
				    json_object_get(seen, key))
					continue;
				json_object_set_new(seen, key, json_true());
				walk_member(w, set, key, NULL, value, named,
					    depth);
			}
		}
	}
	if (json_is_array(value)) {
		item_set = item_roots(set);
		json_array_foreach(value, j, v) {
			buf_addf(&w->ptr, "/%zu", j);
			walk(w, item_set, v, NULL, 0, depth + 1);
			buf_cut(&w->ptr, ptr_len);
		}
		json_decref(item_set);
	}
out:
	json_decref(seen);
	json_decref(set);
}

json_t *config_schema_secrets(const json_t *top, const json_t *instance)
{
	struct secret_walk w;
	json_t *roots = json_pack("[O]", (json_t *)top);

	w.top = top;
	w.out = json_array();
	buf_init(&w.ptr, 0);
	buf_init(&w.env, 0);
	walk(&w, roots, instance, NULL, 1, 0);
	buf_release(&w.ptr);
	buf_release(&w.env);
	json_decref(roots);
	return w.out;
}

int config_schema_is_secret(const json_t *secrets, const char *pointer)
{
	const json_t *e;
	const char *p;
	size_t i, n;

	json_array_foreach(secrets, i, e) {
		p = json_string_value(json_object_get(e, "pointer"));
		if (!p)
			continue;
		n = strlen(p);
		if (!strncmp(pointer, p, n) &&
		    (pointer[n] == '\0' || pointer[n] == '/'))
			return 1;
	}
	return 0;
}
