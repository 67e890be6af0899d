/*
 * http_server.c: libmicrohttpd under `hpcloop serve` (see
 * http_server.h).  The library is not linked: it is loaded with dlopen
 * on the first call, and its header gives each function pointer the
 * library's own type (as crypto.c does for libcrypto).
 */
#include <dlfcn.h>
#include <errno.h>
#include <netdb.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>

#include "buf.h"
#include "config.h"
#include "dispatch.h"
#include "envelope.h"
#include "fault.h"
#include "http_server.h"
#include "journal.h"
#include "serve.h"
#include "xalloc.h"
#include "banned.h"

#define POOL_THREADS 4
#define CONN_LIMIT 512
#define CONN_TIMEOUT_S 30
#define SHUTDOWN_WAIT_S 60
#define MAX_STREAMS 8
#define KEEPALIVE_S 5
#define STREAM_CHECK_MS 200
#define STREAM_TICK_MS 1000

/* ---------------------------------------------------------------- */
/* Loading libmicrohttpd                                              */
/* ---------------------------------------------------------------- */

#define MHD_FUNCS(X)                                                   \
	X(start_daemon, MHD_start_daemon)                              \
	X(stop_daemon, MHD_stop_daemon)                                \
	X(quiesce_daemon, MHD_quiesce_daemon)                          \
	X(get_daemon_info, MHD_get_daemon_info)                        \
	X(lookup_value, MHD_lookup_connection_value)                   \
	X(lookup_value_n, MHD_lookup_connection_value_n)               \
	X(from_buffer, MHD_create_response_from_buffer)                \
	X(from_callback, MHD_create_response_from_callback)            \
	X(add_header, MHD_add_response_header)                         \
	X(queue_response, MHD_queue_response)                          \
	X(destroy_response, MHD_destroy_response)                      \
	X(suspend_connection, MHD_suspend_connection)                  \
	X(resume_connection, MHD_resume_connection)

static struct {
#define X(field, sym) __typeof__(&sym) field;
	MHD_FUNCS(X)
#undef X
} mhd;

