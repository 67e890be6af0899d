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
 *   test-tool journal-old N PATH	  create a journal at the old schema
 *					  version N (to test migrations)
 *   test-tool check-errors FILE	  every failure envelope in FILE
 *					  carries a code its primitive may
 *					  return (errors.def scope and the
 *					  registry's lists), with that code's
 *					  retry_safe; partial errors name a
 *					  known code and their cluster
 *   test-tool render-job CONFIG STUDY IDEA_FILE SPRINT_ID SPRINT_DIR
 *					  the job script jobgen_build()
 *					  renders for that sprint, on
 *					  stdout (the job script harness,
 *					  tests/jobscript, runs it)
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
#include "config.h"
#include "crypto.h"
#include "jobgen.h"
#include "journal.h"
#include "primitive.h"
#include "primitives/registry.h"
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
	if (journal_open(&j, path, 0, &err) < 0 ||
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

/* One envelope line 'env' for cmd_check_errors: 0 fine, 1 a violation. */
static int check_one_error(const json_t *env)
{
	const char *pname = json_string_value(json_object_get(env,
							       "primitive"));
	const char *cname = json_string_value(json_object_get(env,
							       "error_code"));
	const json_t *pe = json_object_get(env, "partial_errors");
	const struct primitive *p = registry_find(&hpcloop_registry, pname);
	enum err_code code = err_from_name(cname ? cname : "");
	size_t i;
	int bad = 0;

	for (i = 0; i < json_array_size(pe); i++) {
		const json_t *e = json_array_get(pe, i);
		const char *c = json_string_value(json_object_get(e, "code"));

		if (!c || err_from_name(c) == ERR_NONE ||
		    !json_is_string(json_object_get(e, "cluster"))) {
			printf("%s: partial error without a known code and "
			       "its cluster\n", pname ? pname : "?");
			bad = 1;
		}
	}
	if (json_is_true(json_object_get(env, "ok")) || !pname)
		return bad;
	if (!p || code == ERR_NONE) {
		printf("%s: unknown primitive or code '%s'\n", pname,
		       cname ? cname : "");
		return 1;
	}
	if (!primitive_may_return(p, code)) {
		printf("%s: returned %s, which it does not declare\n", pname,
		       cname);
		bad = 1;
	}
	if (json_is_true(json_object_get(env, "retry_safe")) !=
	    err_retry_safe(code)) {
		printf("%s: %s with the wrong retry_safe\n", pname, cname);
		bad = 1;
	}
	return bad;
}

static int cmd_check_errors(const char *path)
{
	FILE *f = fopen(path, "r");
	char *line = NULL;
	size_t cap = 0;
	int checked = 0, bad = 0;

	if (!f) {
		fprintf(stderr, "test-tool: cannot open %s\n", path);
		return 2;
	}
	while (getline(&line, &cap, f) > 0) {
		json_t *env = json_loads(line, 0, NULL);

		if (!env)
			continue;
		if (!json_is_true(json_object_get(env, "ok")))
			checked++;
		bad += check_one_error(env);
		json_decref(env);
	}
	free(line);
	fclose(f);
	printf("%d failure envelopes checked, %d violations\n", checked, bad);
	return bad || !checked ? 1 : 0;
}

static int cmd_journal_old(const char *version, const char *path)
{
	struct err err = ERR_INIT;
	int r = 0;

	if (journal_create_old(path, (int)strtol(version, NULL, 10), &err) < 0) {
		fprintf(stderr, "test-tool: %s\n", err.message);
		r = 1;
	}
	err_release(&err);
	return r;
}

/*
 * Render the job script of sprint 'sprint_id' of 'study' under the
 * config file 'config_path', with the idea read from 'idea_file' and the
 * sprint directory 'sprint_dir', exactly as submit-flow would, and print
 * it.  The job script harness renders every sprint through this, so
 * that what it runs is what the product renders (render-job and
 * submit-flow choose the sprint id and directory themselves).
 */
static int cmd_render_job(const char *config_path, const char *study,
			  const char *idea_file, const char *sprint_id,
			  const char *sprint_dir)
{
	struct config cfg = CONFIG_INIT;
	struct jobgen g = JOBGEN_INIT;
	struct jobgen_request req;
	struct err err = ERR_INIT;
	struct buf idea = BUF_INIT;
	json_t *check = NULL;
	int r = 1;

	if (read_all(&idea, idea_file) < 0)
		goto out;
	/* A spec's idea is a JSON string: UTF-8 without NUL. */
	check = json_stringn(buf_str(&idea), idea.len);
	if (!check || strlen(buf_str(&idea)) != idea.len) {
		fprintf(stderr, "test-tool: %s is not UTF-8 text\n",
			idea_file);
		goto out;
	}
	memset(&req, 0, sizeof(req));
	req.study = study;
	req.idea = buf_str(&idea);
	req.sprint_id = sprint_id;
	req.sprint_dir = sprint_dir;
	if (config_load(&cfg, config_path, &err) < 0 ||
	    jobgen_build(&g, &cfg, &req, &err) < 0) {
		fprintf(stderr, "test-tool: %s\n", err.message);
		goto out;
	}
	if (fputs(g.script, stdout) == EOF || fflush(stdout) == EOF) {
		fprintf(stderr, "test-tool: cannot write the script\n");
		goto out;
	}
	r = 0;
out:
	json_decref(check);
	jobgen_release(&g);
	config_release(&cfg);
	err_release(&err);
	buf_release(&idea);
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
	if (argc == 3 && !strcmp(argv[1], "check-errors"))
		return cmd_check_errors(argv[2]);
	if (argc == 4 && !strcmp(argv[1], "journal-old"))
		return cmd_journal_old(argv[2], argv[3]);
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
	if (argc == 7 && !strcmp(argv[1], "render-job"))
		return cmd_render_job(argv[2], argv[3], argv[4], argv[5],
				      argv[6]);
	if (argc == 4 && !strcmp(argv[1], "schema-validate"))
		return cmd_schema_validate(argv[2], argv[3]);
	fprintf(stderr, "usage: test-tool envelope|json-field|row-counts|"
			"check-output|check-errors|sha256|keys|journal-old|"
			"render-job|schema-validate ...\n");
	return 2;
}
