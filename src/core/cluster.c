/*
 * cluster.c: a configured cluster = transport + scheduler (see
 * cluster.h).
 */
#include <stdlib.h>
#include <string.h>

#include "cluster.h"
#include "config.h"
#include "sched.h"
#include "transport.h"
#include "xalloc.h"
#include "banned.h"

int cluster_open(struct cluster *c, const struct config *cfg,
		 const char *name, struct err *err)
{
	const char *wd;
	char *base = NULL, *state = NULL;
	size_t n;
	int r = -1;

	c->name = xstrdup(name);
	c->conf = config_cluster(cfg, name);
	if (!c->conf)
		return err_set(err, ERR_CONFIG_INVALID,
			       "clusters.%s: no such cluster", name);
	if (transport_open(&c->t, c->conf, err) < 0)
		goto out;
	wd = json_string_value(json_object_get(c->conf, "working_dir"));
	base = config_path(cfg, wd);
	n = strlen(base) + sizeof("/.hpcloop-local");
	state = xmalloc(n);
	snprintf(state, n, "%s/.hpcloop-local", base);
	if (sched_open(&c->sched, c->t, c->conf, name, state, err) < 0)
		goto out;
	r = 0;
out:
	free(base);
	free(state);
	return r;
}

void cluster_release(struct cluster *c)
{
	if (!c)
		return;
	sched_close(c->sched);
	transport_close(c->t);
	free(c->name);
	memset(c, 0, sizeof(*c));
}
