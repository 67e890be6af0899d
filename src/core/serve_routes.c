/*
 * serve_routes.c: what `hpcloop serve` answers (see serve.h): the API
 * routes, their token check, and the per-thread journal.  No primitive
 * is written here a second time: every call goes through dispatch_run.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apitoken.h"
#include "buf.h"
#include "dispatch.h"
#include "envelope.h"
#include "journal.h"
#include "primitive.h"
#include "serve.h"
#include "spec.h"
#include "xalloc.h"
#include "banned.h"

static const char content_json[] = "application/json";

/* ---------------------------------------------------------------- */
/* The journal of each thread                                         */
/* ---------------------------------------------------------------- */

static pthread_key_t journal_key;
static pthread_once_t key_once = PTHREAD_ONCE_INIT;

static void close_journal(void *j)
{
	journal_close(j);
}

static void make_key(void)
{
	pthread_key_create(&journal_key, close_journal);
}

struct journal *serve_journal(struct serve *s)
{
	struct journal *j;
	struct err err = ERR_INIT;

	pthread_once(&key_once, make_key);
	j = pthread_getspecific(journal_key);
	if (j)
		return j;
	if (journal_open(&j, s->journal_path, 0, &err) < 0) {
		err_release(&err);
		return NULL;
	}
	pthread_setspecific(journal_key, j);
	return j;
}

/* ---------------------------------------------------------------- */
/* Answers                                                            */
/* ---------------------------------------------------------------- */

/* The HTTP status of a failure with 'code'. */
static int status_of(enum err_code code)
{
	switch (code) {
	case ERR_UNAUTHORIZED:
		return 401;
	case ERR_FORBIDDEN:
		return 403;
	case ERR_PAYLOAD_TOO_LARGE:
		return 413;
	default:
		break;
	}
	switch (err_exit_class(code)) {
	case 1:
		return 400;
	case 2:
		return 502;
	default:
		return 500;
	}
}

static char *dump_line(const json_t *env)
{
	char *text = json_dumps(env, JSON_COMPACT | JSON_REAL_PRECISION(15));
	struct buf b = BUF_INIT;

	buf_adds(&b, text ? text : "{}");
	buf_adds(&b, "\n");
	free(text);
	return buf_detach(&b, NULL);
}

void serve_envelope(struct serve_resp *out, json_t *env, int code)
{
	const char *name = json_string_value(json_object_get(env,
							      "error_code"));

	out->type = content_json;
	if (code == 0)
		out->status = 200;
	else
		out->status = status_of(name ? err_from_name(name)
					     : ERR_INTERNAL);
	out->body = dump_line(env);
	json_decref(env);
}

void serve_fail(struct serve_resp *out, const char *primitive,
		const struct err *err)
{
	serve_envelope(out, envelope_failure(primitive ? primitive : "serve",
					     err),
		       err_exit_class(err->code));
	out->status = status_of(err->code);
}

/* ---------------------------------------------------------------- */
/* The API                                                            */
/* ---------------------------------------------------------------- */

/* The bearer token of 'req', or NULL. */
static const char *bearer(const struct serve_req *req)
{
	const char *h = req->header(req->conn, "Authorization");

	if (!h || strncasecmp(h, "Bearer ", 7))
		return NULL;
	h += 7;
	while (*h == ' ')
		h++;
	return *h ? h : NULL;
}

/* Check the API token of 'req'; '*read_only_out' says what it may do. */
static int check_token(struct serve *s, int *read_only_out,
		       const struct serve_req *req, struct err *err)
{
	const char *token = bearer(req);
	struct journal *j;

	*read_only_out = 1;
	if (!token) {
		err_set(err, ERR_UNAUTHORIZED,
			"this API needs an Authorization: Bearer header");
		return -1;
	}
	j = serve_journal(s);
	if (!j)
		return err_set(err, ERR_UNAUTHORIZED,
			       "no journal, so no API token is known yet");
	return apitoken_check(j, read_only_out, token, err);
}

/* Run 'name' with 'spec' (NULL with 'spec_err') on this thread's journal. */
static void run_primitive(struct serve *s, struct serve_resp *out,
			  const char *name, const json_t *spec,
			  const struct err *spec_err)
{
	struct dispatch_opts o = s->opts;
	json_t *env = NULL;
	int code;

	o.journal = serve_journal(s);
	code = dispatch_run(&env, &o, name, spec, spec_err);
	serve_envelope(out, env, code);
}

