/*
 * crypto.h: hashes, HMAC, base64, random tokens and constant-time
 * comparison, and the canonical JSON form that idempotency keys are
 * computed from.  The only module that uses OpenSSL's libcrypto.
 */
#ifndef HPCLOOP_CRYPTO_H
#define HPCLOOP_CRYPTO_H

#include <jansson.h>
#include <stddef.h>

#define SHA256_HEX_LEN 64

/* Write the lower-case hex SHA-256 of 'data' into 'hex' (65 bytes). */
void crypto_sha256_hex(char hex[SHA256_HEX_LEN + 1], const void *data,
		       size_t len);

/* HMAC-SHA256 of 'data' under 'key', as lower-case hex (65 bytes). */
void crypto_hmac_sha256_hex(char hex[SHA256_HEX_LEN + 1], const void *key,
			    size_t keylen, const void *data, size_t len);

/*
 * Fill 'out' with 'nbytes' random bytes from the OS CSPRNG, as
 * 2*nbytes hex characters and a NUL ('out' holds 2*nbytes+1).
 * Returns 0, or -1 when no randomness is available.
 */
int crypto_random_hex(char *out, size_t nbytes);

/* 1 when 'a' equals 'b', compared in time independent of the contents. */
int crypto_equal(const char *a, const char *b);

/*
 * The canonical JSON text of 'v': keys sorted, compact, no trailing
 * newline.  A new string (free with free()).
 */
char *crypto_canonical_json(const json_t *v);

/* SHA-256 hex of crypto_canonical_json('v'). */
void crypto_json_hash(char hex[SHA256_HEX_LEN + 1], const json_t *v);

/* Standard base64 (with padding) of 'len' bytes of 'data': a new string. */
char *crypto_base64(const void *data, size_t len);

/* The OpenSSL version string; static storage. */
const char *crypto_library_version(void);

#endif
