/*
 * extract-metric: find a run's metric where autoresearch users look for
 * it: the last "NAME: VALUE" line of a log, or the number at a JSON
 * pointer of a result file such as results/metric.json.  The text is
 * given inline, or read from a file: inside a sprint's directory
 * through its cluster (untrusted: no links followed, regular files
 * only, bounded, a long log read from its tail), or on this machine.
 * Nothing found is outputs_missing.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cluster.h"
#include "config.h"
#include "journal.h"
#include "ledger.h"
#include "metric.h"
#include "primitive.h"
#include "sprint.h"
#include "transport.h"
#include "xalloc.h"
#include "banned.h"

/* The file of 'spec' read into '*text_out' ('*len_out'), or an error. */
static int read_text(struct ctx *ctx, char **text_out, size_t *len_out,
		     const json_t *spec, const json_t *sprint, int json,
		     struct err *err)
{
	const char *path = json_string_value(json_object_get(spec, "path"));
	struct cluster c = CLUSTER_INIT;
	struct transport *local = NULL, *t;
	char *why = NULL, *dir = NULL;
	const char *rel = path, *slash;
	int r = -1;

	if (sprint) {
		if (cluster_open(&c, ctx->config,
				 json_string_value(json_object_get(sprint,
								   "cluster")),
				 err) < 0)
			goto out;
		t = c.t;
		dir = xstrdup(json_string_value(json_object_get(sprint,
								"directory")));
	} else {
		if (transport_open(&local, NULL, err) < 0)
			goto out;
		t = local;
		slash = strrchr(path, '/');
		dir = slash ? xstrndup(path, (size_t)(slash - path) + 1)
			    : xstrdup(".");
		rel = slash ? slash + 1 : path;
	}
	if (metric_read(t, text_out, len_out, &why, dir, rel,
			json ? METRIC_FILE_MAX : METRIC_LOG_MAX, !json,
			err) < 0)
		goto out;
	if (!*text_out) {
		if (strstr(why, "no such file"))
			err_set(err, ERR_OUTPUTS_MISSING, "%s", why);
		else
			err_set(err, ERR_FILE_REFUSED, "%s", why);
		goto out;
	}
	r = 0;
out:
	cluster_release(&c);
	transport_close(local);
	free(why);
	free(dir);
	return r;
}

static int extract_metric_run(struct ctx *ctx, const json_t *spec,
			      json_t **data, struct err *err)
{
	const char *sprint_id = json_string_value(json_object_get(spec,
								  "sprint_id"));
	const char *given = json_string_value(json_object_get(spec, "text"));
	const char *path = json_string_value(json_object_get(spec, "path"));
	const char *name = json_string_value(json_object_get(spec, "name"));
	const char *pointer = json_string_value(json_object_get(spec,
								"pointer"));
	struct ledger_metric m;
	json_t *sprint = NULL;
	char *text = NULL, why[256];
	size_t len = 0, line = 0;
	double value;
	int r = -1;

	if ((given == NULL) == (path == NULL)) {
		err_set(err, ERR_SPEC_INVALID,
			"spec invalid: give text or path (one of them)");
		return err_remedy(err, "`hpcloop schema extract-metric` "
				  "describes the fields");
	}
	if (sprint_id) {
		if (!path) {
			err_set(err, ERR_SPEC_INVALID, "spec invalid: "
				"sprint_id names where path is, not text");
			return err_remedy(err, "give path inside the sprint's "
					  "directory");
		}
		if (sprint_get(ctx->journal, &sprint, sprint_id, err) < 0)
			return -1;
		if (!name && !pointer &&
		    ledger_metric_of(&m,
				     config_study(ctx->config,
						  json_string_value(
							  json_object_get(
								  sprint,
								  "study"))),
				     json_string_value(json_object_get(
					     sprint, "study")),
				     err) == 0)
			name = m.name;
		err_clear(err);
	}
	if (!name && !pointer) {
		err_set(err, ERR_SPEC_INVALID,
			"spec invalid: give name (a log's NAME: VALUE lines) "
			"or pointer (into a JSON file)");
		r = err_remedy(err, "for results/metric.json the pointer is "
			       "\"/metric\"");
		goto out;
	}
	if (given) {
		len = strlen(given);
		text = xstrdup(given);
	} else if (read_text(ctx, &text, &len, spec, sprint, pointer != NULL,
			     err) < 0) {
		goto out;
	}
	if (pointer) {
		if (!metric_from_json(&value, why, sizeof(why), text, len,
				      pointer)) {
			err_set(err, ERR_OUTPUTS_MISSING, "no metric: %s", why);
			goto out;
		}
		*data = json_pack("{s:f, s:s, s:s, s:s*}", "value", value,
				  "source", "json", "pointer", pointer, "path",
				  path);
	} else {
		if (!metric_from_log(&value, &line, text, len, name)) {
			err_set(err, ERR_OUTPUTS_MISSING,
				"no line '%s: VALUE' in the %s", name,
				path ? "log" : "text");
			err_remedy(err, "the run has not printed its metric "
				   "yet, or crashed; read the log's tail");
			goto out;
		}
		*data = json_pack("{s:f, s:s, s:s, s:I, s:s*}", "value", value,
				  "source", "log", "name", name, "line",
				  (json_int_t)line, "path", path);
	}
	r = 0;
out:
	json_decref(sprint);
	free(text);
	return r;
}

static const enum err_code extract_metric_errors[] = {
	ERR_NOT_FOUND,	     ERR_OUTPUTS_MISSING,	 ERR_FILE_REFUSED,
	ERR_SSH_UNREACHABLE, ERR_REMOTE_COMMAND_FAILED, ERR_TIMEOUT,
	ERR_NONE
};

const struct primitive prim_extract_metric = {
	.name = "extract-metric",
	.summary = "Find a run's metric: the last NAME: VALUE line of a "
		   "log, or a JSON pointer into a result file",
	.description =
		"With `name`, the value of the last line that reads `NAME:` "
		"then a number (what `grep '^val_bpb:' run.log | tail -1` "
		"finds); with `pointer`, the number at that JSON pointer "
		"(`/metric` for results/metric.json). The text is `text`, "
		"or the file `path`: inside the sprint's directory when "
		"`sprint_id` is given (read through its cluster; a link, a "
		"FIFO or an oversize file is refused; a long log is read "
		"from its last 4 MiB), else a file on this machine. With a "
		"sprint and neither name nor pointer, the study's metric "
		"name is used. Nothing found is `outputs_missing`: the run "
		"has not written it yet, or crashed.",
	.example = "{\"text\": \"step 100\\nval_loss: 0.4213\\n\", \"name\": "
		   "\"val_loss\"}",
	.flags = PRIM_NEEDS_JOURNAL | PRIM_NEEDS_CONFIG | PRIM_NEEDS_CLUSTER,
	.errors = extract_metric_errors,
	.handler = extract_metric_run,
};
