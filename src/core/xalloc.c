/*
 * xalloc.c: checked allocation.  Every failure funnels into one
 * out-of-memory handler so that the CLI still prints its one line of JSON.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "envelope.h"
#include "xalloc.h"
#include "banned.h"

static int (*fail_hook)(void);

/* Until envelope_install_oom() runs: the same fatal envelope. */
static void default_oom(void)
{
	envelope_fatal(ERR_INTERNAL, "out of memory");
}

static void (*oom_handler)(void) = default_oom;

void xalloc_set_fail_hook(int (*hook)(void))
{
	fail_hook = hook;
}

void xalloc_set_oom_handler(void (*handler)(void))
{
	oom_handler = handler ? handler : default_oom;
}

static int should_fail(void)
{
	return fail_hook && fail_hook();
}

static void *checked(void *p)
{
	if (!p) {
		oom_handler();
		abort(); /* the handler must not return */
	}
	return p;
}

void *xmalloc(size_t n)
{
	if (should_fail())
		return checked(NULL);
	return checked(malloc(n ? n : 1));
}

void *xcalloc(size_t nmemb, size_t size)
{
	if (should_fail())
		return checked(NULL);
	return checked(calloc(nmemb ? nmemb : 1, size ? size : 1));
}

void *xrealloc(void *p, size_t n)
{
	if (should_fail())
		return checked(NULL);
	return checked(realloc(p, n ? n : 1));
}

char *xstrdup(const char *s)
{
	size_t n = strlen(s);
	char *r = xmalloc(n + 1);

	memcpy(r, s, n + 1);
	return r;
}

char *xstrndup(const char *s, size_t n)
{
	size_t len = strnlen(s, n);
	char *r = xmalloc(len + 1);

	memcpy(r, s, len);
	r[len] = '\0';
	return r;
}

void *xalloc_json_malloc(size_t n)
{
	/*
	 * jansson could unwind a NULL, but a half-built envelope must never
	 * reach stdout, so its allocations fail the same way as ours.
	 */
	if (should_fail())
		return checked(NULL);
	return checked(malloc(n ? n : 1));
}

void xalloc_json_free(void *p)
{
	free(p);
}
