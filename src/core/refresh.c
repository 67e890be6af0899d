/*
 * refresh.c: refreshing the live sprints of one cluster (see
 * refresh.h): gather with no lock, then apply in one transaction.
 *
 * Longer than most files in src/: gathering and applying share the
 * private records of one refresh (struct gathered, struct run), and the
 * rules of DESIGN §10 and §12 that they carry out must be read side by
 * side; the banners divide it.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "cluster.h"
#include "config.h"
#include "idem.h"
#include "ids.h"
#include "journal.h"
#include "lease.h"
#include "ledger.h"
#include "metric.h"
#include "observe.h"
#include "refresh.h"
#include "sched.h"
#include "sprint.h"
#include "transport.h"
#include "xalloc.h"
#include "banned.h"

/* What was learnt of one sprint before the journal is touched. */
struct gathered {
	const json_t *row;	/* the sprint row; borrowed */
	const char *id;		/* its id; borrowed from 'row' */
	const char *dir;	/* its directory; borrowed from 'row' */
	const json_t *job;	/* the scheduler's answer, or NULL */
	int asked;		/* the scheduler's answer is known */
	int busy;		/* a live process is submitting it */
	/* heartbeats.jsonl */
	json_t *beats;		/* the lines that count, parsed */
	int64_t offset;		/* where the next read starts */
	char *hb_stamp;		/* "size:mtime[:skip]" to keep, or NULL */
	int skipped;		/* lines refused: not JSON, bad seq, another
				   sprint's, too long */
	char *hb_refused;	/* why the file was not read, or NULL */
	/* completion.json */
	json_t *completion;	/* a record naming this sprint, or NULL */
	char *foreign;		/* the sprint another record named */
	char *c_stamp;		/* "size:mtime" read, or NULL */
	char *c_refused;	/* why the file was not read, or NULL */
	/* a pending sprint whose submission died */
	int orphan;		/* no live attempt works on it */
	char *adopt;		/* the job found under its id, or NULL */
	/* results/metric.json, read when the sprint may finish (ledger.h) */
	char *metric;		/* its text, or NULL */
	size_t metric_len;	/* its length */
	char *metric_why;	/* why it was not read, or NULL */
};

static void gathered_release(struct gathered *g)
{
	json_decref(g->beats);
	json_decref(g->completion);
	free(g->hb_stamp);
	free(g->hb_refused);
	free(g->foreign);
	free(g->c_stamp);
	free(g->c_refused);
	free(g->adopt);
	free(g->metric);
	free(g->metric_why);
	memset(g, 0, sizeof(*g));
}

/* "size:mtime" as a new string. */
static char *stamp_of(int64_t size, int64_t mtime)
{
	struct buf b = BUF_INIT;

	buf_addf(&b, "%" PRId64 ":%" PRId64, size, mtime);
	return buf_detach(&b, NULL);
}

/* Seconds since the ISO time 's', or -1. */
static json_int_t age_of(const char *s)
{
	time_t t;

	if (!s || ids_parse_time(&t, s) < 0)
		return -1;
	return (json_int_t)(time(NULL) - t);
}

/*
 * Stat '<dir>/<rel>': 0 with '*exists_out' (and size, mtime); a file
 * that is not a regular one sets '*refused_out' (new) and is 0 too; -1
 * for a failure of the cluster.
 */
static int look(struct cluster *c, const char *dir, const char *rel,
		int *exists_out, int64_t *size_out, int64_t *mtime_out,
		char **refused_out, struct err *err)
{
	*refused_out = NULL;
	if (transport_stat(c->t, exists_out, size_out, mtime_out, dir, rel,
			   err) == 0)
		return 0;
	if (err->code == ERR_NOT_FOUND) {
		err_clear(err);
		*exists_out = 0;
		return 0;
	}
	if (err->code == ERR_FILE_REFUSED) {
		*refused_out = xstrdup(err->message);
		err_clear(err);
		*exists_out = 0;
		return 0;
	}
	return -1;
}

/* ---------------------------------------------------------------- */
/* Heartbeats                                                         */
/* ---------------------------------------------------------------- */

