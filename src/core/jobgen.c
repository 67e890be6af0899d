/*
 * jobgen.c: computing and rendering a sprint's job (see jobgen.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "config.h"
#include "context.h"
#include "crypto.h"
#include "embedded.h"
#include "jobgen.h"
#include "sched.h"
#include "template.h"
#include "xalloc.h"
#include "banned.h"

/* The most text of scheduler directives in a script header. */
#define JOBGEN_HEADER_MAX (64 * 1024)

/* A new {"b64": the base64 of 's'}. */
static json_t *b64_item(const char *s)
{
	char *b = crypto_base64(s, strlen(s));
	json_t *item = json_pack("{s:s}", "b64", b);

	free(b);
	return item;
}

/* Set key 'k' of 'vars' to the base64 of the string 's'. */
static void set_b64(json_t *vars, const char *k, const char *s)
{
	char *b = crypto_base64(s, strlen(s));

	json_object_set_new(vars, k, json_string(b));
	free(b);
}

static const char *embedded_text(const char *path, struct err *err)
{
	const struct embedded_file *f = embedded_find(path);

	if (!f) {
		err_set(err, ERR_INTERNAL, "template '%s' is not embedded",
			path);
		return NULL;
	}
	return (const char *)f->data;
}

/*
 * Render the prompt template 'name' with 'vars' into '*out'.
 */
static int render_prompt(char **out, const char *name, const json_t *vars,
			 struct err *err)
{
	char path[128];
	const char *t;

	snprintf(path, sizeof(path), "templates/prompt-%s.md", name);
	t = embedded_text(path, err);
	if (!t)
		return -1;
	return template_render(out, t, vars, path, err);
}

/*
 * The integer setting 'key' of the config root (the schema's default
 * when the file leaves it out).
 */
static int root_int(const struct config *cfg, const char *key)
{
	return (int)json_integer_value(json_object_get(cfg->root, key));
}

/*
 * The header lines of the script as an array of {"line": text} in
 * '*out' (new): the directives of the scheduler 'scheduler' for the
 * layered job options 'opts' and the time limit 'time_limit_s' (the
 * keys and values were checked by config_job_options), with the
 * warning before the time limit and the requeue policy of the study
 * 'study'.
 */
static int header_lines(json_t **out, const char *scheduler,
			const json_t *opts, int time_limit_s,
			const json_t *study, struct err *err)
{
	const struct sched_ops *kind = sched_kind(scheduler);
	struct sched_submit req;
	struct buf text = BUF_INIT;
	const char *line, *end;

	*out = NULL;
	if (!kind)
		return err_set(err, ERR_CONFIG_INVALID,
			       "scheduler '%s' is not available in this build",
			       scheduler);
	memset(&req, 0, sizeof(req));
	req.job_options = opts;
	req.time_limit_s = time_limit_s;
	req.signal_grace_s = (int)json_integer_value(json_object_get(
		study, "signal_grace_s"));
	req.requeue = json_is_true(json_object_get(study, "requeue"));
	buf_init(&text, JOBGEN_HEADER_MAX);
	if (kind->directives(&text, &req, err) < 0) {
		buf_release(&text);
		return -1;
	}
	*out = json_array();
	for (line = buf_str(&text); *line; line = *end ? end + 1 : end) {
		end = strchr(line, '\n');
		if (!end)
			end = line + strlen(line);
		json_array_append_new(*out, json_pack("{s:s%}", "line", line,
						      (size_t)(end - line)));
	}
	buf_release(&text);
	return 0;
}

/* Render every prompt into g->files and the prompt vars into 'pv'. */
static int build_prompts(struct jobgen *g, json_t *script_vars,
			 json_t *pvars, struct err *err)
{
	static const char *const single[] = { "research", "report",
					      "summarize" };
	json_t *prompts = json_object(), *rt = json_array(), *fx = json_array();
	char *text = NULL, *b64, key[64];
	size_t i;
	int r = -1, round;

	g->files = json_object();
	for (i = 0; i < 3; i++) {
		if (render_prompt(&text, single[i], pvars, err) < 0)
			goto out;
		snprintf(key, sizeof(key), "%s_b64", single[i]);
		b64 = crypto_base64(text, strlen(text));
		json_object_set_new(prompts, key, json_string(b64));
		free(b64);
		snprintf(key, sizeof(key), ".hpcloop/prompt-%s.md", single[i]);
		json_object_set_new(g->files, key, json_string(text));
		free(text);
		text = NULL;
	}
	for (round = 1; round <= g->red_team_rounds; round++) {
		json_object_set_new(pvars, "round", json_integer(round));
		for (i = 0; i < 2; i++) {
			const char *name = i ? "fix" : "red-team";

			if (render_prompt(&text, name, pvars, err) < 0)
				goto out;
			b64 = crypto_base64(text, strlen(text));
			json_array_append_new(i ? fx : rt,
					      json_pack("{s:i, s:s}", "round",
							round, "b64", b64));
			free(b64);
			snprintf(key, sizeof(key), ".hpcloop/prompt-%s_%d.md",
				 i ? "fix" : "red_team", round);
			json_object_set_new(g->files, key, json_string(text));
			free(text);
			text = NULL;
		}
	}
	json_object_set(prompts, "red_team", rt);
	json_object_set(prompts, "fix", fx);
	json_object_set(script_vars, "prompts", prompts);
	r = 0;
out:
	free(text);
	json_decref(prompts);
	json_decref(rt);
	json_decref(fx);
	return r;
}

