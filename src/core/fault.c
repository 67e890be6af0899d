/*
 * fault.c: named fault points (see fault.h).
 */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fault.h"
#include "banned.h"

/* Whether the comma-separated 'list' holds exactly 'name'. */
static int list_has(const char *list, const char *name)
{
	size_t n = strlen(name);
	const char *p = list;

	while (p && *p) {
		const char *end = strchr(p, ',');
		size_t len = end ? (size_t)(end - p) : strlen(p);

		if (len == n && !memcmp(p, name, n))
			return 1;
		p = end ? end + 1 : NULL;
	}
	return 0;
}

void fault_point(const char *name)
{
	const char *list = getenv("HPCLOOP_FAULT");

	if (!list || !*list || !list_has(list, name))
		return;
	kill(getpid(), SIGKILL);
	_exit(137);
}
