/*
 * schema_regex.c: the validator's regular expressions ("pattern" and
 * the keys of "patternProperties"), through PCRE2 with ECMA-262
 * semantics as far as PCRE2 goes (see schema_internal.h).  Each pattern
 * is compiled once per validation and kept, compiled or known to be
 * bad, in a cache that the validation context owns; PCRE2 allocates
 * through xalloc.  This is the only file that includes <pcre2.h>.
 */
#include <stdlib.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "schema_internal.h"
#include "xalloc.h"
#include "banned.h"

/* One pattern as compiled. */
struct schema_regex {
	pcre2_code *code;	/* owned; NULL when the pattern is bad */
	pcre2_match_data *md;	/* owned; NULL with 'code' */
};

/*
 * The patterns of one validation, keyed by the address of their bytes
 * in the schema (which stay put while it runs), and the PCRE2 contexts
 * that make PCRE2 allocate through xalloc.
 */
struct schema_regex_cache {
	struct schema_map compiled;	/* pattern -> struct schema_regex */
	pcre2_general_context *general;	/* owned */
	pcre2_compile_context *compile;	/* owned */
	pcre2_match_context *match;	/* owned */
};

/*
 * PCRE2's allocator: xmalloc(), so that running out of memory inside
 * PCRE2 takes the same path as everywhere else and a compile error is
 * always the pattern's fault.
 */
static void *regex_malloc(PCRE2_SIZE n, void *data)
{
	(void)data;
	return xmalloc(n);
}

static void regex_free(void *p, void *data)
{
	(void)data;
	free(p);
}

/* A NEW, empty cache. */
static struct schema_regex_cache *cache_new(void)
{
	struct schema_regex_cache *cache = xcalloc(1, sizeof(*cache));

	cache->general = pcre2_general_context_create(regex_malloc,
						      regex_free, NULL);
	if (!cache->general)
		schema_oom();
	cache->compile = pcre2_compile_context_create(cache->general);
	cache->match = pcre2_match_context_create(cache->general);
	if (!cache->compile || !cache->match)
		schema_oom();
	return cache;
}

/* A NEW compiled form of the 'patlen' bytes at 'pat'. */
static struct schema_regex *regex_compile(struct schema_regex_cache *cache,
					  const char *pat, size_t patlen)
{
	struct schema_regex *re = xcalloc(1, sizeof(*re));
	PCRE2_SIZE erroff;
	int errcode;

	/*
	 * ECMA-262 semantics as far as PCRE2 goes: '$' only at the very
	 * end, \uXXXX escapes, Unicode-aware classes.
	 */
	re->code = pcre2_compile((PCRE2_SPTR)pat, patlen,
				 PCRE2_UTF | PCRE2_UCP | PCRE2_DOLLAR_ENDONLY |
				 PCRE2_ALT_BSUX,
				 &errcode, &erroff, cache->compile);
	if (!re->code)
		return re;
	re->md = pcre2_match_data_create_from_pattern(re->code,
						      cache->general);
	if (!re->md)
		schema_oom();
	return re;
}

/* Free the compiled pattern 'p' (a struct schema_regex *). */
static void regex_release(void *p)
{
	struct schema_regex *re = p;

	pcre2_match_data_free(re->md);
	pcre2_code_free(re->code);
	free(re);
}

int schema_regex_search(struct schema_regex_cache **cache, const char *pat,
			size_t patlen, const char *subject, size_t len)
{
	struct schema_regex *re;
	int rc;

	if (!*cache)
		*cache = cache_new();
	re = schema_map_get(&(*cache)->compiled, pat);
	if (!re) {
		re = regex_compile(*cache, pat, patlen);
		schema_map_put(&(*cache)->compiled, pat, re);
	}
	if (!re->code)
		return -1;
	rc = pcre2_match(re->code, (PCRE2_SPTR)subject, len, 0, 0, re->md,
			 (*cache)->match);
	return rc >= 0;
}

void schema_regex_cache_free(struct schema_regex_cache *cache)
{
	if (!cache)
		return;
	schema_map_release(&cache->compiled, regex_release);
	pcre2_match_context_free(cache->match);
	pcre2_compile_context_free(cache->compile);
	pcre2_general_context_free(cache->general);
	free(cache);
}
