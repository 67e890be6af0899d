/*
 * webhook_sig.h: the timestamped HMAC-SHA256 signature of the job
 * webhooks of `hpcloop serve` (pure: no journal, no clock of its own).
 *
 * The job sends X-Hpcloop-Timestamp (Unix seconds, decimal) and
 * X-Hpcloop-Signature, the lower-case hex HMAC-SHA256 under the
 * orchestrator secret of the timestamp, a full stop and the body.
 * A stamp more than WEBHOOK_SIG_WINDOW_S away from now, either way, is
 * refused; so is a signature seen before inside the window (the caller
 * keeps that set: serve_webhook.c, in the journal).
 */
#ifndef HPCLOOP_WEBHOOK_SIG_H
#define HPCLOOP_WEBHOOK_SIG_H

#include <stddef.h>
#include <time.h>

#include "err.h"

#define WEBHOOK_SIG_WINDOW_S 300

/*
 * Check 'sig' (the header, may be NULL) over 'ts' (may be NULL) and
 * 'body' of 'len' bytes under 'secret', at time 'now'.  0 when it
 * holds; -1 with ERR_UNAUTHORIZED and a message saying which part
 * failed (missing, malformed, stale, from the future, wrong), never
 * quoting the secret.  The comparison takes constant time.
 */
int webhook_sig_check(const char *secret, const char *ts, const char *sig,
		      const void *body, size_t len, time_t now,
		      struct err *err);

/*
 * The key one sprint signs its webhooks with, into 'out' (hex): the
 * HMAC-SHA256 under the orchestrator secret of "hpcloop-sprint:" and
 * the sprint id.  The job gets only this key (.hpcloop/secret), never
 * the secret itself, so an agent that reads its sprint directory can
 * sign for that sprint alone.
 */
void webhook_sprint_key(char out[65], const char *secret,
			const char *sprint_id);

#endif
