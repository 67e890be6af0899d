/*
 * carry.c: code that carries forward (see carry.h).
 *
 * Longer than most files in src/: the base, the checkout and the
 * capture are three steps of one git protocol over the transport and
 * share its private helpers (argv building, first-line errors, the
 * journal rows of study_code and code_runs); the banners divide it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "carry.h"
#include "config.h"
#include "context.h"
#include "fault.h"
#include "ids.h"
#include "journal.h"
#include "submit.h"
#include "transport.h"
#include "xalloc.h"
#include "banned.h"

/* What one git command may print (a diff has its own limit). */
#define CARRY_OUT_MAX 8192
/* The name of the repository hpcloop makes from a `dir`. */
#define CARRY_IMPORT_NAME ".hpcloop-code"

/* Run 'sql' with 'params' (stolen), rows into '*rows_out' (may be NULL). */
static int exec_steal(struct journal *j, json_t **rows_out, const char *sql,
		      json_t *params, struct err *err)
{
	int r = journal_exec(j, rows_out, sql, params, err);

	json_decref(params);
	return r;
}

/* The one row of 'sql' with 'params' (stolen), or NULL. */
static int row_steal(struct journal *j, json_t **row_out, const char *sql,
		     json_t *params, struct err *err)
{
	int r = journal_row(j, row_out, sql, params, err);

	json_decref(params);
	return r;
}

/* Run 'fn' with 'arg' in a transaction of its own. */
static int in_tx(struct journal *j, int (*fn)(struct journal *, void *,
					      struct err *),
		 void *arg, struct err *err)
{
	if (journal_begin(j, err) < 0)
		return -1;
	if (fn(j, arg, err) < 0 || journal_commit(j, err) < 0) {
		journal_rollback(j);
		return -1;
	}
	return 0;
}

int carry_wanted(const json_t *study)
{
	return json_is_object(json_object_get(study, "code"));
}

/* ---------------------------------------------------------------- */
/* git on the cluster                                                 */
/* ---------------------------------------------------------------- */

/*
 * Run git with the arguments 'args' (NULL-terminated) through 't', with
 * hooks, the fsmonitor and signing off and hpcloop's identity: 'res'
 * (set up by the caller) holds what it printed and its exit code.  A
 * cluster without git is precondition_failed.
 */
static int git(struct transport *t, struct exec_result *res,
	       const char *const *args, struct err *err)
{
	static const char *const head[] = {
		"git",
		"-c", "core.hooksPath=/dev/null",
		"-c", "core.fsmonitor=false",
		"-c", "commit.gpgSign=false",
		"-c", "user.name=" CARRY_AUTHOR_NAME,
		"-c", "user.email=" CARRY_AUTHOR_EMAIL,
	};
	const char *argv[40];
	size_t n = 0, i;

	for (i = 0; i < sizeof(head) / sizeof(head[0]); i++)
		argv[n++] = head[i];
	for (i = 0; args[i]; i++) {
		if (n + 1 >= sizeof(argv) / sizeof(argv[0]))
			BUG("too many git arguments");
		argv[n++] = args[i];
	}
	argv[n] = NULL;
	if (transport_exec(t, res, argv, NULL, NULL, 0, CARRY_GIT_TIMEOUT_S,
			   err) < 0) {
		if (err->code != ERR_NOT_FOUND)
			return -1;
		err_clear(err);
		err_set(err, ERR_PRECONDITION_FAILED,
			"git is not installed on the study's cluster");
		return err_remedy(err, "install git on the cluster, or "
				       "remove `code` from the study");
	}
	return 0;
}

/* The first line of what 'res' printed (new), or NULL when empty. */
static char *first_line(const struct exec_result *res)
{
	const char *s = buf_str(&res->out);
	size_t n = strcspn(s, "\r\n");

	return n ? xstrndup(s, n) : NULL;
}

/* The first line git wrote to standard error, for a message. */
static const char *git_said(const struct exec_result *res, char *out,
			    size_t size)
{
	const char *s = buf_str(&res->err);
	size_t n = strcspn(s, "\r\n");

	if (n >= size)
		n = size - 1;
	memcpy(out, s, n);
	out[n] = '\0';
	return n ? out : "no message";
}

/* Whether 's' is a full commit id (40 or 64 lower-case hex digits). */
static int is_commit_id(const char *s)
{
	size_t n = s ? strspn(s, "0123456789abcdef") : 0;

	return s && (n == 40 || n == 64) && s[n] == '\0';
}

