/*
 * context.c: the levels of hpcloop.yaml (global → cluster → study)
 * combined into what one job of a study is given (see context.h): the
 * context text, the agent argv, the layered job options, the job's
 * environment and its sprint directory.  Everything here reads a loaded
 * config: values were validated, cross-checked and defaulted by
 * config_load(), so only what comes from outside now (a request's job
 * options, the context files) is checked again.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "buf.h"
#include "config.h"
#include "context.h"
#include "err.h"
#include "xalloc.h"
#include "yaml.h"
#include "banned.h"

/* Largest context file, and largest context once joined. */
#define CONTEXT_MAX (16 * 1024 * 1024)

/* The study called 'name', or not_found in 'err' (NULL). */
static const json_t *need_study(const struct config *cfg, const char *name,
				struct err *err)
{
	const json_t *st = config_study(cfg, name);

	if (!st)
		err_set(err, ERR_NOT_FOUND, "no study '%s'",
			name ? name : "(null)");
	return st;
}

/* The name of the cluster that the study 'st' runs on. */
static const char *cluster_of(const json_t *st)
{
	return json_string_value(json_object_get(st, "cluster"));
}

/* Set 'p' to the JSON pointer "/<section>/<name>". */
static void pointer_of(struct buf *p, const char *section, const char *name)
{
	buf_release(p);
	yaml_pointer_add(p, section);
	yaml_pointer_add(p, name ? name : "");
}

/*
 * The scalar 'v' (string or number) as a new string in '*out'; -1 for
 * any other type.  Reals use the fewest digits that read back exactly.
 */
static int scalar_string(char **out, const json_t *v)
{
	char tmp[64];
	double d;
	int prec;

	*out = NULL;
	if (json_is_string(v)) {
		*out = xstrndup(json_string_value(v), json_string_length(v));
		return 0;
	}
	if (json_is_integer(v)) {
		snprintf(tmp, sizeof(tmp), "%" JSON_INTEGER_FORMAT,
			 json_integer_value(v));
	} else if (json_is_real(v)) {
		d = json_real_value(v);
		for (prec = 1; prec <= 17; prec++) {
			snprintf(tmp, sizeof(tmp), "%.*g", prec, d);
			if (strtod(tmp, NULL) == d)
				break;
		}
	} else {
		return -1;
	}
	*out = xstrdup(tmp);
	return 0;
}

/* ------------------------------------------------------------------ */
/* Context text                                                        */
/* ------------------------------------------------------------------ */

/* Whether 'c' is a space, tab, CR or newline. */
static int is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/*
 * Append the 'len' bytes of 'text' to 'b' as one piece of context:
 * trailing blanks are dropped, an empty piece is skipped, and pieces are
 * separated by one blank line.
 */
static int context_add(struct buf *b, const char *text, size_t len)
{
	while (len && is_blank(text[len - 1]))
		len--;
	if (!len)
		return 0;
	if (b->len && buf_adds(b, "\n\n") < 0)
		return -1;
	return buf_add(b, text, len);
}

/* Append the context file 'p', named at 'pointer', to 'b'. */
static int context_file(struct buf *b, const struct config *cfg,
			const char *p, const char *pointer, struct err *err)
{
	struct buf text = BUF_INIT;
	char *full = config_path(cfg, p);
	FILE *f = NULL;
	int r, ret = -1;

	buf_init(&text, CONTEXT_MAX);
	f = fopen(full, "rb");
	if (!f) {
		config_error(cfg, err, ERR_CONFIG_INVALID, pointer, "cannot "
			     "read context file '%s': %s", full,
			     strerror(errno));
		goto out;
	}
	r = buf_read_file(&text, f);
	if (r == -1) {
		config_error(cfg, err, ERR_CONFIG_INVALID, pointer, "cannot "
			     "read context file '%s': %s", full,
			     strerror(errno));
		goto out;
	}
	if (r < 0 || context_add(b, buf_str(&text), text.len) < 0) {
		config_error(cfg, err, ERR_CONFIG_INVALID, pointer, "context "
			     "is larger than %d bytes", CONTEXT_MAX);
		goto out;
	}
	ret = 0;
out:
	if (f)
		fclose(f);
	free(full);
	buf_release(&text);
	return ret;
}

