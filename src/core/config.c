/*
 * config.c: reading hpcloop.yaml (see config.h).  The text is parsed
 * with libyaml's event API (or jansson, for JSON) into a jansson object
 * while a side table remembers the line of every key, so that a problem
 * found later, by the schema or by a cross-check, can still be reported
 * as "hpcloop.yaml:12: studies.demo.cluster: ...".  The rest of the file
 * answers questions about a loaded config: job options, context, agent
 * command, environment, sprint directories, and a redacted copy.
 */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <yaml.h>

#include "buf.h"
#include "config.h"
#include "embedded.h"
#include "err.h"
#include "schema.h"
#include "xalloc.h"
#include "banned.h"

/* Most values a document may expand to, alias copies included. */
#define CONFIG_MAX_NODES (1 << 18)
/* Largest context file, and largest context once joined. */
#define CONFIG_MAX_CONTEXT (16 * 1024 * 1024)
/* Most schema errors kept in details.errors. */
#define CONFIG_MAX_SCHEMA_ERRORS 100

#define CONFIG_SCHEMA "schemas/config.json"
#define JOB_KEY_PATTERN "^[A-Za-z][A-Za-z0-9_-]*$"

/* ------------------------------------------------------------------ */
/* Key paths and locations                                             */
/* ------------------------------------------------------------------ */

/*
 * Where a value sits, for messages: the name of the text, the parsed
 * root, and the line table built by the reader (an object mapping JSON
 * pointers to a line number, or to the name of the environment variable
 * that set the value; may be NULL).
 */
struct where {
	const char *origin;
	const json_t *root;
	const json_t *lines;
	struct err *err;
};

/* Append the JSON pointer segment for the key 'key' to 'p'. */
static void ptr_push_key(struct buf *p, const char *key)
{
	const char *c;

	buf_adds(p, "/");
	for (c = key; *c; c++) {
		if (*c == '~')
			buf_adds(p, "~0");
		else if (*c == '/')
			buf_adds(p, "~1");
		else
			buf_add(p, c, 1);
	}
}

/* Cut 'b' back to its first 'len' bytes. */
static void buf_cut(struct buf *b, size_t len)
{
	if (b->data && len <= b->len) {
		b->len = len;
		b->data[len] = '\0';
	}
}

/*
 * The key path of the JSON pointer 'pointer' in 'root', dotted as users
 * write it ("studies.demo.cluster", "notifications[0].token"), or "top
 * level" for the root.  A new string.
 */
static char *dotted_path(const json_t *root, const char *pointer)
{
	struct buf out = BUF_INIT, seg = BUF_INIT;
	const json_t *node = root;
	const char *p = pointer ? pointer : "";

	while (*p == '/') {
		p++;
		buf_cut(&seg, 0);
		while (*p && *p != '/') {
			if (p[0] == '~' && p[1] == '0') {
				buf_adds(&seg, "~");
				p += 2;
			} else if (p[0] == '~' && p[1] == '1') {
				buf_adds(&seg, "/");
				p += 2;
			} else {
				buf_add(&seg, p++, 1);
			}
		}
		if (json_is_array(node)) {
			buf_addf(&out, "[%s]", buf_str(&seg));
			node = json_array_get(node,
					      strtoul(buf_str(&seg), NULL, 10));
		} else {
			if (out.len)
				buf_adds(&out, ".");
			buf_adds(&out, buf_str(&seg));
			node = json_object_get(node, buf_str(&seg));
		}
	}
	buf_release(&seg);
	if (!out.len)
		buf_adds(&out, "top level");
	return buf_detach(&out, NULL);
}

/*
 * The entry of 'lines' for 'pointer' or, failing that, for its nearest
 * ancestor that has one; NULL when none does.  Borrowed.
 */
static const json_t *where_lookup(const json_t *lines, const char *pointer)
{
	char *p = xstrdup(pointer ? pointer : "");
	const json_t *hit = NULL;
	char *slash;

	while (lines && *p) {
		hit = json_object_get(lines, p);
		if (hit)
			break;
		slash = strrchr(p, '/');
		if (!slash)
			break;
		*slash = '\0';
	}
	free(p);
	return hit;
}

/*
 * Record 'code' in 'w->err' with a message naming the file, the line
 * (or the environment variable) and the key path of 'pointer', followed
 * by 'fmt'.  Returns -1.
 */
__attribute__((format(printf, 4, 5)))
static int where_error(const struct where *w, enum err_code code,
		       const char *pointer, const char *fmt, ...)
{
	char msg[ERR_MESSAGE_MAX];
	const json_t *at = where_lookup(w->lines, pointer);
	char *dotted = dotted_path(w->root, pointer);
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (json_is_integer(at))
		err_set(w->err, code, "%s:%" JSON_INTEGER_FORMAT ": %s: %s",
			w->origin, json_integer_value(at), dotted, msg);
	else if (json_is_string(at))
		err_set(w->err, code, "%s: %s (from %s): %s", w->origin,
			dotted, json_string_value(at), msg);
	else
		err_set(w->err, code, "%s: %s: %s", w->origin, dotted, msg);
	free(dotted);
	return -1;
}

/* ------------------------------------------------------------------ */
/* The YAML reader                                                     */
/* ------------------------------------------------------------------ */

/* A node that carried an anchor, kept for the aliases that follow. */
struct yaml_anchor {
	char *name;	/* owned */
	json_t *value;	/* owned reference */
	size_t nodes;	/* values in 'value', for the expansion limit */
	int height;	/* levels of maps and lists in 'value' */
};

/* The state of one YAML parse. */
struct yaml_reader {
	yaml_parser_t parser;
	const char *origin;		/* names the text in messages */
	struct err *err;
	json_t *lines;			/* pointer -> line, owned */
	struct buf ptr;			/* JSON pointer of the current node */
	struct buf dot;			/* the same, as a dotted key path */
	struct yaml_anchor *anchors;	/* owned array */
	size_t nr_anchors, alloc_anchors;
	size_t nodes;			/* values made, alias copies included */
};

/*
 * Record config_invalid naming 'line' (1-based; 0 for none) and the key
 * path being read.  Returns -1.
 */
__attribute__((format(printf, 3, 4)))
static int reader_error(struct yaml_reader *r, size_t line,
			const char *fmt, ...)
{
	char msg[ERR_MESSAGE_MAX];
	char at[64] = "";
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (line)
		snprintf(at, sizeof(at), ":%zu", line);
	if (r->dot.len)
		return err_set(r->err, ERR_CONFIG_INVALID, "%s%s: %s: %s",
			       r->origin, at, buf_str(&r->dot), msg);
	return err_set(r->err, ERR_CONFIG_INVALID, "%s%s: %s", r->origin, at,
		       msg);
}

/* Read the next event into 'ev', turning a libyaml failure into 'err'. */
static int reader_next(struct yaml_reader *r, yaml_event_t *ev)
{
	const char *problem, *context;

	if (yaml_parser_parse(&r->parser, ev))
		return 0;
	problem = r->parser.problem ? r->parser.problem : "syntax error";
	context = r->parser.context;
	if (r->parser.error == YAML_MEMORY_ERROR)
		return err_set(r->err, ERR_INTERNAL, "out of memory");
	if (context)
		return err_set(r->err, ERR_CONFIG_INVALID,
			       "%s:%zu: cannot parse yaml: %s (%s)", r->origin,
			       r->parser.problem_mark.line + 1, problem,
			       context);
	return err_set(r->err, ERR_CONFIG_INVALID,
		       "%s:%zu: cannot parse yaml: %s", r->origin,
		       r->parser.problem_mark.line + 1, problem);
}

/* Count 'n' more values, failing when the document grows too big. */
static int reader_count(struct yaml_reader *r, size_t n, size_t line)
{
	if (n > CONFIG_MAX_NODES || r->nodes > CONFIG_MAX_NODES - n)
		return reader_error(r, line, "document expands to more than "
				    "%d values", CONFIG_MAX_NODES);
	r->nodes += n;
	return 0;
}

