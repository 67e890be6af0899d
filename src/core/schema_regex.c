/*
 * schema_regex.c: the validator's regular expressions ("pattern" and
 * the keys of "patternProperties"), through PCRE2 with ECMA-262
 * semantics as far as PCRE2 goes (see schema_internal.h).  Each pattern
 * is compiled once per validation and kept, compiled or known to be
 * bad, in a cache that the validation context owns.  This is the only
 * file that includes <pcre2.h>.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "schema_internal.h"
#include "xalloc.h"
#include "banned.h"

/* One pattern as compiled. */
struct schema_regex {
	char *src;		/* owned: the pattern's bytes, NUL added */
	size_t len;		/* bytes in 'src' */
	pcre2_code *code;	/* owned; NULL when the pattern is bad */
	pcre2_match_data *md;	/* owned; NULL with 'code' */
};

struct schema_regex_cache {
	struct schema_regex *regexes;	/* owned; every pattern seen */
	size_t nr;			/* entries used in 'regexes' */
	size_t alloc;			/* entries allocated in 'regexes' */
};

/* Compile the 'patlen' bytes at 'pat' into 're'. */
static void regex_compile(struct schema_regex *re, const char *pat,
			  size_t patlen)
{
	PCRE2_SIZE erroff;
	int errcode;

	re->src = xmalloc(patlen + 1);
	memcpy(re->src, pat, patlen);
	re->src[patlen] = '\0';
	re->len = patlen;
	/*
	 * ECMA-262 semantics as far as PCRE2 goes: '$' only at the very
	 * end, \uXXXX escapes, Unicode-aware classes.
	 */
	re->code = pcre2_compile((PCRE2_SPTR)pat, patlen,
				 PCRE2_UTF | PCRE2_UCP | PCRE2_DOLLAR_ENDONLY |
				 PCRE2_ALT_BSUX,
				 &errcode, &erroff, NULL);
	re->md = NULL;
	if (!re->code)
		return;
	re->md = pcre2_match_data_create_from_pattern(re->code, NULL);
	if (!re->md)
		schema_oom();
}

/* The entry of 'cache' for the pattern 'pat', compiled when new. */
static struct schema_regex *regex_get(struct schema_regex_cache *cache,
				      const char *pat, size_t patlen)
{
	struct schema_regex *re;
	size_t i;

	for (i = 0; i < cache->nr; i++) {
		re = &cache->regexes[i];
		if (re->len == patlen && !memcmp(re->src, pat, patlen))
			return re;
	}
	if (cache->nr == cache->alloc) {
		if (cache->alloc > SIZE_MAX / 2 / sizeof(*re))
			schema_oom();
		cache->alloc = cache->alloc ? cache->alloc * 2 : 8;
		cache->regexes = xrealloc(cache->regexes,
					  cache->alloc * sizeof(*re));
	}
	re = &cache->regexes[cache->nr++];
	regex_compile(re, pat, patlen);
	return re;
}

int schema_regex_search(struct schema_regex_cache **cache, const char *pat,
			size_t patlen, const char *subject, size_t len)
{
	struct schema_regex *re;
	int rc;

	if (!*cache)
		*cache = xcalloc(1, sizeof(**cache));
	re = regex_get(*cache, pat, patlen);
	if (!re->code)
		return -1;
	rc = pcre2_match(re->code, (PCRE2_SPTR)subject, len, 0, 0, re->md,
			 NULL);
	return rc >= 0;
}

void schema_regex_cache_free(struct schema_regex_cache *cache)
{
	size_t i;

	if (!cache)
		return;
	for (i = 0; i < cache->nr; i++) {
		free(cache->regexes[i].src);
		pcre2_match_data_free(cache->regexes[i].md);
		pcre2_code_free(cache->regexes[i].code);
	}
	free(cache->regexes);
	free(cache);
}