/*
 * Run git 'args' through 't' and take its first output line as a commit
 * id into '*out' (new); 'what' names the step for messages.  A failure
 * or an answer that is not a commit id is precondition_failed.
 */
static int git_commit_id(struct transport *t, char **out, const char *what,
			 const char *const *args, struct err *err)
{
	struct exec_result res;
	char said[256];
	int r = -1;

	*out = NULL;
	exec_result_init(&res, CARRY_OUT_MAX);
	if (git(t, &res, args, err) < 0)
		goto done;
	if (res.exit_code != 0) {
		err_set(err, ERR_PRECONDITION_FAILED, "%s: git: %s", what,
			git_said(&res, said, sizeof(said)));
		err_remedy(err, "check the study's `code` in hpcloop.yaml: "
				"a git repository and a ref it has");
		goto done;
	}
	*out = first_line(&res);
	if (!is_commit_id(*out)) {
		err_set(err, ERR_PRECONDITION_FAILED,
			"%s: git answered no commit id", what);
		free(*out);
		*out = NULL;
		goto done;
	}
	r = 0;
done:
	exec_result_release(&res);
	return r;
}

/* Run git 'args' that must succeed; 'what' names it for messages. */
static int git_must(struct transport *t, const char *what,
		    const char *const *args, struct err *err)
{
	struct exec_result res;
	char said[256];
	int r = 0;

	exec_result_init(&res, CARRY_OUT_MAX);
	if (git(t, &res, args, err) < 0)
		r = -1;
	else if (res.exit_code != 0)
		r = err_set(err, ERR_REMOTE_COMMAND_FAILED, "%s: git: %s",
			    what, git_said(&res, said, sizeof(said)));
	exec_result_release(&res);
	return r;
}

/* The transport of the cluster 'name' of 'cfg' (no scheduler needed). */
static int open_transport(struct transport **out, const struct config *cfg,
			  const char *name, struct err *err)
{
	const json_t *cl = config_cluster(cfg, name);

	*out = NULL;
	if (!cl)
		return err_set(err, ERR_CONFIG_INVALID, "no cluster '%s' in %s",
			       name ? name : "", cfg->path);
	return transport_open(out, cl, err);
}

/* "--git-dir=" 'dir' into 'b'. */
static const char *git_dir_arg(struct buf *b, const char *dir)
{
	buf_truncate(b, 0);
	buf_addf(b, "--git-dir=%s", dir);
	return buf_str(b);
}

/* The absolute path git gives for 'what' ("--show-toplevel") of 'dir'. */
static int git_path(struct transport *t, char **out, const char *dir,
		    const char *what, struct err *err)
{
	const char *args[] = {"-C", dir, "rev-parse", what, NULL};
	struct exec_result res;
	char said[256];
	int r = 0;

	*out = NULL;
	exec_result_init(&res, CARRY_OUT_MAX);
	if (git(t, &res, args, err) < 0)
		r = -1;
	else if (res.exit_code != 0 || !(*out = first_line(&res)))
		r = err_set(err, ERR_REMOTE_COMMAND_FAILED,
			    "reading the git directory %s: git: %s", dir,
			    git_said(&res, said, sizeof(said)));
	exec_result_release(&res);
	return r;
}

/* ---------------------------------------------------------------- */
/* The study's base                                                   */
/* ---------------------------------------------------------------- */

/* A path of the config for the cluster: as sprints_dir is resolved. */
static char *cluster_path(const struct config *cfg, const json_t *study,
			  const char *p)
{
	const json_t *cl = config_cluster(
	    cfg, json_string_value(json_object_get(study, "cluster")));
	const char *kind = json_string_value(json_object_get(cl, "transport"));

	if (kind && !strcmp(kind, "ssh"))
		return xstrdup(p);
	return config_path(cfg, p);
}

/*
 * Make the repository of a `dir` code base: a git repository at
 * 'repo' whose first commit holds what 'dir' holds (git reads it as the
 * work tree: nothing but git is needed on the cluster).
 */
static int import_dir(struct transport *t, const char *repo, const char *dir,
		      struct err *err)
{
	struct buf gd = BUF_INIT, wt = BUF_INIT, path = BUF_INIT;
	int r = -1;

