/*
 * submit-flow: submit a research idea as one sprint, exactly once
 * (DESIGN §4).  Everything that can be wrong with the spec or the config
 * fails before the journal changes.  Then, with the two phases of
 * sprint_submit.c: the sprint is committed as pending under the call's
 * idempotency key; its directory is written and its job submitted with
 * the sprint id in the job's name and comment, with no journal lock
 * held; the job id is committed with the result.  A concurrent call with
 * the same key is told to retry (in_progress) or replays; a call that
 * finds a dead attempt resumes it, adopting the job the scheduler
 * already has (found by the sprint id) rather than submitting twice.
 */
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "cluster.h"
#include "config.h"
#include "context.h"
#include "crypto.h"
#include "fault.h"
#include "jobgen.h"
#include "journal.h"
#include "primitive.h"
#include "sched.h"
#include "sprint.h"
#include "transport.h"
#include "xalloc.h"
#include "banned.h"

/* ---------------------------------------------------------------- */
/* The result                                                         */
/* ---------------------------------------------------------------- */

/* The data of the call from the sprint 'row' (as the journal has it). */
static json_t *result(const json_t *row, void *arg)
{
	json_t *meta = json_loads(json_string_value(json_object_get(row,
							"metadata")),
				  0, NULL);
	json_t *opts = json_object_get(meta, "job_options");
	json_t *limit = json_object_get(meta, "time_limit_s");
	json_t *out;

	(void)arg;
	out = json_pack("{s:O, s:O, s:O, s:O, s:O, s:O, s:O, s:O, s:O, s:O}",
			"sprint_id", json_object_get(row, "id"), "study",
			json_object_get(row, "study"), "cluster",
			json_object_get(row, "cluster"), "state",
			json_object_get(row, "state"), "phase",
			json_object_get(row, "phase"), "error",
			json_object_get(row, "error"), "job_id",
			json_object_get(row, "job_id"), "directory",
			json_object_get(row, "directory"), "retry_of",
			json_object_get(row, "retry_of"), "created_at",
			json_object_get(row, "created_at"));
	if (json_is_object(opts))
		json_object_set(out, "job_options", opts);
	else
		json_object_set_new(out, "job_options", json_object());
	json_object_set_new(out, "time_limit_s",
			    json_is_integer(limit) ? json_incref(limit)
						   : json_integer(0));
	json_decref(meta);
	return out;
}

/*
 * A replay's data: the stored result with the live fields (state,
 * phase, error, job id) of the sprint as it now stands (DESIGN §12).
 */
static json_t *replay_data(const json_t *stored, const json_t *row)
{
	static const char *const live[] = { "state", "phase", "error",
					    "job_id" };
	json_t *out = stored ? json_deep_copy(stored) : result(row, NULL);
	const char *state;
	size_t i;

	for (i = 0; row && i < sizeof(live) / sizeof(live[0]); i++) {
		const char *col = live[i];

		json_object_set(out, col, json_object_get(row, col));
	}
	state = json_string_value(json_object_get(out, "state"));
	if (state && sprint_state_name_terminal(state) &&
	    strcmp(state, "completed")) {
		struct buf b = BUF_INIT;

		buf_addf(&b, "sprint %s %s; to run it again as a new sprint: "
			     "hpcloop submit-flow --spec '{\"retry_of\": "
			     "\"%s\"}'",
			 json_string_value(json_object_get(out, "sprint_id")),
			 state,
			 json_string_value(json_object_get(out, "sprint_id")));
		json_object_set_new(out, "next_step", json_string(buf_str(&b)));
		buf_release(&b);
	}
	return out;
}

/* ---------------------------------------------------------------- */
/* The cluster side                                                   */
/* ---------------------------------------------------------------- */

/*
 * Write the sprint directory: the token (0600) and the job script
 * (0700).  Everything else the job writes itself.
 */
static int write_dir(struct cluster *c, const char *dir, const char *token,
		     const struct jobgen *g, struct err *err)
{
	struct buf path = BUF_INIT;
	int r = -1;

	if (transport_mkdirs(c->t, dir, 0700, err) < 0)
		goto out;
	buf_addf(&path, "%s/.hpcloop/token", dir);
	if (transport_write_file(c->t, buf_str(&path), token, strlen(token),
				 0600, err) < 0)
		goto out;
	buf_release(&path);
	buf_addf(&path, "%s/run_sprint.sh", dir);
	if (transport_write_file(c->t, buf_str(&path), g->script,
				 strlen(g->script), 0700, err) < 0)
		goto out;
	r = 0;
out:
	buf_release(&path);
	return r;
}

