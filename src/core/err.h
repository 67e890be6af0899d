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
#define ERR(name, exit_class, retry, remedy) ERR_CODE_##name,
#include "errors.def"
#undef ERR
	ERR__COUNT
};

/* Short names, so callers write ERR_NOT_FOUND rather than ERR_CODE_... */
#define ERR_SPEC_INVALID ERR_CODE_spec_invalid
#define ERR_CONFIG_INVALID ERR_CODE_config_invalid
#define ERR_NOT_FOUND ERR_CODE_not_found
#define ERR_CONFLICT ERR_CODE_conflict
#define ERR_PRECONDITION ERR_CODE_precondition_failed
#define ERR_SSH_UNREACHABLE ERR_CODE_ssh_unreachable
#define ERR_HOST_KEY ERR_CODE_host_key_mismatch
#define ERR_AUTH ERR_CODE_auth_failed
#define ERR_SCHED_UNAVAILABLE ERR_CODE_scheduler_unavailable
#define ERR_SCHED_REJECTED ERR_CODE_scheduler_rejected
#define ERR_SCHED_THROTTLED ERR_CODE_scheduler_throttled
#define ERR_REMOTE ERR_CODE_remote_command_failed
#define ERR_TRANSFER ERR_CODE_transfer_failed
#define ERR_OUTPUTS_MISSING ERR_CODE_outputs_missing
#define ERR_HTTP ERR_CODE_http_failed
#define ERR_TIMEOUT ERR_CODE_timeout
#define ERR_AGENT ERR_CODE_agent_failed
#define ERR_JOURNAL_CORRUPT ERR_CODE_journal_corrupt
#define ERR_INTERNAL ERR_CODE_internal
#define ERR_USAGE ERR_CODE_usage
#define ERR_UNKNOWN_PRIMITIVE ERR_CODE_unknown_primitive
#define ERR_JOURNAL_BUSY ERR_CODE_journal_busy
#define ERR_IO ERR_CODE_io_failed

#define ERR_MESSAGE_MAX 1024

struct err {
	enum err_code code;		/* ERR_NONE while no error is set */
	char message[ERR_MESSAGE_MAX];	/* lower case, no final full stop */
	json_t *details;		/* owned object, or NULL */
};

#define ERR_INIT { ERR_NONE, "", NULL }

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

/* Add 'key' to the details object; steals 'value'. */
void err_detail(struct err *e, const char *key, json_t *value);

/* The snake_case name of 'code' ("spec_invalid"); static storage. */
const char *err_name(enum err_code code);
/* The process exit code (1, 2 or 3) for 'code'. */
int err_exit_class(enum err_code code);
/* Whether retrying the same call may succeed. */
int err_retry_safe(enum err_code code);
/* One line saying what the caller should do; static storage. */
const char *err_remediation(enum err_code code);
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