	buf_addf(&path, "%s/.git", repo);
	buf_addf(&wt, "--work-tree=%s", dir);
	git_dir_arg(&gd, buf_str(&path));
	{
		const char *init[] = {"init", "-q", "--", repo, NULL};
		const char *add[] = {buf_str(&gd), buf_str(&wt), "add", "-A",
				     NULL};
		const char *commit[] = {buf_str(&gd), buf_str(&wt),
					"commit", "-q", "--no-verify",
					"--allow-empty", "-m",
					"hpcloop: the code base as imported",
					NULL};

		if (git_must(t, "making the code repository", init, err) < 0 ||
		    git_must(t, "importing the code directory", add, err) <
			0 ||
		    git_must(t, "committing the code directory", commit,
			     err) < 0)
			goto out;
	}
	r = 0;
out:
	buf_release(&gd);
	buf_release(&wt);
	buf_release(&path);
	return r;
}

/* A study's code row, as the base step makes it. */
struct base {
	const char *study;
	const char *loop_id;
	const char *kind;   /* "repo" or "dir" */
	const char *source; /* as configured */
	const char *ref;
	char *git_dir;	    /* the repository's, absolute (owned) */
	char *commit;	    /* the base (owned) */
};

static int insert_base(struct journal *j, void *arg, struct err *err)
{
	struct base *b = arg;
	char now[IDS_TIME_LEN];
	json_t *ev;
	int r;

	ids_now(now);
	/* A code base the config no longer names starts again. */
	if (exec_steal(j, NULL,
		       "INSERT INTO study_code (study, kind, source, git_dir, "
		       "ref, base_commit, best_commit, created_at, updated_at) "
		       "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (study) "
		       "DO UPDATE SET kind = excluded.kind, source = "
		       "excluded.source, git_dir = excluded.git_dir, ref = "
		       "excluded.ref, base_commit = excluded.base_commit, "
		       "best_commit = excluded.best_commit, best_result_id = "
		       "NULL, best_sprint_id = NULL, updated_at = "
		       "excluded.updated_at WHERE kind <> excluded.kind OR "
		       "source <> excluded.source",
		       json_pack("[s,s,s,s,s,s,s,s,s]", b->study, b->kind,
				 b->source, b->git_dir, b->ref, b->commit,
				 b->commit, now, now),
		       err) < 0)
		return -1;
	if (!journal_changes(j))
		return 0;
	ev = json_pack("{s:s, s:s, s:s, s:s, s:s?}", "kind", b->kind,
		       "source", b->source, "ref", b->ref, "commit",
		       b->commit, "loop_id", b->loop_id);
	r = journal_event(j, NULL, "code.based", b->study, ev, err);
	json_decref(ev);
	return r;
}

/* Whether the repository of git dir 'git_dir' has a commit at HEAD. */
static int has_commit(struct transport *t, const char *git_dir)
{
	struct buf gd = BUF_INIT;
	struct err ignored = ERR_INIT;
	char *commit = NULL;
	int r;

	{
		const char *head[] = {git_dir_arg(&gd, git_dir), "rev-parse",
				      "--verify", "--quiet", "HEAD^{commit}",
				      NULL};

		r = git_commit_id(t, &commit, "reading the imported code",
				  head, &ignored) == 0;
	}
	free(commit);
	err_release(&ignored);
	buf_release(&gd);
	return r;
}

/*
 * The code row of the study (new) into '*row_out': the one recorded, or
 * a new one whose base is the configured ref as it is now, resolved (and
 * for a `dir`, imported) through 't'.
 */
