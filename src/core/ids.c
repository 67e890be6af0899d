/*
 * ids.c: random ids and ISO 8601 UTC timestamps.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "crypto.h"
#include "ids.h"
#include "banned.h"

int ids_new(char *out, size_t size, const char *prefix, size_t nhex)
{
	char hex[129];
	size_t plen = strlen(prefix);

	if (nhex == 0 || nhex > 128 || plen + nhex + 1 > size)
		return -1;
	if (crypto_random_hex(hex, (nhex + 1) / 2) < 0)
		return -1;
	hex[nhex] = '\0';
	snprintf(out, size, "%s%s", prefix, hex);
	return 0;
}

void ids_iso_time(char out[IDS_TIME_LEN], time_t t)
{
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, IDS_TIME_LEN, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

void ids_now(char out[IDS_TIME_LEN])
{
	ids_iso_time(out, time(NULL));
}

int ids_parse_time(time_t *out, const char *s)
{
	struct tm tm;
	const char *end;

	memset(&tm, 0, sizeof(tm));
	end = strptime(s, "%Y-%m-%dT%H:%M:%SZ", &tm);
	if (!end || *end)
		return -1;
	*out = timegm(&tm);
	return 0;
}
