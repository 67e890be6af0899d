/*
 * template.c: the mustache-subset renderer (see template.h).
 *
 * Rendering is one recursive walk over the template text.  render_block()
 * copies text and expands tags until the end of the template or the tag
 * that closes the section it was called for; a section calls it again for
 * its body, once per array item, or once with output switched off when
 * the body is skipped, so that a skipped body is still checked for
 * balance and its end is found the same way.  Nothing is parsed ahead of
 * time and nothing but the output is allocated.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "err.h"
#include "template.h"
#include "banned.h"

/* The longest name a tag may hold ("a.b.c"). */
#define TEMPLATE_NAME_MAX 128

/* One render in progress. */
struct render {
	const char *tmpl;	/* the whole template, NUL-terminated */
	const char *origin;	/* the template's name, for messages */
	/* the context stack: [0] is 'vars', then one per open section */
	const json_t *stack[TEMPLATE_DEPTH_MAX + 1];
	int depth;		/* entries used in 'stack' */
	int nest;		/* sections open around the current position */
	struct buf out;		/* the output, at most TEMPLATE_OUTPUT_MAX */
	struct err *err;	/* where failures are recorded */
};

/* One tag, as found by parse_tag(). */
struct tag {
	const char *start;	/* the first '{' of the tag */
	char kind;		/* '#', '^', '/', '!', or 0 for a variable */
	const char *name;	/* the trimmed name, not NUL-terminated */
	size_t name_len;	/* its length */
	const char *text_end;	/* where the text before the tag ends */
	const char *next;	/* where the text after the tag starts */
};

/* ---------------------------------------------------------------- */
/* Messages                                                         */
/* ---------------------------------------------------------------- */

/* The 1-based line number of 'pos' in the template of 'r'. */
static int line_of(const struct render *r, const char *pos)
{
	const char *p;
	int line = 1;

	for (p = r->tmpl; p < pos; p++)
		if (*p == '\n')
			line++;
	return line;
}

/*
 * Record "template 'ORIGIN': MESSAGE on line N" in the error of 'r',
 * with MESSAGE formatted from 'fmt' and N the line of 'pos'.  Returns -1.
 */
static int fail_at(struct render *r, const char *pos, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail_at(struct render *r, const char *pos, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return err_set(r->err, ERR_INTERNAL, "template '%s': %s on line %d",
		       r->origin, msg, line_of(r, pos));
}

/* Append 'len' bytes of 's' to the output, or fail on the limit. */
static int put(struct render *r, const char *s, size_t len)
{
	if (buf_add(&r->out, s, len) < 0)
		return err_set(r->err, ERR_INTERNAL,
			       "template '%s': output exceeds %u bytes",
			       r->origin, TEMPLATE_OUTPUT_MAX);
	return 0;
}

/* ---------------------------------------------------------------- */
/* Tags                                                             */
/* ---------------------------------------------------------------- */

/* Whether 'c' is a blank that a standalone tag's line may hold. */
static int is_blank(char c)
{
	return c == ' ' || c == '\t';
}

/*
 * Whether the 'len' bytes at 'name' form a valid name: "." alone, or
 * one or more parts of [A-Za-z0-9_-] joined by single dots.
 */
static int valid_name(const char *name, size_t len)
{
	size_t i;
	int part = 0;

	if (len == 1 && name[0] == '.')
		return 1;
	if (len == 0 || len > TEMPLATE_NAME_MAX)
		return 0;
	for (i = 0; i < len; i++) {
		char c = name[i];

		if (c == '.') {
			if (!part)
				return 0;
			part = 0;
		} else if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			   (c >= '0' && c <= '9') || c == '_' || c == '-') {
			part = 1;
		} else {
			return 0;
		}
	}
	return part;
}

/*
 * Decide whether the tag 't' (a section, inverted, closing or comment
 * tag ending at 'close', just past its "}}") is alone on its line, and
 * set 't->text_end' and 't->next' to take the whole line when it is.
 * 'seg' is where the text before the tag began: a blank run that reaches
 * back to it is only a line start if 'seg' itself is one.
 */
static void mark_standalone(const struct render *r, struct tag *t,
			    const char *seg, const char *close)
{
	const char *left = t->start;
	const char *right = close;

	t->text_end = t->start;
	t->next = close;
	while (left > seg && is_blank(left[-1]))
		left--;
	if (left != r->tmpl && left[-1] != '\n')
		return;
	while (is_blank(*right))
		right++;
	if (*right == '\n')
		right++;
	else if (*right == '\r' && right[1] == '\n')
		right += 2;
	else if (*right != '\0')
		return;
	t->text_end = left;
	t->next = right;
}