/* ---------------------------------------------------------------- */
/* The executor                                                       */
/* ---------------------------------------------------------------- */

void jobgen_param_name(char *out, size_t size, const char *name)
{
	static const char prefix[] = "HPCLOOP_PARAM_";
	size_t n = sizeof(prefix) - 1, i;

	if (size < sizeof(prefix) + JOBGEN_PARAM_NAME_MAX + 1) {
		if (size)
			out[0] = '\0';
		return;
	}
	memcpy(out, prefix, n);
	for (i = 0; name[i] && i < JOBGEN_PARAM_NAME_MAX; i++) {
		unsigned char c = (unsigned char)name[i];

		if (c >= 'a' && c <= 'z')
			c = (unsigned char)(c - 'a' + 'A');
		else if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')))
			c = '_';
		out[n++] = (char)c;
	}
	out[n] = '\0';
}

char *jobgen_param_text(const json_t *v)
{
	char num[64];
	int prec;

	switch (json_typeof(v)) {
	case JSON_STRING:
		return xstrdup(json_string_value(v));
	case JSON_INTEGER:
		snprintf(num, sizeof(num), "%" JSON_INTEGER_FORMAT,
			 json_integer_value(v));
		return xstrdup(num);
	case JSON_REAL:
		for (prec = 1; prec < 17; prec++) {
			snprintf(num, sizeof(num), "%.*g", prec,
				 json_real_value(v));
			if (strtod(num, NULL) == json_real_value(v))
				break;
		}
		if (prec == 17)
			snprintf(num, sizeof(num), "%.17g",
				 json_real_value(v));
		return xstrdup(num);
	case JSON_TRUE:
		return xstrdup("true");
	case JSON_FALSE:
		return xstrdup("false");
	case JSON_NULL:
		return xstrdup("");
	default:
		return json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
	}
}

/*
 * The executor of the request 'req' into 'g' and 'vars': its argv (as
 * executor_argv, base64), the run's parameters (as params, names and
 * base64 values) and the metric name (metric_name_b64, "" when the study
 * has no metric).  A study without an executor gets empty lists.
 */
static int build_executor(struct jobgen *g, json_t *vars,
			  const struct config *cfg, const json_t *study,
			  const struct jobgen_request *req, struct err *err)
{
	json_t *argv = json_array(), *params = json_array();
	const char *k, *metric;
	const json_t *v;
	char name[JOBGEN_PARAM_NAME_MAX + 32];
	size_t i;

	if (context_executor_argv(&g->executor_argv, cfg, req->study, err) <
	    0) {
		json_decref(argv);
		json_decref(params);
		return -1;
	}
	g->param_env = json_object();
	json_array_foreach(g->executor_argv, i, v)
		json_array_append_new(argv, b64_item(json_string_value(v)));
	if (g->executor_argv && json_is_object(req->params)) {
		json_object_foreach((json_t *)req->params, k, v) {
			char *text;

			if (json_object_size(g->param_env) >=
			    JOBGEN_PARAMS_MAX)
				break;
			jobgen_param_name(name, sizeof(name), k);
			text = jobgen_param_text(v);
			json_object_set_new(g->param_env, name,
					    json_string(text));
			free(text);
		}
		json_object_foreach(g->param_env, k, v) {
			json_t *item = b64_item(json_string_value(v));

			json_object_set_new(item, "name", json_string(k));
			json_array_append_new(params, item);
		}
	}
	json_object_set_new(vars, "executor_argv", argv);
	json_object_set_new(vars, "params", params);
	metric = json_string_value(json_object_get(
	    json_object_get(study, "metric"), "name"));
	set_b64(vars, "metric_name_b64",
		g->executor_argv && metric ? metric : "");
	return 0;
}

/* ---------------------------------------------------------------- */
/* The job                                                            */
/* ---------------------------------------------------------------- */