/* Submit the job of sprint 'id' in 'dir'; '*job_id_out' is new. */
static int submit_job(struct cluster *c, char **job_id_out, const char *id,
		      const char *dir, const struct jobgen *g,
		      struct err *err)
{
	struct sched_submit req;
	struct buf script = BUF_INIT, out = BUF_INIT, errp = BUF_INIT;
	char name[64];
	int r;

	snprintf(name, sizeof(name), "hpl-%s", id);
	buf_addf(&script, "%s/run_sprint.sh", dir);
	buf_addf(&out, "%s/job.out", dir);
	buf_addf(&errp, "%s/job.err", dir);
	memset(&req, 0, sizeof(req));
	req.name = name;
	req.comment = id;
	req.workdir = dir;
	req.script_path = buf_str(&script);
	req.stdout_path = buf_str(&out);
	req.stderr_path = buf_str(&errp);
	req.job_options = g->job_options;
	req.time_limit_s = g->time_limit_s;
	req.env = g->env;
	r = sched_submit(c->sched, job_id_out, &req, err);
	buf_release(&script);
	buf_release(&out);
	buf_release(&errp);
	return r;
}

/*
 * Whether a failure 'err' of the cluster work proves that nothing
 * reached the scheduler.  A timeout or a lost connection while
 * submitting may have left a job behind: that attempt is not clean.
 */
static int failure_is_clean(const struct err *err, int submitting)
{
	if (!submitting)
		return 1;
	return err->code != ERR_TIMEOUT && err->code != ERR_SSH_UNREACHABLE &&
	       err->code != ERR_REMOTE_COMMAND_FAILED &&
	       err->code != ERR_INTERRUPTED;
}

/*
 * The job of the resumed sprint 'id' that a dead attempt may have
 * submitted: its id (new) in '*job_id_out', or NULL.
 */
static int find_job(struct cluster *c, char **job_id_out, const char *id,
		    struct err *err)
{
	json_t *found = NULL;

	*job_id_out = NULL;
	if (sched_find(c->sched, &found, id, err) < 0)
		return -1;
	if (json_array_size(found))
		*job_id_out = xstrdup(json_string_value(json_array_get(found,
								       0)));
	json_decref(found);
	return 0;
}

/* ---------------------------------------------------------------- */
/* The primitive                                                      */
/* ---------------------------------------------------------------- */

/* The render request for sprint 'id' in 'dir' from 'spec'. */
static void request_of(struct jobgen_request *req, const json_t *spec,
		       const char *id, const char *dir)
{
	const json_t *v = json_object_get(spec, "time_limit_s");

	memset(req, 0, sizeof(*req));
	req->study = json_string_value(json_object_get(spec, "study"));
	req->idea = json_string_value(json_object_get(spec, "idea"));
	req->job_options = json_object_get(spec, "job_options");
	req->time_limit_s = v ? (int)json_integer_value(v) : 0;
	req->sprint_id = id;
	req->sprint_dir = dir;
}

/*
 * The spec as it will run: for {"retry_of": ID} the study and idea of
 * that finished sprint (conflict while it is live), else 'spec' as it
 * is.  A new reference in '*out'.
 */
static int effective_spec(struct ctx *ctx, json_t **out, const json_t *spec,
			  struct err *err)
{
	const char *of = json_string_value(json_object_get(spec, "retry_of"));
	json_t *row = NULL, *eff;
	const char *state;

	*out = NULL;
	if (!of) {
		if (!json_object_get(spec, "study") ||
		    !json_object_get(spec, "idea")) {
			err_set(err, ERR_SPEC_INVALID,
				"spec invalid: give study and idea, or "
				"retry_of");
			return err_remedy(err, "`hpcloop schema submit-flow` "
					  "describes the fields");
		}
		*out = json_incref((json_t *)spec);
		return 0;
	}
	if (json_object_get(spec, "study") || json_object_get(spec, "idea")) {
		err_set(err, ERR_SPEC_INVALID, "spec invalid: retry_of takes "
			"the study and idea of the sprint it retries");
		return err_remedy(err, "give retry_of without study and idea");
	}
	if (sprint_get(ctx->journal, &row, of, err) < 0)
		return -1;
	state = json_string_value(json_object_get(row, "state"));
	if (!sprint_state_name_terminal(state)) {
		err_set(err, ERR_CONFLICT, "sprint '%s' is still %s; only a "
			"finished sprint can be retried", of, state);
		err_detail(err, "state", json_string(state));
		json_decref(row);
		return err_remedy(err, "wait for it to finish (`hpcloop "
				  "status`), or cancel it first");
	}
	eff = json_deep_copy(spec);
	json_object_set(eff, "study", json_object_get(row, "study"));
	json_object_set(eff, "idea", json_object_get(row, "idea"));
	json_decref(row);
	*out = eff;
	return 0;
}