/* Whether the line 'hb' is a heartbeat of sprint 'id' (DESIGN §10). */
static int heartbeat_counts(const json_t *hb, const char *id)
{
	const json_t *seq = json_object_get(hb, "seq");
	const char *sid = json_string_value(json_object_get(hb, "sprint_id"));

	return json_is_object(hb) && json_is_integer(seq) &&
	       json_integer_value(seq) >= 1 && sid && !strcmp(sid, id);
}

/*
 * Take the lines of the 'len' bytes at 'p' into 'g' (the bytes start at
 * a line boundary unless '*skipping', which says they continue an
 * oversize line).  Returns the bytes consumed: whole lines only, except
 * that a partial line already longer than the limit is consumed and
 * '*skipping' set.
 */
static size_t take_lines(struct gathered *g, const char *p, size_t len,
			 int *skipping)
{
	size_t used = 0;
	const char *nl;

	if (*skipping) {
		nl = memchr(p, '\n', len);
		if (!nl)
			return len;
		used = (size_t)(nl - p) + 1;
		*skipping = 0;
		g->skipped++;
	}
	while ((nl = memchr(p + used, '\n', len - used))) {
		size_t n = (size_t)(nl - (p + used));
		json_t *hb = n <= SPRINT_HEARTBEAT_LINE_MAX
				     ? json_loadb(p + used, n, 0, NULL)
				     : NULL;

		if (hb && heartbeat_counts(hb, g->id))
			json_array_append(g->beats, hb);
		else if (n)
			g->skipped++;
		json_decref(hb);
		used += n + 1;
	}
	/* A partial line too long to be a heartbeat: step over it. */
	if (len - used > SPRINT_HEARTBEAT_LINE_MAX) {
		used = len;
		*skipping = 1;
	}
	return used;
}

/*
 * Read the new tail of heartbeats.jsonl of 'g' (from the stored offset,
 * only when the file changed since the last read).
 */
static int read_heartbeats(struct cluster *c, struct gathered *g,
			   struct err *err)
{
	const char *kept = json_string_value(json_object_get(g->row,
							      "heartbeat_stamp"));
	struct buf data = BUF_INIT;
	int64_t size = 0, mtime = 0;
	char *now = NULL;
	int exists, skipping, r = -1;
	size_t used;

	g->beats = json_array();
	g->offset = json_integer_value(json_object_get(g->row,
							"heartbeat_offset"));
	if (look(c, g->dir, "heartbeats.jsonl", &exists, &size, &mtime,
		 &g->hb_refused, err) < 0)
		return -1;
	if (!exists)
		return 0;
	skipping = kept && strstr(kept, ":skip") != NULL;
	if (size < g->offset) {
		/* Truncated or replaced: read it again (seqs dedupe). */
		g->offset = 0;
		skipping = 0;
	}
	now = stamp_of(size, mtime);
	if (size == g->offset ||
	    (kept && !strncmp(kept, now, strlen(now)) &&
	     (kept[strlen(now)] == '\0' || kept[strlen(now)] == ':'))) {
		r = 0;
		goto out;
	}
	if (transport_read_range(c->t, &data, &size, g->dir,
				 "heartbeats.jsonl", g->offset,
				 REFRESH_HEARTBEAT_READ_MAX, err) < 0) {
		if (err->code == ERR_NOT_FOUND || err->code == ERR_FILE_REFUSED) {
			if (err->code == ERR_FILE_REFUSED)
				g->hb_refused = xstrdup(err->message);
			err_clear(err);
			r = 0;
		}
		goto out;
	}
	used = take_lines(g, data.len ? data.data : "", data.len, &skipping);
	g->offset += (int64_t)used;
	/*
	 * Read to the end: what is left is a line waiting for its newline,
	 * and the file need not be read again until it changes.  A read cut
	 * by the limit leaves whole lines behind: read on next time.
	 */
	if (data.len < REFRESH_HEARTBEAT_READ_MAX) {
		struct buf b = BUF_INIT;

		buf_addf(&b, "%s%s", now, skipping ? ":skip" : "");
		g->hb_stamp = buf_detach(&b, NULL);
	} else {
		g->hb_stamp = xstrdup(skipping ? "0:0:skip" : "");
	}
	r = 0;
out:
	free(now);
	buf_release(&data);
	return r;
}

