/*
 * sched_limits.c: what a scheduler lets one account do (MaxArraySize,
 * MaxJobCount, max_aj_tasks, ...), read for preflight with the command
 * and the names the kind declares in its table (sched.h: limits_argv,
 * limits).  A kind that declares none (local) has no limits to read.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "sched.h"
#include "transport.h"
#include "banned.h"

#define LIMITS_OUT_MAX (256 * 1024)
#define LIMITS_TIMEOUT_S 30

/*
 * The number after 'name' at the start of a line of 'text' ("name =
 * value" as scontrol prints it, "name value" as qconf does); -1 when
 * there is none, or it is not a number.
 */
static long long value_of(const char *text, const char *name)
{
	size_t n = strlen(name);
	const char *p = text;

	while (p && *p) {
		while (*p == ' ')
			p++;
		if (!strncmp(p, name, n) && (p[n] == ' ' || p[n] == '=')) {
			const char *v = p + n;

			while (*v == ' ' || *v == '=')
				v++;
			return isdigit((unsigned char)*v) ? strtoll(v, NULL, 10)
							  : -1;
		}
		p = strchr(p, '\n');
		if (p)
			p++;
	}
	return -1;
}

int sched_limits(struct sched *s, json_t **out, struct err *err)
{
	const char *const *argv = s->ops->limits_argv;
	const struct sched_limit *l;
	struct exec_result res;
	int r = -1;

	*out = json_object();
	if (!argv)
		return 0;
	exec_result_init(&res, LIMITS_OUT_MAX);
	if (transport_exec(s->t, &res, argv, NULL, NULL, 0, LIMITS_TIMEOUT_S,
			   err) < 0) {
		if (err->code == ERR_NOT_FOUND)
			err_set(err, ERR_SCHEDULER_UNAVAILABLE,
				"%s is not installed on cluster '%s'", argv[0],
				s->cluster_name);
		goto out;
	}
	if (res.exit_code != 0) {
		err_set(err, ERR_SCHEDULER_UNAVAILABLE,
			"%s on cluster '%s' exited %d: %.200s", argv[0],
			s->cluster_name, res.exit_code, buf_str(&res.err));
		goto out;
	}
	for (l = s->ops->limits; l && l->name; l++) {
		long long v = value_of(buf_str(&res.out), l->name);

		json_object_set_new(*out, l->key,
				    v >= 0 ? json_integer(v) : json_null());
	}
	r = 0;
out:
	exec_result_release(&res);
	if (r < 0) {
		json_decref(*out);
		*out = NULL;
	}
	return r;
}