/* Whether the 'len' bytes at 's' equal one of the NULL-ended 'words'. */
static int is_one_of(const char *s, size_t len, const char *const *words)
{
	for (; *words; words++)
		if (strlen(*words) == len && !memcmp(s, *words, len))
			return 1;
	return 0;
}

/* Whether 's' (of 'len' bytes) is non-empty and all in the set 'digits'. */
static int all_of(const char *s, size_t len, const char *digits)
{
	size_t i;

	if (!len)
		return 0;
	for (i = 0; i < len; i++)
		if (!s[i] || !strchr(digits, s[i]))
			return 0;
	return 1;
}

/* Whether 's' is a YAML 1.2 core float: [-+]?(\.d+|d+(\.d*)?)([eE][-+]?d+)? */
static int is_float(const char *s, size_t len)
{
	size_t i = 0, lead = 0, frac = 0, exp = 0;

	if (i < len && (s[i] == '-' || s[i] == '+'))
		i++;
	while (i < len && s[i] >= '0' && s[i] <= '9')
		i++, lead++;
	if (i < len && s[i] == '.') {
		i++;
		while (i < len && s[i] >= '0' && s[i] <= '9')
			i++, frac++;
	} else if (!lead) {
		return 0;
	}
	if (!lead && !frac)
		return 0;
	if (i < len && (s[i] == 'e' || s[i] == 'E')) {
		i++;
		if (i < len && (s[i] == '-' || s[i] == '+'))
			i++;
		while (i < len && s[i] >= '0' && s[i] <= '9')
			i++, exp++;
		if (!exp)
			return 0;
	}
	return i == len;
}

/*
 * Resolve the plain scalar 's' of 'len' bytes by the YAML 1.2 core
 * schema into a new value in '*out' (a string when nothing else fits).
 */
static int resolve_plain(struct yaml_reader *r, json_t **out, const char *s,
			 size_t len, size_t line)
{
	static const char *const nulls[] = { "~", "null", "Null", "NULL",
					     NULL };
	static const char *const trues[] = { "true", "True", "TRUE", NULL };
	static const char *const falses[] = { "false", "False", "FALSE",
					      NULL };
	static const char *const specials[] = {
		".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF", "-.inf",
		"-.Inf", "-.INF", ".nan", ".NaN", ".NAN", NULL
	};
	char *copy = NULL;
	const char *digits = s;
	size_t ndigits = len;
	int base = 10, ret = 0;
	long long ll;
	double d;

	if (!len || is_one_of(s, len, nulls)) {
		*out = json_null();
		return 0;
	}
	if (is_one_of(s, len, trues) || is_one_of(s, len, falses)) {
		*out = json_boolean(is_one_of(s, len, trues));
		return 0;
	}
	if (is_one_of(s, len, specials))
		return reader_error(r, line, "infinite and nan numbers are "
				    "not supported");
	if (len > 2 && s[0] == '0' && (s[1] == 'o' || s[1] == 'x')) {
		base = s[1] == 'o' ? 8 : 16;
		digits = s + 2;
		ndigits = len - 2;
	} else if (s[0] == '-' || s[0] == '+') {
		digits = s + 1;
		ndigits = len - 1;
	}
	copy = xstrndup(s, len);
	errno = 0;
	if (all_of(digits, ndigits, base == 8 ? "01234567" :
		   base == 16 ? "0123456789abcdefABCDEF" : "0123456789")) {
		ll = strtoll(base == 10 ? copy : copy + 2, NULL, base);
		if (errno == ERANGE)
			ret = reader_error(r, line, "integer out of range");
		else
			*out = json_integer(ll);
	} else if (is_float(s, len)) {
		d = strtod(copy, NULL);
		if (!isfinite(d))
			ret = reader_error(r, line, "number out of range");
		else
			*out = json_real(d);
	} else {
		*out = json_stringn(s, len);
	}
	free(copy);
	return ret;
}

/* Read the scalar event 'ev' into a new value in '*out'. */
static int read_scalar(struct yaml_reader *r, const yaml_event_t *ev,
		       json_t **out)
{
	const char *tag = (const char *)ev->data.scalar.tag;
	const char *s = (const char *)ev->data.scalar.value;
	size_t len = ev->data.scalar.length;
	size_t line = ev->start_mark.line + 1;

	*out = NULL;
	if (tag && strcmp(tag, "!") && strcmp(tag, YAML_STR_TAG))
		return reader_error(r, line, "unsupported tag '%s'", tag);
	if (!tag && ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE) {
		if (resolve_plain(r, out, s, len, line) < 0)
			return -1;
	} else {
		*out = json_stringn(s, len);
	}
	if (!*out)
		return reader_error(r, line, "value is not valid utf-8");
	return 0;
}

/* The anchor of the node started by 'ev', or NULL. */
static const char *event_anchor(const yaml_event_t *ev)
{
	switch (ev->type) {
	case YAML_SCALAR_EVENT:
		return (const char *)ev->data.scalar.anchor;
	case YAML_SEQUENCE_START_EVENT:
		return (const char *)ev->data.sequence_start.anchor;
	case YAML_MAPPING_START_EVENT:
		return (const char *)ev->data.mapping_start.anchor;
	default:
		return NULL;
	}
}

/* Remember 'value' (of 'nodes' values and 'height' levels) as 'name'. */
static void reader_anchor(struct yaml_reader *r, const char *name,
			  json_t *value, size_t nodes, int height)
{
	struct yaml_anchor *a;

	if (r->nr_anchors == r->alloc_anchors) {
		r->alloc_anchors = r->alloc_anchors ? 2 * r->alloc_anchors : 8;
		r->anchors = xrealloc(r->anchors, r->alloc_anchors *
				      sizeof(*r->anchors));
	}
	a = &r->anchors[r->nr_anchors++];
	a->name = xstrdup(name);
	a->value = json_incref(value);
	a->nodes = nodes;
	a->height = height;
}

static int read_node(struct yaml_reader *r, yaml_event_t *ev, int depth,
		     json_t **out, int *height);

/*
 * Read the alias event 'ev', met at nesting level 'depth', as a copy of
 * the node its anchor names.
 */
static int read_alias(struct yaml_reader *r, const yaml_event_t *ev,
		      int depth, json_t **out, int *height)
{
	const char *name = (const char *)ev->data.alias.anchor;
	size_t line = ev->start_mark.line + 1;
	size_t i;

	for (i = r->nr_anchors; i > 0; i--) {
		struct yaml_anchor *a = &r->anchors[i - 1];

		if (strcmp(a->name, name))
			continue;
		if (depth - 1 + a->height > CONFIG_MAX_DEPTH)
			return reader_error(r, line, "nested deeper than %d "
					    "levels", CONFIG_MAX_DEPTH);
		if (reader_count(r, a->nodes, line) < 0)
			return -1;
		*out = json_deep_copy(a->value);
		*height = a->height;
		if (!*out)
			return err_set(r->err, ERR_INTERNAL, "out of memory");
		return 0;
	}
	return reader_error(r, line, "unknown anchor '%s'", name);
}

/* Check a collection tag: none, or the standard one 'std'. */
static int check_tag(struct yaml_reader *r, const yaml_char_t *tag,
		     const char *std, size_t line)
{
	if (tag && strcmp((const char *)tag, std) &&
	    strcmp((const char *)tag, "!"))
		return reader_error(r, line, "unsupported tag '%s'",
				    (const char *)tag);
	return 0;
}

/*
 * Read the items of the sequence started by 'ev' at nesting level
 * 'depth' into a new array in '*out'.
 */