static int base_of(const struct carry_submit *cs, struct transport *t,
		   json_t **row_out, struct err *err)
{
	const json_t *study = config_study(cs->cfg, cs->study);
	const json_t *code = json_object_get(study, "code");
	struct buf rev = BUF_INIT, gd = BUF_INIT;
	char *repo = NULL, *sprints = NULL, *dir = NULL;
	struct err probe = ERR_INIT;
	struct base b;
	int r = -1;

	memset(&b, 0, sizeof(b));
	b.study = cs->study;
	b.loop_id = cs->loop_id;
	b.ref = json_string_value(json_object_get(code, "ref"));
	b.kind = json_object_get(code, "repo") ? "repo" : "dir";
	b.source = json_string_value(json_object_get(code, b.kind));
	if (row_steal(cs->j, row_out,
		      "SELECT * FROM study_code WHERE study = ? AND kind = ? "
		      "AND source = ?",
		      json_pack("[s,s,s]", cs->study, b.kind, b.source),
		      err) < 0)
		return -1;
	if (*row_out)
		return 0;
	if (!strcmp(b.kind, "repo")) {
		repo = cluster_path(cs->cfg, study, b.source);
	} else {
		sprints = context_sprints_dir(cs->cfg, cs->study);
		buf_addf(&rev, "%s/%s", sprints, CARRY_IMPORT_NAME);
		repo = buf_detach(&rev, NULL);
		buf_init(&rev, 0);
	}
	if (git_path(t, &b.git_dir, repo, "--absolute-git-dir", &probe) < 0 ||
	    (!strcmp(b.kind, "dir") && !has_commit(t, b.git_dir))) {
		if (probe.code != ERR_NONE &&
		    probe.code != ERR_REMOTE_COMMAND_FAILED) {
			/* Not git's answer: the cluster's failure. */
			err_set(err, probe.code, "%s", probe.message);
			err_release(&probe);
			goto out;
		}
		err_release(&probe);
		if (!strcmp(b.kind, "repo")) {
			err_set(err, ERR_PRECONDITION_FAILED,
				"study '%s': code.repo is not a git "
				"repository on its cluster",
				cs->study);
			err_remedy(err, "point the study's code.repo at a git "
					"repository on the cluster");
			goto out;
		}
		/* Imported now, or again after an import that died. */
		free(b.git_dir);
		b.git_dir = NULL;
		dir = cluster_path(cs->cfg, study, b.source);
		if (transport_mkdirs(t, sprints, 0700, err) < 0 ||
		    import_dir(t, repo, dir, err) < 0 ||
		    git_path(t, &b.git_dir, repo, "--absolute-git-dir", err) <
			0)
			goto out;
	}
	buf_addf(&rev, "%s^{commit}", b.ref);
	{
		const char *resolve[] = {git_dir_arg(&gd, b.git_dir),
					 "rev-parse", "--verify",
					 "--end-of-options", buf_str(&rev),
					 NULL};

		if (git_commit_id(t, &b.commit, "resolving the code's ref",
				  resolve, err) < 0)
			goto out;
	}
	if (in_tx(cs->j, insert_base, &b, err) < 0 ||
	    row_steal(cs->j, row_out,
		      "SELECT * FROM study_code WHERE study = ?",
		      json_pack("[s]", cs->study), err) < 0)
		goto out;
	r = 0;
out:
	buf_release(&rev);
	buf_release(&gd);
	free(repo);
	free(sprints);
	free(dir);
	free(b.git_dir);
	free(b.commit);
	return r;
}

/* ---------------------------------------------------------------- */
/* Checking a run out                                                 */
/* ---------------------------------------------------------------- */

/* A run's checkout, as the prepare hook records it. */
struct checkout {
	const char *study;
	const char *loop_id;
	const char *sprint_id;
	const char *base;     /* the commit it starts from */
	const char *worktree; /* absolute */
	const char *git_dir;  /* its git dir, absolute */
};

static int insert_checkout(struct journal *j, void *arg, struct err *err)
{
	struct checkout *c = arg;
	char now[IDS_TIME_LEN];
	json_t *ev;
	int r;

	ids_now(now);
	if (exec_steal(j, NULL,
		       "INSERT OR IGNORE INTO code_runs (sprint_id, study, "
		       "loop_id, base_commit, worktree, git_dir, created_at) "
		       "VALUES (?, ?, ?, ?, ?, ?, ?)",
		       json_pack("[s,s,s?,s,s,s,s]", c->sprint_id, c->study,
				 c->loop_id, c->base, c->worktree, c->git_dir,
				 now),
		       err) < 0)
		return -1;
	if (!journal_changes(j))
		return 0;
	ev = json_pack("{s:s, s:s}", "base_commit", c->base, "worktree",
		       c->worktree);
	r = journal_event(j, NULL, "code.checked_out", c->sprint_id, ev, err);
	json_decref(ev);
	return r;
}

/* Whether the path 'p' ends with the part 'name'. */
static int ends_with(const char *p, const char *name)
{
	size_t n = strlen(p), k = strlen(name);

	return n > k && p[n - k - 1] == '/' && !strcmp(p + n - k, name);
}

