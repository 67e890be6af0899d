/*
 * notify.c: the channels (see notify.h): what each one's request looks
 * like, the tries with their backoff, and the file channel.  The
 * journal side (deduplication, the drain) is notify_drain.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "config.h"
#include "crypto.h"
#include "http.h"
#include "ids.h"
#include "notify.h"
#include "xalloc.h"
#include "banned.h"

/* The longest title and text sent, in bytes (the rest is cut). */
#define TITLE_MAX 250
#define TEXT_MAX 4000

/* ---------------------------------------------------------------- */
/* Channels                                                           */
/* ---------------------------------------------------------------- */

json_t *notify_channels(const struct config *cfg)
{
	const json_t *list = json_object_get(cfg->root, "notifications");
	json_t *def;

	if (json_array_size(list))
		return json_deep_copy(list);
	def = json_pack("{s:s, s:s}", "name", "file", "type", "file");
	config_fill_defaults(def, "notification");
	return json_pack("[o]", def);
}

int notify_configured(const struct config *cfg)
{
	return json_array_size(json_object_get(cfg->root,
					       "notifications")) > 0;
}

const json_t *notify_channel_find(const json_t *channels, const char *name)
{
	const json_t *c;
	size_t i;

	json_array_foreach(channels, i, c)
		if (!strcmp(json_string_value(json_object_get(c, "name")),
			    name))
			return c;
	return NULL;
}

int notify_channel_wants(const json_t *channel, const char *event)
{
	const json_t *e;
	size_t i;

	json_array_foreach(json_object_get(channel, "events"), i, e)
		if (!strcmp(json_string_value(e), event))
			return 1;
	return 0;
}

static const char *str_of(const json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

/* ---------------------------------------------------------------- */
/* Pure pieces                                                        */
/* ---------------------------------------------------------------- */

long notify_backoff_ms(int attempt, long retry_after_s, long elapsed_ms,
		       long budget_ms)
{
	long wait = NOTIFY_BACKOFF_BASE_MS;
	int i;

	if (retry_after_s >= 0) {
		if (retry_after_s > budget_ms / 1000 + 1)
			return -1;
		wait = retry_after_s * 1000;
	} else {
		for (i = 1; i < attempt && wait < NOTIFY_BACKOFF_MAX_MS; i++)
			wait *= 2;
		if (wait > NOTIFY_BACKOFF_MAX_MS)
			wait = NOTIFY_BACKOFF_MAX_MS;
	}
	if (elapsed_ms < 0)
		elapsed_ms = 0;
	if (elapsed_ms + wait > budget_ms)
		return -1;
	return wait;
}

int notify_status_retryable(long status)
{
	return status == 429 || (status >= 500 && status <= 599);
}

void notify_signature(char hex[SHA256_HEX_LEN + 1], const char *secret,
		      const char *timestamp, const char *body, size_t len)
{
	struct buf msg = BUF_INIT;

	buf_adds(&msg, timestamp);
	buf_adds(&msg, ".");
	buf_add(&msg, body, len);
	crypto_hmac_sha256_hex(hex, secret, strlen(secret), buf_str(&msg),
			       msg.len);
	buf_release(&msg);
}

/* ---------------------------------------------------------------- */
/* What a message looks like                                          */
/* ---------------------------------------------------------------- */

/*
 * Append 's' to 'b' fit for a header value: at most 'max' bytes, every
 * control character (CR and LF above all) a space.
 */
static void add_header_text(struct buf *b, const char *s, size_t max)
{
	size_t i;
	char c;

	for (i = 0; s[i] && i < max; i++) {
		c = s[i];
		if ((unsigned char)c < 0x20 || c == 0x7f)
			c = ' ';
		buf_add(b, &c, 1);
	}
}

/* The text of 'm': its body, else its title (bounded). */
static char *text_of(const struct notify_msg *m)
{
	const char *t = m->body && *m->body ? m->body : m->title;

	return xstrndup(t, TEXT_MAX);
}

/* The ntfy priority of 'm': given, or high for a run that went wrong. */
static int priority_of(const struct notify_msg *m)
{
	static const char *const bad[] = { "failed", "timed_out", "lost" };
	size_t i;

	if (m->priority >= 1 && m->priority <= 5)
		return m->priority;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (!strcmp(m->event, bad[i]))
			return 4;
	return 3;
}

/* 'url' without its trailing slashes, then "/" and 'seg' escaped. */
static void url_join(struct buf *b, const char *url, const char *seg)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t n = strlen(url);
	const unsigned char *p;

	while (n && url[n - 1] == '/')
		n--;
	buf_add(b, url, n);
	buf_adds(b, "/");
	for (p = (const unsigned char *)seg; *p; p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || *p == '-' || *p == '_' ||
		    *p == '.' || *p == '~')
			buf_add(b, p, 1);
		else
			buf_addf(b, "%%%c%c", hex[*p >> 4], hex[*p & 15]);
	}
}

