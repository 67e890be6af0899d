/*
 * setup.c: slash commands, the PreToolUse hook and the MCP registration
 * written into Claude Code's files, and the hook's decision (see
 * setup.h).
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "embedded.h"
#include "setup.h"
#include "shquote.h"
#include "transport.h"
#include "xalloc.h"
#include "banned.h"

#define SETUP_MAX_FILE (4u << 20)	/* a settings file we will read */
#define HOOK_MAX_INPUT (1u << 20)	/* the hook's standard input */
#define HOOK_SUBCOMMAND "__hook-pretooluse"
#define COMMANDS_PREFIX "slash_commands/"

/* ---------------------------------------------------------------- */
/* One file: compare, then write                                      */
/* ---------------------------------------------------------------- */

/* What 'path' holds now into 'out'; '*exists_out' 0 when nothing. */
static int read_current(struct transport *t, struct buf *out,
			int *exists_out, const char *path, struct err *err)
{
	char *dir = xstrdup(path), *slash = strrchr(dir, '/');
	const char *base = slash ? slash + 1 : path;
	int r;

	*exists_out = 0;
	if (slash)
		*slash = '\0';
	r = transport_read_file(t, out, slash ? dir : ".", base, SETUP_MAX_FILE,
				err);
	free(dir);
	if (r < 0 && err->code == ERR_NOT_FOUND) {
		err_clear(err);
		return 0;
	}
	if (r == 0)
		*exists_out = 1;
	return r;
}

/*
 * What setup will write: every file it looked at, in order, and the new
 * text of those that change.  Nothing is written until every file has
 * been read and checked, so a refusal leaves everything as it was.
 */
struct plan {
	json_t *changes;	/* [{"path", "action"}] */
	char **texts;		/* per change: the new text, or NULL */
	size_t n;
};

/* Plan to write 'text' to 'path' unless it holds it already. */
static int put_file(struct transport *t, struct plan *p, const char *path,
		    const char *text, struct err *err)
{
	struct buf cur = BUF_INIT;
	const char *action;
	int exists, r;

	r = read_current(t, &cur, &exists, path, err);
	if (r < 0) {
		buf_release(&cur);
		return -1;
	}
	if (exists && cur.len == strlen(text) &&
	    !memcmp(cur.data, text, cur.len))
		action = "unchanged";
	else
		action = exists ? "updated" : "created";
	buf_release(&cur);
	p->texts = xrealloc(p->texts, (p->n + 1) * sizeof(*p->texts));
	p->texts[p->n++] = strcmp(action, "unchanged") ? xstrdup(text) : NULL;
	json_array_append_new(p->changes, json_pack("{s:s, s:s}", "path", path,
						    "action", action));
	return 0;
}

/* Write what 'p' changes. */
static int plan_apply(struct transport *t, const struct plan *p,
		      struct err *err)
{
	size_t i;

	for (i = 0; i < p->n; i++) {
		const char *path = json_string_value(json_object_get(
			json_array_get(p->changes, i), "path"));

		if (p->texts[i] &&
		    transport_write_file(t, path, p->texts[i],
					 strlen(p->texts[i]), 0644, err) < 0)
			return -1;
	}
	return 0;
}

static void plan_release(struct plan *p)
{
	size_t i;

	for (i = 0; i < p->n; i++)
		free(p->texts[i]);
	free(p->texts);
	json_decref(p->changes);
}

/*
 * The JSON object in 'path' into '*out' (a new, empty object when there
 * is no file).  Anything but an object is ERR_PRECONDITION_FAILED.
 */
static int read_json_object(struct transport *t, json_t **out,
			    const char *path, struct err *err)
{
	struct buf cur = BUF_INIT;
	json_error_t je;
	int exists;

	*out = NULL;
	if (read_current(t, &cur, &exists, path, err) < 0) {
		buf_release(&cur);
		return -1;
	}
	if (!exists) {
		buf_release(&cur);
		*out = json_object();
		return 0;
	}
	*out = json_loadb(cur.data ? cur.data : "", cur.len, 0, &je);
	buf_release(&cur);
	if (!json_is_object(*out)) {
		json_decref(*out);
		*out = NULL;
		err_set(err, ERR_PRECONDITION_FAILED,
			"'%s' is not a JSON object, so setup will not edit it",
			path);
		err_remedy(err, "fix the file (or move it away) and run "
				     "setup again; nothing was changed");
		return -1;
	}
	return 0;
}

