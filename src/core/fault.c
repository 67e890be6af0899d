/*
 * fault.c: named fault points (see fault.h).
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "fault.h"
#include "banned.h"

/* How long a ":sleep" point waits for the test to act. */
#define FAULT_SLEEP_S 60

/*
 * What the comma-separated 'list' says about 'name': 0 nothing, 1 kill,
 * 2 sleep ("name:sleep", or "name:sleepN" for N seconds into
 * '*secs_out').
 */
static int action_for(const char *list, const char *name, long *secs_out)
{
	size_t n = strlen(name);
	const char *p = list;

	*secs_out = FAULT_SLEEP_S;
	while (p && *p) {
		const char *end = strchr(p, ',');
		size_t len = end ? (size_t)(end - p) : strlen(p);

		if (len == n && !memcmp(p, name, n))
			return 1;
		if (len >= n + 6 && !memcmp(p, name, n) &&
		    !memcmp(p + n, ":sleep", 6)) {
			if (len > n + 6)
				*secs_out = strtol(p + n + 6, NULL, 10);
			return 2;
		}
		p = end ? end + 1 : NULL;
	}
	return 0;
}

void fault_point(const char *name)
{
	const char *list = getenv("HPCLOOP_FAULT");
	struct timespec ts = { FAULT_SLEEP_S, 0 };
	long secs;

	if (!list || !*list)
		return;
	switch (action_for(list, name, &secs)) {
	case 1:
		kill(getpid(), SIGKILL);
		_exit(137);
	case 2:
		fprintf(stderr, "hpcloop: fault point %s: sleeping\n", name);
		fflush(stderr);
		ts.tv_sec = secs;
		nanosleep(&ts, NULL);
		break;
	default:
		break;
	}
}
