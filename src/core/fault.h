/*
 * fault.h: named fault points for crash tests (DESIGN §12).
 *
 * Code calls fault_point("submit.after_sched") just before or after an
 * external effect (a job submitted, a file written, a transaction
 * committed).  When the environment variable HPCLOOP_FAULT names that
 * point, the process kills itself with SIGKILL there, exactly as a
 * kill -9 at that instant would; "NAME:sleep" instead says so on stderr
 * ("hpcloop: fault point NAME: sleeping") and sleeps a minute there
 * ("NAME:sleepN": N seconds), so a test can act at that instant.  HPCLOOP_FAULT may hold
 * several entries separated by commas.  Read at run time in every build, so the tests
 * exercise the binary users run; docs/fault-points.md lists the points.
 */
#ifndef HPCLOOP_FAULT_H
#define HPCLOOP_FAULT_H

/*
 * Die by SIGKILL (or sleep) when HPCLOOP_FAULT names 'name'; otherwise
 * nothing.
 */
void fault_point(const char *name);

#endif
