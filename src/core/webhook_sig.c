/*
 * webhook_sig.c: the HMAC-SHA256 webhook signature (see webhook_sig.h).
 */
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "buf.h"
#include "crypto.h"
#include "webhook_sig.h"
#include "banned.h"

/* The stamp 'ts' as seconds: 0, or -1 when it is not 1 to 12 digits. */
static int parse_stamp(long long *out, const char *ts)
{
	size_t i, n = strlen(ts);

	if (n == 0 || n > 12)
		return -1;
	*out = 0;
	for (i = 0; i < n; i++) {
		if (ts[i] < '0' || ts[i] > '9')
			return -1;
		*out = *out * 10 + (ts[i] - '0');
	}
	return 0;
}

int webhook_sig_check(const char *secret, const char *ts, const char *sig,
		      const void *body, size_t len, time_t now,
		      struct err *err)
{
	char want[SHA256_HEX_LEN + 1];
	struct buf msg = BUF_INIT;
	long long stamp;
	int ok;

	if (!ts || !sig)
		return err_set(err, ERR_UNAUTHORIZED,
			       "the webhook has no %s header",
			       !ts ? "X-Hpcloop-Timestamp"
				   : "X-Hpcloop-Signature");
	if (parse_stamp(&stamp, ts) < 0)
		return err_set(err, ERR_UNAUTHORIZED,
			       "X-Hpcloop-Timestamp is not Unix seconds");
	if (stamp < (long long)now - WEBHOOK_SIG_WINDOW_S)
		return err_set(err, ERR_UNAUTHORIZED,
			       "the webhook signature is stale (older than "
			       "%d s)", WEBHOOK_SIG_WINDOW_S);
	if (stamp > (long long)now + WEBHOOK_SIG_WINDOW_S)
		return err_set(err, ERR_UNAUTHORIZED,
			       "the webhook timestamp is more than %d s in "
			       "the future", WEBHOOK_SIG_WINDOW_S);
	buf_adds(&msg, ts);
	buf_adds(&msg, ".");
	buf_add(&msg, body, len);
	crypto_hmac_sha256_hex(want, secret, strlen(secret), msg.data, msg.len);
	buf_release(&msg);
	ok = crypto_equal(want, sig);
	if (!ok)
		return err_set(err, ERR_UNAUTHORIZED,
			       "the webhook signature does not match its body "
			       "(X-Hpcloop-Signature)");
	return 0;
}

void webhook_sprint_key(char out[65], const char *secret,
			const char *sprint_id)
{
	char msg[64];

	snprintf(msg, sizeof(msg), "hpcloop-sprint:%s", sprint_id);
	crypto_hmac_sha256_hex(out, secret, strlen(secret), msg, strlen(msg));
}
