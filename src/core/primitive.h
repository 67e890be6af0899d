/*
 * primitive.h: the registry entry every primitive defines, and the
 * context the dispatcher hands to its handler.
 *
 * One file per primitive under src/primitives/ defines one
 * `const struct primitive prim_<name>`; src/primitives/primitives.def
 * lists them, and src/primitives/registry.c expands it once into
 * declarations and once into the table.  src/core knows the shape of an
 * entry and of a table, never the list: main.c hands the table down as
 * data.  `list`, `help`, the docs and the HTTP catalog are all generated
 * from it.
 */
#ifndef HPCLOOP_PRIMITIVE_H
#define HPCLOOP_PRIMITIVE_H

#include <jansson.h>

#include "err.h"
#include "idem.h"

struct journal;
struct config;

/* What the dispatcher sets up before the handler runs (git's RUN_SETUP). */
enum primitive_flags {
	PRIM_MUTATES = 1 << 0,	     /* changes the journal or files */
	PRIM_IDEMPOTENT = 1 << 1,    /* repeating the call is harmless */
	PRIM_NEEDS_JOURNAL = 1 << 2, /* open (create, migrate) the journal */
	PRIM_NEEDS_CLUSTER = 1 << 3, /* load and validate the config */
	PRIM_HTTP = 1 << 4,	     /* served over the HTTP API */
	PRIM_KEYED = 1 << 5,	     /* replayed by idempotency key (§4) */
	PRIM_NEEDS_CONFIG = 1 << 6,  /* the config must load */
	PRIM_OWN_TX = 1 << 7,	     /* the handler opens and commits its
					own short transactions, so that no
					lock is held across remote I/O */
	PRIM_READ_SAFE = 1 << 8,     /* read-only clients may call it (MCP
					without --allow-mutations,
					unauthenticated pages); it may
					record what it observed, but never
					creates a journal */
	PRIM_CREATES = 1 << 9,	     /* may create the journal when none
					exists (init, and calls that make
					something new); every other call
					answers not_found instead */
};

/* The run-time state of one call; the dispatcher owns every field. */
struct ctx {
	const struct primitive *prim;	/* the entry being run */
	const struct registry *registry; /* the table it came from */
	const char *config_path;	/* resolved config file path */
	const char *journal_path;	/* resolved journal path */
	struct journal *journal;	/* open when PRIM_NEEDS_JOURNAL */
	struct config *config;		/* loaded when PRIM_NEEDS_CONFIG */
	json_t *partial_errors;		/* array; handlers append to it */
	struct idem_key key;		/* PRIM_KEYED: this call's key */
	int replayed;			/* the handler found nothing to do */
	int in_server;			/* running inside `hpcloop serve` */
};

typedef int (*primitive_fn)(struct ctx *ctx, const json_t *spec,
			    json_t **data, struct err *err);

struct primitive {
	const char *name;	  /* as on the command line: "submit-flow" */
	const char *summary;	  /* one line, no final full stop */
	const char *description;  /* a paragraph for the doc page */
	const char *example;	  /* a spec that works after `init` */
	unsigned flags;		  /* enum primitive_flags */
	const enum err_code *errors; /* codes it may return, ERR_NONE-ended */
	primitive_fn handler;
};

/* A table of primitives, sorted by name. */
struct registry {
	const struct primitive *const *entries; /* borrowed, static */
	int count;
};

/* The entry of 'r' called 'name', or NULL; borrowed from 'r'. */
const struct primitive *registry_find(const struct registry *r,
				      const char *name);

/*
 * Whether 'p' may return 'code': it lists it, or the code's scope in
 * errors.def covers every primitive with p's flags.
 */
int primitive_may_return(const struct primitive *p, enum err_code code);

/*
 * Add {"code": 'code', "detail": 'detail', "cluster": 'cluster'} to
 * ctx->partial_errors, for reads that succeeded only in part (DESIGN
 * §1); 'cluster' names the cluster that failed, or is NULL (then the
 * entry has no "cluster", as schemas/envelope.json allows).
 */
void ctx_partial_error(struct ctx *ctx, enum err_code code,
		       const char *detail, const char *cluster);

#endif
