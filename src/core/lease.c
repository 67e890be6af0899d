/*
 * lease.c: lease owners and their liveness (see lease.h).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lease.h"
#include "banned.h"

/*
 * The start time (field 22 of /proc/PID/stat) of process 'pid', or 0
 * when it does not exist or is a zombie (killed, not yet reaped: it
 * works on nothing any more).  The command name (field 2) may hold
 * spaces and parentheses, so fields are counted from the last ')'.
 */
static uint64_t start_time(long pid)
{
	char path[64], buf[1024];
	const char *p;
	FILE *f;
	size_t n;
	int field;

	snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
	f = fopen(path, "re");
	if (!f)
		return 0;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	p = strrchr(buf, ')');
	if (!p || !p[1] || !p[2] || p[2] == 'Z' || p[2] == 'X')
		return 0;
	/* After ')' come field 3 (state) onwards, space separated. */
	for (field = 2; *p && field < 22; p++)
		if (*p == ' ')
			field++;
	return strtoull(p, NULL, 10);
}

/* This host's name into 'out' of 'size' bytes ("localhost" if none). */
static void host_name(char *out, size_t size)
{
	if (gethostname(out, size) < 0 || !out[0])
		snprintf(out, size, "localhost");
	out[size - 1] = '\0';
}

void lease_self(char out[LEASE_OWNER_MAX])
{
	char host[256];
	long pid = (long)getpid();

	host_name(host, sizeof(host));
	snprintf(out, LEASE_OWNER_MAX, "%s %ld %" PRIu64, host, pid,
		 start_time(pid));
}

int lease_held(const char *owner, double taken_at, double now)
{
	char host[256], mine[256];
	long pid;
	unsigned long long start;
	uint64_t now_start;

	if (!owner || !*owner)
		return 0;
	if (sscanf(owner, "%255s %ld %llu", host, &pid, &start) != 3 ||
	    pid <= 0)
		return 0;
	host_name(mine, sizeof(mine));
	if (strcmp(host, mine))
		return now - taken_at < LEASE_TTL_S;
	now_start = start_time(pid);
	return now_start != 0 && now_start == (uint64_t)start;
}

double lease_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}
