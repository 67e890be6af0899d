/*
 * agent.c: one run of the agent command and its stream-json answer
 * (see agent.h).
 */
#include <stdlib.h>
#include <string.h>

#include "agent.h"
#include "buf.h"
#include "transport.h"
#include "xalloc.h"
#include "banned.h"

/*
 * The fixed shell text that takes the environment from stdin: NAME=VALUE
 * lines up to the first empty one are exported (the names were checked
 * by config loading; no line is ever evaluated), then the argv runs
 * with the rest of stdin.
 */
static const char env_shim[] =
	"while IFS= read -r line && [ -n \"$line\" ]; do "
	"export \"$line\" || exit 126; done; exec \"$@\"";

/* The most of stderr kept. */
#define AGENT_STDERR_KEEP 2000

void agent_answer_release(struct agent_answer *a)
{
	if (!a)
		return;
	free(a->subtype);
	free(a->text);
	free(a->session_id);
	json_decref(a->denied);
	free(a->stderr_tail);
	memset(a, 0, sizeof(*a));
}

/* A new copy of the string member 'key' of 'v', or NULL. */
static char *member(const json_t *v, const char *key)
{
	const char *s = json_string_value(json_object_get(v, key));

	return s ? xstrdup(s) : NULL;
}

/* Take the fields of the result line 'v'. */
static void take_result(struct agent_answer *a, const json_t *v)
{
	const json_t *den = json_object_get(v, "permission_denials");
	const json_t *errs = json_object_get(v, "errors");
	size_t i;

	a->saw_result = 1;
	a->is_error = json_is_true(json_object_get(v, "is_error"));
	free(a->subtype);
	a->subtype = member(v, "subtype");
	if (a->subtype && !strncmp(a->subtype, "error", 5))
		a->is_error = 1;
	free(a->text);
	a->text = member(v, "result");
	if (!a->text && json_is_string(json_array_get(errs, 0)))
		a->text = xstrdup(json_string_value(json_array_get(errs, 0)));
	if (json_is_string(json_object_get(v, "session_id"))) {
		free(a->session_id);
		a->session_id = member(v, "session_id");
	}
	a->cost_usd = json_number_value(json_object_get(v, "total_cost_usd"));
	a->turns = (int)json_integer_value(json_object_get(v, "num_turns"));
	json_array_clear(a->denied);
	for (i = 0; i < json_array_size(den); i++) {
		const json_t *t = json_object_get(json_array_get(den, i),
						  "tool_name");

		if (json_is_string(t))
			json_array_append(a->denied, (json_t *)t);
	}
}

void agent_read_stream(struct agent_answer *a, const char *out, size_t len)
{
	const char *p = out, *end = out + len, *nl;
	json_t *v;
	const char *type;

	while (p < end) {
		nl = memchr(p, '\n', (size_t)(end - p));
		if (!nl)
			nl = end;
		if (nl > p) {
			a->lines++;
			v = *p == '{' ? json_loadb(p, (size_t)(nl - p), 0, NULL)
				      : NULL;
			if (json_is_object(v)) {
				a->json_lines++;
				type = json_string_value(json_object_get(v,
								  "type"));
				if (type && !strcmp(type, "result"))
					take_result(a, v);
				if (type && !strcmp(type, "system")) {
					a->saw_init = 1;
					if (!a->session_id)
						a->session_id = member(
							v, "session_id");
				}
			}
			json_decref(v);
		}
		p = nl + 1;
	}
}

int agent_ask(struct transport *t, struct agent_answer *out,
	      const json_t *argv, const json_t *env, const char *prompt,
	      const char *cwd, int timeout_s, struct err *err)
{
	struct exec_result res;
	struct buf in = BUF_INIT;
	const char **av = NULL;
	const char *k;
	json_t *v;
	size_t i, n = json_array_size(argv);
	int r = -1;

	memset(out, 0, sizeof(*out));
	out->denied = json_array();
	exec_result_init(&res, AGENT_OUTPUT_MAX);
	av = xcalloc(n + 5, sizeof(*av));
	av[0] = "sh";
	av[1] = "-c";
	av[2] = env_shim;
	av[3] = "sh";
	for (i = 0; i < n; i++)
		av[4 + i] = json_string_value(json_array_get(argv, i));
	json_object_foreach((json_t *)env, k, v)
		buf_addf(&in, "%s=%s\n", k, json_string_value(v));
	buf_adds(&in, "\n");
	buf_adds(&in, prompt);
	if (transport_exec(t, &res, av, cwd, in.data, in.len, timeout_s,
			   err) < 0)
		goto out;
	out->exit_code = res.exit_code;
	out->truncated = res.out_truncated;
	agent_read_stream(out, res.out.len ? res.out.data : "", res.out.len);
	if (res.err.len) {
		size_t from = res.err.len > AGENT_STDERR_KEEP
				      ? res.err.len - AGENT_STDERR_KEEP
				      : 0;

		out->stderr_tail = xstrndup(res.err.data + from,
					    res.err.len - from);
	}
	r = 0;
out:
	/* The environment may hold secrets: clear it before freeing. */
	if (in.data)
		memset(in.data, 0, in.len);
	buf_release(&in);
	exec_result_release(&res);
	free(av);
	if (r < 0)
		agent_answer_release(out);
	return r;
}

int agent_find_program(struct transport *t, int *found_out, char **path_out,
		       const json_t *argv, struct err *err)
{
	static const char find[] = "command -v -- \"$1\"";
	const char *av[] = { "sh", "-c", find, "sh", NULL, NULL };
	struct exec_result res;
	int r = -1;

	*found_out = 0;
	*path_out = NULL;
	av[4] = json_string_value(json_array_get(argv, 0));
	if (!av[4])
		return err_set(err, ERR_CONFIG_INVALID, "the agent command "
			       "is empty");
	exec_result_init(&res, 4096);
	if (transport_exec(t, &res, av, NULL, NULL, 0, 30, err) < 0)
		goto out;
	if (res.exit_code == 0 && res.out.len) {
		*found_out = 1;
		*path_out = xstrndup(res.out.data,
				     strcspn(res.out.data, "\n"));
	}
	r = 0;
out:
	exec_result_release(&res);
	return r;
}
