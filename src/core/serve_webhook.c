/*
 * serve_webhook.c: the job webhooks of `hpcloop serve` (see serve.h and
 * docs/sprints.md "Push to an orchestrator").
 *
 * Each is authenticated twice: the sprint's own token (Bearer; its
 * SHA-256 is in the sprint's row, compared with crypto_equal) and the
 * timestamped HMAC-SHA256 signature of the body under the orchestrator
 * secret (webhook_sig.h).  A signature is accepted once: it is kept in
 * webhook_signatures until it is out of the window anyway.  Heartbeats
 * and completions then go through heartbeat-ingest and complete by
 * dispatch_run, as any other call: nothing is implemented twice.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "crypto.h"
#include "dispatch.h"
#include "envelope.h"
#include "journal.h"
#include "serve.h"
#include "spec.h"
#include "sprint.h"
#include "webhook_sig.h"
#include "banned.h"

/* ---------------------------------------------------------------- */
/* Authentication                                                     */
/* ---------------------------------------------------------------- */

/* 1 when 'id' looks like a sprint id (sp- and 6 hex digits). */
static int sprint_id_ok(const char *id)
{
	size_t i;

	if (!id || strlen(id) != 9 || strncmp(id, "sp-", 3))
		return 0;
	for (i = 3; i < 9; i++)
		if (!strchr("0123456789abcdef", id[i]))
			return 0;
	return 1;
}

/* The sprint's token must be the bearer of 'req'. */
static int check_sprint_token(struct journal *j, const struct serve_req *req,
			      const char *sprint_id, struct err *err)
{
	const char *h = req->header(req->conn, "Authorization");
	char hash[SHA256_HEX_LEN + 1];
	const char *stored = NULL;
	json_t *row = NULL, *params;
	int ok;

	if (!h || strncasecmp(h, "Bearer ", 7) || !h[7])
		return err_set(err, ERR_UNAUTHORIZED,
			       "a webhook needs Authorization: Bearer with the "
			       "sprint's token");
	params = json_pack("[s]", sprint_id);
	if (journal_row(j, &row, "SELECT token_hash FROM sprints WHERE id = ?",
			params, err) < 0) {
		json_decref(params);
		return -1;
	}
	json_decref(params);
	crypto_sha256_hex(hash, h + 7, strlen(h + 7));
	stored = json_string_value(json_object_get(row, "token_hash"));
	ok = crypto_equal(hash, stored ? stored : "-") && stored;
	json_decref(row);
	if (!ok)
		return err_set(err, ERR_UNAUTHORIZED,
			       "the bearer token is not the token of sprint "
			       "'%s'", sprint_id);
	return 0;
}

/*
 * Accept the signature of 'req' once: -1 (unauthorized) when it was
 * seen inside the window.  Older ones are forgotten on the way.
 */
static int remember_signature(struct journal *j, const char *sig, time_t now,
			      struct err *err)
{
	json_t *params;
	int r;

	params = json_pack("[I]", (json_int_t)(now - 2 * WEBHOOK_SIG_WINDOW_S));
	r = journal_exec(j, NULL,
			 "DELETE FROM webhook_signatures WHERE seen_at < ?",
			 params, err);
	json_decref(params);
	if (r < 0)
		return -1;
	params = json_pack("[s, I]", sig, (json_int_t)now);
	r = journal_exec(j, NULL,
			 "INSERT OR IGNORE INTO webhook_signatures (signature, "
			 "seen_at) VALUES (?, ?)",
			 params, err);
	json_decref(params);
	if (r < 0)
		return -1;
	if (journal_changes(j) == 0)
		return err_set(err, ERR_UNAUTHORIZED,
			       "this webhook signature was used already (a "
			       "replay)");
	return 0;
}

static void forget_signature(struct journal *j, const char *sig)
{
	json_t *params = json_pack("[s]", sig);
	struct err err = ERR_INIT;

	journal_exec(j, NULL, "DELETE FROM webhook_signatures WHERE signature "
			      "= ?",
		     params, &err);
	json_decref(params);
	err_release(&err);
}

/* ---------------------------------------------------------------- */
/* Artifact upload                                                    */
/* ---------------------------------------------------------------- */

/*
 * 1 when 'name' of 'n' bytes may be a file name in the store: 1 to 200
 * bytes, no "/", no NUL, no control character, not starting with a dot
 * (so neither ".." nor a hidden file), and no ".." anywhere.
 */
static int artifact_name_ok(const char *name, size_t n)
{
	size_t i;

	if (!name || n == 0 || n > 200 || strlen(name) != n || name[0] == '.' ||
	    strstr(name, ".."))
		return 0;
	for (i = 0; i < n; i++)
		if (name[i] == '/' || name[i] == '\\' ||
		    (unsigned char)name[i] < 0x20 || name[i] == 0x7f)
			return 0;
	return 1;
}

/* Open (making it 0700 when missing) the directory 'name' in 'dirfd'. */
static int open_dir_at(int dirfd, const char *name)
{
	int fd;

	if (mkdirat(dirfd, name, 0700) < 0 && errno != EEXIST)
		return -1;
	fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
				     O_CLOEXEC);
	return fd;
}

/*
 * Write 'len' bytes of 'data' as <store>/<sprint_id>/<name>: through a
 * temporary file and a rename, never following a link.
 */
static int write_artifact(const char *store, const char *sprint_id,
			  const char *name, const char *data, size_t len,
			  struct err *err)
{
	char tmp[256];
	int top = -1, dir = -1, fd = -1, r = -1;
	size_t off = 0;
	ssize_t n;

