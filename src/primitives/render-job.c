/*
 * render-job: render the job script, prompts and context of a would-be
 * sprint without submitting anything, into a scratch directory beside
 * the journal, and answer with their paths and hashes, so a person or
 * an agent can read exactly what a sprint would run.
 */
#include <string.h>

#include "buf.h"
#include "config.h"
#include "crypto.h"
#include "jobgen.h"
#include "primitive.h"
#include "transport.h"
#include "banned.h"

/*
 * Write 'text' to '<dir>/<rel>' with 'mode' through the local transport
 * 't' and add {name, path, size, sha256} to 'files'.
 */
static int put(struct transport *t, json_t *files, const char *dir,
	       const char *rel, const char *text, int mode, struct err *err)
{
	struct buf path = BUF_INIT;
	char hash[SHA256_HEX_LEN + 1];
	size_t len = strlen(text);
	int r = -1;

	buf_addf(&path, "%s/%s", dir, rel);
	if (transport_write_file(t, buf_str(&path), text, len, mode, err) < 0)
		goto out;
	crypto_sha256_hex(hash, text, len);
	json_array_append_new(files, json_pack("{s:s, s:s, s:I, s:s}",
					       "name", rel, "path",
					       buf_str(&path), "size",
					       (json_int_t)len, "sha256",
					       hash));
	r = 0;
out:
	buf_release(&path);
	return r;
}

static int render_job_run(struct ctx *ctx, const json_t *spec,
			  json_t **data, struct err *err)
{
	struct jobgen g = JOBGEN_INIT;
	struct jobgen_request req;
	struct buf dir = BUF_INIT;
	struct transport *t = NULL;
	json_t *local = json_pack("{s:s}", "transport", "local");
	char hash[SHA256_HEX_LEN + 1];
	json_t *files = json_array(), *v;
	const char *rel, *slash;
	int r = -1;

	memset(&req, 0, sizeof(req));
	req.study = json_string_value(json_object_get(spec, "study"));
	req.idea = json_string_value(json_object_get(spec, "idea"));
	req.job_options = json_object_get(spec, "job_options");
	v = json_object_get(spec, "time_limit_s");
	req.time_limit_s = v ? (int)json_integer_value(v) : 0;
	req.params = json_object_get(spec, "params");
	req.sprint_id = "sp-preview";
	crypto_json_hash(hash, spec);
	slash = strrchr(ctx->journal_path, '/');
	if (slash)
		buf_add(&dir, ctx->journal_path,
			(size_t)(slash - ctx->journal_path));
	else
		buf_adds(&dir, ".");
	buf_addf(&dir, "/render/%.16s", hash);
	req.sprint_dir = buf_str(&dir);
	if (jobgen_build(&g, ctx->config, &req, err) < 0 ||
	    transport_open(&t, local, err) < 0)
		goto out;
	if (put(t, files, buf_str(&dir), "run_sprint.sh", g.script, 0700,
		err) < 0 ||
	    put(t, files, buf_str(&dir), "CLAUDE.md", g.context, 0600, err) <
		    0)
		goto out;
	json_object_foreach(g.files, rel, v) {
		if (put(t, files, buf_str(&dir), rel, json_string_value(v),
			0600, err) < 0)
			goto out;
	}
	*data = json_pack("{s:s, s:s, s:s, s:O, s:O, s:i, s:i, s:O}",
			  "directory", buf_str(&dir), "cluster", g.cluster,
			  "scheduler", g.scheduler, "job_options",
			  g.job_options, "agent_argv", g.agent_argv,
			  "time_limit_s", g.time_limit_s,
			  "red_team_max_rounds", g.red_team_rounds, "files",
			  files);
	json_object_set(*data, "executor_argv",
			g.executor_argv ? g.executor_argv : json_null());
	json_object_set(*data, "executor_env", g.param_env);
	r = 0;
out:
	jobgen_release(&g);
	transport_close(t);
	json_decref(local);
	buf_release(&dir);
	json_decref(files);
	return r;
}

static const enum err_code render_job_errors[] = { ERR_NOT_FOUND, ERR_IO_FAILED,
						   ERR_NONE };

const struct primitive prim_render_job = {
	.name = "render-job",
	.summary = "Render a would-be sprint's job script and prompts "
		   "without submitting",
	.description = "Writes the job script, the agent's context file and "
		       "every prompt into `.hpcloop/render/<hash>/` beside "
		       "the journal and returns their paths, sizes and "
		       "SHA-256, with the layered job options, time limit "
		       "and agent command, and for a study with an executor "
		       "the executor and the variables it gets from "
		       "`params`. Nothing is submitted and the "
		       "journal is not changed.",
	.example = "{\"study\": \"demo\", \"idea\": \"try a smaller learning "
		   "rate\"}",
	.flags = PRIM_MUTATES | PRIM_IDEMPOTENT | PRIM_NEEDS_CONFIG |
		 PRIM_HTTP,
	.errors = render_job_errors,
	.handler = render_job_run,
};
