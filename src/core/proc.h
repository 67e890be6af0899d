/*
 * proc.h: running programs on this machine.  proc_run() is the local
 * transport's exec (transport_local.c): fork and exec with no shell, in
 * a process group of its own, with the pipes pumped through poll() and a
 * timeout that kills the whole group.  proc_reset_signals() is for the
 * child side of any fork(), the local scheduler's jobs included.
 *
 * What runs between fork() and exec() is async-signal-safe, so all of
 * this may be used in a threaded process such as `hpcloop serve`.
 */
#ifndef HPCLOOP_PROC_H
#define HPCLOOP_PROC_H

#include <stddef.h>

#include "err.h"
#include "transport.h"

/*
 * Run 'argv' on this machine as transport_exec() describes (transport.h
 * gives the meaning of 'res', 'argv', 'cwd', 'stdin_data', 'stdin_len'
 * and 'timeout_s', and the errors): 'res' was reset by the caller and
 * is filled here.  The program is looked up on PATH before the fork, so
 * that the child never allocates; the child's other descriptors close
 * on exec, and a failure to enter 'cwd' or to exec is reported back
 * through a close-on-exec pipe (ERR_NOT_FOUND for ENOENT, otherwise
 * ERR_IO_FAILED).
 */
int proc_run(struct exec_result *res, const char *const *argv,
	     const char *cwd, const void *stdin_data, size_t stdin_len,
	     int timeout_s, struct err *err);

/*
 * Put every signal back to its default action and unblock them all, so
 * that what the parent ignored or blocked does not leak into a child.
 * Async-signal-safe: for the child side of fork().
 */
void proc_reset_signals(void);

#endif
