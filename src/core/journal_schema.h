/*
 * journal_schema.h: the journal's migrations (journal_schema.c), read by
 * journal.c only.
 */
#ifndef HPCLOOP_JOURNAL_SCHEMA_H
#define HPCLOOP_JOURNAL_SCHEMA_H

#include <stddef.h>

/*
 * The migrations, oldest first: entry v-1 brings version v-1 to v; the
 * count is the schema version this build writes.  Static storage.
 */
const char *const *journal_migrations(size_t *count_out);

#endif
