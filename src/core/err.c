/*
 * err.c: the error tables expanded from errors.def, and the helpers that
 * fill a struct err.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "envelope.h"
#include "err.h"
#include "banned.h"

struct err_info {
	const char *name;
	int exit_class;
	int retry_safe;
	enum err_scope scope;
	const char *remediation;
};

static const struct err_info err_table[ERR__COUNT] = {
	[ERR_NONE] = { "none", 0, 0, ERR_SCOPE_OWN, "" },
#define ERR(sym, n, x, r, scope, rem) \
	[ERR_##sym] = { #n, x, r, ERR_SCOPE_##scope, rem },
#include "errors.def"
#undef ERR
};

void err_init(struct err *e)
{
	e->code = ERR_NONE;
	e->message[0] = '\0';
	e->details = NULL;
	e->remedy[0] = '\0';
}

void err_release(struct err *e)
{
	if (!e)
		return;
	json_decref(e->details);
	err_init(e);
}

void err_clear(struct err *e)
{
	err_release(e);
}

int err_set(struct err *e, enum err_code code, const char *fmt, ...)
{
	va_list ap;

	if (!e)
		return -1;
	json_decref(e->details);
	e->details = NULL;
	e->remedy[0] = '\0';
	e->code = code;
	va_start(ap, fmt);
	vsnprintf(e->message, sizeof(e->message), fmt, ap);
	va_end(ap);
	return -1;
}

int err_remedy(struct err *e, const char *fmt, ...)
{
	va_list ap;

	if (!e)
		return -1;
	va_start(ap, fmt);
	vsnprintf(e->remedy, sizeof(e->remedy), fmt, ap);
	va_end(ap);
	return -1;
}

void err_detail(struct err *e, const char *key, json_t *value)
{
	if (!e || !value) {
		json_decref(value);
		return;
	}
	if (!e->details)
		e->details = json_object();
	if (e->details)
		json_object_set_new(e->details, key, value);
	else
		json_decref(value);
}

static const struct err_info *info(enum err_code code)
{
	if ((int)code < 0 || code >= ERR__COUNT)
		return &err_table[ERR_INTERNAL];
	return &err_table[code];
}

const char *err_name(enum err_code code)
{
	return info(code)->name;
}

int err_exit_class(enum err_code code)
{
	return info(code)->exit_class;
}

int err_retry_safe(enum err_code code)
{
	return info(code)->retry_safe;
}

const char *err_remediation(enum err_code code)
{
	return info(code)->remediation;
}

enum err_scope err_scope(enum err_code code)
{
	return info(code)->scope;
}

enum err_code err_from_name(const char *name)
{
	int i;

	for (i = 1; i < ERR__COUNT; i++)
		if (!strcmp(err_table[i].name, name))
			return (enum err_code)i;
	return ERR_NONE;
}

void err_bug(const char *file, int line, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fprintf(stderr, "hpcloop: BUG: %s:%d: %s\n", file, line, msg);
	envelope_fatal(ERR_INTERNAL, "internal error (BUG); see stderr");
}
