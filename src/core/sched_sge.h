/*
 * sched_sge.h: the parts of the Son of Grid Engine scheduler shared by
 * its files: the pure ones (sched_sge_parse.c, also for the unit
 * tests), and the commands that look (sched_sge_cmd.c).
 *
 * Nothing here runs a command or touches a file: it reads what qsub,
 * qstat -xml and qacct printed, maps SGE's states onto sched.h's, and
 * writes the "#$" header lines of a job script.  What SGE printed is
 * not trusted: job names come from other users, and a reply may be cut
 * short or garbled; anything not of the expected shape is refused
 * rather than guessed at.  The operations (qsub, qstat, qacct, qdel
 * over the cluster's transport) are in sched_sge.c, which alone owns
 * the table sched_sge_ops, and sched_sge_cmd.c (the looking commands,
 * and find).
 */
#ifndef HPCLOOP_SCHED_SGE_H
#define HPCLOOP_SCHED_SGE_H

#include <jansson.h>

#include "buf.h"
#include "err.h"
#include "sched.h"
#include "transport.h"

/* The longest job name SGE is given (its own limit is larger). */
#define SGE_NAME_MAX 100

/* What a job script gets between SIGUSR1 (s_rt) and SIGKILL (h_rt). */
#define SGE_GRACE_S 60

/* The parallel environment "cpus" asks for when "pe" does not say. */
#define SGE_DEFAULT_PE "smp"

/* The most any one SGE command may print that we keep. */
#define SGE_OUT_MAX (16 * 1024 * 1024)

/* Seconds any one SGE command may take. */
#define SGE_CMD_TIMEOUT_S 120

/* Seconds a job may be gone from the queue with no accounting record. */
#define SGE_ACCT_GRACE_S 120

/* Most ids on one qdel or qstat -j command line. */
#define SGE_IDS_PER_CALL 200

/* What the handle keeps. */
struct sched_sge {
	char *user;		/* the cluster's user for qstat -u, or NULL */
};

/*
 * The "#$" lines for 'req'->job_options and 'req'->time_limit_s (the
 * 'directives' operation of sched.h): "-S /bin/bash" always, "-l
 * h_rt=T" and "-l s_rt=T-grace" for a time limit (SGE sends SIGUSR1 at
 * s_rt, which the job script reports as timed_out; SIGKILL follows at
 * h_rt), mem -> "-l h_vmem", cpus -> "-pe PE N" (PE from "pe", default
 * smp), gpu -> "-l gpu=N", queue -> "-q", project -> "-P", time ->
 * the limit when 'req' has none (minutes, or [H:]M:S).  Every value
 * is checked against a strict pattern, since qsub splits a "#$" line
 * into words itself; any other key, or a bad value, is
 * ERR_SCHEDULER_REJECTED naming the option.
 */
int sched_sge_directives(struct buf *out, const struct sched_submit *req,
			 struct err *err);

/*
 * The job number in what "qsub -terse" printed ('text', 'len' bytes):
 * "123\n" or, for an array, "123.1-10:1\n".  '*out' is new.  Anything
 * else (more lines, other characters, no number) is
 * ERR_SCHEDULER_REJECTED quoting none of it.
 */
int sched_sge_parse_job_id(char **out, const char *text, size_t len,
			   struct err *err);

/*
 * Write into 'out' (at least SGE_NAME_MAX + 1 bytes) a job name SGE
 * accepts made from 'name': letters, digits, '_', '.' and '-' kept,
 * anything else turned into '_', "j" put before a leading digit or
 * '.', cut at SGE_NAME_MAX, "hpcloop" when nothing is left.
 */
void sched_sge_job_name(char *out, const char *name);

/*
 * The jobs of a "qstat -xml" answer ('xml', 'len' bytes) as a new array
 * of {"job": number, "state": SGE state code, "name": job name,
 * "owner": user, and "tasks": "N" or "N-M:S" when the entry is of an
 * array}, entity references decoded.  A document that is not a whole
 * job_info (cut short, garbled) or whose entries lack a number or a
 * state is ERR_SCHEDULER_UNAVAILABLE.
 */
int sched_sge_parse_qstat(json_t **out, const char *xml, size_t len,
			  struct err *err);

/*
 * The entry of 'jobs' (from sched_sge_parse_qstat) for the id 'id':
 * "N" (any task of job N) or "N.T" (task T of the array N, matching a
 * task range too); a running entry first, then another live one, then
 * a finished one ("qstat -s z": state "z").  Borrowed, or NULL when the
 * queue does not hold it.
 */
