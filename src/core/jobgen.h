/*
 * jobgen.h: everything a sprint's job needs, computed from the config
 * before anything is written or submitted: the layered job options, the
 * time limit, the agent command, the context, the rendered prompts and
 * the rendered job script (templates/job.sh).
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
	const char *code_dir;	 /* the code's checkout in it, or NULL */
};

struct jobgen {
	char *cluster;		/* the study's cluster name */
	char *scheduler;	/* "local", "slurm", "sge" */
	json_t *job_options;	/* layered options, strings */
	json_t *agent_argv;	/* array of strings */
	json_t *env;		/* cluster environment, strings */
	json_t *files;		/* {relative path: text} for the prompts */
	char *context;		/* the agent's context file text */
	char *script;		/* the rendered job script */
	int time_limit_s;	/* wall clock limit */
	int red_team_rounds;	/* red_team_max_rounds */
};

#define JOBGEN_INIT { NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, 0, 0 }

/*
 * Fill 'g' for the request 'req' under 'cfg'.  Bad request input is
 * spec_invalid naming the field (an unknown study is not_found); a
 * config problem is config_invalid.
 */
int jobgen_build(struct jobgen *g, const struct config *cfg,
		 const struct jobgen_request *req, struct err *err);
void jobgen_release(struct jobgen *g);

#endif
