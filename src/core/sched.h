/*
 * sched.h: the batch scheduler interface, and the table of the
 * schedulers hpcloop knows.
 *
 * A scheduler writes the header lines of a job script from the job
 * options (directives), turns a job script into a job id (submit), tells
 * the state of many jobs in one call (query), cancels jobs, and finds
 * the jobs of a run again after a crash (find).  Each kind ("local" in
 * sched_local.c, "slurm" in sched_slurm.c; "sge" later) fills in a const struct
 * sched_ops, and sched.c lists them all in one static table;
 * sched_open() picks one by the cluster's "scheduler" key.  Every state
 * comes with its evidence: a state nobody can confirm is "unknown" or
 * "lost", never success.
 *
 *	struct sched *s;
 *	if (sched_open(&s, t, cluster, "hpc", state_dir, err) < 0)
 *		return -1;
 *	if (sched_submit(s, &job_id, &req, err) < 0) ...
 *	if (sched_query(s, &states, ids, err) < 0) ...
 *	sched_close(s);
 *
 * Errors every operation may give: ERR_SCHEDULER_UNAVAILABLE when the
 * scheduler did not answer (retry later), ERR_SCHEDULER_REJECTED when it
 * refused what was asked (the message names why), ERR_IO_FAILED when a
 * file of this machine could not be read or written, the transport's own
 * codes (transport.h) when the cluster could not be reached, and
 * ERR_INTERNAL for a caller's mistake (an argument of the wrong type).
 */
#ifndef HPCLOOP_SCHED_H
#define HPCLOOP_SCHED_H

#include <jansson.h>

#include "buf.h"
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
				   a requeue; it will start again */
};

/* "pending", "running", ..., "lost", "requeued"; static. */
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
	/*
	 * An array of 'array_size' tasks, indexed 1..array_size on every
	 * kind (SGE cannot start at 0); each task sees its index in
	 * $SLURM_ARRAY_TASK_ID, $SGE_TASK_ID or $HPCLOOP_ARRAY_TASK_ID
	 * (local), and has the job id sched_task_id() makes.  0: one job.
	 */
	int array_size;
	int array_limit;	 /* at most this many tasks of the array at
				    once (SLURM's %k, SGE's -tc); 0: no
				    limit but the scheduler's */
	const json_t *after;	 /* array of job ids (whole arrays or
				    tasks) that must all have ended, in any
				    way, before this starts (SLURM's
				    afterany, SGE's -hold_jid); NULL: none */
	int signal_grace_s;	 /* warn the job this many seconds before
				    its time limit (0: the kind's default) */
	int requeue;		 /* 1: the scheduler may requeue the job
				    (preemption); 0: never */
};

struct sched;

/*
 * The operations of one kind of scheduler.  Each fills 'err' and
 * returns -1 on failure; out-parameters are new, owned by the caller,
 * and NULL (or empty) on failure.  Every operation but 'directives'
 * takes the handle opened by sched_open(); the sched_<op>() functions
 * below check their arguments and call these.
 */