/* ---------------------------------------------------------------- */
/* Completion record                                                  */
/* ---------------------------------------------------------------- */

/*
 * Read completion.json of 'g' when it changed: a record that names this
 * sprint and a terminal status becomes 'g->completion'; one naming
 * another sprint is refused and reported.
 */
static int read_completion(struct cluster *c, struct gathered *g,
			   struct err *err)
{
	const char *kept = json_string_value(json_object_get(g->row,
							      "completion_stamp"));
	struct buf data = BUF_INIT;
	int64_t size = 0, mtime = 0;
	json_t *v = NULL;
	const char *sid, *status;
	int exists, r = -1;

	if (look(c, g->dir, "completion.json", &exists, &size, &mtime,
		 &g->c_refused, err) < 0)
		return -1;
	if (!exists)
		return 0;
	g->c_stamp = stamp_of(size, mtime);
	if (kept && !strcmp(kept, g->c_stamp)) {
		free(g->c_stamp);
		g->c_stamp = NULL;
		return 0;
	}
	if (transport_read_file(c->t, &data, g->dir, "completion.json",
				REFRESH_COMPLETION_MAX, err) < 0) {
		if (err->code == ERR_NOT_FOUND || err->code == ERR_FILE_REFUSED) {
			if (err->code == ERR_FILE_REFUSED)
				g->c_refused = xstrdup(err->message);
			err_clear(err);
			r = 0;
		}
		goto out;
	}
	v = json_loadb(data.len ? data.data : "", data.len, 0, NULL);
	sid = json_string_value(json_object_get(v, "sprint_id"));
	status = json_string_value(json_object_get(v, "status"));
	if (json_is_object(v) && sid && strcmp(sid, g->id))
		g->foreign = xstrdup(sid);
	else if (json_is_object(v) && sid &&
		 sprint_state_name_terminal(status) && strcmp(status, "lost")) {
		g->completion = v;
		v = NULL;
	}
	r = 0;
out:
	json_decref(v);
	buf_release(&data);
	return r;
}

/* ---------------------------------------------------------------- */
/* Gathering                                                          */
/* ---------------------------------------------------------------- */

/*
 * A pending sprint: is a live process submitting it?  If not, look for
 * the job a dead attempt may have left on the scheduler.
 */
static int check_pending(struct journal *j, struct cluster *c,
			 struct gathered *g, struct err *err)
{
	json_t *found = NULL;
	int active;

	if (idem_subject_active(j, &active, g->id, err) < 0)
		return -1;
	if (active) {
		g->busy = 1;
		return 0;
	}
	g->orphan = 1;
	if (sched_find(c->sched, &found, g->id, err) < 0)
		return -1;
	if (json_array_size(found))
		g->adopt = xstrdup(json_string_value(json_array_get(found, 0)));
	json_decref(found);
	return 0;
}

/*
 * Whether sprint 'g' may finish in this refresh: the scheduler says its
 * job ended or does not know it, or there is a completion claim.  Then
 * its metric file is read with the rest, so that the ledger records it
 * in the same transaction as the finish.
 */
static int may_finish(const struct gathered *g)
{
	json_t *meta = json_loads(json_string_value(json_object_get(g->row,
							"metadata")),
				  0, NULL);
	int claimed = json_object_get(meta, "claim") != NULL;
	enum sched_state s;

	json_decref(meta);
	if (g->completion || claimed)
		return 1;
	if (!g->job || sched_state_from_name(&s, json_string_value(
				json_object_get(g->job, "state"))) < 0)
		return json_is_string(json_object_get(g->row, "job_id"));
	return sched_state_terminal(s) || s == SCHED_UNKNOWN;
}

/* Gather sprint 'g' (remote reads only; the journal is not locked). */
static int gather(struct journal *j, struct cluster *c, struct gathered *g,
		  struct err *err)
{
	const char *state = json_string_value(json_object_get(g->row,
							       "state"));