static int read_sequence(struct yaml_reader *r, const yaml_event_t *ev,
			 int depth, json_t **out, int *height)
{
	size_t line = ev->start_mark.line + 1;
	size_t ptr_len = r->ptr.len, dot_len = r->dot.len, i;
	json_t *arr = NULL, *v;
	yaml_event_t child;
	int h, ret = -1;

	*height = 1;
	if (depth > CONFIG_MAX_DEPTH) {
		reader_error(r, line, "nested deeper than %d levels",
			     CONFIG_MAX_DEPTH);
		goto out;
	}
	if (check_tag(r, ev->data.sequence_start.tag, YAML_SEQ_TAG, line))
		goto out;
	arr = json_array();
	if (!arr) {
		err_set(r->err, ERR_INTERNAL, "out of memory");
		goto out;
	}
	for (i = 0;; i++) {
		if (reader_next(r, &child) < 0)
			goto out;
		if (child.type == YAML_SEQUENCE_END_EVENT) {
			yaml_event_delete(&child);
			break;
		}
		buf_addf(&r->ptr, "/%zu", i);
		buf_addf(&r->dot, "[%zu]", i);
		json_object_set_new(r->lines, buf_str(&r->ptr),
				    json_integer(child.start_mark.line + 1));
		if (read_node(r, &child, depth + 1, &v, &h) < 0)
			goto out;
		buf_cut(&r->ptr, ptr_len);
		buf_cut(&r->dot, dot_len);
		if (json_array_append_new(arr, v) < 0) {
			err_set(r->err, ERR_INTERNAL, "out of memory");
			goto out;
		}
		if (h + 1 > *height)
			*height = h + 1;
	}
	*out = arr;
	arr = NULL;
	ret = 0;
out:
	json_decref(arr);
	return ret;
}

/*
 * Read the pairs of the mapping started by 'ev' at nesting level
 * 'depth' into a new object in '*out'.  Keys must be scalars, without
 * NUL bytes, and unique.
 */
static int read_mapping(struct yaml_reader *r, const yaml_event_t *ev,
			int depth, json_t **out, int *height)
{
	size_t line = ev->start_mark.line + 1;
	size_t ptr_len = r->ptr.len, dot_len = r->dot.len, klen;
	json_t *obj = NULL, *v;
	yaml_event_t kev, vev;
	char *key = NULL;
	int h, ret = -1;

	*height = 1;
	if (depth > CONFIG_MAX_DEPTH) {
		reader_error(r, line, "nested deeper than %d levels",
			     CONFIG_MAX_DEPTH);
		goto out;
	}
	if (check_tag(r, ev->data.mapping_start.tag, YAML_MAP_TAG, line))
		goto out;
	obj = json_object();
	if (!obj) {
		err_set(r->err, ERR_INTERNAL, "out of memory");
		goto out;
	}
	for (;;) {
		if (reader_next(r, &kev) < 0)
			goto out;
		if (kev.type == YAML_MAPPING_END_EVENT) {
			yaml_event_delete(&kev);
			break;
		}
		line = kev.start_mark.line + 1;
		if (kev.type != YAML_SCALAR_EVENT) {
			yaml_event_delete(&kev);
			reader_error(r, line, "keys must be plain strings");
			goto out;
		}
		klen = kev.data.scalar.length;
		key = xstrndup((const char *)kev.data.scalar.value, klen);
		yaml_event_delete(&kev);
		if (strlen(key) != klen) {
			reader_error(r, line, "key contains a nul byte");
			goto out;
		}
		ptr_push_key(&r->ptr, key);
		if (r->dot.len)
			buf_adds(&r->dot, ".");
		buf_adds(&r->dot, key);
		if (json_object_get(obj, key)) {
			reader_error(r, line, "duplicate key");
			goto out;
		}
		json_object_set_new(r->lines, buf_str(&r->ptr),
				    json_integer(line));
		if (reader_next(r, &vev) < 0)
			goto out;
		if (read_node(r, &vev, depth + 1, &v, &h) < 0)
			goto out;
		if (json_object_set_new(obj, key, v) < 0) {
			err_set(r->err, ERR_INTERNAL, "out of memory");
			goto out;
		}
		free(key);
		key = NULL;
		buf_cut(&r->ptr, ptr_len);
		buf_cut(&r->dot, dot_len);
		if (h + 1 > *height)
			*height = h + 1;
	}
	*out = obj;
	obj = NULL;
	ret = 0;
out:
	free(key);
	json_decref(obj);
	return ret;
}

/*
 * Read the node that the event 'ev' starts, at nesting level 'depth'
 * (the top node is level 1), into a new value in '*out' and the number
 * of map and list levels it holds in '*height'.  Takes over 'ev' and
 * deletes it.
 */
static int read_node(struct yaml_reader *r, yaml_event_t *ev, int depth,
		     json_t **out, int *height)
{
	size_t line = ev->start_mark.line + 1;
	size_t before = r->nodes;
	const char *anchor = event_anchor(ev);
	int ret;

	*out = NULL;
	*height = 0;
	if (ev->type != YAML_ALIAS_EVENT && reader_count(r, 1, line) < 0) {
		yaml_event_delete(ev);
		return -1;
	}
	switch (ev->type) {
	case YAML_SCALAR_EVENT:
		ret = read_scalar(r, ev, out);
		break;
	case YAML_SEQUENCE_START_EVENT:
		ret = read_sequence(r, ev, depth, out, height);
		break;
	case YAML_MAPPING_START_EVENT:
		ret = read_mapping(r, ev, depth, out, height);
		break;
	case YAML_ALIAS_EVENT:
		ret = read_alias(r, ev, depth, out, height);
		break;
	default:
		ret = reader_error(r, line, "unexpected yaml event");
		break;
	}
	if (!ret && anchor)
		reader_anchor(r, anchor, *out, r->nodes - before, *height);
	yaml_event_delete(ev);
	return ret;
}

/* Expect the next event to be of 'type'; otherwise report 'what'. */
static int reader_expect(struct yaml_reader *r, yaml_event_type_t type,
			 const char *what)
{
	yaml_event_t ev;
	size_t line;

	if (reader_next(r, &ev) < 0)
		return -1;
	line = ev.start_mark.line + 1;
	if (ev.type == type) {
		yaml_event_delete(&ev);
		return 0;
	}
	yaml_event_delete(&ev);
	return reader_error(r, line, "%s", what);
}

/*
 * Parse the YAML 'text' of 'len' bytes into a new value in '*out' and
 * its line table in '*lines_out'.  Exactly one document is accepted.
 */
static int config_read_yaml(json_t **out, json_t **lines_out,
			    const char *text, size_t len, const char *origin,
			    struct err *err)
{
	struct yaml_reader r;
	yaml_event_t ev;
	json_t *root = NULL;
	int height, ret = -1, started = 0;
	size_t i;

	memset(&r, 0, sizeof(r));
	r.origin = origin;
	r.err = err;
	buf_init(&r.ptr, 0);
	buf_init(&r.dot, 0);
	r.lines = json_object();
	if (!r.lines || !yaml_parser_initialize(&r.parser)) {
		err_set(err, ERR_INTERNAL, "out of memory");
		goto out;
	}
	started = 1;
	yaml_parser_set_input_string(&r.parser, (const unsigned char *)text,
				     len);
	if (reader_expect(&r, YAML_STREAM_START_EVENT, "no stream") < 0)
		goto out;
	if (reader_next(&r, &ev) < 0)
		goto out;
	if (ev.type != YAML_DOCUMENT_START_EVENT) {
		yaml_event_delete(&ev);
		err_set(err, ERR_CONFIG_INVALID, "%s: empty configuration",
			origin);
		goto out;
	}
	yaml_event_delete(&ev);
	if (reader_next(&r, &ev) < 0)
		goto out;
	if (read_node(&r, &ev, 1, &root, &height) < 0)
		goto out;
	if (reader_expect(&r, YAML_DOCUMENT_END_EVENT, "expected the end "
			  "of the document") < 0)
		goto out;
	if (reader_expect(&r, YAML_STREAM_END_EVENT, "more than one "
			  "document") < 0)
		goto out;
	*out = root;
	root = NULL;
	*lines_out = r.lines;
	r.lines = NULL;
	ret = 0;
out:
	if (started)
		yaml_parser_delete(&r.parser);
	for (i = 0; i < r.nr_anchors; i++) {
		free(r.anchors[i].name);
		json_decref(r.anchors[i].value);
	}
	free(r.anchors);
	buf_release(&r.ptr);
	buf_release(&r.dot);
	json_decref(r.lines);
	json_decref(root);
	return ret;
}

