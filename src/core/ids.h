/*
 * ids.h: identifiers and timestamps.
 */
#ifndef HPCLOOP_IDS_H
#define HPCLOOP_IDS_H

#include <stddef.h>
#include <time.h>

/*
 * Write 'prefix' followed by 'nhex' random hex digits into 'out' of
 * 'size' bytes ("sp-" + 6 -> "sp-3fa9c1").  Returns 0, or -1 when no
 * randomness is available or 'out' is too small.  Callers check the
 * journal for a collision and draw again.
 */
int ids_new(char *out, size_t size, const char *prefix, size_t nhex);

#define IDS_TIME_LEN 32

/* 't' as ISO 8601 UTC with seconds: "2026-11-22T02:07:50Z". */
void ids_iso_time(char out[IDS_TIME_LEN], time_t t);
/* The current time, in the same form. */
void ids_now(char out[IDS_TIME_LEN]);
/* Parse the form above; -1 when 's' is not in it. */
int ids_parse_time(time_t *out, const char *s);

#endif
