/*
 * transport_kinds.h: the open function of each kind of transport, for
 * the table in transport.c and for nothing else (callers use
 * transport_open()).  Each fills '*out' with a new handle made by
 * transport_new(), or sets it to NULL and fills 'err'; 'cluster' is the
 * borrowed cluster configuration, or NULL.  A new kind is one file, one
 * line here and one line in transport.c's table.
 */
#ifndef HPCLOOP_TRANSPORT_KINDS_H
#define HPCLOOP_TRANSPORT_KINDS_H

#include <jansson.h>

#include "err.h"
#include "transport.h"

/* transport_local.c: this machine. */
int transport_local_open(struct transport **out, const json_t *cluster,
			 struct err *err);

/*
 * transport_ssh_ops.c: a host reached with libssh2 (loaded on first
 * use).  Opening checks the configuration only; nothing connects.
 */
int transport_ssh_open(struct transport **out, const json_t *cluster,
		       struct err *err);

#endif
