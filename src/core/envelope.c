/*
 * envelope.c: building and printing the result line, and the fatal
 * out-of-memory path, which prints an envelope built in advance without
 * allocating.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "envelope.h"
#include "xalloc.h"
#include "banned.h"

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
			    json_string(err_remediation(code)));
	json_object_set_new(env, "details",
			    err->details ? json_deep_copy(err->details)
					 : json_object());
	return env;
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
	if (fwrite(text, 1, len, stdout) != len || fputc('\n', stdout) == EOF)
		r = -1;
	free(text);
	if (fflush(stdout) == EOF || ferror(stdout))
		r = -1;
	return r;
}

/* ---------------------------------------------------------------- */
/* Out of memory                                                      */
/* ---------------------------------------------------------------- */

/*
 * The envelope is assembled in this static buffer whenever the
 * primitive becomes known, so that the OOM handler only calls write().
 */
static char oom_line[512];
static size_t oom_len;

void envelope_set_primitive(const char *primitive)
{
	char name[80];
	int n;

	if (primitive && strlen(primitive) < sizeof(name) - 2)
		snprintf(name, sizeof(name), "\"%s\"", primitive);
	else
		snprintf(name, sizeof(name), "null");
	n = snprintf(oom_line, sizeof(oom_line),
		     "{\"ok\":false,\"primitive\":%s,"
		     "\"error_code\":\"internal\","
		     "\"message\":\"out of memory\",\"retry_safe\":false,"
		     "\"remediation\":\"%s\",\"details\":{}}\n",
		     name, err_remediation(ERR_INTERNAL));
	oom_len = n > 0 && (size_t)n < sizeof(oom_line) ? (size_t)n : 0;
}

static void oom(void)
{
	ssize_t r;

	if (!oom_len)
		envelope_set_primitive(NULL);
	r = write(STDOUT_FILENO, oom_line, oom_len);
	(void)r;
	_exit(3);
}

void envelope_install_oom(void)
{
	envelope_set_primitive(NULL);
	xalloc_set_oom_handler(oom);
	json_set_alloc_funcs(xalloc_json_malloc, xalloc_json_free);
}
