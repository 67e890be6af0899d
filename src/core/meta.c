/*
 * meta.c: when a meta-analysis is due, the builtin one, the agent's,
 * and where they are kept (see meta.h).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent_question.h"
#include "buf.h"
#include "cluster.h"
#include "config.h"
#include "context.h"
#include "crypto.h"
#include "digest.h"
#include "embedded.h"
#include "ids.h"
#include "journal.h"
#include "ledger.h"
#include "meta.h"
#include "proposer.h"
#include "template.h"
#include "transport.h"
#include "xalloc.h"
#include "banned.h"

/* ---------------------------------------------------------------- */
/* Due                                                                */
/* ---------------------------------------------------------------- */

void meta_due_decide(struct meta_due *out)
{
	out->due = 0;
	out->reason = NULL;
	if (out->every > 0 && out->since >= out->every) {
		out->due = 1;
		out->reason = "every";
	} else if (out->gain_threshold > 0 && out->gain > out->gain_threshold) {
		out->due = 1;
		out->reason = "gain";
	}
}

int meta_due_check(struct journal *j, struct meta_due *out, const json_t *conf,
		   const char *study, struct err *err)
{
	json_t *row = NULL, *params;
	int r;

	memset(out, 0, sizeof(*out));
	out->every =
	    (int)json_integer_value(json_object_get(conf, "meta_every"));
	out->gain_threshold =
	    json_number_value(json_object_get(conf, "meta_gain"));
	params = json_pack("[s]", study);
	r = journal_row(j, &row,
			"SELECT coalesce(max(after_result_id), 0) AS last "
			"FROM meta_analyses WHERE study = ?",
			params, err);
	json_decref(params);
	if (r < 0)
		return -1;
	out->last_after = json_integer_value(json_object_get(row, "last"));
	json_decref(row);
	row = NULL;
	params = json_pack("[s,I]", study, (json_int_t)out->last_after);
	r = journal_row(j, &row,
			"SELECT count(*) AS n, coalesce(max(CASE WHEN status = "
			"'keep' THEN json_extract(decision, '$.gain') END), 0) "
			"AS gain FROM results WHERE study = ? AND status <> "
			"'requeued' AND id > ?",
			params, err);
	json_decref(params);
	if (r < 0)
		return -1;
	out->since = (int)json_integer_value(json_object_get(row, "n"));
	out->gain = json_number_value(json_object_get(row, "gain"));
	json_decref(row);
	row = NULL;
	params = json_pack("[s]", study);
	r = journal_row(j, &row,
			"SELECT coalesce(max(id), 0) AS newest FROM results "
			"WHERE study = ?",
			params, err);
	json_decref(params);
	if (r < 0)
		return -1;
	out->newest = json_integer_value(json_object_get(row, "newest"));
	json_decref(row);
	meta_due_decide(out);
	return 0;
}

/* 'd' for output: a new object. */
static json_t *due_json(const struct meta_due *d)
{
	return json_pack("{s:b, s:s?, s:i, s:i, s:f, s:f}", "due", d->due,
			 "reason", d->reason, "since", d->since, "every",
			 d->every, "gain", d->gain, "gain_threshold",
			 d->gain_threshold);
}

/* ---------------------------------------------------------------- */
/* Rows                                                               */
/* ---------------------------------------------------------------- */

/* The view of the meta_analyses row 'row': a new object. */
static json_t *meta_public(const json_t *row)
{
	const char *h = json_string_value(json_object_get(row, "hypotheses"));
	json_t *hyps = h ? json_loads(h, 0, NULL) : NULL;

	return json_pack("{s:O, s:O, s:O, s:O, s:O, s:O, s:O, s:o, s:O, s:O,"
			 " s:O, s:O}",
			 "id", json_object_get(row, "id"), "study",
			 json_object_get(row, "study"), "loop_id",
			 json_object_get(row, "loop_id"), "mode",
			 json_object_get(row, "mode"), "reason",
			 json_object_get(row, "reason"), "after_result_id",
			 json_object_get(row, "after_result_id"), "results",
			 json_object_get(row, "results"), "hypotheses",
			 hyps ? hyps : json_array(), "notes",
			 json_object_get(row, "notes"), "file",
			 json_object_get(row, "file"), "cost_usd",
			 json_object_get(row, "cost_usd"), "created_at",
			 json_object_get(row, "created_at"));
}

int meta_latest(struct journal *j, json_t **out, const char *study,
		struct err *err)
{
	json_t *row = NULL, *params = json_pack("[s]", study);
	int r = journal_row(j, &row,
			    "SELECT * FROM meta_analyses WHERE study = ? "
			    "ORDER BY id DESC LIMIT 1",
			    params, err);

