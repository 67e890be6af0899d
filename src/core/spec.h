/*
 * spec.h: reading a primitive's JSON spec from the command line, a
 * file or stdin, with a hard size limit, and checking it against the
 * primitive's embedded input schema.
 */
#ifndef HPCLOOP_SPEC_H
#define HPCLOOP_SPEC_H

#include <jansson.h>
#include <stddef.h>

#include "err.h"

/* The largest spec accepted, in bytes. */
#define SPEC_MAX_BYTES (1024 * 1024)

/*
 * Read the spec named by 'arg': NULL means "{}", "-" reads stdin, text
 * starting with '{' or '[' is the JSON itself, anything else is a file
 * name.  It must be one JSON object in valid UTF-8, at most
 * SPEC_MAX_BYTES, without duplicate keys.  A new object in '*out'.
 */
int spec_read(json_t **out, const char *arg, struct err *err);

/*
 * Parse 'len' bytes of 'text' as a spec (as spec_read does after
 * reading); 'origin' names the source in messages.
 */
int spec_parse(json_t **out, const char *text, size_t len,
	       const char *origin, struct err *err);

/*
 * The embedded schema "schemas/<name>.<which>.json" ('which' is "input"
 * or "output"), as a new object, or NULL when there is none.
 */
json_t *spec_schema(const char *name, const char *which);

/*
 * Validate 'instance' against the schema of 'name'/'which'.  On failure
 * sets spec_invalid (or 'code' for output checks) with the first error
 * in the message and all of them in details.errors.
 */
int spec_validate(const char *name, const char *which,
		  const json_t *instance, enum err_code code,
		  struct err *err);

#endif