/* Load the library; 0, or -1 with 'err' set. */
static int mhd_load(struct err *err)
{
	static const char *const names[] = { "libmicrohttpd.so.12",
					     "libmicrohttpd.so" };
	void *h = NULL;
	size_t i;

	for (i = 0; !h && i < sizeof(names) / sizeof(names[0]); i++)
		h = dlopen(names[i], RTLD_NOW | RTLD_LOCAL);
	if (!h)
		return err_set(err, ERR_INTERNAL,
			       "cannot load libmicrohttpd (libmicrohttpd.so.12): "
			       "install libmicrohttpd12");
#define X(field, sym)                                                  \
	*(void **)&mhd.field = dlsym(h, #sym);                         \
	if (!mhd.field)                                                \
		return err_set(err, ERR_INTERNAL,                      \
			       "libmicrohttpd has no %s: too old", #sym);
	MHD_FUNCS(X)
#undef X
	return 0;
}

/* ---------------------------------------------------------------- */
/* Requests                                                           */
/* ---------------------------------------------------------------- */

/* What one request accumulates between the calls of the handler. */
struct request {
	struct buf body;
	int too_large;
};

static struct serve *server;	/* the one server of this process */
static atomic_int in_flight;	/* requests begun and not completed */

static const char *get_header(void *conn, const char *name)
{
	return mhd.lookup_value(conn, MHD_HEADER_KIND, name);
}

static const char *get_query(void *conn, const char *name, size_t *n_out)
{
	const char *v = NULL;
	size_t n = 0;

	if (mhd.lookup_value_n(conn, MHD_GET_ARGUMENT_KIND, name,
			       strlen(name), &v, &n) != MHD_YES)
		v = NULL;
	if (n_out)
		*n_out = v ? n : 0;
	return v;
}

/* The cap on the body of a request to 'url'. */
static size_t body_cap(const char *url)
{
	return strcmp(url, "/api/webhook/artifact") ? SERVE_BODY_MAX
						    : SERVE_ARTIFACT_MAX;
}

static enum MHD_Result queue(struct MHD_Connection *conn, int status,
			     const char *type, char *body)
{
	struct MHD_Response *r;
	enum MHD_Result ret;
	size_t n = strlen(body);

	r = mhd.from_buffer(n, body, MHD_RESPMEM_MUST_FREE);
	if (!r) {
		free(body);
		return MHD_NO;
	}
	mhd.add_header(r, "Content-Type", type);
	mhd.add_header(r, "Cache-Control", "no-store");
	mhd.add_header(r, "X-Content-Type-Options", "nosniff");
	ret = mhd.queue_response(conn, (unsigned)status, r);
	mhd.destroy_response(r);
	return ret;
}

/* ---------------------------------------------------------------- */
/* Event streams                                                      */
/* ---------------------------------------------------------------- */

/*
 * An open event stream.  With nothing to send, its reader suspends the
 * connection (so that the pool thread serves others and nothing spins)
 * and puts it on the waiting list; the watcher thread resumes every
 * waiting stream when a new event is in the journal, every
 * STREAM_TICK_MS anyway (for the keepalive), and at shutdown.
 */
struct stream {
	struct MHD_Connection *conn;
	int64_t since;
	time_t last_write;
	struct buf pending;	/* text not yet handed to the library */
	size_t off;
	struct stream *next;	/* on the waiting list */
	int waiting;
};

static pthread_mutex_t wait_lock = PTHREAD_MUTEX_INITIALIZER;
static struct stream *waiting;	/* suspended streams */

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/* Resume every waiting stream. */
static void resume_all(void)
{
	struct stream *st;

	pthread_mutex_lock(&wait_lock);
	while ((st = waiting)) {
		waiting = st->next;
		st->next = NULL;
		st->waiting = 0;
		mhd.resume_connection(st->conn);
	}
	pthread_mutex_unlock(&wait_lock);
}

/* The watcher thread: wake the streams when there is something new. */
static void *watch_events(void *arg)
{
	struct journal *j;
	int64_t last = -1, now_id = 0;
	struct err err = ERR_INIT;
	long ticks = 0;

	(void)arg;
	while (!atomic_load(&server->stopping)) {
		sleep_ms(STREAM_CHECK_MS);
		if (!atomic_load(&server->streams))
			continue;
		j = serve_journal(server);
		if (j && journal_last_event_id(j, &now_id, &err) < 0)
			err_clear(&err);
		if (now_id != last || ++ticks * STREAM_CHECK_MS >= STREAM_TICK_MS) {
			last = now_id;
			ticks = 0;
			resume_all();
		}
	}
	err_release(&err);
	/* Shutdown: let every stream see it and end. */
	while (atomic_load(&server->streams) > 0) {
		resume_all();
		sleep_ms(20);
	}
	return NULL;
}

/* The library asks for more of the stream (on a pool thread). */
static ssize_t stream_read(void *cls, uint64_t pos, char *out, size_t max)
{
	struct stream *st = cls;
	char *text = NULL;
	int64_t next;
	size_t n;

	(void)pos;
	if (st->off >= st->pending.len) {
		buf_truncate(&st->pending, 0);
		st->off = 0;
		if (atomic_load(&server->stopping))
			return MHD_CONTENT_READER_END_OF_STREAM;
		if (serve_events_page(server, &text, &next, st->since, 100) < 0)
			return MHD_CONTENT_READER_END_WITH_ERROR;
		if (text[0]) {
			buf_adds(&st->pending, text);
			st->since = next;
		}
		free(text);
		if (!st->pending.len &&
		    time(NULL) - st->last_write >= KEEPALIVE_S)
			buf_adds(&st->pending, ": keepalive\n\n");
		if (!st->pending.len) {
			pthread_mutex_lock(&wait_lock);
			st->next = waiting;
			waiting = st;
			st->waiting = 1;
			mhd.suspend_connection(st->conn);
			pthread_mutex_unlock(&wait_lock);
			return 0;
		}
	}
	n = st->pending.len - st->off;
	if (n > max)
		n = max;
	memcpy(out, st->pending.data + st->off, n);
	st->off += n;
	st->last_write = time(NULL);
	return (ssize_t)n;
}

static void stream_free(void *cls)
{
	struct stream *st = cls, **pp;

	pthread_mutex_lock(&wait_lock);
	for (pp = &waiting; *pp; pp = &(*pp)->next)
		if (*pp == st) {
			*pp = st->next;
			break;
		}
	pthread_mutex_unlock(&wait_lock);
	buf_release(&st->pending);
	free(st);
	atomic_fetch_sub(&server->streams, 1);
}

static enum MHD_Result queue_stream(struct MHD_Connection *conn,
				    int64_t since)
{
	struct MHD_Response *r;
	struct stream *st;
	enum MHD_Result ret;

	if (atomic_fetch_add(&server->streams, 1) >= MAX_STREAMS) {
		struct serve_resp resp = { 0 };
		struct err err = ERR_INIT;

		atomic_fetch_sub(&server->streams, 1);
		err_set(&err, ERR_JOURNAL_BUSY,
			"%d event streams are open already", MAX_STREAMS);
		err_remedy(&err, "close one, or poll `events` instead");
		serve_fail(&resp, "events", &err);
		err_release(&err);
		return queue(conn, 503, resp.type, resp.body);
	}
	st = xcalloc(1, sizeof(*st));
	st->conn = conn;
	st->since = since;
	/* The retry hint and a first comment go out at once. */
	buf_adds(&st->pending, "retry: 2000\n: hpcloop events\n\n");
	st->last_write = time(NULL);
	r = mhd.from_callback(MHD_SIZE_UNKNOWN, 16 * 1024, stream_read, st,
			      stream_free);
	if (!r) {
		stream_free(st);
		return MHD_NO;
	}
	mhd.add_header(r, "Content-Type", "text/event-stream");
	mhd.add_header(r, "Cache-Control", "no-store");
	mhd.add_header(r, "X-Accel-Buffering", "no");
	ret = mhd.queue_response(conn, MHD_HTTP_OK, r);
	mhd.destroy_response(r);
	return ret;
}

/* ---------------------------------------------------------------- */
/* The handler                                                        */
/* ---------------------------------------------------------------- */

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn,
				  const char *url, const char *method,
				  const char *version,
				  const char *upload_data,
				  size_t *upload_size, void **con_cls)
{
	struct request *rq = *con_cls;
	struct serve_req req;
	struct serve_resp resp;
	const char *cl;

	(void)cls;
	(void)version;
	if (!rq) {
		size_t cap = body_cap(url);

		rq = xcalloc(1, sizeof(*rq));
		buf_init(&rq->body, cap);
		cl = mhd.lookup_value(conn, MHD_HEADER_KIND,
				      MHD_HTTP_HEADER_CONTENT_LENGTH);
		if (cl && strtoull(cl, NULL, 10) > cap)
			rq->too_large = 1;
		*con_cls = rq;
		atomic_fetch_add(&in_flight, 1);
		return MHD_YES;
	}
	if (*upload_size) {
		if (!rq->too_large &&
		    buf_add(&rq->body, upload_data, *upload_size) < 0)
			rq->too_large = 1;
		*upload_size = 0;
		return MHD_YES;
	}
	memset(&resp, 0, sizeof(resp));
	resp.stream_since = -1;
	if (rq->too_large) {
		struct err err = ERR_INIT;

		err_set(&err, ERR_PAYLOAD_TOO_LARGE,
			"the request body is over %zu bytes", body_cap(url));
		serve_fail(&resp, NULL, &err);
		err_release(&err);
	} else {
		memset(&req, 0, sizeof(req));
		req.method = method;
		req.path = url;
		buf_add(&rq->body, "", 0);
		req.body = rq->body.data ? rq->body.data : "";
		req.body_len = rq->body.len;
		req.header = get_header;
		req.query = get_query;
		req.conn = conn;
		serve_route(server, &resp, &req);
	}
	fault_point("serve.before_answer");
	if (resp.stream_since >= 0)
		return queue_stream(conn, resp.stream_since);
	return queue(conn, resp.status, resp.type, resp.body);
}

static void on_completed(void *cls, struct MHD_Connection *conn,
			 void **con_cls, enum MHD_RequestTerminationCode toe)
{
	struct request *rq = *con_cls;

	(void)cls;
	(void)conn;
	(void)toe;
	if (!rq)
		return;
	buf_release(&rq->body);
	free(rq);
	*con_cls = NULL;
	atomic_fetch_sub(&in_flight, 1);
}

/* ---------------------------------------------------------------- */
/* Starting and stopping                                              */
/* ---------------------------------------------------------------- */

static int stop_pipe[2] = { -1, -1 };

/* SIGTERM/SIGINT: wake the main thread (async-signal-safe). */
static void on_stop(int sig)
{
	char c = (char)sig;
	ssize_t n;

	n = write(stop_pipe[1], &c, 1);
	(void)n;
}

static void install_stop(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = on_stop;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGPIPE, &sa, NULL);
}

