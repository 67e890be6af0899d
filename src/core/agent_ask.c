/*
 * agent_ask.c: one question to the agent command on this machine (see
 * agent_ask.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent_ask.h"
#include "buf.h"
#include "transport.h"
#include "xalloc.h"
#include "banned.h"

/* The most of the agent's standard error kept in details. */
#define AGENT_STDERR_TAIL 400

void agent_answer_release(struct agent_answer *a)
{
	if (!a)
		return;
	free(a->text);
	a->text = NULL;
	a->cost_usd = 0;
	a->turns = 0;
}

/* Whether 's' holds anything but blanks. */
static int has_text(const char *s)
{
	for (; s && *s; s++)
		if (*s != ' ' && *s != '\t' && *s != '\n' && *s != '\r')
			return 1;
	return 0;
}

int agent_parse_stream(struct agent_answer *out, const char *stream, size_t len,
		       struct err *err)
{
	json_t *last = NULL;
	const char *subtype, *text;
	size_t pos = 0;
	int r = -1;

	memset(out, 0, sizeof(*out));
	while (pos < len) {
		const char *nl = memchr(stream + pos, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - (stream + pos)) : len - pos;
		json_t *v = json_loadb(stream + pos, n, 0, NULL);
		const char *type =
		    json_string_value(json_object_get(v, "type"));

		if (json_is_object(v) && type && !strcmp(type, "result")) {
			json_decref(last);
			last = v;
		} else {
			json_decref(v);
		}
		pos += n + (nl ? 1 : 0);
	}
	if (!last)
		return err_set(err, ERR_AGENT_FAILED,
			       "the agent gave no result (no stream-json "
			       "result line)");
	subtype = json_string_value(json_object_get(last, "subtype"));
	text = json_string_value(json_object_get(last, "result"));
	if (json_is_true(json_object_get(last, "is_error")) ||
	    (subtype && strcmp(subtype, "success"))) {
		err_set(err, ERR_AGENT_FAILED, "the agent failed (%s)",
			subtype ? subtype : "error");
		if (json_is_array(json_object_get(last, "errors")))
			err_detail(
			    err, "errors",
			    json_deep_copy(json_object_get(last, "errors")));
		goto out;
	}
	if (!has_text(text)) {
		err_set(err, ERR_AGENT_FAILED, "the agent answered nothing");
		goto out;
	}
	out->text = xstrdup(text);
	out->cost_usd =
	    json_number_value(json_object_get(last, "total_cost_usd"));
	out->turns =
	    (int)json_integer_value(json_object_get(last, "num_turns"));
	r = 0;
out:
	json_decref(last);
	return r;
}

/*
 * The last AGENT_STDERR_TAIL bytes of 'b' as a new JSON string, with
 * control characters and bytes outside ASCII shown as '?'.
 */
static json_t *tail_of(const struct buf *b)
{
	size_t n = b->len > AGENT_STDERR_TAIL ? AGENT_STDERR_TAIL : b->len;
	const char *p = buf_str(b) + (b->len - n);
	char *s = xstrndup(p, n), *q;
	json_t *v;

	for (q = s; *q; q++)
		if ((unsigned char)*q >= 0x80 ||
		    ((unsigned char)*q < 0x20 && *q != '\n'))
			*q = '?';
	v = json_string(s);
	free(s);
	return v;
}

int agent_ask(struct agent_answer *out, const json_t *argv, const char *cwd,
	      const char *prompt, int timeout_s, struct err *err)
{
	struct transport *t = NULL;
	struct exec_result res;
	const char **args = NULL;
	size_t i, n = json_array_size(argv);
	int r = -1;

	memset(out, 0, sizeof(*out));
	exec_result_init(&res, AGENT_ASK_OUT_MAX);
	if (!n)
		return err_set(err, ERR_AGENT_FAILED, "no agent command");
	args = xcalloc(n + 1, sizeof(*args));
	for (i = 0; i < n; i++)
		args[i] = json_string_value(json_array_get(argv, i));
	if (transport_open(&t, NULL, err) < 0)
		goto out;
	if (transport_exec(t, &res, args, cwd, prompt, strlen(prompt),
			   timeout_s, err) < 0) {
		char why[ERR_MESSAGE_MAX];
		enum err_code was = err->code;

		snprintf(why, sizeof(why), "%s", err->message);
		err_set(err, ERR_AGENT_FAILED, "the agent command %s: %s",
			was == ERR_TIMEOUT ? "ran out of time" : "failed", why);
		err_detail(err, "stderr", tail_of(&res.err));
		goto out;
	}
	if (res.out_truncated) {
		err_set(err, ERR_AGENT_FAILED,
			"the agent wrote more than %d bytes",
			AGENT_ASK_OUT_MAX);
		goto out;
	}
	if (res.exit_code != 0) {
		err_set(err, ERR_AGENT_FAILED,
			"the agent command exited with %d", res.exit_code);
		err_detail(err, "exit_code", json_integer(res.exit_code));
		err_detail(err, "stderr", tail_of(&res.err));
		goto out;
	}
	r = agent_parse_stream(out, buf_str(&res.out), res.out.len, err);
out:
	exec_result_release(&res);
	transport_close(t);
	free(args);
	return r;
}

int agent_workdir(char **out, const char *journal_path, struct err *err)
{
	struct transport *t = NULL;
	struct buf dir = BUF_INIT;
	const char *slash = strrchr(journal_path, '/');
	int r;

	*out = NULL;
	if (slash)
		buf_add(&dir, journal_path, (size_t)(slash - journal_path) + 1);
	buf_adds(&dir, "agent");
	r = transport_open(&t, NULL, err);
	if (r == 0)
		r = transport_mkdirs(t, buf_str(&dir), 0700, err);
	transport_close(t);
	if (r < 0) {
		buf_release(&dir);
		return -1;
	}
	*out = buf_detach(&dir, NULL);
	return 0;
}

json_t *agent_find_object(const char *text, const char *key)
{
	const char *p = text;
	int tries;

	for (tries = 0; p && tries < AGENT_FIND_TRIES; tries++) {
		json_t *v;

		p = strchr(p, '{');
		if (!p)
			break;
		v = json_loads(p, JSON_DISABLE_EOF_CHECK, NULL);
		if (json_is_object(v) && json_object_get(v, key))
			return v;
		json_decref(v);
		p++;
	}
	return NULL;
}
