/*
 * idea.c: evidence, the agent and builtin proposers, and the ideas
 * table (see idea.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent_question.h"
#include "buf.h"
#include "config.h"
#include "context.h"
#include "crypto.h"
#include "digest.h"
#include "embedded.h"
#include "idea.h"
#include "ids.h"
#include "journal.h"
#include "ledger.h"
#include "loop.h"
#include "meta.h"
#include "proposer.h"
#include "sprint.h"
#include "template.h"
#include "xalloc.h"
#include "banned.h"

/* The ledger rows of the study the builtin proposer reads at most. */
#define IDEA_HISTORY_MAX 5000

/* ---------------------------------------------------------------- */
/* Evidence                                                           */
/* ---------------------------------------------------------------- */

/* The recent sprints of 'study', short, with their summaries (new). */
static int summaries(struct journal *j, json_t **out, const char *study,
		     struct err *err)
{
	json_t *rows = NULL;
	size_t i;

	*out = NULL;
	if (sprint_recent(j, &rows, study, IDEA_SUMMARIES, err) < 0)
		return -1;
	*out = json_array();
	for (i = 0; i < json_array_size(rows); i++) {
		const json_t *r = json_array_get(rows, i);

		json_array_append_new(
		    *out,
		    json_pack(
			"{s:O, s:O, s:o, s:o}", "sprint_id",
			json_object_get(r, "id"), "state",
			json_object_get(r, "state"), "idea",
			digest_clip(
			    json_string_value(json_object_get(r, "idea")), 200),
			"summary",
			digest_clip(
			    json_string_value(json_object_get(r, "summary")),
			    600)));
	}
	json_decref(rows);
	return 0;
}

int idea_evidence(struct journal *j, json_t **out, const struct config *cfg,
		  const char *study, const char *loop_id, const char *guidance,
		  struct err *err)
{
	const json_t *conf = config_study(cfg, study);
	json_t *digest = NULL, *sums = NULL, *latest = NULL, *hyps,
	       *loop = NULL;
	const json_t *list;
	size_t i;
	int r = -1;

	*out = NULL;
	if (digest_build(j, &digest, cfg, study, loop_id, 10, err) < 0 ||
	    summaries(j, &sums, study, err) < 0 ||
	    meta_latest(j, &latest, study, err) < 0 ||
	    (loop_id && loop_get(j, &loop, loop_id, err) < 0))
		goto out;
	hyps = json_array();
	list = json_object_get(latest, "hypotheses");
	for (i = 0; i < json_array_size(list); i++) {
		const json_t *h = json_array_get(list, i);

		json_array_append_new(
		    hyps,
		    json_pack(
			"{s:O, s:o, s:O}", "rank", json_object_get(h, "rank"),
			"text",
			digest_clip(
			    json_string_value(json_object_get(h, "text")), 300),
			"confidence", json_object_get(h, "confidence")));
	}
	if (!guidance && loop)
		guidance = json_string_value(json_object_get(loop, "guidance"));
	*out = json_pack("{s:O, s:O, s:o, s:O, s:s?}", "digest", digest,
			 "summaries", sums, "hypotheses", hyps, "params",
			 json_object_get(conf, "params")
			     ? json_object_get(conf, "params")
			     : json_null(),
			 "guidance", guidance);
	if (!guidance)
		json_object_set_new(*out, "guidance", json_null());
	json_object_set_new(*out, "meta_id",
			    latest ? json_incref(json_object_get(latest, "id"))
				   : json_null());
	r = 0;
out:
	json_decref(digest);
	json_decref(sums);
	json_decref(latest);
	json_decref(loop);
	return r;
}

/* ---------------------------------------------------------------- */
/* The builtin proposer                                               */
/* ---------------------------------------------------------------- */

/* The rows of 'study' with parameters, oldest first, for the proposer. */
static int history(struct journal *j, json_t **out, const char *study,
		   struct err *err)
{
	json_t *rows = NULL,
	       *params = json_pack("[s,i]", study, IDEA_HISTORY_MAX);
	size_t i, n;
	int r = journal_exec(j, &rows,
			     "SELECT params, metric, status FROM results "
			     "WHERE study = ? AND params IS NOT NULL "
			     "ORDER BY id DESC LIMIT ?",
			     params, err);

