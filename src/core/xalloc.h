/*
 * xalloc.h: allocation wrappers that never return NULL.
 *
 * When an allocation fails, the process prints the pre-built "internal"
 * envelope (see envelope.h) and exits 3: running out of memory is never
 * a silent NULL that a caller forgets to check.  Tests can install a
 * failing hook with xalloc_set_fail_hook() to exercise that path.
 */
#ifndef HPCLOOP_XALLOC_H
#define HPCLOOP_XALLOC_H

#include <stddef.h>

void *xmalloc(size_t n);
void *xcalloc(size_t nmemb, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);

/*
 * Install 'hook': it is called before every allocation and, when it
 * returns non-zero, the allocation is treated as failed.  NULL removes it.
 */
void xalloc_set_fail_hook(int (*hook)(void));

/*
 * Install 'handler', called (once) when an allocation fails; it must not
 * return.  The default handler takes envelope_fatal().
 */
void xalloc_set_oom_handler(void (*handler)(void));

/*
 * The allocator functions that jansson is given (json_set_alloc_funcs).
 * Like xmalloc they never return NULL: a failure takes the
 * out-of-memory path, so no half-built JSON is ever printed.
 */
void *xalloc_json_malloc(size_t n);
void xalloc_json_free(void *p);

#endif