/* ------------------------------------------------------------------ */
/* JSON input and the entry point                                      */
/* ------------------------------------------------------------------ */

/* The number of map and list levels in 'v' (0 for a scalar). */
static int json_height(const json_t *v)
{
	const char *key;
	const json_t *child;
	size_t i;
	int h, max = 0;

	if (json_is_object(v)) {
		json_object_foreach((json_t *)v, key, child) {
			h = json_height(child);
			if (h > max)
				max = h;
		}
		return max + 1;
	}
	if (json_is_array(v)) {
		json_array_foreach(v, i, child) {
			h = json_height(child);
			if (h > max)
				max = h;
		}
		return max + 1;
	}
	return 0;
}

/* Whether 'c' is a space, tab, CR or newline. */
static int is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Whether 'text' of 'len' bytes starts, after blanks, with '{'. */
static int looks_like_json(const char *text, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (!is_blank(text[i]))
			return text[i] == '{';
	return 0;
}

/*
 * The line table of the JSON 'text' of 'len' bytes in '*lines_out'.
 * jansson keeps no positions, but JSON is YAML, so the YAML reader
 * finds them; when it cannot, the table is empty.
 */
static void json_lines(json_t **lines_out, const char *text, size_t len,
		       const char *origin)
{
	struct err scratch = ERR_INIT;
	json_t *copy = NULL;

	if (config_read_yaml(&copy, lines_out, text, len, origin,
			     &scratch) < 0)
		*lines_out = json_object();
	json_decref(copy);
	err_release(&scratch);
}

/*
 * Parse 'text' (see config_parse) into '*out', with its line table in
 * '*lines_out'.  Text that looks like JSON but is not is tried as YAML
 * (a flow mapping); if that fails too, jansson's message is reported.
 */
static int parse_text(json_t **out, json_t **lines_out, const char *text,
		      size_t len, const char *origin, struct err *err)
{
	json_error_t jerr;
	json_t *root;

	*out = NULL;
	*lines_out = NULL;
	if (!text)
		text = "";
	if (len > CONFIG_MAX_SIZE)
		return err_set(err, ERR_CONFIG_INVALID, "%s: larger than %d "
			       "bytes", origin, CONFIG_MAX_SIZE);
	if (!looks_like_json(text, len))
		return config_read_yaml(out, lines_out, text, len, origin,
					err);
	root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!root) {
		if (!config_read_yaml(out, lines_out, text, len, origin, err))
			return 0;
		if (jerr.line > 0)
			return err_set(err, ERR_CONFIG_INVALID,
				       "%s:%d: cannot parse json: %s", origin,
				       jerr.line, jerr.text);
		return err_set(err, ERR_CONFIG_INVALID,
			       "%s: cannot parse json: %s", origin, jerr.text);
	}
	if (json_height(root) > CONFIG_MAX_DEPTH) {
		json_decref(root);
		return err_set(err, ERR_CONFIG_INVALID, "%s: nested deeper "
			       "than %d levels", origin, CONFIG_MAX_DEPTH);
	}
	*out = root;
	json_lines(lines_out, text, len, origin);
	return 0;
}

int config_parse(json_t **out, const char *text, size_t len,
		 const char *origin, struct err *err)
{
	json_t *lines = NULL;
	int ret;

	ret = parse_text(out, &lines, text, len, origin, err);
	json_decref(lines);
	return ret;
}

/* ------------------------------------------------------------------ */
/* Secrets from the environment                                        */
/* ------------------------------------------------------------------ */

/*
 * Set 'key' of 'obj' to the value of the environment variable 'var' when
 * that is set and not empty, and note in 'lines' (at 'pointer') that the
 * value came from 'var'.
 */
static void env_override(json_t *obj, const char *key, const char *var,
			 json_t *lines, const char *pointer)
{
	const char *v = getenv(var);

	if (!v || !*v || !json_is_object(obj))
		return;
	json_object_set_new(obj, key, json_string(v));
	json_object_set_new(lines, pointer, json_string(var));
}

/* Whether every byte of 's' is in [a-z0-9_-]; the notification names. */
static int is_channel_name(const char *s)
{
	if (!*s)
		return 0;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') ||
		      *s == '_' || *s == '-'))
			return 0;
	return 1;
}

/* Apply the HPCLOOP_* secrets (see config_load) to 'root'. */
static void apply_env(json_t *root, json_t *lines)
{
	const char *var = "HPCLOOP_DASHBOARD_PASSWORD_HASH";
	json_t *dash, *chan;
	char name[128], pointer[64];
	const char *s;
	size_t i, j;

	if (!json_is_object(root))
		return;
	env_override(root, "orchestrator_url", "HPCLOOP_ORCHESTRATOR_URL",
		     lines, "/orchestrator_url");
	env_override(root, "orchestrator_secret",
		     "HPCLOOP_ORCHESTRATOR_SECRET", lines,
		     "/orchestrator_secret");
	dash = json_object_get(root, "dashboard");
	s = getenv(var);
	if (!dash && s && *s) {
		dash = json_object();
		json_object_set_new(root, "dashboard", dash);
	}
	env_override(dash, "password_hash", var, lines,
		     "/dashboard/password_hash");
	json_array_foreach(json_object_get(root, "notifications"), i, chan) {
		s = json_string_value(json_object_get(chan, "name"));
		if (!s || !is_channel_name(s) || strlen(s) > 64)
			continue;
		snprintf(name, sizeof(name), "HPCLOOP_NOTIFY_%s_TOKEN", s);
		for (j = strlen("HPCLOOP_NOTIFY_"); name[j]; j++) {
			if (name[j] == '-')
				name[j] = '_';
			else if (name[j] >= 'a' && name[j] <= 'z')
				name[j] = (char)(name[j] - 'a' + 'A');
		}
		snprintf(pointer, sizeof(pointer), "/notifications/%zu/token",
			 i);
		env_override(chan, "token", name, lines, pointer);
	}
}

/* ------------------------------------------------------------------ */
/* Validation                                                          */
/* ------------------------------------------------------------------ */

/* The last segment of the JSON pointer 'p' (after the last '/'). */
static const char *ptr_last(const char *p)
{
	const char *slash = strrchr(p, '/');

	return slash ? slash + 1 : p;
}

/*
 * Whether the value at 'pointer' may hold a secret, so that a message
 * about it must not quote it: secrets, tokens, URLs (Slack webhooks are
 * secrets, and URLs may carry a password) and cluster environment values.
 */
static int is_secret_pointer(const char *pointer)
{
	static const char *const keys[] = {
		"orchestrator_secret", "token", "password_hash", "url",
		"orchestrator_url", "topic", NULL
	};
	const char *last = ptr_last(pointer);
	size_t n = (size_t)(last - pointer);

	if (is_one_of(last, strlen(last), keys))
		return 1;
	/* ".../environment/NAME" */
	return n > 13 && !memcmp(pointer + n - 13, "/environment/", 13);
}

/*
 * The subschema of 'schema' (within 'top', for "$ref") that applies to
 * the member 'seg' of an instance, or NULL when none can be found.
 */
static const json_t *schema_step(const json_t *top, const json_t *schema,
				 const char *seg)
{
	const json_t *s;
	const char *ref;

	ref = json_string_value(json_object_get(schema, "$ref"));
	if (ref && !strncmp(ref, "#/definitions/", 14))
		schema = json_object_get(json_object_get(top, "definitions"),
					 ref + 14);
	s = json_object_get(json_object_get(schema, "properties"), seg);
	if (!s && json_is_object(json_object_get(schema,
						 "additionalProperties")))
		s = json_object_get(schema, "additionalProperties");
	if (!s)
		s = json_object_get(schema, "items");
	ref = json_string_value(json_object_get(s, "$ref"));
	if (ref && !strncmp(ref, "#/definitions/", 14))
		s = json_object_get(json_object_get(top, "definitions"),
				    ref + 14);
	return s;
}

/*
 * The first key of the object at 'pointer' in 'root' that the schema
 * 'top' does not allow there, or NULL.  Borrowed from 'root'.
 */