	g->id = json_string_value(json_object_get(g->row, "id"));
	g->dir = json_string_value(json_object_get(g->row, "directory"));
	if (!strcmp(state, "pending") && check_pending(j, c, g, err) < 0)
		return -1;
	if (g->busy)
		return 0;
	if (read_heartbeats(c, g, err) < 0 || read_completion(c, g, err) < 0)
		return -1;
	if (strcmp(state, "pending") && may_finish(g) &&
	    metric_read(c->t, &g->metric, &g->metric_len, &g->metric_why,
			g->dir, METRIC_SPRINT_FILE, METRIC_FILE_MAX, 0,
			err) < 0)
		return -1;
	return 0;
}

/* ---------------------------------------------------------------- */
/* Applying                                                           */
/* ---------------------------------------------------------------- */

/* One refresh of one cluster. */
struct run {
	struct journal *j;
	const struct config *cfg;
	struct cluster *c;
	json_t *evidence;	/* {sprint_id: evidence} (borrowed) */
	json_t *cancel;		/* [{id, job}] to cancel after commit */
	json_t *refused;	/* ["sprint ID: why"] files not read */
	int observed;		/* the scheduler's answers are known */
	json_int_t pending_timeout_s; /* the cluster's, from the config */
	json_int_t claim_grace_s;     /* likewise */
	const char *source;	/* "query" or "cache" */
	double age_s;		/* how old the answers are */
};

/* Seconds of silence after which a sprint the scheduler forgot is lost. */
static json_int_t lost_after_s(const struct run *run)
{
	const json_t *v = json_object_get(run->cfg->root,
					  "heartbeat_interval_s");
	json_int_t limit = json_integer_value(v) * 5;

	return limit < 300 ? 300 : limit;
}

/* Whether sprint 'row' has been silent longer than lost_after_s(). */
static int silent(const struct run *run, const json_t *row)
{
	const char *last = json_string_value(json_object_get(row,
						"last_heartbeat_at"));
	json_int_t age;

	if (!last)
		last = json_string_value(json_object_get(row, "submitted_at"));
	age = age_of(last);
	return age >= 0 && age > lost_after_s(run);
}

/* The claim kept with sprint 'row' (new), or NULL. */
static json_t *claim_of(const json_t *row, json_int_t *age_out)
{
	json_t *meta = json_loads(json_string_value(json_object_get(row,
							"metadata")),
				  0, NULL);
	json_t *claim = json_incref(json_object_get(meta, "claim"));

	*age_out = age_of(json_string_value(json_object_get(meta,
							    "claim_at")));
	json_decref(meta);
	return claim;
}

/*
 * Whether a heartbeat of 'beats' says the job is working again after
 * the completion record claimed by 'row' was written: a requeued job
 * (SLURM signals the run it requeues, so its script writes a record),
 * whose claim is then the old run's.
 */
static int ran_after_claim(const json_t *row, const json_t *beats)
{
	json_int_t age;
	json_t *claim = claim_of(row, &age), *b;
	const char *at = json_string_value(json_object_get(claim, "finished_at"));
	size_t i;
	int again = 0;

	json_array_foreach(beats, i, b) {
		const char *ts = json_string_value(json_object_get(b, "ts"));
		const char *phase = json_string_value(json_object_get(b, "phase"));

		if (at && ts && strcmp(ts, at) > 0 &&
		    (!phase || strcmp(phase, "done")))
			again = 1;
	}
	json_decref(claim);
	return again;
}

