/*
 * config.h: hpcloop.yaml, the configuration file (DESIGN §9).
 *
 * The file is YAML or JSON.  config_load() reads it into a jansson
 * object, lets the HPCLOOP_* environment variables override its secrets,
 * validates it against schemas/config.json and cross-checks what a
 * schema cannot say (a study names a configured cluster, job options are
 * safe to hand to a scheduler).  Everything else asks the loaded config
 * questions through the functions below: which cluster, which job
 * options, which context, which agent command, where sprints live.
 *
 * Every error is config_invalid and names the file, the line when known
 * and the dotted key path:
 *
 *	hpcloop.yaml:12: studies.demo.cluster: unknown cluster 'gpu'
 *
 * Secret values never appear in messages; config_redacted() gives a copy
 * that is safe to print.
 */
#ifndef HPCLOOP_CONFIG_H
#define HPCLOOP_CONFIG_H

#include <stddef.h>

#include <jansson.h>

#include "err.h"

/* Largest configuration text accepted, in bytes. */
#define CONFIG_MAX_SIZE (1024 * 1024)
/* Deepest nesting of maps and lists accepted (the top map is level 1). */
#define CONFIG_MAX_DEPTH 64

/* The agent command used when neither study, cluster nor file sets one. */
#define CONFIG_DEFAULT_AGENT \
	"claude -p --output-format stream-json --verbose"

/*
 * A loaded configuration.  Start it with CONFIG_INIT, fill it with
 * config_load() and free it with config_release().
 */
struct config {
	json_t *root;	/* owned; exactly as schemas/config.json allows */
	char *path;	/* owned; the file as named to config_load() */
	char *dir;	/* owned; absolute directory of that file */
};

#define CONFIG_INIT { NULL, NULL, NULL }

/*
 * Parse the YAML-or-JSON 'text' of 'len' bytes into a new object in
 * '*out'; 'origin' names the text in messages ("hpcloop.yaml").  Text
 * whose first non-blank character is '{' is read as JSON.
 *
 * YAML follows the 1.2 core schema: plain scalars that look like
 * integers or floats become numbers, true/false booleans, null and ~
 * null, and everything else (quoted scalars always) a string.  Aliases
 * are copied.  Duplicate keys, documents deeper than CONFIG_MAX_DEPTH or
 * larger than CONFIG_MAX_SIZE, and more than one document are refused.
 * Nothing is validated against the schema.
 *
 * Returns 0, or -1 with config_invalid in 'err' and '*out' NULL.
 */
int config_parse(json_t **out, const char *text, size_t len,
		 const char *origin, struct err *err);

/*
 * Read the file 'path' into 'cfg' (which must be CONFIG_INIT or
 * released): parse it, apply the environment's secrets, validate it
 * against schemas/config.json and cross-check it.
 *
 * The environment wins over the file: HPCLOOP_ORCHESTRATOR_URL,
 * HPCLOOP_ORCHESTRATOR_SECRET, HPCLOOP_DASHBOARD_PASSWORD_HASH, and for
 * each notification channel HPCLOOP_NOTIFY_<NAME>_TOKEN (the name upper
 * cased, '-' as '_').  Variables set to the empty string are ignored.
 *
 * The first schema error becomes the message ("<path>:<line>: <dotted
 * key path>: <message>") and details.errors holds them all.  Returns 0,
 * or -1 with config_invalid in 'err' and 'cfg' left empty.
 */
int config_load(struct config *cfg, const char *path, struct err *err);

/* Free what 'cfg' holds and make it CONFIG_INIT again; 'cfg' may be NULL. */
void config_release(struct config *cfg);

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
 * The job options for a job of 'study': the cluster's, then the
 * study's, then 'request' (an object, or NULL), each layer winning over
 * the one before; an empty string removes the key.  Numbers become
 * strings.  Keys must match ^[A-Za-z][A-Za-z0-9_-]*$ and values may not
 * contain a newline, CR or NUL.
 *
 * Returns 0 with a new object of strings in '*out', or -1 with '*out'
 * NULL and in 'err': not_found for an unknown 'study', spec_invalid
 * naming the key when the bad option came from 'request', config_invalid
 * when it came from the file.
 */
int config_job_options(json_t **out, const struct config *cfg,
		       const char *study, const json_t *request,
		       struct err *err);

/*
 * The agent context for 'study' (NULL: the global level only): global,
 * then cluster, then study; within each level the inline 'context'
 * first, then the files ('context_paths', or the study's
 * 'context_file').  Pieces are joined by one blank line.  A context file
 * that cannot be read is config_invalid naming it.
 *
 * Returns 0 with a new string in '*out' ("" when there is no context),
 * or -1 with '*out' NULL.
 */
int config_context(char **out, const struct config *cfg, const char *study,
		   struct err *err);

/*
 * The agent command for 'study' (NULL: global only), from the study,
 * else its cluster, else the file, else CONFIG_DEFAULT_AGENT, as a new
 * array of argv strings.  A string is split on whitespace; no shell is
 * involved, so quotes are not special.
 *
 * Returns 0, or -1 with '*out' NULL: not_found for an unknown 'study',
 * config_invalid for a command with no words.
 */
int config_agent_argv(json_t **out, const struct config *cfg,
		      const char *study, struct err *err);

/*
 * The environment variables of the cluster 'cluster' as a new object of
 * strings (numbers turned into strings); empty when the cluster sets
 * none or does not exist.
 */
json_t *config_environment(const struct config *cfg, const char *cluster);

/*
 * The directory holding the sprints of 'study': its 'sprints_dir', else
 * <cluster working_dir>/<study> (working_dir defaults to "sprints").
 * Relative paths are resolved against the config file's directory, but
 * left relative for an ssh cluster, where they are relative to the
 * remote home.  A new string, or NULL when 'study' does not exist.
 */
char *config_sprints_dir(const struct config *cfg, const char *study);

/*
 * A new deep copy of 'cfg->root' that is safe to print: every secret
 * (orchestrator_secret, notification tokens, the dashboard password
 * hash, Slack webhook URLs, passwords inside URLs, and cluster
 * environment values whose names contain KEY, TOKEN, SECRET or
 * PASSWORD) is replaced by "***".  Returns NULL when there is no root.
 */
json_t *config_redacted(const struct config *cfg);

/*
 * The text `hpcloop init` writes: a working local cluster and an example
 * study "demo" with a metric.  Static storage; loads cleanly.
 */
const char *config_default_text(void);

#endif