/*
 * Split "HOST:PORT" ("[v6]:PORT" too) and resolve it into '*ai_out'
 * (freeaddrinfo).  Returns 0, or -1 with 'err' set.
 */
static int parse_listen(struct addrinfo **ai_out, char host[256],
			const char *listen, struct err *err)
{
	const char *colon = strrchr(listen, ':');
	const char *h = listen, *port;
	size_t hn;
	struct addrinfo hints;
	char *end;
	long p;
	int rc;

	*ai_out = NULL;
	if (!colon || colon == listen)
		goto bad;
	port = colon + 1;
	hn = (size_t)(colon - listen);
	if (h[0] == '[') {
		if (hn < 3 || h[hn - 1] != ']')
			goto bad;
		h++;
		hn -= 2;
	}
	if (hn >= 256)
		goto bad;
	memcpy(host, h, hn);
	host[hn] = '\0';
	p = strtol(port, &end, 10);
	if (!*port || *end || p < 0 || p > 65535)
		goto bad;
	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE;
	rc = getaddrinfo(host, port, &hints, ai_out);
	if (rc != 0) {
		err_set(err, ERR_USAGE, "cannot resolve the listen host '%s': %s",
			host, gai_strerror(rc));
		return err_remedy(err, "give --listen HOST:PORT, for instance "
				  "127.0.0.1:8080");
	}
	return 0;
bad:
	err_set(err, ERR_USAGE, "the listen address '%s' is not HOST:PORT",
		listen);
	return err_remedy(err, "give --listen HOST:PORT, for instance "
			  "127.0.0.1:8080 (port 0 picks a free one)");
}

