/*
 * http.c: one bounded POST through libcurl (see http.h).  libcurl is
 * loaded with dlopen on the first request, not linked (DESIGN §12):
 * the headers still give each function pointer the library's own type.
 */
#define CURL_DISABLE_TYPECHECK 1

#include <ctype.h>
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <curl/curl.h>

#include "http.h"
#include "version.h"
#include "banned.h"

/* ---------------------------------------------------------------- */
/* Loading libcurl                                                    */
/* ---------------------------------------------------------------- */

/* Each function of libcurl used here: X(field, symbol). */
#define CURL_FUNCS(X)                                                  \
	X(global_init, curl_global_init)                               \
	X(easy_init, curl_easy_init)                                   \
	X(easy_setopt, curl_easy_setopt)                               \
	X(easy_perform, curl_easy_perform)                             \
	X(easy_getinfo, curl_easy_getinfo)                             \
	X(easy_cleanup, curl_easy_cleanup)                             \
	X(easy_strerror, curl_easy_strerror)                           \
	X(slist_append, curl_slist_append)                             \
	X(slist_free_all, curl_slist_free_all)

static struct {
#define X(field, sym) __typeof__(&sym) field;
	CURL_FUNCS(X)
#undef X
} lib;

static pthread_mutex_t lib_lock = PTHREAD_MUTEX_INITIALIZER;
static int lib_loaded;

/*
 * Load libcurl and resolve CURL_FUNCS.  A library that cannot be
 * loaded is the installation's to fix; the next call tries again.
 */
