/*
 * test-tool: small commands the shell tests need, so that they depend on
 * nothing but the tree (git's t/helper).
 *
 *   test-tool envelope FILE		  exactly one line, a JSON object
 *					  with a boolean "ok"; exit 1 if not
 *   test-tool json-field FILE PATH	  print the value at PATH (a JSON
 *					  pointer, or .a.b.0 dotted form):
 *					  strings raw (a newline added
 *					  unless they end with one),
 *					  others as JSON
 *   test-tool row-counts JOURNAL	  canonical JSON {table: rows}
 *   test-tool check-output FILE	  validate "data" of each envelope
 *					  line in FILE against its
 *					  primitive's output schema
 *   test-tool sha256 FILE		  hex digest of FILE
 *   test-tool keys FILE		  the top-level keys, sorted, one line
 *   test-tool schema-validate SCHEMA FILE
 *					  validate FILE against the schema
 *					  in SCHEMA, print the error array;
 *					  exit 1 if invalid (bench/schema.sh)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "crypto.h"
#include "journal.h"
#include "schema.h"
#include "spec.h"
#include "xalloc.h"
#include "banned.h"

static int read_all(struct buf *b, const char *path)
{
	FILE *f = strcmp(path, "-") ? fopen(path, "rb") : stdin;
	int r;

	if (!f) {
		fprintf(stderr, "test-tool: cannot open %s\n", path);
		return -1;
	}
	r = buf_read_file(b, f);
	if (f != stdin)
		fclose(f);
	return r;
}

static int cmd_envelope(const char *path)
{
	struct buf b = BUF_INIT;
	json_t *v = NULL;
	const char *nl;
	int r = 1;

	if (read_all(&b, path) < 0)
		goto out;
	nl = memchr(buf_str(&b), '\n', b.len);
	if (!nl || (size_t)(nl - buf_str(&b)) != b.len - 1) {
		fprintf(stderr, "test-tool: stdout is not exactly one line "
				"(%zu bytes)\n", b.len);
		goto out;
	}
	v = json_loadb(buf_str(&b), b.len, JSON_REJECT_DUPLICATES, NULL);
	if (!json_is_object(v) || !json_is_boolean(json_object_get(v, "ok"))) {
		fprintf(stderr, "test-tool: stdout is not an envelope\n");
		goto out;
	}
	r = 0;
out:
	json_decref(v);
	buf_release(&b);
	return r;
}

/* Follow 'path' ("/a/0/b" or ".a.0.b") from 'v'; borrowed result. */
static json_t *walk(json_t *v, const char *path)
{
	char *copy = xstrdup(path), *p = copy, *seg;
	char sep = *path == '/' ? '/' : '.';

	if (*p == sep)
		p++;
	while (v && *p) {
		seg = p;
		p = strchr(p, sep);
		if (p)
			*p++ = '\0';
		else
			p = seg + strlen(seg);
		if (json_is_array(v)) {
			char *end;
			long i = strtol(seg, &end, 10);

			v = *end ? NULL : json_array_get(v, (size_t)i);
		} else {
			v = json_object_get(v, seg);
		}
	}
	free(copy);
	return v;
}

static int cmd_json_field(const char *file, const char *path)
{
	struct buf b = BUF_INIT;
	json_t *root = NULL, *v;
	char *s;
	int r = 1;

	if (read_all(&b, file) < 0)
		goto out;
	root = json_loadb(buf_str(&b), b.len, JSON_DECODE_ANY, NULL);
	v = walk(root, path);
	if (!v) {
		fprintf(stderr, "test-tool: no field %s\n", path);
		goto out;
	}
	if (json_is_string(v)) {
		const char *str = json_string_value(v);
		size_t n = strlen(str);

		/* Text that ends a line already is printed as it is. */
		printf("%s%s", str, n && str[n - 1] == '\n' ? "" : "\n");
	} else {
		s = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT |
					  JSON_SORT_KEYS);
		printf("%s\n", s);
		free(s);
	}
	r = 0;
out:
	json_decref(root);
	buf_release(&b);
	return r;
}

static int cmd_row_counts(const char *path)
{
	struct journal *j = NULL;
	struct err err = ERR_INIT;
	json_t *counts = NULL;
	char *s;
	int r = 1;

	if (access(path, F_OK) < 0) {
		printf("absent\n");
		return 0;
	}
	if (journal_open(&j, path, &err) < 0 ||
	    journal_row_counts(j, &counts, &err) < 0) {
		fprintf(stderr, "test-tool: %s\n", err.message);
		goto out;
	}
	s = crypto_canonical_json(counts);
	printf("%s\n", s);
	free(s);
	r = 0;
out:
	json_decref(counts);
	journal_close(j);
	err_release(&err);
	return r;
}

/*
 * Validate every success envelope in 'file' (one per line) against its
 * primitive's output schema; print a count and each failure.
 */
