/*
 * digest.h: a bounded, token-cheap summary of a study or a loop for an
 * agent's context, so that no agent has to read whole ledgers and logs
 * (the eighth feature of the peer survey): the best result, the last N,
 * the trend, the counts, the live runs, the newest meta-analysis and
 * what is due next.  Every text in it is clipped, every list is short,
 * so the whole stays within a few kilobytes whatever the ledger holds.
 */
#ifndef HPCLOOP_DIGEST_H
#define HPCLOOP_DIGEST_H

#include <stddef.h>

#include <jansson.h>

#include "err.h"

struct config;
struct journal;

/* The most results and live runs a digest lists. */
#define DIGEST_LAST_MAX 20
#define DIGEST_LIVE_MAX 10
/* Clip lengths of the texts in a digest. */
#define DIGEST_DESCRIPTION_MAX 160
#define DIGEST_SUMMARY_MAX 240
#define DIGEST_HYPOTHESIS_MAX 200

/*
 * 's' cut to at most 'max' bytes on a UTF-8 boundary, with "..." when
 * it was cut: a new JSON string, or JSON null for NULL.
 */
json_t *digest_clip(const char *s, size_t max);

/* A result row (ledger_row_public) in a digest's short form: new. */
json_t *digest_row(const json_t *row);

/*
 * The digest of 'study' (of its loop 'loop_id' when set; NULL for the
 * whole study) with its 'last' newest results (at most DIGEST_LAST_MAX)
 * into '*out' (new).  not_found for a study that is not in 'cfg' or a
 * loop that is not in 'j'.
 */
int digest_build(struct journal *j, json_t **out, const struct config *cfg,
		 const char *study, const char *loop_id, int last,
		 struct err *err);

#endif
