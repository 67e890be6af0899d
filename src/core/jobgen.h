/*
 * jobgen.h: everything a sprint's job needs, computed from the config
 * before anything is written or submitted: the layered job options, the
 * time limit, the agent command, the context, the rendered prompts and
 * the rendered job script (templates/job.sh).
 *
 * A study with an 'executor' runs that command instead of the agent
 * steps, with the run's parameters in its environment as
 * HPCLOOP_PARAM_<NAME> (see jobgen_param_name) and its metric taken from
 * its log into results/metric.json by the script.
 *
 * Only base64 text, checked identifiers and integers are put into the
 * script: the idea, the context, paths and the agent command are all
 * decoded at run time, so no user text is ever shell source (DESIGN §6).
 */
#ifndef HPCLOOP_JOBGEN_H
#define HPCLOOP_JOBGEN_H

#include <jansson.h>

#include "err.h"

struct config;

struct jobgen_request {
	const char *study;	 /* a study of the config */
	const char *idea;	 /* the research idea, any text */
	const json_t *job_options; /* request layer, or NULL */
	int time_limit_s;	 /* 0: from the study */
	const char *sprint_id;	 /* "sp-xxxxxx" */
	const char *sprint_dir;	 /* absolute (or remote-home relative) */
	const json_t *params;	 /* the run's parameters {name: value},
				    or NULL (the executor's environment) */
	const char *code_dir;	 /* the code's checkout in it, or NULL */
};

struct jobgen {
	char *cluster;		/* the study's cluster name */
	char *scheduler;	/* "local", "slurm", "sge" */
	json_t *job_options;	/* layered options, strings */
	json_t *agent_argv;	/* array of strings */
	json_t *executor_argv;	/* array of strings, or NULL: no executor */
	json_t *param_env;	/* {HPCLOOP_PARAM_X: text} for the executor */
	json_t *env;		/* cluster environment, strings */
	json_t *files;		/* {relative path: text} for the prompts */
	char *context;		/* the agent's context file text */
	char *script;		/* the rendered job script */
	int time_limit_s;	/* wall clock limit */
	int red_team_rounds;	/* red_team_max_rounds */
};

#define JOBGEN_INIT                                                        \
	{ NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, 0, 0 }

/*
 * Fill 'g' for the request 'req' under 'cfg'.  Bad request input is
 * spec_invalid naming the field (an unknown study is not_found); a
 * config problem is config_invalid.
 */
int jobgen_build(struct jobgen *g, const struct config *cfg,
		 const struct jobgen_request *req, struct err *err);
void jobgen_release(struct jobgen *g);

/* The longest parameter name kept in an environment variable's name. */
#define JOBGEN_PARAM_NAME_MAX 64
/* The most parameters exported to an executor. */
#define JOBGEN_PARAMS_MAX 64

/*
 * The environment variable of the parameter 'name' into 'out' (of
 * 'size' bytes, at least JOBGEN_PARAM_NAME_MAX + 16): "HPCLOOP_PARAM_"
 * and the name upper-cased, every byte other than a letter, a digit or
 * '_' turned into '_', cut to JOBGEN_PARAM_NAME_MAX bytes ("lr" gives
 * HPCLOOP_PARAM_LR, "batch-size" HPCLOOP_PARAM_BATCH_SIZE).
 */
void jobgen_param_name(char *out, size_t size, const char *name);

/*
 * The text of the parameter value 'v' as the executor sees it, new:
 * a string as it is, an integer in decimal, a real in its shortest
 * form that reads back exactly, true/false, "" for null, and compact
 * JSON for an array or an object.
 */
char *jobgen_param_text(const json_t *v);

#endif
