/*
 * sched_slurm.h: the inside of the "slurm" scheduler kind, shared by
 * sched_slurm.c (the operations: sbatch, squeue, scancel),
 * sched_slurm_cmd.c (running a command through the cluster's
 * transport, and the accounting source: sacct, sacct -c, scontrol) and
 * sched_slurm_parse.c (everything that turns text into facts and back:
 * job ids, the state table, the output of squeue, sacct and scontrol,
 * and the #SBATCH lines).  The first part below is pure: nothing in it
 * runs a command or touches a file, so the unit tests
 * (tests/unit/test_sched_slurm.c) call it with captured and hostile
 * output.  Owned by sched_slurm*.c; no other module includes it but
 * those and their tests.
 *
 * A parsed record of one job is a new object
 *	{"raw_state": "CANCELLED by 0", "exit_code": 3 | null,
 *	 "signal": 15 | null, "reason": "Dependency" | null}
 * keyed by the job id it answers for ("123" or, for an array task,
 * "123_4").  slurm_verdict() turns one into a state and its evidence.
 */
#ifndef HPCLOOP_SCHED_SLURM_H
#define HPCLOOP_SCHED_SLURM_H

#include <stddef.h>

#include <jansson.h>

#include "buf.h"
#include "err.h"
#include "sched.h"

/* The warning before the time limit when the study sets none, in s. */
#define SLURM_DEFAULT_SIGNAL_GRACE_S 120

/*
 * Whether 'id' is a job id hpcloop asks SLURM about: "123" or an array
 * task "123_4" (decimal, no leading zero, at most 19 digits each).
 */
int slurm_valid_id(const char *id);

/*
 * The job id in what `sbatch --parsable` printed ('len' bytes at
 * 'text'): "123" or "123;cluster", then at most one newline, nothing
 * else.  '*out' is a new string holding the id alone.  Anything else is
 * ERR_REMOTE_COMMAND_FAILED quoting the text (a job may exist: find()
 * tells).
 */
int slurm_parse_job_id(char **out, const char *text, size_t len,
		       struct err *err);

/*
 * The exit code and signal of a SLURM "CODE:SIGNAL" field ("3:0",
 * "0:15"); -1 when it is not one (both are then -1).
 */
int slurm_parse_exit(int *code_out, int *signal_out, const char *text);

/*
 * The state that the SLURM state word 'raw' stands for ("RUNNING",
 * "CANCELLED by 1000", "OUT_OF_MEMORY", ...), given the exit code
 * ('code' and 'sig', -1 when unknown) and whether the job was still in
 * the queue ('queued': squeue saw it).  COMPLETED with a non-zero or
 * unknown code is not success; a word not in the table is
 * SCHED_UNKNOWN.
 */
enum sched_state slurm_state(const char *raw, int code, int sig, int queued);

/*
 * Add to the object 'out' one record per line of `squeue --noheader
 * --array --Format=JobArrayID:|,State:|,Reason:|,RestartCnt:` ('len'
 * bytes at 'text'; the restart count may be left out, as with
 * --format=%i|%T|%r), the count as "restarts"; a line that is not of
 * that shape, or names an id that is not valid, is skipped and counted
 * in the return value.
 */
int slurm_parse_squeue(json_t *out, const char *text, size_t len);

/*
 * Add to 'out' the records of `sacct --noheader --parsable2
 * --format=JobID,State,ExitCode` output (plain or -c): one per job;
 * steps ("123.batch") and malformed lines are skipped (and counted, as
 * above).  A job listed twice keeps its last line.
 */
int slurm_parse_sacct(json_t *out, const char *text, size_t len);

/*
 * The record of the job 'id' in the output of `scontrol -o show job
 * ID`, a new object, or NULL when the output does not describe it
 * (its JobId, or its ArrayJobId_ArrayTaskId, must be 'id').
 */
json_t *slurm_parse_scontrol(const char *id, const char *text, size_t len);

/*
 * The state the record 'rec' (borrowed; NULL when no source knew the
 * job) stands for, in '*state_out', and its evidence, a new object
 * {"source", "raw_state", "exit_code", "signal", "reason",
 * "checked_at" [, "restarts"] [, "detail"]}; 'queued' as for
 * slurm_state().  A queued job pending again after a restart is
 * SCHED_REQUEUED.
 */
json_t *slurm_verdict(enum sched_state *state_out, const json_t *rec,
		      const char *source, int queued);

/*
 * The #SBATCH lines for 'req' (see struct sched_ops.directives): the
 * allowed job options, the time limit, the warning signal and the
 * requeue policy.
 */
int slurm_directives(struct buf *out, const struct sched_submit *req,
		     struct err *err);

/* ------------------------------------------------------------------ */
/* For sched_slurm.c and sched_slurm_cmd.c only                        */
/* ------------------------------------------------------------------ */

struct exec_result;

/* Where the records of jobs that left the queue come from. */
enum slurm_mode {
	MODE_UNKNOWN,	/* not found out yet */
	MODE_SACCT,	/* accounting storage: sacct -P */
	MODE_JOBCOMP,	/* no storage, a completion log: sacct -c */
	MODE_SCONTROL	/* neither: scontrol, while the controller
			   remembers the job (MinJobAge) */
};

/* The state of an open slurm scheduler (its 's->priv'). */
struct sched_slurm {
	int timeout_s;		/* per command */
	enum slurm_mode mode;	/* the accounting source, once known */
};

/*
 * Run 'argv' on the cluster of 's' into 'res' (set up here, bounded).
 * A program that is missing (ERR_NOT_FOUND, exit 127) is
 * ERR_SCHEDULER_UNAVAILABLE, and so is a timeout when 'map_timeout' (a
 * submission cut short keeps ERR_TIMEOUT: it may have submitted).
 * Exiting non-zero is a success here: read res->exit_code.
 */
int slurm_run(struct sched *s, struct exec_result *res,
	      const char *const *argv, int map_timeout, struct err *err);
/* Fail with 'code' after 'what' ended badly with 'res'; returns -1. */
int slurm_failed(struct sched *s, struct err *err, enum err_code code,
		 const char *what, const struct exec_result *res);
/* Whether every line of 'res''s stderr holds one of 'words' (and there
 * is at least one line). */
int slurm_only_errors(const struct exec_result *res,
		      const char *const *words);
/* A new NULL-terminated argv: 'fixed' (borrowed) then 'extra'. */
const char **slurm_argv(const char *const *fixed, const char *extra);
/* The ids of 'ids' joined by 'sep' in chunks of at most 64 KiB: a new
 * array of strings. */
json_t *slurm_chunks(const json_t *ids, const char *sep);
/* The accounting source remembered for the cluster of 's'. */
enum slurm_mode slurm_remembered(struct sched *s);
/*
 * The records of the ids 'left' (which left the queue) into 'recs' (id
 * -> record, each with its "source"): the cluster's accounting, then
 * scontrol for the rest.
 */
int slurm_accounting(struct sched *s, json_t *recs, const json_t *left,
		     struct err *err);

#endif
