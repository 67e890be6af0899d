/*
 * sched_local_child.h: the side of the local scheduler that runs after
 * fork() (sched_local_child.c), for sched_local.c only.
 *
 * The supervisor of a local job and the job itself start in a process
 * that may have had threads (`hpcloop serve`), so everything they do is
 * async-signal-safe: system calls on data the parent prepared in a
 * struct sched_local_launch before forking; no malloc, no stdio, no
 * jansson, no locks.  A check in the test suite (t9002) lists the
 * symbols sched_local_child.o calls and fails on any outside the
 * async-signal-safe list.  The small readers below are shared with the
 * parent, which reads the same records.
 */
#ifndef HPCLOOP_SCHED_LOCAL_CHILD_H
#define HPCLOOP_SCHED_LOCAL_CHILD_H

#include <stdint.h>
#include <sys/types.h>

/*
 * Everything the supervisor and the job need, prepared (and owned) by
 * the parent before the first fork.  Paths are absolute; each file is
 * written atomically through its ".tmp" twin.
 */
struct sched_local_launch {
	char *sup_path, *sup_tmp;	/* "supervisor": "<pid> <start>" */
	char *pid_path, *pid_tmp;	/* "pid": the job's pid */
	char *start_path, *start_tmp;	/* "start_time": the job's start */
	char *exit_path, *exit_tmp;	/* "exit_status": how it ended */
	char *cancel_path;		/* "cancel_requested" marker */
	char *workdir;			/* where the job runs */
	char *stdout_path;		/* the job's standard output */
	char *stderr_path;		/* the job's standard error */
	char *argv[3];			/* "bash", the script, NULL */
	char **envp;			/* the job's environment */
	int time_limit_s;		/* 0: none */
	int grace_s;			/* cancel grace when unreadable */
	int escalate_s;			/* USR1 to TERM to KILL, seconds */
	int fd_max;			/* bound for closing descriptors */
	int lock_fd;			/* the queue lock, held until the job
					   is recorded */
};

/*
 * Start the supervisor of 'l': fork a child that starts a new session,
 * forks the supervisor and exits.  The supervisor records itself in
 * l->sup_path, forks the job, and the job records its pid (start_time,
 * then pid) before it runs anything.  Each of them keeps a copy of
 * l->lock_fd and of the write end of a pipe until those records are
 * written, so that the lock outlives a parent killed at any instant and
 * the parent knows when the records are there.
 *
 * In the parent: 0 with '*child_out' the intermediate child (reap it)
 * and '*ready_fd_out' the read end of that pipe (close it), which reads
 * end-of-file once the supervisor and the job have either recorded
 * themselves or given up (the supervisor then removes its record).
 * -1 with errno set when nothing was forked.
 */
int sched_local_fork(const struct sched_local_launch *l, pid_t *child_out,
		     int *ready_fd_out);

/*
 * Read the file 'path' holding one or two decimal numbers separated by
 * a space ("123\n" or "123 456\n") into '*a' and, when 'b' is not NULL,
 * '*b'.  Returns 0, or -1 when it is missing or holds anything else.
 */
int sched_local_read_numbers(const char *path, uint64_t *a, uint64_t *b);

/*
 * Parse the decimal number at '*p' into '*out', moving '*p' past it.
 * Returns 0, or -1 when there are no digits or it overflows.
 */
int sched_local_parse_u64(const char **p, uint64_t *out);

/*
 * Whether the process 'pid' is alive and is the one that started at
 * 'start' (field 22 of /proc/<pid>/stat; a recycled pid has another).
 * Zombies are dead.
 */
int sched_local_proc_alive(uint64_t pid, uint64_t start);

#endif