/*
 * submit_request.prepare: check the study's best commit out into the
 * directory 'dir' of run 'sprint_id' (again on a resumed attempt: a
 * checkout that exists is kept).
 */
static int prepare(void *arg, struct transport *t, const char *sprint_id,
		   const char *dir, struct err *err)
{
	struct carry_submit *cs = arg;
	const json_t *code = json_object_get(config_study(cs->cfg, cs->study),
					     "code");
	const char *name = json_string_value(json_object_get(code,
							     "checkout"));
	json_t *row = NULL, *have = NULL;
	struct buf wt = BUF_INIT, gd = BUF_INIT;
	char *top = NULL, *wgd = NULL;
	struct err probe = ERR_INIT;
	struct checkout c;
	int r = -1;

	if (row_steal(cs->j, &have,
		      "SELECT 1 FROM code_runs WHERE sprint_id = ?",
		      json_pack("[s]", sprint_id), err) < 0)
		return -1;
	if (have) {
		json_decref(have);
		return 0;
	}
	if (base_of(cs, t, &row, err) < 0)
		goto out;
	/* A path that starts with '-' must not read as an option. */
	buf_addf(&wt, "%s%s/%s", dir[0] == '-' ? "./" : "", dir, name);
	/* A resumed attempt finds the checkout it made. */
	if (git_path(t, &top, buf_str(&wt), "--show-toplevel", &probe) < 0 ||
	    !ends_with(top, name)) {
		const char *add[] = {
		    git_dir_arg(&gd, json_string_value(
					 json_object_get(row, "git_dir"))),
		    "worktree", "add", "--detach", "-q", "--", buf_str(&wt),
		    json_string_value(json_object_get(row, "best_commit")),
		    NULL};

		err_release(&probe);
		free(top);
		top = NULL;
		if (git_must(t, "checking the best commit out", add, err) < 0 ||
		    git_path(t, &top, buf_str(&wt), "--show-toplevel", err) <
			0)
			goto out;
	}
	if (git_path(t, &wgd, buf_str(&wt), "--absolute-git-dir", err) < 0)
		goto out;
	fault_point("carry.after_checkout");
	memset(&c, 0, sizeof(c));
	c.study = cs->study;
	c.loop_id = cs->loop_id;
	c.sprint_id = sprint_id;
	c.base = json_string_value(json_object_get(row, "best_commit"));
	c.worktree = top;
	c.git_dir = wgd;
	r = in_tx(cs->j, insert_checkout, &c, err);
out:
	json_decref(row);
	buf_release(&wt);
	buf_release(&gd);
	free(top);
	free(wgd);
	return r;
}

void carry_request(struct submit_request *req, struct carry_submit *cs,
		   struct journal *j, const struct config *cfg,
		   const char *study, const char *loop_id)
{
	const json_t *s = config_study(cfg, study);

	if (!carry_wanted(s))
		return;
	cs->j = j;
	cs->cfg = cfg;
	cs->study = study;
	cs->loop_id = loop_id;
	req->prepare = prepare;
	req->prepare_arg = cs;
	req->code_dir = json_string_value(
	    json_object_get(json_object_get(s, "code"), "checkout"));
}

/* ---------------------------------------------------------------- */
/* Capturing what a run produced                                      */
/* ---------------------------------------------------------------- */

/* What a capture found. */
struct captured {
	const char *sprint_id;
	const char *commit; /* or NULL */
	const char *by;	    /* "agent", "hpcloop", "none" */
	const char *note;   /* or NULL */
};

static int store_capture(struct journal *j, void *arg, struct err *err)
{
	struct captured *c = arg;
	char now[IDS_TIME_LEN];
	json_t *ev;
	int r;

	ids_now(now);
	if (exec_steal(j, NULL,
		       "UPDATE code_runs SET commit_sha = ?, committed_by = ?, "
		       "note = ?, captured_at = ? WHERE sprint_id = ? AND "
		       "captured_at IS NULL",
		       json_pack("[s?,s,s?,s,s]", c->commit, c->by, c->note, now,
				 c->sprint_id),
		       err) < 0)
		return -1;
	if (!journal_changes(j))
		return 0;
	ev = json_pack("{s:s?, s:s, s:s?}", "commit", c->commit,
		       "committed_by", c->by, "note", c->note);
	r = journal_event(j, NULL, "code.captured", c->sprint_id, ev, err);
	json_decref(ev);
	return r;
}