static int cmd_check_output(const char *file)
{
	struct buf b = BUF_INIT;
	char *line, *save = NULL;
	int n = 0, bad = 0;

	if (read_all(&b, file) < 0)
		return 1;
	for (line = strtok_r(b.data, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		json_t *env = json_loads(line, 0, NULL);
		const char *prim = json_string_value(
			json_object_get(env, "primitive"));
		json_t *schema = prim ? spec_schema(prim, "output") : NULL;

		if (env && json_is_true(json_object_get(env, "ok"))) {
			json_t *errs = schema ? schema_validate(
				schema, json_object_get(env, "data"), 5)
					      : NULL;

			n++;
			if (!schema || json_array_size(errs)) {
				char *e = errs ? json_dumps(errs, 0) : NULL;

				fprintf(stderr, "invalid %s data: %s\n",
					prim ? prim : "?",
					e ? e : "no schema");
				free(e);
				bad++;
			}
			json_decref(errs);
		}
		json_decref(schema);
		json_decref(env);
	}
	printf("%d envelopes checked, %d invalid\n", n, bad);
	buf_release(&b);
	return bad ? 1 : 0;
}

static int cmd_sha256(const char *file)
{
	struct buf b = BUF_INIT;
	char hex[SHA256_HEX_LEN + 1];

	if (read_all(&b, file) < 0)
		return 1;
	crypto_sha256_hex(hex, buf_str(&b), b.len);
	printf("%s\n", hex);
	buf_release(&b);
	return 0;
}

static int cmd_keys(const char *file)
{
	struct buf b = BUF_INIT;
	json_t *v = NULL, *keys = NULL, *val;
	const char *k;
	size_t i;
	int r = 1;

	if (read_all(&b, file) < 0)
		goto out;
	v = json_loadb(buf_str(&b), b.len, 0, NULL);
	if (!json_is_object(v))
		goto out;
	keys = json_array();
	json_object_foreach(v, k, val)
		json_array_append_new(keys, json_string(k));
	/* insertion sort: a handful of keys */
	for (i = 1; i < json_array_size(keys); i++) {
		size_t m = i;

		while (m > 0 &&
		       strcmp(json_string_value(json_array_get(keys, m - 1)),
			      json_string_value(json_array_get(keys, m))) > 0) {
			json_t *a = json_incref(json_array_get(keys, m - 1));

			json_array_set(keys, m - 1, json_array_get(keys, m));
			json_array_set_new(keys, m, a);
			m--;
		}
	}
	for (i = 0; i < json_array_size(keys); i++)
		printf("%s%s", i ? " " : "",
		       json_string_value(json_array_get(keys, i)));
	printf("\n");
	r = 0;
out:
	json_decref(keys);
	json_decref(v);
	buf_release(&b);
	return r;
}

/* Load the JSON file 'path' (any size: files of the test's own making). */
static json_t *load_json(const char *path)
{
	struct buf b = BUF_INIT;
	json_t *v = NULL;

	if (read_all(&b, path) == 0)
		v = json_loadb(buf_str(&b), b.len, JSON_DECODE_ANY, NULL);
	if (!v)
		fprintf(stderr, "test-tool: %s is not JSON\n", path);
	buf_release(&b);
	return v;
}

static int cmd_schema_validate(const char *schema_file, const char *file)
{
	json_t *schema = load_json(schema_file);
	json_t *inst = schema ? load_json(file) : NULL;
	json_t *errors = NULL;
	char *s;
	int r = 2;

	if (!inst)
		goto out;
	errors = schema_validate(schema, inst, 0);
	s = json_dumps(errors, JSON_COMPACT);
	printf("%s\n", s ? s : "?");
	free(s);
	r = json_array_size(errors) ? 1 : 0;
out:
	json_decref(errors);
	json_decref(inst);
	json_decref(schema);
	return r;
}

int main(int argc, char **argv)
{
	if (argc == 3 && !strcmp(argv[1], "keys"))
		return cmd_keys(argv[2]);
	if (argc == 3 && !strcmp(argv[1], "envelope"))
		return cmd_envelope(argv[2]);
	if (argc == 4 && !strcmp(argv[1], "json-field"))
		return cmd_json_field(argv[2], argv[3]);
	if (argc == 3 && !strcmp(argv[1], "row-counts"))
		return cmd_row_counts(argv[2]);
	if (argc == 3 && !strcmp(argv[1], "check-output"))
		return cmd_check_output(argv[2]);
	if (argc == 3 && !strcmp(argv[1], "sha256"))
		return cmd_sha256(argv[2]);
	if (argc == 4 && !strcmp(argv[1], "schema-validate"))
		return cmd_schema_validate(argv[2], argv[3]);
	fprintf(stderr, "usage: test-tool envelope|json-field|row-counts|"
			"check-output|sha256|keys|schema-validate ...\n");
	return 2;
}