/* 'obj' as the text setup writes: indented, keys in their order. */
static char *json_text(const json_t *obj)
{
	char *s = json_dumps(obj, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	size_t n;
	char *t;

	if (!s)		/* jansson's allocator dies on OOM: never here */
		return xstrdup("{}\n");
	n = strlen(s);
	t = xmalloc(n + 2);
	memcpy(t, s, n);
	t[n] = '\n';
	t[n + 1] = '\0';
	free(s);
	return t;
}

/* ---------------------------------------------------------------- */
/* The three things setup installs                                    */
/* ---------------------------------------------------------------- */

static int install_commands(struct transport *t, struct plan *p,
			    const struct setup_opts *o, struct err *err)
{
	const struct embedded_file *f;
	struct buf path = BUF_INIT;
	int r = 0;

	for (f = embedded_files; f->path && !r; f++) {
		size_t plen = strlen(COMMANDS_PREFIX);

		if (strncmp(f->path, COMMANDS_PREFIX, plen))
			continue;
		buf_truncate(&path, 0);
		buf_addf(&path, "%s/commands/%s", o->claude_dir, f->path + plen);
		r = put_file(t, p, path.data, (const char *)f->data, err);
	}
	buf_release(&path);
	return r;
}

/* The hook of the group 'group' that runs ours, or NULL. */
static json_t *our_hook(json_t *group)
{
	json_t *hooks = json_object_get(group, "hooks"), *h;
	size_t i;

	json_array_foreach(hooks, i, h) {
		const char *cmd = json_string_value(json_object_get(h, "command"));

		if (cmd && strstr(cmd, HOOK_SUBCOMMAND))
			return h;
	}
	return NULL;
}

static int install_hook(struct transport *t, struct plan *p,
			const struct setup_opts *o, struct err *err)
{
	struct buf path = BUF_INIT, cmd = BUF_INIT;
	json_t *settings = NULL, *hooks, *pre, *group, *h = NULL;
	char *text = NULL;
	size_t i;
	int r = -1;

	buf_addf(&path, "%s/settings.json", o->claude_dir);
	if (read_json_object(t, &settings, path.data, err) < 0)
		goto out;
	if (shquote_word(&cmd, o->hpcloop_path, strlen(o->hpcloop_path),
			 err) < 0)
		goto out;
	buf_adds(&cmd, " " HOOK_SUBCOMMAND);
	hooks = json_object_get(settings, "hooks");
	if (!hooks) {
		hooks = json_object();
		json_object_set_new(settings, "hooks", hooks);
	}
	pre = json_object_get(hooks, "PreToolUse");
	if (!pre) {
		pre = json_array();
		json_object_set_new(hooks, "PreToolUse", pre);
	}
	if (!json_is_object(hooks) || !json_is_array(pre)) {
		err_set(err, ERR_PRECONDITION_FAILED,
			"'%s': hooks.PreToolUse is not a list, so setup will "
			"not edit it", path.data);
		goto out;
	}
	json_array_foreach(pre, i, group) {
		if ((h = our_hook(group)))
			break;
	}
	if (h) {
		json_object_set_new(h, "command", json_string(cmd.data));
	} else {
		json_array_append_new(
			pre, json_pack("{s:s, s:[{s:s, s:s}]}", "matcher", "Bash",
				       "hooks", "type", "command", "command",
				       cmd.data));
	}
	text = json_text(settings);
	r = put_file(t, p, path.data, text, err);
out:
	free(text);
	json_decref(settings);
	buf_release(&path);
	buf_release(&cmd);
	return r;
}

static int install_mcp(struct transport *t, struct plan *p,
		       const struct setup_opts *o, struct err *err)
{
	json_t *conf = NULL, *servers;
	char *text = NULL;
	int r = -1;

	if (read_json_object(t, &conf, o->mcp_path, err) < 0)
		return -1;
	servers = json_object_get(conf, "mcpServers");
	if (!servers) {
		servers = json_object();
		json_object_set_new(conf, "mcpServers", servers);
	}
	if (!json_is_object(servers)) {
		err_set(err, ERR_PRECONDITION_FAILED,
			"'%s': mcpServers is not an object, so setup will not "
			"edit it", o->mcp_path);
		goto out;
	}
	json_object_set_new(servers, "hpcloop",
			    json_pack("{s:s, s:s, s:[s]}", "type", "stdio",
				      "command", o->hpcloop_path, "args",
				      "mcp"));
	text = json_text(conf);
	r = put_file(t, p, o->mcp_path, text, err);
out:
	free(text);
	json_decref(conf);
	return r;
}

int setup_install(json_t **changes_out, const struct setup_opts *o,
		  struct err *err)
{
	struct transport *t = NULL;
	struct plan p = { json_array(), NULL, 0 };
	int r = -1;

	*changes_out = NULL;
	if (transport_open(&t, NULL, err) < 0)
		goto out;
	if (install_commands(t, &p, o, err) < 0)
		goto out;
	if (o->hook && install_hook(t, &p, o, err) < 0)
		goto out;
	if (o->mcp_path && install_mcp(t, &p, o, err) < 0)
		goto out;
	if (!o->dry_run && plan_apply(t, &p, err) < 0)
		goto out;
	*changes_out = json_incref(p.changes);
	r = 0;
out:
	plan_release(&p);
	transport_close(t);
	return r;
}

/* ---------------------------------------------------------------- */
/* The hook                                                           */
/* ---------------------------------------------------------------- */

static const struct {
	const char *command;
	const char *instead;
} refused[] = {
	{ "sbatch", "hpcloop submit-flow" },
	{ "qsub", "hpcloop submit-flow" },
	{ "scancel", "hpcloop cancel" },
	{ "qdel", "hpcloop cancel" },
};

/* 1 for the characters that end a shell word or start a new command. */
static int word_break(unsigned char c)
{
	return isspace(c) || strchr(";&|()<>`${}!=", c) != NULL || c == '\0';
}

const char *hook_refusal(const char **instead_out, const char *command)
{
	struct buf w = BUF_INIT;
	const char *p, *hit = NULL;
	size_t i;

	*instead_out = NULL;
	for (p = command; p && !hit; p++) {
		unsigned char c = (unsigned char)*p;

		if (c == '\'' || c == '"' || c == '\\')
			continue;	/* quote removal: s"b"atch is sbatch */
		if (!word_break(c)) {
			buf_add(&w, p, 1);
			continue;
		}
		if (w.len) {
			const char *base = strrchr(w.data, '/');

			base = base ? base + 1 : w.data;
			for (i = 0; i < sizeof(refused) / sizeof(refused[0]); i++)
				if (!strcmp(base, refused[i].command)) {
					hit = refused[i].command;
					*instead_out = refused[i].instead;
				}
			buf_truncate(&w, 0);
		}
		if (!c)
			break;
	}
	buf_release(&w);
	return hit;
}

int hook_pretooluse(int in_fd)
{
	struct buf in = BUF_INIT;
	char chunk[8192];
	const char *cmd, *tool, *what, *instead = NULL;
	json_t *root;
	ssize_t n;

	buf_init(&in, HOOK_MAX_INPUT);
	while ((n = read(in_fd, chunk, sizeof(chunk))) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 || buf_add(&in, chunk, (size_t)n) < 0)
			break;
	}
	root = json_loadb(in.data ? in.data : "", in.len, 0, NULL);
	buf_release(&in);
	cmd = json_string_value(
		json_object_get(json_object_get(root, "tool_input"), "command"));
	tool = json_string_value(json_object_get(root, "tool_name"));
	what = cmd && tool && !strcmp(tool, "Bash") ? hook_refusal(&instead, cmd)
						    : NULL;
	if (what) {
		struct buf msg = BUF_INIT;

		buf_addf(&msg,
			 "hpcloop: do not run %s yourself: a job submitted or "
			 "cancelled behind hpcloop's back is missing from its "
			 "journal and its scheduler query budget. Use `%s` "
			 "instead (`hpcloop help %s` shows its spec).\n",
			 what, instead, instead + strlen("hpcloop "));
		if (write(STDERR_FILENO, msg.data, msg.len) < 0)
			msg.len = 0;
		buf_release(&msg);
	}
	json_decref(root);
	return what ? 2 : 0;
}