/* A request being built: its URL, headers and body, all owned. */
struct req {
	struct buf url;
	char *headers[8];	/* NULL-ended */
	int nheaders;
	char *body;
	size_t body_len;
	int slack_api;		/* the answer must say "ok": true */
};

static void req_header(struct req *r, const char *name, const char *value,
		       size_t max)
{
	struct buf b = BUF_INIT;

	if (r->nheaders >= (int)(sizeof(r->headers) / sizeof(r->headers[0])) -
				   1)
		BUG("too many notification headers");
	buf_addf(&b, "%s: ", name);
	add_header_text(&b, value, max);
	r->headers[r->nheaders++] = buf_detach(&b, NULL);
}

static void req_release(struct req *r)
{
	int i;

	buf_release(&r->url);
	for (i = 0; i < r->nheaders; i++) {
		/* A header may hold a token: wipe it before freeing. */
		explicit_bzero(r->headers[i], strlen(r->headers[i]));
		free(r->headers[i]);
	}
	r->nheaders = 0;
	free(r->body);
	r->body = NULL;
}

/* The JSON body of a webhook or a file line. */
static json_t *message_json(const char *channel, const struct notify_msg *m)
{
	char now[IDS_TIME_LEN];
	json_t *o;

	ids_now(now);
	o = json_pack("{s:s, s:s, s:s, s:s?, s:s, s:s}", "event", m->event,
		      "title", m->title, "key", m->key, "subject", m->subject,
		      "channel", channel, "ts", now);
	if (!o)
		BUG("cannot build a notification");
	json_object_set_new(o, "body", json_stringn(m->body ? m->body : "",
						     m->body ? strnlen(m->body,
								       TEXT_MAX)
							     : 0));
	if (m->event_id)
		json_object_set_new(o, "event_id",
				    json_integer((json_int_t)m->event_id));
	if (m->data)
		json_object_set_new(o, "data", json_deep_copy(m->data));
	return o;
}

static char *dump_compact(const json_t *v, size_t *len_out)
{
	char *s = json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS);
	char *r;

	if (!s)
		BUG("cannot encode a notification");
	r = xstrdup(s);
	free(s);
	*len_out = strlen(r);
	return r;
}

static int build_ntfy(struct req *r, const json_t *ch,
		      const struct notify_msg *m)
{
	char prio[4];
	struct buf tags = BUF_INIT;

	url_join(&r->url, str_of(ch, "url"), str_of(ch, "topic"));
	req_header(r, "Title", m->title, TITLE_MAX);
	snprintf(prio, sizeof(prio), "%d", priority_of(m));
	req_header(r, "Priority", prio, 4);
	buf_addf(&tags, "hpcloop,%s", m->event);
	req_header(r, "Tags", buf_str(&tags), 200);
	buf_release(&tags);
	req_header(r, "Content-Type", "text/plain; charset=utf-8", 64);
	if (str_of(ch, "token")) {
		struct buf auth = BUF_INIT;

		buf_addf(&auth, "Bearer %s", str_of(ch, "token"));
		req_header(r, "Authorization", buf_str(&auth), 4096);
		explicit_bzero(auth.data, auth.len);
		buf_release(&auth);
	}
	r->body = text_of(m);
	r->body_len = strlen(r->body);
	return 0;
}

