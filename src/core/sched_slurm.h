/*
 * sched_slurm.h: the pure parts of the "slurm" scheduler kind, shared by
 * sched_slurm.c (the operations, which run sbatch, squeue, sacct,
 * scontrol and scancel through the cluster's transport) and
 * sched_slurm_parse.c (everything that turns text into facts and back:
 * job ids, the state table, the output of squeue, sacct and scontrol,
 * and the #SBATCH lines).  Nothing here runs a command or touches a
 * file, so the unit tests (tests/unit/test_sched_slurm.c) call it with
 * captured and hostile output.  Owned by sched_slurm*.c; no other
 * module includes it but those and their tests.
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

#endif
