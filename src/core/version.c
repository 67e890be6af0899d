/*
 * version.c: versions of the libraries hpcloop runs with.
 */
#include "crypto.h"
#include "journal.h"
#include "version.h"
#include "banned.h"

json_t *version_libraries(void)
{
	return json_pack("{s:s, s:s, s:s}", "jansson", jansson_version_str(),
			 "sqlite", journal_library_version(), "openssl",
			 crypto_library_version());
}
