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
 *	[PARAMS_FILE]			  the job script jobgen_build()
 *					  renders for that sprint (with
 *					  the run's parameters, a JSON
 *					  object, from PARAMS_FILE), on
 *					  stdout (the job script harness,
 *					  tests/jobscript, runs it)
 *   test-tool schema-validate SCHEMA FILE
 *					  validate FILE against the schema
 *					  in SCHEMA, print the error array;
 *					  exit 1 if invalid (bench/schema.sh)
 *   test-tool transport CLUSTER_JSON [--handles N] OP ARGS [+ OP ARGS]...
 *					  open the transport of the cluster
 *					  in the file CLUSTER_JSON (N
 *					  handles, used in turn) and run
 *					  each operation, printing one JSON
 *					  line each; stops at the first
 *					  failure and exits with its exit
 *					  class.  OPs: exec [--cwd D]
 *					  [--stdin F] [--timeout S] [--max B]
 *					  [--out F] [--] ARGV..., mkdirs P
 *					  MODE, write P FILE MODE, read D R
 *					  MAX [--out F], range D R OFF MAX,
 *					  stat D R, list D DEPTH MAX,
 *					  remove P, sessions (SSH sessions
 *					  opened), open (nothing)
 *					  HPCLOOP_TEST_LIBSSH2 names the
 *					  libssh2 to load
 *   test-tool free-port		  a TCP port free on 127.0.0.1 now
 */
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "buf.h"
#include "config.h"
#include "crypto.h"
#include "embedded.h"
#include "jobgen.h"
#include "journal.h"
#include "primitive.h"
#include "primitives/registry.h"
#include "schema.h"
#include "spec.h"
#include "transport.h"
#include "transport_ssh.h"
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
	const struct embedded_file *ef = embedded_find("schemas/envelope.json");
	json_t *envelope = ef ? json_loadb((const char *)ef->data, ef->len, 0,
					   NULL)
			      : NULL;
	struct buf b = BUF_INIT;
	char *line, *save = NULL;
	int n = 0, bad = 0;

	if (!envelope || read_all(&b, file) < 0) {
		fprintf(stderr, "test-tool: no envelope schema or no %s\n",
			file);
		json_decref(envelope);
		return 1;
	}
	for (line = strtok_r(b.data, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		json_t *env = json_loads(line, 0, NULL);
		const char *prim = json_string_value(
			json_object_get(env, "primitive"));
		json_t *schema = prim ? spec_schema(prim, "output") : NULL;
		json_t *env_errs = env ? schema_validate(envelope, env, 5)
				       : NULL;

		if (!env || json_array_size(env_errs)) {
			char *e = env_errs ? json_dumps(env_errs, 0) : NULL;

			fprintf(stderr, "invalid envelope: %s: %.200s\n",
				e ? e : "not JSON", line);
			free(e);
			bad++;
		}
		json_decref(env_errs);
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
	json_decref(envelope);
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

		const json_t *cl = json_object_get(e, "cluster");

		/* A cluster is named when the error concerns one. */
		if (!c || err_from_name(c) == ERR_NONE ||
		    (cl && !json_is_string(cl))) {
			printf("%s: partial error without a known code, or "
			       "with a cluster that is not a name\n",
			       pname ? pname : "?");
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
 * it ('params_file', when not NULL, holds the run's parameters as a
 * JSON object).  The job script harness renders every sprint through
 * this, so
 * that what it runs is what the product renders (render-job and
 * submit-flow choose the sprint id and directory themselves).
 */
static json_t *load_json(const char *path);

static int cmd_render_job(const char *config_path, const char *study,
			  const char *idea_file, const char *sprint_id,
			  const char *sprint_dir, const char *params_file)
{
	struct config cfg = CONFIG_INIT;
	struct jobgen g = JOBGEN_INIT;
	struct jobgen_request req;
	struct err err = ERR_INIT;
	struct buf idea = BUF_INIT;
	json_t *check = NULL, *params = NULL;
	int r = 1;

	if (read_all(&idea, idea_file) < 0)
		goto out;
	if (params_file) {
		params = load_json(params_file);
		if (!json_is_object(params)) {
			fprintf(stderr, "test-tool: %s is not a JSON object\n",
				params_file);
			goto out;
		}
	}
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
	req.params = params;
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
	json_decref(params);
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

/* ------------------------------------------------------------------ */
/* test-tool transport                                                 */
/* ------------------------------------------------------------------ */

/* Write the 'len' bytes of 'data' to the file 'path'; 0 or -1. */
static int write_all_to(const char *path, const char *data, size_t len)
{
	FILE *f = fopen(path, "wb");
	int r = 0;

	if (!f)
		return -1;
	if (len && fwrite(data, 1, len, f) != len)
		r = -1;
	if (fclose(f) != 0)
		r = -1;
	return r;
}

/* 'b' as a JSON string, or null when it is not UTF-8 without NUL. */
static json_t *text_or_null(const struct buf *b)
{
	json_t *v = json_stringn(buf_str(b), b->len);

	return v ? v : json_null();
}

/* The number of words of the operation starting at 'argv' (up to "+"). */
static int op_words(char **argv, int argc)
{
	int n = 0;

	while (n < argc && strcmp(argv[n], "+"))
		n++;
	return n;
}

/* Run "exec [options] [--] ARGV..." from 'w' ('n' words) on 't'. */
static int tool_exec(struct transport *t, json_t *o, char **w, int n,
		     struct err *err)
{
	struct exec_result res;
	struct buf in = BUF_INIT;
	const char *cwd = NULL, *out = NULL, *in_file = NULL;
	const char **argv;
	int timeout_s = 0, i = 1, k = 0, r = -1;
	size_t max = 1 << 20;

	for (; i < n && !strncmp(w[i], "--", 2); i++) {
		if (!strcmp(w[i], "--")) {
			i++;
			break;
		}
		if (i + 1 >= n)
			break;
		if (!strcmp(w[i], "--cwd"))
			cwd = w[++i];
		else if (!strcmp(w[i], "--stdin"))
			in_file = w[++i];
		else if (!strcmp(w[i], "--timeout"))
			timeout_s = (int)strtol(w[++i], NULL, 10);
		else if (!strcmp(w[i], "--max"))
			max = (size_t)strtoul(w[++i], NULL, 10);
		else if (!strcmp(w[i], "--out"))
			out = w[++i];
	}
	if (in_file && read_all(&in, in_file) < 0)
		return err_set(err, ERR_INTERNAL, "cannot read %s", in_file);
	argv = xcalloc((size_t)(n - i + 1), sizeof(*argv));
	while (i < n)
		argv[k++] = w[i++];
	exec_result_init(&res, max);
	if (transport_exec(t, &res, argv, cwd, in_file ? buf_str(&in) : NULL,
			   in.len, timeout_s, err) < 0)
		goto out;
	json_object_set_new(o, "exit_code", json_integer(res.exit_code));
	json_object_set_new(o, "signal", json_integer(res.signal));
	json_object_set_new(o, "out", text_or_null(&res.out));
	json_object_set_new(o, "err", text_or_null(&res.err));
	json_object_set_new(o, "out_len", json_integer((json_int_t)res.out.len));
	json_object_set_new(o, "out_truncated",
			    json_boolean(res.out_truncated));
	json_object_set_new(o, "err_truncated",
			    json_boolean(res.err_truncated));
	if (out && write_all_to(out, buf_str(&res.out), res.out.len) < 0) {
		err_set(err, ERR_INTERNAL, "cannot write %s", out);
		goto out;
	}
	r = 0;
out:
	free(argv);
	buf_release(&in);
	exec_result_release(&res);
	return r;
}

/* Run one operation, the 'n' words of 'w', on 't', describing it in 'o'. */
static int tool_op(struct transport *t, json_t *o, char **w, int n,
		   struct err *err)
{
	struct buf data = BUF_INIT;
	json_t *list = NULL;
	int64_t size = 0, mtime = 0;
	int exists = 0, r = -1;

	json_object_set_new(o, "op", json_string(w[0]));
	if (!strcmp(w[0], "open"))
		return 0;
	if (!strcmp(w[0], "sessions")) {
		json_object_set_new(o, "sessions",
				    json_integer(ssh_conn_opened()));
		return 0;
	}
	if (!strcmp(w[0], "exec"))
		return tool_exec(t, o, w, n, err);
	if (!strcmp(w[0], "mkdirs") && n == 3)
		return transport_mkdirs(t, w[1], (int)strtol(w[2], NULL, 8),
					err);
	if (!strcmp(w[0], "remove") && n == 2)
		return transport_remove(t, w[1], err);
	if (!strcmp(w[0], "write") && n == 4) {
		if (read_all(&data, w[2]) < 0)
			return err_set(err, ERR_INTERNAL, "cannot read %s",
				       w[2]);
		r = transport_write_file(t, w[1], buf_str(&data), data.len,
					 (int)strtol(w[3], NULL, 8), err);
		buf_release(&data);
		return r;
	}
	if (!strcmp(w[0], "read") && (n == 4 || n == 6)) {
		r = transport_read_file(t, &data, w[1], w[2],
					(size_t)strtoul(w[3], NULL, 10), err);
		if (r == 0 && n == 6 &&
		    write_all_to(w[5], buf_str(&data), data.len) < 0)
			r = err_set(err, ERR_INTERNAL, "cannot write %s", w[5]);
	} else if (!strcmp(w[0], "range") && n == 5) {
		r = transport_read_range(t, &data, &size, w[1], w[2],
					 strtoll(w[3], NULL, 10),
					 (size_t)strtoul(w[4], NULL, 10), err);
		json_object_set_new(o, "size", json_integer(size));
	} else if (!strcmp(w[0], "stat") && n == 3) {
		r = transport_stat(t, &exists, &size, &mtime, w[1], w[2], err);
		json_object_set_new(o, "exists", json_boolean(exists));
		json_object_set_new(o, "size", json_integer(size));
		json_object_set_new(o, "mtime", json_integer(mtime));
		return r;
	} else if (!strcmp(w[0], "list") && n == 4) {
		r = transport_list(t, &list, w[1], (int)strtol(w[2], NULL, 10),
				   (int)strtol(w[3], NULL, 10), err);
		if (r == 0)
			json_object_set_new(o, "files", list);
		return r;
	} else {
		return err_set(err, ERR_USAGE, "bad operation '%s'", w[0]);
	}
	if (r == 0) {
		json_object_set_new(o, "data", text_or_null(&data));
		json_object_set_new(o, "len", json_integer((json_int_t)data.len));
	}
	buf_release(&data);
	return r;
}

/* Print 'o' as one line, with the error of 'err' when 'failed'. */
static void tool_print(json_t *o, int failed, const struct err *err)
{
	char *s;

	json_object_set_new(o, "ok", json_boolean(!failed));
	if (failed) {
		json_object_set_new(o, "error_code",
				    json_string(err_name(err->code)));
		json_object_set_new(o, "message", json_string(err->message));
		json_object_set_new(o, "remediation",
				    json_string(err->remedy[0]
							? err->remedy
							: err_remediation(
								  err->code)));
		if (err->details)
			json_object_set(o, "details", err->details);
	}
	s = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
	printf("%s\n", s);
	free(s);
}

static int cmd_transport(const char *conf_path, int argc, char **argv)
{
	struct transport *t[4] = { NULL, NULL, NULL, NULL };
	struct err err = ERR_INIT;
	struct buf conf_text = BUF_INIT;
	json_t *conf = NULL;
	const char *lib = getenv("HPCLOOP_TEST_LIBSSH2");
	int handles = 1, i, k, n, r = 0, op = 0;

	if (lib && *lib)
		ssh_lib_set_name(lib);
	if (argc >= 2 && !strcmp(argv[0], "--handles")) {
		handles = (int)strtol(argv[1], NULL, 10);
		if (handles < 1 || handles > 4)
			handles = 1;
		argc -= 2;
		argv += 2;
	}
	if (read_all(&conf_text, conf_path) < 0)
		return 3;
	conf = json_loadb(buf_str(&conf_text), conf_text.len, 0, NULL);
	buf_release(&conf_text);
	for (k = 0; k < handles; k++) {
		if (transport_open(&t[k], conf, &err) < 0) {
			json_t *o = json_pack("{s:s}", "op", "transport_open");

			tool_print(o, 1, &err);
			json_decref(o);
			r = err_exit_class(err.code);
			goto out;
		}
	}
	for (i = 0; i < argc; i += n + 1) {
		json_t *o = json_object();
		int failed;

		n = op_words(argv + i, argc - i);
		if (n == 0) {
			json_decref(o);
			continue;
		}
		failed = tool_op(t[op++ % handles], o, argv + i, n, &err) < 0;
		tool_print(o, failed, &err);
		json_decref(o);
		if (failed) {
			r = err_exit_class(err.code);
			goto out;
		}
	}
out:
	fflush(stdout);
	for (k = 0; k < handles; k++)
		transport_close(t[k]);
	json_decref(conf);
	err_release(&err);
	return r;
}

/* A TCP port on 127.0.0.1 that nothing listens on at this moment. */
static int cmd_free_port(void)
{
	struct sockaddr_in sa;
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    getsockname(fd, (struct sockaddr *)&sa, &len) < 0)
		return 1;
	printf("%d\n", ntohs(sa.sin_port));
	close(fd);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc >= 3 && !strcmp(argv[1], "transport"))
		return cmd_transport(argv[2], argc - 3, argv + 3);
	if (argc == 2 && !strcmp(argv[1], "free-port"))
		return cmd_free_port();
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
	if ((argc == 7 || argc == 8) && !strcmp(argv[1], "render-job"))
		return cmd_render_job(argv[2], argv[3], argv[4], argv[5],
				      argv[6], argc == 8 ? argv[7] : NULL);
	if (argc == 4 && !strcmp(argv[1], "schema-validate"))
		return cmd_schema_validate(argv[2], argv[3]);
	fprintf(stderr, "usage: test-tool envelope|json-field|row-counts|"
			"check-output|check-errors|sha256|keys|journal-old|"
			"render-job|schema-validate|transport|free-port ...\n");
	return 2;
}
