/*
 * sched.h: the batch scheduler interface, and the registry of the
 * schedulers hpcloop knows.
 *
 * A scheduler turns a job script into a job id (submit), tells the
 * state of many jobs in one call (query), cancels jobs, and finds the
 * jobs of a run again after a crash (find).  Each kind ("local" in
 * sched_local.c; "slurm" and "sge" later) fills in a const struct
 * sched_ops; sched_open() picks one by the cluster's "scheduler" key.
 * Every state comes with its evidence: a state nobody can confirm is
 * "unknown" or "lost", never success.
 *
 *	struct sched *s;
 *	if (sched_open(&s, t, cluster, "hpc", state_dir, err) < 0)
 *		return -1;
 *	if (sched_submit(s, &job_id, &req, err) < 0) ...
 *	if (sched_query(s, &states, ids, err) < 0) ...
 *	sched_close(s);
 */
#ifndef HPCLOOP_SCHED_H
#define HPCLOOP_SCHED_H

#include <jansson.h>

#include "err.h"
#include "transport.h"

enum sched_state {
	SCHED_PENDING,		/* queued, not started */
	SCHED_RUNNING,		/* started, not ended */
	SCHED_COMPLETED,	/* ended with exit status 0 */
	SCHED_FAILED,		/* ended non-zero or by a signal */
	SCHED_CANCELLED,	/* ended because it was cancelled */
	SCHED_TIMED_OUT,	/* ended because its time limit passed */
	SCHED_UNKNOWN,		/* the scheduler does not know the id */
	SCHED_LOST,		/* vanished without an exit record */
	SCHED_REQUEUED		/* back in the queue after a preemption or
				   requeue; not terminal */
};

/* "pending", "running", ..., "timed_out", "unknown", "lost"; static. */
const char *sched_state_name(enum sched_state s);
/* Set '*out' to the state called 'name'; -1 when there is none. */
int sched_state_from_name(enum sched_state *out, const char *name);
/* 1 when 's' can change no more (completed ... timed_out, lost). */
int sched_state_terminal(enum sched_state s);

/* What a submission needs.  Everything is borrowed. */
struct sched_submit {
	const char *name;	 /* job name, e.g. "hpl-sp-1a2b3c" */
	const char *comment;	 /* the run id, so find() can match it */
	const char *workdir;	 /* the job's directory; must exist */
	const char *script_path; /* a bash script inside 'workdir' */
	const char *stdout_path; /* where the job's output goes */
	const char *stderr_path; /* where the job's errors go */
	const json_t *job_options; /* object of string options, or NULL */
	int time_limit_s;	 /* 0: none (local then reads "time") */
	const json_t *env;	 /* object NAME -> string, or NULL */
};

struct sched;

/*
 * The operations of one kind of scheduler.  Each fills 'err' and
 * returns -1 on failure; out-parameters are new and NULL on failure.
 */
struct sched_ops {
	const char *name;	/* "local", "slurm", "sge" */
	/*
	 * 1 for a scheduler shared with other users (slurm, sge): its
	 * queries go through the shared query budget (observe.h); 0 for
	 * one that is cheap to ask on every call (local).
	 */
	int shared;
	/*
	 * Called by sched_open() once the handle is filled in, to check
	 * the cluster and set up 's->priv'; may be NULL.
	 */
	int (*open)(struct sched *s, struct err *err);
	/* Submit 'req'; '*job_id_out' is a new string. */
	int (*submit)(struct sched *s, char **job_id_out,
		      const struct sched_submit *req, struct err *err);
	/*
	 * The states of all the ids in the array 'job_ids' in one call:
	 * a new object {job_id: {"state": name, "evidence": {...}}}.
	 * Ids the scheduler does not know are "unknown", or "lost" when
	 * the evidence shows the job vanished without an exit record.
	 */
	int (*query)(struct sched *s, json_t **out, const json_t *job_ids,
		     struct err *err);
	/*
	 * Cancel the ids in the array 'job_ids'.  Ids that already ended
	 * or are not known are left alone: that is not an error here.
	 */
	int (*cancel)(struct sched *s, const json_t *job_ids,
		      struct err *err);
	/*
	 * The ids of the jobs whose name or comment contains 'run_id', as
	 * a new array (for reconciling after a crash between submit and
	 * the journal commit).
	 */
	int (*find)(struct sched *s, json_t **out, const char *run_id,
		    struct err *err);
	/* Free 's->priv'; may be NULL. */
	void (*release)(struct sched *s);
};

/* An open scheduler. */
struct sched {
	const struct sched_ops *ops;	/* the kind's static table */
	struct transport *t;		/* borrowed: outlives the handle */
	json_t *cluster;		/* owned reference to its config */
	char *cluster_name;		/* owned */
	char *state_dir;		/* owned: where the kind keeps files */
	void *priv;			/* the kind's own data */
};

/*
 * Open the scheduler named by 'cluster'["scheduler"] ("local" when
 * absent, or when 'cluster' is NULL) reached through the transport 't'
 * (borrowed; it must outlive the scheduler).  'cluster_name' names it in
 * messages.  'state_dir' is where the kind may keep its own files: the
 * local scheduler keeps its job records there (e.g.
 * <working_dir>/.hpcloop-local).  An unknown scheduler is
 * ERR_CONFIG_INVALID.  '*out' is new (free it with sched_close()).
 */
int sched_open(struct sched **out, struct transport *t,
	       const json_t *cluster, const char *cluster_name,
	       const char *state_dir, struct err *err);

/* Close 's' (which may be NULL). */
void sched_close(struct sched *s);

/*
 * Make the kind 'ops' (static) known to sched_open(), replacing one of
 * the same name.  Call at start-up, before any thread starts.  "local"
 * is always known.
 */
void sched_register(const struct sched_ops *ops);

/* The calls through 's->ops', for callers' convenience. */
int sched_submit(struct sched *s, char **job_id_out,
		 const struct sched_submit *req, struct err *err);
int sched_query(struct sched *s, json_t **out, const json_t *job_ids,
		struct err *err);
int sched_cancel(struct sched *s, const json_t *job_ids, struct err *err);
int sched_find(struct sched *s, json_t **out, const char *run_id,
	       struct err *err);

/* The local scheduler's table (sched_local.c). */
extern const struct sched_ops sched_local_ops;

#endif
