/*
 * remote.c: the remote CLI over a minimal libcurl (see remote.h).
 *
 * TO MERGE ONTO src/core/http.c: the "Loading libcurl" section and
 * remote_post() are a stand-in for the libcurl module being written
 * beside this one; keep remote_run() and call http.c's POST.
 */
#include <dlfcn.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "buf.h"
#include "envelope.h"
#include "remote.h"
#include "banned.h"

#define REMOTE_TIMEOUT_S 600
#define REMOTE_BODY_MAX (64u << 20)

/* ---------------------------------------------------------------- */
/* Loading libcurl                                                    */
/* ---------------------------------------------------------------- */

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
	int loaded;
} curl;

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;

static void curl_load(void)
{
	static const char *const names[] = { "libcurl.so.4", "libcurl.so",
					     "libcurl-gnutls.so.4" };
	void *h = NULL;
	size_t i;

	for (i = 0; !h && i < sizeof(names) / sizeof(names[0]); i++)
		h = dlopen(names[i], RTLD_NOW | RTLD_LOCAL);
	if (!h)
		return;
#define X(field, sym)                                                  \
	*(void **)&curl.field = dlsym(h, #sym);                        \
	if (!curl.field)                                               \
		return;
	CURL_FUNCS(X)
#undef X
	if (curl.global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return;
	curl.loaded = 1;
}

/* ---------------------------------------------------------------- */
/* POST                                                               */
/* ---------------------------------------------------------------- */

static size_t on_data(char *ptr, size_t size, size_t n, void *userdata)
{
	struct buf *b = userdata;

	if (buf_add(b, ptr, size * n) < 0)
		return 0;	/* over the cap: libcurl stops */
	return size * n;
}

int remote_post(struct buf *resp, long *status_out, const char *url,
		const char *const *headers, const char *body, size_t len,
		long timeout_s, struct err *err)
{
	struct curl_slist *list = NULL;
	CURL *h;
	CURLcode rc;
	size_t i;

	*status_out = 0;
	pthread_once(&curl_once, curl_load);
	if (!curl.loaded)
		return err_set(err, ERR_INTERNAL,
			       "cannot load libcurl (libcurl.so.4): install "
			       "libcurl4");
	h = curl.easy_init();
	if (!h)
		return err_set(err, ERR_INTERNAL, "curl_easy_init failed");
	for (i = 0; headers && headers[i]; i++)
		list = curl.slist_append(list, headers[i]);
	buf_init(resp, REMOTE_BODY_MAX);
	curl.easy_setopt(h, CURLOPT_URL, url);
	curl.easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	curl.easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl.easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
	curl.easy_setopt(h, CURLOPT_POST, 1L);
	curl.easy_setopt(h, CURLOPT_POSTFIELDS, body);
	curl.easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
	curl.easy_setopt(h, CURLOPT_HTTPHEADER, list);
	curl.easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
	curl.easy_setopt(h, CURLOPT_WRITEDATA, resp);
	curl.easy_setopt(h, CURLOPT_CONNECTTIMEOUT, 10L);
	curl.easy_setopt(h, CURLOPT_TIMEOUT, timeout_s);
	rc = curl.easy_perform(h);
	if (rc == CURLE_OK)
		curl.easy_getinfo(h, CURLINFO_RESPONSE_CODE, status_out);
	curl.slist_free_all(list);
	curl.easy_cleanup(h);
	if (rc != CURLE_OK) {
		buf_release(resp);
		err_set(err, ERR_SERVER_UNREACHABLE,
			"no answer from the hpcloop server: %s",
			curl.easy_strerror(rc));
		return -1;
	}
	return 0;
}

/* ---------------------------------------------------------------- */
/* The remote CLI                                                     */
/* ---------------------------------------------------------------- */

/* 1 when 'name' can be put in a URL path as it is. */
static int name_ok(const char *name)
{
	size_t n = strspn(name, "abcdefghijklmnopqrstuvwxyz0123456789-_");

	return n && !name[n] && n < 64;
}

int remote_run(json_t **env_out, const char *server, const char *name,
	       const json_t *spec, const struct err *spec_error)
{
	struct buf url = BUF_INIT, auth = BUF_INIT, resp = BUF_INIT;
	const char *token = getenv("HPCLOOP_API_TOKEN");
	const char *headers[4] = { "Content-Type: application/json",
				   "Accept: application/json", NULL, NULL };
	const char *code_name;
	struct err err = ERR_INIT;
	char *body = NULL;
	json_t *env = NULL;
	long status;
	size_t n;
	int code;

	*env_out = NULL;
	if (spec_error) {
		err_set(&err, spec_error->code, "%s", spec_error->message);
		if (spec_error->details)
			err.details = json_deep_copy(spec_error->details);
		goto fail;
	}
	if (!name_ok(name)) {
		err_set(&err, ERR_UNKNOWN_PRIMITIVE, "unknown primitive '%s'",
			name);
		goto fail;
	}
	n = strlen(server);
	while (n && server[n - 1] == '/')
		n--;
	if (strncmp(server, "http://", 7) && strncmp(server, "https://", 8)) {
		err_set(&err, ERR_USAGE, "the server URL must start with "
			"http:// or https://");
		goto fail;
	}
	buf_add(&url, server, n);
	buf_addf(&url, "/v1/p/%s", name);
	if (token && *token) {
		buf_addf(&auth, "Authorization: Bearer %s", token);
		headers[2] = buf_str(&auth);
	}
	body = json_dumps(spec, JSON_COMPACT);
	if (remote_post(&resp, &status, buf_str(&url), headers, body,
			strlen(body), REMOTE_TIMEOUT_S, &err) < 0)
		goto fail;
	env = json_loadb(resp.data ? resp.data : "", resp.len, 0, NULL);
	if (!json_is_object(env) || !json_object_get(env, "ok")) {
		json_decref(env);
		env = NULL;
		err_set(&err, ERR_HTTP_FAILED,
			"the server answered HTTP %ld without an hpcloop "
			"envelope", status);
		err_remedy(&err, "check that --server / HPCLOOP_SERVER names "
			   "an `hpcloop serve`");
		goto fail;
	}
	code_name = json_string_value(json_object_get(env, "error_code"));
	code = json_is_true(json_object_get(env, "ok"))
		       ? 0
		       : err_exit_class(code_name ? err_from_name(code_name)
						  : ERR_INTERNAL);
	*env_out = env;
	goto out;
fail:
	*env_out = envelope_failure(err.code == ERR_UNKNOWN_PRIMITIVE ? NULL
								     : name,
				    &err);
	code = err_exit_class(err.code);
out:
	free(body);
	buf_release(&url);
	buf_release(&auth);
	buf_release(&resp);
	err_release(&err);
	return code;
}
