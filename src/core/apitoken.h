/*
 * apitoken.h: the API bearer tokens of `hpcloop serve` (the
 * api_tokens table; owned here, nothing else writes it).
 *
 * A token reads "hpc_<6 hex>_<64 hex>": the first part is its row's id
 * (tk-<6 hex>), the second 32 random bytes.  Only the SHA-256 of the
 * whole token is stored; the token itself is printed once by
 * token-create and never again (token-list shows name, id, flags and
 * times only).  A check looks the row up by id and compares the hashes
 * with crypto_equal, in time independent of the contents.
 */
#ifndef HPCLOOP_APITOKEN_H
#define HPCLOOP_APITOKEN_H

#include <jansson.h>

#include "err.h"

struct journal;

#define APITOKEN_MAX 96

/*
 * A new token called 'name' (conflict when a live or revoked token has
 * that name), in the caller's transaction: the token text in 'token'
 * (APITOKEN_MAX bytes) and its row (without the hash) in '*row_out'.
 */
int apitoken_create(struct journal *j, json_t **row_out,
		    char token[APITOKEN_MAX], const char *name, int read_only,
		    struct err *err);

/* Every token's row, oldest first, never the token or its hash. */
int apitoken_list(struct journal *j, json_t **rows_out, struct err *err);

/*
 * Revoke the token whose id or name is 'which' (not_found when there is
 * none); '*row_out' its row afterwards, '*changed_out' 0 when it was
 * revoked already.
 */
int apitoken_revoke(struct journal *j, json_t **row_out, int *changed_out,
		    const char *which, struct err *err);

/*
 * Check the bearer token 'token': 0 with '*read_only_out' set when it
 * is a live token; -1 with ERR_UNAUTHORIZED (unknown, malformed or
 * revoked: the message says which, never echoing the token) or a
 * journal error.
 */
int apitoken_check(struct journal *j, int *read_only_out, const char *token,
		   struct err *err);

#endif