/*
 * Append the context of one level, the object 'level' found at 'base'
 * (a JSON pointer): its inline "context", then its files, from the array
 * 'paths_key' or the single path 'file_key' (either may be NULL).
 */
static int context_level(struct buf *b, const struct config *cfg,
			 const json_t *level, const char *base,
			 const char *paths_key, const char *file_key,
			 struct err *err)
{
	const json_t *text = json_object_get(level, "context"), *p;
	struct buf ptr = BUF_INIT;
	int ret = -1;
	size_t i;

	if (json_is_string(text) &&
	    context_add(b, json_string_value(text),
			json_string_length(text)) < 0) {
		buf_addf(&ptr, "%s/context", base);
		config_error(cfg, err, ERR_CONFIG_INVALID, buf_str(&ptr),
			     "context is larger than %d bytes", CONTEXT_MAX);
		goto out;
	}
	json_array_foreach(json_object_get(level, paths_key), i, p) {
		buf_release(&ptr);
		buf_addf(&ptr, "%s/%s/%zu", base, paths_key, i);
		if (context_file(b, cfg, json_string_value(p), buf_str(&ptr),
				 err) < 0)
			goto out;
	}
	p = file_key ? json_object_get(level, file_key) : NULL;
	if (json_is_string(p)) {
		buf_release(&ptr);
		buf_addf(&ptr, "%s/%s", base, file_key);
		if (context_file(b, cfg, json_string_value(p), buf_str(&ptr),
				 err) < 0)
			goto out;
	}
	ret = 0;
out:
	buf_release(&ptr);
	return ret;
}

int context_text(char **out, const struct config *cfg, const char *study,
		 struct err *err)
{
	struct buf b = BUF_INIT, base = BUF_INIT;
	const json_t *st = NULL;
	const char *cl;
	int ret = -1;

	*out = NULL;
	buf_init(&b, CONTEXT_MAX);
	if (study) {
		st = need_study(cfg, study, err);
		if (!st)
			goto out;
	}
	if (context_level(&b, cfg, cfg->root, "", "context_paths", NULL,
			  err) < 0)
		goto out;
	if (st) {
		cl = cluster_of(st);
		pointer_of(&base, "clusters", cl);
		if (context_level(&b, cfg, config_cluster(cfg, cl),
				  buf_str(&base), "context_paths", NULL,
				  err) < 0)
			goto out;
		pointer_of(&base, "studies", study);
		if (context_level(&b, cfg, st, buf_str(&base), NULL,
				  "context_file", err) < 0)
			goto out;
	}
	*out = buf_detach(&b, NULL);
	ret = 0;
out:
	buf_release(&b);
	buf_release(&base);
	return ret;
}

/* ------------------------------------------------------------------ */
/* Agent command                                                       */
/* ------------------------------------------------------------------ */

/* Append the words of 's', split on whitespace, to the array 'argv'. */
static void split_words(json_t *argv, const char *s)
{
	static const char blanks[] = " \t\r\n\v\f";
	size_t n;

	for (;;) {
		s += strspn(s, blanks);
		if (!*s)
			break;
		n = strcspn(s, blanks);
		json_array_append_new(argv, json_stringn(s, n));
		s += n;
	}
}

/*
 * Append the words of the command 'cmd' (a string split on whitespace,
 * or an array of non-empty strings) to 'argv'; nothing when it is
 * neither.
 */
static void command_words(json_t *argv, const json_t *cmd)
{
	const json_t *v;
	size_t i;

	if (json_is_string(cmd)) {
		split_words(argv, json_string_value(cmd));
		return;
	}
	json_array_foreach(cmd, i, v) {
		if (!json_is_string(v) || !json_string_length(v))
			break;
		json_array_append_new(argv, json_copy((json_t *)v));
	}
	if (i != json_array_size(cmd))
		json_array_clear(argv);
}

