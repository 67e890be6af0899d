/*
 * artifacts: list a sprint's files with sizes and SHA-256 (read through
 * the cluster's transport) and copy them into the local artifact store,
 * <artifact_dir>/<sprint id>/<path>.  Paths that could leave the store
 * (absolute, "..", empty parts) are refused, the webhook token is never
 * copied, and links are never followed.
 */
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "cluster.h"
#include "config.h"
#include "crypto.h"
#include "ids.h"
#include "journal.h"
#include "primitive.h"
#include "sprint.h"
#include "transport.h"
#include "xalloc.h"
#include "banned.h"

/* The largest file copied; bigger ones are listed, not copied. */
#define ARTIFACT_FILE_MAX (64 * 1024 * 1024)
#define ARTIFACT_MAX_FILES 2000

/*
 * 1 when the relative path 'p' stays inside its directory: not
 * absolute, no "." or ".." part, no empty part, no control character.
 */
static int path_is_safe(const char *p)
{
	const char *part = p;

	if (!*p || *p == '/')
		return 0;
	for (;;) {
		const char *end = strchr(part, '/');
		size_t n = end ? (size_t)(end - part) : strlen(part);

		if (n == 0 || (n == 1 && part[0] == '.') ||
		    (n == 2 && part[0] == '.' && part[1] == '.'))
			return 0;
		if (!end)
			break;
		part = end + 1;
	}
	for (; *p; p++)
		if ((unsigned char)*p < 0x20)
			return 0;
	return 1;
}

/* 1 for files that are never copied: the sprint's secrets. */
static int is_secret(const char *p)
{
	return !strcmp(p, ".hpcloop/token") || !strcmp(p, ".hpcloop/secret");
}

/* The artifact store for 'cfg' and journal 'journal_path'. */
static char *store_dir(const struct config *cfg, const char *journal_path)
{
	const char *d = json_string_value(json_object_get(cfg->root,
							   "artifact_dir"));
	const char *slash;
	struct buf b = BUF_INIT;

	if (d)
		return config_path(cfg, d);
	slash = strrchr(journal_path, '/');
	if (slash)
		buf_add(&b, journal_path, (size_t)(slash - journal_path));
	else
		buf_adds(&b, ".");
	buf_adds(&b, "/artifacts");
	return buf_detach(&b, NULL);
}

/*
 * Copy one listed file 'f' of sprint 'id' from 'sprint_dir' on 'c' to
 * the store 'local' (a local transport) and add its row to 'files'.  A
 * file the transport refuses to read (replaced by a link or a FIFO since
 * it was listed, or grown past the limit) goes to 'refused' instead.
 * The journal is not touched here: rows are recorded afterwards in one
 * short transaction.
 */
static int copy_one(struct cluster *c, struct transport *local,
		    const char *id, const char *sprint_dir,
		    const char *store, const json_t *f, int copy,
		    json_t *files, json_t *refused, struct err *err)
{
	const char *rel = json_string_value(json_object_get(f, "path"));
	json_int_t size = json_integer_value(json_object_get(f, "size"));
	struct buf dst = BUF_INIT, data = BUF_INIT;
	char hash[SHA256_HEX_LEN + 1];
	int r = -1;

	if (size > ARTIFACT_FILE_MAX) {
		json_array_append_new(files,
				      json_pack("{s:s, s:I, s:n, s:n}", "path",
						rel, "size", size, "sha256",
						"stored_path"));
		return 0;
	}
	buf_addf(&dst, "%s/%s/%s", store, id, rel);
	if (transport_read_file(c->t, &data, sprint_dir, rel,
				ARTIFACT_FILE_MAX, err) < 0) {
		if (err->code != ERR_FILE_REFUSED)
			goto out;
		err_clear(err);
		json_array_append_new(refused, json_string(rel));
		r = 0;
		goto out;
	}
	crypto_sha256_hex(hash, buf_str(&data), data.len);
	if (copy && transport_write_file(local, buf_str(&dst), buf_str(&data),
					 data.len, 0600, err) < 0)
		goto out;
	json_array_append_new(files, json_pack("{s:s, s:I, s:s, s:s?}",
					       "path", rel, "size",
					       (json_int_t)data.len, "sha256",
					       hash, "stored_path",
					       copy ? buf_str(&dst) : NULL));
	r = 0;
out:
	buf_release(&dst);
	buf_release(&data);
	return r;
}

