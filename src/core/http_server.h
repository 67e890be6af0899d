/*
 * http_server.h: `hpcloop serve`, the orchestrator server: the HTTP API
 * of every primitive, the job webhooks and the API-token checks.
 *
 * http_server.c is the one module that uses libmicrohttpd, loaded with
 * dlopen on the first `serve` (the binary does not link it, so `list`
 * and every other call start as fast as before).  It owns the daemon:
 * a pool of internal polling threads, bounded request bodies (413 past
 * the cap), connection timeouts, the server-sent event streams, and the
 * graceful shutdown on SIGTERM or SIGINT (stop accepting, let in-flight
 * requests finish, exit 0).  What a request means is decided by
 * serve_routes.c (serve.h), which knows nothing of libmicrohttpd.
 *
 * It prints one envelope line once it listens:
 *	{"ok":true,"primitive":"serve","data":{"url":...,"pid":...}}
 * and nothing more on stdout; a failure to start is the one envelope
 * (exit 1 for a bad address or config, 2 when the address is taken,
 * 3 when libmicrohttpd cannot be loaded).
 */
#ifndef HPCLOOP_HTTP_SERVER_H
#define HPCLOOP_HTTP_SERVER_H

struct dispatch_opts;

/*
 * Serve until SIGTERM or SIGINT; 'listen' is --listen HOST:PORT or NULL
 * (the config's dashboard.listen).  Returns the process exit status.
 */
int serve_main(const struct dispatch_opts *opts, const char *listen);

#endif
