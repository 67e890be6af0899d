/*
 * ledger.h: a study's results (the ledger of DESIGN §8), and the only
 * writer of the results table, as sprint.c is of sprints.
 *
 * One row per run: its metric, its status, what it tried (description,
 * parameters, commit) and what was learnt (analysis summary), the sprint,
 * loop and iteration it belongs to, its cost, and the decision that gave
 * its status.  The status is a closed list (enum ledger_status): keep,
 * discard, crash, timeout, and requeued for a run that was preempted or
 * requeued, which is neither a crash nor a run of the loop's budget.
 *
 * Decisions (ledger_decide) are pure: a value is compared with the best
 * kept so far in the study's metric direction, and kept only when its
 * gain exceeds the minimum delta.  When repeat runs of the baseline
 * exist (rows recorded with baseline set), the reference is also their
 * mean and the gain must exceed k standard deviations of those runs as
 * well (the noise floor autoresearch PR #560 proposed), and the decision
 * says so.
 *
 * A sprint that finishes is recorded from its results/metric.json
 * (ledger_record_sprint, called by refresh.c and by the loop), so that
 * nobody has to call record-result for it.  Every write is in the
 * caller's transaction with a "result.recorded" event.
 */
#ifndef HPCLOOP_LEDGER_H
#define HPCLOOP_LEDGER_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "err.h"

struct config;
struct journal;

/* ------------------------------------------------------------------ */
/* Statuses and metrics                                                */
/* ------------------------------------------------------------------ */

enum ledger_status {
	LEDGER_KEEP,	 /* improved on the best: the new best */
	LEDGER_DISCARD,	 /* ran, did not improve enough */
	LEDGER_CRASH,	 /* failed, or left no metric */
	LEDGER_TIMEOUT,	 /* ran past its time budget and was stopped */
	LEDGER_REQUEUED, /* preempted or requeued: will run again */
	LEDGER__COUNT
};

/* "keep", ..., "requeued"; static storage ("unknown" out of range). */
const char *ledger_status_name(enum ledger_status s);
/* Set '*out' to the status called 'name'; -1 when there is none. */
int ledger_status_parse(enum ledger_status *out, const char *name);
/* Whether a run of status 's' counts against a loop's budget. */
int ledger_status_counts(enum ledger_status s);

/* A study's metric, as its config declares it. */
struct ledger_metric {
	const char *name;	/* borrowed from the config */
	int maximize;		/* 1 when larger values are better */
	double min_improvement; /* the smallest gain that counts */
	double noise_k;		/* gains must pass k sd of baseline runs */
};

/*
 * The metric of the study config 'study' (borrowed; defaults filled in)
 * into 'out'.  Returns 0, or -1 with precondition_failed when the study
 * declares no metric.
 */
int ledger_metric_of(struct ledger_metric *out, const json_t *study,
		     const char *study_name, struct err *err);

/* ------------------------------------------------------------------ */
/* Decisions (pure)                                                    */
/* ------------------------------------------------------------------ */

/* What the ledger knows that a decision needs. */
struct ledger_reference {
	int have_best;	      /* a kept run with a metric exists */
	double best;	      /* its metric */
	int64_t best_id;      /* its row id */
	int baseline_runs;    /* runs recorded as the baseline */
	double baseline_mean; /* their mean */
	double baseline_sd;   /* their sample standard deviation */
};

/* What ledger_decide() concluded. */
struct ledger_verdict {
	enum ledger_status status;
	int have_reference;	    /* there was something to compare with */
	double reference;	    /* the value compared with */
	const char *reference_kind; /* "best", "baseline_mean", "none" */
	double gain;		    /* the improvement, > 0 when better */
	double min_delta;	    /* the minimum delta used */
	double threshold;	    /* what the gain had to exceed */
	int noise_used;		    /* the baseline's noise raised it */
	double noise_k;		    /* k */
	char reason[256];	    /* one sentence, for people and agents */
};

/*
 * The sample mean and standard deviation (n - 1) of the 'n' values 'v'
 * into '*mean_out' and '*sd_out' (0 for fewer than two values).
 */
void ledger_mean_sd(double *mean_out, double *sd_out, const double *v,
		    size_t n);

/*
 * Decide the status of a run with the metric 'value' ('have_value' 0: it
 * left none, a crash) against 'ref' for metric 'm' with the minimum
 * delta 'min_delta'.  The reference is the best kept value, or the
 * baseline's mean when two or more baseline runs exist and their mean
 * is better.  With no reference the run is kept (the first one).  It is
 * kept only when its gain exceeds the threshold: 'min_delta', raised to
 * 'm->noise_k' standard deviations of the baseline runs when there are
 * two or more.  An equal value is a discard.
 */
void ledger_decide(struct ledger_verdict *out, const struct ledger_metric *m,
		   double min_delta, const struct ledger_reference *ref,
		   int have_value, double value);

/* 'v' as a new object for output and for the row's decision column. */
json_t *ledger_verdict_json(const struct ledger_verdict *v,
			    const struct ledger_reference *ref);

