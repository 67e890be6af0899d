/*
 * notify.h: notifications (issue 11, item 8): one message delivered to
 * a channel of hpcloop.yaml's `notifications` list, at most once per
 * (channel, key), and the drain that turns the journal's events (a
 * sprint that ended, a new best, a loop that finished) into messages.
 *
 * Channels (their settings and defaults are in schemas/config.json):
 *
 *  - ntfy: POST to URL/TOPIC, the body the message's text, with Title,
 *    Priority and Tags headers (and a bearer token when set);
 *  - slack: with a token, chat.postMessage (bearer token, JSON with the
 *    channel and text; Slack's "ok": false is a refusal); without one,
 *    an incoming-webhook URL;
 *  - webhook: a JSON body; with a secret, X-Hpcloop-Timestamp and
 *    X-Hpcloop-Signature: sha256=HMAC(secret, TIMESTAMP "." BODY);
 *  - file: one JSON line appended (O_APPEND, one write) to a file.
 *
 * HTTP goes through http.h (libcurl, loaded on first use).  A 429 or a
 * 5xx answer and a refused connection are tried again, after the
 * answer's Retry-After or a doubling backoff, within the channel's
 * max_attempts and retry_budget_s; any other 4xx, and a timeout (the
 * message may have arrived), end the tries.  Secrets (tokens, the HMAC
 * secret, a Slack webhook URL, an ntfy topic) reach libcurl only: no
 * message, record or log holds them.
 *
 * Deduplication lives in the journal's notifications table, one row
 * per (channel, key): "sending" with the lease of the process sending
 * it, then "delivered" or "failed".  A delivered key is never sent
 * again; a failed one, or one whose sender died, is sent by the next
 * call.  The journal's transactions are the module's own and short: no
 * lock is held while a channel is being talked to, so every function
 * here must be called outside a transaction.
 */
#ifndef HPCLOOP_NOTIFY_H
#define HPCLOOP_NOTIFY_H

#include <jansson.h>
#include <stdint.h>

#include "crypto.h"
#include "err.h"

struct config;
struct journal;

/* One message.  Every pointer is borrowed. */
struct notify_msg {
	const char *event;	/* "completed", "new_best", ... */
	const char *title;	/* one line */
	const char *body;	/* the text, or NULL (the title then) */
	const char *key;	/* the deduplication key */
	const char *subject;	/* the sprint, loop or study, or NULL */
	int64_t event_id;	/* the journal event it reports, or 0 */
	int priority;		/* 1 (min) to 5 (max); 0: from the event */
	const json_t *data;	/* more for webhook and file, or NULL */
};

/*
 * The channels to use under 'cfg': its `notifications` list, or, when
 * it has none, the one embedded default, a file channel named "file"
 * at the schema's default path.  A new array.
 */
json_t *notify_channels(const struct config *cfg);

/* Whether 'cfg' configures at least one channel. */
int notify_configured(const struct config *cfg);

/* The channel of 'channels' called 'name'; borrowed, or NULL. */
const json_t *notify_channel_find(const json_t *channels, const char *name);

/* Whether 'channel' takes the event 'event' (its `events` list). */
int notify_channel_wants(const json_t *channel, const char *event);

/*
 * Deliver 'm' to 'channel' once: '*out' (always set, new) is
 * {channel, type, status, attempts, http_status?, error_code?,
 * message?} with status "delivered", "duplicate" (the key was
 * delivered before) or "failed".  Returns 0 unless it failed: then -1
 * with the last try's error in 'err' (timeout, http_failed,
 * notify_failed, in_progress while another live process sends the same
 * key, config_invalid for a channel that cannot work).
 */
int notify_deliver(struct journal *j, json_t **out, const struct config *cfg,
		   const json_t *channel, const struct notify_msg *m,
		   struct err *err);

/*
 * Deliver the journal's events not yet notified to each of 'channels'
 * (borrowed): from the channel's cursor, the next events that are a
 * sprint ending (completed, failed, timed_out, lost), a sprint
 * starting, a kept result (new_best) or a loop finishing, those the
 * channel's `events` list takes, each under the key "event:ID".  A
 * failed delivery stops that channel's drain there (its cursor stays
 * before the event) and is added to 'partial' (an array, borrowed) as
 * {code, detail}, as is a delivery the journal failed; the others go
 * on.  An event another live process is sending ends that channel's
 * drain quietly (the other process finishes it).  '*out' is a new object
 * {delivered, channels: [{channel, cursor, delivered, duplicates,
 * skipped, failed}], deliveries: [...]}.  Returns -1 only when the
 * journal fails.
 */
int notify_drain(struct journal *j, json_t **out, const struct config *cfg,
		 const json_t *channels, json_t *partial, struct err *err);

/* What the tries of one message came to. */
struct notify_outcome {
	int attempts;		/* tries made (0: none, e.g. bad config) */
	long http_status;	/* the last answer's status, or 0 */
};

/*
 * Send 'm' to 'channel' now, with its retries, without looking at or
 * writing the journal (notify_deliver() wraps it with deduplication).
 * Fills 'out'; returns 0 once the channel took the message, else -1
 * with the error of the last try in 'err'.
 */
int notify_send(struct notify_outcome *out, const struct config *cfg,
		const json_t *channel, const struct notify_msg *m,
		struct err *err);

/* ---------------------------------------------------------------- */
/* Pure pieces, for the tests                                         */
/* ---------------------------------------------------------------- */

/* Backoff of the first retry, and the longest, in milliseconds. */
#define NOTIFY_BACKOFF_BASE_MS 500
#define NOTIFY_BACKOFF_MAX_MS 30000

/*
 * How long to wait before try 'attempt' + 1 after try 'attempt' (1 for
 * the first) failed with a retryable answer: the answer's Retry-After
 * 'retry_after_s' when it gave one (>= 0), else NOTIFY_BACKOFF_BASE_MS
 * doubled per try up to NOTIFY_BACKOFF_MAX_MS.  -1 when the wait would
 * take the tries past 'budget_ms', 'elapsed_ms' of it being gone.
 */
long notify_backoff_ms(int attempt, long retry_after_s, long elapsed_ms,
		       long budget_ms);

/* Whether the HTTP status 'status' is worth another try (429, 5xx). */
int notify_status_retryable(long status);

/*
 * The webhook signature: lower-case hex HMAC-SHA256 under 'secret' of
 * 'timestamp' "." 'body' ('len' bytes).
 */
void notify_signature(char hex[SHA256_HEX_LEN + 1], const char *secret,
		      const char *timestamp, const char *body, size_t len);

#endif
