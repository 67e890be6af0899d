/*
 * config.h: hpcloop.yaml, the configuration file (DESIGN §9).
 *
 * The file is YAML or JSON (read by yaml.h).  config_load() lets the
 * HPCLOOP_* environment variables set its secrets, validates it against
 * schemas/config.json, fills in the defaults that the schema declares
 * and cross-checks what a schema cannot say (a study names a configured
 * cluster, job options are safe to hand to a scheduler).  Code that
 * reads the loaded config therefore finds every defaulted key set and
 * never repeats a default.  The questions that combine several levels
 * of the file (context, agent command, job options, environment, sprint
 * directories) are answered by context.h.
 *
 * Every error is config_invalid and names the file, the line when known
 * (or the variable that set the value) and the dotted key path:
 *
 *	hpcloop.yaml:12: studies.demo.cluster: unknown cluster 'gpu'
 *
 * Which values are secrets is said once, in the schema ("writeOnly"):
 * their variables, their redaction (config_redacted) and the rule that
 * no message quotes them all follow from that mark.
 */
#ifndef HPCLOOP_CONFIG_H
#define HPCLOOP_CONFIG_H

#include <stddef.h>

#include <jansson.h>

#include "err.h"

/*
 * A loaded configuration.  Start it with CONFIG_INIT, fill it with
 * config_load() and free it with config_release().
 */
struct config {
	json_t *root;	/* owned; valid against schemas/config.json, with
			   its defaults filled in */
	json_t *lines;	/* owned; JSON pointer -> line in the file, or the
			   name of the variable that set the value */
	char *path;	/* owned; the file as named to config_load() */
	char *dir;	/* owned; absolute directory of that file */
};

#define CONFIG_INIT { NULL, NULL, NULL, NULL }

/*
 * Read the file 'path' into 'cfg' (which must be CONFIG_INIT or
 * released): parse it, apply the environment's secrets, validate it
 * against schemas/config.json, fill in its defaults and cross-check it.
 *
 * The environment wins over the file for every secret that has a
 * variable: HPCLOOP_ORCHESTRATOR_URL, HPCLOOP_ORCHESTRATOR_SECRET,
 * HPCLOOP_DASHBOARD_PASSWORD_HASH, and for each notification channel
 * HPCLOOP_NOTIFY_<NAME>_TOKEN and HPCLOOP_NOTIFY_<NAME>_SECRET (the name
 * upper cased, '-' as '_'); the
 * schema's description says how the names are made.  Variables set to
 * the empty string are ignored.
 *
 * The first schema error becomes the message ("<path>:<line>: <dotted
 * key path>: <message>") and details.errors holds them all; a message
 * about a secret never quotes its value.  Returns 0, or -1 with
 * config_invalid in 'err' and 'cfg' left empty.
 */
int config_load(struct config *cfg, const char *path, struct err *err);

/* Free what 'cfg' holds and make it CONFIG_INIT again; 'cfg' may be NULL. */
void config_release(struct config *cfg);

/*
 * Fill in 'instance' the defaults that schemas/config.json declares, as
 * config_load() does: 'definition' names the part of the schema that
 * 'instance' answers to, NULL for a whole configuration or a member of
 * its "definitions" ("cluster", "study").  For values that were not
 * loaded from a file (a test's cluster); an unknown 'definition' is a
 * bug.
 */
void config_fill_defaults(json_t *instance, const char *definition);

/*
 * The cluster or study called 'name', or NULL when there is none.
 * Borrowed: lives as long as 'cfg->root'.
 */
const json_t *config_cluster(const struct config *cfg, const char *name);
const json_t *config_study(const struct config *cfg, const char *name);

/*
 * 'p' resolved against the config file's directory unless it is
 * absolute (or 'cfg' has no directory).  A new string.
 */
char *config_path(const struct config *cfg, const char *p);

/*
 * Record 'code' in 'err' with a message about the value at the JSON
 * pointer 'pointer' of 'cfg->root' (segments as yaml_pointer_add()
 * writes them): the file, the line (or the variable that set the value)
 * and the dotted key path, then 'fmt'.  Returns -1.
 */
int config_error(const struct config *cfg, struct err *err,
		 enum err_code code, const char *pointer, const char *fmt,
		 ...) __attribute__((format(printf, 5, 6)));

/*
 * Why the job option 'key' with the value 'value' cannot be handed to
 * a scheduler, or NULL when it can: keys must match
 * ^[A-Za-z][A-Za-z0-9_-]*$, values must be strings or numbers, and
 * strings may not hold a newline, CR or NUL.  Static storage.
 */
const char *config_job_option_problem(const char *key, const json_t *value);

/*
 * A new deep copy of 'cfg->root' that is safe to print: every value the
 * schema marks "writeOnly" (the orchestrator secret, notification tokens
 * and ntfy topics, Slack webhook URLs, the dashboard password hash, and
 * cluster environment values whose names contain KEY, TOKEN, SECRET,
 * PASSWORD or PASSWD) is replaced by "***", or, for URLs marked
 * "x-hpcloop-redact": "userinfo", only its user and password are.
 * Returns NULL when there is no root.
 */
json_t *config_redacted(const struct config *cfg);

/*
 * The text `hpcloop init` writes: a working local cluster and an example
 * study "demo" with a metric, showing the default agent command.  A new
 * string; it loads cleanly.
 */
char *config_default_text(void);

#endif