/*
 * Commit what the agent left in the checkout of 'run' (a code_runs row)
 * and read its HEAD: '*commit_out' (new) and '*by_out', or a note in
 * 'note' when git cannot read the checkout (returns 0 then).
 */
static int commit_run(struct transport *t, char **commit_out,
		      const char **by_out, char *note, size_t note_size,
		      const json_t *run, const char *repo_git_dir,
		      struct err *err)
{
	const char *id = json_string_value(json_object_get(run, "sprint_id"));
	const char *base =
	    json_string_value(json_object_get(run, "base_commit"));
	const char *study = json_string_value(json_object_get(run, "study"));
	struct buf gd = BUF_INIT, wt = BUF_INIT, msg = BUF_INIT;
	struct buf rgd = BUF_INIT, ref = BUF_INIT;
	struct exec_result res;
	char said[256];
	int r = -1;

	*commit_out = NULL;
	*by_out = "none";
	exec_result_init(&res, CARRY_OUT_MAX);
	git_dir_arg(&gd, json_string_value(json_object_get(run, "git_dir")));
	buf_addf(&wt, "--work-tree=%s",
		 json_string_value(json_object_get(run, "worktree")));
	buf_addf(&msg, "hpcloop: what run %s left uncommitted", id);
	{
		const char *add[] = {buf_str(&gd), buf_str(&wt), "add", "-A",
				     NULL};
		const char *staged[] = {buf_str(&gd), buf_str(&wt), "diff",
					"--cached", "--quiet", NULL};
		const char *commit[] = {buf_str(&gd), buf_str(&wt), "commit",
					"-q", "--no-verify", "-m",
					buf_str(&msg), NULL};
		const char *head[] = {buf_str(&gd), "rev-parse", "--verify",
				      "--quiet", "HEAD^{commit}", NULL};
		const char *subject[] = {buf_str(&gd), "log", "-1",
					 "--format=%s", "HEAD", NULL};
		char *s;

		if (git(t, &res, add, err) < 0)
			goto out;
		if (res.exit_code != 0) {
			snprintf(note, note_size,
				 "the run's checkout could not be read: git: "
				 "%s",
				 git_said(&res, said, sizeof(said)));
			r = 0;
			goto out;
		}
		if (git(t, &res, staged, err) < 0)
			goto out;
		if (res.exit_code == 1) {
			if (git_must(t, "committing the run's changes", commit,
				     err) < 0)
				goto out;
			fault_point("carry.after_commit");
			*by_out = "hpcloop";
		} else {
			/* A capture that died after committing made it. */
			if (git(t, &res, subject, err) < 0)
				goto out;
			s = first_line(&res);
			if (res.exit_code == 0 && s && !strcmp(s, buf_str(&msg)))
				*by_out = "hpcloop";
			free(s);
		}
		if (git(t, &res, head, err) < 0)
			goto out;
		*commit_out = first_line(&res);
		if (res.exit_code != 0 || !is_commit_id(*commit_out)) {
			free(*commit_out);
			*commit_out = NULL;
			*by_out = "none";
			snprintf(note, note_size,
				 "the run's checkout has no commit: git: %s",
				 git_said(&res, said, sizeof(said)));
			r = 0;
			goto out;
		}
	}
	if (!strcmp(*by_out, "none") && strcmp(*commit_out, base))
		*by_out = "agent";
	/* Keep the commit from garbage collection, in the study's repo. */
	git_dir_arg(&rgd, repo_git_dir);
	buf_addf(&ref, "refs/hpcloop/%s/%s", study, id);
	{
		const char *keep[] = {buf_str(&rgd), "update-ref", buf_str(&ref),
				      *commit_out, NULL};

		if (git(t, &res, keep, err) < 0)
			goto out;
		if (res.exit_code != 0) {
			snprintf(note, note_size,
				 "the run's commit is not in the study's "
				 "repository: git: %s",
				 git_said(&res, said, sizeof(said)));
			free(*commit_out);
			*commit_out = NULL;
			*by_out = "none";
		}
	}
	r = 0;
out:
	if (r < 0) {
		free(*commit_out);
		*commit_out = NULL;
	}
	exec_result_release(&res);
	buf_release(&gd);
	buf_release(&wt);
	buf_release(&msg);
	buf_release(&rgd);
	buf_release(&ref);
	return r;
}

