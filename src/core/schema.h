/*
 * schema.h: a JSON Schema draft-07 validator over jansson values.
 *
 * hpcloop checks every document it reads (configs, study files,
 * primitive arguments) against a schema before acting on it, and reports
 * each problem with the location in the document, the keyword that
 * failed and a message a person can act on.  The validator implements
 * the draft-07 validation vocabulary; "format" and the "content*"
 * keywords are annotations and are not asserted.
 */
#ifndef HPCLOOP_SCHEMA_H
#define HPCLOOP_SCHEMA_H

#include <jansson.h>
#include <stddef.h>

/*
 * Validate 'instance' against the draft-07 'schema'.  Neither argument
 * is modified and no reference to either is kept.
 *
 * '$ref's resolve within 'schema' itself, which is the document root:
 * "#", "#/definitions/x" and any JSON pointer (with ~0, ~1 and
 * %-escapes), as well as URIs named by "$id"s inside the same document
 * ("$id": "http://example.com/node" is found by "$ref": "node" from a
 * sibling, "$id": "#foo" by "$ref": "#foo").  The draft-07 meta-schema
 * "http://json-schema.org/draft-07/schema#" is built in (the standard
 * document schemas/meta/draft-07.json, embedded).  Other remote
 * references are never fetched: they produce an error with keyword
 * "$ref", as does a "$ref" cycle that would never terminate or a chain
 * of "$ref"s nested more than SCHEMA_MAX_REF_DEPTH deep.  As draft-07
 * says, keywords next to a "$ref" are ignored.
 *
 * Returns a NEW reference to a JSON array of error objects, each
 *
 *	{"path": "/a/0/b", "keyword": "type",
 *	 "message": "expected string, got integer"}
 *
 * where "path" is the RFC 6901 JSON pointer of the failing location in
 * 'instance' ("" for the root, "~0" and "~1" escaping '~' and '/'),
 * "keyword" is the schema keyword that failed and "message" is a
 * lower-case human sentence.  Problems with an object's members are
 * reported at the object and name the member, e.g. "missing required
 * property 'study'" (keyword "required") and "unknown property 'foo'"
 * (keyword "additionalProperties", for "additionalProperties": false),
 * so that typos are named.  An empty array means 'instance' is valid.
 *
 * At most 'max_errors' errors are collected; 0 means no limit.  Never
 * returns NULL: running out of memory goes through xalloc's handler.
 *
 * Hostile sizes stay cheap: "uniqueItems" and "enum" sort canonical
 * forms of the values (O(n log n), never a comparison of every pair),
 * and no "$id", "$ref" or pattern is looked up by walking a list.
 */
json_t *schema_validate(const json_t *schema, const json_t *instance,
			size_t max_errors);

/*
 * Convenience wrapper: 1 when 'instance' is valid against 'schema', 0
 * when it is not.  Stops at the first error.
 */
int schema_is_valid(const json_t *schema, const json_t *instance);

/*
 * How many "$ref"s may be followed one inside another before validation
 * gives up with a "$ref" error (deeply recursive schemas applied to
 * deeply nested documents).
 */
#define SCHEMA_MAX_REF_DEPTH 64

#endif
