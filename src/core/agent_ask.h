/*
 * agent_ask.h: asking the configured agent one question on this
 * machine, for the loop's agent proposer and its meta-analysis.
 *
 * The agent command (context_agent_argv) runs through the local
 * transport's exec (an argv, never a shell), the prompt on its standard
 * input, its output bounded and its time limited.  Its answer is the
 * stream-json "result" line of the CLI (DESIGN §7); what the question
 * wants is a JSON object inside the result text, found by
 * agent_find_object().  Everything that is not an answer is
 * agent_failed: the command missing or failing, no result line, an
 * error result, an empty text.  An error message never becomes an
 * answer.
 */
#ifndef HPCLOOP_AGENT_ASK_H
#define HPCLOOP_AGENT_ASK_H

#include <stddef.h>

#include <jansson.h>

#include "err.h"

/* The most of the agent's output kept (more is agent_failed). */
#define AGENT_ASK_OUT_MAX (4 * 1024 * 1024)
/* How many '{' of a text agent_find_object() tries. */
#define AGENT_FIND_TRIES 256

/* What the agent answered. */
struct agent_answer {
	char *text;	 /* the result text (owned) */
	double cost_usd; /* total_cost_usd of the result, or 0 */
	int turns;	 /* num_turns, or 0 */
};

#define AGENT_ANSWER_INIT                                                      \
	{                                                                      \
		NULL, 0, 0                                                     \
	}

void agent_answer_release(struct agent_answer *a);

/*
 * The answer in the stream-json output of 'len' bytes at 'stream' (the
 * last line whose top-level "type" is "result") into 'out'.  Returns 0,
 * or -1 with agent_failed: no result line, an error result (its subtype
 * and "errors" in details), an empty result text.
 */
int agent_parse_stream(struct agent_answer *out, const char *stream, size_t len,
		       struct err *err);

/*
 * Run 'argv' (a JSON array of strings, borrowed) in the directory 'cwd'
 * with 'prompt' on its standard input for at most 'timeout_s' seconds
 * (0: none), and parse its answer into 'out'.  A command that cannot be
 * run, exits non-zero, runs out of time or writes more than
 * AGENT_ASK_OUT_MAX is agent_failed, with its exit code and the tail of
 * its standard error in details.
 */
int agent_ask(struct agent_answer *out, const json_t *argv, const char *cwd,
	      const char *prompt, int timeout_s, struct err *err);

/*
 * The directory the agent answers in, "agent/" beside the journal at
 * 'journal_path', made (0700) when missing: its path, new, in '*out'.
 */
int agent_workdir(char **out, const char *journal_path, struct err *err);

/*
 * The first JSON object written in 'text' (in a code fence or not) that
 * has the member 'key': a new reference, or NULL.
 */
json_t *agent_find_object(const char *text, const char *key);

#endif
