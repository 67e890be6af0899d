/*
 * agent.h: running the configured agent command once, outside a job,
 * and reading its stream-json answer (see
 * DESIGN §7 and the stream-json facts the job script follows): for
 * doctor's dry run, and for callers that ask the agent a question
 * rather than give it a sprint.
 *
 * The command runs through the cluster's transport, so it finds the
 * agent on the cluster's PATH.  The cluster's environment reaches it on
 * standard input, never on a command line (values may be secrets): a
 * fixed sh snippet reads NAME=VALUE lines up to a blank line, exports
 * them and execs the argv; the rest of stdin is the prompt.  Only the
 * top-level fields of the stream's lines are read, as the job script
 * does, so text the agent wrote cannot pose as its result.
 */
#ifndef HPCLOOP_AGENT_H
#define HPCLOOP_AGENT_H

#include <jansson.h>

#include "err.h"

struct transport;

/* The most of the agent's output read. */
#define AGENT_OUTPUT_MAX (4 * 1024 * 1024)

/* What one run of the agent said. */
struct agent_answer {
	int exit_code;		/* as exec_result, -1 when killed */
	int lines;		/* lines on stdout */
	int json_lines;		/* ... that were JSON objects */
	int saw_init;		/* a system/init line arrived */
	int saw_result;		/* a result line arrived */
	int is_error;		/* the result was an error */
	char *subtype;		/* the result's subtype, or NULL (owned) */
	char *text;		/* the result text, or its first error
				   (owned), or NULL */
	char *session_id;	/* the top-level session id, or NULL */
	json_t *denied;		/* permission_denials tool names (array) */
	char *stderr_tail;	/* the end of stderr (owned), or NULL */
	double cost_usd;	/* the result's total_cost_usd, or 0 */
	int turns;		/* the result's num_turns, or 0 */
	int truncated;		/* stdout was longer than AGENT_OUTPUT_MAX */
};

#define AGENT_ANSWER_INIT                                                      \
	{ 0, 0, 0, 0, 0, 0, NULL, NULL, NULL, NULL, NULL, 0, 0, 0 }

void agent_answer_release(struct agent_answer *a);

/*
 * Read the stream-json output 'out' of 'len' bytes into 'a' (which
 * starts zeroed, with 'denied' an array or NULL): counts every line, and
 * takes the last result line's fields.
 */
void agent_read_stream(struct agent_answer *a, const char *out, size_t len);

/*
 * Run 'argv' (array of strings, borrowed) on 't' with the environment
 * 'env' (object NAME -> string, borrowed, may be NULL) and 'prompt' on
 * its standard input, for at most 'timeout_s' seconds, in 'cwd' (NULL:
 * the transport's default), and read its answer into 'out'.  A program
 * that cannot be found is not_found; a run past the timeout is timeout.
 * A run that answered anything, even an error, is a success here: read
 * 'out'.
 */
int agent_ask(struct transport *t, struct agent_answer *out,
	      const json_t *argv, const json_t *env, const char *prompt,
	      const char *cwd, int timeout_s, struct err *err);

/*
 * Whether the program 'argv'[0] resolves to an executable on 't' (its
 * PATH when it has no slash): 1 or 0 in '*found_out', the resolved
 * path (new) in '*path_out' when found.
 */
int agent_find_program(struct transport *t, int *found_out, char **path_out,
		       const json_t *argv, struct err *err);

#endif
