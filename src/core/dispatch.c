/*
 * dispatch.c: the one path every primitive call takes (see dispatch.h).
 */
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "idem.h"
#include "dispatch.h"
#include "envelope.h"
#include "journal.h"
#include "primitive.h"
#include "spec.h"
#include "xalloc.h"
#include "banned.h"

void dispatch_paths(char **config_out, char **journal_out,
		    const struct dispatch_opts *opts)
{
	const char *cfg = opts->config_path;
	const char *jnl = opts->journal_path;
	const char *slash;

	if (!cfg || !*cfg)
		cfg = getenv("HPCLOOP_CONFIG");
	if (!cfg || !*cfg)
		cfg = "hpcloop.yaml";
	if (!jnl || !*jnl)
		jnl = getenv("HPCLOOP_JOURNAL");
	*config_out = xstrdup(cfg);
	if (jnl && *jnl) {
		*journal_out = xstrdup(jnl);
		return;
	}
	/* Beside the config: <dir of config>/.hpcloop/journal.db */
	slash = strrchr(cfg, '/');
	if (!slash) {
		*journal_out = xstrdup(".hpcloop/journal.db");
	} else {
		size_t n = (size_t)(slash - cfg) + 1;
		size_t len = n + sizeof(".hpcloop/journal.db");

		*journal_out = xmalloc(len);
		memcpy(*journal_out, cfg, n);
		memcpy(*journal_out + n, ".hpcloop/journal.db",
		       sizeof(".hpcloop/journal.db"));
	}
}

/* Whether to check each result against its output schema. */
static int check_output(void)
{
	const char *v = getenv("HPCLOOP_CHECK_OUTPUT");

	return v && *v && strcmp(v, "0");
}

/*
 * Whether a call of 'p' may create the journal: only one that makes
 * something new (PRIM_CREATES).  Every other call answers not_found, so
 * that running it in an empty directory leaves the directory empty.
 */
static unsigned journal_flags(const struct primitive *p)
{
	return (p->flags & PRIM_CREATES) ? JOURNAL_CREATE : 0;
}

/*
 * Run the handler with the resources its flags ask for (STYLE.md:
 * config, journal, transaction, idempotency key, handler, output check,
 * the key's record).  A keyed call in the dispatcher's transaction is
 * looked up and stored here; a keyed call that owns its transactions
 * gets its key in ctx->key and uses idem.h itself.
 */
static int run(struct ctx *ctx, struct journal *borrowed,
	       const json_t *spec, json_t **data, struct err *err)
{
	const struct primitive *p = ctx->prim;
	int own_tx = (p->flags & PRIM_OWN_TX) != 0, found;

	*data = NULL;
	if ((p->flags & PRIM_KEYED) && !(p->flags & PRIM_NEEDS_JOURNAL))
		BUG("keyed primitive '%s' without journal", p->name);
	if (p->flags & PRIM_NEEDS_CONFIG) {
		ctx->config = xcalloc(1, sizeof(*ctx->config));
		if (config_load(ctx->config, ctx->config_path, err) < 0)
			return -1;
	}
	if (p->flags & PRIM_NEEDS_JOURNAL) {
		if (borrowed)
			ctx->journal = borrowed;
		else if (journal_open(&ctx->journal, ctx->journal_path,
				      journal_flags(p), err) < 0)
			return -1;
		if ((p->flags & PRIM_MUTATES) && !own_tx &&
		    journal_begin(ctx->journal, err) < 0)
			return -1;
	}
	if (p->flags & PRIM_KEYED) {
		idem_key_of(&ctx->key, spec);
		if (!own_tx) {
			found = idem_lookup(ctx->journal, data, p->name,
					    &ctx->key, err);
			if (found < 0)
				return -1;
			if (found) {
				ctx->replayed = 1;
				return 0;
			}
		}
	}
	if (p->handler(ctx, spec, data, err) < 0) {
		json_decref(*data);
		*data = NULL;
		return -1;
	}
	if (!*data)
		BUG("primitive '%s' succeeded without data", p->name);
	/*
	 * The output check is for test runs (HPCLOOP_CHECK_OUTPUT=1, as the
	 * test suite sets): it costs a schema parse on every call, and t9
	 * validates every envelope the suite produced anyway.
	 */
	if (check_output() &&
	    spec_validate(p->name, "output", *data, ERR_INTERNAL, err) < 0)
		return -1;
	if ((p->flags & PRIM_KEYED) && !own_tx && !ctx->replayed &&
	    idem_store(ctx->journal, p->name, &ctx->key, NULL, *data, err) < 0)
		return -1;
	return 0;
}

int dispatch_run(json_t **env_out, const struct dispatch_opts *opts,
		 const char *name, const json_t *spec,
		 const struct err *spec_error)
{
	struct ctx ctx;
	struct err err = ERR_INIT;
	char *config_path = NULL, *journal_path = NULL;
	json_t *data = NULL;
	const char *pname = NULL;
	int code;

	memset(&ctx, 0, sizeof(ctx));
	ctx.registry = opts->registry;
	ctx.prim = registry_find(opts->registry, name);
	ctx.in_server = opts->in_server;
	if (!ctx.prim) {
		err_set(&err, ERR_UNKNOWN_PRIMITIVE, "unknown primitive '%s'",
			name);
		goto fail;
	}
	pname = ctx.prim->name;
	envelope_set_primitive(pname);
	if (spec_error) {
		err_set(&err, spec_error->code, "%s", spec_error->message);
		if (spec_error->remedy[0])
			err_remedy(&err, "%s", spec_error->remedy);
		if (spec_error->details)
			err.details = json_deep_copy(spec_error->details);
		goto fail;
	}
	if (spec_validate(pname, "input", spec, ERR_SPEC_INVALID, &err) < 0)
		goto fail;
	dispatch_paths(&config_path, &journal_path, opts);
	ctx.config_path = config_path;
	ctx.journal_path = journal_path;
	if (run(&ctx, opts->journal, spec, &data, &err) < 0)
		goto fail;
	if (ctx.journal && journal_in_transaction(ctx.journal) &&
	    journal_commit(ctx.journal, &err) < 0)
		goto fail;
	*env_out = envelope_success(pname, ctx.replayed, data,
				    ctx.partial_errors);
	code = 0;
	goto out;
fail:
	if (ctx.journal)
		journal_rollback(ctx.journal);
	*env_out = envelope_failure(pname, &err);
	code = err_exit_class(err.code == ERR_NONE ? ERR_INTERNAL : err.code);
out:
	if (ctx.journal != opts->journal)
		journal_close(ctx.journal);
	if (ctx.config) {
		config_release(ctx.config);
		free(ctx.config);
	}
	json_decref(ctx.partial_errors);
	json_decref(data);
	err_release(&err);
	free(config_path);
	free(journal_path);
	return code;
}
