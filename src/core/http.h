/*
 * http.h: the HTTP client, one POST at a time (DESIGN §2).
 *
 * This is the only module that uses libcurl, and it does not link it:
 * libcurl is loaded with dlopen on the first request (DESIGN §12,
 * "Loading"), as transport_ssh.c loads libssh2 and crypto.c libcrypto,
 * so `hpcloop list` and every call that never talks HTTP start without
 * it.  Only http:// and https:// URLs are fetched, redirects are not
 * followed, and the response body is bounded.
 *
 * Secrets: the URL (a Slack webhook's, an ntfy topic's) and the headers
 * (a bearer token, a signature) are handed to libcurl and never written
 * anywhere else: no message of this module quotes either, and libcurl's
 * verbose output stays off.
 */
#ifndef HPCLOOP_HTTP_H
#define HPCLOOP_HTTP_H

#include <stddef.h>

#include "buf.h"
#include "err.h"

/* The largest response body kept (the rest is an error). */
#define HTTP_RESPONSE_MAX (64 * 1024)

/* One request.  Every pointer is borrowed for the call. */
struct http_request {
	const char *url;		/* http:// or https:// */
	const char *const *headers;	/* "Name: value" lines, NULL-ended;
					   may be NULL */
	const char *body;		/* the POST body, 'body_len' bytes */
	size_t body_len;
	long connect_timeout_ms;	/* longest wait for the connection */
	long timeout_ms;		/* longest wait for the whole call */
	size_t max_response;		/* the largest body kept; 0:
					   HTTP_RESPONSE_MAX */
};

/* What came back.  Start it with HTTP_RESPONSE_INIT. */
struct http_response {
	long status;		/* the HTTP status code */
	long retry_after_s;	/* Retry-After in seconds, or -1 */
	struct buf body;	/* at most HTTP_RESPONSE_MAX bytes */
};

#define HTTP_RESPONSE_INIT { 0, -1, BUF_INIT }

/* Free what 'r' holds and make it HTTP_RESPONSE_INIT again. */
void http_response_release(struct http_response *r);

/*
 * POST 'req' and fill 'out' (HTTP_RESPONSE_INIT or released) with the
 * status, Retry-After and body.  Any status is a success of this call:
 * what a status means is the caller's to judge.  Failures: a call past
 * its time is ERR_TIMEOUT; a refused or failed connection, a body over
 * HTTP_RESPONSE_MAX or a URL that is not http(s) ERR_HTTP_FAILED;
 * libcurl that cannot be loaded ERR_PRECONDITION_FAILED.  No message
 * names the URL or a header.  On failure 'out' is released.
 */
int http_post(struct http_response *out, const struct http_request *req,
	      struct err *err);

/*
 * Retry-After's value 'v' (seconds, or an HTTP-date) as seconds from
 * 'now' (never negative), or -1 when it is neither.
 */
long http_parse_retry_after(const char *v, long now);

#endif
