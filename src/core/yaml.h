/*
 * yaml.h: reading YAML (and JSON, which YAML 1.2 contains) into jansson
 * values, with the line of every key and list item remembered.
 *
 * This is the only module that talks to libyaml.  It knows nothing of
 * what the document means: it turns text into a jansson value, refuses
 * what cannot be represented or would be dangerous to read (duplicate
 * keys, tags other than the core ones, infinite numbers, documents that
 * are too large, too deep or that expand through aliases to too many
 * values), and reports every problem with the name of the text, the line
 * and the key path being read:
 *
 *	hpcloop.yaml:3: clusters.local.port: integer out of range
 *
 * The line table it hands back lets a later reader of the value (the
 * schema check, a cross-check) say where a key was written.
 */
#ifndef HPCLOOP_YAML_H
#define HPCLOOP_YAML_H

#include <stddef.h>

#include <jansson.h>

#include "buf.h"
#include "err.h"

/* Largest text accepted, in bytes. */
#define YAML_MAX_SIZE (1024 * 1024)
/* Deepest nesting of maps and lists accepted (the top map is level 1). */
#define YAML_MAX_DEPTH 64
/* Most values a document may expand to, alias copies included. */
#define YAML_MAX_NODES (1 << 18)

/*
 * Parse the YAML-or-JSON 'text' of 'len' bytes into a new value in
 * '*out'; 'origin' names the text in messages ("hpcloop.yaml").  Text
 * whose first non-blank character is '{' is read as JSON by jansson
 * (falling back to YAML for a flow mapping that is not JSON).
 *
 * YAML follows the 1.2 core schema: plain scalars that look like
 * integers (decimal, 0o octal, 0x hex) or floats become numbers,
 * true/false booleans, null and ~ null, and everything else (quoted
 * scalars always) a string.  Aliases are copied.  Duplicate keys, keys
 * that are not scalars, tags other than !!str/!!map/!!seq, .inf and
 * .nan, documents deeper than YAML_MAX_DEPTH, larger than YAML_MAX_SIZE
 * or expanding to more than YAML_MAX_NODES values, and more than one
 * document are refused.
 *
 * When 'lines_out' is not NULL, '*lines_out' receives a new object that
 * maps the JSON pointer (RFC 6901, as yaml_pointer_add() writes it) of
 * every key and list item to its 1-based line.
 *
 * Returns 0, or -1 with config_invalid in 'err' (hpcloop.yaml is the
 * only YAML hpcloop reads) and '*out' (and '*lines_out') NULL.
 */
int yaml_to_json(json_t **out, json_t **lines_out, const char *text,
		 size_t len, const char *origin, struct err *err);

/*
 * Append to the JSON pointer 'p' the segment for the key 'key' ("/"
 * then the key with '~' written "~0" and '/' written "~1").
 */
void yaml_pointer_add(struct buf *p, const char *key);

/*
 * Read the segment of the JSON pointer 'p' that starts at its '/' into
 * 'seg' (emptied first), undoing ~0 and ~1.  Returns where the next
 * segment starts: its '/', or the end of 'p'.
 */
const char *yaml_pointer_next(const char *p, struct buf *seg);

#endif
