/*
 * submit-flow: submit a research idea as one sprint: render its job,
 * commit it as pending, write its directory through the cluster's
 * transport, submit it, and commit the job id (DESIGN §4 two-phase
 * submission).  A crash between the two phases leaves a pending sprint
 * carrying the idempotency key; the retry finds it and adopts the job
 * the scheduler already has (by the sprint id in its comment) or
 * submits it then, so a job is never lost or duplicated.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "cluster.h"
#include "config.h"
#include "context.h"
#include "crypto.h"
#include "ids.h"
#include "jobgen.h"
#include "journal.h"
#include "primitive.h"
#include "sched.h"
#include "sprint.h"
#include "transport.h"
#include "xalloc.h"
#include "banned.h"

/* The data every outcome of the call returns. */
static json_t *result(const json_t *row, const struct jobgen *g)
{
	json_t *meta = json_loads(json_string_value(json_object_get(row,
							"metadata")),
				  0, NULL);
	json_t *out = json_pack(
		"{s:O, s:O, s:O, s:O, s:O, s:O, s:O?}", "sprint_id",
		json_object_get(row, "id"), "study",
		json_object_get(row, "study"), "cluster",
		json_object_get(row, "cluster"), "state",
		json_object_get(row, "state"), "job_id",
		json_object_get(row, "job_id"), "directory",
		json_object_get(row, "directory"), "time_limit_s",
		json_object_get(meta, "time_limit_s"));

	if (g && g->job_options)
		json_object_set(out, "job_options", g->job_options);
	else
		json_object_set(out, "job_options",
				json_object_get(meta, "job_options"));
	if (!json_object_get(out, "job_options"))
		json_object_set_new(out, "job_options", json_object());
	if (!json_object_get(out, "time_limit_s"))
		json_object_set_new(out, "time_limit_s", json_integer(0));
	json_decref(meta);
	return out;
}

/*
 * Phase 1: the sprint row, pending, with its key and token hash.
 */
static int insert_pending(struct ctx *ctx, const json_t *spec,
			  const struct jobgen *g, const char *id,
			  const char *dir, const char *token, struct err *err)
{
	char now[IDS_TIME_LEN], hash[SHA256_HEX_LEN + 1];
	const char *study = json_string_value(json_object_get(spec, "study"));
	json_t *params = NULL, *meta = NULL, *ev = NULL;
	int r = -1;

	ids_now(now);
	crypto_sha256_hex(hash, token, strlen(token));
	if (sprint_ensure_study(ctx->journal, study, g->cluster, err) < 0)
		goto out;
	meta = json_pack("{s:O, s:i, s:O, s:s, s:i}", "job_options",
			 g->job_options, "time_limit_s", g->time_limit_s,
			 "agent_argv", g->agent_argv, "scheduler",
			 g->scheduler, "red_team_max_rounds",
			 g->red_team_rounds);
	params = json_pack("[s,s,s,O,s,s,s,O,s]", id, study, g->cluster,
			   json_object_get(spec, "idea"), dir, hash,
			   ctx->idem_key, meta, now);
	if (journal_exec(ctx->journal, NULL,
			 "INSERT INTO sprints (id, study, cluster, idea, "
			 "state, directory, token_hash, idem_key, metadata, "
			 "created_at) VALUES (?, ?, ?, ?, 'pending', ?, ?, ?, "
			 "?, ?)",
			 params, err) < 0)
		goto out;
	ev = json_pack("{s:s, s:s, s:s}", "study", study, "cluster",
		       g->cluster, "directory", dir);
	r = journal_event(ctx->journal, NULL, "sprint.created", id, ev, err);
out:
	json_decref(ev);
	json_decref(meta);
	json_decref(params);
	return r;
}

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

/*
 * Phase 2: submit the job to the scheduler of 'c', or adopt the one a
 * crashed attempt submitted (found by the sprint id 'id' in its
 * comment).  '*job_id_out' is new.
 */
static int submit_job(struct cluster *c, char **job_id_out, const char *id,
		      const char *dir, const struct jobgen *g,
		      struct err *err)
{
	struct sched_submit req;
	struct buf script = BUF_INIT, out = BUF_INIT, errp = BUF_INIT;
	char name[64];
	json_t *found = NULL;
	int r = -1;

	*job_id_out = NULL;
	if (sched_find(c->sched, &found, id, err) < 0)
		goto done;
	if (json_array_size(found)) {
		*job_id_out = xstrdup(json_string_value(json_array_get(found,
								       0)));
		r = 0;
		goto done;
	}
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
done:
	json_decref(found);
	buf_release(&script);
	buf_release(&out);
	buf_release(&errp);
	return r;
}

