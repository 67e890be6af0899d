/*
 * idea.h: the next idea of a study or loop, and the only writer of the
 * ideas table.
 *
 * Three modes (DESIGN §8): "agent" runs the configured agent command
 * with the study's context, the ledger's digest, the recent sprint
 * summaries and the newest meta-analysis hypotheses, and reads an idea
 * object {idea, rationale?, params?} from its answer (agent_question.h: an
 * agent error or an empty answer is agent_failed, never an idea);
 * "builtin" asks the proposer (proposer.h) for the next point of the
 * study's parameter space, with no model; "brief" only assembles the
 * evidence, for a calling agent to decide.  Every idea is kept with its
 * mode and its inputs (what it was made from), with an "idea.proposed"
 * event; at most one per loop iteration.
 */
#ifndef HPCLOOP_IDEA_H
#define HPCLOOP_IDEA_H

#include <jansson.h>

#include "err.h"
#include "idem.h"

struct config;
struct journal;

#define IDEA_ID_MAX 16
/* The longest idea text an agent may give. */
#define IDEA_TEXT_MAX 20000
/* The recent sprints whose summaries the evidence holds. */
#define IDEA_SUMMARIES 5

/*
 * The evidence an idea is made from for 'study' (and 'loop_id', may be
 * NULL), with 'guidance' (may be NULL): a new object {digest,
 * summaries, hypotheses, params, guidance}, bounded like a digest.
 */
int idea_evidence(struct journal *j, json_t **out, const struct config *cfg,
		  const char *study, const char *loop_id, const char *guidance,
		  struct err *err);

/*
 * Propose an idea for 'study' in 'mode' ("agent" or "builtin"), outside
 * a transaction (the agent runs with no lock held): '*idea_out' is a new
 * object {text, params, rationale, mode, inputs, cost_usd}, not stored.
 * builtin needs the study's params and metric (precondition_failed
 * otherwise); agent failures are agent_failed.
 */
int idea_propose(struct journal *j, json_t **idea_out, const struct config *cfg,
		 const char *study, const char *loop_id, const char *guidance,
		 const char *mode, struct err *err);

/*
 * Store 'idea' (as idea_propose made it) for 'study', 'loop_id' and
 * 'iteration' (0: none) with its "idea.proposed" event, in the caller's
 * transaction.  '*row_out' is its view (new).
 */
int idea_store(struct journal *j, json_t **row_out, const json_t *idea,
	       const char *study, const char *loop_id, int iteration,
	       struct err *err);

/*
 * The idea of iteration 'iteration' of loop 'loop_id' (of 'study'),
 * proposed once however many callers ask at the same time: the key 'key'
 * of 'primitive' (idem.h) is claimed in a transaction of its own, the
 * idea proposed in 'mode' with no lock held, then stored with the key's
 * record.  '*view_out' is the idea (new), or NULL with '*busy_out' set
 * when another live caller is proposing it; '*fresh_out' says whether
 * this call proposed it.  A failed proposal frees the key for the next
 * caller.
 */
int idea_for_iteration(struct journal *j, json_t **view_out, int *busy_out,
		       int *fresh_out, const struct config *cfg,
		       const char *primitive, const struct idem_key *key,
		       const char *study, const char *loop_id, int iteration,
		       const char *mode, struct err *err);

/* The view of the idea 'id' (new), or NULL when there is none. */
int idea_get(struct journal *j, json_t **row_out, const char *id,
	     struct err *err);

/* Link the idea 'id' to the sprint that runs it. */
int idea_set_sprint(struct journal *j, const char *id, const char *sprint_id,
		    struct err *err);

#endif