/* Read the config (when there is one) into 's' and pick the address. */
static int load_settings(struct serve *s, char **listen_out,
			 const char *listen, struct err *err)
{
	struct config cfg = CONFIG_INIT;
	const json_t *dash;
	const char *v, *secret;
	struct buf b = BUF_INIT;
	const char *slash;

	*listen_out = NULL;
	dispatch_paths(&s->config_path, &s->journal_path, &s->opts);
	if (access(s->config_path, F_OK) == 0) {
		if (config_load(&cfg, s->config_path, err) < 0)
			return -1;
		dash = json_object_get(cfg.root, "dashboard");
		v = json_string_value(json_object_get(dash, "listen"));
		if (!listen && v)
			*listen_out = xstrdup(v);
		v = json_string_value(json_object_get(cfg.root,
						       "orchestrator_secret"));
		if (v)
			s->secret = xstrdup(v);
		v = json_string_value(json_object_get(cfg.root,
						       "artifact_dir"));
		if (v)
			s->artifact_dir = config_path(&cfg, v);
		config_release(&cfg);
	}
	secret = getenv("HPCLOOP_ORCHESTRATOR_SECRET");
	if (!s->secret && secret && *secret)
		s->secret = xstrdup(secret);
	if (!s->artifact_dir) {
		slash = strrchr(s->journal_path, '/');
		if (slash)
			buf_add(&b, s->journal_path,
				(size_t)(slash - s->journal_path));
		else
			buf_adds(&b, ".");
		buf_adds(&b, "/artifacts");
		s->artifact_dir = buf_detach(&b, NULL);
	}
	if (!*listen_out)
		*listen_out = xstrdup(listen ? listen : "127.0.0.1:8080");
	return 0;
}