/* Phase 2 committed: the job id, the jobs row and the event. */
static int record_submitted(struct ctx *ctx, const char *id,
			    const char *cluster, const char *job_id,
			    struct err *err)
{
	char now[IDS_TIME_LEN];
	json_t *params, *ev;
	int r;

	ids_now(now);
	params = json_pack("[s,s,s]", job_id, now, id);
	r = journal_exec(ctx->journal, NULL,
			 "UPDATE sprints SET job_id = ?, submitted_at = ?, "
			 "state = 'submitted' WHERE id = ? AND state = "
			 "'pending'",
			 params, err);
	json_decref(params);
	if (r < 0)
		return -1;
	params = json_pack("[s,s,s,s,s]", id, cluster, job_id, now, now);
	r = journal_exec(ctx->journal, NULL,
			 "INSERT INTO jobs (sprint_id, cluster, "
			 "scheduler_job_id, state, submitted_at, updated_at) "
			 "VALUES (?, ?, ?, 'submitted', ?, ?)",
			 params, err);
	json_decref(params);
	if (r < 0)
		return -1;
	ev = json_pack("{s:s, s:s}", "job_id", job_id, "cluster", cluster);
	r = journal_event(ctx->journal, NULL, "sprint.submitted", id, ev, err);
	json_decref(ev);
	return r;
}

/*
 * The submission failed after phase 1: record the sprint as failed,
 * commit that (the dispatcher rolls back what a failed handler left
 * open), and hand the original error back.
 */
static int record_failure(struct ctx *ctx, const char *id, struct err *err)
{
	struct err ignored = ERR_INIT;
	json_t *completion;
	int transitioned;

	completion = json_pack("{s:s, s:s, s:s}", "status", "failed",
			       "error", err->message, "error_code",
			       err_name(err->code));
	if (journal_begin(ctx->journal, &ignored) == 0) {
		if (sprint_finish(ctx->journal, &transitioned, id, "failed",
				  completion, NULL, &ignored) == 0)
			journal_commit(ctx->journal, &ignored);
		else
			journal_rollback(ctx->journal);
	}
	json_decref(completion);
	err_release(&ignored);
	return -1;
}

/* Forget the key of the failed attempt 'row', so it can be retried. */
static int release_key(struct ctx *ctx, const json_t *row, struct err *err)
{
	json_t *params = json_pack("[O]", json_object_get(row, "id"));
	int r = journal_exec(ctx->journal, NULL,
			     "UPDATE sprints SET idem_key = NULL WHERE id = ?",
			     params, err);

	json_decref(params);
	return r;
}

/* Store the hash of 'token' for sprint 'id'. */
static int set_token(struct ctx *ctx, const char *id, const char *token,
		     struct err *err)
{
	char hash[SHA256_HEX_LEN + 1];
	json_t *params;
	int r;

	crypto_sha256_hex(hash, token, strlen(token));
	params = json_pack("[s,s]", hash, id);
	r = journal_exec(ctx->journal, NULL,
			 "UPDATE sprints SET token_hash = ? WHERE id = ?",
			 params, err);
	json_decref(params);
	return r;
}

/*
 * The sprint an earlier attempt with this call's key left, if any: a
 * pending one is resumed, a submitted one is replayed, and one that
 * failed before reaching the scheduler frees its key for a new try.
 */
static int earlier_attempt(struct ctx *ctx, json_t **row_out,
			   struct err *err)
{
	json_t *params = json_pack("[s]", ctx->idem_key);
	json_t *row = NULL;
	int r;

	*row_out = NULL;
	r = journal_row(ctx->journal, &row,
			"SELECT * FROM sprints WHERE idem_key = ?", params,
			err);
	json_decref(params);
	if (r < 0 || !row)
		return r;
	if (json_is_null(json_object_get(row, "job_id")) &&
	    sprint_state_terminal(json_string_value(
		    json_object_get(row, "state")))) {
		r = release_key(ctx, row, err);
		json_decref(row);
		return r;
	}
	*row_out = row;
	return 0;
}

/* '<sprints dir of study>/<dir name>' as a new string, or NULL. */
static char *new_sprint_dir(const struct config *cfg, const char *study,
			    const char *id, const char *idea)
{
	char *base = context_sprints_dir(cfg, study);
	char *name, *dir;
	size_t n;

	if (!base)
		return NULL;
	name = sprint_dir_name(id, idea, time(NULL));
	n = strlen(base) + strlen(name) + 2;
	dir = xmalloc(n);
	snprintf(dir, n, "%s/%s", base, name);
	free(base);
	free(name);
	return dir;
}