	json_decref(params);
	*out = NULL;
	if (r < 0)
		return -1;
	if (row)
		*out = meta_public(row);
	json_decref(row);
	return 0;
}

/* The analysis of 'study' at ledger position 'after' in 'mode' (new). */
static int meta_at(struct journal *j, json_t **out, const char *study,
		   int64_t after, const char *mode, struct err *err)
{
	json_t *row = NULL;
	json_t *params = json_pack("[s,I,s]", study, (json_int_t)after, mode);
	int r = journal_row(j, &row,
			    "SELECT * FROM meta_analyses WHERE study = ? AND "
			    "after_result_id = ? AND mode = ?",
			    params, err);

	json_decref(params);
	*out = NULL;
	if (r < 0)
		return -1;
	if (row)
		*out = meta_public(row);
	json_decref(row);
	return 0;
}

/* ---------------------------------------------------------------- */
/* Evidence                                                           */
/* ---------------------------------------------------------------- */

/* The newest META_ROWS_MAX rows of 'study', oldest first (new). */
static int recent_rows(struct journal *j, json_t **out, const char *study,
		       struct err *err)
{
	struct ledger_query q;
	int64_t next;

	memset(&q, 0, sizeof(q));
	q.study = study;
	q.limit = META_ROWS_MAX;
	q.newest = 1;
	return ledger_page(j, out, &next, &q, err);
}

int meta_evidence(struct journal *j, json_t **out, const struct config *cfg,
		  const char *study, struct err *err)
{
	const json_t *conf = config_study(cfg, study);
	struct ledger_metric m;
	json_t *rows = NULL, *counts = NULL, *trend = NULL, *best = NULL;
	json_t *latest = NULL, *list;
	size_t i;
	int r = -1;

	*out = NULL;
	if (ledger_metric_of(&m, conf, study, err) < 0)
		return -1;
	if (recent_rows(j, &rows, study, err) < 0 ||
	    ledger_counts(j, &counts, study, NULL, err) < 0 ||
	    ledger_trend(j, &trend, study, NULL, &m, 10, err) < 0 ||
	    ledger_best(j, &best, study, NULL, &m, err) < 0 ||
	    meta_latest(j, &latest, study, err) < 0)
		goto out;
	list = json_array();
	/* The newest 50 go to the agent, short, with their parameters. */
	for (i = json_array_size(rows) > 50 ? json_array_size(rows) - 50 : 0;
	     i < json_array_size(rows); i++) {
		json_t *row = json_array_get(rows, i);
		json_t *d = digest_row(row);

		json_object_set(d, "params", json_object_get(row, "params"));
		json_array_append_new(list, d);
	}
	*out = json_pack(
	    "{s:s, s:{s:s, s:s}, s:O, s:O, s:o, s:o, s:O, s:o}", "study", study,
	    "metric", "name", m.name, "direction",
	    m.maximize ? "maximize" : "minimize", "counts", counts, "trend",
	    trend, "best", best ? digest_row(best) : json_null(), "results",
	    list, "params",
	    json_object_get(conf, "params") ? json_object_get(conf, "params")
					    : json_null(),
	    "previous_hypotheses",
	    latest ? json_incref(json_object_get(latest, "hypotheses"))
		   : json_array());
	r = 0;
out:
	json_decref(rows);
	json_decref(counts);
	json_decref(trend);
	json_decref(best);
	json_decref(latest);
	return r;
}

/* ---------------------------------------------------------------- */
/* Running                                                            */
/* ---------------------------------------------------------------- */

/*
 * Normalise the hypotheses 'in' (objects with "text" and maybe
 * "confidence") into a new ranked array; empty when none has a text.
 */
static json_t *normalise(const json_t *in, const char *kind)
{
	json_t *out = json_array();
	size_t i;

	for (i = 0; i < json_array_size(in); i++) {
		const json_t *h = json_array_get(in, i);
		const char *text =
		    json_string_value(json_object_get(h, "text"));
		const json_t *c = json_object_get(h, "confidence");
		double conf = json_is_number(c) ? json_number_value(c) : 0.5;

		if (!text || !*text)
			continue;
		if (conf < 0 || conf != conf)
			conf = 0;
		if (conf > 1)
			conf = 1;
		json_array_append_new(
		    out, json_pack("{s:o, s:f, s:s}", "text",
				   digest_clip(text, META_TEXT_MAX),
				   "confidence", conf, "kind", kind));
	}
	meta_rank(out);
	return out;
}

