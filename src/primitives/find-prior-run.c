/*
 * find-prior-run: has this submit-flow spec been run before?  The
 * spec's idempotency key (its idempotency_key, else the hash of the
 * spec, exactly as submit-flow computes it) is looked up without
 * claiming anything: the sprint or campaign it made, its state, and
 * whether its attempt died (an orphan that reconcile or a retry of the
 * same spec resumes).
 */
#include <string.h>
#include <time.h>

#include "campaign.h"
#include "idem.h"
#include "ids.h"
#include "primitive.h"
#include "sprint.h"
#include "banned.h"

static int find_prior_run_run(struct ctx *ctx, const json_t *spec,
			      json_t **data, struct err *err)
{
	const json_t *sub = json_object_get(spec, "spec");
	struct idem_key k;
	json_t *row = NULL, *run = NULL;
	const char *subject, *status, *state = NULL;
	int active = 0, r = -1;
	time_t at = 0;

	idem_key_of(&k, sub);
	if (idem_find(ctx->journal, &row, "submit-flow", &k, err) < 0)
		goto out;
	subject = json_string_value(json_object_get(row, "subject"));
	status = json_string_value(json_object_get(row, "status"));
	if (!row || !subject || !*subject) {
		*data = json_pack("{s:b, s:s, s:n, s:n, s:n, s:n, s:b, s:b, s:n}",
				  "found", 0, "key", k.key, "kind", "id",
				  "state", "attempt", "is_orphan", 0,
				  "spec_matches", row != NULL, "age_s");
		r = 0;
		goto out;
	}
	if (!strncmp(subject, "cp-", 3)) {
		if (campaign_show(ctx->journal, &run, subject, err) < 0)
			goto out;
	} else if (sprint_get(ctx->journal, &run, subject, err) < 0) {
		goto out;
	}
	state = json_string_value(json_object_get(run, "state"));
	if (idem_subject_active(ctx->journal, &active, subject, err) < 0)
		goto out;
	ids_parse_time(&at, json_string_value(json_object_get(run,
							      "created_at")));
	*data = json_pack(
		"{s:b, s:s, s:s, s:s, s:s, s:s?, s:b, s:b, s:I}", "found", 1,
		"key", k.key, "kind", strncmp(subject, "cp-", 3) ? "sprint"
								 : "campaign",
		"id", subject, "state", state, "attempt", status, "is_orphan",
		!strcmp(status ? status : "", "pending") && !active,
		"spec_matches", json_is_true(json_object_get(row, "spec_matches")),
		"age_s", (json_int_t)(at ? time(NULL) - at : 0));
	r = 0;
out:
	json_decref(row);
	json_decref(run);
	return r;
}

static const enum err_code find_prior_run_errors[] = { ERR_NOT_FOUND,
						       ERR_NONE };

const struct primitive prim_find_prior_run = {
	.name = "find-prior-run",
	.summary = "Tell whether a submit-flow spec was run before, and what "
		   "became of it",
	.description =
		"Computes the idempotency key submit-flow would use for the "
		"spec given (its idempotency_key, else the SHA-256 of the "
		"canonical spec) and looks it up without claiming it: found, "
		"the sprint or campaign it made with its state now, the "
		"attempt's status (done, pending, failed), whether that "
		"attempt died unfinished (is_orphan: a retry of the same spec "
		"or reconcile resumes it), and whether the key was first "
		"used with this very spec (spec_matches false: submitting it "
		"would be conflict).",
	.example = "{\"spec\": {\"study\": \"demo\", \"idea\": \"try a "
		   "smaller learning rate\"}}",
	.flags = PRIM_NEEDS_JOURNAL | PRIM_READ_SAFE | PRIM_IDEMPOTENT |
		 PRIM_HTTP,
	.errors = find_prior_run_errors,
	.handler = find_prior_run_run,
};
