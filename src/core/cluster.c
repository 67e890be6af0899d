/*
 * cluster.c: a configured cluster = transport + scheduler (see
 * cluster.h).
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cluster.h"
#include "config.h"
#include "journal.h"
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
	base = config_path(cfg, wd ? wd : "sprints");
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

int cluster_query_interval(const struct cluster *c)
{
	const json_t *v = json_object_get(c->conf, "query_interval_s");
	const char *s = json_string_value(json_object_get(c->conf,
							   "scheduler"));
	const struct sched_ops *kind = sched_kind(s ? s : "local");

	if (json_is_integer(v))
		return (int)json_integer_value(v);
	if (kind && !kind->shared)
		return 0;
	return 30;
}

int cluster_take_query(struct journal *j, const struct cluster *c,
		       int *allowed_out, double *wait_out, struct err *err)
{
	struct timespec ts;
	double now, last, interval = cluster_query_interval(c);
	json_t *row = NULL, *params = NULL;
	int r = -1;

	*allowed_out = 0;
	*wait_out = 0;
	clock_gettime(CLOCK_REALTIME, &ts);
	now = (double)ts.tv_sec + ts.tv_nsec / 1e9;
	params = json_pack("[s]", c->name);
	if (journal_row(j, &row,
			"SELECT last_query_at FROM query_budget "
			"WHERE cluster = ?",
			params, err) < 0)
		goto out;
	last = row ? json_number_value(json_object_get(row, "last_query_at"))
		   : 0;
	if (row && now - last < interval) {
		*wait_out = interval - (now - last);
		r = 0;
		goto out;
	}
	json_decref(params);
	params = json_pack("[s,f]", c->name, now);
	if (journal_exec(j, NULL,
			 "INSERT INTO query_budget (cluster, last_query_at, "
			 "queries) VALUES (?, ?, 1) ON CONFLICT(cluster) DO "
			 "UPDATE SET last_query_at = excluded.last_query_at, "
			 "queries = queries + 1",
			 params, err) < 0)
		goto out;
	*allowed_out = 1;
	r = 0;
out:
	json_decref(row);
	json_decref(params);
	return r;
}