/* Print the one envelope of a failure to start; returns its code. */
static int start_failed(const struct err *err)
{
	json_t *env = envelope_failure("serve", err);
	int code = err_exit_class(err->code);

	if (envelope_print(env, 0) < 0)
		code = 3;
	json_decref(env);
	return code;
}

/* Wait until every request in flight has completed, or a deadline. */
static void drain(void)
{
	int i;

	for (i = 0; i < SHUTDOWN_WAIT_S * 20 && atomic_load(&in_flight) > 0;
	     i++)
		sleep_ms(50);
}

int serve_main(const struct dispatch_opts *opts, const char *listen)
{
	struct serve s;
	struct err err = ERR_INIT;
	struct addrinfo *ai = NULL;
	struct MHD_Daemon *d = NULL;
	const union MHD_DaemonInfo *info;
	char host[256], *addr = NULL;
	json_t *env;
	unsigned flags;
	int code = 0, port, have_watcher = 0, fd;
	pthread_t watcher;
	char c;

	memset(&s, 0, sizeof(s));
	s.opts = *opts;
	s.opts.in_server = 1;
	s.opts.journal = NULL;
	server = &s;
	envelope_set_primitive("serve");
	if (load_settings(&s, &addr, listen, &err) < 0 ||
	    parse_listen(&ai, host, addr, &err) < 0 || mhd_load(&err) < 0) {
		code = start_failed(&err);
		goto out;
	}
	if (pipe(stop_pipe) < 0) {
		err_set(&err, ERR_INTERNAL, "pipe: %s", strerror(errno));
		code = start_failed(&err);
		goto out;
	}
	install_stop();
	flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ITC |
		MHD_ALLOW_SUSPEND_RESUME;
	if (ai->ai_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	d = mhd.start_daemon(
		flags, 0, NULL, NULL, on_request, NULL, MHD_OPTION_SOCK_ADDR,
		ai->ai_addr, MHD_OPTION_THREAD_POOL_SIZE,
		(unsigned int)POOL_THREADS, MHD_OPTION_CONNECTION_LIMIT,
		(unsigned int)CONN_LIMIT, MHD_OPTION_CONNECTION_TIMEOUT,
		(unsigned int)CONN_TIMEOUT_S, MHD_OPTION_NOTIFY_COMPLETED,
		on_completed, NULL, MHD_OPTION_LISTENING_ADDRESS_REUSE,
		(unsigned int)0, MHD_OPTION_END);
	if (!d) {
		err_set(&err, ERR_PRECONDITION_FAILED,
			"cannot listen on %s (in use, or not an address of "
			"this host)", addr);
		err_remedy(&err, "pick another --listen HOST:PORT, or stop "
			   "what holds it");
		code = start_failed(&err);
		goto out;
	}
	info = mhd.get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
	port = info ? (int)info->port : 0;
	{
		struct buf url = BUF_INIT;

		buf_addf(&url, strchr(host, ':') ? "http://[%s]:%d"
						 : "http://%s:%d",
			 host, port);
		env = json_pack("{s:s, s:i, s:s}", "url", buf_str(&url), "pid",
				(int)getpid(), "journal", s.journal_path);
		buf_release(&url);
	}
	{
		json_t *e = envelope_success("serve", 0, env, NULL);

		json_decref(env);
		if (envelope_print(e, 0) < 0)
			code = 3;
		json_decref(e);
	}
	fflush(stdout);
	fprintf(stderr, "hpcloop serve: listening on %s:%d\n", host, port);
	if (pthread_create(&watcher, NULL, watch_events, NULL) == 0)
		have_watcher = 1;
	while (read(stop_pipe[0], &c, 1) < 0 && errno == EINTR)
		;
	fprintf(stderr, "hpcloop serve: stopping; letting requests in "
			"flight finish\n");
	atomic_store(&s.stopping, 1);
	fd = mhd.quiesce_daemon(d);
	if (fd >= 0)
		close(fd);
	drain();
	if (have_watcher)
		pthread_join(watcher, NULL);
	mhd.stop_daemon(d);
out:
	if (ai)
		freeaddrinfo(ai);
	free(addr);
	free(s.config_path);
	free(s.journal_path);
	free(s.secret);
	free(s.artifact_dir);
	err_release(&err);
	return code;
}
