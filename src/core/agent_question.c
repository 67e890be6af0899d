/*
 * agent_question.c: one question to the agent command on this machine
 * (see agent_question.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent_question.h"
#include "buf.h"
#include "transport.h"
#include "xalloc.h"
#include "banned.h"

/* The most of the agent's standard error kept in details. */
#define AGENT_STDERR_TAIL 400

/* Whether 's' holds anything but blanks. */
static int has_text(const char *s)
{
	for (; s && *s; s++)
		if (*s != ' ' && *s != '\t' && *s != '\n' && *s != '\r')
			return 1;
	return 0;
}

/*
 * The last AGENT_STDERR_TAIL bytes of 's' as a new JSON string, with
 * control characters and bytes outside ASCII shown as '?'.
 */
static json_t *tail_of(const char *s)
{
	size_t len = s ? strlen(s) : 0;
	size_t n = len > AGENT_STDERR_TAIL ? AGENT_STDERR_TAIL : len;
	char *t = xstrndup(s ? s + (len - n) : "", n), *q;
	json_t *v;

	for (q = t; *q; q++)
		if ((unsigned char)*q >= 0x80 ||
		    ((unsigned char)*q < 0x20 && *q != '\n'))
			*q = '?';
	v = json_string(t);
	free(t);
	return v;
}

int agent_answer_check(const struct agent_answer *a, struct err *err)
{
	if (a->truncated)
		return err_set(err, ERR_AGENT_FAILED,
			       "the agent wrote more than %d bytes",
			       AGENT_OUTPUT_MAX);
	if (!a->saw_result)
		return err_set(err, ERR_AGENT_FAILED,
			       "the agent gave no result (no stream-json "
			       "result line)");
	if (a->is_error || (a->subtype && strcmp(a->subtype, "success"))) {
		err_set(err, ERR_AGENT_FAILED, "the agent failed (%s)",
			a->subtype ? a->subtype : "error");
		if (a->text)
			err_detail(err, "error", tail_of(a->text));
		return -1;
	}
	if (!has_text(a->text))
		return err_set(err, ERR_AGENT_FAILED,
			       "the agent answered nothing");
	return 0;
}

int agent_question(struct agent_answer *out, const json_t *argv,
		   const char *cwd, const char *prompt, int timeout_s,
		   struct err *err)
{
	struct transport *t = NULL;
	int r = -1;

	memset(out, 0, sizeof(*out));
	if (!json_array_size(argv))
		return err_set(err, ERR_AGENT_FAILED, "no agent command");
	if (transport_open(&t, NULL, err) < 0)
		return -1;
	if (agent_ask(t, out, argv, NULL, prompt, cwd, timeout_s, err) < 0) {
		char why[ERR_MESSAGE_MAX];
		enum err_code was = err->code;

		snprintf(why, sizeof(why), "%s", err->message);
		err_set(err, ERR_AGENT_FAILED, "the agent command %s: %s",
			was == ERR_TIMEOUT ? "ran out of time" : "failed", why);
		goto out;
	}
	if (out->exit_code != 0 && !out->saw_result) {
		err_set(err, ERR_AGENT_FAILED,
			"the agent command exited with %d", out->exit_code);
		err_detail(err, "exit_code", json_integer(out->exit_code));
		err_detail(err, "stderr", tail_of(out->stderr_tail));
		goto out;
	}
	if (agent_answer_check(out, err) < 0) {
		err_detail(err, "exit_code", json_integer(out->exit_code));
		if (out->stderr_tail)
			err_detail(err, "stderr", tail_of(out->stderr_tail));
		goto out;
	}
	r = 0;
out:
	if (r < 0)
		agent_answer_release(out);
	transport_close(t);
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
