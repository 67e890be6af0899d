/*
 * monitor-flow: follow a campaign until every task has ended or the
 * time budget is spent, one look per interval (never faster than the
 * interval floor; the scheduler is asked within its query budget), the
 * interval growing by half while nothing changes.  A progress line goes
 * to stderr when stderr is a terminal.  With no budget, one look.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "campaign.h"
#include "primitive.h"
#include "banned.h"

#define MONITOR_FLOOR_S 1.0
#define MONITOR_MAX_INTERVAL_S 60.0

/* The state of the show data 'd' has ended. */
static int ended(const json_t *d)
{
	const char *s = json_string_value(json_object_get(d, "state"));

	return s && (!strcmp(s, "completed") || !strcmp(s, "failed") ||
		     !strcmp(s, "cancelled"));
}

/* Done tasks of 'd', a number to see change. */
static json_int_t done_of(const json_t *d)
{
	const json_t *c = json_object_get(d, "counts");

	return json_integer_value(json_object_get(c, "completed")) * 1000003 +
	       json_integer_value(json_object_get(c, "failed")) * 1009 +
	       json_integer_value(json_object_get(c, "running")) * 7 +
	       json_integer_value(json_object_get(c, "timed_out")) +
	       json_integer_value(json_object_get(c, "cancelled")) +
	       json_integer_value(json_object_get(c, "lost"));
}

static void progress(const json_t *d, int tty)
{
	const json_t *c = json_object_get(d, "counts");

	if (!tty)
		return;
	fprintf(stderr, "\r%s %s: %lld/%lld completed, %lld running, %lld "
		"failed   ", json_string_value(json_object_get(d, "campaign_id")),
		json_string_value(json_object_get(d, "state")),
		(long long)json_integer_value(json_object_get(c, "completed")),
		(long long)json_integer_value(json_object_get(d, "tasks")),
		(long long)json_integer_value(json_object_get(c, "running")),
		(long long)(json_integer_value(json_object_get(c, "failed")) +
			    json_integer_value(json_object_get(c, "timed_out")) +
			    json_integer_value(json_object_get(c, "lost"))));
}

static int monitor_flow_run(struct ctx *ctx, const json_t *spec,
			    json_t **data, struct err *err)
{
	const char *id = json_string_value(json_object_get(spec, "campaign_id"));
	const json_t *b = json_object_get(spec, "budget_s");
	const json_t *iv = json_object_get(spec, "interval_s");
	double budget = b ? json_number_value(b) : 0;
	double interval = iv ? json_number_value(iv) : 5.0;
	struct timespec t0, now;
	json_int_t last = -1;
	int ticks = 0, tty = isatty(STDERR_FILENO) && budget > 0;
	double elapsed = 0;

	if (interval < MONITOR_FLOOR_S)
		interval = MONITOR_FLOOR_S;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		json_decref(*data);
		*data = NULL;
		if (campaign_tick(ctx->journal, data, ctx->config, id, err) < 0)
			return -1;
		ticks++;
		progress(*data, tty);
		clock_gettime(CLOCK_MONOTONIC, &now);
		elapsed = (double)(now.tv_sec - t0.tv_sec) +
			  (double)(now.tv_nsec - t0.tv_nsec) / 1e9;
		if (ended(*data) || elapsed + interval > budget)
			break;
		if (done_of(*data) == last)
			interval = fmin(interval * 1.5, MONITOR_MAX_INTERVAL_S);
		last = done_of(*data);
		{
			struct timespec ts = { (time_t)interval,
				(long)((interval - floor(interval)) * 1e9) };

			nanosleep(&ts, NULL);
		}
	}
	if (tty)
		fputc('\n', stderr);
	json_object_set_new(*data, "ticks", json_integer(ticks));
	json_object_set_new(*data, "elapsed_s", json_real(round(elapsed * 10) / 10));
	json_object_set_new(*data, "ended", json_boolean(ended(*data)));
	return 0;
}

static const enum err_code monitor_flow_errors[] = {
	ERR_NOT_FOUND, ERR_SCHEDULER_UNAVAILABLE, ERR_SSH_UNREACHABLE,
	ERR_HOST_KEY_MISMATCH, ERR_AUTH_FAILED, ERR_TIMEOUT,
	ERR_REMOTE_COMMAND_FAILED, ERR_NONE
};

const struct primitive prim_monitor_flow = {
	.name = "monitor-flow",
	.summary = "Follow a campaign until its tasks have ended or the time "
		   "budget is spent",
	.description =
		"Looks at the campaign's tasks that have not ended (one "
		"scheduler query for all of them, within the cluster's shared "
		"query budget), records what the scheduler says, and repeats "
		"every interval_s (at least 1 s, growing by half while nothing "
		"changes, up to 60 s) until every task ended or budget_s is "
		"spent; with no budget_s, one look. It never resubmits: "
		"failed_tasks lists what resubmit-failed can run again. A "
		"progress line goes to stderr when stderr is a terminal.",
	.example = "{\"campaign_id\": \"cp-000000\"}",
	.flags = PRIM_MUTATES | PRIM_IDEMPOTENT | PRIM_NEEDS_JOURNAL |
		 PRIM_NEEDS_CONFIG | PRIM_NEEDS_CLUSTER | PRIM_OWN_TX |
		 PRIM_READ_SAFE | PRIM_HTTP,
	.errors = monitor_flow_errors,
	.handler = monitor_flow_run,
};
