/*
 * remote.c: the remote CLI (see remote.h); its POSTs go through http.c,
 * the one module that uses libcurl.
 */
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "envelope.h"
#include "http.h"
#include "remote.h"
#include "banned.h"

#define REMOTE_TIMEOUT_S 600
#define REMOTE_BODY_MAX (64u << 20)

/* ---------------------------------------------------------------- */
/* The POST, through http.c                                           */
/* ---------------------------------------------------------------- */

int remote_post(struct buf *resp, long *status_out, const char *url,
		const char *const *headers, const char *body, size_t len,
		long timeout_s, struct err *err)
{
	struct http_request req;
	struct http_response res = HTTP_RESPONSE_INIT;
	struct err e = ERR_INIT;

	*status_out = 0;
	memset(&req, 0, sizeof(req));
	req.url = url;
	req.headers = headers;
	req.body = body;
	req.body_len = len;
	req.connect_timeout_ms = 10000;
	req.timeout_ms = timeout_s * 1000;
	req.max_response = REMOTE_BODY_MAX;
	if (http_post(&res, &req, &e) < 0) {
		if (e.code == ERR_PRECONDITION_FAILED)
			err_set(err, ERR_INTERNAL, "%s", e.message);
		else
			err_set(err, ERR_SERVER_UNREACHABLE,
				"no answer from the hpcloop server: %s",
				e.message);
		err_release(&e);
		return -1;
	}
	*status_out = res.status;
	buf_init(resp, REMOTE_BODY_MAX);
	buf_add(resp, res.body.data ? res.body.data : "", res.body.len);
	http_response_release(&res);
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
