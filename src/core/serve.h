/*
 * serve.h: what `hpcloop serve` does with a request, apart from HTTP
 * itself (http_server.c owns libmicrohttpd; serve_routes.c,
 * serve_webhook.c and serve_state.c know nothing of it).
 *
 * Routes:
 *	POST /v1/p/NAME		  run primitive NAME with the body as its spec
 *	GET  /v1/catalog	  what `list` prints
 *	GET  /v1/events?since=N	  server-sent events (http_server.c streams
 *				  them with serve_events_page)
 *	POST /api/webhook/heartbeat, /api/webhook/complete
 *	POST /api/webhook/artifact?sprint_id=ID&name=NAME
 * Every /v1 call needs an API token (apitoken.h); the webhooks need the
 * sprint's token and the signature of webhook_sig.h.
 */
#ifndef HPCLOOP_SERVE_H
#define HPCLOOP_SERVE_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "dispatch.h"
#include "err.h"

struct journal;

/* Body caps: API and webhook calls, and an artifact upload. */
#define SERVE_BODY_MAX (1u << 20)
#define SERVE_ARTIFACT_MAX (16u << 20)

/* The server's state, shared by every worker thread. */
struct serve {
	struct dispatch_opts opts; /* journal left NULL: set per call */
	char *config_path;	   /* resolved */
	char *journal_path;	   /* resolved */
	char *secret;		   /* orchestrator secret, or NULL */
	char *artifact_dir;	   /* where uploads go */
	atomic_int stopping;	   /* set by SIGTERM/SIGINT */
	atomic_int streams;	   /* open event streams */
};

/* One request, as serve_route sees it. */
struct serve_req {
	const char *method;
	const char *path;
	const char *body;	/* NUL-terminated copy; may hold NULs */
	size_t body_len;
	/* A header or query argument by name, or NULL; 'n_out' (may be
	 * NULL) its length, so that an embedded NUL shows. */
	const char *(*header)(void *conn, const char *name);
	const char *(*query)(void *conn, const char *name, size_t *n_out);
	void *conn;
};

/* The answer: a status, a body (new) and its type (static). */
struct serve_resp {
	int status;
	char *body;
	const char *type;
	int64_t stream_since;	/* >= 0: stream events after this id
				   (GET /v1/events) instead of 'body' */
};

/* Decide the answer to 'req' (never fails: errors are envelopes). */
void serve_route(struct serve *s, struct serve_resp *out,
		 const struct serve_req *req);

/*
 * The journal connection of the calling thread, opened on first use
 * and closed when the thread ends; NULL when there is no journal yet
 * (the dispatcher then opens one itself).  Never shared across threads.
 */
struct journal *serve_journal(struct serve *s);

/* The envelope of 'err' for 'primitive' as a response ('out'). */
void serve_fail(struct serve_resp *out, const char *primitive,
		const struct err *err);

/* The response for an envelope 'env' (stolen) and exit code 'code'. */
void serve_envelope(struct serve_resp *out, json_t *env, int code);

/*
 * The webhooks: 'which' is "heartbeat", "complete" or "artifact".
 * serve_webhook.c.
 */
void serve_webhook(struct serve *s, struct serve_resp *out,
		   const struct serve_req *req, const char *which);

/*
 * Up to 'max' events after 'since' as server-sent event text in
 * '*text_out' (new, "" when none) and the last id in '*next_out'.
 * -1 when the journal cannot be read.
 */
int serve_events_page(struct serve *s, char **text_out, int64_t *next_out,
		      int64_t since, int max);

#endif
