/*
 * lease.h: who is working on something, and whether they still are.
 *
 * A lease names its owner as "HOST PID START" (START: the process start
 * time in clock ticks since boot, from /proc/PID/stat, so a reused pid is
 * not taken for the owner) and is stamped with the time it was taken.
 * On this host the owner is alive exactly when that process still
 * exists with that start time; an owner on another host cannot be
 * checked, so its lease holds for LEASE_TTL_S after it was taken
 * (DESIGN §4, §12: leases carry the hostname as well as pid and start).
 */
#ifndef HPCLOOP_LEASE_H
#define HPCLOOP_LEASE_H

#include <stddef.h>

/* How long a lease of another host's process holds, in seconds. */
#define LEASE_TTL_S 600
/* Room for an owner string. */
#define LEASE_OWNER_MAX 320

/* This process's owner string into 'out' (LEASE_OWNER_MAX bytes). */
void lease_self(char out[LEASE_OWNER_MAX]);

/*
 * Whether the lease of 'owner' (NULL or "" is no lease: 0) taken at
 * 'taken_at' (seconds since the epoch) still holds at 'now'.
 */
int lease_held(const char *owner, double taken_at, double now);

/* The current time in seconds since the epoch, with fractions. */
double lease_now(void);

#endif