int jobgen_build(struct jobgen *g, const struct config *cfg,
		 const struct jobgen_request *req, struct err *err)
{
	const json_t *study = config_study(cfg, req->study);
	const json_t *cluster, *v;
	json_t *vars = NULL, *pvars = NULL, *argv_b64 = NULL, *env = NULL;
	json_t *header = NULL;
	const char *s, *k, *url;
	double hours;
	size_t i;
	int r = -1;

	if (!study)
		return err_set(err, ERR_NOT_FOUND, "no study '%s'", req->study);
	g->cluster = xstrdup(json_string_value(json_object_get(study,
								"cluster")));
	cluster = config_cluster(cfg, g->cluster);
	s = json_string_value(json_object_get(cluster, "scheduler"));
	g->scheduler = xstrdup(s);
	if (context_job_options(&g->job_options, cfg, req->study,
				req->job_options, err) < 0 ||
	    context_agent_argv(&g->agent_argv, cfg, req->study, err) < 0 ||
	    context_text(&g->context, cfg, req->study, err) < 0)
		goto out;
	g->env = context_environment(cfg, g->cluster);
	v = json_object_get(study, "max_sprint_duration_hours");
	hours = json_number_value(v);
	g->time_limit_s = req->time_limit_s ? req->time_limit_s
					    : (int)(hours * 3600);
	v = json_object_get(study, "red_team_max_rounds");
	g->red_team_rounds = (int)json_integer_value(v);

	if (header_lines(&header, g->scheduler, g->job_options,
			 g->time_limit_s, study, err) < 0)
		goto out;
	pvars = json_pack("{s:s, s:s, s:s, s:s, s:i, s:i, s:s}", "idea",
			  req->idea, "study", req->study, "sprint_id",
			  req->sprint_id, "context", g->context, "round", 0,
			  "max_rounds", g->red_team_rounds, "code_dir",
			  req->code_dir ? req->code_dir : "");
	vars = json_object();
	json_object_set_new(vars, "sprint_id", json_string(req->sprint_id));
	json_object_set_new(vars, "study", json_string(req->study));
	json_object_set(vars, "header_lines", header);
	set_b64(vars, "sprint_dir_b64", req->sprint_dir);
	set_b64(vars, "idea_b64", req->idea);
	set_b64(vars, "context_b64", g->context);
	url = json_string_value(json_object_get(cfg->root,
						"orchestrator_url"));
	set_b64(vars, "orchestrator_url_b64", url ? url : "");
	argv_b64 = json_array();
	for (i = 0; i < json_array_size(g->agent_argv); i++) {
		char *b = crypto_base64(
			json_string_value(json_array_get(g->agent_argv, i)),
			strlen(json_string_value(
				json_array_get(g->agent_argv, i))));

		json_array_append_new(argv_b64, json_pack("{s:s}", "b64", b));
		free(b);
	}
	json_object_set(vars, "agent_argv", argv_b64);
	env = json_array();
	json_object_foreach(g->env, k, v) {
		char *b = crypto_base64(json_string_value(v),
					strlen(json_string_value(v)));

		json_array_append_new(env, json_pack("{s:s, s:s}", "name", k,
						     "value_b64", b));
		free(b);
	}
	json_object_set(vars, "env", env);
	json_object_set_new(vars, "red_team_max_rounds",
			    json_integer(g->red_team_rounds));
	json_object_set_new(vars, "heartbeat_interval_s",
			    json_integer(root_int(cfg,
						  "heartbeat_interval_s")));
	json_object_set_new(vars, "watchdog_grace_s",
			    json_integer(root_int(cfg, "watchdog_grace_s")));
	json_object_set_new(vars, "step_timeout_s",
			    json_integer(root_int(cfg, "step_timeout_s")));
	json_object_set_new(vars, "time_limit_s",
			    json_integer(g->time_limit_s));
	if (build_prompts(g, vars, pvars, err) < 0 ||
	    build_executor(g, vars, cfg, study, req, err) < 0)
		goto out;
	s = embedded_text("templates/job.sh", err);
	if (!s || template_render(&g->script, s, vars, "templates/job.sh",
				  err) < 0)
		goto out;
	r = 0;
out:
	json_decref(vars);
	json_decref(pvars);
	json_decref(argv_b64);
	json_decref(env);
	json_decref(header);
	return r;
}

void jobgen_release(struct jobgen *g)
{
	if (!g)
		return;
	free(g->cluster);
	free(g->scheduler);
	json_decref(g->job_options);
	json_decref(g->agent_argv);
	json_decref(g->executor_argv);
	json_decref(g->param_env);
	json_decref(g->env);
	json_decref(g->files);
	free(g->context);
	free(g->script);
	memset(g, 0, sizeof(*g));
}
