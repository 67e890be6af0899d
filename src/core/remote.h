/*
 * remote.h: the remote CLI.  With --server URL or HPCLOOP_SERVER, any
 * primitive runs on that `hpcloop serve` (POST URL/v1/p/NAME with the
 * spec as the body and the API token of HPCLOOP_API_TOKEN, never from
 * argv) and the caller prints the server's envelope and exits with the
 * same code as a local call would.
 *
 * The POST goes through http.c, the one module that uses libcurl
 * (loaded on first use).
 */
#ifndef HPCLOOP_REMOTE_H
#define HPCLOOP_REMOTE_H

#include <jansson.h>

#include "buf.h"
#include "err.h"

/*
 * POST 'len' bytes of 'body' to 'url' with the NULL-ended header lines
 * 'headers' ("Name: value"); the answer's body in 'resp' and its HTTP
 * status in '*status_out'.  No redirect is followed.  -1 with
 * ERR_SERVER_UNREACHABLE when no answer came (refused, resolve, timeout),
 * ERR_INTERNAL when libcurl cannot be loaded.
 */
int remote_post(struct buf *resp, long *status_out, const char *url,
		const char *const *headers, const char *body, size_t len,
		long timeout_s, struct err *err);

/*
 * Run primitive 'name' with 'spec' (or the failure 'spec_error' when it
 * could not be read, which is answered here) on the server 'server'.
 * A new envelope in '*env_out'; returns the exit code.
 */
int remote_run(json_t **env_out, const char *server, const char *name,
	       const json_t *spec, const struct err *spec_error);

#endif