static int submit_flow_run(struct ctx *ctx, const json_t *spec,
			   json_t **data, struct err *err)
{
	struct jobgen g = JOBGEN_INIT;
	struct jobgen_request req;
	struct cluster c = CLUSTER_INIT;
	const char *study = json_string_value(json_object_get(spec, "study"));
	json_t *row = NULL, *v;
	char id[SPRINT_ID_MAX], token[33] = "";
	char *dir = NULL, *job_id = NULL;
	int r = -1;

	if (earlier_attempt(ctx, &row, err) < 0)
		goto out;
	if (row && strcmp(json_string_value(json_object_get(row, "state")),
			  "pending")) {
		/* Submitted before, but its record was not stored. */
		ctx->replayed = 1;
		*data = result(row, NULL);
		r = 0;
		goto out;
	}
	if (row) {
		/* Resume the crashed attempt rather than start again. */
		snprintf(id, sizeof(id), "%s",
			 json_string_value(json_object_get(row, "id")));
		dir = xstrdup(json_string_value(json_object_get(row,
							"directory")));
	} else {
		if (!config_study(ctx->config, study)) {
			err_set(err, ERR_NOT_FOUND, "no study '%s'", study);
			goto out;
		}
		if (sprint_new_id(ctx->journal, id, err) < 0)
			goto out;
		dir = new_sprint_dir(ctx->config, study, id,
				     json_string_value(json_object_get(spec,
								       "idea")));
	}
	memset(&req, 0, sizeof(req));
	req.study = study;
	req.idea = json_string_value(json_object_get(spec, "idea"));
	req.job_options = json_object_get(spec, "job_options");
	v = json_object_get(spec, "time_limit_s");
	req.time_limit_s = v ? (int)json_integer_value(v) : 0;
	req.sprint_id = id;
	req.sprint_dir = dir;
	/*
	 * Everything that can be wrong with the input or the config fails
	 * here, before the journal changes.
	 */
	if (jobgen_build(&g, ctx->config, &req, err) < 0 ||
	    cluster_open(&c, ctx->config, g.cluster, err) < 0)
		goto out;
	if (crypto_random_hex(token, 16) < 0) {
		err_set(err, ERR_INTERNAL, "no randomness for a token");
		goto out;
	}
	/* Phase 1.  A resumed sprint gets a new token: the old may be lost. */
	if (!row && insert_pending(ctx, spec, &g, id, dir, token, err) < 0)
		goto out;
	if (row && set_token(ctx, id, token, err) < 0)
		goto out;
	if (journal_commit(ctx->journal, err) < 0)
		goto out;
	/*
	 * Phase 2, with no lock held while the cluster is busy; the
	 * dispatcher commits the last transaction with the idempotency
	 * record.
	 */
	if (write_dir(&c, dir, token, &g, err) < 0 ||
	    submit_job(&c, &job_id, id, dir, &g, err) < 0) {
		record_failure(ctx, id, err);
		goto out;
	}
	if (journal_begin(ctx->journal, err) < 0 ||
	    record_submitted(ctx, id, g.cluster, job_id, err) < 0)
		goto out;
	json_decref(row);
	if (sprint_get(ctx->journal, &row, id, err) < 0)
		goto out;
	*data = result(row, &g);
	r = 0;
out:
	memset(token, 0, sizeof(token));
	cluster_release(&c);
	jobgen_release(&g);
	json_decref(row);
	free(dir);
	free(job_id);
	return r;
}

static const enum err_code submit_flow_errors[] = {
	ERR_NOT_FOUND,	    ERR_SCHEDULER_UNAVAILABLE, ERR_SCHEDULER_REJECTED,
	ERR_SSH_UNREACHABLE, ERR_HOST_KEY_MISMATCH,	   ERR_AUTH_FAILED,
	ERR_TRANSFER_FAILED,	    ERR_REMOTE_COMMAND_FAILED,		   ERR_TIMEOUT,
	ERR_CONFLICT,	    ERR_NONE
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
		"spec (or `idempotency_key`) returns the first result with "
		"\"idempotent\": true; a retry after a crash between the two "
		"phases adopts the job the scheduler already has.",
	.example = "{\"study\": \"demo\", \"idea\": \"try a smaller learning "
		   "rate\"}",
	.flags = PRIM_MUTATES | PRIM_KEYED | PRIM_NEEDS_JOURNAL |
		 PRIM_NEEDS_CONFIG | PRIM_NEEDS_CLUSTER | PRIM_HTTP,
	.errors = submit_flow_errors,
	.handler = submit_flow_run,
};