	json_decref(params);
	*out = NULL;
	if (r < 0)
		return -1;
	*out = json_array();
	n = json_array_size(rows);
	for (i = n; i > 0; i--) {
		json_t *row = json_array_get(rows, i - 1);
		json_t *p = json_loads(
		    json_string_value(json_object_get(row, "params")), 0, NULL);

		json_object_set_new(row, "params", p ? p : json_null());
		json_array_append(*out, row);
	}
	json_decref(rows);
	return 0;
}

static int propose_builtin(struct journal *j, json_t **idea_out,
			   const struct config *cfg, const char *study,
			   struct err *err)
{
	const json_t *conf = config_study(cfg, study);
	struct proposer_space space;
	struct proposer_input in;
	struct proposer_choice c;
	struct ledger_metric m;
	json_t *hist = NULL, *row = NULL, *params;
	char where[128], *text;
	int r;

	*idea_out = NULL;
	if (!json_object_get(conf, "params")) {
		err_set(err, ERR_PRECONDITION_FAILED,
			"study '%s' declares no params: the builtin proposer "
			"searches them",
			study);
		return err_remedy(err,
				  "add params: {NAME: {type, low, high}} "
				  "to the study, or use the agent proposer");
	}
	snprintf(where, sizeof(where), "studies.%s", study);
	if (ledger_metric_of(&m, conf, study, err) < 0 ||
	    proposer_space_parse(&space, json_object_get(conf, "params"), where,
				 err) < 0 ||
	    history(j, &hist, study, err) < 0)
		return -1;
	params = json_pack("[s]", study);
	r = journal_row(j, &row,
			"SELECT count(*) AS n FROM ideas WHERE study = ? AND "
			"mode = 'builtin'",
			params, err);
	json_decref(params);
	if (r < 0) {
		json_decref(hist);
		return -1;
	}
	memset(&in, 0, sizeof(in));
	in.space = &space;
	in.history = hist;
	in.maximize = m.maximize;
	in.min_improvement = m.min_improvement;
	in.seed = (uint64_t)json_integer_value(json_object_get(conf, "seed"));
	in.index = (int)json_integer_value(json_object_get(row, "n"));
	in.initial_points =
	    (int)json_integer_value(json_object_get(conf, "initial_points"));
	in.explore_after =
	    (int)json_integer_value(json_object_get(conf, "explore_after"));
	proposer_next(&c, &in);
	text = proposer_idea_text(&space, &c);
	*idea_out = json_pack(
	    "{s:s, s:O, s:s, s:s, s:{s:I, s:i, s:I, s:s, s:f, s:i, s:i,"
	    " s:O}, s:n}",
	    "text", text, "params", c.params, "rationale", c.reason, "mode",
	    "builtin", "inputs", "seed", (json_int_t)in.seed, "index", in.index,
	    "history_rows", (json_int_t)json_array_size(hist), "move", c.move,
	    "radius", c.radius, "stale", c.stale, "evaluated", c.evaluated,
	    "best", c.best ? c.best : json_null(), "cost_usd");
	free(text);
	proposer_choice_release(&c);
	json_decref(hist);
	json_decref(row);
	return 0;
}

/* ---------------------------------------------------------------- */
/* The agent proposer                                                 */
/* ---------------------------------------------------------------- */