static int build_slack(struct req *r, const json_t *ch,
		       const struct notify_msg *m, struct err *err)
{
	struct buf text = BUF_INIT;
	json_t *body;

	buf_addf(&text, "*%.*s*", TITLE_MAX, m->title);
	if (m->body && *m->body)
		buf_addf(&text, "\n%.*s", TEXT_MAX, m->body);
	buf_adds(&r->url, str_of(ch, "url"));
	req_header(r, "Content-Type", "application/json; charset=utf-8", 64);
	if (str_of(ch, "token")) {
		struct buf auth = BUF_INIT;

		if (!str_of(ch, "channel")) {
			buf_release(&text);
			return err_set(err, ERR_CONFIG_INVALID,
				       "notification channel '%s' has a "
				       "Slack token but no channel to post to",
				       str_of(ch, "name"));
		}
		buf_addf(&auth, "Bearer %s", str_of(ch, "token"));
		req_header(r, "Authorization", buf_str(&auth), 4096);
		explicit_bzero(auth.data, auth.len);
		buf_release(&auth);
		body = json_pack("{s:s, s:s}", "channel",
				 str_of(ch, "channel"), "text",
				 buf_str(&text));
		r->slack_api = 1;
	} else {
		body = json_pack("{s:s}", "text", buf_str(&text));
	}
	buf_release(&text);
	r->body = dump_compact(body, &r->body_len);
	json_decref(body);
	return 0;
}

static int build_webhook(struct req *r, const json_t *ch,
			 const struct notify_msg *m)
{
	json_t *body = message_json(str_of(ch, "name"), m);
	char ts[32], sig[SHA256_HEX_LEN + 1];
	struct buf v = BUF_INIT;

	buf_adds(&r->url, str_of(ch, "url"));
	r->body = dump_compact(body, &r->body_len);
	json_decref(body);
	req_header(r, "Content-Type", "application/json", 64);
	req_header(r, "X-Hpcloop-Event", m->event, 64);
	snprintf(ts, sizeof(ts), "%lld", (long long)time(NULL));
	req_header(r, "X-Hpcloop-Timestamp", ts, sizeof(ts));
	if (str_of(ch, "secret")) {
		notify_signature(sig, str_of(ch, "secret"), ts, r->body,
				 r->body_len);
		buf_addf(&v, "sha256=%s", sig);
		req_header(r, "X-Hpcloop-Signature", buf_str(&v), 80);
		buf_release(&v);
	}
	return 0;
}

/* ---------------------------------------------------------------- */
/* The file channel                                                   */
/* ---------------------------------------------------------------- */

/* Append 'm' as one JSON line to the file of 'ch', in one write(). */
static int send_file(struct notify_outcome *out, const struct config *cfg,
		     const json_t *ch, const struct notify_msg *m,
		     struct err *err)
{
	char *path = config_path(cfg, str_of(ch, "path"));
	char *slash, *line = NULL;
	json_t *o = message_json(str_of(ch, "name"), m);
	size_t len, done = 0;
	ssize_t w;
	int fd = -1, r = -1;

	out->attempts = 1;
	line = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
	if (!line)
		BUG("cannot encode a notification");
	len = strlen(line);
	line = xrealloc(line, len + 2);
	line[len++] = '\n';
	line[len] = '\0';
	slash = strrchr(path, '/');
	if (slash && slash != path) {
		*slash = '\0';
		if (mkdir(path, 0700) < 0 && errno != EEXIST) {
			err_set(err, ERR_IO_FAILED, "cannot create %s: %s",
				path, strerror(errno));
			goto out;
		}
		*slash = '/';
	}
	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC,
		  0600);
	if (fd < 0) {
		err_set(err, ERR_IO_FAILED, "cannot open %s: %s", path,
			strerror(errno));
		goto out;
	}
	while (done < len) {
		w = write(fd, line + done, len - done);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			err_set(err, ERR_IO_FAILED, "cannot write %s: %s", path,
				strerror(errno));
			goto out;
		}
		done += (size_t)w;
	}
	if (close(fd) < 0) {
		fd = -1;
		err_set(err, ERR_IO_FAILED, "cannot write %s: %s", path,
			strerror(errno));
		goto out;
	}
	fd = -1;
	r = 0;
out:
	if (fd >= 0)
		close(fd);
	free(line);
	free(path);
	json_decref(o);
	return r;
}

/* ---------------------------------------------------------------- */
/* Sending with retries                                               */
/* ---------------------------------------------------------------- */

static long mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000 };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* Whether Slack's API answer 'body' says "ok": true. */
static int slack_ok(const struct buf *body, char *why, size_t n)
{
	json_t *v = json_loads(buf_str(body), 0, NULL);
	const char *e = json_string_value(json_object_get(v, "error"));
	int ok = json_is_true(json_object_get(v, "ok"));

	/* Slack's error is a fixed code such as "invalid_auth". */
	snprintf(why, n, "%.64s", e ? e : "no \"ok\": true in the answer");
	json_decref(v);
	return ok;
}

