/*
 * meta.h: meta-analysis of a study's ledger, deep-loop's outer tier: now
 * and then, step back from the runs and rank hypotheses about what
 * works, for the next idea to weigh.
 *
 * It is due (per study, from the config) every 'meta_every' results
 * since the last one, or after a kept result whose gain over the best
 * before it exceeds 'meta_gain'.  It runs in one of three ways: "agent"
 * (the agent command reads the evidence and answers ranked hypotheses),
 * "builtin" (no model: rank correlations of each parameter with the
 * metric, the best choice of each choice, the crash rate, stagnation and
 * the best run), or "given" (a calling agent that read the brief records
 * its own).  Each analysis is a row of meta_analyses with a
 * "meta.analyzed" event, at most one per study, ledger position and
 * mode, and is also written as Markdown to next-hypotheses.md in the
 * study's sprints directory (through its cluster's transport), where the
 * next sprint's agent can read it.
 */
#ifndef HPCLOOP_META_H
#define HPCLOOP_META_H

#include <stdint.h>

#include <jansson.h>

#include "err.h"

struct config;
struct journal;
struct ledger_metric;
struct proposer_space;

/* The file an analysis is written to, in the study's sprints directory. */
#define META_FILE "next-hypotheses.md"
/* The most hypotheses kept, and the ledger rows an analysis reads. */
#define META_HYPOTHESES_MAX 10
#define META_ROWS_MAX 200
/* The longest hypothesis text kept. */
#define META_TEXT_MAX 1000

/* Whether a meta-analysis is due, and why. */
struct meta_due {
	int due;	       /* 1 when one should run now */
	const char *reason;    /* "every", "gain", or NULL */
	int since;	       /* results since the last analysis */
	int every;	       /* meta_every */
	double gain;	       /* the largest gain of a kept result since */
	double gain_threshold; /* meta_gain (0: off) */
	int64_t last_after;    /* the ledger position of the last one */
	int64_t newest;	       /* the newest result id now */
};

/*
 * The pure part of the due check: fill 'out->due' and 'out->reason'
 * from its counts and thresholds.
 */
void meta_due_decide(struct meta_due *out);

/*
 * Whether a meta-analysis of 'study' (its config 'conf') is due, into
 * 'out'.  Results that do not count (requeued) are left out.
 */
int meta_due_check(struct journal *j, struct meta_due *out, const json_t *conf,
		   const char *study, struct err *err);

/*
 * Ranked hypotheses from the ledger rows 'rows' (output rows, oldest
 * first; borrowed) for metric 'm', with the parameter space 'space'
 * (NULL: none declared) and the stagnation count 'explore_after': a new
 * array of {rank, text, confidence, kind}, best first, at least one.
 */
json_t *meta_builtin(const json_t *rows, const struct ledger_metric *m,
		     const struct proposer_space *space, int explore_after);

/*
 * Sort the hypotheses 'hyps' (objects with a "confidence") best first,
 * keep at most META_HYPOTHESES_MAX and number them ("rank" from 1).
 */
void meta_rank(json_t *hyps);

/*
 * The evidence of a meta-analysis of 'study' (the latest rows, counts,
 * trend, the parameter space and the last hypotheses): a new object.
 */
int meta_evidence(struct journal *j, json_t **out, const struct config *cfg,
		  const char *study, struct err *err);

/*
 * Run a meta-analysis of 'study' ('loop_id', may be NULL, names the
 * loop that asked) in 'mode' ("agent", "builtin"; "given" with the
 * caller's 'given' array of {text, confidence?}), when due or when
 * 'force' is set, outside a transaction (the agent runs with no lock).
 * '*out' is a new object {due, analysis} where analysis is the stored
 * row's view (or null when nothing was due); one that already exists
 * for this ledger position and mode is returned as it is, with "new":
 * false.  Writing next-hypotheses.md failing is not an error: it is
 * added to 'partial' (an array, may be NULL) as {code, detail}.
 */
int meta_run(struct journal *j, json_t **out, const struct config *cfg,
	     const char *study, const char *loop_id, const char *mode,
	     const json_t *given, int force, json_t *partial, struct err *err);

/*
 * The newest meta-analysis of 'study' as a view (new), or NULL when
 * there is none.
 */
int meta_latest(struct journal *j, json_t **out, const char *study,
		struct err *err);

#endif