/* The agent's hypotheses for the evidence of 'study' (new array). */
static int ask_agent(struct journal *j, json_t **out, double *cost_out,
		     const struct config *cfg, const char *study,
		     struct err *err)
{
	const struct embedded_file *tmpl =
	    embedded_find("templates/prompt-meta.md");
	const json_t *conf = config_study(cfg, study);
	struct agent_answer a = AGENT_ANSWER_INIT;
	json_t *evidence = NULL, *argv = NULL, *vars = NULL, *obj = NULL;
	char *ev_text = NULL, *prompt = NULL, *context = NULL, *cwd = NULL;
	int r = -1;

	*out = NULL;
	*cost_out = 0;
	if (!tmpl)
		BUG("templates/prompt-meta.md is not embedded");
	if (meta_evidence(j, &evidence, cfg, study, err) < 0 ||
	    context_agent_argv(&argv, cfg, study, err) < 0 ||
	    context_text(&context, cfg, study, err) < 0)
		goto out;
	ev_text = json_dumps(evidence, JSON_INDENT(1) | JSON_SORT_KEYS);
	vars =
	    json_pack("{s:s, s:s, s:s, s:s}", "study", study, "context",
		      context, "evidence", ev_text ? ev_text : "{}", "metric",
		      json_string_value(json_object_get(
			  json_object_get(evidence, "metric"), "name")));
	if (template_render(&prompt, (const char *)tmpl->data, vars, tmpl->path,
			    err) < 0)
		goto out;
	if (agent_workdir(&cwd, journal_path(j), err) < 0 ||
	    agent_question(&a, argv, cwd, prompt,
		      (int)json_integer_value(
			  json_object_get(conf, "agent_timeout_s")),
		      err) < 0)
		goto out;
	obj = agent_find_object(a.text, "hypotheses");
	*out = normalise(json_object_get(obj, "hypotheses"), "agent");
	if (!json_array_size(*out)) {
		json_decref(*out);
		*out = NULL;
		err_set(err, ERR_AGENT_FAILED,
			"the agent's answer holds no hypotheses");
		err_detail(err, "answer_head", digest_clip(a.text, 200));
		goto out;
	}
	*cost_out = a.cost_usd;
	r = 0;
out:
	agent_answer_release(&a);
	json_decref(evidence);
	json_decref(argv);
	json_decref(vars);
	json_decref(obj);
	free(ev_text);
	free(prompt);
	free(context);
	free(cwd);
	return r;
}

/* The Markdown of an analysis for next-hypotheses.md: a new string. */
static char *markdown(const char *study, const char *mode, const char *reason,
		      int64_t after, int results, const json_t *hyps)
{
	struct buf b = BUF_INIT;
	char now[IDS_TIME_LEN];
	size_t i;

	ids_now(now);
	buf_addf(&b, "# Next hypotheses (study %s)\n\n", study);
	buf_addf(&b,
		 "Meta-analysis (%s, %s) at %s, after result %lld "
		 "(%d results read). Weigh these when you choose the "
		 "next idea; change direction when they contradict "
		 "yours.\n\n",
		 mode, reason, now, (long long)after, results);
	for (i = 0; i < json_array_size(hyps); i++) {
		const json_t *h = json_array_get(hyps, i);

		buf_addf(&b, "%zu. [%.2f] %s\n", i + 1,
			 json_number_value(json_object_get(h, "confidence")),
			 json_string_value(json_object_get(h, "text")));
	}
	return buf_detach(&b, NULL);
}

/*
 * Write 'text' to next-hypotheses.md of 'study': its path (new) in
 * '*path_out', or NULL with a partial error noted.
 */
static void write_file(char **path_out, const struct config *cfg,
		       const char *study, const char *text, json_t *partial)
{
	const json_t *conf = config_study(cfg, study);
	struct cluster c = CLUSTER_INIT;
	struct err e = ERR_INIT;
	struct buf path = BUF_INIT;
	char *dir = context_sprints_dir(cfg, study);

	*path_out = NULL;
	buf_addf(&path, "%s/%s", dir, META_FILE);
	if (cluster_open(&c, cfg,
			 json_string_value(json_object_get(conf, "cluster")),
			 &e) < 0 ||
	    transport_write_file(c.t, buf_str(&path), text, strlen(text), 0644,
				 &e) < 0) {
		if (partial)
			json_array_append_new(partial,
					      json_pack("{s:s, s:s}", "code",
							err_name(e.code),
							"detail", e.message));
	} else {
		*path_out = buf_detach(&path, NULL);
	}
	buf_release(&path);
	cluster_release(&c);
	err_release(&e);
	free(dir);
}