	if (mkdir(store, 0700) < 0 && errno != EEXIST)
		goto io;
	top = open(store, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (top < 0 || (dir = open_dir_at(top, sprint_id)) < 0)
		goto io;
	snprintf(tmp, sizeof(tmp), ".upload-%ld-%s", (long)getpid(), name);
	fd = openat(dir, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW |
				      O_CLOEXEC, 0600);
	if (fd < 0)
		goto io;
	while (off < len) {
		n = write(fd, data + off, len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			goto io_unlink;
		off += (size_t)n;
	}
	if (fsync(fd) < 0 || close(fd) < 0) {
		fd = -1;
		goto io_unlink;
	}
	fd = -1;
	if (renameat(dir, tmp, dir, name) < 0)
		goto io_unlink;
	r = 0;
	goto out;
io_unlink:
	unlinkat(dir, tmp, 0);
io:
	err_set(err, ERR_IO_FAILED, "cannot write artifact '%s': %s", name,
		strerror(errno));
out:
	if (fd >= 0)
		close(fd);
	if (dir >= 0)
		close(dir);
	if (top >= 0)
		close(top);
	return r;
}

static void artifact(struct serve *s, struct serve_resp *out,
		     const struct serve_req *req, const char *sprint_id)
{
	size_t n = 0;
	const char *name = req->query(req->conn, "name", &n);
	char sha[SHA256_HEX_LEN + 1];
	struct err err = ERR_INIT;
	json_t *data, *env;

	if (!artifact_name_ok(name, n)) {
		err_set(&err, ERR_SPEC_INVALID,
			"the artifact name is refused: it must be a plain "
			"file name (no '/', '..', NUL or leading dot)");
		serve_fail(out, NULL, &err);
		err_release(&err);
		return;
	}
	if (write_artifact(s->artifact_dir, sprint_id, name, req->body,
			   req->body_len, &err) < 0) {
		serve_fail(out, NULL, &err);
		err_release(&err);
		return;
	}
	crypto_sha256_hex(sha, req->body, req->body_len);
	data = json_pack("{s:s, s:s, s:I, s:s}", "sprint_id", sprint_id,
			 "name", name, "size", (json_int_t)req->body_len,
			 "sha256", sha);
	env = envelope_success("serve", 0, data, NULL);
	json_decref(data);
	serve_envelope(out, env, 0);
}

/* ---------------------------------------------------------------- */
/* The webhooks                                                       */
/* ---------------------------------------------------------------- */

void serve_webhook(struct serve *s, struct serve_resp *out,
		   const struct serve_req *req, const char *which)
{
	const char *prim = !strcmp(which, "heartbeat") ? "heartbeat-ingest"
			 : !strcmp(which, "complete")  ? "complete"
						       : NULL;
	const char *sig = req->header(req->conn, "X-Hpcloop-Signature");
	struct dispatch_opts o = s->opts;
	struct err err = ERR_INIT;
	json_t *body = NULL, *spec = NULL, *env = NULL;
	const char *sprint_id;
	char key[65];
	int code;
	time_t now = time(NULL);

	o.journal = serve_journal(s);
	if (!s->secret) {
		err_set(&err, ERR_PRECONDITION_FAILED,
			"this server has no orchestrator secret, so it takes "
			"no webhooks");
		err_remedy(&err, "set orchestrator_secret in hpcloop.yaml (or "
			   "HPCLOOP_ORCHESTRATOR_SECRET) and restart the server");
		goto fail;
	}
	if (prim) {
		if (strlen(req->body) != req->body_len ||
		    spec_parse(&body, req->body, req->body_len, "the webhook "
			       "body", &err) < 0)
			goto fail_parse;
		sprint_id = json_string_value(json_object_get(body,
							       "sprint_id"));
	} else {
		sprint_id = req->query(req->conn, "sprint_id", NULL);
	}
	if (!sprint_id_ok(sprint_id)) {
		err_set(&err, ERR_SPEC_INVALID,
			"the webhook names no sprint_id (sp- and 6 hex digits)");
		goto fail;
	}
	if (!o.journal) {
		err_set(&err, ERR_UNAUTHORIZED, "no journal, so no sprint");
		goto fail;
	}
	webhook_sprint_key(key, s->secret, sprint_id);
	if (check_sprint_token(o.journal, req, sprint_id, &err) < 0 ||
	    webhook_sig_check(key,
			      req->header(req->conn, "X-Hpcloop-Timestamp"),
			      sig, req->body, req->body_len, now, &err) < 0 ||
	    remember_signature(o.journal, sig, now, &err) < 0)
		goto fail;
	if (!prim) {
		artifact(s, out, req, sprint_id);
		goto out;
	}
	if (!strcmp(which, "heartbeat"))
		spec = json_pack("{s:s, s:O, s:s}", "sprint_id", sprint_id,
				 "heartbeat", body, "source", "push");
	else
		spec = json_incref(body);
	code = dispatch_run(&env, &o, prim, spec, NULL);
	if (code >= 2)
		forget_signature(o.journal, sig);
	serve_envelope(out, env, code);
	goto out;
fail_parse:
	if (!err.code)
		err_set(&err, ERR_SPEC_INVALID, "the webhook body is not JSON");
fail:
	serve_fail(out, prim, &err);
out:
	json_decref(body);
	json_decref(spec);
	err_release(&err);
}
