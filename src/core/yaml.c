/*
 * yaml.c: the YAML-to-JSON reader (see yaml.h).  libyaml's event API
 * drives a small recursive reader that builds jansson values, resolves
 * plain scalars by the YAML 1.2 core schema, copies aliases while
 * counting what they expand to, and records the line of every key and
 * list item under its JSON pointer.  JSON text takes jansson's faster
 * path, and is read a second time as YAML only for its line table.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <yaml.h>

#include "buf.h"
#include "err.h"
#include "xalloc.h"
#include "yaml.h"
#include "banned.h"

/* ------------------------------------------------------------------ */
/* Key paths                                                           */
/* ------------------------------------------------------------------ */

void yaml_pointer_add(struct buf *p, const char *key)
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

const char *yaml_pointer_next(const char *p, struct buf *seg)
{
	buf_release(seg);
	if (*p == '/')
		p++;
	while (*p && *p != '/') {
		if (p[0] == '~' && p[1] == '0') {
			buf_adds(seg, "~");
			p += 2;
		} else if (p[0] == '~' && p[1] == '1') {
			buf_adds(seg, "/");
			p += 2;
		} else {
			buf_add(seg, p++, 1);
		}
	}
	return p;
}

/* Cut 'b' back to its first 'len' bytes. */
static void buf_cut(struct buf *b, size_t len)
{
	if (b->data && len <= b->len) {
		b->len = len;
		b->data[len] = '\0';
	}
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
	if (n > YAML_MAX_NODES || r->nodes > YAML_MAX_NODES - n)
		return reader_error(r, line, "document expands to more than "
				    "%d values", YAML_MAX_NODES);
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
		if (depth - 1 + a->height > YAML_MAX_DEPTH)
			return reader_error(r, line, "nested deeper than %d "
					    "levels", YAML_MAX_DEPTH);
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
	if (depth > YAML_MAX_DEPTH) {
		reader_error(r, line, "nested deeper than %d levels",
			     YAML_MAX_DEPTH);
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
	if (depth > YAML_MAX_DEPTH) {
		reader_error(r, line, "nested deeper than %d levels",
			     YAML_MAX_DEPTH);
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
		yaml_pointer_add(&r->ptr, key);
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
static int read_yaml(json_t **out, json_t **lines_out, const char *text,
		     size_t len, const char *origin, struct err *err)
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

	if (read_yaml(&copy, lines_out, text, len, origin, &scratch) < 0)
		*lines_out = json_object();
	json_decref(copy);
	err_release(&scratch);
}

/*
 * Text that looks like JSON is read by jansson; text that looks like
 * JSON but is not is tried as YAML (a flow mapping); if that fails too,
 * jansson's message is reported.
 */
int yaml_to_json(json_t **out, json_t **lines_out, const char *text,
		 size_t len, const char *origin, struct err *err)
{
	json_t *root = NULL, *lines = NULL;
	json_error_t jerr;
	int ret = -1;

	*out = NULL;
	if (lines_out)
		*lines_out = NULL;
	if (!text)
		text = "";
	if (len > YAML_MAX_SIZE) {
		err_set(err, ERR_CONFIG_INVALID, "%s: larger than %d bytes",
			origin, YAML_MAX_SIZE);
		goto out;
	}
	if (!looks_like_json(text, len)) {
		if (read_yaml(&root, &lines, text, len, origin, err) < 0)
			goto out;
		goto done;
	}
	root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!root) {
		if (!read_yaml(&root, &lines, text, len, origin, err))
			goto done;
		if (jerr.line > 0)
			err_set(err, ERR_CONFIG_INVALID,
				"%s:%d: cannot parse json: %s", origin,
				jerr.line, jerr.text);
		else
			err_set(err, ERR_CONFIG_INVALID,
				"%s: cannot parse json: %s", origin,
				jerr.text);
		goto out;
	}
	if (json_height(root) > YAML_MAX_DEPTH) {
		err_set(err, ERR_CONFIG_INVALID, "%s: nested deeper than %d "
			"levels", origin, YAML_MAX_DEPTH);
		goto out;
	}
	if (lines_out)
		json_lines(&lines, text, len, origin);
done:
	*out = root;
	root = NULL;
	if (lines_out) {
		*lines_out = lines;
		lines = NULL;
	}
	ret = 0;
out:
	json_decref(root);
	json_decref(lines);
	return ret;
}
