/*
 * agent_question.h: asking the configured agent one question on this
 * machine, for the loop's agent proposer and its meta-analysis.
 *
 * The agent command (context_agent_argv) runs through agent_ask()
 * (agent.h) on the local transport (an argv, never a shell), the prompt
 * on its standard input, its output bounded and its time limited.  Its
 * answer is the stream-json "result" line of the CLI (DESIGN §7); what
 * the question wants is a JSON object inside the result text, found by
 * agent_find_object().  Everything that is not an answer is
 * agent_failed: the command missing or failing, no result line, an
 * error result, an empty text.  An error message never becomes an
 * answer.
 */
#ifndef HPCLOOP_AGENT_QUESTION_H
#define HPCLOOP_AGENT_QUESTION_H

#include <jansson.h>

#include "agent.h"
#include "err.h"

/* How many '{' of a text agent_find_object() tries. */
#define AGENT_FIND_TRIES 256

/*
 * Whether the answer 'a' (read by agent_ask or agent_read_stream) is an
 * answer: 0, or -1 with agent_failed (no result line, an error result
 * with its subtype and first error, an empty result text, more output
 * than AGENT_OUTPUT_MAX).
 */
int agent_answer_check(const struct agent_answer *a, struct err *err);

/*
 * Run 'argv' (a JSON array of strings, borrowed) on this machine in the
 * directory 'cwd' with 'prompt' on its standard input for at most
 * 'timeout_s' seconds (0: none), and read its answer into 'out'.  A
 * command that cannot be run, exits non-zero, runs out of time or does
 * not answer (agent_answer_check) is agent_failed, with its exit code
 * and the tail of its standard error in details.
 */
int agent_question(struct agent_answer *out, const json_t *argv,
		   const char *cwd, const char *prompt, int timeout_s,
		   struct err *err);

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