/*
 * Whether the program of 'argv' is Claude Code ("claude" by name, at
 * any path), whose tool permission flags hpcloop knows.
 */
static int is_claude(const json_t *argv)
{
	const char *p = json_string_value(json_array_get(argv, 0));
	const char *base = p ? strrchr(p, '/') : NULL;

	return p && !strcmp(base ? base + 1 : p, "claude");
}

/* Whether 'argv' already carries the flag 'name' (or name=...). */
static int has_flag(const json_t *argv, const char *name)
{
	size_t i, n = strlen(name);

	for (i = 1; i < json_array_size(argv); i++) {
		const char *a = json_string_value(json_array_get(argv, i));

		if (!strncmp(a, name, n) && (a[n] == '\0' || a[n] == '='))
			return 1;
	}
	return 0;
}

/* Append 'flag' and the comma-joined strings of 'list' to 'argv'. */
static void add_list_flag(json_t *argv, const char *flag, const json_t *list)
{
	struct buf b = BUF_INIT;
	size_t i;

	if (!json_array_size(list))
		return;
	for (i = 0; i < json_array_size(list); i++)
		buf_addf(&b, "%s%s", i ? "," : "",
			 json_string_value(json_array_get(list, i)));
	json_array_append_new(argv, json_string(flag));
	json_array_append_new(argv, json_string(buf_str(&b)));
	buf_release(&b);
}

/*
 * The agent_tools of the study 'st' (study, else its cluster 'cl', else
 * the file's, which the schema's default fills in) as flags of Claude
 * Code's 'argv', unless the command already sets them itself.
 */
static void add_tool_flags(json_t *argv, const struct config *cfg,
			   const json_t *st, const json_t *cl)
{
	const json_t *tools = json_object_get(st, "agent_tools");

	if (!tools)
		tools = json_object_get(cl, "agent_tools");
	if (!tools)
		tools = json_object_get(cfg->root, "agent_tools");
	if (!is_claude(argv) || !tools)
		return;
	if (!has_flag(argv, "--allowedTools") &&
	    !has_flag(argv, "--allowed-tools"))
		add_list_flag(argv, "--allowedTools",
			      json_object_get(tools, "allow"));
	if (!has_flag(argv, "--disallowedTools") &&
	    !has_flag(argv, "--disallowed-tools"))
		add_list_flag(argv, "--disallowedTools",
			      json_object_get(tools, "deny"));
}

int context_agent_argv(json_t **out, const struct config *cfg,
		       const char *study, struct err *err)
{
	const json_t *st = NULL, *cl = NULL, *cmd;
	struct buf ptr = BUF_INIT;
	json_t *argv = NULL;
	int ret = -1;

	*out = NULL;
	if (study) {
		st = need_study(cfg, study, err);
		if (!st)
			goto out;
		cl = config_cluster(cfg, cluster_of(st));
	}
	cmd = json_object_get(st, "agent_command");
	if (cmd) {
		pointer_of(&ptr, "studies", study);
	} else {
		cmd = json_object_get(cl, "agent_command");
		if (cmd)
			pointer_of(&ptr, "clusters", cluster_of(st));
		else
			cmd = json_object_get(cfg->root, "agent_command");
	}
	buf_adds(&ptr, "/agent_command");
	argv = json_array();
	command_words(argv, cmd);
	if (!json_array_size(argv)) {
		config_error(cfg, err, ERR_CONFIG_INVALID, buf_str(&ptr),
			     "must be a non-empty command");
		goto out;
	}
	add_tool_flags(argv, cfg, st, cl);
	*out = argv;
	argv = NULL;
	ret = 0;
out:
	buf_release(&ptr);
	json_decref(argv);
	return ret;
}

