/*
 * docs.h: documentation generated from the registry and the schemas
 * (redis's COMMAND DOCS idea).  `hpcloop help NAME` prints
 * docs_primitive_markdown(); `hpcloop __gen-docs DIR` writes
 * DIR/primitives/NAME.md, DIR/error-codes.md and DIR/catalog.json, which
 * are committed; `make docs-check` fails when they are stale.
 */
#ifndef HPCLOOP_DOCS_H
#define HPCLOOP_DOCS_H

#include <jansson.h>

struct primitive;
struct registry;

/* The catalog row of 'p' for `list` and the HTTP API: a new object. */
json_t *docs_catalog_entry(const struct primitive *p);

/* The doc page of 'p' in Markdown: a new string (free()). */
char *docs_primitive_markdown(const struct primitive *p);

/* docs/error-codes.md: a new string. */
char *docs_error_codes_markdown(void);

/*
 * `hpcloop __gen-docs DIR`: write every generated file for the
 * primitives of 'reg' (borrowed); returns the exit code.
 */
int docs_main(const struct registry *reg, const char *dir);

#endif