/* Apply the heartbeats and the completion record of 'g'. */
static int apply_files(struct run *run, const struct gathered *g,
		       json_t *ev, struct err *err)
{
	int stored = 0, fresh = 0;
	json_t *row = NULL, *note, *had;
	json_int_t claim_age;

	if (sprint_get(run->j, &row, g->id, err) < 0)
		return -1;
	if (json_array_size(g->beats) &&
	    !sprint_state_name_terminal(json_string_value(
		    json_object_get(row, "state"))) &&
	    sprint_ingest_heartbeats(run->j, &stored, g->id, g->beats, "pull",
				     err) < 0)
		goto fail;
	if (sprint_set_file_marks(run->j, g->id, g->offset, g->hb_stamp,
				  g->c_stamp, err) < 0)
		goto fail;
	json_object_set_new(ev, "heartbeats",
			    json_pack("{s:i, s:i, s:I, s:s?}", "new", stored,
				      "skipped", g->skipped, "offset",
				      (json_int_t)g->offset, "refused",
				      g->hb_refused));
	if (!g->completion && ran_after_claim(row, g->beats) &&
	    sprint_drop_claim(run->j, g->id, "the job ran again after its "
			      "completion record (it was requeued)", err) < 0)
		goto fail;
	if (g->completion &&
	    !sprint_state_name_terminal(json_string_value(
		    json_object_get(row, "state"))) &&
	    sprint_claim(run->j, &fresh, g->id, g->completion,
			 "completion.json", err) < 0)
		goto fail;
	if (g->foreign) {
		note = json_pack("{s:s, s:s}", "file", "completion.json",
				 "names", g->foreign);
		if (sprint_note(run->j, g->id, "sprint.completion_refused",
				note, err) < 0) {
			json_decref(note);
			goto fail;
		}
		json_decref(note);
	}
	had = claim_of(row, &claim_age);
	json_object_set_new(ev, "completion_file",
			    json_pack("{s:b, s:b, s:b, s:s?, s:s?}", "claim",
				      g->completion != NULL || had != NULL,
				      "read", g->c_stamp != NULL, "new", fresh,
				      "refused", g->c_refused, "names_other",
				      g->foreign));
	json_decref(had);
	json_decref(row);
	return 0;
fail:
	json_decref(row);
	return -1;
}

/*
 * The record a sprint finishes with: its claim, with the state the
 * evidence decided ("claimed_status" keeps the claim's own when they
 * differ), or one saying why there is none.  A new object.
 */
static json_t *final_record(const json_t *claim, enum sprint_state target,
			    const char *sched_state)
{
	json_t *rec;

	if (claim) {
		rec = json_deep_copy(claim);
		if (strcmp(json_string_value(json_object_get(rec, "status")),
			   sprint_state_name(target)))
			json_object_set(rec, "claimed_status",
					json_object_get(rec, "status"));
		json_object_set_new(rec, "status",
				    json_string(sprint_state_name(target)));
		return rec;
	}
	rec = json_pack("{s:s, s:s}", "status", sprint_state_name(target),
			"error", "the job ended without a completion record");
	if (sched_state && strcmp(sched_state, "completed"))
		json_object_set_new(rec, "error",
				    json_string("the job ended without a "
						"completion record; see the "
						"scheduler evidence"));
	return rec;
}

/*
 * Record in the ledger what sprint 'g' came to, now that it finished
 * ('requeued': that its job was requeued), in the transaction.
 */
static int record_result(struct run *run, const struct gathered *g,
			 int requeued, struct err *err)
{
	json_t *row = NULL;
	int r;

	if (sprint_get(run->j, &row, g->id, err) < 0)
		return -1;
	if (requeued)
		r = ledger_record_requeue(run->j, run->cfg, row, err);
	else
		r = ledger_record_sprint(run->j, NULL, run->cfg, row,
					 g->metric, g->metric_len,
					 g->metric_why, err);
	json_decref(row);
	return r;
}

/* Apply the scheduler's word (or its silence) about 'g'. */
static int apply_job(struct run *run, const struct gathered *g, json_t *ev,
		     struct err *err)
{
	json_t *row = NULL, *claim = NULL, *rec = NULL;
	const char *sname = json_string_value(json_object_get(g->job,
							       "state"));
	enum sprint_state cur, target;
	enum sched_state s = SCHED_UNKNOWN;
	json_int_t claim_age;
	int kind, changed, done, r = -1;