int carry_capture(struct journal *j, const struct config *cfg,
		  const json_t *sprint, struct err *err)
{
	const char *id = json_string_value(json_object_get(sprint, "id"));
	struct transport *t = NULL;
	json_t *run = NULL, *code = NULL;
	struct captured cap;
	char note[512] = "", *commit = NULL;
	int r = -1;

	if (row_steal(j, &run,
		      "SELECT * FROM code_runs WHERE sprint_id = ? AND "
		      "captured_at IS NULL",
		      json_pack("[s]", id), err) < 0)
		return -1;
	if (!run)
		return 0;
	if (row_steal(j, &code, "SELECT * FROM study_code WHERE study = ?",
		      json_pack("[O]", json_object_get(run, "study")),
		      err) < 0 ||
	    open_transport(&t, cfg,
			   json_string_value(json_object_get(sprint, "cluster")),
			   err) < 0)
		goto out;
	memset(&cap, 0, sizeof(cap));
	if (commit_run(t, &commit, &cap.by, note, sizeof(note), run,
		       json_string_value(json_object_get(code, "git_dir")),
		       err) < 0)
		goto out;
	cap.sprint_id = id;
	cap.commit = commit;
	cap.note = note[0] ? note : NULL;
	r = in_tx(j, store_capture, &cap, err);
out:
	transport_close(t);
	json_decref(run);
	json_decref(code);
	free(commit);
	return r;
}

/* ---------------------------------------------------------------- */
/* The ledger's side                                                  */
/* ---------------------------------------------------------------- */

int carry_commit_of(struct journal *j, int *pending_out, char **commit_out,
		    const char *sprint_id, struct err *err)
{
	json_t *run = NULL;
	const char *c;

	*pending_out = 0;
	*commit_out = NULL;
	if (!sprint_id)
		return 0;
	if (row_steal(j, &run,
		      "SELECT commit_sha, captured_at FROM code_runs WHERE "
		      "sprint_id = ?",
		      json_pack("[s]", sprint_id), err) < 0)
		return -1;
	if (!run)
		return 0;
	*pending_out = !json_is_string(json_object_get(run, "captured_at"));
	c = json_string_value(json_object_get(run, "commit_sha"));
	*commit_out = c ? xstrdup(c) : NULL;
	json_decref(run);
	return 0;
}

int carry_keep(struct journal *j, const char *study, const char *sprint_id,
	       int64_t result_id, struct err *err)
{
	json_t *row = NULL, *ev;
	char now[IDS_TIME_LEN];
	int r = -1;

	if (!sprint_id)
		return 0;
	if (row_steal(j, &row,
		      "SELECT r.commit_sha AS commit_sha, c.best_commit AS "
		      "best FROM code_runs r JOIN study_code c ON c.study = "
		      "r.study WHERE r.sprint_id = ? AND r.study = ? AND "
		      "r.commit_sha IS NOT NULL",
		      json_pack("[s,s]", sprint_id, study), err) < 0)
		return -1;
	if (!row)
		return 0;
	ids_now(now);
	if (exec_steal(j, NULL,
		       "UPDATE study_code SET best_commit = ?, best_result_id "
		       "= ?, best_sprint_id = ?, updated_at = ? WHERE study = ?",
		       json_pack("[O,I,s,s,s]", json_object_get(row,
							       "commit_sha"),
				 (json_int_t)result_id, sprint_id, now, study),
		       err) < 0)
		goto out;
	ev = json_pack("{s:O, s:O, s:s, s:I}", "from",
		       json_object_get(row, "best"), "to",
		       json_object_get(row, "commit_sha"), "sprint_id",
		       sprint_id, "result_id", (json_int_t)result_id);
	r = journal_event(j, NULL, "code.best_advanced", study, ev, err);
	json_decref(ev);
out:
	json_decref(row);
	return r;
}

int carry_state(struct journal *j, json_t **out, const char *study,
		struct err *err)
{
	json_t *row = NULL;

