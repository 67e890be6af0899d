/*
 * init: write a working hpcloop.yaml for the local cluster (when there
 * is none) and create the journal.  Running it again changes nothing and
 * says so with "idempotent": true.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "journal.h"
#include "primitive.h"
#include "banned.h"

/*
 * Create 'path' with 'text' unless it exists.  '*created' says whether
 * this call wrote it.  O_EXCL makes two racing inits write it once.
 */
static int write_new_file(int *created, const char *path, const char *text,
			  struct err *err)
{
	size_t len = strlen(text);
	ssize_t n;
	int fd;

	*created = 0;
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd < 0 && errno == EEXIST)
		return 0;
	if (fd < 0)
		return err_set(err, ERR_IO_FAILED, "cannot create '%s': %s", path,
			       strerror(errno));
	n = write(fd, text, len);
	if (n < 0 || (size_t)n != len || close(fd) < 0) {
		unlink(path);
		return err_set(err, ERR_IO_FAILED, "cannot write '%s'", path);
	}
	*created = 1;
	return 0;
}

static int init_run(struct ctx *ctx, const json_t *spec, json_t **data,
		    struct err *err)
{
	struct config cfg = CONFIG_INIT;
	char *text = NULL;
	int config_created = 0, journal_initialized = 0, found, r = -1;

	(void)spec;
	text = config_default_text();
	if (write_new_file(&config_created, ctx->config_path, text, err) < 0)
		goto out;
	/* Whatever is there now must load: init leaves a working setup. */
	if (config_load(&cfg, ctx->config_path, err) < 0)
		goto out;
	if (journal_has_event(ctx->journal, &found, "journal.init", err) < 0)
		goto out;
	if (!found) {
		json_t *ev = json_pack("{s:s}", "config", ctx->config_path);

		r = journal_event(ctx->journal, NULL, "journal.init", NULL,
				  ev, err);
		json_decref(ev);
		if (r < 0)
			goto out;
		journal_initialized = 1;
	}
	ctx->replayed = !config_created && !journal_initialized;
	*data = json_pack("{s:s, s:s, s:b, s:b, s:i, s:s}", "config_path",
			  ctx->config_path, "journal_path", ctx->journal_path,
			  "config_created", config_created,
			  "journal_initialized", journal_initialized,
			  "schema_version", JOURNAL_SCHEMA_VERSION, "message",
			  ctx->replayed ? "already initialized; nothing changed"
					: "initialized");
	r = 0;
out:
	free(text);
	config_release(&cfg);
	return r;
}

static const enum err_code init_errors[] = { ERR_CONFIG_INVALID, ERR_IO_FAILED,
					     ERR_NONE };

const struct primitive prim_init = {
	.name = "init",
	.summary = "Write a working hpcloop.yaml for the local cluster and "
		   "create the journal",
	.description = "Writes the config (at --config, $HPCLOOP_CONFIG or "
		       "./hpcloop.yaml) only when no file is there, then "
		       "checks that the file present loads, and creates the "
		       "journal. A second run changes nothing and answers "
		       "with \"idempotent\": true.",
	.example = "{}",
	.flags = PRIM_MUTATES | PRIM_CREATES | PRIM_IDEMPOTENT | PRIM_NEEDS_JOURNAL,
	.errors = init_errors,
	.handler = init_run,
};