/*
 * Check everything the spec and the config decide, before the journal
 * changes: the study, its job options, the rendering of its job, and
 * that its cluster opens.  Fills 'g' with a trial rendering (its
 * metadata is what the sprint keeps) and 'c'.
 */
static int check_inputs(struct ctx *ctx, const json_t *spec,
			struct jobgen *g, struct cluster *c, char **base_out,
			struct err *err)
{
	const char *study = json_string_value(json_object_get(spec, "study"));
	struct jobgen_request req;

	*base_out = NULL;
	if (!config_study(ctx->config, study)) {
		err_set(err, ERR_NOT_FOUND, "no study '%s' in %s", study,
			ctx->config_path);
		return err_remedy(err, "`hpcloop study-list` lists the "
				  "studies of hpcloop.yaml");
	}
	*base_out = context_sprints_dir(ctx->config, study);
	request_of(&req, spec, "sp-000000", *base_out);
	if (jobgen_build(g, ctx->config, &req, err) < 0)
		return -1;
	return cluster_open(c, ctx->config, g->cluster, err);
}

/* What the sprint keeps of its job in its metadata: a new object. */
static json_t *job_metadata(const struct jobgen *g)
{
	return json_pack("{s:O, s:i, s:O, s:s, s:i}", "job_options",
			 g->job_options, "time_limit_s", g->time_limit_s,
			 "agent_argv", g->agent_argv, "scheduler",
			 g->scheduler, "red_team_max_rounds",
			 g->red_team_rounds);
}

/*
 * Get the sprint of attempt 'a' onto the scheduler: adopt the job a
 * dead attempt submitted, or write the directory (with a new token) and
 * submit.  '*job_id_out' is new.  '*submitting_out' says whether the
 * failure, if any, happened while submitting.
 */
static int place_job(struct ctx *ctx, struct sprint_attempt *a,
		     struct cluster *c, const struct jobgen *g,
		     const char *dir, char **job_id_out, int *submitting_out,
		     struct err *err)
{
	char token[33] = "", hash[SHA256_HEX_LEN + 1];
	int r = -1;

	*job_id_out = NULL;
	*submitting_out = 0;
	if (a->found == IDEM_RESUME) {
		if (find_job(c, job_id_out, a->id, err) < 0)
			return -1;
		if (*job_id_out)
			return 0;
	}
	if (crypto_random_hex(token, 16) < 0)
		return err_set(err, ERR_INTERNAL, "no randomness for a token");
	crypto_sha256_hex(hash, token, strlen(token));
	/* The token's hash is committed before the token file exists. */
	if (journal_begin(ctx->journal, err) < 0)
		goto out;
	if (sprint_set_token(ctx->journal, a->id, hash, err) < 0 ||
	    journal_commit(ctx->journal, err) < 0) {
		journal_rollback(ctx->journal);
		goto out;
	}
	if (write_dir(c, dir, token, g, err) < 0)
		goto out;
	fault_point("submit.before_sched");
	*submitting_out = 1;
	if (submit_job(c, job_id_out, a->id, dir, g, err) < 0)
		goto out;
	fault_point("submit.after_sched");
	r = 0;
out:
	memset(token, 0, sizeof(token));
	return r;
}

/* Link the retried sprint 'of' to its new run 'id' with an event. */
static int note_retry(struct ctx *ctx, const char *of, const char *id,
		      struct err *err)
{
	json_t *ev = json_pack("{s:s}", "retried_by", id);
	int r = journal_begin(ctx->journal, err);

	if (r == 0)
		r = sprint_note(ctx->journal, of, "sprint.retried", ev, err);
	if (r == 0)
		r = journal_commit(ctx->journal, err);
	else
		journal_rollback(ctx->journal);
	json_decref(ev);
	return r;
}

