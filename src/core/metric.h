/*
 * metric.h: finding a run's metric in what it left behind, as
 * autoresearch users do: the last line "NAME: VALUE" of a log (what
 * `grep '^val_bpb:' run.log | tail -1` finds), or the number at a JSON
 * pointer of a result file such as results/metric.json ({"metric": X},
 * as the research prompt asks for).
 *
 * The parsing functions are pure.  The reading functions take a trusted
 * directory and an untrusted relative path, as the transport does
 * (transport.h): a symbolic link, a FIFO or anything but a regular file
 * is refused, and every read is bounded; a log longer than its limit is
 * read from its tail, where the last metric line is.  Nothing found is
 * not an error here: callers decide (extract-metric answers
 * outputs_missing; a finished sprint is recorded as a crash).
 */
#ifndef HPCLOOP_METRIC_H
#define HPCLOOP_METRIC_H

#include <stddef.h>

#include <jansson.h>

#include "err.h"

struct transport;

/* The largest JSON result file read. */
#define METRIC_FILE_MAX (64 * 1024)
/* The most of a log read: its last METRIC_LOG_MAX bytes. */
#define METRIC_LOG_MAX (4 * 1024 * 1024)
/* The longest metric name matched in a log. */
#define METRIC_NAME_MAX 128
/* Where a sprint leaves its metric, and the pointer into it. */
#define METRIC_SPRINT_FILE "results/metric.json"
#define METRIC_SPRINT_POINTER "/metric"

/*
 * The value of the last line of the 'len' bytes at 'text' that reads
 * "NAME:", optional blanks, then a finite number (followed by a blank
 * or the end of the line), NAME being 'name' at the very start of the
 * line.  Returns 1 with '*value_out' and '*line_out' (the line's number,
 * from 1) set, or 0 when no line matches.
 */
int metric_from_log(double *value_out, size_t *line_out, const char *text,
		    size_t len, const char *name);

/*
 * The member of 'doc' at the JSON pointer 'pointer' (RFC 6901: "" is
 * the whole document, "~1" a '/' and "~0" a '~' in a token, array
 * members by decimal index), or NULL.  Borrowed from 'doc'.
 */
const json_t *metric_json_pointer(const json_t *doc, const char *pointer);

/*
 * The finite number at 'pointer' in the JSON text of 'len' bytes at
 * 'text'.  Returns 1 with '*value_out' set, or 0 with 'why' (of 'size'
 * bytes) saying what was wrong: not JSON, nothing at the pointer, not a
 * number.
 */
int metric_from_json(double *value_out, char *why, size_t size,
		     const char *text, size_t len, const char *pointer);

/*
 * Read the regular file 'rel' under the trusted directory 'dir' through
 * 't': at most 'max' bytes, and when 'tail' is set the last 'max' bytes
 * of a longer file (from the start of a line); a longer file is refused
 * otherwise.  Returns 0 with a new string in '*text_out' (its length in
 * '*len_out'), or 0 with '*text_out' NULL and a new string in '*why_out'
 * saying why nothing was read (missing, a link, too large...); -1 only
 * when the cluster could not be reached.
 */
int metric_read(struct transport *t, char **text_out, size_t *len_out,
		char **why_out, const char *dir, const char *rel, size_t max,
		int tail, struct err *err);

#endif
