/*
 * dispatch.h: running one primitive, in the fixed order of STYLE.md:
 * look up the name -> validate the spec -> open resources by flags ->
 * check the idempotency key -> call the handler -> check data against
 * the output schema (when HPCLOOP_CHECK_OUTPUT is set, as in the test
 * suite) -> write the journal -> build the envelope.
 *
 * main.c and the HTTP server both call dispatch_run; neither exits
 * inside it.
 */
#ifndef HPCLOOP_DISPATCH_H
#define HPCLOOP_DISPATCH_H

#include <jansson.h>

#include "err.h"

struct journal;
struct registry;

struct dispatch_opts {
	const struct registry *registry; /* the primitives (borrowed) */
	const char *config_path;  /* --config, or NULL: $HPCLOOP_CONFIG,
				     then ./hpcloop.yaml */
	const char *journal_path; /* --journal, or NULL: $HPCLOOP_JOURNAL,
				     then .hpcloop/journal.db beside the
				     config */
	int in_server;		  /* called by `hpcloop serve` */
	struct journal *journal;  /* borrowed, or NULL: an open journal
				     at journal_path to use instead of
				     opening one (the server's connection
				     of the calling thread) */
};

/*
 * Run primitive 'name' of 'opts->registry' with 'spec' (borrowed, may be NULL when
 * 'spec_error' is set: the spec could not be read, and the failure
 * envelope is built from it).  A new envelope in '*env_out'; returns the
 * exit code (0, 1, 2 or 3).
 */
int dispatch_run(json_t **env_out, const struct dispatch_opts *opts,
		 const char *name, const json_t *spec,
		 const struct err *spec_error);

/*
 * The config and journal paths 'opts' resolves to, as new strings.
 */
void dispatch_paths(char **config_out, char **journal_out,
		    const struct dispatch_opts *opts);

#endif
