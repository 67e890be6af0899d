/*
 * shquote.c: POSIX single-quote escaping of words and argument vectors
 * into one shell command line (see shquote.h).
 */
#include <string.h>

#include "shquote.h"
#include "banned.h"

int shquote_word(struct buf *out, const char *word, size_t len,
		 struct err *err)
{
	const char *p = word, *end = word + len, *q;

	if (len && memchr(word, '\0', len))
		return err_set(err, ERR_INTERNAL,
			       "a command word holds a NUL byte, which no "
			       "shell can pass");
	if (buf_add(out, "'", 1) < 0)
		goto too_long;
	while (p < end) {
		q = memchr(p, '\'', (size_t)(end - p));
		if (!q) {
			if (buf_add(out, p, (size_t)(end - p)) < 0)
				goto too_long;
			break;
		}
		/* Close the quote, add an escaped one, and reopen. */
		if (buf_add(out, p, (size_t)(q - p)) < 0 ||
		    buf_add(out, "'\\''", 4) < 0)
			goto too_long;
		p = q + 1;
	}
	if (buf_add(out, "'", 1) < 0)
		goto too_long;
	return 0;
too_long:
	return err_set(err, ERR_INTERNAL,
		       "a command line longer than %zu bytes", out->max);
}

int shquote_argv(struct buf *out, const char *const *argv, struct err *err)
{
	size_t i;

	for (i = 0; argv[i]; i++) {
		if (i && buf_add(out, " ", 1) < 0)
			return err_set(err, ERR_INTERNAL,
				       "a command line longer than %zu bytes",
				       out->max);
		if (shquote_word(out, argv[i], strlen(argv[i]), err) < 0)
			return -1;
	}
	return 0;
}

/* Whether 'c' means nothing to any POSIX shell, anywhere in a word. */
static int is_plain(unsigned char c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9'))
		return 1;
	return c && strchr("%+,-./:=@_", c) != NULL;
}

void shquote_display(struct buf *out, const char *word)
{
	const unsigned char *p;

	for (p = (const unsigned char *)word; *p && is_plain(*p); p++)
		;
	if (*word && !*p) {
		buf_adds(out, word);
		return;
	}
	/* A message is not worth failing for: an overlong one is cut. */
	shquote_word(out, word, strlen(word), NULL);
}