/*
 * Parse the tag that starts at 'at' (its "{{") into 't'.  'seg' is where
 * the text before it began (see mark_standalone()).  Returns 0, or -1
 * with the error of 'r' set for an unclosed, empty, malformed or
 * unsupported tag.
 */
static int parse_tag(struct render *r, const char *seg, const char *at,
		     struct tag *t)
{
	const char *body = at + 2;
	const char *close = strstr(body, "}}");
	const char *name, *end;

	t->start = at;
	if (!close)
		return fail_at(r, at, "'{{' is never closed");
	t->kind = 0;
	if (*body && strchr("#^/!", *body)) {
		t->kind = *body;
		body++;
	} else if (*body && strchr("{&>=", *body)) {
		return fail_at(r, at, "unsupported tag '{{%c'", *body);
	}
	if (t->kind == '!') {
		t->name = body;
		t->name_len = 0;
		mark_standalone(r, t, seg, close + 2);
		return 0;
	}
	name = body;
	end = close;
	while (name < end && (is_blank(*name) || *name == '\n'))
		name++;
	while (end > name && (is_blank(end[-1]) || end[-1] == '\n'))
		end--;
	t->name = name;
	t->name_len = (size_t)(end - name);
	if (!valid_name(name, t->name_len))
		return fail_at(r, at, "invalid tag name '%.*s'",
			       (int)(t->name_len > 64 ? 64 : t->name_len),
			       name);
	if (t->kind == 0) {
		t->text_end = at;
		t->next = close + 2;
		return 0;
	}
	mark_standalone(r, t, seg, close + 2);
	return 0;
}

/* ---------------------------------------------------------------- */
/* Values                                                           */
/* ---------------------------------------------------------------- */

/*
 * The value named by the 'len' bytes at 'name' in the contexts of 'r':
 * "." is the innermost context; otherwise the first part of a dotted
 * name is looked for from the innermost context outwards, and the rest
 * inside what it found.  Returns a borrowed value, or NULL when the name
 * cannot be found.
 */
static const json_t *lookup(const struct render *r, const char *name,
			    size_t len)
{
	char part[TEMPLATE_NAME_MAX + 1];
	const json_t *v = NULL;
	size_t i = 0, n;
	int level;

	if (len == 1 && name[0] == '.')
		return r->stack[r->depth - 1];
	while (i < len) {
		n = 0;
		while (i + n < len && name[i + n] != '.')
			n++;
		memcpy(part, name + i, n);
		part[n] = '\0';
		if (i == 0) {
			for (level = r->depth - 1; level >= 0 && !v; level--)
				if (json_is_object(r->stack[level]))
					v = json_object_get(r->stack[level],
							    part);
		} else {
			v = json_is_object(v) ? json_object_get(v, part) : NULL;
		}
		if (!v)
			return NULL;
		i += n + 1;
	}
	return v;
}

/* Whether 'v' makes a section render (see template.h). */
static int truthy(const json_t *v)
{
	if (!v)
		return 0;
	switch (json_typeof(v)) {
	case JSON_OBJECT:
		return 1;
	case JSON_ARRAY:
		return json_array_size(v) > 0;
	case JSON_STRING:
		return json_string_length(v) > 0;
	case JSON_INTEGER:
		return json_integer_value(v) != 0;
	case JSON_REAL:
		return json_real_value(v) != 0.0;
	case JSON_TRUE:
		return 1;
	default:
		return 0;
	}
}

/* Append the shortest decimal form of 'd' that reads back as 'd'. */
static int put_real(struct render *r, double d)
{
	char num[64];
	int prec;

	for (prec = 1; prec <= 17; prec++) {
		snprintf(num, sizeof(num), "%.*g", prec, d);
		if (strtod(num, NULL) == d)
			break;
	}
	return put(r, num, strlen(num));
}

/* Expand the variable tag 't', failing when its name is unknown. */
static int put_variable(struct render *r, const struct tag *t)
{
	const json_t *v = lookup(r, t->name, t->name_len);
	char num[32];

	if (!v)
		return fail_at(r, t->start, "unknown variable '%.*s'",
			       (int)t->name_len, t->name);
	switch (json_typeof(v)) {
	case JSON_STRING:
		return put(r, json_string_value(v), json_string_length(v));
	case JSON_INTEGER:
		snprintf(num, sizeof(num), "%" JSON_INTEGER_FORMAT,
			 json_integer_value(v));
		return put(r, num, strlen(num));
	case JSON_REAL:
		return put_real(r, json_real_value(v));
	case JSON_TRUE:
		return put(r, "true", 4);
	case JSON_FALSE:
		return put(r, "false", 5);
	case JSON_NULL:
		return 0;
	default:
		return fail_at(r, t->start,
			       "variable '%.*s' is %s, not a scalar",
			       (int)t->name_len, t->name,
			       json_is_object(v) ? "an object" : "an array");
	}
}