/*
 * Record the hashed rows of 'files' for sprint 'id' (a file seen before
 * is kept once) in a transaction that the dispatcher commits.
 */
static int record(struct ctx *ctx, const char *id, const json_t *files,
		  struct err *err)
{
	json_t *hashed = json_array();
	size_t i;
	int r;

	for (i = 0; i < json_array_size(files); i++) {
		json_t *f = json_array_get(files, i);

		if (!json_is_null(json_object_get(f, "sha256")))
			json_array_append(hashed, f);
	}
	r = journal_begin(ctx->journal, err);
	if (r == 0)
		r = sprint_record_artifacts(ctx->journal, id, hashed, err);
	json_decref(hashed);
	return r;
}

static int artifacts_run(struct ctx *ctx, const json_t *spec, json_t **data,
			 struct err *err)
{
	const char *id = json_string_value(json_object_get(spec,
							    "sprint_id"));
	const json_t *v = json_object_get(spec, "copy");
	int copy = v ? json_is_true(v) : 1;
	struct cluster c = CLUSTER_INIT;
	struct transport *local = NULL;
	json_t *row = NULL, *list = NULL, *files = json_array(), *refused;
	json_t *lconf = json_pack("{s:s}", "transport", "local");
	const char *dir;
	char *store = NULL;
	size_t i;
	int r = -1;

	refused = json_array();
	if (sprint_get(ctx->journal, &row, id, err) < 0 ||
	    cluster_open(&c, ctx->config,
			 json_string_value(json_object_get(row, "cluster")),
			 err) < 0 ||
	    transport_open(&local, lconf, err) < 0)
		goto out;
	dir = json_string_value(json_object_get(row, "directory"));
	store = store_dir(ctx->config, ctx->journal_path);
	if (transport_list(c.t, &list, dir, 6, ARTIFACT_MAX_FILES, err) < 0)
		goto out;
	for (i = 0; i < json_array_size(list); i++) {
		const json_t *f = json_array_get(list, i);
		const char *rel = json_string_value(json_object_get(f,
								     "path"));

		if (!rel || !path_is_safe(rel)) {
			json_array_append_new(refused,
					      json_string(rel ? rel : ""));
			continue;
		}
		if (is_secret(rel))
			continue;
		if (copy_one(&c, local, id, dir, store, f, copy, files,
			     refused, err) < 0)
			goto out;
	}
	if (record(ctx, id, files, err) < 0)
		goto out;
	*data = json_pack("{s:s, s:s, s:O, s:I, s:O}", "sprint_id", id,
			  "store", store, "files", files, "count",
			  (json_int_t)json_array_size(files), "refused",
			  refused);
	r = 0;
out:
	cluster_release(&c);
	transport_close(local);
	json_decref(lconf);
	json_decref(row);
	json_decref(list);
	json_decref(files);
	json_decref(refused);
	free(store);
	return r;
}

static const enum err_code artifacts_errors[] = {
	ERR_NOT_FOUND, ERR_TRANSFER_FAILED, ERR_SSH_UNREACHABLE, ERR_IO_FAILED, ERR_NONE
};

const struct primitive prim_artifacts = {
	.name = "artifacts",
	.summary = "List a sprint's files with sizes and hashes and copy "
		   "them into the artifact store",
	.description = "Lists the sprint directory through the cluster's "
		       "transport (links are not followed), records each "
		       "file's size and SHA-256 in the journal and copies "
		       "it to <artifact_dir>/<sprint id>/ (`copy`: false "
		       "only lists). Symbolic links, FIFOs and devices "
		       "are skipped, and a file that turns into one before "
		       "it is read is refused and reported, as are paths "
		       "that could leave the store; the sprint's webhook "
		       "token is never copied. Files over 64 MiB are "
		       "listed without a copy.",
	.example = "{\"sprint_id\": \"sp-000000\"}",
	.flags = PRIM_MUTATES | PRIM_IDEMPOTENT | PRIM_NEEDS_JOURNAL |
		 PRIM_NEEDS_CONFIG | PRIM_NEEDS_CLUSTER | PRIM_OWN_TX |
		 PRIM_HTTP,
	.errors = artifacts_errors,
	.handler = artifacts_run,
};
