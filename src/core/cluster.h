/*
 * cluster.h: opening a configured cluster: its transport and its
 * scheduler together, and the shared query budget that keeps hpcloop
 * from polling a scheduler faster than the cluster allows (DESIGN §5).
 */
#ifndef HPCLOOP_CLUSTER_H
#define HPCLOOP_CLUSTER_H

#include <jansson.h>

#include "err.h"

struct config;
struct journal;
struct sched;
struct transport;

struct cluster {
	char *name;		/* owned */
	const json_t *conf;	/* borrowed from the config */
	struct transport *t;	/* owned */
	struct sched *sched;	/* owned; uses 't' */
};

#define CLUSTER_INIT { NULL, NULL, NULL, NULL }

/*
 * Open the cluster 'name' of 'cfg': its transport, then its scheduler.
 * An unknown name is config_invalid.  Release with cluster_release.
 */
int cluster_open(struct cluster *c, const struct config *cfg,
		 const char *name, struct err *err);
void cluster_release(struct cluster *c);

/*
 * The minimum seconds between two scheduler queries of cluster 'c' (a
 * fraction is honoured): its query_interval_s, whose default the schema
 * gives shared schedulers (slurm, sge) only; 0 when it has none.
 */
double cluster_query_interval(const struct cluster *c);

/*
 * Take one query from the shared budget of cluster 'c' in 'j' (in a
 * transaction).  '*allowed_out' is 1 when the interval has passed since
 * the last query by any process on this journal (the query is then
 * recorded), 0 when the caller must use what the journal already knows;
 * '*wait_out' is the seconds left.
 */
int cluster_take_query(struct journal *j, const struct cluster *c,
		       int *allowed_out, double *wait_out, struct err *err);

#endif