/* ------------------------------------------------------------------ */
/* Writing (each in the caller's transaction)                          */
/* ------------------------------------------------------------------ */

/* A new row; everything borrowed, NULL or 0 when absent. */
struct ledger_entry {
	const char *study;     /* the study (its row must exist) */
	const char *loop_id;   /* the loop, or NULL */
	int iteration;	       /* the loop's iteration, 0 for none */
	const char *sprint_id; /* the sprint, or NULL */
	const char *idea_id;   /* the idea it ran, or NULL */
	int have_value;	       /* 'value' is set */
	double value;	       /* the metric */
	int have_status;       /* 'status' was given: not decided */
	enum ledger_status status;
	int have_min_delta; /* 'min_delta' overrides the study's */
	double min_delta;
	int baseline;		 /* a run of the unmodified baseline */
	const char *description; /* what the run tried */
	const char *summary;	 /* the analysis summary */
	const char *commit;	 /* a commit id, or NULL */
	const json_t *params;	 /* the idea's parameters, or NULL */
	int have_cost;		 /* 'cost_usd' is set */
	double cost_usd;
	const char *source; /* "record-result", "sprint" */
	const char *note;   /* why it has this status, or NULL */
};

/*
 * Record 'e' for the study metric 'm': its status decided against the
 * ledger unless given, the row inserted and a "result.recorded" event
 * appended.  A sprint that already has a row (other than a requeue) is
 * conflict.  '*row_out' (may be NULL) is the new row for output (new).
 */
int ledger_record(struct journal *j, json_t **row_out,
		  const struct ledger_metric *m, const struct ledger_entry *e,
		  struct err *err);

/*
 * Record the finished sprint 'sprint' (a sprint row, borrowed) of a
 * study of 'cfg' that declares a metric: completed with a number in
 * 'metric_doc' (the 'len' bytes of its results/metric.json, or NULL)
 * is decided; completed without one is a crash ('why_missing', may be
 * NULL, says why); timed out is timeout; failed, cancelled and lost are
 * crashes.  Nothing happens ('*row_out' NULL) for a study without a
 * metric, a sprint that is not finished, or one already recorded: so it
 * may be called again.  '*row_out' may be NULL.
 */
int ledger_record_sprint(struct journal *j, json_t **row_out,
			 const struct config *cfg, const json_t *sprint,
			 const char *metric_doc, size_t len,
			 const char *why_missing, struct err *err);

/*
 * Record that the sprint 'sprint' (borrowed row) was requeued: a row of
 * status requeued, which does not count against a loop's budget.
 */
int ledger_record_requeue(struct journal *j, const struct config *cfg,
			  const json_t *sprint, struct err *err);

/* ------------------------------------------------------------------ */
/* Reading                                                             */
/* ------------------------------------------------------------------ */

/* The reference of 'study' for metric 'm' into 'out'. */
int ledger_reference_of(struct journal *j, struct ledger_reference *out,
			const char *study, const struct ledger_metric *m,
			struct err *err);

/* A result row for output: a new object (see ledger.output.json). */
json_t *ledger_row_public(const json_t *row);

/* Which rows ledger_page() returns. */
struct ledger_query {
	const char *study;   /* the study's rows, or NULL */
	const char *loop_id; /* only this loop's, or NULL */
	const char *status;  /* only this status, or NULL */
	int limit;	     /* page size */
	int64_t after;	     /* rows with a larger id (the cursor) */
	int newest;	     /* 1: the newest 'limit', oldest first */
};

/*
 * One page of rows, oldest first, for output: '*rows_out' a new array,
 * '*next_out' the cursor of the next page (0 when this was the last).
 */
int ledger_page(struct journal *j, json_t **rows_out, int64_t *next_out,
		const struct ledger_query *q, struct err *err);

/*
 * The best kept row of 'study' (of one loop when 'loop_id' is set) for
 * metric 'm', for output: a new object, or NULL when there is none.
 */
int ledger_best(struct journal *j, json_t **row_out, const char *study,
		const char *loop_id, const struct ledger_metric *m,
		struct err *err);

/*
 * The counts of rows by status, with "total" and "runs" (those that
 * count against a budget) and the summed cost: a new object.
 */
int ledger_counts(struct journal *j, json_t **out, const char *study,
		  const char *loop_id, struct err *err);

/*
 * The trend over the last 'window' runs with a metric: {"window",
 * "slope" (per run, in the better direction when positive), "direction"
 * ("improving", "flat", "worsening", or "unknown" with fewer than three),
 * "runs_since_best", "keep_rate"}.  A new object.
 */
int ledger_trend(struct journal *j, json_t **out, const char *study,
		 const char *loop_id, const struct ledger_metric *m, int window,
		 struct err *err);

/*
 * The rows 'rows' (output rows) as tab-separated values with the
 * columns autoresearch users know: id, metric, status, description
 * (then commit).  Tabs and newlines in text become spaces; a row
 * without a metric shows 0.000000, as results.tsv does for a crash.  A
 * new string.
 */
char *ledger_tsv(const json_t *rows);

#endif
