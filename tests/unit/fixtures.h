/*
 * fixtures.h: what the unit tests share: a scratch directory per test
 * file (made by the group setup, removed with everything in it by the
 * group teardown) and a journal opened inside it.  Include it after
 * <cmocka.h>; every function is static, so each test file has its own
 * copy and its own directory.
 */
#ifndef HPCLOOP_TEST_FIXTURES_H
#define HPCLOOP_TEST_FIXTURES_H

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>

#include "journal.h"

/* The scratch directory of this test file ("" before the setup). */
static char fixture_dir[64];

/* nftw callback: remove one entry, depth first. */
static int fixture_remove_entry(const char *path, const struct stat *st,
				int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

/* cmocka group setup: make the scratch directory. */
static int fixture_setup(void **state)
{
	(void)state;
	snprintf(fixture_dir, sizeof(fixture_dir),
		 "/tmp/hpcloop-unit.XXXXXX");
	return mkdtemp(fixture_dir) ? 0 : -1;
}

/* cmocka group teardown: remove it and all it holds. */
static int fixture_teardown(void **state)
{
	(void)state;
	return nftw(fixture_dir, fixture_remove_entry, 16,
		    FTW_DEPTH | FTW_PHYS);
}

/* '<scratch>/<name>' into 'out' of 'size' bytes. */
static void fixture_path(char *out, size_t size, const char *name)
{
	int n = snprintf(out, size, "%s/%s", fixture_dir, name);

	if (n < 0 || (size_t)n >= size)
		fail_msg("path too long: %s", name);
}

/* A journal created at '<scratch>/<name>', or the test fails. */
static struct journal *fixture_journal(const char *name)
{
	struct err err = ERR_INIT;
	struct journal *j = NULL;
	char path[256];

	fixture_path(path, sizeof(path), name);
	if (journal_open(&j, path, JOURNAL_CREATE, &err) < 0)
		fail_msg("journal_open %s: %s", path, err.message);
	return j;
}

#endif