	*out = NULL;
	if (row_steal(j, &row, "SELECT * FROM study_code WHERE study = ?",
		      json_pack("[s]", study), err) < 0)
		return -1;
	if (!row)
		return 0;
	*out = json_pack("{s:O, s:O, s:O, s:O, s:O, s:O, s:O}", "kind",
			 json_object_get(row, "kind"), "source",
			 json_object_get(row, "source"), "ref",
			 json_object_get(row, "ref"), "base_commit",
			 json_object_get(row, "base_commit"), "best_commit",
			 json_object_get(row, "best_commit"), "best_result_id",
			 json_object_get(row, "best_result_id"),
			 "best_sprint_id",
			 json_object_get(row, "best_sprint_id"));
	json_decref(row);
	return 0;
}

/* ---------------------------------------------------------------- */
/* Diffs                                                              */
/* ---------------------------------------------------------------- */

/* 's' with every byte that is not in valid UTF-8 as '?': a new string. */
static char *utf8_clean(const char *s, size_t len)
{
	char *out = xmalloc(len + 1);
	size_t i = 0, n, k;

	while (i < len) {
		unsigned char c = (unsigned char)s[i];

		n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3
			 : (c >> 3) == 30 ? 4 : 0;
		for (k = 1; n && k < n; k++)
			if (i + k >= len ||
			    ((unsigned char)s[i + k] & 0xC0) != 0x80)
				n = 0;
		if (n == 0 || c == 0) {
			out[i++] = '?';
			continue;
		}
		memcpy(out + i, s + i, n);
		i += n;
	}
	out[len] = '\0';
	return out;
}

int carry_diff(struct journal *j, json_t **out, const struct config *cfg,
	       const char *study, const char *sprint_id, struct err *err)
{
	struct transport *t = NULL;
	json_t *row = NULL;
	struct exec_result res;
	struct buf gd = BUF_INIT;
	char said[256], *text = NULL;
	int r = -1;

	*out = NULL;
	exec_result_init(&res, CARRY_DIFF_MAX);
	if (row_steal(j, &row,
		      "SELECT r.*, c.best_commit AS best, c.git_dir AS "
		      "repo_git_dir FROM code_runs r JOIN study_code c ON "
		      "c.study = r.study WHERE r.sprint_id = ? AND r.study = ?",
		      json_pack("[s,s]", sprint_id, study), err) < 0)
		goto out;
	if (!row) {
		err_set(err, ERR_NOT_FOUND,
			"no run '%s' of study '%s' with a checkout of its code",
			sprint_id, study);
		err_remedy(err, "`hpcloop ledger` lists the study's runs and "
				"their commits");
		goto out;
	}
	if (!json_is_string(json_object_get(row, "commit_sha"))) {
		err_set(err, ERR_PRECONDITION_FAILED,
			"run '%s' has no commit%s%s", sprint_id,
			json_is_string(json_object_get(row, "captured_at"))
			    ? ": "
			    : " yet: it is not recorded",
			json_is_string(json_object_get(row, "note"))
			    ? json_string_value(json_object_get(row, "note"))
			    : "");
		err_remedy(err, "wait for the run to finish and the loop to "
				"record it");
		goto out;
	}
	if (open_transport(&t, cfg,
			   json_string_value(json_object_get(
			       config_study(cfg, study), "cluster")),
			   err) < 0)
		goto out;
	{
		const char *diff[] = {
		    git_dir_arg(&gd, json_string_value(json_object_get(
					 row, "repo_git_dir"))),
		    "diff", "--no-color", "--no-ext-diff", "--no-textconv",
		    json_string_value(json_object_get(row, "best")),
		    json_string_value(json_object_get(row, "commit_sha")),
		    "--", NULL};

		if (git(t, &res, diff, err) < 0)
			goto out;
	}
	if (res.exit_code != 0) {
		err_set(err, ERR_REMOTE_COMMAND_FAILED, "git diff: %s",
			git_said(&res, said, sizeof(said)));
		goto out;
	}
	text = utf8_clean(buf_str(&res.out), strlen(buf_str(&res.out)));
	*out = json_pack("{s:s, s:O, s:O, s:O, s:s, s:b, s:i}", "sprint_id",
			 sprint_id, "best_commit", json_object_get(row, "best"),
			 "run_commit", json_object_get(row, "commit_sha"),
			 "started_from", json_object_get(row, "base_commit"),
			 "text", text, "truncated", res.out_truncated,
			 "max_bytes", CARRY_DIFF_MAX);
	r = 0;
out:
	transport_close(t);
	exec_result_release(&res);
	buf_release(&gd);
	json_decref(row);
	free(text);
	return r;
}