/* The prompt for an idea of 'study' from 'evidence': a new string. */
static int idea_prompt(char **out, const struct config *cfg, const char *study,
		       const json_t *evidence, struct err *err)
{
	const struct embedded_file *tmpl =
	    embedded_find("templates/prompt-idea.md");
	const json_t *conf = config_study(cfg, study);
	const json_t *metric = json_object_get(conf, "metric");
	json_t *vars;
	char *context = NULL, *text;
	int r;

	*out = NULL;
	if (!tmpl)
		BUG("templates/prompt-idea.md is not embedded");
	if (context_text(&context, cfg, study, err) < 0)
		return -1;
	text = json_dumps(evidence, JSON_INDENT(1) | JSON_SORT_KEYS);
	vars = json_pack(
	    "{s:s, s:s, s:s, s:s, s:s, s:s, s:O}", "study", study,
	    "description",
	    json_string_value(json_object_get(conf, "description"))
		? json_string_value(json_object_get(conf, "description"))
		: "",
	    "context", context, "metric_name",
	    metric ? json_string_value(json_object_get(metric, "name"))
		   : "(none)",
	    "direction",
	    metric ? json_string_value(json_object_get(metric, "direction"))
		   : "(none)",
	    "evidence", text ? text : "{}", "guidance",
	    json_object_get(evidence, "guidance"));
	r = template_render(out, (const char *)tmpl->data, vars, tmpl->path,
			    err);
	json_decref(vars);
	free(text);
	free(context);
	return r;
}

/* The result ids of the digest in 'evidence' (for the inputs): new. */
static json_t *result_ids(const json_t *evidence)
{
	const json_t *last =
	    json_object_get(json_object_get(evidence, "digest"), "last");
	json_t *ids = json_array();
	size_t i;

	for (i = 0; i < json_array_size(last); i++)
		json_array_append(
		    ids, json_object_get(json_array_get(last, i), "id"));
	return ids;
}

static int propose_agent(struct journal *j, json_t **idea_out,
			 const struct config *cfg, const char *study,
			 const char *loop_id, const char *guidance,
			 struct err *err)
{
	const json_t *conf = config_study(cfg, study);
	struct agent_answer a = AGENT_ANSWER_INIT;
	json_t *evidence = NULL, *argv = NULL, *obj = NULL;
	char *prompt = NULL, *cwd = NULL, hash[SHA256_HEX_LEN + 1];
	const char *text;
	const json_t *params;
	int r = -1;

	*idea_out = NULL;
	if (idea_evidence(j, &evidence, cfg, study, loop_id, guidance, err) <
		0 ||
	    context_agent_argv(&argv, cfg, study, err) < 0 ||
	    idea_prompt(&prompt, cfg, study, evidence, err) < 0 ||
	    agent_workdir(&cwd, journal_path(j), err) < 0 ||
	    agent_question(&a, argv, cwd, prompt,
		      (int)json_integer_value(
			  json_object_get(conf, "agent_timeout_s")),
		      err) < 0)
		goto out;
	obj = agent_find_object(a.text, "idea");
	text = json_string_value(json_object_get(obj, "idea"));
	params = json_object_get(obj, "params");
	if (!text || !*text) {
		err_set(err, ERR_AGENT_FAILED,
			"the agent's answer holds no idea object");
		err_detail(err, "answer_head", digest_clip(a.text, 200));
		goto out;
	}
	if (strlen(text) > IDEA_TEXT_MAX) {
		err_set(err, ERR_AGENT_FAILED,
			"the agent's idea is longer than %d bytes",
			IDEA_TEXT_MAX);
		goto out;
	}
	crypto_sha256_hex(hash, prompt, strlen(prompt));
	*idea_out = json_pack(
	    "{s:s, s:o, s:o, s:s, s:{s:s, s:s, s:I, s:o, s:O, s:b, s:i},"
	    " s:f}",
	    "text", text, "params",
	    json_is_object(params) ? json_deep_copy(params) : json_null(),
	    "rationale",
	    digest_clip(json_string_value(json_object_get(obj, "rationale")),
			2000),
	    "mode", "agent", "inputs", "agent",
	    json_string_value(json_array_get(argv, 0)), "prompt_sha256", hash,
	    "prompt_bytes", (json_int_t)strlen(prompt), "result_ids",
	    result_ids(evidence), "meta_id",
	    json_object_get(evidence, "meta_id"), "guidance",
	    json_is_string(json_object_get(evidence, "guidance")), "turns",
	    a.turns, "cost_usd", a.cost_usd);
	r = 0;
out:
	agent_answer_release(&a);
	json_decref(evidence);
	json_decref(argv);
	json_decref(obj);
	free(prompt);
	free(cwd);
	return r;
}

