/*
 * proc.h: helpers for the child side of fork(), shared by the local
 * transport (commands) and the local scheduler (jobs).  Everything here
 * is async-signal-safe, so it may run after fork() in a threaded process
 * such as `hpcloop serve`.
 */
#ifndef HPCLOOP_PROC_H
#define HPCLOOP_PROC_H

/*
 * Put every signal back to its default action and unblock them all, so
 * that what the parent ignored or blocked does not leak into a child.
 */
void proc_reset_signals(void);

#endif