static int submit_flow_run(struct ctx *ctx, const json_t *spec,
			   json_t **data, struct err *err)
{
	struct sprint_attempt a = SPRINT_ATTEMPT_INIT;
	struct jobgen trial = JOBGEN_INIT, g = JOBGEN_INIT;
	struct cluster c = CLUSTER_INIT;
	struct sprint_new n;
	struct jobgen_request req;
	json_t *meta = NULL, *eff = NULL;
	char *base = NULL, *job_id = NULL, hash[SHA256_HEX_LEN + 1];
	const char *dir;
	int submitting = 0, r = -1;

	if (effective_spec(ctx, &eff, spec, err) < 0)
		goto out;
	spec = eff;
	if (check_inputs(ctx, spec, &trial, &c, &base, err) < 0)
		goto out;
	memset(&n, 0, sizeof(n));
	n.study = json_string_value(json_object_get(spec, "study"));
	n.cluster = trial.cluster;
	n.idea = json_string_value(json_object_get(spec, "idea"));
	n.retry_of = json_string_value(json_object_get(spec, "retry_of"));
	/* No token exists yet: place_job makes and hashes one. */
	memset(hash, '0', SHA256_HEX_LEN);
	hash[SHA256_HEX_LEN] = '\0';
	n.token_hash = hash;
	meta = job_metadata(&trial);
	n.metadata = meta;
	a.primitive = ctx->prim->name;
	a.key = &ctx->key;
	if (sprint_submit_begin(ctx->journal, &a, &n, base, err) < 0)
		goto out;
	if (a.found == IDEM_FRESH && n.retry_of &&
	    note_retry(ctx, n.retry_of, a.id, err) < 0)
		goto out;
	fault_point("submit.after_pending");
	if (a.found == IDEM_REPLAY) {
		ctx->replayed = 1;
		*data = replay_data(a.stored, a.row);
		if (!a.stored && a.row &&
		    sprint_submit_store(ctx->journal, &a, *data, err) < 0)
			goto out;
		r = 0;
		goto out;
	}
	dir = json_string_value(json_object_get(a.row, "directory"));
	request_of(&req, spec, a.id, dir);
	if (jobgen_build(&g, ctx->config, &req, err) < 0 ||
	    place_job(ctx, &a, &c, &g, dir, &job_id, &submitting, err) < 0) {
		sprint_submit_abandon(ctx->journal, &a, err,
				      failure_is_clean(err, submitting));
		goto out;
	}
	if (sprint_submit_commit(ctx->journal, &a, g.cluster, job_id, result,
				 NULL, data, err) < 0)
		goto out;
	fault_point("submit.after_commit");
	r = 0;
out:
	cluster_release(&c);
	jobgen_release(&trial);
	jobgen_release(&g);
	sprint_attempt_release(&a);
	json_decref(meta);
	json_decref(eff);
	free(base);
	free(job_id);
	return r;
}

static const enum err_code submit_flow_errors[] = {
	ERR_NOT_FOUND,	       ERR_CONFLICT,	      ERR_IN_PROGRESS,
	ERR_SCHEDULER_UNAVAILABLE, ERR_SCHEDULER_REJECTED, ERR_SSH_UNREACHABLE,
	ERR_HOST_KEY_MISMATCH, ERR_AUTH_FAILED,	      ERR_TRANSFER_FAILED,
	ERR_REMOTE_COMMAND_FAILED, ERR_TIMEOUT,	      ERR_NONE
};

const struct primitive prim_submit_flow = {
	.name = "submit-flow",
	.summary = "Submit a research idea as a sprint: one batch job in "
		   "which the agent works",
	.description =
		"Renders the job script and prompts for the study, commits "
		"the sprint as `pending`, writes its directory through the "
		"cluster's transport, submits it with the sprint id in the "
		"job's name and comment, and commits the job id. The same "
		"spec (or `idempotency_key`) answers with the first result "
		"and \"idempotent\": true, its state, phase and error as "
		"they are now; the same key with another spec is "
		"`conflict`; while another call with the key is still "
		"working, `in_progress` says when to retry. A retry after a "
		"crash adopts the job the scheduler already has, so a job "
		"is never submitted twice.",
	.example = "{\"study\": \"demo\", \"idea\": \"try a smaller learning "
		   "rate\"}",
	.flags = PRIM_MUTATES | PRIM_CREATES | PRIM_KEYED | PRIM_NEEDS_JOURNAL |
		 PRIM_NEEDS_CONFIG | PRIM_NEEDS_CLUSTER | PRIM_OWN_TX |
		 PRIM_HTTP,
	.errors = submit_flow_errors,
	.handler = submit_flow_run,
};