static int lib_load(struct err *err)
{
	static const char *const names[] = { "libcurl.so.4",
					     "libcurl-gnutls.so.4" };
	const char *missing = NULL;
	void *h = NULL;
	size_t i;
	int r = 0;

	pthread_mutex_lock(&lib_lock);
	if (lib_loaded)
		goto out;
	for (i = 0; !h && i < sizeof(names) / sizeof(names[0]); i++)
		h = dlopen(names[i], RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		err_set(err, ERR_PRECONDITION_FAILED,
			"cannot load libcurl (libcurl.so.4), which "
			"notifications need");
		r = err_remedy(err, "install libcurl4 (apt-get install "
				    "libcurl4), then retry");
		goto out;
	}
#define X(field, sym)                                                  \
	if (!missing) {                                                \
		*(void **)&lib.field = dlsym(h, #sym);                 \
		if (!lib.field)                                        \
			missing = #sym;                                \
	}
	CURL_FUNCS(X)
#undef X
	if (missing || lib.global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		dlclose(h);
		r = err_set(err, ERR_PRECONDITION_FAILED,
			    "libcurl.so.4 cannot be used (%s)",
			    missing ? missing : "curl_global_init failed");
		goto out;
	}
	lib_loaded = 1;
out:
	pthread_mutex_unlock(&lib_lock);
	return r;
}

/* ---------------------------------------------------------------- */
/* Callbacks                                                          */
/* ---------------------------------------------------------------- */

/* What the callbacks fill in during one request. */
struct call {
	struct http_response *res;	/* the response being read */
	int overflow;			/* the body passed its limit */
};

static size_t on_body(char *p, size_t size, size_t n, void *arg)
{
	struct call *c = arg;

	if (buf_add(&c->res->body, p, size * n) < 0) {
		c->overflow = 1;
		return 0;
	}
	return size * n;
}

long http_parse_retry_after(const char *v, long now)
{
	struct tm tm;
	const char *end;
	char *num_end;
	long s;
	time_t t;

	while (*v == ' ' || *v == '\t')
		v++;
	if (isdigit((unsigned char)*v)) {
		s = strtol(v, &num_end, 10);
		while (*num_end == ' ' || *num_end == '\t' ||
		       *num_end == '\r' || *num_end == '\n')
			num_end++;
		return *num_end || s < 0 ? -1 : s;
	}
	memset(&tm, 0, sizeof(tm));
	end = strptime(v, "%a, %d %b %Y %H:%M:%S GMT", &tm);
	if (!end)
		return -1;
	t = timegm(&tm);
	return t <= now ? 0 : (long)(t - now);
}

/* Each header line: keep the last response's Retry-After. */
static size_t on_header(char *p, size_t size, size_t n, void *arg)
{
	struct call *c = arg;
	size_t len = size * n;
	static const char name[] = "retry-after:";
	char v[128];

	if (len >= 5 && !strncmp(p, "HTTP/", 5))
		c->res->retry_after_s = -1;
	if (len > sizeof(name) - 1 && len - (sizeof(name) - 1) < sizeof(v) &&
	    !strncasecmp(p, name, sizeof(name) - 1)) {
		memcpy(v, p + sizeof(name) - 1, len - (sizeof(name) - 1));
		v[len - (sizeof(name) - 1)] = '\0';
		c->res->retry_after_s =
			http_parse_retry_after(v, (long)time(NULL));
	}
	return len;
}

/* ---------------------------------------------------------------- */
/* The request                                                        */
/* ---------------------------------------------------------------- */

void http_response_release(struct http_response *r)
{
	if (!r)
		return;
	buf_release(&r->body);
	r->status = 0;
	r->retry_after_s = -1;
}

/* Whether 'url' is http:// or https://. */
static int url_allowed(const char *url)
{
	return !strncasecmp(url, "http://", 7) ||
	       !strncasecmp(url, "https://", 8);
}

/* The error of the finished transfer 'rc'. */
static int transfer_error(const struct call *c, CURLcode rc,
			  const struct http_request *req, struct err *err)
{
	if (c->overflow)
		return err_set(err, ERR_HTTP_FAILED,
			       "the HTTP response is larger than %zu bytes",
			       req->max_response ? req->max_response
						 : (size_t)HTTP_RESPONSE_MAX);
	if (rc == CURLE_OPERATION_TIMEDOUT) {
		err_set(err, ERR_TIMEOUT,
			"the HTTP request took longer than %ld ms",
			req->timeout_ms);
		err_detail(err, "timeout_ms", json_integer(req->timeout_ms));
		return -1;
	}
	err_set(err, ERR_HTTP_FAILED, "the HTTP request failed: %s",
		lib.easy_strerror(rc));
	err_detail(err, "curl_code", json_integer((json_int_t)rc));
	return -1;
}

int http_post(struct http_response *out, const struct http_request *req,
	      struct err *err)
{
	struct call c = { out, 0 };
	struct curl_slist *hdrs = NULL, *next;
	CURL *h = NULL;
	CURLcode rc;
	long status = 0;
	size_t i;
	int r = -1;

	http_response_release(out);
	buf_init(&out->body, req->max_response ? req->max_response
					       : HTTP_RESPONSE_MAX);
	if (!url_allowed(req->url))
		return err_set(err, ERR_HTTP_FAILED,
			       "only http:// and https:// URLs are allowed");
	if (lib_load(err) < 0)
		return -1;
	h = lib.easy_init();
	if (!h)
		return err_set(err, ERR_INTERNAL, "curl_easy_init failed");
	/* No Expect: 100-continue round trip; a body is small. */
	hdrs = lib.slist_append(NULL, "Expect:");
	for (i = 0; hdrs && req->headers && req->headers[i]; i++) {
		next = lib.slist_append(hdrs, req->headers[i]);
		if (!next) {
			lib.slist_free_all(hdrs);
			hdrs = NULL;
		}
		hdrs = next;
	}
	if (!hdrs) {
		r = err_set(err, ERR_INTERNAL, "out of memory for headers");
		goto out;
	}
	lib.easy_setopt(h, CURLOPT_URL, req->url);
	lib.easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	lib.easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
	lib.easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	lib.easy_setopt(h, CURLOPT_POST, 1L);
	lib.easy_setopt(h, CURLOPT_POSTFIELDS, req->body ? req->body : "");
	lib.easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE,
			(curl_off_t)(req->body ? req->body_len : 0));
	lib.easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
	lib.easy_setopt(h, CURLOPT_USERAGENT, "hpcloop/" HPCLOOP_VERSION);
	lib.easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, req->connect_timeout_ms);
	lib.easy_setopt(h, CURLOPT_TIMEOUT_MS, req->timeout_ms);
	lib.easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
	lib.easy_setopt(h, CURLOPT_WRITEDATA, &c);
	lib.easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
	lib.easy_setopt(h, CURLOPT_HEADERDATA, &c);
	rc = lib.easy_perform(h);
	if (rc != CURLE_OK) {
		transfer_error(&c, rc, req, err);
		goto out;
	}
	lib.easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
	out->status = status;
	r = 0;
out:
	if (r < 0)
		http_response_release(out);
	lib.slist_free_all(hdrs);
	lib.easy_cleanup(h);
	return r;
}
