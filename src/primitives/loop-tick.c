/*
 * loop-tick: advance a loop (or every running loop) by what is due
 * (loop_tick() in loop.h): record what finished, stop a run past its
 * time gate, honour a stop request, finish at the count or budget,
 * meta-analyze, propose and submit the next run.  It converges rather
 * than replays (DESIGN §12): cron, the server's monitor or an agent may
 * run it as often as they like, concurrently, and each iteration is
 * still submitted once.
 */
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "journal.h"
#include "loop.h"
#include "notify.h"
#include "primitive.h"
#include "banned.h"

/* The most loops one call ticks when it names none. */
#define LOOP_TICK_MAX 50

/* Turn the tick's partial failures into the envelope's. */
static void partials(struct ctx *ctx, const json_t *list)
{
	size_t i;

	for (i = 0; i < json_array_size(list); i++) {
		const json_t *p = json_array_get(list, i);

		ctx_partial_error(ctx,
				  err_from_name(json_string_value(
					  json_object_get(p, "code"))),
				  json_string_value(json_object_get(p,
								    "detail")),
				  NULL);
	}
}

/* Tick every loop that is running or stopping, oldest first. */
static int tick_all(struct ctx *ctx, json_t *loops, json_t *partial,
		    struct err *err)
{
	json_t *all = json_array(), *page;
	char *next = NULL;
	const char *states[] = { "running", "stopping" };
	size_t i, s;
	int r = -1;

	for (s = 0; s < 2; s++) {
		if (loop_page(ctx->journal, &page, &next, NULL, states[s],
			      LOOP_TICK_MAX, NULL, err) < 0)
			goto out;
		json_array_extend(all, page);
		json_decref(page);
		free(next);
		next = NULL;
	}
	for (i = json_array_size(all); i > 0 &&
		    json_array_size(loops) < LOOP_TICK_MAX;
	     i--) {
		const char *id = json_string_value(json_object_get(
			json_array_get(all, i - 1), "id"));
		struct err lerr = ERR_INIT;
		json_t *view = NULL;

		if (loop_tick(ctx->journal, &view, ctx->config, id, partial,
			      &lerr) < 0) {
			struct buf b = BUF_INIT;

			buf_addf(&b, "loop %s: %s", id, lerr.message);
			json_array_append_new(
				partial, json_pack("{s:s, s:s}", "code",
						   err_name(lerr.code),
						   "detail", buf_str(&b)));
			buf_release(&b);
		} else {
			json_array_append_new(loops, view);
		}
		err_release(&lerr);
	}
	r = 0;
out:
	json_decref(all);
	return r;
}

/*
 * At the end of the tick, deliver the journal's events not yet notified
 * (what this tick finished among them) when a channel is configured:
 * the events delivered, or -1 when none is.  A channel that fails is a
 * partial error, never the tick's failure.
 */
static json_int_t drain(struct ctx *ctx, json_t *partial)
{
	json_t *channels, *res = NULL;
	struct err derr = ERR_INIT;
	json_int_t n = -1;

	if (!notify_configured(ctx->config))
		return -1;
	channels = notify_channels(ctx->config);
	if (notify_drain(ctx->journal, &res, ctx->config, channels, partial,
			 &derr) < 0) {
		json_array_append_new(
			partial, json_pack("{s:s, s:s}", "code",
					   err_name(derr.code), "detail",
					   derr.message));
	} else {
		n = json_integer_value(json_object_get(res, "delivered"));
	}
	err_release(&derr);
	json_decref(res);
	json_decref(channels);
	return n < 0 ? 0 : n;
}

static int loop_tick_run(struct ctx *ctx, const json_t *spec, json_t **data,
			 struct err *err)
{
	const char *id = json_string_value(json_object_get(spec, "loop_id"));
	json_t *loops = json_array(), *partial = json_array(), *view = NULL;
	json_int_t notified;
	int r = -1;

	if (id) {
		if (loop_tick(ctx->journal, &view, ctx->config, id, partial,
			      err) < 0)
			goto out;
		json_array_append_new(loops, view);
	} else if (tick_all(ctx, loops, partial, err) < 0) {
		goto out;
	}
	notified = drain(ctx, partial);
	partials(ctx, partial);
	*data = json_pack("{s:O, s:I}", "loops", loops, "count",
			  (json_int_t)json_array_size(loops));
	if (notified >= 0)
		json_object_set_new(*data, "notified", json_integer(notified));
	r = 0;
out:
	json_decref(loops);
	json_decref(partial);
	return r;
}

static const enum err_code loop_tick_errors[] = {
	ERR_NOT_FOUND,		   ERR_CONFLICT,
	ERR_PRECONDITION_FAILED,   ERR_AGENT_FAILED,
	ERR_SCHEDULER_UNAVAILABLE, ERR_SCHEDULER_REJECTED,
	ERR_SSH_UNREACHABLE,	   ERR_HOST_KEY_MISMATCH,
	ERR_AUTH_FAILED,	   ERR_TRANSFER_FAILED,
	ERR_REMOTE_COMMAND_FAILED, ERR_TIMEOUT,
	ERR_FILE_REFUSED,	   ERR_HTTP_FAILED,
	ERR_NOTIFY_FAILED,	   ERR_IN_PROGRESS,
	ERR_NONE
};

const struct primitive prim_loop_tick = {
	.name = "loop-tick",
	.summary = "Advance a loop by what is due: record, decide, "
		   "meta-analyze, propose and submit the next run",
	.description =
		"For the loop named (or every running loop, oldest first): "
		"brings its live run up to date with one scheduler query "
		"per cluster, stops a run past twice its run_budget_s and "
		"records it as a timeout, records every finished run the "
		"ledger lacks (its metric from results/metric.json; a "
		"failed run is a crash, a requeued one `requeued`), "
		"honours a stop request, finishes at the count or the "
		"budget, meta-analyzes when due, proposes the idea of the "
		"next iteration and submits it. `steps` says what was done; "
		"a live run is `wait`; another tick working on the same "
		"iteration is `busy`, not an error. Ticks converge: repeat "
		"them freely, even concurrently: the idea and the sprint of "
		"an iteration are each made once (keys derived from the "
		"loop and the iteration). A cluster that cannot be reached "
		"is a `partial_errors` entry. When notification channels "
		"are configured, the tick ends by delivering the journal "
		"events not yet notified (`notify` with drain; `notified` "
		"counts them); a channel that fails is a `partial_errors` "
		"entry, not the tick's failure.",
	.example = "{}",
	.flags = PRIM_MUTATES | PRIM_IDEMPOTENT | PRIM_NEEDS_JOURNAL |
		 PRIM_NEEDS_CONFIG | PRIM_NEEDS_CLUSTER | PRIM_OWN_TX |
		 PRIM_HTTP,
	.errors = loop_tick_errors,
	.handler = loop_tick_run,
};