/* ---------------------------------------------------------------- */
/* Blocks and sections                                              */
/* ---------------------------------------------------------------- */

static int render_block(struct render *r, const char *p,
			const struct tag *open, int emit, const char **end);

/*
 * Render the body of 'ctx' pushed on the context stack of 'r', starting
 * at 'p' inside the section opened by 'open'; '*end' is set past its
 * closing tag.
 */
static int render_with(struct render *r, const char *p,
		       const struct tag *open, const json_t *ctx,
		       const char **end)
{
	int rc;

	r->stack[r->depth++] = ctx;
	rc = render_block(r, p, open, 1, end);
	r->depth--;
	return rc;
}

/*
 * Render the section or inverted section opened by 't'.  'emit' is 0
 * inside a body that is being skipped, where values are not looked up.
 * '*end' is set past the closing tag.
 */
static int render_section(struct render *r, const struct tag *t, int emit,
			  const char **end)
{
	const json_t *v;
	size_t i;
	int rc = 0;

	if (r->nest >= TEMPLATE_DEPTH_MAX)
		return fail_at(r, t->start, "sections nested deeper than %d",
			       TEMPLATE_DEPTH_MAX);
	r->nest++;
	v = emit ? lookup(r, t->name, t->name_len) : NULL;
	if (!emit || !truthy(v) || t->kind == '^') {
		int show = emit && (t->kind == '^') != truthy(v);

		rc = render_block(r, t->next, t, show, end);
	} else if (json_is_array(v)) {
		for (i = 0; i < json_array_size(v) && rc == 0; i++)
			rc = render_with(r, t->next, t, json_array_get(v, i),
					 end);
	} else if (json_is_object(v)) {
		rc = render_with(r, t->next, t, v, end);
	} else {
		rc = render_block(r, t->next, t, 1, end);
	}
	r->nest--;
	return rc;
}

/*
 * Copy text and expand tags from 'p' (appending to the output only when
 * 'emit' is set) until the end of the template, when 'open' is NULL, or
 * until the tag that closes the section 'open'.  '*end' is set to where
 * the walk stopped: the end of the template, or just past the closing
 * tag.  Returns 0 or -1 with the error of 'r' set.
 */
static int render_block(struct render *r, const char *p,
			const struct tag *open, int emit, const char **end)
{
	struct tag t;
	const char *at;

	for (;;) {
		at = strstr(p, "{{");
		if (!at) {
			if (open)
				return fail_at(r, open->start,
					       "section '%.*s' is never closed",
					       (int)open->name_len, open->name);
			if (emit && put(r, p, strlen(p)) < 0)
				return -1;
			*end = p + strlen(p);
			return 0;
		}
		if (parse_tag(r, p, at, &t) < 0)
			return -1;
		if (emit && put(r, p, (size_t)(t.text_end - p)) < 0)
			return -1;
		p = t.next;
		if (t.kind == 0) {
			if (emit && put_variable(r, &t) < 0)
				return -1;
		} else if (t.kind == '#' || t.kind == '^') {
			if (render_section(r, &t, emit, &p) < 0)
				return -1;
		} else if (t.kind == '/') {
			if (!open)
				return fail_at(r, t.start,
					       "'{{/%.*s}}' closes no section",
					       (int)t.name_len, t.name);
			if (t.name_len != open->name_len ||
			    memcmp(t.name, open->name, t.name_len) != 0)
				return fail_at(r, t.start,
					       "'{{/%.*s}}' does not close "
					       "section '%.*s' (line %d)",
					       (int)t.name_len, t.name,
					       (int)open->name_len, open->name,
					       line_of(r, open->start));
			*end = p;
			return 0;
		}
	}
}

/* ---------------------------------------------------------------- */
/* Entry point                                                      */
/* ---------------------------------------------------------------- */

int template_render(char **out, const char *tmpl, const json_t *vars,
		    const char *origin, struct err *err)
{
	struct render r;
	const char *end;

	*out = NULL;
	r.tmpl = tmpl;
	r.origin = origin ? origin : "template";
	r.depth = 1;
	r.nest = 0;
	r.err = err;
	buf_init(&r.out, TEMPLATE_OUTPUT_MAX);
	if (!json_is_object(vars))
		return err_set(err, ERR_INTERNAL,
			       "template '%s': variables are not an object",
			       r.origin);
	r.stack[0] = vars;
	if (render_block(&r, tmpl, NULL, 1, &end) < 0) {
		buf_release(&r.out);
		return -1;
	}
	*out = buf_detach(&r.out, NULL);
	return 0;
}