const json_t *sched_sge_qstat_find(const json_t *jobs, const char *id);

/*
 * The records of a "qacct -j" answer as a new array of {"jobnumber",
 * "taskid" (a string: "undefined" for a job that is not an array),
 * "jobname", "owner", "failed" (integer), "failed_reason",
 * "exit_status" (integer), "category", "ru_wallclock" (seconds)}, in
 * the order
 * printed.  A record without jobnumber, failed or exit_status is
 * ERR_SCHEDULER_UNAVAILABLE (a garbled answer).
 */
int sched_sge_parse_qacct(json_t **out, const char *text, size_t len,
			  struct err *err);

/*
 * The last record of 'records' (from sched_sge_parse_qacct) for the id
 * 'id' ("N", or "N.T" for task T); borrowed, or NULL.
 */
const json_t *sched_sge_qacct_find(const json_t *records, const char *id);

/*
 * The state of a job still in the queue whose SGE state code is 'code'
 * ("qw", "hqw", "r", "t", "Eqw", "dr", ...): pending, running,
 * requeued (Rq, Rr), failed for an error state (E), cancelled for a
 * job being deleted (d); unknown for a code SGE does not document,
 * and for "z" (a finished job: its state is in the accounting).
 */
enum sched_state sched_sge_queue_state(const char *code);

/*
 * The state of an ended job from its accounting record 'rec' (from
 * sched_sge_parse_qacct): completed for failed 0 and exit 0, timed_out
 * for failed 37 (qmaster enforced h_rt) or for the job script's own
 * report of SIGUSR1 (exit 138) at or after its s_rt, cancelled for a
 * job killed by qdel (failed 100, exit 137), failed otherwise.
 */
enum sched_state sched_sge_acct_state(const json_t *rec);

/*
 * Split the id 'id' into its job number and task: "12" -> 12, 0;
 * "12.3" -> 12, 3.  -1 when it is neither.
 */
int sched_sge_split_id(const char *id, unsigned long long *job_out,
		       unsigned long *task_out);

/*
 * 1 when 'run_id' can be a context value and part of a job name: 1 to
 * 64 letters, digits, '_', '.' or '-'.
 */
int sched_sge_good_run_id(const char *run_id);

/* ------------------------------------------------------------------ */
/* The commands that look (sched_sge_cmd.c)                            */
/* ------------------------------------------------------------------ */

/* Copy the first line of 'b' (at most 200 bytes, printable) into 'out'. */
void sched_sge_first_line(char *out, size_t size, const struct buf *b);

/* 1 when the text of 'b' says the qmaster could not be reached. */
int sched_sge_qmaster_down(const struct buf *b);

/*
 * Run 'argv' on the cluster of 's' into 'res' (initialised here with
 * SGE_OUT_MAX; the caller releases it), within SGE_CMD_TIMEOUT_S.  A
 * program the cluster lacks is ERR_SCHEDULER_UNAVAILABLE naming it;
 * the transport's other errors pass up.
 */
int sched_sge_run(struct sched *s, struct exec_result *res,
		  const char *const *argv, struct err *err);

/* ERR_SCHEDULER_UNAVAILABLE for the command 'what' that failed: -1. */
int sched_sge_command_failed(struct sched *s, const char *what,
			     const struct exec_result *res, struct err *err);

/*
 * The jobs of the queue (sched_sge_parse_qstat) from one "qstat -xml
 * -s prsz" ('tasks': each task on its own, "-g d"), for the cluster's
 * user: the live jobs and those that just finished (state "z").
 */
int sched_sge_queue_jobs(struct sched *s, json_t **out, int tasks,
			 struct err *err);

/*
 * The records (sched_sge_parse_qacct) of "qacct -j 'which'" (a job
 * number or a name pattern); empty when qacct has none.
 */
int sched_sge_acct_records(struct sched *s, json_t **out, const char *which,
			   struct err *err);

/* "qstat -j 'ids'" (comma-separated numbers) into 'res'. */
int sched_sge_job_details(struct sched *s, struct exec_result *res,
			  const char *ids, struct err *err);

/*
 * The value of the line "KEY: value" of job 'job' in the "qstat -j"
 * text 'text' into 'out' ('size' bytes, printable only); "" if none.
 */
void sched_sge_job_detail(char *out, size_t size, const char *text,
			  const char *job, const char *key);

/* The 'find' operation of sched.h (by job name, then context). */
int sched_sge_find(struct sched *s, json_t **out, const char *run_id,
		   struct err *err);

#endif
