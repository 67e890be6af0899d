/*
 * schema_uri.c: just enough of RFC 3986 to resolve "$id" and "$ref"
 * against a base URI, for the validator (see schema_internal.h).  A URI
 * reference is split into its five parts (appendix B), merged with the
 * base (5.2.2) and its "." and ".." segments removed (5.2.4).  Nothing
 * is fetched and nothing is normalised beyond that: two URIs name the
 * same schema when their strings are equal.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "schema_internal.h"
#include "xalloc.h"
#include "banned.h"

/*
 * A part of a parsed URI: a span of the parsed string; 'set' tells an
 * empty part from a missing one ("x?" has an empty query, "x" none).
 */
struct uri_part {
	const char *p;	/* borrowed: the first byte, in the parsed string */
	size_t n;	/* bytes in the part */
	int set;	/* whether the part is present */
};

struct uri {
	struct uri_part scheme, auth, path, query, frag;
};

static void uri_part_set(struct uri_part *part, const char *p, size_t n)
{
	part->p = p;
	part->n = n;
	part->set = 1;
}

/*
 * Split the URI reference 's' into the parts of 'u' (RFC 3986 B), which
 * point into 's'.
 */
static void uri_parse(struct uri *u, const char *s)
{
	const char *q;

	memset(u, 0, sizeof(*u));
	if (isalpha((unsigned char)*s)) {
		q = s + 1;
		while (isalnum((unsigned char)*q) || *q == '+' || *q == '-' ||
		       *q == '.')
			q++;
		if (*q == ':') {
			uri_part_set(&u->scheme, s, (size_t)(q - s));
			s = q + 1;
		}
	}
	if (s[0] == '/' && s[1] == '/') {
		s += 2;
		q = s + strcspn(s, "/?#");
		uri_part_set(&u->auth, s, (size_t)(q - s));
		s = q;
	}
	q = s + strcspn(s, "?#");
	uri_part_set(&u->path, s, (size_t)(q - s));
	s = q;
	if (*s == '?') {
		s++;
		q = s + strcspn(s, "#");
		uri_part_set(&u->query, s, (size_t)(q - s));
		s = q;
	}
	if (*s == '#') {
		s++;
		uri_part_set(&u->frag, s, strlen(s));
	}
}

/* Drop the last segment (and the '/' before it) from 'out'. */
static void drop_last_segment(struct buf *out)
{
	const char *s = buf_str(out);
	const char *slash = memrchr(s, '/', out->len);

	buf_truncate(out, slash ? (size_t)(slash - s) : 0);
}

/*
 * Append the path 'src' ('n' bytes) to 'out' with "." and ".." segments
 * removed (RFC 3986 5.2.4).
 */
static void remove_dots(struct buf *out, const char *src, size_t n)
{
	char *in = xmalloc(n + 1);
	size_t i = 0;

	memcpy(in, src, n);
	in[n] = '\0';
	while (i < n) {
		const char *s = in + i;
		size_t left = n - i;

		if (left >= 3 && !memcmp(s, "../", 3)) {
			i += 3;
		} else if (left >= 2 && !memcmp(s, "./", 2)) {
			i += 2;
		} else if (left >= 3 && !memcmp(s, "/./", 3)) {
			i += 2;
		} else if (left == 2 && !memcmp(s, "/.", 2)) {
			i += 1;
			in[i] = '/';
		} else if (left >= 4 && !memcmp(s, "/../", 4)) {
			i += 3;
			drop_last_segment(out);
		} else if (left == 3 && !memcmp(s, "/..", 3)) {
			i += 2;
			in[i] = '/';
			drop_last_segment(out);
		} else if ((left == 1 && s[0] == '.') ||
			   (left == 2 && !memcmp(s, "..", 2))) {
			i = n;
		} else {
			size_t j = s[0] == '/' ? 1 : 0;

			while (j < left && s[j] != '/')
				j++;
			buf_add(out, s, j);
			i += j;
		}
	}
	free(in);
}

/*
 * Append to 'path' the path of the reference 'r' merged with that of
 * the base 'b' (RFC 3986 5.2.3), dots removed.
 */
static void merge_paths(struct buf *path, const struct uri *r,
			const struct uri *b)
{
	struct buf merged = BUF_INIT;

	if (r->path.p[0] != '/') {
		const char *slash = memrchr(b->path.p, '/', b->path.n);

		if (b->auth.set && !b->path.n)
			buf_add(&merged, "/", 1);
		else if (slash)
			buf_add(&merged, b->path.p,
				(size_t)(slash - b->path.p) + 1);
	}
	buf_add(&merged, r->path.p, r->path.n);
	remove_dots(path, buf_str(&merged), merged.len);
	buf_release(&merged);
}

char *schema_uri_resolve(const char *ref, const char *base)
{
	struct uri r, b;
	const struct uri_part *scheme, *auth, *query;
	struct buf path = BUF_INIT, out = BUF_INIT;

	uri_parse(&r, ref);
	uri_parse(&b, base);
	if (r.scheme.set) {
		scheme = &r.scheme;
		auth = &r.auth;
		query = &r.query;
		remove_dots(&path, r.path.p, r.path.n);
	} else if (r.auth.set) {
		scheme = &b.scheme;
		auth = &r.auth;
		query = &r.query;
		remove_dots(&path, r.path.p, r.path.n);
	} else if (!r.path.n) {
		scheme = &b.scheme;
		auth = &b.auth;
		query = r.query.set ? &r.query : &b.query;
		buf_add(&path, b.path.p, b.path.n);
	} else {
		scheme = &b.scheme;
		auth = &b.auth;
		query = &r.query;
		merge_paths(&path, &r, &b);
	}

	if (scheme->set) {
		buf_add(&out, scheme->p, scheme->n);
		buf_add(&out, ":", 1);
	}
	if (auth->set) {
		buf_add(&out, "//", 2);
		buf_add(&out, auth->p, auth->n);
	}
	buf_add(&out, buf_str(&path), path.len);
	if (query->set) {
		buf_add(&out, "?", 1);
		buf_add(&out, query->p, query->n);
	}
	if (r.frag.set) {
		buf_add(&out, "#", 1);
		buf_add(&out, r.frag.p, r.frag.n);
	}
	buf_release(&path);
	return buf_detach(&out, NULL);
}

void schema_uri_strip_empty_fragment(char *uri)
{
	size_t n = strlen(uri);

	if (n && uri[n - 1] == '#')
		uri[n - 1] = '\0';
}
