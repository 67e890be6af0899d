/*
 * metric.c: a run's metric from a log line or a JSON pointer (see
 * metric.h).
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "metric.h"
#include "transport.h"
#include "xalloc.h"
#include "banned.h"

/* ---------------------------------------------------------------- */
/* Logs                                                               */
/* ---------------------------------------------------------------- */

/*
 * The number that the line of 'n' bytes at 'p' gives after "NAME:", or
 * 0 when it is not such a line.
 */
static int line_value(double *out, const char *p, size_t n, const char *name)
{
	size_t k = strlen(name), i;
	char num[64];
	char *end;
	double v;

	if (n <= k || memcmp(p, name, k) || p[k] != ':')
		return 0;
	i = k + 1;
	while (i < n && (p[i] == ' ' || p[i] == '\t'))
		i++;
	k = 0;
	while (i < n && k + 1 < sizeof(num) && !isspace((unsigned char)p[i]))
		num[k++] = p[i++];
	num[k] = '\0';
	if (!k || (i < n && !isspace((unsigned char)p[i])))
		return 0;
	errno = 0;
	v = strtod(num, &end);
	if (*end || errno == ERANGE || !isfinite(v))
		return 0;
	*out = v;
	return 1;
}

int metric_from_log(double *value_out, size_t *line_out, const char *text,
		    size_t len, const char *name)
{
	size_t pos = 0, line = 0;
	int found = 0;

	if (!name || !*name || strlen(name) > METRIC_NAME_MAX)
		return 0;
	while (pos < len) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - (text + pos)) : len - pos;
		double v;

		line++;
		if (n && text[pos + n - 1] == '\r')
			n--;
		if (line_value(&v, text + pos, n, name)) {
			*value_out = v;
			*line_out = line;
			found = 1;
		}
		pos += (nl ? (size_t)(nl - (text + pos)) + 1 : len - pos);
	}
	return found;
}

/* ---------------------------------------------------------------- */
/* JSON                                                               */
/* ---------------------------------------------------------------- */

/* The next token of 'p' (after its '/') unescaped into 'tok'. */
static const char *pointer_token(struct buf *tok, const char *p)
{
	buf_truncate(tok, 0);
	for (; *p && *p != '/'; p++) {
		if (*p == '~' && p[1] == '0') {
			buf_add(tok, "~", 1);
			p++;
		} else if (*p == '~' && p[1] == '1') {
			buf_add(tok, "/", 1);
			p++;
		} else {
			buf_add(tok, p, 1);
		}
	}
	return p;
}

/* The array index 's' names, or -1 ("0", or digits not starting 0). */
static long array_index(const char *s)
{
	long v = 0;

	if (!*s || (s[0] == '0' && s[1]))
		return -1;
	for (; *s; s++) {
		if (!isdigit((unsigned char)*s) || v > 100000000)
			return -1;
		v = v * 10 + (*s - '0');
	}
	return v;
}

const json_t *metric_json_pointer(const json_t *doc, const char *pointer)
{
	struct buf tok = BUF_INIT;
	const json_t *cur = doc;
	const char *p = pointer;

	if (!pointer || (*p && *p != '/'))
		return NULL;
	while (cur && *p == '/') {
		long idx;

		p = pointer_token(&tok, p + 1);
		if (json_is_object(cur)) {
			cur = json_object_get(cur, buf_str(&tok));
		} else if (json_is_array(cur)) {
			idx = array_index(buf_str(&tok));
			cur = idx < 0 ? NULL : json_array_get(cur, (size_t)idx);
		} else {
			cur = NULL;
		}
	}
	buf_release(&tok);
	return cur;
}

int metric_from_json(double *value_out, char *why, size_t size,
		     const char *text, size_t len, const char *pointer)
{
	json_t *doc = json_loadb(text, len, JSON_DECODE_ANY, NULL);
	const json_t *v;
	int r = 0;

	if (!doc) {
		snprintf(why, size, "not JSON");
		return 0;
	}
	v = metric_json_pointer(doc, pointer);
	if (!v)
		snprintf(why, size, "nothing at the pointer '%s'", pointer);
	else if (!json_is_number(v) || !isfinite(json_number_value(v)))
		snprintf(why, size, "the value at '%s' is not a number",
			 pointer);
	else {
		*value_out = json_number_value(v);
		r = 1;
	}
	json_decref(doc);
	return r;
}

/* ---------------------------------------------------------------- */
/* Reading                                                            */
/* ---------------------------------------------------------------- */

/* '*why_out' = "REL: WHY" as a new string; returns 0. */
static int not_read(char **why_out, const char *rel, const char *why)
{
	struct buf b = BUF_INIT;

	buf_addf(&b, "%s: %s", rel, why);
	*why_out = buf_detach(&b, NULL);
	return 0;
}

/*
 * The error 'e' of a read means the file could not be had (missing or
 * refused), not that the cluster failed.
 */
static int is_file_error(const struct err *e)
{
	return e->code == ERR_NOT_FOUND || e->code == ERR_FILE_REFUSED;
}

int metric_read(struct transport *t, char **text_out, size_t *len_out,
		char **why_out, const char *dir, const char *rel, size_t max,
		int tail, struct err *err)
{
	struct buf data = BUF_INIT;
	int64_t size = 0, mtime = 0, offset = 0;
	int exists = 0;
	size_t skip = 0;

	*text_out = NULL;
	*len_out = 0;
	*why_out = NULL;
	if (transport_stat(t, &exists, &size, &mtime, dir, rel, err) < 0) {
		if (!is_file_error(err))
			return -1;
		not_read(why_out, rel, err->message);
		err_clear(err);
		return 0;
	}
	if (!exists)
		return not_read(why_out, rel, "no such file");
	if (tail && size > (int64_t)max)
		offset = size - (int64_t)max;
	if (transport_read_range(t, &data, &size, dir, rel, offset, max, err) <
	    0) {
		if (!is_file_error(err))
			return -1;
		not_read(why_out, rel, err->message);
		err_clear(err);
		return 0;
	}
	if (!tail && size > (int64_t)max) {
		buf_release(&data);
		return not_read(why_out, rel, "too large");
	}
	/* A tail starts at the first whole line. */
	if (offset > 0) {
		const char *nl = memchr(buf_str(&data), '\n', data.len);

		skip = nl ? (size_t)(nl - buf_str(&data)) + 1 : data.len;
	}
	*len_out = data.len - skip;
	*text_out = xmalloc(*len_out + 1);
	memcpy(*text_out, buf_str(&data) + skip, *len_out);
	(*text_out)[*len_out] = '\0';
	buf_release(&data);
	return 0;
}
