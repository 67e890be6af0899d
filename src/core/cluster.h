/*
 * cluster.h: opening a configured cluster: its transport and its
 * scheduler together (DESIGN §5).  Asking the scheduler about jobs goes
 * through observe.h, which keeps the shared query budget.
 */
#ifndef HPCLOOP_CLUSTER_H
#define HPCLOOP_CLUSTER_H

#include <jansson.h>

#include "err.h"

struct config;
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

#endif