int context_executor_argv(json_t **out, const struct config *cfg,
			  const char *study, struct err *err)
{
	const json_t *st, *cmd;
	struct buf ptr = BUF_INIT;
	json_t *argv;

	*out = NULL;
	st = need_study(cfg, study, err);
	if (!st)
		return -1;
	cmd = json_object_get(st, "executor");
	if (!cmd)
		return 0;
	argv = json_array();
	command_words(argv, cmd);
	if (!json_array_size(argv)) {
		json_decref(argv);
		pointer_of(&ptr, "studies", study);
		buf_adds(&ptr, "/executor");
		config_error(cfg, err, ERR_CONFIG_INVALID, buf_str(&ptr),
			     "must be a non-empty command");
		buf_release(&ptr);
		return -1;
	}
	*out = argv;
	return 0;
}

/* ------------------------------------------------------------------ */
/* Job options                                                         */
/* ------------------------------------------------------------------ */

/*
 * Lay the options 'opts' over 'result': an empty string removes a key.
 * A bad option is spec_invalid naming its key: the file's options were
 * checked when it was loaded, so only a request's can be bad.
 */
static int layer_options(json_t *result, const json_t *opts,
			 struct err *err)
{
	const char *key, *problem;
	const json_t *v;
	char *s = NULL;

	if (!opts)
		return 0;
	if (!json_is_object(opts))
		return err_set(err, ERR_SPEC_INVALID,
			       "job options must be an object");
	json_object_foreach((json_t *)opts, key, v) {
		problem = config_job_option_problem(key, v);
		if (problem) {
			err_set(err, ERR_SPEC_INVALID, "job option '%s': %s",
				key, problem);
			err_detail(err, "key", json_string(key));
			return -1;
		}
		scalar_string(&s, v);
		if (!*s)
			json_object_del(result, key);
		else
			json_object_set_new(result, key, json_string(s));
		free(s);
	}
	return 0;
}

int context_job_options(json_t **out, const struct config *cfg,
			const char *study, const json_t *request,
			struct err *err)
{
	const json_t *st = need_study(cfg, study, err);
	json_t *result = NULL;
	int ret = -1;

	*out = NULL;
	if (!st)
		goto out;
	result = json_object();
	if (layer_options(result, json_object_get(config_cluster(
				  cfg, cluster_of(st)), "job_options"),
			  err) < 0 ||
	    layer_options(result, json_object_get(st, "job_options"),
			  err) < 0 ||
	    layer_options(result, request, err) < 0)
		goto out;
	*out = result;
	result = NULL;
	ret = 0;
out:
	json_decref(result);
	return ret;
}

/* ------------------------------------------------------------------ */
/* Environment and directories                                         */
/* ------------------------------------------------------------------ */

json_t *context_environment(const struct config *cfg, const char *cluster)
{
	const json_t *env = json_object_get(config_cluster(cfg, cluster),
					    "environment");
	json_t *result = json_object();
	const char *key;
	const json_t *v;
	char *s;

	json_object_foreach((json_t *)env, key, v) {
		if (scalar_string(&s, v) < 0)
			continue;
		json_object_set_new(result, key, json_string(s));
		free(s);
	}
	return result;
}

char *context_sprints_dir(const struct config *cfg, const char *study)
{
	const json_t *st = config_study(cfg, study), *cl;
	const char *dir, *transport;
	struct buf b = BUF_INIT;
	char *p;

	if (!st)
		return NULL;
	cl = config_cluster(cfg, cluster_of(st));
	dir = json_string_value(json_object_get(st, "sprints_dir"));
	if (dir)
		buf_adds(&b, dir);
	else
		buf_addf(&b, "%s/%s", json_string_value(json_object_get(
				     cl, "working_dir")), study);
	transport = json_string_value(json_object_get(cl, "transport"));
	if (transport && !strcmp(transport, "ssh"))
		return buf_detach(&b, NULL);
	p = config_path(cfg, buf_str(&b));
	buf_release(&b);
	return p;
}
