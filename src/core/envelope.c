/*
 * envelope.c: building and printing the result line, and the fatal
 * out-of-memory path, which prints an envelope built in advance without
 * allocating.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "envelope.h"
#include "fault.h"
#include "xalloc.h"
#include "banned.h"

/* Set once an envelope has started to reach stdout (see envelope_fatal). */
static volatile sig_atomic_t stdout_begun;

json_t *envelope_success(const char *primitive, int idempotent,
			 const json_t *data, const json_t *partial_errors)
{
	json_t *env = json_object();

	json_object_set_new(env, "ok", json_true());
	json_object_set_new(env, "primitive",
			    primitive ? json_string(primitive) : json_null());
	json_object_set_new(env, "idempotent", json_boolean(idempotent));
	json_object_set_new(env, "data",
			    data ? json_deep_copy(data) : json_object());
	if (partial_errors && json_array_size(partial_errors))
		json_object_set_new(env, "partial_errors",
				    json_deep_copy(partial_errors));
	return env;
}

/*
 * The remediation of 'err' (of 'code') for 'primitive' as a new JSON
 * string: the case's own when set, else the code's, with {primitive}
 * replaced by the primitive's name.
 */
static json_t *remediation_text(const char *primitive, const struct err *err,
				enum err_code code)
{
	static const char mark[] = "{primitive}";
	const char *rem = err->remedy[0] ? err->remedy : err_remediation(code);
	const char *hit = strstr(rem, mark);
	json_t *v;
	char *text;
	size_t n;

	if (!hit)
		return json_string(rem);
	n = strlen(rem) + (primitive ? strlen(primitive) : 4) + 1;
	text = xmalloc(n);
	snprintf(text, n, "%.*s%s%s", (int)(hit - rem), rem,
		 primitive ? primitive : "NAME", hit + sizeof(mark) - 1);
	v = json_string(text);
	free(text);
	return v;
}

json_t *envelope_failure(const char *primitive, const struct err *err)
{
	enum err_code code = err->code == ERR_NONE ? ERR_INTERNAL : err->code;
	const char *msg = err->message[0] ? err->message
					  : "failed without a message";
	json_t *env = json_object();

	json_object_set_new(env, "ok", json_false());
	json_object_set_new(env, "primitive",
			    primitive ? json_string(primitive) : json_null());
	json_object_set_new(env, "error_code", json_string(err_name(code)));
	json_object_set_new(env, "message", json_string(msg));
	json_object_set_new(env, "retry_safe",
			    json_boolean(err_retry_safe(code)));
	json_object_set_new(env, "remediation",
			    remediation_text(primitive, err, code));
	json_object_set_new(env, "details",
			    err->details ? json_deep_copy(err->details)
					 : json_object());
	return env;
}

/* Hold back the signals that would end the call (see envelope_print). */
static void block_signals(void)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	sigprocmask(SIG_BLOCK, &set, NULL);
}

int envelope_print(const json_t *env, int pretty)
{
	size_t flags = JSON_REAL_PRECISION(15) |
		       (pretty ? JSON_INDENT(2) : JSON_COMPACT);
	char *text;
	size_t len;
	int r = 0;

	/*
	 * Render the whole line before writing any of it: running out of
	 * memory half-way through must not leave a torn line on stdout
	 * for the out-of-memory envelope to be appended to.
	 */
	text = env ? json_dumps(env, flags) : NULL;
	if (!text)
		return -1;
	len = strlen(text);
	fault_point("envelope.before_print");
	/*
	 * From the first byte on, nothing else may reach stdout: a signal
	 * arriving now waits (the process exits right after), and the
	 * fatal path only exits.
	 */
	block_signals();
	stdout_begun = 1;
	if (fwrite(text, 1, len, stdout) != len || fputc('\n', stdout) == EOF)
		r = -1;
	free(text);
	if (fflush(stdout) == EOF || ferror(stdout))
		r = -1;
	return r;
}