	if (sprint_get(run->j, &row, g->id, err) < 0)
		return -1;
	if (sprint_state_parse(&cur, json_string_value(json_object_get(
					     row, "state"))) < 0 ||
	    sprint_state_terminal(cur)) {
		r = 0;
		goto out;
	}
	claim = claim_of(row, &claim_age);
	if (!g->job || sched_state_from_name(&s, sname) < 0)
		s = SCHED_UNKNOWN;
	sprint_event_for_job(&kind, &target, cur, s, claim);
	if (s == SCHED_UNKNOWN && cur != SPRINT_PENDING &&
	    (claim || silent(run, row))) {
		/* The scheduler forgot it: a claim says how it ended. */
		kind = SPRINT_EV_FINISHED;
		target = SPRINT_LOST;
		if (claim)
			sprint_state_parse(&target,
					   json_string_value(json_object_get(
						   claim, "status")));
	}
	if (kind == SPRINT_EV_FINISHED) {
		rec = final_record(claim, target, sname);
		if (target == SPRINT_LOST && !claim)
			json_object_set_new(rec, "error",
					    json_string("the scheduler does "
							"not know the job and "
							"its heartbeats "
							"stopped"));
		r = sprint_finish(run->j, &done, g->id, target, rec, ev, err);
		if (r == 0 && done)
			r = record_result(run, g, 0, err);
		goto out;
	}
	if (kind == SPRINT_EV_STARTED || kind == SPRINT_EV_REQUEUED) {
		if (sprint_observe(run->j, &changed, g->id, kind, g->job,
				   err) < 0)
			goto out;
		if (kind == SPRINT_EV_REQUEUED && changed &&
		    record_result(run, g, 1, err) < 0)
			goto out;
		/*
		 * The scheduler ended the run it requeued with a signal, so
		 * the job script may have written a completion record (a
		 * "cancelled" one): that run's, not how the job ends.
		 */
		if (kind == SPRINT_EV_REQUEUED && changed && claim) {
			if (sprint_drop_claim(run->j, g->id, "the job was "
					      "requeued", err) < 0)
				goto out;
			json_decref(claim);
			claim = NULL;
		}
	}
	/* A job that outlives its claim by long is ended (DESIGN §12). */
	if (claim && claim_age > run->claim_grace_s &&
	    (s == SCHED_RUNNING || s == SCHED_PENDING) &&
	    json_is_string(json_object_get(row, "job_id")))
		json_array_append_new(run->cancel,
				      json_pack("{s:s, s:O}", "id", g->id,
						"job",
						json_object_get(row,
								"job_id")));
	r = 0;
out:
	json_decref(rec);
	json_decref(claim);
	json_decref(row);
	return r;
}

/* A pending sprint whose attempt died: adopt its job, or fail it. */
static int apply_orphan(struct run *run, const struct gathered *g,
			json_t *ev, struct err *err)
{
	json_t *rec;
	json_int_t age = age_of(json_string_value(json_object_get(g->row,
							 "created_at")));
	int done, r;

	if (g->adopt) {
		json_object_set_new(ev, "note",
				    json_string("adopted the job a crashed "
						"submission left on the "
						"scheduler"));
		return sprint_mark_submitted(run->j, g->id,
					     json_string_value(json_object_get(
						     g->row, "cluster")),
					     g->adopt, err);
	}
	if (age < run->pending_timeout_s) {
		struct buf b = BUF_INIT;

		buf_addf(&b, "no job id: the submission was interrupted and "
			     "nothing is on the scheduler; repeat the same "
			     "submit-flow call (same spec or idempotency_key) "
			     "to resume it, or it is failed %" JSON_INTEGER_FORMAT
			     " s after it was created",
			 run->pending_timeout_s);
		json_object_set_new(ev, "note", json_string(buf_str(&b)));
		buf_release(&b);
		return 0;
	}
	rec = json_pack("{s:s, s:s}", "status", "failed", "error",
			"the submission was interrupted and never resumed; "
			"nothing reached the scheduler");
	r = sprint_finish(run->j, &done, g->id, SPRINT_FAILED, rec, ev, err);
	if (r == 0)
		r = idem_fail_subject(run->j, g->id, err);
	json_decref(rec);
	return r;
}

