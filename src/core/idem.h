/*
 * idem.h: idempotency keys, the one mechanism by which a repeated call
 * does nothing twice (DESIGN §4, §12).
 *
 * A keyed call's key is its spec's idempotency_key, or the SHA-256 of
 * its canonical spec.  The idempotency table holds one row per
 * (primitive, key): the hash of the spec the key was first used with
 * (a key is bound to its spec from that first write: another spec is
 * conflict, at once, even while the first attempt is in flight), the
 * attempt's status, the subject it made (a sprint id) and the stored
 * result.
 *
 * Two ways to use it:
 *
 *  - A call that runs in one transaction (the dispatcher's, for
 *    PRIM_KEYED primitives): idem_lookup() before the handler, then
 *    idem_store() in the same transaction.
 *
 *  - A call that owns its transactions because it works on a cluster in
 *    between (submit-flow): idem_claim() in its first short transaction
 *    takes a lease on the key (lease.h), idem_bind() records the
 *    subject in the transaction that creates it, idem_store() marks it
 *    done with the result, idem_fail() frees it for another try of the
 *    same spec when the attempt failed without leaving anything behind.
 *    A caller that meets another process's live lease is told to come
 *    back (in_progress); one whose owner died takes the lease over and
 *    resumes from the subject the dead one left.
 *
 * Every function must run inside the caller's transaction.
 */
#ifndef HPCLOOP_IDEM_H
#define HPCLOOP_IDEM_H

#include <jansson.h>

#include "crypto.h"
#include "err.h"

struct journal;

/* The longest idempotency key, as the schemas allow. */
#define IDEM_KEY_MAX 256
/* The seconds an in_progress answer asks the caller to wait. */
#define IDEM_RETRY_AFTER_S 2

/* A call's key and the hash of its spec. */
struct idem_key {
	char key[IDEM_KEY_MAX + 1];	/* the idempotency_key or the hash */
	char hash[SHA256_HEX_LEN + 1];	/* SHA-256 of the canonical spec */
};

/* The key of 'spec' (borrowed) into 'k'. */
void idem_key_of(struct idem_key *k, const json_t *spec);

/* What idem_claim() found. */
enum idem_found {
	IDEM_FRESH,	/* never tried (or tried and failed): claimed */
	IDEM_REPLAY,	/* done before: the stored result is in 'data' */
	IDEM_RESUME,	/* an attempt died: claimed; 'subject' is what it
			   left, "" when it died before making anything */
};

struct idem_claim {
	enum idem_found found;
	char subject[64];	/* IDEM_RESUME, IDEM_REPLAY: the subject */
	json_t *data;		/* IDEM_REPLAY: the stored result (new) */
};

#define IDEM_CLAIM_INIT { IDEM_FRESH, "", NULL }

void idem_claim_release(struct idem_claim *c);

/*
 * One-transaction calls.  idem_lookup: 1 with the stored result (new)
 * in '*data_out' when ('primitive', 'k') is done, 0 when it is not
 * there; conflict when the key was used with another spec.
 * idem_store: record ('primitive', 'k') as done with 'data' (borrowed)
 * and 'subject' (may be NULL), replacing a pending or failed attempt.
 */
int idem_lookup(struct journal *j, json_t **data_out, const char *primitive,
		const struct idem_key *k, struct err *err);
int idem_store(struct journal *j, const char *primitive,
	       const struct idem_key *k, const char *subject,
	       const json_t *data, struct err *err);

/*
 * Claim ('primitive', 'k') for this process (see above) and fill 'out'.
 * Another spec under the key is conflict; another live process's
 * attempt is in_progress with details.retry_after_s.
 */
int idem_claim(struct journal *j, struct idem_claim *out,
	       const char *primitive, const struct idem_key *k,
	       struct err *err);

/* Record 'subject' as what the claimed attempt made. */
int idem_bind(struct journal *j, const char *primitive,
	      const struct idem_key *k, const char *subject, struct err *err);

/*
 * The claimed attempt failed and left nothing that could still run:
 * the key stays bound to its spec, and the next call with that spec
 * starts afresh.
 */
int idem_fail(struct journal *j, const char *primitive,
	      const struct idem_key *k, struct err *err);

/*
 * Free the keys of every abandoned attempt whose subject is 'subject'
 * (its sprint was failed without reaching a scheduler), as idem_fail.
 */
int idem_fail_subject(struct journal *j, const char *subject,
		      struct err *err);

/*
 * Attempts in flight or abandoned: a new array of {primitive, key,
 * subject, lease_owner, alive} for every pending row ('doctor').
 */
int idem_pending(struct journal *j, json_t **out, struct err *err);

/*
 * What the idempotency table holds for ('primitive', 'k'), claiming
 * nothing: a new object {"status": pending | done | failed, "subject"
 * (null before it made one), "spec_matches": the key was first used
 * with this spec} in '*out', or NULL when the key was never used.
 */
int idem_find(struct journal *j, json_t **out, const char *primitive,
	      const struct idem_key *k, struct err *err);

/* Whether a live process holds a pending attempt about 'subject'. */
int idem_subject_active(struct journal *j, int *active_out,
			const char *subject, struct err *err);

#endif
