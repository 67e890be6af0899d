/*
 * preflight.h: whether a cluster is ready for work, checked for real
 * before anything is submitted to it (the preflight primitive): it is
 * reached (TCP, host key, authentication, in one command over the
 * transport), its scheduler's commands answer and say its limits, its
 * working directory takes a file, and the agent (and executor) of
 * every study on it is on its PATH.
 */
#ifndef HPCLOOP_PREFLIGHT_H
#define HPCLOOP_PREFLIGHT_H

#include <jansson.h>

#include "err.h"

struct config;

/*
 * Check the cluster 'name' of 'cfg' into '*out', a new object
 * {"cluster", "ready", "checks": [{"name", "ok", "detail",
 * "error_code"?, "remediation"?, "study"?}], "limits"}.  A check that
 * fails is an entry with ok false, never an error: only a cluster that
 * does not exist is (config_invalid).  Nothing is left on the cluster.
 */
int preflight_cluster(json_t **out, const struct config *cfg,
		      const char *name, struct err *err);

#endif