/*
 * Judge one try: 0 when the channel took it, 1 when another try may
 * do better (with 'err' set), -1 when none will.
 */
static int judge(const struct req *r, const json_t *ch,
		 const struct http_response *res, struct err *err)
{
	const char *name = str_of(ch, "name");
	char why[80];

	if (res->status >= 200 && res->status <= 299) {
		if (!r->slack_api || slack_ok(&res->body, why, sizeof(why)))
			return 0;
		err_set(err, ERR_NOTIFY_FAILED,
			"channel '%s': Slack refused the message: %s", name,
			why);
		err_detail(err, "slack_error", json_string(why));
		return -1;
	}
	err_set(err, notify_status_retryable(res->status) ? ERR_HTTP_FAILED
							  : ERR_NOTIFY_FAILED,
		"channel '%s' answered HTTP %ld", name, res->status);
	err_detail(err, "http_status", json_integer(res->status));
	if (res->retry_after_s >= 0)
		err_detail(err, "retry_after_s",
			   json_integer(res->retry_after_s));
	return notify_status_retryable(res->status) ? 1 : -1;
}

/*
 * Whether the failed try 'err' never reached the peer (the name did not
 * resolve, the connection was refused), so that trying again cannot
 * deliver twice.  A timeout may have delivered: it is not tried again.
 */
static int connect_failed(const struct err *err)
{
	json_int_t code = json_integer_value(json_object_get(err->details,
							     "curl_code"));

	return err->code == ERR_HTTP_FAILED && (code == 6 || code == 7);
}

/* The setting 'key' of 'ch', in seconds, as milliseconds. */
static long seconds_ms(const json_t *ch, const char *key)
{
	return (long)(json_number_value(json_object_get(ch, key)) * 1000);
}

/* The tries of the HTTP request 'r' to 'ch'. */
static int send_http(struct notify_outcome *out, const json_t *ch,
		     struct req *r, struct err *err)
{
	struct http_response res = HTTP_RESPONSE_INIT;
	struct http_request hr;
	long start = mono_ms(), wait, budget_ms;
	int max = (int)json_integer_value(json_object_get(ch, "max_attempts"));
	int verdict;

	budget_ms = seconds_ms(ch, "retry_budget_s");
	memset(&hr, 0, sizeof(hr));
	r->headers[r->nheaders] = NULL;
	hr.url = buf_str(&r->url);
	hr.headers = (const char *const *)r->headers;
	hr.body = r->body;
	hr.body_len = r->body_len;
	hr.timeout_ms = seconds_ms(ch, "timeout_s");
	hr.connect_timeout_ms = seconds_ms(ch, "connect_timeout_s");
	for (;;) {
		err_release(err);
		out->attempts++;
		res.retry_after_s = -1;
		if (http_post(&res, &hr, err) < 0) {
			verdict = connect_failed(err) ? 1 : -1;
			err_detail(err, "channel", json_string(str_of(ch,
								      "name")));
		} else {
			out->http_status = res.status;
			verdict = judge(r, ch, &res, err);
		}
		if (verdict <= 0 || out->attempts >= max)
			break;
		wait = notify_backoff_ms(out->attempts, res.retry_after_s,
					 mono_ms() - start, budget_ms);
		if (wait < 0)
			break;
		sleep_ms(wait);
	}
	http_response_release(&res);
	if (verdict == 0)
		return 0;
	err_detail(err, "attempts", json_integer(out->attempts));
	return -1;
}

int notify_send(struct notify_outcome *out, const struct config *cfg,
		const json_t *channel, const struct notify_msg *m,
		struct err *err)
{
	const char *type = str_of(channel, "type");
	struct req r;
	int ret = -1;

	memset(out, 0, sizeof(*out));
	memset(&r, 0, sizeof(r));
	if (!strcmp(type, "file"))
		return send_file(out, cfg, channel, m, err);
	if (!strcmp(type, "ntfy"))
		ret = build_ntfy(&r, channel, m);
	else if (!strcmp(type, "slack"))
		ret = build_slack(&r, channel, m, err);
	else if (!strcmp(type, "webhook"))
		ret = build_webhook(&r, channel, m);
	else
		BUG("unknown notification type '%s'", type);
	if (ret == 0)
		ret = send_http(out, channel, &r, err);
	req_release(&r);
	return ret;
}
