/*
 * shquote.h: POSIX single-quote escaping, for the one place where
 * hpcloop must hand a command line to a shell: the remote side of an
 * SSH exec, which sshd gives to the user's login shell as one string.
 *
 * Every word is single-quoted, so that nothing in it is special to the
 * shell: a ' inside becomes '\'' (close, an escaped quote, reopen), and
 * everything else (dollars, backquotes, newlines, bytes that are not
 * UTF-8) stands for itself.  The empty word is ''.  A NUL cannot be
 * passed through a shell at all, so a word holding one is refused
 * rather than cut short.  Quoting does not stop a program from reading
 * a word that starts with '-' as an option; the fixed commands of the
 * SSH transport put "--" before their paths for that.
 *
 * The login shell must parse POSIX quoting (sh, bash, dash, ksh, zsh);
 * csh and fish do not.
 */
#ifndef HPCLOOP_SHQUOTE_H
#define HPCLOOP_SHQUOTE_H

#include <stddef.h>

#include "buf.h"
#include "err.h"

/*
 * Append the 'len' bytes of 'word' to 'out', single-quoted.  A NUL in
 * the word is ERR_INTERNAL (nothing is appended), and so is passing the
 * limit of 'out' (what was appended stays: the caller throws 'out'
 * away).
 */
int shquote_word(struct buf *out, const char *word, size_t len,
		 struct err *err);

/*
 * Append the words of 'argv' (NULL-terminated; borrowed) to 'out', each
 * single-quoted, separated by one space: a command line that a POSIX
 * shell splits back into exactly 'argv'.  An empty 'argv' appends
 * nothing.  The limit of 'out' is ERR_INTERNAL, as for shquote_word().
 */
int shquote_argv(struct buf *out, const char *const *argv, struct err *err);

/*
 * Append 'word' to 'out' as a person would type it: as it is when it
 * holds only characters no shell treats specially (letters, digits and
 * "%+,-./:=@_", and not empty), single-quoted otherwise.  For commands
 * printed in messages ("ssh-keyscan ... >> KNOWN_HOSTS"), never for
 * commands that run.  Bytes past the limit of 'out' are dropped.
 */
void shquote_display(struct buf *out, const char *word);

#endif