/* The evidence of the scheduler's answer for 'g'. */
static json_t *scheduler_evidence(const struct run *run,
				  const struct gathered *g)
{
	if (!json_is_string(json_object_get(g->row, "job_id")))
		return json_null();
	if (!g->job)
		return json_pack("{s:s, s:s}", "state", "unknown", "source",
				 run->observed ? run->source : "not asked");
	return json_pack("{s:O, s:O?, s:s, s:f}", "state",
			 json_object_get(g->job, "state"), "evidence",
			 json_object_get(g->job, "evidence"), "source",
			 run->source, "age_s", run->age_s);
}

/* Add "sprint ID: why" to the refusals when 'why' is set. */
static void note_refused(struct run *run, const char *id, const char *why)
{
	struct buf b = BUF_INIT;

	if (!why)
		return;
	buf_addf(&b, "sprint %s: %s", id, why);
	json_array_append_new(run->refused, json_string(buf_str(&b)));
	buf_release(&b);
}

/* Apply everything gathered for 'g' (in the transaction). */
static int apply_sprint(struct run *run, const struct gathered *g,
			struct err *err)
{
	json_t *ev = json_object();
	int r = -1;

	json_object_set_new(ev, "scheduler", scheduler_evidence(run, g));
	if (g->busy) {
		json_object_set_new(ev, "note",
				    json_string("a submit-flow call is "
						"submitting it right now"));
		r = 0;
		goto out;
	}
	if (apply_files(run, g, ev, err) < 0)
		goto out;
	note_refused(run, g->id, g->hb_refused);
	note_refused(run, g->id, g->c_refused);
	if (g->orphan)
		r = apply_orphan(run, g, ev, err);
	else if (run->observed)
		r = apply_job(run, g, ev, err);
	else
		r = 0;
out:
	if (r == 0)
		json_object_set(run->evidence, g->id, ev);
	json_decref(ev);
	return r;
}

/* Cancel the jobs that outlived their claims, then finish them. */
static int cancel_lingering(struct run *run, struct err *err)
{
	json_t *ids = json_array(), *ev;
	struct err cerr = ERR_INIT;
	size_t i;
	int done, r = -1;

	for (i = 0; i < json_array_size(run->cancel); i++)
		json_array_append(ids, json_object_get(
					       json_array_get(run->cancel, i),
					       "job"));
	if (sched_cancel(run->c->sched, ids, &cerr) < 0) {
		/* Try again at the next refresh. */
		r = 0;
		goto out;
	}
	if (journal_begin(run->j, err) < 0)
		goto out;
	for (i = 0; i < json_array_size(run->cancel); i++) {
		const char *id = json_string_value(json_object_get(
			json_array_get(run->cancel, i), "id"));
		json_t *row = NULL, *claim, *rec;
		json_int_t age;
		enum sprint_state target = SPRINT_FAILED;

		if (sprint_get(run->j, &row, id, err) < 0)
			goto fail;
		claim = claim_of(row, &age);
		sprint_state_parse(&target, json_string_value(json_object_get(
						    claim, "status")));
		rec = final_record(claim, target, NULL);
		ev = json_pack("{s:s}", "note",
			       "the job was still running long after its "
			       "completion claim and was cancelled");
		r = sprint_finish(run->j, &done, id, target, rec, ev, err);
		json_decref(ev);
		json_decref(rec);
		json_decref(claim);
		json_decref(row);
		if (r < 0)
			goto fail;
	}
	r = journal_commit(run->j, err);
	goto out;
fail:
	journal_rollback(run->j);
	r = -1;
out:
	err_release(&cerr);
	json_decref(ids);
	return r;
}

/* The error classes that mean the cluster, not the journal, failed. */
static int is_cluster_error(const struct err *e)
{
	return err_exit_class(e->code) == 2 || e->code == ERR_CONFIG_INVALID ||
	       e->code == ERR_PRECONDITION_FAILED;
}

