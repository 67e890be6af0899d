/*
 * buf.h: a growable byte buffer with a hard maximum (after curl's dynbuf
 * and git's strbuf).  Every buffer that holds outside input is a buf
 * with a limit, so an oversized spec, HTTP body or SSH answer is an
 * error, never an unbounded allocation.
 *
 * The contents are always NUL-terminated.  'len' excludes the NUL.
 */
#ifndef HPCLOOP_BUF_H
#define HPCLOOP_BUF_H

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>

struct buf {
	char *data;	/* owned, NUL-terminated, or NULL while empty */
	size_t len;	/* bytes used, without the NUL */
	size_t alloc;	/* bytes allocated */
	size_t max;	/* hard limit on len; 0 means no limit */
};

#define BUF_INIT { NULL, 0, 0, 0 }

/* Start 'b' empty with the limit 'max' (0: none). */
void buf_init(struct buf *b, size_t max);
/* Free the contents; 'b' may be NULL.  'b' is empty afterwards. */
void buf_release(struct buf *b);
/* Hand the contents to the caller (a new string, never NULL). */
char *buf_detach(struct buf *b, size_t *len_out);
/* The contents as a string; borrowed, "" while empty. */
const char *buf_str(const struct buf *b);

/*
 * Shorten 'b' to its first 'len' bytes (git's strbuf_setlen, for a
 * position remembered earlier); nothing happens when 'b' is not longer.
 */
void buf_truncate(struct buf *b, size_t len);

/* Append 'len' bytes; -1 (nothing appended) when the limit would pass. */
int buf_add(struct buf *b, const void *data, size_t len);
int buf_adds(struct buf *b, const char *s);
int buf_addf(struct buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
int buf_vaddf(struct buf *b, const char *fmt, va_list ap);

/*
 * Append everything from 'f' until EOF.  Returns 0, -1 on a read error
 * (errno set) or -2 when the limit was passed (the rest is not read).
 */
int buf_read_file(struct buf *b, FILE *f);

#endif
