/*
 * gen-next-idea: the next idea of a study or a loop, in one of three
 * modes (idea.h): agent (the configured agent reads the evidence and
 * answers an idea object), builtin (the next point of the study's
 * parameter space, no model), brief (the evidence, for the calling
 * agent to decide).  An idea is journaled with its mode and inputs; a
 * brief is journaled as an "idea.briefed" event.  The agent runs with
 * no journal lock held.
 */
#include <string.h>

#include "config.h"
#include "idea.h"
#include "journal.h"
#include "loop.h"
#include "primitive.h"
#include "sprint.h"
#include "banned.h"

/* What a calling agent is asked to do with a brief. */
#define BRIEF_INSTRUCTIONS                                                   \
	"Choose one concrete experiment that the evidence suggests may "     \
	"improve the metric (weigh the hypotheses; do not repeat a "         \
	"discarded result unless something differs), then submit it with " \
	"`hpcloop submit-flow --spec '{\"study\": STUDY, \"idea\": TEXT}'` " \
	"and record what it gave with `hpcloop record-result` if the "       \
	"sprint does not write results/metric.json."

/* Journal the brief of 'study' as an event (its own transaction). */
static int note_brief(struct ctx *ctx, const char *study,
		      const char *loop_id, const json_t *evidence,
		      struct err *err)
{
	json_t *ev = json_pack("{s:s, s:s?, s:O, s:b}", "study", study,
			       "loop_id", loop_id, "meta_id",
			       json_object_get(evidence, "meta_id"),
			       "guidance",
			       json_is_string(json_object_get(evidence,
							      "guidance")));
	int r = journal_begin(ctx->journal, err);

	if (r == 0)
		r = journal_event(ctx->journal, NULL, "idea.briefed",
				  loop_id ? loop_id : study, ev, err);
	if (r == 0)
		r = journal_commit(ctx->journal, err);
	else
		journal_rollback(ctx->journal);
	json_decref(ev);
	return r;
}

/* Store 'idea' in a transaction of its own; '*view_out' is new. */
static int store(struct ctx *ctx, json_t **view_out, const json_t *idea,
		 const char *study, const char *loop_id, struct err *err)
{
	if (journal_begin(ctx->journal, err) < 0)
		return -1;
	if (sprint_ensure_study(ctx->journal, study,
				json_string_value(json_object_get(
					config_study(ctx->config, study),
					"cluster")),
				err) < 0 ||
	    idea_store(ctx->journal, view_out, idea, study, loop_id, 0,
		       err) < 0 ||
	    journal_commit(ctx->journal, err) < 0) {
		journal_rollback(ctx->journal);
		json_decref(*view_out);
		*view_out = NULL;
		return -1;
	}
	return 0;
}

static int gen_next_idea_run(struct ctx *ctx, const json_t *spec,
			     json_t **data, struct err *err)
{
	const char *mode = json_string_value(json_object_get(spec, "mode"));
	const char *guidance = json_string_value(json_object_get(spec,
								 "guidance"));
	const char *study, *loop_id = NULL;
	json_t *loop = NULL, *evidence = NULL, *idea = NULL, *view = NULL;
	int r = -1;

	if (loop_scope(ctx->journal, &study, &loop, ctx->config,
		       json_string_value(json_object_get(spec, "study")),
		       json_string_value(json_object_get(spec, "loop_id")),
		       err) < 0)
		goto out;
	if (loop)
		loop_id = json_string_value(json_object_get(loop, "id"));
	if (!strcmp(mode, "brief")) {
		if (idea_evidence(ctx->journal, &evidence, ctx->config, study,
				  loop_id, guidance, err) < 0 ||
		    note_brief(ctx, study, loop_id, evidence, err) < 0)
			goto out;
		*data = json_pack("{s:s, s:s, s:n, s:O, s:s}", "mode", mode,
				  "study", study, "idea", "evidence", evidence,
				  "instructions", BRIEF_INSTRUCTIONS);
		r = 0;
		goto out;
	}
	if (idea_propose(ctx->journal, &idea, ctx->config, study, loop_id,
			 guidance, mode, err) < 0 ||
	    store(ctx, &view, idea, study, loop_id, err) < 0)
		goto out;
	*data = json_pack("{s:s, s:s, s:O}", "mode", mode, "study", study,
			  "idea", view);
	r = 0;
out:
	json_decref(loop);
	json_decref(evidence);
	json_decref(idea);
	json_decref(view);
	return r;
}

static const enum err_code gen_next_idea_errors[] = {
	ERR_NOT_FOUND, ERR_PRECONDITION_FAILED, ERR_AGENT_FAILED, ERR_NONE
};

const struct primitive prim_gen_next_idea = {
	.name = "gen-next-idea",
	.summary = "Propose the next idea of a study or loop: by the agent, "
		   "by the builtin proposer, or as a brief",
	.description =
		"`agent` runs the configured agent command (on this "
		"machine, its output bounded, for at most the study's "
		"agent_timeout_s) with the study context, the ledger's "
		"digest, the recent sprint summaries and the newest "
		"meta-analysis hypotheses, and reads an idea object "
		"{idea, rationale, params} from its answer; an agent error "
		"or an answer without one is `agent_failed`, never an idea. "
		"`builtin` proposes the next point of the study's `params` "
		"with no model: a seeded Halton design first, then local "
		"search around the best with a radius that shrinks while "
		"runs bring no gain, and an untried region after "
		"explore_after runs without one. `brief` returns that "
		"evidence for the calling agent to decide, and writes only "
		"an `idea.briefed` event. Every idea is journaled with its "
		"mode and inputs (`idea.proposed`).",
	.example = "{\"study\": \"demo\", \"mode\": \"brief\"}",
	.flags = PRIM_MUTATES | PRIM_NEEDS_JOURNAL | PRIM_NEEDS_CONFIG |
		 PRIM_OWN_TX | PRIM_HTTP,
	.errors = gen_next_idea_errors,
	.handler = gen_next_idea_run,
};
