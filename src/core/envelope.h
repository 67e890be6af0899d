/*
 * envelope.h: the one line of JSON that every call prints (DESIGN §1).
 *
 * Only envelope.c writes to stdout.  Success:
 *	{"ok":true,"primitive":P,"idempotent":B,"data":{...}
 *	 [,"partial_errors":[...]]}
 * Failure:
 *	{"ok":false,"primitive":P,"error_code":C,"message":M,
 *	 "retry_safe":B,"remediation":R,"details":{...}}
 */
#ifndef HPCLOOP_ENVELOPE_H
#define HPCLOOP_ENVELOPE_H

#include <jansson.h>

#include "err.h"

/*
 * Build the envelopes as new objects.  'primitive' may be NULL (an
 * unknown or missing primitive); 'data' and 'partial_errors' are
 * borrowed; an empty or NULL 'partial_errors' is left out.
 */
json_t *envelope_success(const char *primitive, int idempotent,
			 const json_t *data, const json_t *partial_errors);
json_t *envelope_failure(const char *primitive, const struct err *err);

/*
 * Write 'env' as one line to stdout, flush and check the stream.
 * Returns 0, or -1 when stdout could not be written (the caller exits 3).
 */
int envelope_print(const json_t *env, int pretty);

/*
 * Write 'text' to stdout as it is, for `hpcloop help NAME --text` (a doc
 * page for a person; DESIGN §12 exempts it from the one-line rule).
 * Returns 0, or -1 when stdout could not be written.
 */
int envelope_print_text(const char *text);

/*
 * Prepare the out-of-memory path: install xalloc's handler and make
 * jansson allocate through xalloc, so that running out of memory prints
 * a pre-built envelope naming 'primitive' once known (see
 * envelope_set_primitive) and exits 3.
 */
void envelope_install_oom(void);
void envelope_set_primitive(const char *primitive);

/*
 * The fatal path, the one place the "cannot go on" envelope is built:
 * write the failure envelope of 'code' with the static text 'message'
 * (no quotes or backslashes) for the primitive last given to
 * envelope_set_primitive(), without allocating, and _exit with the
 * code's exit class.  Async-signal-safe.  When an envelope has already
 * begun to reach stdout it only exits, so stdout never holds two lines.
 */
void envelope_fatal(enum err_code code, const char *message)
	__attribute__((noreturn));

#endif