/* POST /v1/p/NAME */
static void api_primitive(struct serve *s, struct serve_resp *out,
			  const struct serve_req *req, const char *name)
{
	const struct primitive *p = registry_find(s->opts.registry, name);
	struct err err = ERR_INIT;
	json_t *spec = NULL;
	int read_only;

	if (check_token(s, &read_only, req, &err) < 0)
		goto fail;
	if (p && read_only && !(p->flags & PRIM_READ_SAFE)) {
		err_set(&err, ERR_FORBIDDEN,
			"'%s' changes things, and this API token is read-only",
			p->name);
		goto fail;
	}
	if (req->body_len == 0 || strspn(req->body, " \t\r\n") ==
					  req->body_len)
		spec = json_object();
	else if (strlen(req->body) != req->body_len)
		err_set(&err, ERR_SPEC_INVALID, "the body holds a NUL byte");
	else
		spec_parse(&spec, req->body, req->body_len, "the request body",
			   &err);
	run_primitive(s, out, name, spec, spec ? NULL : &err);
	json_decref(spec);
	err_release(&err);
	return;
fail:
	serve_fail(out, p ? p->name : name, &err);
	err_release(&err);
}

/* GET /v1/events: a stream from since=N or Last-Event-ID. */
static void api_events(struct serve *s, struct serve_resp *out,
		       const struct serve_req *req)
{
	const char *v = req->header(req->conn, "Last-Event-ID");
	struct err err = ERR_INIT;
	int read_only;
	char *end;
	long long since;

	if (check_token(s, &read_only, req, &err) < 0) {
		serve_fail(out, "events", &err);
		err_release(&err);
		return;
	}
	if (!v)
		v = req->query(req->conn, "since", NULL);
	since = v ? strtoll(v, &end, 10) : 0;
	if (v && (!*v || *end || since < 0)) {
		err_set(&err, ERR_SPEC_INVALID,
			"since / Last-Event-ID is not an event id");
		serve_fail(out, "events", &err);
		err_release(&err);
		return;
	}
	out->stream_since = since;
}

int serve_events_page(struct serve *s, char **text_out, int64_t *next_out,
		      int64_t since, int max)
{
	struct journal_event_query q = { since, max, 0, NULL, NULL };
	struct journal *j = serve_journal(s);
	struct err err = ERR_INIT;
	struct buf b = BUF_INIT;
	json_t *events = NULL, *ev;
	size_t i;

	*text_out = NULL;
	*next_out = since;
	if (!j || journal_events(j, &events, &q, &err) < 0) {
		err_release(&err);
		/* No journal yet: nothing to send. */
		if (!j) {
			*text_out = xstrdup("");
			return 0;
		}
		return -1;
	}
	json_array_foreach(events, i, ev) {
		char *line = json_dumps(ev, JSON_COMPACT);

		*next_out = json_integer_value(json_object_get(ev, "id"));
		buf_addf(&b, "id: %lld\nevent: %s\ndata: %s\n\n",
			 (long long)*next_out,
			 json_string_value(json_object_get(ev, "type")),
			 line ? line : "{}");
		free(line);
	}
	json_decref(events);
	buf_adds(&b, "");
	*text_out = buf_detach(&b, NULL);
	return 0;
}

/* ---------------------------------------------------------------- */
/* Routing                                                            */
/* ---------------------------------------------------------------- */

static void not_found(struct serve_resp *out, const struct serve_req *req)
{
	struct err err = ERR_INIT;

	err_set(&err, ERR_NOT_FOUND, "no route %s %.200s", req->method,
		req->path);
	err_remedy(&err, "POST /v1/p/NAME, GET /v1/catalog, GET /v1/events, "
		   "POST /api/webhook/{heartbeat,complete,artifact}");
	serve_fail(out, NULL, &err);
	out->status = 404;
	err_release(&err);
}

void serve_route(struct serve *s, struct serve_resp *out,
		 const struct serve_req *req)
{
	int post = !strcmp(req->method, "POST");
	int get = !strcmp(req->method, "GET");
	const char *path = req->path;
	struct err err = ERR_INIT;
	int read_only;

	out->stream_since = -1;
	if (post && !strncmp(path, "/v1/p/", 6) && path[6] &&
	    !strchr(path + 6, '/')) {
		api_primitive(s, out, req, path + 6);
	} else if (get && !strcmp(path, "/v1/catalog")) {
		if (check_token(s, &read_only, req, &err) < 0) {
			serve_fail(out, "list", &err);
			err_release(&err);
			return;
		}
		json_t *empty = json_object();

		run_primitive(s, out, "list", empty, NULL);
		json_decref(empty);
	} else if (get && !strcmp(path, "/v1/events")) {
		api_events(s, out, req);
	} else if (post && !strcmp(path, "/api/webhook/heartbeat")) {
		serve_webhook(s, out, req, "heartbeat");
	} else if (post && !strcmp(path, "/api/webhook/complete")) {
		serve_webhook(s, out, req, "complete");
	} else if (post && !strcmp(path, "/api/webhook/artifact")) {
		serve_webhook(s, out, req, "artifact");
	} else {
		not_found(out, req);
	}
}
