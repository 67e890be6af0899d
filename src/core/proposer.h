/*
 * proposer.h: the builtin proposer of gen-next-idea, which needs no
 * model: it picks the next point of the parameter space a study
 * declares (config key studies.NAME.params) from what the ledger holds.
 * Everything here is a pure function of its inputs, so the same ledger
 * and seed give the same proposal, and the unit tests can pin it down.
 *
 * Every parameter maps to [0, 1): a float or int range linearly (or by
 * its logarithm with log: true), a choice by its index.  The search is
 * in that unit cube:
 *
 *  1. Initial design: the first 'initial_points' proposals walk a
 *     Halton sequence (bases 2, 3, 5, ...) shifted by a random offset
 *     per dimension drawn from the seed (a Cranley-Patterson rotation),
 *     which fills the space evenly, unlike independent random draws.
 *  2. Local search: around the best point so far, each coordinate moves
 *     by at most the radius, which shrinks by PROPOSER_SHRINK for every
 *     run since the best improved (from PROPOSER_RADIUS to at least
 *     PROPOSER_RADIUS_MIN); a choice changes with that radius as its
 *     probability.  The first candidate that was never tried is taken.
 *  3. Stagnation guard: after 'explore_after' runs without a gain (and
 *     every 'explore_after' runs after that), the next proposal jumps
 *     to the next untried point of the Halton sequence instead, as the
 *     exploratory loops' temperature scheduler forces a swing.
 */
#ifndef HPCLOOP_PROPOSER_H
#define HPCLOOP_PROPOSER_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "err.h"

/* The most parameters a space may have (the schema's maxProperties). */
#define PROPOSER_DIMS_MAX 32
/* The local search's radius in the unit cube, and how it shrinks. */
#define PROPOSER_RADIUS 0.25
#define PROPOSER_SHRINK 0.7
#define PROPOSER_RADIUS_MIN 0.02
/* Candidates drawn per local proposal before the farthest is taken. */
#define PROPOSER_CANDIDATES 32

enum proposer_kind {
	PROPOSER_FLOAT,	 /* a real number in [low, high] */
	PROPOSER_INT,	 /* an integer in [low, high] */
	PROPOSER_CHOICE, /* one of 'choices' */
};

/* One parameter of the space. */
struct proposer_param {
	const char *name; /* borrowed from the config */
	enum proposer_kind kind;
	double low, high;      /* the range (float, int) */
	int log;	       /* map by the logarithm (low > 0) */
	const json_t *choices; /* the choices (borrowed array) */
};

/* A parameter space: its parameters sorted by name. */
struct proposer_space {
	struct proposer_param params[PROPOSER_DIMS_MAX];
	size_t n;
};

/*
 * The space declared by 'params' (a config object {NAME: {type, low,
 * high, log, choices}}, borrowed: 'out' points into it) into 'out'.
 * What the schema cannot say is checked here: low < high, log only with
 * low > 0, an int range holding an integer, choices present for a
 * choice.  Errors are config_invalid naming 'where' and the parameter.
 */
int proposer_space_parse(struct proposer_space *out, const json_t *params,
			 const char *where, struct err *err);

/*
 * The point of 's' at the unit coordinates 'u' (n of them) as a new
 * object {NAME: value}: floats rounded to 4 significant digits, ints
 * rounded, choices as given.
 */
json_t *proposer_decode(const struct proposer_space *s, const double *u);

/*
 * The unit coordinates of the point 'point' ({NAME: value}, borrowed)
 * into 'u'.  Returns 0, or -1 when a parameter is missing or out of its
 * range (such a row of the ledger is not used).
 */
int proposer_encode(const struct proposer_space *s, double *u,
		    const json_t *point);

/* The radical inverse of 'i' in base 'base' (Halton's coordinate). */
double proposer_radical_inverse(uint64_t i, unsigned base);

/* The next value of the splitmix64 generator with state '*state'. */
uint64_t proposer_rand(uint64_t *state);

/* What the proposer is told. */
struct proposer_input {
	const struct proposer_space *space;
	const json_t *history;	/* array of {params, metric, status}, oldest
				   first (ledger rows; borrowed) */
	int maximize;		/* the metric's direction */
	double min_improvement; /* the gain that counts */
	uint64_t seed;		/* the study's seed */
	int index;		/* builtin ideas proposed so far */
	int initial_points;	/* the size of the initial design */
	int explore_after;	/* K of the stagnation guard */
};

/* What it proposes. */
struct proposer_choice {
	json_t *params;	  /* the point (new) */
	const char *move; /* "initial", "local", "explore" */
	double radius;	  /* the local search's radius, else 0 */
	int stale;	  /* runs since the best last improved */
	int evaluated;	  /* rows of the history it could use */
	json_t *best;	  /* the best point's params (new), or NULL */
	char reason[256]; /* one sentence */
};

void proposer_choice_release(struct proposer_choice *c);

/*
 * Propose the next point for 'in' into 'out' (release it with
 * proposer_choice_release()).  Never fails: a space always has points.
 */
void proposer_next(struct proposer_choice *out,
		   const struct proposer_input *in);

/*
 * The idea text for the choice 'c': "Set lr=0.0003, depth=4 (builtin
 * proposer: ...)".  A new string.
 */
char *proposer_idea_text(const struct proposer_space *s,
			 const struct proposer_choice *c);

#endif
