/*
 * logs: the tails of a sprint's logs, read through the cluster's
 * transport: output.log, progress.md, sprint_log.txt, the job's own
 * stdout and stderr, and each agent step's stderr and stream.  The
 * sprint directory is untrusted: a log the transport refuses (a link, a
 * FIFO) is shown as null and reported as a partial error.
 */
#include <string.h>

#include "buf.h"
#include "cluster.h"
#include "journal.h"
#include "primitive.h"
#include "sprint.h"
#include "transport.h"
#include "banned.h"

/* How much of the end of a file is read to find its last lines. */
#define LOGS_READ_MAX (64 * 1024)

/*
 * The last 'lines' lines of '<dir>/<rel>' on 't', as a new string, or
 * NULL when the file does not exist, or (with 'err' filled) on failure.
 */
static json_t *tail(struct transport *t, const char *dir, const char *rel,
		    int lines, struct err *err)
{
	struct buf data = BUF_INIT;
	int64_t size = 0, mtime = 0;
	int exists = 0, n = 0;
	const char *s;
	json_t *out = NULL;
	size_t i;

	if (transport_stat(t, &exists, &size, &mtime, dir, rel, err) < 0 ||
	    !exists)
		goto out;
	if (transport_read_range(t, &data, &size, dir, rel,
				 size > LOGS_READ_MAX ? size - LOGS_READ_MAX
						      : 0,
				 LOGS_READ_MAX, err) < 0)
		goto out;
	s = buf_str(&data);
	i = data.len;
	if (i && s[i - 1] == '\n')
		i--;
	while (i > 0) {
		if (s[i - 1] == '\n' && ++n >= lines)
			break;
		i--;
	}
	out = json_string(s + i);
	if (!out)	/* not UTF-8: hand back bytes as Latin-1 is no better */
		out = json_string("(not UTF-8 text)");
out:
	buf_release(&data);
	return out;
}

/*
 * Set 'key' of 'obj' to the tail of '<dir>/<rel>' (null when there is
 * none).  A file the sprint made a link, a FIFO or a device is not read:
 * it is null too, and named in the call's partial errors.
 */
static int add_tail(struct ctx *ctx, json_t *obj, const char *key,
		    struct cluster *c, const char *dir, const char *rel,
		    int lines, struct err *err)
{
	json_t *v = tail(c->t, dir, rel, lines, err);

	if (err->code == ERR_FILE_REFUSED) {
		ctx_partial_error(ctx, err->code, err->message, c->name);
		err_clear(err);
	}
	if (err->code != ERR_NONE)
		return -1;
	json_object_set_new(obj, key, v ? v : json_null());
	return 0;
}

static int logs_run(struct ctx *ctx, const json_t *spec, json_t **data,
		    struct err *err)
{
	static const char *const files[] = {
		"output.log", "progress.md", "sprint_log.txt", "job.out",
		"job.err",    NULL
	};
	static const char *const steps[] = { "research", "red_team",
					     "fix",	 "report",
					     "summarize", NULL };
	const char *id = json_string_value(json_object_get(spec,
							    "sprint_id"));
	const json_t *v = json_object_get(spec, "lines");
	int lines = v ? (int)json_integer_value(v) : 40;
	struct cluster c = CLUSTER_INIT;
	json_t *row = NULL, *logs = json_object(), *st = json_object();
	json_t *list = NULL;
	const char *dir;
	size_t i;
	int k, r = -1;

	if (sprint_get(ctx->journal, &row, id, err) < 0 ||
	    cluster_open(&c, ctx->config,
			 json_string_value(json_object_get(row, "cluster")),
			 err) < 0)
		goto out;
	dir = json_string_value(json_object_get(row, "directory"));
	for (k = 0; files[k]; k++) {
		if (add_tail(ctx, logs, files[k], &c, dir, files[k], lines,
			     err) < 0)
			goto out;
	}
	/* Each step's stderr and stream, as the job script names them. */
	if (transport_list(c.t, &list, dir, 2, 500, err) < 0) {
		if (err->code != ERR_NOT_FOUND)
			goto out;
		err_clear(err);
	}
	for (i = 0; i < json_array_size(list); i++) {
		const char *p = json_string_value(
			json_object_get(json_array_get(list, i), "path"));

		if (strncmp(p, ".hpcloop/", 9))
			continue;
		for (k = 0; steps[k]; k++) {
			const char *name = p + 9;

			if (strncmp(name, steps[k], strlen(steps[k])) ||
			    (!strstr(name, ".stderr") &&
			     !strstr(name, ".jsonl")))
				continue;
			if (add_tail(ctx, st, name, &c, dir, p, lines,
				     err) < 0)
				goto out;
			break;
		}
	}
	*data = json_pack("{s:s, s:O, s:O, s:O, s:O}", "sprint_id", id,
			  "state", json_object_get(row, "state"), "directory",
			  json_object_get(row, "directory"), "logs", logs,
			  "steps", st);
	r = 0;
out:
	cluster_release(&c);
	json_decref(row);
	json_decref(logs);
	json_decref(st);
	json_decref(list);
	return r;
}

static const enum err_code logs_errors[] = { ERR_NOT_FOUND, ERR_TRANSFER_FAILED,
					     ERR_SSH_UNREACHABLE,
					     ERR_FILE_REFUSED, ERR_NONE };

const struct primitive prim_logs = {
	.name = "logs",
	.summary = "Show the tails of a sprint's logs and of each agent "
		   "step's output",
	.description = "Reads through the cluster's transport: output.log, "
		       "progress.md, sprint_log.txt, the job's stdout and "
		       "stderr, and for each step its stderr and stream "
		       "(`.hpcloop/<step>.stderr`, `.jsonl`). `lines` sets "
		       "how many lines of each (default 40). A file that "
		       "does not exist yet is null. A file the sprint "
		       "turned into a symbolic link, a FIFO or a device is "
		       "never read: it is null, and named as a "
		       "`file_refused` entry of `partial_errors`.",
	.example = "{\"sprint_id\": \"sp-000000\", \"lines\": 20}",
	.flags = PRIM_IDEMPOTENT | PRIM_NEEDS_JOURNAL | PRIM_NEEDS_CONFIG |
		 PRIM_NEEDS_CLUSTER | PRIM_READ_SAFE | PRIM_HTTP,
	.errors = logs_errors,
	.handler = logs_run,
};