int idea_propose(struct journal *j, json_t **idea_out, const struct config *cfg,
		 const char *study, const char *loop_id, const char *guidance,
		 const char *mode, struct err *err)
{
	*idea_out = NULL;
	if (!config_study(cfg, study)) {
		err_set(err, ERR_NOT_FOUND, "no study '%s' in %s", study,
			cfg->path);
		return err_remedy(err, "`hpcloop study-list` lists the "
				       "studies of hpcloop.yaml");
	}
	if (!strcmp(mode, "builtin"))
		return propose_builtin(j, idea_out, cfg, study, err);
	return propose_agent(j, idea_out, cfg, study, loop_id, guidance, err);
}

/* ---------------------------------------------------------------- */
/* The table                                                          */
/* ---------------------------------------------------------------- */

/* The view of the ideas row 'row': a new object. */
static json_t *idea_public(const json_t *row)
{
	const char *p = json_string_value(json_object_get(row, "params"));
	const char *in = json_string_value(json_object_get(row, "inputs"));
	json_t *params = p ? json_loads(p, 0, NULL) : NULL;
	json_t *inputs = in ? json_loads(in, 0, NULL) : NULL;

	return json_pack("{s:O, s:O, s:O, s:O, s:O, s:O, s:o, s:O, s:o, s:O,"
			 " s:O, s:O}",
			 "idea_id", json_object_get(row, "id"), "study",
			 json_object_get(row, "study"), "loop_id",
			 json_object_get(row, "loop_id"), "iteration",
			 json_object_get(row, "iteration"), "mode",
			 json_object_get(row, "mode"), "text",
			 json_object_get(row, "text"), "params",
			 params ? params : json_null(), "rationale",
			 json_object_get(row, "rationale"), "inputs",
			 inputs ? inputs : json_object(), "cost_usd",
			 json_object_get(row, "cost_usd"), "sprint_id",
			 json_object_get(row, "sprint_id"), "created_at",
			 json_object_get(row, "created_at"));
}

int idea_get(struct journal *j, json_t **row_out, const char *id,
	     struct err *err)
{
	json_t *row = NULL, *params = json_pack("[s]", id);
	int r = journal_row(j, &row, "SELECT * FROM ideas WHERE id = ?", params,
			    err);

	json_decref(params);
	*row_out = NULL;
	if (r < 0)
		return -1;
	if (row)
		*row_out = idea_public(row);
	json_decref(row);
	return 0;
}

/* A fresh "id-" + 6 hex id that no idea has. */
static int new_id(struct journal *j, char out[IDEA_ID_MAX], struct err *err)
{
	json_t *row = NULL;
	int tries;

	for (tries = 0; tries < 100; tries++) {
		if (ids_new(out, IDEA_ID_MAX, "id-", 6) < 0)
			return err_set(err, ERR_INTERNAL,
				       "no randomness for an idea id");
		if (idea_get(j, &row, out, err) < 0)
			return -1;
		if (!row)
			return 0;
		json_decref(row);
	}
	return err_set(err, ERR_INTERNAL, "no free idea id");
}

int idea_store(struct journal *j, json_t **row_out, const json_t *idea,
	       const char *study, const char *loop_id, int iteration,
	       struct err *err)
{
	char id[IDEA_ID_MAX], now[IDS_TIME_LEN];
	const json_t *params = json_object_get(idea, "params");
	const json_t *cost = json_object_get(idea, "cost_usd");
	char *ptext = NULL, *itext;
	json_t *args, *ev;
	int r;

