/*
 * spec.c: bounded spec input and schema checks (see spec.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "embedded.h"
#include "schema.h"
#include "spec.h"
#include "xalloc.h"
#include "banned.h"

/* jansson's error text, made lower case for our message style. */
static void lower_first(char *s)
{
	if (s[0] >= 'A' && s[0] <= 'Z')
		s[0] = (char)(s[0] - 'A' + 'a');
}

int spec_parse(json_t **out, const char *text, size_t len,
	       const char *origin, struct err *err)
{
	json_error_t jerr;
	json_t *v;

	*out = NULL;
	if (len > SPEC_MAX_BYTES)
		return err_set(err, ERR_SPEC_INVALID,
			       "spec from %s is larger than %d bytes", origin,
			       SPEC_MAX_BYTES);
	if (memchr(text, '\0', len))
		return err_set(err, ERR_SPEC_INVALID,
			       "spec from %s contains a NUL byte", origin);
	v = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!v) {
		lower_first(jerr.text);
		err_set(err, ERR_SPEC_INVALID,
			"spec from %s is not valid JSON: %s (line %d, "
			"column %d)",
			origin, jerr.text, jerr.line, jerr.column);
		err_detail(err, "line", json_integer(jerr.line));
		err_detail(err, "column", json_integer(jerr.column));
		return -1;
	}
	if (!json_is_object(v)) {
		json_decref(v);
		return err_set(err, ERR_SPEC_INVALID,
			       "spec from %s must be a JSON object", origin);
	}
	*out = v;
	return 0;
}

int spec_read(json_t **out, const char *arg, struct err *err)
{
	struct buf b = BUF_INIT;
	FILE *f = NULL;
	const char *p = arg;
	char origin[256];
	int rc, r = -1;

	*out = NULL;
	if (!arg) {
		*out = json_object();
		return 0;
	}
	while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
		p++;
	if (*p == '{' || *p == '[')
		return spec_parse(out, arg, strlen(arg), "the command line",
				  err);
	buf_init(&b, SPEC_MAX_BYTES);
	if (!strcmp(arg, "-")) {
		f = stdin;
		snprintf(origin, sizeof(origin), "stdin");
	} else {
		f = fopen(arg, "rb");
		snprintf(origin, sizeof(origin), "'%s'", arg);
		if (!f && errno == ENOENT) {
			err_set(err, ERR_SPEC_INVALID,
				"the spec file %s does not exist", origin);
			err_remedy(err, "give the spec inline (--spec "
				   "'{...}'), on stdin (--spec -), or as the "
				   "path of an existing file");
			goto out;
		}
		if (!f) {
			err_set(err, ERR_SPEC_INVALID,
				"cannot read spec %s: %s", origin,
				strerror(errno));
			goto out;
		}
	}
	rc = buf_read_file(&b, f);
	if (rc == -2) {
		err_set(err, ERR_SPEC_INVALID,
			"spec from %s is larger than %d bytes", origin,
			SPEC_MAX_BYTES);
		goto out;
	}
	if (rc < 0) {
		err_set(err, ERR_SPEC_INVALID, "cannot read spec %s: %s",
			origin, strerror(errno));
		goto out;
	}
	r = spec_parse(out, buf_str(&b), b.len, origin, err);
out:
	if (f && f != stdin)
		fclose(f);
	buf_release(&b);
	return r;
}

json_t *spec_schema(const char *name, const char *which)
{
	char path[256];
	const struct embedded_file *f;

	snprintf(path, sizeof(path), "schemas/%s.%s.json", name, which);
	f = embedded_find(path);
	if (!f)
		return NULL;
	return json_loadb((const char *)f->data, f->len, 0, NULL);
}

int spec_validate(const char *name, const char *which,
		  const json_t *instance, enum err_code code,
		  struct err *err)
{
	json_t *schema = spec_schema(name, which);
	json_t *errors = NULL, *first;
	const char *path;
	int r = -1;

	if (!schema)
		return err_set(err, ERR_INTERNAL, "no %s schema for '%s'",
			       which, name);
	errors = schema_validate(schema, instance, 20);
	if (json_array_size(errors) == 0) {
		r = 0;
		goto out;
	}
	first = json_array_get(errors, 0);
	path = json_string_value(json_object_get(first, "path"));
	err_set(err, code, "%s %s: %s%s%s",
		!strcmp(which, "input") ? "spec" : "output",
		!strcmp(which, "input") ? "invalid" : "does not match schema",
		path && *path ? path : "",
		path && *path ? ": " : "",
		json_string_value(json_object_get(first, "message")));
	err_detail(err, "errors", json_incref(errors));
out:
	json_decref(errors);
	json_decref(schema);
	return r;
}
