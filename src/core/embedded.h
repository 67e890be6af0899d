/*
 * embedded.h: the files compiled into the binary (schemas/NAME.json and
 * the templates), so that the CLI works from any directory.  The table is
 * generated at build time by scripts/embed-files.sh.
 */
#ifndef HPCLOOP_EMBEDDED_H
#define HPCLOOP_EMBEDDED_H

#include <stddef.h>

struct embedded_file {
	const char *path;		/* as in the tree: "schemas/list.input.json" */
	const unsigned char *data;	/* NUL-terminated contents */
	size_t len;			/* length without the NUL */
};

/* The table, terminated by an entry whose path is NULL. */
extern const struct embedded_file embedded_files[];

/*
 * The embedded file at 'path', or NULL.  Borrowed: static storage that
 * lives as long as the process.
 */
const struct embedded_file *embedded_find(const char *path);

#endif