struct sched_ops {
	const char *name;	/* "local", "slurm", "sge" */
	/*
	 * What joins an array's job id and a task index in the id of one
	 * task: '_' ("123_4": local, slurm) or '.' ("123.4": sge).
	 */
	char task_sep;
	/* The variable a task of an array finds its index in. */
	const char *task_index_env;
	/*
	 * The command that prints the scheduler's limits ("scontrol show
	 * config"), and the names to read from it, NULL-ended; NULL for a
	 * kind with none (local).  sched_limits() reads them.
	 */
	const char *const *limits_argv;
	const struct sched_limit *limits;
	/*
	 * 1 for a scheduler shared with other users (slurm, sge): its
	 * queries go through the shared query budget of the journal
	 * (observe.h), never faster than the cluster's
	 * query_interval_s.  0 for one that only this account uses
	 * (local): the caller may query it on every call.
	 */
	int shared;
	/*
	 * Called by sched_open() once the handle is filled in, to check
	 * the cluster's settings and set up 's->priv'; may be NULL.  A
	 * setting that is missing or wrong is ERR_CONFIG_INVALID naming
	 * the key ("clusters.hpc.max_concurrent_jobs is missing").
	 */
	int (*open)(struct sched *s, struct err *err);
	/*
	 * Append to 'out' (a buf set up by the caller with its own limit)
	 * the lines the scheduler reads in the header of a job script,
	 * each ending in '\n' ("#SBATCH --mem=4G\n" for slurm, "#$ -l
	 * h_vmem=4G\n" for sge), from 'req'->job_options and
	 * 'req'->time_limit_s; the other fields of 'req' may be NULL and
	 * are not read.  A pure function: no handle, no I/O, the same
	 * answer for the same 'req'.  The keys and values of job_options
	 * were already checked by config_job_options() (identifiers;
	 * values without newlines).  An option the kind cannot express is
	 * ERR_SCHEDULER_REJECTED naming it; more text than the limit of
	 * 'out' is ERR_SPEC_INVALID.  On failure 'out' holds what it held
	 * before.  A kind with no header syntax (local) appends nothing
	 * and refuses nothing.
	 */
	int (*directives)(struct buf *out, const struct sched_submit *req,
			  struct err *err);
	/*
	 * Submit 'req'; '*job_id_out' is a new string.  When it fails,
	 * nothing was submitted, or find() shows what was.  A bad job
	 * option or time is ERR_SCHEDULER_REJECTED; a missing 'workdir'
	 * or script ERR_PRECONDITION_FAILED.
	 */
	int (*submit)(struct sched *s, char **job_id_out,
		      const struct sched_submit *req, struct err *err);
	/*
	 * The states of all the ids in the array of strings 'job_ids', in
	 * one call however many there are (one squeue, then sacct only for
	 * those that left the queue): a new object {job_id: {"state":
	 * name, "evidence": {"source": kind, ...}}} with one entry per
	 * distinct id.  Ids the scheduler does not know are "unknown", or
	 * "lost" when the evidence shows the job vanished without an exit
	 * record.
	 */
	int (*query)(struct sched *s, json_t **out, const json_t *job_ids,
		     struct err *err);
	/*
	 * Cancel the ids in the array of strings 'job_ids'.  Ids that
	 * already ended or are not known are left alone: that is not an
	 * error here.
	 */
	int (*cancel)(struct sched *s, const json_t *job_ids,
		      struct err *err);
	/*
	 * The ids of the jobs submitted with the comment 'run_id', as a
	 * new array of strings, oldest first (for reconciling after a
	 * crash between submit and the journal commit).  Only jobs that
	 * really exist are listed: queued (they will run), running, or
	 * ended.  A submission cut short before its job existed is not
	 * listed, so the caller may submit again.
	 */
	int (*find)(struct sched *s, json_t **out, const char *run_id,
		    struct err *err);
	/* Free 's->priv'; may be NULL. */
	void (*release)(struct sched *s);
};

/* A limit a scheduler's configuration names, and the key it is given. */
struct sched_limit {
	const char *name;	/* as the command prints it: "MaxArraySize" */
	const char *key;	/* as hpcloop names it: "max_array_size" */
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
 * The kind called 'name' ("local", ...) from the static table, or NULL
 * when this build has none of that name.  Static storage.
 */
const struct sched_ops *sched_kind(const char *name);

/*
 * Open the scheduler named by 'cluster'["scheduler"] ("local" when
 * absent, or when 'cluster' is NULL) reached through the transport 't'
 * (borrowed; it must outlive the scheduler).  'cluster' is the cluster's
 * config object (borrowed; a reference is kept), its settings already
 * filled in from their defaults.  'cluster_name' names it in messages.
 * 'state_dir' is where the kind may keep its own files: the local
 * scheduler keeps its job records there (e.g.
 * <working_dir>/.hpcloop-local).  An unknown scheduler, or a setting
 * the kind needs that is missing, is ERR_CONFIG_INVALID.  '*out' is new
 * (free it with sched_close()).
 */
int sched_open(struct sched **out, struct transport *t,
	       const json_t *cluster, const char *cluster_name,
	       const char *state_dir, struct err *err);

/* Close 's' (which may be NULL). */
void sched_close(struct sched *s);

/*
 * The job id of task 'index' (1-based) of the array job 'array_id', as
 * the kind of 's' names it ("123_4", "123.4"); a new string.
 */
char *sched_task_id(const struct sched *s, const char *array_id, int index);

/*
 * The limits of the scheduler of 's' as a new object {key: number, or
 * null when its configuration does not set it} in '*out' (empty for a
 * kind with none), from one command on its cluster.  A command that is
 * missing or fails is ERR_SCHEDULER_UNAVAILABLE.
 */
int sched_limits(struct sched *s, json_t **out, struct err *err);

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
/* The slurm scheduler's table (sched_slurm.c). */
extern const struct sched_ops sched_slurm_ops;
/* Son of Grid Engine's table (sched_sge.c). */
extern const struct sched_ops sched_sge_ops;

#endif
