/*
 * config.c: loading hpcloop.yaml (see config.h).  yaml.c reads the text
 * and remembers the line of every key; the environment sets the secrets
 * that have a variable; the schema judges the result; its defaults are
 * filled in; cross-checks catch what a schema cannot say.  A problem
 * found at any of these steps is reported where the value was written
 * ("hpcloop.yaml:12: studies.demo.cluster: ...").  Which values are
 * secrets, and what the defaults are, is read from the schema by
 * config_schema.c.  The rest answers lookups: clusters, studies, paths,
 * a redacted copy, and the text `hpcloop init` writes.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "buf.h"
#include "config.h"
#include "config_schema.h"
#include "err.h"
#include "schema.h"
#include "xalloc.h"
#include "yaml.h"
#include "banned.h"

/* Most schema errors kept in details.errors. */
#define CONFIG_MAX_SCHEMA_ERRORS 100

#define JOB_KEY_PATTERN "^[A-Za-z][A-Za-z0-9_-]*$"
#define REDACTED "***"

/* ------------------------------------------------------------------ */
/* Locations                                                           */
/* ------------------------------------------------------------------ */

/*
 * The key path of the JSON pointer 'pointer' in 'root', dotted as users
 * write it ("studies.demo.cluster", "notifications[0].token"), or "top
 * level" for the root.  A new string.
 */
static char *dotted_path(const json_t *root, const char *pointer)
{
	struct buf out = BUF_INIT, seg = BUF_INIT;
	const json_t *node = root;
	const char *p = pointer ? pointer : "";

	while (*p == '/') {
		p = yaml_pointer_next(p, &seg);
		if (json_is_array(node)) {
			buf_addf(&out, "[%s]", buf_str(&seg));
			node = json_array_get(node,
					      strtoul(buf_str(&seg), NULL, 10));
		} else {
			if (out.len)
				buf_adds(&out, ".");
			buf_adds(&out, buf_str(&seg));
			node = json_object_get(node, buf_str(&seg));
		}
	}
	buf_release(&seg);
	if (!out.len)
		buf_adds(&out, "top level");
	return buf_detach(&out, NULL);
}

/*
 * The entry of 'lines' for 'pointer' or, failing that, for its nearest
 * ancestor that has one; NULL when none does.  Borrowed.
 */
static const json_t *where_lookup(const json_t *lines, const char *pointer)
{
	char *p = xstrdup(pointer ? pointer : "");
	const json_t *hit = NULL;
	char *slash;

	while (lines && *p) {
		hit = json_object_get(lines, p);
		if (hit)
			break;
		slash = strrchr(p, '/');
		if (!slash)
			break;
		*slash = '\0';
	}
	free(p);
	return hit;
}

