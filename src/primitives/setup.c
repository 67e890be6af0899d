/*
 * setup: install the slash commands into Claude Code (the user's
 * ~/.claude, or a project's .claude), and on request the PreToolUse hook
 * that refuses raw sbatch/qsub/scancel/qdel and the `hpcloop mcp`
 * registration (see src/core/setup.h).  Idempotent: a second run reports
 * every file "unchanged"; dry_run reports without writing.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "primitive.h"
#include "setup.h"
#include "banned.h"

/* The absolute path of this binary into 'out'. */
static int self_path(struct buf *out, struct err *err)
{
	char path[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", path, sizeof(path) - 1);

	if (n <= 0)
		return err_set(err, ERR_IO_FAILED,
			       "cannot tell where the hpcloop binary is "
			       "(/proc/self/exe)");
	path[n] = '\0';
	buf_adds(out, path);
	return 0;
}

/* The directory a relative 'dir' names, made absolute. */
static int absolute(struct buf *out, const char *dir, struct err *err)
{
	char cwd[PATH_MAX];

	if (dir[0] == '/') {
		buf_adds(out, dir);
		return 0;
	}
	if (!getcwd(cwd, sizeof(cwd)))
		return err_set(err, ERR_IO_FAILED,
			       "cannot tell the current directory");
	buf_addf(out, "%s/%s", cwd, dir);
	return 0;
}

static int setup_run(struct ctx *ctx, const json_t *spec, json_t **data,
		     struct err *err)
{
	const char *scope = json_string_value(json_object_get(spec, "scope"));
	const char *project = json_string_value(json_object_get(spec, "project_dir"));
	struct buf dir = BUF_INIT, proj = BUF_INIT, self = BUF_INIT,
		   mcp = BUF_INIT;
	struct setup_opts o;
	json_t *changes = NULL, *c;
	size_t i, changed = 0;
	int user = !scope || !strcmp(scope, "user"), r = -1;

	memset(&o, 0, sizeof(o));
	if (self_path(&self, err) < 0 ||
	    absolute(&proj, project ? project : ".", err) < 0)
		goto out;
	if (access(proj.data, F_OK) < 0) {
		err_set(err, ERR_NOT_FOUND, "project_dir '%s' does not exist",
			proj.data);
		err_remedy(err, "give an existing directory as project_dir");
		goto out;
	}
	if (user) {
		const char *home = getenv("HOME");

		if (!home || home[0] != '/') {
			err_set(err, ERR_PRECONDITION_FAILED,
				"HOME is not set to an absolute path, so the "
				"user's ~/.claude cannot be found");
			err_remedy(err, "set HOME, or install into a project "
					"with {\"scope\": \"project\"}");
			goto out;
		}
		buf_addf(&dir, "%s/.claude", home);
	} else {
		buf_addf(&dir, "%s/.claude", proj.data);
	}
	o.claude_dir = dir.data;
	o.hpcloop_path = self.data;
	o.hook = json_is_true(json_object_get(spec, "hook"));
	o.dry_run = json_is_true(json_object_get(spec, "dry_run"));
	if (json_is_true(json_object_get(spec, "mcp"))) {
		buf_addf(&mcp, "%s/.mcp.json", proj.data);
		o.mcp_path = mcp.data;
	}
	if (setup_install(&changes, &o, err) < 0)
		goto out;
	json_array_foreach(changes, i, c)
		changed += !!strcmp(json_string_value(json_object_get(c, "action")),
				    "unchanged");
	ctx->replayed = changed == 0;
	*data = json_pack("{s:s, s:s, s:b, s:I, s:o}", "scope",
			  user ? "user" : "project", "claude_dir", dir.data,
			  "dry_run", o.dry_run, "changed", (json_int_t)changed,
			  "changes", changes);
	changes = NULL;
	r = 0;
out:
	json_decref(changes);
	buf_release(&dir);
	buf_release(&proj);
	buf_release(&self);
	buf_release(&mcp);
	return r;
}

static const enum err_code setup_errors[] = {
	ERR_NOT_FOUND, ERR_PRECONDITION_FAILED, ERR_IO_FAILED, ERR_NONE
};

const struct primitive prim_setup = {
	.name = "setup",
	.summary = "Install the slash commands into Claude Code, and on "
		   "request the hook that refuses raw sbatch/qsub and the MCP "
		   "server",
	.description =
		"Writes hpcloop's slash commands (/hpcloop-sprint, "
		"/hpcloop-status, /hpcloop-research-loop, "
		"/hpcloop-meta-analyze, /hpcloop-loop) into ~/.claude/commands "
		"(scope user, the default) or PROJECT/.claude/commands (scope "
		"project). With \"hook\": true it also adds to that "
		"settings.json a PreToolUse hook that refuses sbatch, qsub, "
		"scancel and qdel typed by the agent and names the primitive "
		"to use instead, so that every submission goes through the "
		"journal and the query budget; with \"mcp\": true it "
		"registers `hpcloop mcp` in PROJECT/.mcp.json. Files are "
		"compared first and replaced whole; a second run changes "
		"nothing and answers \"idempotent\": true; \"dry_run\": true "
		"reports what would change.",
	.example = "{\"dry_run\": true}",
	.flags = PRIM_MUTATES | PRIM_IDEMPOTENT,
	.errors = setup_errors,
	.handler = setup_run,
};
