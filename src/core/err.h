/*
 * err.h: the error value every fallible hpcloop function fills in.
 *
 * A function that fails records an error code from errors.def and a
 * message with err_set() and returns -1, so the idiom is
 *
 *	if (thing_do(x, err) < 0)
 *		return -1;			(pass it up unchanged)
 *	return err_set(err, ERR_NOT_FOUND, "no study '%s'", name);
 *
 * Messages start in lower case, have no final full stop, say what failed
 * first, and never contain a secret.
 */
#ifndef HPCLOOP_ERR_H
#define HPCLOOP_ERR_H

#include <jansson.h>

enum err_code {
	ERR_NONE = 0,
#define ERR(sym, name, exit_class, retry, scope, remedy) ERR_##sym,
#include "errors.def"
#undef ERR
	ERR__COUNT
};

/* Who may return a code without listing it (the scope column). */
enum err_scope {
	ERR_SCOPE_OWN,	   /* only primitives that list it */
	ERR_SCOPE_ANY,	   /* every primitive */
	ERR_SCOPE_JOURNAL, /* every primitive that opens the journal */
	ERR_SCOPE_CONFIG,  /* every primitive that loads the config */
};

#define ERR_REMEDY_MAX 512

#define ERR_MESSAGE_MAX 1024

struct err {
	enum err_code code;		/* ERR_NONE while no error is set */
	char message[ERR_MESSAGE_MAX];	/* lower case, no final full stop */
	json_t *details;		/* owned object, or NULL */
	char remedy[ERR_REMEDY_MAX];	/* this case's remediation, or "" for
					   the code's own (err_remedy) */
};

#define ERR_INIT { ERR_NONE, "", NULL, "" }

void err_init(struct err *e);
/* Drop the error and its details; 'e' may be NULL. */
void err_release(struct err *e);
/* Forget a handled error (libgit2's giterr_clear). */
void err_clear(struct err *e);

/*
 * Record 'code' and a printf-style message in 'e' (which may be NULL)
 * and return -1.  An earlier error in 'e' is replaced.
 */
int err_set(struct err *e, enum err_code code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/*
 * Give the error in 'e' a remediation for the case at hand (naming the
 * real primitive, key or command), replacing the code's generic one in
 * the envelope.  Set it after err_set(), which clears it.  Returns -1.
 */
int err_remedy(struct err *e, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Add 'key' to the details object; steals 'value'. */
void err_detail(struct err *e, const char *key, json_t *value);

/* The snake_case name of 'code' ("spec_invalid"); static storage. */
const char *err_name(enum err_code code);
/* The process exit code (1, 2 or 3) for 'code'. */
int err_exit_class(enum err_code code);
/* Whether retrying the same call may succeed. */
int err_retry_safe(enum err_code code);
/*
 * One line saying what the caller should do, as errors.def gives it (it
 * may name {primitive}); static storage.
 */
const char *err_remediation(enum err_code code);
/* Who may return 'code' without listing it. */
enum err_scope err_scope(enum err_code code);
/* The code named 'name', or ERR_NONE. */
enum err_code err_from_name(const char *name);

/*
 * BUG() records a programmer mistake with file:line and takes the fatal
 * path: the "internal" envelope, exit 3.
 */
#define BUG(...) err_bug(__FILE__, __LINE__, __VA_ARGS__)
void err_bug(const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4), noreturn));

#endif
