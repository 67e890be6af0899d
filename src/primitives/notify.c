/*
 * notify: send one message to the notification channels, or drain the
 * journal's events not yet notified (notify.h).  A message is keyed
 * (DESIGN §12): the same spec, or the same idempotency_key, answers
 * with the first result; and each (channel, key) is delivered once
 * whatever the spec.  A drain converges instead: it delivers what is
 * due from each channel's cursor, so repeating it sends nothing twice.
 */
#include <string.h>

#include "buf.h"
#include "config.h"
#include "idem.h"
#include "journal.h"
#include "notify.h"
#include "primitive.h"
#include "banned.h"

static const char *str_of(const json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

/* ---------------------------------------------------------------- */
/* Checking the spec                                                  */
/* ---------------------------------------------------------------- */

/* The fields a drain takes no part of. */
static const char *const message_fields[] = {
	"event", "title", "body", "key", "channel", "priority", "data",
	"idempotency_key", NULL
};

/*
 * Fail 'err' with spec_invalid about the field 'field', its
 * details.errors shaped as the schema validator's ({path, keyword,
 * message}) so a caller reads both alike.  Returns -1.
 */
static int spec_error(struct err *err, const char *field,
		      const char *keyword, const char *message)
{
	struct buf path = BUF_INIT;

	buf_addf(&path, "/%s", field);
	err_set(err, ERR_SPEC_INVALID, "spec invalid: %s: %s", buf_str(&path),
		message);
	err_detail(err, "errors",
		   json_pack("[{s:s, s:s, s:s}]", "path", buf_str(&path),
			     "keyword", keyword, "message", message));
	buf_release(&path);
	return -1;
}

/* What the schema cannot say: a drain or a message, not a mix. */
static int check_spec(const json_t *spec, const json_t *channels,
		      struct err *err)
{
	const char *ch = str_of(spec, "channel");
	struct buf why = BUF_INIT;
	size_t i;
	int r = 0;

	if (json_is_true(json_object_get(spec, "drain"))) {
		for (i = 0; message_fields[i] && r == 0; i++) {
			if (!json_object_get(spec, message_fields[i]))
				continue;
			buf_addf(&why, "a drain takes no '%s'",
				 message_fields[i]);
			r = spec_error(err, message_fields[i], "not",
				       buf_str(&why));
		}
	} else if (!str_of(spec, "event") || !str_of(spec, "title")) {
		r = spec_error(err, str_of(spec, "event") ? "title" : "event",
			       "required",
			       "a message needs 'event' and 'title' (or "
			       "give \"drain\": true)");
	} else if (ch && !notify_channel_find(channels, ch)) {
		buf_addf(&why, "no notification channel '%s' in hpcloop.yaml",
			 ch);
		r = spec_error(err, "channel", "enum", buf_str(&why));
	}
	buf_release(&why);
	return r;
}

/* ---------------------------------------------------------------- */
/* One message                                                        */
/* ---------------------------------------------------------------- */

/*
 * Deliver 'm' to the channel named, or to every channel; '*data' gets
 * {event, key, delivered, deliveries}.  When none took it the call
 * fails with the last channel's error; when some did, the others are
 * partial errors.
 */
static int send_message(struct ctx *ctx, json_t **data, const json_t *spec,
			const json_t *channels, const struct notify_msg *m,
			struct err *err)
{
	const char *only = str_of(spec, "channel");
	json_t *deliveries = json_array(), *d;
	struct err last = ERR_INIT;
	const json_t *ch;
	int ok = 0, failed = 0, r = -1;
	size_t i;

	json_array_foreach(channels, i, ch) {
		struct err derr = ERR_INIT;

		if (only && strcmp(only, str_of(ch, "name")))
			continue;
		if (notify_deliver(ctx->journal, &d, ctx->config, ch, m,
				   &derr) < 0) {
			failed++;
			err_release(&last);
			last = derr;
		} else {
			ok++;
		}
		json_array_append_new(deliveries, d);
	}
	if (failed && !ok) {
		err_set(err, last.code, "%s", last.message);
		json_decref(err->details);
		err->details = last.details ? json_deep_copy(last.details)
					    : json_object();
		json_object_set(err->details, "deliveries", deliveries);
		goto out;
	}
	json_array_foreach(deliveries, i, d)
		if (!strcmp(str_of(d, "status"), "failed"))
			ctx_partial_error(
				ctx, err_from_name(str_of(d, "error_code")),
				str_of(d, "message"), NULL);
	*data = json_pack("{s:s, s:s, s:i, s:O}", "event", m->event, "key",
			  m->key, "delivered", ok, "deliveries", deliveries);
	r = 0;
out:
	err_release(&last);
	json_decref(deliveries);
	return r;
}

/*
 * Free this call's idempotency key after a failure, so that the same
 * call runs again (idem_fail); a failure to do so only costs a replay.
 */
static void release_key(struct ctx *ctx)
{
	struct err ferr = ERR_INIT;

	if (journal_begin(ctx->journal, &ferr) == 0 &&
	    (idem_fail(ctx->journal, ctx->prim->name, &ctx->key, &ferr) < 0 ||
	     journal_commit(ctx->journal, &ferr) < 0))
		journal_rollback(ctx->journal);
	err_release(&ferr);
}

/* Run the message in 'spec' under its idempotency key. */
static int message(struct ctx *ctx, json_t **data, const json_t *spec,
		   const json_t *channels, struct err *err)
{
	struct idem_claim c = IDEM_CLAIM_INIT;
	struct notify_msg m;
	int r = -1;

	memset(&m, 0, sizeof(m));
	m.event = str_of(spec, "event");
	m.title = str_of(spec, "title");
	m.body = str_of(spec, "body");
	m.key = str_of(spec, "key") ? str_of(spec, "key") : ctx->key.key;
	m.priority = (int)json_integer_value(json_object_get(spec,
							      "priority"));
	m.data = json_object_get(spec, "data");
	if (journal_begin(ctx->journal, err) < 0)
		return -1;
	if (idem_claim(ctx->journal, &c, ctx->prim->name, &ctx->key, err) < 0 ||
	    journal_commit(ctx->journal, err) < 0) {
		journal_rollback(ctx->journal);
		goto out;
	}
	if (c.found == IDEM_REPLAY) {
		ctx->replayed = 1;
		*data = json_incref(c.data);
		r = 0;
		goto out;
	}
	if (send_message(ctx, data, spec, channels, &m, err) < 0) {
		release_key(ctx);
		goto out;
	}
	/*
	 * A channel that failed makes the same call worth repeating: the
	 * key is freed, and the channels that took the message answer
	 * "duplicate" next time.
	 */
	if (json_array_size(ctx->partial_errors)) {
		release_key(ctx);
		r = 0;
		goto out;
	}
	if (journal_begin(ctx->journal, err) < 0)
		goto out;
	if (idem_store(ctx->journal, ctx->prim->name, &ctx->key, NULL, *data,
		       err) < 0 ||
	    journal_commit(ctx->journal, err) < 0) {
		journal_rollback(ctx->journal);
		json_decref(*data);
		*data = NULL;
		goto out;
	}
	r = 0;
out:
	idem_claim_release(&c);
	return r;
}

static int notify_run(struct ctx *ctx, const json_t *spec, json_t **data,
		      struct err *err)
{
	json_t *channels = notify_channels(ctx->config), *partial = NULL;
	const json_t *p;
	size_t i;
	int r = -1;

	if (check_spec(spec, channels, err) < 0)
		goto out;
	if (!json_is_true(json_object_get(spec, "drain"))) {
		r = message(ctx, data, spec, channels, err);
		goto out;
	}
	partial = json_array();
	if (notify_drain(ctx->journal, data, ctx->config, channels, partial,
			 err) < 0)
		goto out;
	json_array_foreach(partial, i, p)
		ctx_partial_error(ctx, err_from_name(str_of(p, "code")),
				  str_of(p, "detail"), NULL);
	r = 0;
out:
	json_decref(partial);
	json_decref(channels);
	return r;
}

static const enum err_code notify_errors[] = {
	ERR_CONFLICT,	    ERR_IN_PROGRESS, ERR_HTTP_FAILED,
	ERR_TIMEOUT,	    ERR_NOTIFY_FAILED, ERR_PRECONDITION_FAILED,
	ERR_NONE
};

const struct primitive prim_notify = {
	.name = "notify",
	.summary = "Send a message to the notification channels, or deliver "
		   "the journal's events not yet notified",
	.description =
		"With `event` and `title` (and `body`, `key`, `channel`, "
		"`priority`, `data`): sends one message to the channel "
		"named, or to every channel of `notifications` in "
		"hpcloop.yaml (with none, to the embedded default: a file "
		"channel appending JSON lines to "
		".hpcloop/notifications.jsonl). Channels: ntfy (Title, "
		"Priority and Tags headers), Slack (chat.postMessage with a "
		"bot token, or an incoming webhook), a webhook (a JSON body "
		"signed with HMAC-SHA256 over TIMESTAMP.BODY in "
		"X-Hpcloop-Signature, with X-Hpcloop-Timestamp), a file. A "
		"429 or 5xx answer is tried again after its Retry-After or "
		"a doubling backoff, within the channel's max_attempts and "
		"retry_budget_s; another 4xx is `notify_failed`, a channel "
		"too slow for timeout_s is `timeout`. Each (channel, key) "
		"is delivered once: a key delivered before is `duplicate` "
		"(the key defaults to the spec's idempotency key), and the "
		"same spec answers with its first result. With "
		"`{\"drain\": true}`: delivers, from each channel's cursor, "
		"the journal events its `events` list takes (a sprint "
		"completed, failed, timed_out or lost, a new best result, a "
		"loop finished), each once (key `event:ID`); a channel that "
		"fails stops there and is a `partial_errors` entry. "
		"loop-tick drains at the end of every tick when a channel "
		"is configured.",
	.example = "{\"event\": \"note\", \"title\": \"baseline done\", "
		   "\"body\": \"val_loss 0.42\"}",
	.flags = PRIM_MUTATES | PRIM_CREATES | PRIM_KEYED |
		 PRIM_NEEDS_JOURNAL | PRIM_NEEDS_CONFIG | PRIM_OWN_TX |
		 PRIM_HTTP,
	.errors = notify_errors,
	.handler = notify_run,
};