	*row_out = NULL;
	if (new_id(j, id, err) < 0)
		return -1;
	ids_now(now);
	if (json_is_object(params))
		ptext = json_dumps(params, JSON_COMPACT | JSON_SORT_KEYS);
	itext = json_dumps(json_object_get(idea, "inputs"),
			   JSON_COMPACT | JSON_SORT_KEYS);
	args =
	    json_pack("[s,s,s?,o,s,s,s?,s?,s,o,s]", id, study, loop_id,
		      iteration > 0 ? json_integer(iteration) : json_null(),
		      json_string_value(json_object_get(idea, "mode")),
		      json_string_value(json_object_get(idea, "text")), ptext,
		      json_string_value(json_object_get(idea, "rationale")),
		      itext ? itext : "{}",
		      json_is_number(cost) && json_number_value(cost) > 0
			  ? json_real(json_number_value(cost))
			  : json_null(),
		      now);
	r = journal_exec(j, NULL,
			 "INSERT INTO ideas (id, study, loop_id, iteration, "
			 "mode, text, params, rationale, inputs, cost_usd, "
			 "created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
			 args, err);
	json_decref(args);
	free(ptext);
	free(itext);
	if (r < 0 || idea_get(j, row_out, id, err) < 0)
		return -1;
	ev = json_pack("{s:s, s:s, s:s?, s:O, s:O, s:O, s:O}", "idea_id", id,
		       "study", study, "loop_id", loop_id, "iteration",
		       json_object_get(*row_out, "iteration"), "mode",
		       json_object_get(idea, "mode"), "params",
		       json_object_get(*row_out, "params"), "inputs",
		       json_object_get(*row_out, "inputs"));
	r = journal_event(j, NULL, "idea.proposed", loop_id ? loop_id : study,
			  ev, err);
	json_decref(ev);
	if (r < 0) {
		json_decref(*row_out);
		*row_out = NULL;
	}
	return r;
}

int idea_set_sprint(struct journal *j, const char *id, const char *sprint_id,
		    struct err *err)
{
	json_t *params = json_pack("[s,s]", sprint_id, id);
	int r = journal_exec(j, NULL,
			     "UPDATE ideas SET sprint_id = ? WHERE id = ? AND "
			     "sprint_id IS NULL",
			     params, err);

	json_decref(params);
	return r;
}

/* ---------------------------------------------------------------- */
/* The idea of a loop's iteration                                     */
/* ---------------------------------------------------------------- */

/* Claim 'key' in a transaction of its own. */
static int claim(struct journal *j, struct idem_claim *c, const char *prim,
		 const struct idem_key *key, struct err *err)
{
	if (journal_begin(j, err) < 0)
		return -1;
	if (idem_claim(j, c, prim, key, err) < 0 ||
	    journal_commit(j, err) < 0) {
		journal_rollback(j);
		return -1;
	}
	return 0;
}

/* Free the claimed 'key' again (its own transaction; never fails). */
static void unclaim(struct journal *j, const char *prim,
		    const struct idem_key *key)
{
	struct err ignored = ERR_INIT;

	if (journal_begin(j, &ignored) == 0 &&
	    (idem_fail(j, prim, key, &ignored) < 0 ||
	     journal_commit(j, &ignored) < 0))
		journal_rollback(j);
	err_release(&ignored);
}

int idea_for_iteration(struct journal *j, json_t **view_out, int *busy_out,
		       int *fresh_out, const struct config *cfg,
		       const char *primitive, const struct idem_key *key,
		       const char *study, const char *loop_id, int iteration,
		       const char *mode, struct err *err)
{
	struct idem_claim c = IDEM_CLAIM_INIT;
	json_t *idea = NULL;
	int r = -1;

	*view_out = NULL;
	*busy_out = 0;
	*fresh_out = 0;
	if (claim(j, &c, primitive, key, err) < 0) {
		if (err->code != ERR_IN_PROGRESS)
			return -1;
		err_clear(err);
		*busy_out = 1;
		return 0;
	}
	if (c.found == IDEM_REPLAY) {
		*view_out = c.data;
		return 0;
	}
	if (idea_propose(j, &idea, cfg, study, loop_id, NULL, mode, err) < 0)
		goto fail;
	if (journal_begin(j, err) < 0)
		goto fail;
	if (idea_store(j, view_out, idea, study, loop_id, iteration, err) < 0 ||
	    idem_store(j, primitive, key,
		       json_string_value(json_object_get(*view_out, "idea_id")),
		       *view_out, err) < 0 ||
	    journal_commit(j, err) < 0) {
		journal_rollback(j);
		json_decref(*view_out);
		*view_out = NULL;
		goto fail;
	}
	*fresh_out = 1;
	r = 0;
	goto out;
fail:
	unclaim(j, primitive, key);
out:
	json_decref(idea);
	idem_claim_release(&c);
	return r;
}