int config_error(const struct config *cfg, struct err *err,
		 enum err_code code, const char *pointer, const char *fmt,
		 ...)
{
	const char *origin = cfg->path ? cfg->path : "config";
	const json_t *at = where_lookup(cfg->lines, pointer);
	char *dotted = dotted_path(cfg->root, pointer);
	char msg[ERR_MESSAGE_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (json_is_integer(at))
		err_set(err, code, "%s:%" JSON_INTEGER_FORMAT ": %s: %s",
			origin, json_integer_value(at), dotted, msg);
	else if (json_is_string(at))
		err_set(err, code, "%s: %s (from %s): %s", origin, dotted,
			json_string_value(at), msg);
	else
		err_set(err, code, "%s: %s: %s", origin, dotted, msg);
	free(dotted);
	return -1;
}

/*
 * The value at the JSON pointer 'pointer' of 'root', or NULL.
 * Borrowed.
 */
static json_t *value_at(json_t *root, const char *pointer)
{
	struct buf seg = BUF_INIT;
	json_t *node = root;
	const char *p = pointer;

	while (node && *p == '/') {
		p = yaml_pointer_next(p, &seg);
		if (json_is_array(node))
			node = json_array_get(node, strtoul(buf_str(&seg),
							    NULL, 10));
		else
			node = json_object_get(node, buf_str(&seg));
	}
	buf_release(&seg);
	return node;
}

/*
 * Set the value at the JSON pointer 'pointer' of the object 'root' to
 * 'value' (stolen), making the objects on the way that are missing.
 * Returns -1 (dropping 'value') when a step is neither an object nor an
 * item that exists.
 */
static int set_at(json_t *root, const char *pointer, json_t *value)
{
	struct buf seg = BUF_INIT;
	json_t *node = root, *next;
	const char *p = pointer;
	int ret = -1;

	while (value && *p == '/') {
		p = yaml_pointer_next(p, &seg);
		if (json_is_array(node)) {
			next = json_array_get(node, strtoul(buf_str(&seg),
							    NULL, 10));
			if (!next)
				break;
			if (!*p) {
				json_array_set(node, strtoul(buf_str(&seg),
							     NULL, 10),
					       value);
				ret = 0;
				break;
			}
		} else if (json_is_object(node)) {
			if (!*p) {
				json_object_set(node, buf_str(&seg), value);
				ret = 0;
				break;
			}
			next = json_object_get(node, buf_str(&seg));
			if (!next) {
				next = json_object();
				json_object_set_new(node, buf_str(&seg), next);
			}
		} else {
			break;
		}
		node = next;
	}
	json_decref(value);
	buf_release(&seg);
	return ret;
}

/* ------------------------------------------------------------------ */
/* Secrets                                                             */
/* ------------------------------------------------------------------ */

/*
 * Set every secret of 'root' listed in 'secrets' that has a variable
 * set (and not empty) in the environment to its value, noting in
 * 'lines' which variable set it.
 */
static void apply_env(json_t *root, json_t *lines, const json_t *secrets)
{
	const char *var, *v, *ptr;
	const json_t *e;
	size_t i;

	if (!json_is_object(root))
		return;
	json_array_foreach(secrets, i, e) {
		var = json_string_value(json_object_get(e, "env"));
		v = var ? getenv(var) : NULL;
		if (!v || !*v)
			continue;
		ptr = json_string_value(json_object_get(e, "pointer"));
		if (set_at(root, ptr, json_string(v)) == 0)
			json_object_set_new(lines, ptr, json_string(var));
	}
}

/*
 * A new copy of the URL 'url' with its user and password replaced by
 * REDACTED, or NULL when it has none.
 */
static char *redact_userinfo(const char *url)
{
	const char *host = strstr(url, "://"), *at;
	struct buf b = BUF_INIT;

	if (!host)
		return NULL;
	host += 3;
	at = memchr(host, '@', strcspn(host, "/?#"));
	if (!at)
		return NULL;
	buf_add(&b, url, (size_t)(host - url));
	buf_adds(&b, REDACTED);
	buf_adds(&b, at);
	return buf_detach(&b, NULL);
}

/* Whether 's' is one of the NULL-ended 'words'. */
static int is_one_of(const char *s, const char *const *words)
{
	for (; *words; words++)
		if (!strcmp(s, *words))
			return 1;
	return 0;
}

/*
 * Replace the message of every error in the schema error array 'errors'
 * whose path is a secret, unless its keyword is one whose message only
 * describes the shape of the value: a validator may quote values.
 */
static void redact_errors(json_t *errors, const json_t *secrets)
{
	static const char *const shape_only[] = {
		"type", "minLength", "required", "additionalProperties", NULL
	};
	json_t *e;
	const char *path, *kw;
	char msg[128];
	size_t i;

	json_array_foreach(errors, i, e) {
		path = json_string_value(json_object_get(e, "path"));
		kw = json_string_value(json_object_get(e, "keyword"));
		if (!path || !config_schema_is_secret(secrets, path))
			continue;
		if (kw && is_one_of(kw, shape_only))
			continue;
		snprintf(msg, sizeof(msg), "value fails the schema's '%s' "
			 "check", kw ? kw : "unknown");
		json_object_set_new(e, "message", json_string(msg));
	}
}

/* ------------------------------------------------------------------ */
/* Validation and defaults                                             */
/* ------------------------------------------------------------------ */

/*
 * Validate 'cfg->root' against 'schema'; 'secrets' are its secrets, whose
 * values no message may quote.
 */
static int validate(const struct config *cfg, const json_t *schema,
		    const json_t *secrets, struct err *err)
{
	json_t *errors = schema_validate(schema, cfg->root,
					 CONFIG_MAX_SCHEMA_ERRORS);
	const json_t *first;
	const char *path, *kw, *msg, *key = NULL;
	struct buf ptr = BUF_INIT;

	if (!json_array_size(errors)) {
		json_decref(errors);
		return 0;
	}
	redact_errors(errors, secrets);
	first = json_array_get(errors, 0);
	path = json_string_value(json_object_get(first, "path"));
	kw = json_string_value(json_object_get(first, "keyword"));
	msg = json_string_value(json_object_get(first, "message"));
	buf_adds(&ptr, path ? path : "");
	if (kw && !strcmp(kw, "additionalProperties"))
		key = config_schema_unknown_key(schema, cfg->root,
						buf_str(&ptr));
	if (key) {
		yaml_pointer_add(&ptr, key);
		config_error(cfg, err, ERR_CONFIG_INVALID, buf_str(&ptr),
			     "unknown key");
	} else {
		config_error(cfg, err, ERR_CONFIG_INVALID, buf_str(&ptr),
			     "%s", msg ? msg : "invalid");
	}
	err_detail(err, "errors", errors);
	buf_release(&ptr);
	return -1;
}

void config_fill_defaults(json_t *instance, const char *definition)
{
	json_t *top = config_schema_load();
	const json_t *schema = top;

	if (definition)
		schema = json_object_get(json_object_get(top, "definitions"),
					 definition);
	if (!schema)
		BUG("no definition '%s' in the config schema", definition);
	config_schema_defaults(top, schema, instance);
	json_decref(top);
}

/* ------------------------------------------------------------------ */
/* Cross-checks                                                        */
/* ------------------------------------------------------------------ */

static int is_alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* Whether 'k' matches ^[A-Za-z][A-Za-z0-9_-]*$, the job option keys. */
static int is_job_key(const char *k)
{
	if (!is_alpha(*k))
		return 0;
	for (k++; *k; k++)
		if (!is_alpha(*k) && !is_digit(*k) && *k != '_' && *k != '-')
			return 0;
	return 1;
}

/* Whether 'k' matches ^[A-Za-z_][A-Za-z0-9_]*$, environment names. */
static int is_env_name(const char *k)
{
	if (!is_alpha(*k) && *k != '_')
		return 0;
	for (k++; *k; k++)
		if (!is_alpha(*k) && !is_digit(*k) && *k != '_')
			return 0;
	return 1;
}

/*
 * Whether 'k' names a variable that changes how bash itself runs the
 * job script, which a cluster's environment must not set.
 */
static int is_shell_control_name(const char *k)
{
	static const char *const names[] = {
		"BASH_ENV", "ENV",	     "CDPATH",	   "GLOBIGNORE",
		"IFS",	    "SHELLOPTS",    "BASHOPTS",	   "POSIXLY_CORRECT",
		"PS4",	    "BASH_XTRACEFD", "TMOUT",	   "BASH_COMPAT",
		"FUNCNEST", NULL
	};

	return is_one_of(k, names);
}

/* Whether the string 'v' is free of newlines, CRs and NUL bytes. */
static int is_one_line(const json_t *v)
{
	const char *s = json_string_value(v);
	size_t n = json_string_length(v);

	return !memchr(s, '\n', n) && !memchr(s, '\r', n) &&
	       !memchr(s, '\0', n);
}

const char *config_job_option_problem(const char *key, const json_t *value)
{
	if (!is_job_key(key))
		return "key must match " JOB_KEY_PATTERN;
	if (!json_is_string(value) && !json_is_number(value))
		return "must be a string or a number";
	if (json_is_string(value) && !is_one_line(value))
		return "contains a newline, cr or nul";
	return NULL;
}

/*
 * Check the job options 'opts' found at 'pointer' (".../job_options")
 * with config_job_option_problem().
 */
static int check_job_options(const struct config *cfg, const json_t *opts,
			     const char *pointer, struct err *err)
{
	struct buf ptr = BUF_INIT;
	const char *key, *problem;
	const json_t *v;
	int ret = 0;

	json_object_foreach((json_t *)opts, key, v) {
		problem = config_job_option_problem(key, v);
		if (!problem)
			continue;
		buf_adds(&ptr, pointer);
		yaml_pointer_add(&ptr, key);
		ret = config_error(cfg, err, ERR_CONFIG_INVALID,
				   buf_str(&ptr), "%s", problem);
		break;
	}
	buf_release(&ptr);
	return ret;
}

/* Check the cluster 'c' called 'name'. */
static int check_cluster(const struct config *cfg, const char *name,
			 const json_t *c, struct err *err)
{
	static const char *const ssh_only[] = {
		"host", "port", "user", "key", "known_hosts",
		"host_key_policy", "key_passphrase_env", "connect_timeout_s",
		"io_timeout_s", "keepalive_s", "max_connections", NULL
	};
	const char *transport = json_string_value(json_object_get(c,
								  "transport"));
	struct buf ptr = BUF_INIT;
	const char *key, *why = NULL;
	const json_t *v;
	int ret = -1;
	size_t i;

	yaml_pointer_add(&ptr, "clusters");
	yaml_pointer_add(&ptr, name);
	for (i = 0; strcmp(transport, "ssh") && ssh_only[i]; i++) {
		if (!json_object_get(c, ssh_only[i]))
			continue;
		yaml_pointer_add(&ptr, ssh_only[i]);
		config_error(cfg, err, ERR_CONFIG_INVALID, buf_str(&ptr),
			     "only for transport ssh");
		goto out;
	}
	if (!strcmp(transport, "ssh") &&
	    !strcmp(json_string_value(json_object_get(c, "scheduler")),
		    "local")) {
		yaml_pointer_add(&ptr, "scheduler");
		config_error(cfg, err, ERR_CONFIG_INVALID, buf_str(&ptr),
			     "the local scheduler runs jobs on this machine; "
			     "a cluster reached over ssh needs scheduler "
			     "slurm or sge");
		goto out;
	}
	json_object_foreach((json_t *)json_object_get(c, "environment"), key,
			    v) {
		if (!is_env_name(key))
			why = "invalid environment variable name";
		else if (is_shell_control_name(key))
			why = "this variable changes how bash runs the job "
			      "script and cannot be set";
		else if (json_is_string(v) && !is_one_line(v))
			why = "contains a newline, cr or nul";
		if (!why)
			continue;
		yaml_pointer_add(&ptr, "environment");
		yaml_pointer_add(&ptr, key);
		config_error(cfg, err, ERR_CONFIG_INVALID, buf_str(&ptr), "%s",
			     why);
		goto out;
	}
	buf_adds(&ptr, "/job_options");
	if (check_job_options(cfg, json_object_get(c, "job_options"),
			      buf_str(&ptr), err) < 0)
		goto out;
	ret = 0;
out:
	buf_release(&ptr);
	return ret;
}

/* Check what the schema cannot: names that must refer to something. */
static int cross_check(const struct config *cfg, struct err *err)
{
	const json_t *clusters = json_object_get(cfg->root, "clusters");
	const json_t *chans = json_object_get(cfg->root, "notifications");
	struct buf ptr = BUF_INIT;
	const char *name, *cl, *other;
	const json_t *v;
	size_t i, j;
	int ret = -1;

	json_object_foreach((json_t *)clusters, name, v)
		if (check_cluster(cfg, name, v, err) < 0)
			goto out;
	json_object_foreach(json_object_get(cfg->root, "studies"), name, v) {
		buf_release(&ptr);
		yaml_pointer_add(&ptr, "studies");
		yaml_pointer_add(&ptr, name);
		cl = json_string_value(json_object_get(v, "cluster"));
		if (!json_object_get(clusters, cl)) {
			buf_adds(&ptr, "/cluster");
			config_error(cfg, err, ERR_CONFIG_INVALID,
				     buf_str(&ptr), "unknown cluster '%s'", cl);
			goto out;
		}
		buf_adds(&ptr, "/job_options");
		if (check_job_options(cfg, json_object_get(v, "job_options"),
				      buf_str(&ptr), err) < 0)
			goto out;
	}
	json_array_foreach(chans, i, v) {
		name = json_string_value(json_object_get(v, "name"));
		for (j = 0; j < i; j++) {
			other = json_string_value(json_object_get(
				json_array_get(chans, j), "name"));
			if (strcmp(name, other))
				continue;
			buf_release(&ptr);
			buf_addf(&ptr, "/notifications/%zu/name", i);
			config_error(cfg, err, ERR_CONFIG_INVALID,
				     buf_str(&ptr),
				     "duplicate channel name '%s'", name);
			goto out;
		}
	}
	ret = 0;
out:
	buf_release(&ptr);
	return ret;
}

/* ------------------------------------------------------------------ */
/* Loading                                                             */
/* ------------------------------------------------------------------ */

/* The absolute directory of the file 'path' (as named if that fails). */
static char *config_dir_of(const char *path)
{
	const char *slash = strrchr(path, '/');
	char *dir, *real;

	if (!slash)
		dir = xstrdup(".");
	else if (slash == path)
		dir = xstrdup("/");
	else
		dir = xstrndup(path, (size_t)(slash - path));
	real = realpath(dir, NULL);
	if (real) {
		free(dir);
		dir = xstrdup(real);
		free(real);
	}
	return dir;
}

/* Read the file 'path', of at most YAML_MAX_SIZE bytes, into 'text'. */
static int read_config_file(struct buf *text, const char *path,
			    struct err *err)
{
	FILE *f = fopen(path, "rb");
	int r;

	if (!f && errno == ENOENT) {
		err_set(err, ERR_CONFIG_INVALID, "no config at '%s'", path);
		return err_remedy(err, "run `hpcloop init` to write one here, "
				  "or name yours with --config or "
				  "HPCLOOP_CONFIG");
	}
	if (!f) {
		err_set(err, ERR_CONFIG_INVALID,
			"cannot read config '%s': %s", path, strerror(errno));
		return err_remedy(err, "make the file readable, or name "
				  "another with --config or HPCLOOP_CONFIG");
	}
	buf_init(text, YAML_MAX_SIZE);
	r = buf_read_file(text, f);
	if (r == -1)
		err_set(err, ERR_CONFIG_INVALID, "cannot read config '%s': %s",
			path, strerror(errno));
	else if (r < 0)
		err_set(err, ERR_CONFIG_INVALID, "%s: larger than %d bytes",
			path, YAML_MAX_SIZE);
	fclose(f);
	return r < 0 ? -1 : 0;
}

int config_load(struct config *cfg, const char *path, struct err *err)
{
	struct config tmp = CONFIG_INIT;
	struct buf text = BUF_INIT;
	json_t *schema = NULL, *secrets = NULL;
	int ret = -1;

	*cfg = tmp;
	tmp.path = xstrdup(path);
	if (read_config_file(&text, path, err) < 0 ||
	    yaml_to_json(&tmp.root, &tmp.lines, text.data, text.len, path,
			 err) < 0)
		goto out;
	schema = config_schema_load();
	secrets = config_schema_secrets(schema, tmp.root);
	apply_env(tmp.root, tmp.lines, secrets);
	if (validate(&tmp, schema, secrets, err) < 0)
		goto out;
	config_schema_defaults(schema, schema, tmp.root);
	if (cross_check(&tmp, err) < 0)
		goto out;
	tmp.dir = config_dir_of(path);
	*cfg = tmp;
	tmp = (struct config)CONFIG_INIT;
	ret = 0;
out:
	config_release(&tmp);
	buf_release(&text);
	json_decref(schema);
	json_decref(secrets);
	return ret;
}

void config_release(struct config *cfg)
{
	if (!cfg)
		return;
	json_decref(cfg->root);
	json_decref(cfg->lines);
	free(cfg->path);
	free(cfg->dir);
	cfg->root = NULL;
	cfg->lines = NULL;
	cfg->path = NULL;
	cfg->dir = NULL;
}

/* ------------------------------------------------------------------ */
/* Lookups                                                             */
/* ------------------------------------------------------------------ */

/* The member 'name' of the object 'section' of the root, or NULL. */
static const json_t *config_member(const struct config *cfg,
				   const char *section, const char *name)
{
	if (!cfg || !cfg->root || !name)
		return NULL;
	return json_object_get(json_object_get(cfg->root, section), name);
}

const json_t *config_cluster(const struct config *cfg, const char *name)
{
	return config_member(cfg, "clusters", name);
}

const json_t *config_study(const struct config *cfg, const char *name)
{
	return config_member(cfg, "studies", name);
}

char *config_path(const struct config *cfg, const char *p)
{
	struct buf b = BUF_INIT;

	if (p[0] == '/' || !cfg || !cfg->dir)
		return xstrdup(p);
	buf_addf(&b, "%s/%s", cfg->dir, p);
	return buf_detach(&b, NULL);
}

json_t *config_redacted(const struct config *cfg)
{
	json_t *copy, *schema, *secrets, *v;
	const char *ptr, *mode;
	const json_t *e;
	char *url;
	size_t i;

	if (!cfg || !cfg->root)
		return NULL;
	copy = json_deep_copy(cfg->root);
	schema = config_schema_load();
	secrets = config_schema_secrets(schema, copy);
	json_array_foreach(secrets, i, e) {
		ptr = json_string_value(json_object_get(e, "pointer"));
		mode = json_string_value(json_object_get(e, "redact"));
		v = value_at(copy, ptr);
		if (!v)
			continue;
		if (strcmp(mode, "userinfo") || !json_is_string(v)) {
			set_at(copy, ptr, json_string(REDACTED));
			continue;
		}
		url = redact_userinfo(json_string_value(v));
		if (url)
			set_at(copy, ptr, json_string(url));
		free(url);
	}
	json_decref(secrets);
	json_decref(schema);
	return copy;
}

/* ------------------------------------------------------------------ */
/* The default configuration                                           */
/* ------------------------------------------------------------------ */

/* Before the agent command, which the schema's default fills in. */
static const char default_head[] =
	"# hpcloop configuration; `hpcloop schema config` describes every\n"
	"# key.  Secrets are best left to HPCLOOP_* environment variables.\n"
	"version: 1\n"
	"\n"
	"# The agent run in each sprint step (the default is shown).\n"
	"# agent_command: \"%s\"\n";

static const char default_tail[] =
	"\n"
	"context: |\n"
	"  You are running a research sprint under hpcloop.  Record every\n"
	"  result with the metric named by the study.\n"
	"\n"
	"clusters:\n"
	"  local:\n"
	"    transport: local\n"
	"    scheduler: local\n"
	"    working_dir: sprints\n"
	"    max_concurrent_jobs: 2\n"
	"    cancel_grace_s: 10\n"
	"    query_interval_s: 5\n"
	"\n"
	"studies:\n"
	"  demo:\n"
	"    cluster: local\n"
	"    description: an example study; replace it with your own\n"
	"    context: |\n"
	"      Lower the validation loss of the toy model in this\n"
	"      directory.\n"
	"    max_sprint_duration_hours: 1\n"
	"    red_team_max_rounds: 1\n"
	"    metric:\n"
	"      name: val_loss\n"
	"      direction: minimize\n"
	"      min_improvement: 0.001\n"
	"    allow_loop: true\n"
	"\n"
	"# notifications:\n"
	"#   - name: ops\n"
	"#     type: ntfy\n"
	"#     topic: my-private-topic\n"
	"#     events: [failed]\n"
	"\n"
	"# dashboard:\n"
	"#   listen: 127.0.0.1:8080\n";

char *config_default_text(void)
{
	json_t *schema = config_schema_load();
	const char *agent = json_string_value(json_object_get(
		json_object_get(json_object_get(schema, "properties"),
				"agent_command"), "default"));
	struct buf b = BUF_INIT;

	if (!agent)
		BUG("the config schema has no default agent_command");
	buf_addf(&b, default_head, agent);
	buf_adds(&b, default_tail);
	json_decref(schema);
	return buf_detach(&b, NULL);
}
