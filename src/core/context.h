/*
 * context.h: what a job of a study is given, from the three levels of
 * hpcloop.yaml (global, then the study's cluster, then the study): the
 * agent context text, the agent command, the job options, the job's
 * environment and the directory its sprints live in.  Each function
 * reads a loaded config (config.h), so defaults are already filled in.
 */
#ifndef HPCLOOP_CONTEXT_H
#define HPCLOOP_CONTEXT_H

#include <jansson.h>

#include "err.h"

struct config;

/*
 * The agent context for 'study' (NULL: the global level only): global,
 * then cluster, then study; within each level the inline 'context'
 * first, then the files ('context_paths', or the study's
 * 'context_file', relative to the config file's directory).  Pieces are
 * joined by one blank line, trailing blanks dropped.  A context file
 * that cannot be read, or context larger than 16 MiB, is config_invalid
 * naming the key.
 *
 * Returns 0 with a new string in '*out' ("" when there is no context),
 * or -1 with '*out' NULL: not_found for an unknown 'study'.
 */
int context_text(char **out, const struct config *cfg, const char *study,
		 struct err *err);

/*
 * The agent command for 'study' (NULL: global only), from the study,
 * else its cluster, else the file (whose default the schema gives), as
 * a new array of argv strings.  A string is split on whitespace; no
 * shell is involved, so quotes are not special.  For Claude Code (a
 * program named claude) the tool permissions of agent_tools (study,
 * else cluster, else global) follow as --allowedTools and
 * --disallowedTools, unless the command gives those flags itself.
 *
 * Returns 0, or -1 with '*out' NULL: not_found for an unknown 'study',
 * config_invalid for a command with no words.
 */
int context_agent_argv(json_t **out, const struct config *cfg,
		       const char *study, struct err *err);

/*
 * The executor of 'study' (its 'executor': the command a job runs
 * instead of the agent steps) as a new array of argv strings, split as
 * the agent command is, in '*out'; NULL when the study has none.
 *
 * Returns 0, or -1 with '*out' NULL: not_found for an unknown 'study',
 * config_invalid for a command with no words.
 */
int context_executor_argv(json_t **out, const struct config *cfg,
			  const char *study, struct err *err);

/*
 * The job options for a job of 'study': the cluster's, then the
 * study's, then 'request' (an object, or NULL), each layer winning over
 * the one before; an empty string removes the key.  Numbers become
 * strings.  The file's options were checked by config_load(); the
 * request's must pass config_job_option_problem().
 *
 * Returns 0 with a new object of strings in '*out', or -1 with '*out'
 * NULL and in 'err': not_found for an unknown 'study', spec_invalid
 * naming the key (details.key) for a bad option in 'request'.
 */
int context_job_options(json_t **out, const struct config *cfg,
			const char *study, const json_t *request,
			struct err *err);

/*
 * The environment variables of the cluster 'cluster' as a new object of
 * strings (numbers turned into strings); empty when the cluster sets
 * none or does not exist.
 */
json_t *context_environment(const struct config *cfg, const char *cluster);

/*
 * The directory holding the sprints of 'study': its 'sprints_dir', else
 * <cluster working_dir>/<study>.  Relative paths are resolved against
 * the config file's directory, but left relative for an ssh cluster,
 * where they are relative to the remote home.  A new string, or NULL
 * when 'study' does not exist.
 */
char *context_sprints_dir(const struct config *cfg, const char *study);

#endif