/* Insert the analysis and its event, in a transaction of its own. */
static int store(struct journal *j, json_t **view_out, const char *study,
		 const char *loop_id, const char *mode, const char *reason,
		 int64_t after, int results, const json_t *hyps,
		 const char *file, double cost, struct err *err)
{
	char now[IDS_TIME_LEN];
	json_t *params, *ev, *row = NULL;
	char *text = json_dumps(hyps, JSON_COMPACT);
	int64_t id;
	int r = -1;

	*view_out = NULL;
	ids_now(now);
	if (journal_begin(j, err) < 0) {
		free(text);
		return -1;
	}
	params = json_pack("[s,s?,s,s,I,i,s,s?,o,s]", study, loop_id, mode,
			   reason, (json_int_t)after, results, text, file,
			   cost > 0 ? json_real(cost) : json_null(), now);
	r = journal_exec(j, NULL,
			 "INSERT INTO meta_analyses (study, loop_id, mode, "
			 "reason, after_result_id, results, hypotheses, file, "
			 "cost_usd, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, "
			 "?, ?, ?) ON CONFLICT DO NOTHING",
			 params, err);
	json_decref(params);
	free(text);
	if (r < 0)
		goto fail;
	r = -1;
	if (!journal_changes(j)) {
		/* Another process stored this one first. */
		if (meta_at(j, view_out, study, after, mode, err) < 0)
			goto fail;
		json_object_set_new(*view_out, "new", json_false());
		journal_rollback(j);
		return 0;
	}
	id = journal_last_id(j);
	ev = json_pack("{s:I, s:s, s:s?, s:s, s:s, s:I, s:I}", "meta_id",
		       (json_int_t)id, "study", study, "loop_id", loop_id,
		       "mode", mode, "reason", reason, "after_result_id",
		       (json_int_t)after, "hypotheses",
		       (json_int_t)json_array_size(hyps));
	r = journal_event(j, NULL, "meta.analyzed", loop_id ? loop_id : study,
			  ev, err);
	json_decref(ev);
	if (r < 0 || meta_at(j, &row, study, after, mode, err) < 0 ||
	    journal_commit(j, err) < 0)
		goto fail;
	json_object_set_new(row, "new", json_true());
	*view_out = row;
	return 0;
fail:
	json_decref(row);
	journal_rollback(j);
	return -1;
}

int meta_run(struct journal *j, json_t **out, const struct config *cfg,
	     const char *study, const char *loop_id, const char *mode,
	     const json_t *given, int force, json_t *partial, struct err *err)
{
	const json_t *conf = config_study(cfg, study);
	struct proposer_space space;
	struct ledger_metric m;
	struct meta_due due;
	json_t *view = NULL, *rows = NULL, *hyps = NULL;
	char *text = NULL, *file = NULL;
	const char *reason;
	double cost = 0;
	int r = -1;

	*out = NULL;
	if (ledger_metric_of(&m, conf, study, err) < 0 ||
	    meta_due_check(j, &due, conf, study, err) < 0)
		return -1;
	if (!strcmp(mode, "given"))
		reason = "given";
	else
		reason = due.reason ? due.reason : "forced";
	if (!due.due && !force && strcmp(mode, "given")) {
		*out =
		    json_pack("{s:o, s:n}", "due", due_json(&due), "analysis");
		return 0;
	}
	if (meta_at(j, &view, study, due.newest, mode, err) < 0)
		return -1;
	if (view) {
		json_object_set_new(view, "new", json_false());
		goto done;
	}
	if (recent_rows(j, &rows, study, err) < 0)
		goto out;
	if (!strcmp(mode, "given")) {
		hyps = normalise(given, "given");
	} else if (!strcmp(mode, "agent")) {
		if (ask_agent(j, &hyps, &cost, cfg, study, err) < 0)
			goto out;
	} else {
		const json_t *params = json_object_get(conf, "params");
		struct err ignored = ERR_INIT;
		int have = params && proposer_space_parse(&space, params, study,
							  &ignored) == 0;

		err_release(&ignored);
		hyps = meta_builtin(rows, &m, have ? &space : NULL,
				    (int)json_integer_value(json_object_get(
					conf, "explore_after")));
	}
	text = markdown(study, mode, reason, due.newest,
			(int)json_array_size(rows), hyps);
	write_file(&file, cfg, study, text, partial);
	if (store(j, &view, study, loop_id, mode, reason, due.newest,
		  (int)json_array_size(rows), hyps, file, cost, err) < 0)
		goto out;
done:
	*out = json_pack("{s:o, s:o}", "due", due_json(&due), "analysis", view);
	view = NULL;
	r = 0;
out:
	json_decref(view);
	json_decref(rows);
	json_decref(hyps);
	free(text);
	free(file);
	return r;
}