static const char *unknown_key(const json_t *top, const json_t *root,
			       const char *pointer)
{
	const json_t *schema = top, *props;
	const json_t *node = root, *v;
	const char *p = pointer, *key;
	char seg[256];
	size_t n;

	while (*p == '/' && schema) {
		p++;
		n = strcspn(p, "/");
		if (n >= sizeof(seg) || strchr(p, '~'))
			return NULL;
		memcpy(seg, p, n);
		seg[n] = '\0';
		p += n;
		schema = schema_step(top, schema, seg);
		if (json_is_array(node))
			node = json_array_get(node, strtoul(seg, NULL, 10));
		else
			node = json_object_get(node, seg);
	}
	props = json_object_get(schema, "properties");
	if (!props || !json_is_object(node))
		return NULL;
	json_object_foreach((json_t *)node, key, v)
		if (!json_object_get(props, key))
			return key;
	return NULL;
}

/*
 * Replace the message of every error in the schema error array 'errors'
 * whose path may hold a secret, unless its keyword is one whose message
 * only describes the shape of the value: a validator may quote values.
 */
static void redact_errors(json_t *errors)
{
	static const char *const shape_only[] = {
		"type", "minLength", "required", "additionalProperties", NULL
	};
	json_t *e;
	const char *path, *kw;
	char msg[128];
	size_t i;

	json_array_foreach(errors, i, e) {
		path = json_string_value(json_object_get(e, "path"));
		kw = json_string_value(json_object_get(e, "keyword"));
		if (!path || !is_secret_pointer(path))
			continue;
		if (kw && is_one_of(kw, strlen(kw), shape_only))
			continue;
		snprintf(msg, sizeof(msg), "value fails the schema's '%s' "
			 "check", kw ? kw : "unknown");
		json_object_set_new(e, "message", json_string(msg));
	}
}

/* Validate 'w->root' against schemas/config.json. */
static int validate(const struct where *w)
{
	const struct embedded_file *f = embedded_find(CONFIG_SCHEMA);
	json_t *schema = NULL, *errors = NULL;
	const json_t *first;
	const char *path, *kw, *msg, *key;
	struct buf ptr = BUF_INIT;
	int ret = -1;

	if (!f) {
		err_set(w->err, ERR_INTERNAL, "schema '%s' is not embedded",
			CONFIG_SCHEMA);
		goto out;
	}
	schema = json_loadb((const char *)f->data, f->len, 0, NULL);
	if (!schema) {
		err_set(w->err, ERR_INTERNAL, "schema '%s' is not valid json",
			CONFIG_SCHEMA);
		goto out;
	}
	errors = schema_validate(schema, w->root, CONFIG_MAX_SCHEMA_ERRORS);
	if (!errors) {
		err_set(w->err, ERR_INTERNAL, "cannot validate the config");
		goto out;
	}
	if (!json_array_size(errors)) {
		ret = 0;
		goto out;
	}
	redact_errors(errors);
	first = json_array_get(errors, 0);
	path = json_string_value(json_object_get(first, "path"));
	kw = json_string_value(json_object_get(first, "keyword"));
	msg = json_string_value(json_object_get(first, "message"));
	buf_adds(&ptr, path ? path : "");
	key = NULL;
	if (kw && !strcmp(kw, "additionalProperties"))
		key = unknown_key(schema, w->root, buf_str(&ptr));
	if (key) {
		ptr_push_key(&ptr, key);
		where_error(w, ERR_CONFIG_INVALID, buf_str(&ptr),
			    "unknown key");
	} else {
		where_error(w, ERR_CONFIG_INVALID, buf_str(&ptr), "%s",
			    msg ? msg : "invalid");
	}
	err_detail(w->err, "errors", errors);
	errors = NULL;
out:
	buf_release(&ptr);
	json_decref(schema);
	json_decref(errors);
	return ret;
}

/* ------------------------------------------------------------------ */
/* Cross-checks                                                        */
/* ------------------------------------------------------------------ */

static int is_alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* Whether 'k' matches ^[A-Za-z][A-Za-z0-9_-]*$, the job option keys. */
static int is_job_key(const char *k)
{
	if (!is_alpha(*k))
		return 0;
	for (k++; *k; k++)
		if (!is_alpha(*k) && !is_digit(*k) && *k != '_' && *k != '-')
			return 0;
	return 1;
}

/* Whether 'k' matches ^[A-Za-z_][A-Za-z0-9_]*$, environment names. */
static int is_env_name(const char *k)
{
	if (!is_alpha(*k) && *k != '_')
		return 0;
	for (k++; *k; k++)
		if (!is_alpha(*k) && !is_digit(*k) && *k != '_')
			return 0;
	return 1;
}

/*
 * Whether 'k' names a variable that changes how bash itself runs the
 * job script, which a cluster's environment must not set.
 */
static int is_shell_control_name(const char *k)
{
	static const char *const names[] = {
		"BASH_ENV", "ENV",	     "CDPATH",	   "GLOBIGNORE",
		"IFS",	    "SHELLOPTS",    "BASHOPTS",	   "POSIXLY_CORRECT",
		"PS4",	    "BASH_XTRACEFD", "TMOUT",	   "BASH_COMPAT",
		"FUNCNEST", NULL
	};
	size_t i;

	for (i = 0; names[i]; i++)
		if (!strcmp(k, names[i]))
			return 1;
	return 0;
}

/* Whether the string 'v' is free of newlines, CRs and NUL bytes. */
static int is_one_line(const json_t *v)
{
	const char *s = json_string_value(v);
	size_t n = json_string_length(v);

	return !memchr(s, '\n', n) && !memchr(s, '\r', n) &&
	       !memchr(s, '\0', n);
}

/*
 * The scalar 'v' (string or number) as a new string in '*out'; -1 for
 * any other type.  Reals use the fewest digits that read back exactly.
 */
static int scalar_string(char **out, const json_t *v)
{
	char tmp[64];
	double d;
	int prec;

	*out = NULL;
	if (json_is_string(v)) {
		*out = xstrndup(json_string_value(v), json_string_length(v));
		return 0;
	}
	if (json_is_integer(v)) {
		snprintf(tmp, sizeof(tmp), "%" JSON_INTEGER_FORMAT,
			 json_integer_value(v));
	} else if (json_is_real(v)) {
		d = json_real_value(v);
		for (prec = 1; prec <= 17; prec++) {
			snprintf(tmp, sizeof(tmp), "%.*g", prec, d);
			if (strtod(tmp, NULL) == d)
				break;
		}
	} else {
		return -1;
	}
	*out = xstrdup(tmp);
	return 0;
}

/*
 * Check the job options 'opts' found at 'pointer' (".../job_options"):
 * safe keys, and string or number values on one line.
 */
static int check_job_options(const struct where *w, const json_t *opts,
			     const char *pointer)
{
	struct buf ptr = BUF_INIT;
	const char *key;
	const json_t *v;
	int ret = 0;

	json_object_foreach((json_t *)opts, key, v) {
		buf_cut(&ptr, 0);
		buf_adds(&ptr, pointer);
		ptr_push_key(&ptr, key);
		if (!is_job_key(key))
			ret = where_error(w, ERR_CONFIG_INVALID, buf_str(&ptr),
					  "job option key must match %s",
					  JOB_KEY_PATTERN);
		else if (!json_is_string(v) && !json_is_number(v))
			ret = where_error(w, ERR_CONFIG_INVALID, buf_str(&ptr),
					  "must be a string or a number");
		else if (json_is_string(v) && !is_one_line(v))
			ret = where_error(w, ERR_CONFIG_INVALID, buf_str(&ptr),
					  "contains a newline, cr or nul");
		if (ret)
			break;
	}
	buf_release(&ptr);
	return ret;
}

