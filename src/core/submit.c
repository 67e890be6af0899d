/*
 * submit.c: one sprint submitted exactly once (see submit.h), factored
 * out of submit-flow so that the loop submits the same way.
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
#include "sched.h"
#include "sprint.h"
#include "submit.h"
#include "transport.h"
#include "webhook_sig.h"
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
 * Write the sprint directory: the token (0600), the sprint's webhook
 * signing key when there is an orchestrator secret (0600) and the job
 * script (0700).  Everything else the job writes itself.
 */
static int write_dir(struct cluster *c, const char *dir, const char *token,
		     const char *secret, const char *sprint_id,
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
	/*
	 * The job signs its webhooks (job.sh) with its own sprint's key,
	 * derived from the orchestrator secret, never the secret itself.
	 */
	if (secret) {
		char key[65];
		int w;

		webhook_sprint_key(key, secret, sprint_id);
		buf_addf(&path, "%s/.hpcloop/secret", dir);
		w = transport_write_file(c->t, buf_str(&path), key, strlen(key),
					 0600, err);
		memset(key, 0, sizeof(key));
		if (w < 0)
			goto out;
		buf_release(&path);
	}
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
static int place_job(struct journal *j, struct sprint_attempt *a,
		     struct cluster *c, const struct jobgen *g,
		     const struct submit_request *req, const char *dir,
		     const char *secret, char **job_id_out,
		     int *submitting_out, struct err *err)
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
	if (journal_begin(j, err) < 0)
		goto out;
	if (sprint_set_token(j, a->id, hash, err) < 0 ||
	    journal_commit(j, err) < 0) {
		journal_rollback(j);
		goto out;
	}
	if (write_dir(c, dir, token, secret, a->id, g, err) < 0 ||
	    (req->prepare &&
	     req->prepare(req->prepare_arg, c->t, a->id, dir, err) < 0))
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
static int note_retry(struct journal *j, const char *of, const char *id,
		      struct err *err)
{
	json_t *ev = json_pack("{s:s}", "retried_by", id);
	int r = journal_begin(j, err);

	if (r == 0)
		r = sprint_note(j, of, "sprint.retried", ev, err);
	if (r == 0)
		r = journal_commit(j, err);
	else
		journal_rollback(j);
	json_decref(ev);
	return r;
}

/* ---------------------------------------------------------------- */
/* Submitting                                                         */
/* ---------------------------------------------------------------- */

/* The render request for sprint 'id' in 'dir' from 'req'. */
static void request_of(struct jobgen_request *jr,
		       const struct submit_request *req, const char *id,
		       const char *dir)
{
	memset(jr, 0, sizeof(*jr));
	jr->study = req->study;
	jr->idea = req->idea;
	jr->job_options = req->job_options;
	jr->time_limit_s = req->time_limit_s;
	jr->sprint_id = id;
	jr->sprint_dir = dir;
	jr->params = req->params;
	jr->code_dir = req->code_dir;
}

/*
 * Check everything the request and the config decide, before the
 * journal changes: the study, its job options, the rendering of its
 * job, and that its cluster opens.  Fills 'g' with a trial rendering
 * (its metadata is what the sprint keeps) and 'c'.
 */
/*
 * The secret the job signs its webhooks with: the orchestrator secret
 * when an orchestrator URL is set too, else NULL (borrowed).
 */
static const char *orchestrator_secret(const struct config *cfg)
{
	if (!json_string_value(json_object_get(cfg->root, "orchestrator_url")))
		return NULL;
	return json_string_value(json_object_get(cfg->root,
						  "orchestrator_secret"));
}

static int check_inputs(const struct config *cfg,
			const struct submit_request *req, struct jobgen *g,
			struct cluster *c, char **base_out, struct err *err)
{
	struct jobgen_request jr;

	*base_out = NULL;
	if (!config_study(cfg, req->study)) {
		err_set(err, ERR_NOT_FOUND, "no study '%s' in %s", req->study,
			cfg->path);
		return err_remedy(err, "`hpcloop study-list` lists the "
				  "studies of hpcloop.yaml");
	}
	*base_out = context_sprints_dir(cfg, req->study);
	request_of(&jr, req, "sp-000000", *base_out);
	if (jobgen_build(g, cfg, &jr, err) < 0)
		return -1;
	return cluster_open(c, cfg, g->cluster, err);
}

int submit_sprint(struct journal *j, json_t **data_out, int *replayed_out,
		  const struct config *cfg, const struct submit_request *req,
		  struct err *err)
{
	struct sprint_attempt a = SPRINT_ATTEMPT_INIT;
	struct jobgen trial = JOBGEN_INIT, g = JOBGEN_INIT;
	struct cluster c = CLUSTER_INIT;
	struct sprint_new n;
	struct jobgen_request jr;
	json_t *meta = NULL;
	char *base = NULL, *job_id = NULL, hash[SHA256_HEX_LEN + 1];
	const char *dir;
	int submitting = 0, r = -1;

	*data_out = NULL;
	*replayed_out = 0;
	if (check_inputs(cfg, req, &trial, &c, &base, err) < 0)
		goto out;
	memset(&n, 0, sizeof(n));
	n.study = req->study;
	n.cluster = trial.cluster;
	n.idea = req->idea;
	n.retry_of = req->retry_of;
	n.loop_id = req->loop_id;
	/* No token exists yet: place_job makes and hashes one. */
	memset(hash, '0', SHA256_HEX_LEN);
	hash[SHA256_HEX_LEN] = '\0';
	n.token_hash = hash;
	meta = job_metadata(&trial);
	if (json_is_object(req->metadata))
		json_object_update_missing(meta, (json_t *)req->metadata);
	n.metadata = meta;
	a.primitive = req->primitive;
	a.key = req->key;
	if (sprint_submit_begin(j, &a, &n, base, err) < 0)
		goto out;
	if (a.found == IDEM_FRESH && n.retry_of &&
	    note_retry(j, n.retry_of, a.id, err) < 0)
		goto out;
	fault_point("submit.after_pending");
	if (a.found == IDEM_REPLAY) {
		*replayed_out = 1;
		*data_out = replay_data(a.stored, a.row);
		if (!a.stored && a.row &&
		    sprint_submit_store(j, &a, *data_out, err) < 0) {
			json_decref(*data_out);
			*data_out = NULL;
			goto out;
		}
		r = 0;
		goto out;
	}
	dir = json_string_value(json_object_get(a.row, "directory"));
	request_of(&jr, req, a.id, dir);
	if (jobgen_build(&g, cfg, &jr, err) < 0 ||
	    place_job(j, &a, &c, &g, req, dir, orchestrator_secret(cfg),
		      &job_id, &submitting, err) < 0) {
		sprint_submit_abandon(j, &a, err,
				      failure_is_clean(err, submitting));
		goto out;
	}
	if (sprint_submit_commit(j, &a, g.cluster, job_id, result, NULL,
				 data_out, err) < 0)
		goto out;
	fault_point("submit.after_commit");
	r = 0;
out:
	cluster_release(&c);
	jobgen_release(&trial);
	jobgen_release(&g);
	sprint_attempt_release(&a);
	json_decref(meta);
	free(base);
	free(job_id);
	return r;
}