int refresh_cluster(struct journal *j, const struct config *cfg,
		    const char *name, const json_t *rows, json_t *evidence,
		    json_t **summary_out, struct err *unreachable,
		    struct err *err)
{
	struct cluster c = CLUSTER_INIT;
	struct observation obs = OBSERVATION_INIT;
	struct gathered *gs = NULL;
	struct run run;
	struct err cerr = ERR_INIT;
	json_t *ids = json_array();
	size_t i, n = json_array_size(rows);
	int r = -1;

	*summary_out = NULL;
	memset(&run, 0, sizeof(run));
	run.j = j;
	run.cfg = cfg;
	run.c = &c;
	run.evidence = evidence;
	run.cancel = json_array();
	run.refused = json_array();
	run.pending_timeout_s = json_integer_value(json_object_get(
		config_cluster(cfg, name), "pending_timeout_s"));
	run.claim_grace_s = json_integer_value(json_object_get(
		config_cluster(cfg, name), "claim_grace_s"));
	for (i = 0; i < n; i++) {
		const json_t *jid = json_object_get(json_array_get(rows, i),
						    "job_id");

		if (json_is_string(jid))
			json_array_append(ids, (json_t *)jid);
	}
	if (cluster_open(&c, cfg, name, &cerr) < 0 ||
	    observe_jobs(j, &obs, &c, ids, &cerr) < 0)
		goto unreachable;
	run.observed = 1;
	run.source = obs.cached ? "cache" : "query";
	run.age_s = obs.age_s;
	/*
	 * Inside the freshness window of a shared scheduler the answer
	 * was applied by the call that got it: this one reads nothing
	 * remote (no connection is opened at all) and changes nothing;
	 * the sprints stand as the journal has them (DESIGN §5).
	 */
	if (obs.cached && c.sched->ops->shared) {
		*summary_out = json_pack(
			"{s:b, s:b, s:I, s:f, s:f, s:[], s:b}", "queried", 0,
			"cached", 1, "jobs", (json_int_t)json_array_size(ids),
			"answer_age_s", obs.age_s, "next_query_in_s",
			obs.next_query_in_s, "refused", "files_read", 0);
		r = 0;
		goto out;
	}
	/* Gather: remote reads only, the journal untouched. */
	gs = xcalloc(n ? n : 1, sizeof(*gs));
	for (i = 0; i < n; i++) {
		const char *jid;

		gs[i].row = json_array_get(rows, i);
		jid = json_string_value(json_object_get(gs[i].row, "job_id"));
		gs[i].job = jid ? json_object_get(obs.states, jid) : NULL;
		if (gather(j, &c, &gs[i], &cerr) < 0)
			goto unreachable;
	}
	/* Apply: one transaction for the whole cluster. */
	if (journal_begin(j, err) < 0)
		goto out;
	for (i = 0; i < n; i++) {
		if (apply_sprint(&run, &gs[i], err) < 0) {
			journal_rollback(j);
			goto out;
		}
	}
	if (journal_commit(j, err) < 0)
		goto out;
	if (json_array_size(run.cancel) && cancel_lingering(&run, err) < 0)
		goto out;
	*summary_out = json_pack("{s:b, s:b, s:I, s:f, s:f, s:O}", "queried",
				 obs.queried, "cached", obs.cached, "jobs",
				 (json_int_t)json_array_size(ids),
				 "answer_age_s", obs.age_s, "next_query_in_s",
				 obs.next_query_in_s, "refused", run.refused);
	r = 0;
	goto out;
unreachable:
	if (!is_cluster_error(&cerr)) {
		err_set(err, cerr.code, "%s", cerr.message);
		goto out;
	}
	*summary_out = json_pack("{s:b, s:s, s:s}", "queried", 0, "error",
				 err_name(cerr.code), "message", cerr.message);
	if (unreachable) {
		err_set(unreachable, cerr.code, "%s", cerr.message);
		if (cerr.remedy[0])
			err_remedy(unreachable, "%s", cerr.remedy);
	}
	r = 0;
out:
	for (i = 0; gs && i < n; i++)
		gathered_release(&gs[i]);
	free(gs);
	observation_release(&obs);
	cluster_release(&c);
	err_release(&cerr);
	json_decref(ids);
	json_decref(run.cancel);
	json_decref(run.refused);
	return r;
}