/* Check the cluster 'c' called 'name'. */
static int check_cluster(const struct where *w, const char *name,
			 const json_t *c)
{
	static const char *const ssh_only[] = {
		"host", "port", "user", "key", "known_hosts", NULL
	};
	const char *transport = json_string_value(json_object_get(c,
								  "transport"));
	struct buf ptr = BUF_INIT;
	const char *key;
	const json_t *v;
	size_t base, i;
	int ret = -1;

	buf_adds(&ptr, "/clusters");
	ptr_push_key(&ptr, name);
	base = ptr.len;
	int ssh = transport && !strcmp(transport, "ssh");

	for (i = 0; !ssh && ssh_only[i]; i++) {
		if (!json_object_get(c, ssh_only[i]))
			continue;
		buf_addf(&ptr, "/%s", ssh_only[i]);
		where_error(w, ERR_CONFIG_INVALID, buf_str(&ptr),
			    "only for transport ssh");
		goto out;
	}
	json_object_foreach(json_object_get(c, "environment"), key, v) {
		buf_cut(&ptr, base);
		buf_adds(&ptr, "/environment");
		ptr_push_key(&ptr, key);
		if (!is_env_name(key)) {
			where_error(w, ERR_CONFIG_INVALID, buf_str(&ptr),
				    "invalid environment variable name");
			goto out;
		}
		if (is_shell_control_name(key)) {
			where_error(w, ERR_CONFIG_INVALID, buf_str(&ptr),
				    "this variable changes how bash runs the "
				    "job script and cannot be set");
			goto out;
		}
		if (json_is_string(v) && !is_one_line(v)) {
			where_error(w, ERR_CONFIG_INVALID, buf_str(&ptr),
				    "contains a newline, cr or nul");
			goto out;
		}
	}
	buf_cut(&ptr, base);
	buf_adds(&ptr, "/job_options");
	if (check_job_options(w, json_object_get(c, "job_options"),
			      buf_str(&ptr)) < 0)
		goto out;
	ret = 0;
out:
	buf_release(&ptr);
	return ret;
}

/* Check what the schema cannot: names that must refer to something. */
static int cross_check(const struct where *w)
{
	const json_t *clusters = json_object_get(w->root, "clusters");
	const json_t *chans = json_object_get(w->root, "notifications");
	struct buf ptr = BUF_INIT;
	const char *name, *cl, *other;
	const json_t *v;
	size_t i, j;
	int ret = -1;

	json_object_foreach((json_t *)clusters, name, v)
		if (check_cluster(w, name, v) < 0)
			goto out;
	json_object_foreach(json_object_get(w->root, "studies"), name, v) {
		buf_cut(&ptr, 0);
		buf_adds(&ptr, "/studies");
		ptr_push_key(&ptr, name);
		cl = json_string_value(json_object_get(v, "cluster"));
		if (cl && !json_object_get(clusters, cl)) {
			buf_adds(&ptr, "/cluster");
			where_error(w, ERR_CONFIG_INVALID, buf_str(&ptr),
				    "unknown cluster '%s'", cl);
			goto out;
		}
		buf_adds(&ptr, "/job_options");
		if (check_job_options(w, json_object_get(v, "job_options"),
				      buf_str(&ptr)) < 0)
			goto out;
	}
	for (i = 0; i < json_array_size(chans); i++) {
		name = json_string_value(json_object_get(
			json_array_get(chans, i), "name"));
		for (j = 0; name && j < i; j++) {
			other = json_string_value(json_object_get(
				json_array_get(chans, j), "name"));
			if (!other || strcmp(name, other))
				continue;
			buf_cut(&ptr, 0);
			buf_addf(&ptr, "/notifications/%zu/name", i);
			where_error(w, ERR_CONFIG_INVALID, buf_str(&ptr),
				    "duplicate channel name '%s'", name);
			goto out;
		}
	}
	ret = 0;
out:
	buf_release(&ptr);
	return ret;
}

/* ------------------------------------------------------------------ */
/* Loading                                                             */
/* ------------------------------------------------------------------ */

/* The absolute directory of the file 'path' (as named if that fails). */
static char *config_dir_of(const char *path)
{
	const char *slash = strrchr(path, '/');
	char *dir, *real;

	if (!slash)
		dir = xstrdup(".");
	else if (slash == path)
		dir = xstrdup("/");
	else
		dir = xstrndup(path, (size_t)(slash - path));
	real = realpath(dir, NULL);
	if (real) {
		free(dir);
		dir = xstrdup(real);
		free(real);
	}
	return dir;
}

int config_load(struct config *cfg, const char *path, struct err *err)
{
	struct buf text = BUF_INIT;
	json_t *root = NULL, *lines = NULL;
	struct where w;
	FILE *f = NULL;
	int r, ret = -1;

	cfg->root = NULL;
	cfg->path = NULL;
	cfg->dir = NULL;
	f = fopen(path, "rb");
	if (!f && errno == ENOENT) {
		err_set(err, ERR_CONFIG_INVALID,
			"no config at '%s'; run `hpcloop init` to write one, "
			"or name it with --config or HPCLOOP_CONFIG",
			path);
		goto out;
	}
	if (!f) {
		err_set(err, ERR_CONFIG_INVALID, "cannot read config '%s': %s",
			path, strerror(errno));
		goto out;
	}
	buf_init(&text, CONFIG_MAX_SIZE);
	r = buf_read_file(&text, f);
	if (r == -2) {
		err_set(err, ERR_CONFIG_INVALID, "%s: larger than %d bytes",
			path, CONFIG_MAX_SIZE);
		goto out;
	}
	if (r < 0) {
		err_set(err, ERR_CONFIG_INVALID, "cannot read config '%s': %s",
			path, strerror(errno));
		goto out;
	}
	if (parse_text(&root, &lines, text.data, text.len, path, err) < 0)
		goto out;
	apply_env(root, lines);
	w.origin = path;
	w.root = root;
	w.lines = lines;
	w.err = err;
	if (validate(&w) < 0 || cross_check(&w) < 0)
		goto out;
	cfg->root = root;
	root = NULL;
	cfg->path = xstrdup(path);
	cfg->dir = config_dir_of(path);
	ret = 0;
out:
	if (f)
		fclose(f);
	buf_release(&text);
	json_decref(root);
	json_decref(lines);
	return ret;
}

void config_release(struct config *cfg)
{
	if (!cfg)
		return;
	json_decref(cfg->root);
	free(cfg->path);
	free(cfg->dir);
	cfg->root = NULL;
	cfg->path = NULL;
	cfg->dir = NULL;
}

/* ------------------------------------------------------------------ */
/* Lookups                                                             */
/* ------------------------------------------------------------------ */

/* The member 'name' of the object 'section' of the root, or NULL. */
static const json_t *config_member(const struct config *cfg,
				   const char *section, const char *name)
{
	if (!cfg || !cfg->root || !name)
		return NULL;
	return json_object_get(json_object_get(cfg->root, section), name);
}

const json_t *config_cluster(const struct config *cfg, const char *name)
{
	return config_member(cfg, "clusters", name);
}

const json_t *config_study(const struct config *cfg, const char *name)
{
	return config_member(cfg, "studies", name);
}

/* The cluster that the study 's' runs on, or NULL. */
static const json_t *study_cluster(const struct config *cfg, const json_t *s)
{
	const json_t *name = json_object_get(s, "cluster");

	return config_cluster(cfg, json_string_value(name));
}

char *config_path(const struct config *cfg, const char *p)
{
	struct buf b = BUF_INIT;

	if (p[0] == '/' || !cfg || !cfg->dir)
		return xstrdup(p);
	buf_addf(&b, "%s/%s", cfg->dir, p);
	return buf_detach(&b, NULL);
}

/* A where for messages about 'cfg' after loading (no line numbers). */
static struct where config_where(const struct config *cfg, struct err *err)
{
	struct where w;

	w.origin = cfg->path ? cfg->path : "config";
	w.root = cfg->root;
	w.lines = NULL;
	w.err = err;
	return w;
}

/* ------------------------------------------------------------------ */
/* Job options                                                         */
/* ------------------------------------------------------------------ */

/*
 * Lay the options 'opts' over 'result': an empty string removes a key.
 * Bad options are config_invalid naming 'pointer', or spec_invalid when
 * 'pointer' is NULL (they came from the request).
 */