int envelope_print_text(const char *text)
{
	size_t len = strlen(text);
	int r = 0;

	block_signals();
	stdout_begun = 1;
	if (fwrite(text, 1, len, stdout) != len)
		r = -1;
	if (fflush(stdout) == EOF || ferror(stdout))
		r = -1;
	return r;
}

/* ---------------------------------------------------------------- */
/* The fatal path                                                     */
/* ---------------------------------------------------------------- */

/*
 * The one place that builds the envelope of a process that cannot go
 * on (out of memory, BUG(), a signal): from static text only, with
 * memcpy and write(), so it is safe inside a signal handler and after
 * malloc failed.  The primitive's name is copied in when it becomes
 * known.
 */
static char fatal_name[80] = "null";	/* JSON: "\"status\"" or "null" */
static char fatal_plain[64];		/* the bare name, for remediations */

void envelope_set_primitive(const char *primitive)
{
	size_t n = primitive ? strlen(primitive) : 0;

	if (!primitive || n + 3 > sizeof(fatal_name) ||
	    n + 1 > sizeof(fatal_plain)) {
		memcpy(fatal_name, "null", 5);
		fatal_plain[0] = '\0';
		return;
	}
	fatal_name[0] = '"';
	memcpy(fatal_name + 1, primitive, n);
	fatal_name[n + 1] = '"';
	fatal_name[n + 2] = '\0';
	memcpy(fatal_plain, primitive, n + 1);
}

/* A fixed buffer being filled without allocating. */
struct fixed {
	char *p;
	size_t len, cap;
};

static void fixed_add(struct fixed *f, const char *s)
{
	size_t n = strlen(s);

	if (n > f->cap - f->len)
		n = f->cap - f->len;
	memcpy(f->p + f->len, s, n);
	f->len += n;
}

/*
 * Append the remediation 'rem' with {primitive} replaced by the
 * primitive's name (or NAME when none is known yet).
 */
static void fixed_add_remedy(struct fixed *f, const char *rem)
{
	static const char mark[] = "{primitive}";
	const char *hit;
	char piece[256];
	size_t n;

	while ((hit = strstr(rem, mark))) {
		n = (size_t)(hit - rem);
		if (n >= sizeof(piece))
			n = sizeof(piece) - 1;
		memcpy(piece, rem, n);
		piece[n] = '\0';
		fixed_add(f, piece);
		fixed_add(f, fatal_plain[0] ? fatal_plain : "NAME");
		rem = hit + sizeof(mark) - 1;
	}
	fixed_add(f, rem);
}

void envelope_fatal(enum err_code code, const char *message)
{
	static char line[2048];
	struct fixed f = { line, 0, sizeof(line) - 2 };
	ssize_t r;

	if (stdout_begun)
		_exit(err_exit_class(code));
	stdout_begun = 1;
	fixed_add(&f, "{\"ok\":false,\"primitive\":");
	fixed_add(&f, fatal_name);
	fixed_add(&f, ",\"error_code\":\"");
	fixed_add(&f, err_name(code));
	fixed_add(&f, "\",\"message\":\"");
	fixed_add(&f, message);
	fixed_add(&f, "\",\"retry_safe\":");
	fixed_add(&f, err_retry_safe(code) ? "true" : "false");
	fixed_add(&f, ",\"remediation\":\"");
	fixed_add_remedy(&f, err_remediation(code));
	fixed_add(&f, "\",\"details\":{}}\n");
	r = write(STDOUT_FILENO, line, f.len);
	(void)r;
	_exit(err_exit_class(code));
}

static void oom(void)
{
	envelope_fatal(ERR_INTERNAL, "out of memory");
}

void envelope_install_oom(void)
{
	envelope_set_primitive(NULL);
	xalloc_set_oom_handler(oom);
	json_set_alloc_funcs(xalloc_json_malloc, xalloc_json_free);
}