static int layer_options(json_t *result, const json_t *opts,
			 const struct where *w, const char *pointer)
{
	const char *key;
	const json_t *v;
	char *s = NULL;
	int ret = -1;

	if (!opts)
		return 0;
	if (!json_is_object(opts)) {
		if (pointer)
			return where_error(w, ERR_CONFIG_INVALID, pointer,
					   "must be an object");
		return err_set(w->err, ERR_SPEC_INVALID,
			       "job options must be an object");
	}
	if (pointer && check_job_options(w, opts, pointer) < 0)
		return -1;
	json_object_foreach((json_t *)opts, key, v) {
		if (!is_job_key(key)) {
			err_set(w->err, ERR_SPEC_INVALID, "job option '%s': "
				"key must match %s", key, JOB_KEY_PATTERN);
			err_detail(w->err, "key", json_string(key));
			goto out;
		}
		if (scalar_string(&s, v) < 0) {
			err_set(w->err, ERR_SPEC_INVALID, "job option '%s': "
				"must be a string or a number", key);
			err_detail(w->err, "key", json_string(key));
			goto out;
		}
		if (json_is_string(v) && !is_one_line(v)) {
			err_set(w->err, ERR_SPEC_INVALID, "job option '%s': "
				"contains a newline, cr or nul", key);
			err_detail(w->err, "key", json_string(key));
			goto out;
		}
		if (!*s)
			json_object_del(result, key);
		else
			json_object_set_new(result, key, json_string(s));
		free(s);
		s = NULL;
	}
	ret = 0;
out:
	free(s);
	return ret;
}

int config_job_options(json_t **out, const struct config *cfg,
		       const char *study, const json_t *request,
		       struct err *err)
{
	const json_t *st = config_study(cfg, study);
	struct where w = config_where(cfg, err);
	struct buf ptr = BUF_INIT;
	const char *cl;
	json_t *result = NULL;
	int ret = -1;

	*out = NULL;
	if (!st) {
		err_set(err, ERR_NOT_FOUND, "no study '%s'",
			study ? study : "(null)");
		goto out;
	}
	result = json_object();
	cl = json_string_value(json_object_get(st, "cluster"));
	buf_adds(&ptr, "/clusters");
	ptr_push_key(&ptr, cl ? cl : "");
	buf_adds(&ptr, "/job_options");
	if (layer_options(result, json_object_get(config_cluster(cfg, cl),
						  "job_options"),
			  &w, buf_str(&ptr)) < 0)
		goto out;
	buf_cut(&ptr, 0);
	buf_adds(&ptr, "/studies");
	ptr_push_key(&ptr, study);
	buf_adds(&ptr, "/job_options");
	if (layer_options(result, json_object_get(st, "job_options"), &w,
			  buf_str(&ptr)) < 0)
		goto out;
	if (layer_options(result, request, &w, NULL) < 0)
		goto out;
	*out = result;
	result = NULL;
	ret = 0;
out:
	buf_release(&ptr);
	json_decref(result);
	return ret;
}

/* ------------------------------------------------------------------ */
/* Context                                                             */
/* ------------------------------------------------------------------ */

/*
 * Append the 'len' bytes of 'text' to 'b' as one piece of context:
 * trailing blanks are dropped, an empty piece is skipped, and pieces are
 * separated by one blank line.
 */
static int context_add(struct buf *b, const char *text, size_t len)
{
	while (len && is_blank(text[len - 1]))
		len--;
	if (!len)
		return 0;
	if (b->len && buf_adds(b, "\n\n") < 0)
		return -1;
	return buf_add(b, text, len);
}

/* Append the context file 'p', named at 'pointer', to 'b'. */
static int context_file(struct buf *b, const struct config *cfg,
			const char *p, const struct where *w,
			const char *pointer)
{
	struct buf text = BUF_INIT;
	char *full = config_path(cfg, p);
	FILE *f = NULL;
	int r, ret = -1;

	buf_init(&text, CONFIG_MAX_CONTEXT);
	f = fopen(full, "rb");
	if (!f) {
		where_error(w, ERR_CONFIG_INVALID, pointer, "cannot read "
			    "context file '%s': %s", full, strerror(errno));
		goto out;
	}
	r = buf_read_file(&text, f);
	if (r == -1) {
		where_error(w, ERR_CONFIG_INVALID, pointer, "cannot read "
			    "context file '%s': %s", full, strerror(errno));
		goto out;
	}
	if (r < 0 || context_add(b, buf_str(&text), text.len) < 0) {
		where_error(w, ERR_CONFIG_INVALID, pointer, "context is "
			    "larger than %d bytes", CONFIG_MAX_CONTEXT);
		goto out;
	}
	ret = 0;
out:
	if (f)
		fclose(f);
	free(full);
	buf_release(&text);
	return ret;
}

/*
 * Append the context of one level, the object 'level' found at 'base'
 * (a JSON pointer): its inline "context", then its files, from the array
 * 'paths_key' or the single path 'file_key' (either may be NULL).
 */
static int context_level(struct buf *b, const struct config *cfg,
			 const json_t *level, const char *base,
			 const char *paths_key, const char *file_key,
			 const struct where *w)
{
	const json_t *text = json_object_get(level, "context"), *p;
	struct buf ptr = BUF_INIT;
	int ret = -1;
	size_t i;

	if (json_is_string(text) &&
	    context_add(b, json_string_value(text),
			json_string_length(text)) < 0) {
		buf_adds(&ptr, base);
		buf_adds(&ptr, "/context");
		where_error(w, ERR_CONFIG_INVALID, buf_str(&ptr), "context is "
			    "larger than %d bytes", CONFIG_MAX_CONTEXT);
		goto out;
	}
	json_array_foreach(json_object_get(level, paths_key), i, p) {
		if (!json_is_string(p))
			continue;
		buf_cut(&ptr, 0);
		buf_addf(&ptr, "%s/%s/%zu", base, paths_key, i);
		if (context_file(b, cfg, json_string_value(p), w,
				 buf_str(&ptr)) < 0)
			goto out;
	}
	p = file_key ? json_object_get(level, file_key) : NULL;
	if (json_is_string(p)) {
		buf_cut(&ptr, 0);
		buf_addf(&ptr, "%s/%s", base, file_key);
		if (context_file(b, cfg, json_string_value(p), w,
				 buf_str(&ptr)) < 0)
			goto out;
	}
	ret = 0;
out:
	buf_release(&ptr);
	return ret;
}

int config_context(char **out, const struct config *cfg, const char *study,
		   struct err *err)
{
	struct where w = config_where(cfg, err);
	struct buf b = BUF_INIT, base = BUF_INIT;
	const json_t *st = NULL;
	const char *cl;
	int ret = -1;

	*out = NULL;
	buf_init(&b, CONFIG_MAX_CONTEXT);
	if (study) {
		st = config_study(cfg, study);
		if (!st) {
			err_set(err, ERR_NOT_FOUND, "no study '%s'", study);
			goto out;
		}
	}
	if (context_level(&b, cfg, cfg->root, "", "context_paths", NULL,
			  &w) < 0)
		goto out;
	if (st) {
		cl = json_string_value(json_object_get(st, "cluster"));
		buf_adds(&base, "/clusters");
		ptr_push_key(&base, cl ? cl : "");
		if (context_level(&b, cfg, config_cluster(cfg, cl),
				  buf_str(&base), "context_paths", NULL,
				  &w) < 0)
			goto out;
		buf_cut(&base, 0);
		buf_adds(&base, "/studies");
		ptr_push_key(&base, study);
		if (context_level(&b, cfg, st, buf_str(&base), NULL,
				  "context_file", &w) < 0)
			goto out;
	}
	*out = buf_detach(&b, NULL);
	ret = 0;
out:
	buf_release(&b);
	buf_release(&base);
	return ret;
}

/* ------------------------------------------------------------------ */
/* Agent command                                                       */
/* ------------------------------------------------------------------ */

/* Append the words of 's', split on whitespace, to the array 'argv'. */
static void split_words(json_t *argv, const char *s)
{
	static const char blanks[] = " \t\r\n\v\f";
	size_t n;

	for (;;) {
		s += strspn(s, blanks);
		if (!*s)
			break;
		n = strcspn(s, blanks);
		json_array_append_new(argv, json_stringn(s, n));
		s += n;
	}
}

int config_agent_argv(json_t **out, const struct config *cfg,
		      const char *study, struct err *err)
{
	struct where w = config_where(cfg, err);
	const json_t *st = NULL, *cl = NULL, *cmd = NULL, *v;
	struct buf ptr = BUF_INIT;
	json_t *argv = NULL;
	int ret = -1;
	size_t i;

	*out = NULL;
	if (study) {
		st = config_study(cfg, study);
		if (!st) {
			err_set(err, ERR_NOT_FOUND, "no study '%s'", study);
			goto out;
		}
		cl = study_cluster(cfg, st);
	}
	cmd = json_object_get(st, "agent_command");
	if (cmd) {
		buf_adds(&ptr, "/studies");
		ptr_push_key(&ptr, study);
	} else {
		cmd = json_object_get(cl, "agent_command");
		if (cmd) {
			buf_adds(&ptr, "/clusters");
			ptr_push_key(&ptr, json_string_value(
				json_object_get(st, "cluster")));
		} else {
			cmd = json_object_get(cfg->root, "agent_command");
		}
	}
	buf_adds(&ptr, "/agent_command");
	argv = json_array();
	if (!cmd) {
		split_words(argv, CONFIG_DEFAULT_AGENT);
	} else if (json_is_string(cmd)) {
		split_words(argv, json_string_value(cmd));
	} else {
		json_array_foreach(cmd, i, v) {
			if (!json_is_string(v) || !json_string_length(v))
				break;
			json_array_append_new(argv, json_copy((json_t *)v));
		}
		if (i != json_array_size(cmd))
			json_array_clear(argv);
	}
	if (!json_array_size(argv)) {
		where_error(&w, ERR_CONFIG_INVALID, buf_str(&ptr),
			    "must be a non-empty command");
		goto out;
	}
	*out = argv;
	argv = NULL;
	ret = 0;
out:
	buf_release(&ptr);
	json_decref(argv);
	return ret;
}

/* ------------------------------------------------------------------ */
/* Environment and directories                                         */
/* ------------------------------------------------------------------ */

json_t *config_environment(const struct config *cfg, const char *cluster)
{
	const json_t *env = json_object_get(config_cluster(cfg, cluster),
					    "environment");
	json_t *result = json_object();
	const char *key;
	const json_t *v;
	char *s;

	json_object_foreach((json_t *)env, key, v) {
		if (scalar_string(&s, v) < 0)
			continue;
		json_object_set_new(result, key, json_string(s));
		free(s);
	}
	return result;
}

char *config_sprints_dir(const struct config *cfg, const char *study)
{
	const json_t *st = config_study(cfg, study), *cl;
	const char *dir, *transport;
	struct buf b = BUF_INIT;
	char *p;

	if (!st)
		return NULL;
	cl = study_cluster(cfg, st);
	dir = json_string_value(json_object_get(st, "sprints_dir"));
	if (dir) {
		buf_adds(&b, dir);
	} else {
		dir = json_string_value(json_object_get(cl, "working_dir"));
		buf_addf(&b, "%s/%s", dir ? dir : "sprints", study);
	}
	transport = json_string_value(json_object_get(cl, "transport"));
	if (transport && !strcmp(transport, "ssh"))
		return buf_detach(&b, NULL);
	p = config_path(cfg, buf_str(&b));
	buf_release(&b);
	return p;
}

/* ------------------------------------------------------------------ */
/* Redaction                                                           */
/* ------------------------------------------------------------------ */

#define REDACTED "***"

/* Replace 'key' of 'obj' by REDACTED when it is there. */
static void redact_key(json_t *obj, const char *key)
{
	if (json_object_get(obj, key))
		json_object_set_new(obj, key, json_string(REDACTED));
}

/* Replace the user and password of the URL at 'key' of 'obj', if any. */
static void redact_url(json_t *obj, const char *key)
{
	const char *url = json_string_value(json_object_get(obj, key));
	const char *host, *at;
	struct buf b = BUF_INIT;

	if (!url)
		return;
	host = strstr(url, "://");
	if (!host)
		return;
	host += 3;
	at = memchr(host, '@', strcspn(host, "/?#"));
	if (!at)
		return;
	buf_add(&b, url, (size_t)(host - url));
	buf_adds(&b, REDACTED);
	buf_adds(&b, at);
	json_object_set_new(obj, key, json_string(buf_str(&b)));
	buf_release(&b);
}

/* Whether the upper-cased 'name' contains one of the secret words. */
static int is_secret_name(const char *name)
{
	static const char *const words[] = {
		"KEY", "TOKEN", "SECRET", "PASSWORD", "PASSWD", NULL
	};
	char up[256];
	size_t i;

	for (i = 0; name[i] && i < sizeof(up) - 1; i++)
		up[i] = (name[i] >= 'a' && name[i] <= 'z') ?
			(char)(name[i] - 'a' + 'A') : name[i];
	up[i] = '\0';
	for (i = 0; words[i]; i++)
		if (strstr(up, words[i]))
			return 1;
	return 0;
}

json_t *config_redacted(const struct config *cfg)
{
	json_t *copy, *chan, *cl, *env, *v;
	const char *type, *key;
	size_t i;

	if (!cfg || !cfg->root)
		return NULL;
	copy = json_deep_copy(cfg->root);
	if (!copy)
		return NULL;
	redact_key(copy, "orchestrator_secret");
	redact_url(copy, "orchestrator_url");
	redact_key(json_object_get(copy, "dashboard"), "password_hash");
	json_array_foreach(json_object_get(copy, "notifications"), i, chan) {
		redact_key(chan, "token");
		type = json_string_value(json_object_get(chan, "type"));
		if (type && !strcmp(type, "slack"))
			redact_key(chan, "url");
		else
			redact_url(chan, "url");
		if (type && !strcmp(type, "ntfy"))
			redact_key(chan, "topic");
	}
	json_object_foreach(json_object_get(copy, "clusters"), key, cl) {
		env = json_object_get(cl, "environment");
		json_object_foreach(env, key, v)
			if (is_secret_name(key))
				redact_key(env, key);
	}
	return copy;
}

/* ------------------------------------------------------------------ */
/* The default configuration                                           */
/* ------------------------------------------------------------------ */

static const char default_text[] =
	"# hpcloop configuration; `hpcloop schema config` describes every\n"
	"# key.  Secrets are best left to HPCLOOP_* environment variables.\n"
	"version: 1\n"
	"\n"
	"# The agent run in each sprint step (the default is shown).\n"
	"# agent_command: \"" CONFIG_DEFAULT_AGENT "\"\n"
	"\n"
	"context: |\n"
	"  You are running a research sprint under hpcloop.  Record every\n"
	"  result with the metric named by the study.\n"
	"heartbeat_interval_s: 60\n"
	"\n"
	"clusters:\n"
	"  local:\n"
	"    transport: local\n"
	"    scheduler: local\n"
	"    working_dir: sprints\n"
	"    max_concurrent_jobs: 2\n"
	"    cancel_grace_s: 10\n"
	"    query_interval_s: 5\n"
	"\n"
	"studies:\n"
	"  demo:\n"
	"    cluster: local\n"
	"    description: an example study; replace it with your own\n"
	"    context: |\n"
	"      Lower the validation loss of the toy model in this\n"
	"      directory.\n"
	"    max_sprint_duration_hours: 1\n"
	"    red_team_max_rounds: 1\n"
	"    metric:\n"
	"      name: val_loss\n"
	"      direction: minimize\n"
	"      min_improvement: 0.001\n"
	"    allow_loop: true\n"
	"\n"
	"# notifications:\n"
	"#   - name: ops\n"
	"#     type: ntfy\n"
	"#     topic: my-private-topic\n"
	"#     events: [failed]\n"
	"\n"
	"# dashboard:\n"
	"#   listen: 127.0.0.1:8080\n";

const char *config_default_text(void)
{
	return default_text;
}
