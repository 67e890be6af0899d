/*
 * apitoken.c: API bearer tokens, stored hashed (see apitoken.h).
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "apitoken.h"
#include "crypto.h"
#include "ids.h"
#include "journal.h"
#include "banned.h"

#define ID_HEX 6
#define SECRET_BYTES 32

static const char row_columns[] =
	"id, name, read_only = 1 AS read_only, created_at, last_used_at, "
	"revoked_at";

/* The row of 'id' without its hash, as a new object in '*row_out'. */
static int get_row(struct journal *j, json_t **row_out, const char *sql_where,
		   const char *value, struct err *err)
{
	char sql[256];
	json_t *params = json_pack("[s]", value);
	int r;

	snprintf(sql, sizeof(sql), "SELECT %s FROM api_tokens WHERE %s",
		 row_columns, sql_where);
	r = journal_row(j, row_out, sql, params, err);
	json_decref(params);
	if (r == 0 && *row_out) {
		/* SQLite gives 0/1; the schema says boolean. */
		json_object_set_new(*row_out, "read_only",
				    json_boolean(json_integer_value(json_object_get(
					    *row_out, "read_only"))));
	}
	return r;
}

int apitoken_create(struct journal *j, json_t **row_out,
		    char token[APITOKEN_MAX], const char *name, int read_only,
		    struct err *err)
{
	char id[16], secret[2 * SECRET_BYTES + 1], hash[SHA256_HEX_LEN + 1];
	char now[IDS_TIME_LEN];
	json_t *row = NULL, *params;
	int tries, r;

	*row_out = NULL;
	token[0] = '\0';
	if (get_row(j, &row, "name = ?", name, err) < 0)
		return -1;
	if (row) {
		json_decref(row);
		err_set(err, ERR_CONFLICT, "a token called '%s' exists already",
			name);
		return err_remedy(err, "pick another name, or revoke it and "
				  "create one under a new name");
	}
	for (tries = 0;; tries++) {
		if (ids_new(id, sizeof(id), "tk-", ID_HEX) < 0 ||
		    crypto_random_hex(secret, SECRET_BYTES) < 0)
			return err_set(err, ERR_INTERNAL,
				       "no randomness for a token");
		if (get_row(j, &row, "id = ?", id, err) < 0)
			return -1;
		if (!row)
			break;
		json_decref(row);
		row = NULL;
		if (tries > 20)
			return err_set(err, ERR_INTERNAL,
				       "cannot draw a free token id");
	}
	snprintf(token, APITOKEN_MAX, "hpc_%s_%s", id + 3, secret);
	crypto_sha256_hex(hash, token, strlen(token));
	ids_now(now);
	params = json_pack("[s, s, s, i, s]", id, name, hash, !!read_only, now);
	r = journal_exec(j, NULL,
			 "INSERT INTO api_tokens (id, name, token_hash, "
			 "read_only, created_at) VALUES (?, ?, ?, ?, ?)",
			 params, err);
	json_decref(params);
	if (r < 0)
		return -1;
	params = json_pack("{s:s, s:b}", "name", name, "read_only", read_only);
	r = journal_event(j, NULL, "token.created", id, params, err);
	json_decref(params);
	if (r < 0)
		return -1;
	return get_row(j, row_out, "id = ?", id, err);
}

int apitoken_list(struct journal *j, json_t **rows_out, struct err *err)
{
	char sql[256];
	size_t i;
	json_t *row;

	snprintf(sql, sizeof(sql),
		 "SELECT %s FROM api_tokens ORDER BY created_at, id",
		 row_columns);
	if (journal_exec(j, rows_out, sql, NULL, err) < 0)
		return -1;
	json_array_foreach(*rows_out, i, row)
		json_object_set_new(row, "read_only",
				    json_boolean(json_integer_value(
					    json_object_get(row, "read_only"))));
	return 0;
}

int apitoken_revoke(struct journal *j, json_t **row_out, int *changed_out,
		    const char *which, struct err *err)
{
	char now[IDS_TIME_LEN];
	json_t *row = NULL, *params;
	const char *id;
	int r;

	*row_out = NULL;
	*changed_out = 0;
	if (get_row(j, &row, strncmp(which, "tk-", 3) ? "name = ?" : "id = ?",
		    which, err) < 0)
		return -1;
	if (!row) {
		err_set(err, ERR_NOT_FOUND, "no API token '%s'", which);
		return err_remedy(err, "`hpcloop token-list` lists them");
	}
	id = json_string_value(json_object_get(row, "id"));
	if (json_is_null(json_object_get(row, "revoked_at"))) {
		ids_now(now);
		params = json_pack("[s, s]", now, id);
		r = journal_exec(j, NULL,
				 "UPDATE api_tokens SET revoked_at = ? WHERE "
				 "id = ?",
				 params, err);
		json_decref(params);
		if (r < 0 ||
		    journal_event(j, NULL, "token.revoked", id, NULL, err) < 0)
			goto fail;
		*changed_out = 1;
		json_object_set_new(row, "revoked_at", json_string(now));
	}
	*row_out = row;
	return 0;
fail:
	json_decref(row);
	return -1;
}

/*
 * Record that token 'id' was used, at most once a minute (so that a busy
 * client does not write the journal on every call).  Best effort: a
 * busy journal skips it.
 */
static void touch_used(struct journal *j, const char *id)
{
	char now[IDS_TIME_LEN], before[IDS_TIME_LEN];
	struct err err = ERR_INIT;
	json_t *params;

	ids_now(now);
	ids_iso_time(before, time(NULL) - 60);
	params = json_pack("[s, s, s]", now, id, before);
	journal_exec(j, NULL,
		     "UPDATE api_tokens SET last_used_at = ? WHERE id = ? AND "
		     "(last_used_at IS NULL OR last_used_at < ?)",
		     params, &err);
	json_decref(params);
	err_release(&err);
}

int apitoken_check(struct journal *j, int *read_only_out, const char *token,
		   struct err *err)
{
	char id[16], hash[SHA256_HEX_LEN + 1];
	const char *stored = NULL;
	json_t *row = NULL, *params;
	size_t i;
	int ok, r;

	*read_only_out = 1;
	/* hpc_ + 6 hex + _ + 64 hex, nothing else. */
	ok = strlen(token) == 4 + ID_HEX + 1 + 2 * SECRET_BYTES &&
	     !strncmp(token, "hpc_", 4) && token[4 + ID_HEX] == '_';
	for (i = 4; ok && token[i]; i++)
		if (i != 4 + ID_HEX && !strchr("0123456789abcdef", token[i]))
			ok = 0;
	if (!ok)
		return err_set(err, ERR_UNAUTHORIZED,
			       "the bearer token is not an hpcloop API token");
	snprintf(id, sizeof(id), "tk-%.*s", ID_HEX, token + 4);
	params = json_pack("[s]", id);
	r = journal_row(j, &row,
			"SELECT token_hash, read_only, revoked_at FROM "
			"api_tokens WHERE id = ?",
			params, err);
	json_decref(params);
	if (r < 0)
		return -1;
	crypto_sha256_hex(hash, token, strlen(token));
	if (row)
		stored = json_string_value(json_object_get(row, "token_hash"));
	/* Compare even when there is no row, against a hash that never
	 * matches, so that the time taken says nothing about the id. */
	ok = crypto_equal(hash, stored ? stored : "-") && stored;
	if (!ok) {
		json_decref(row);
		return err_set(err, ERR_UNAUTHORIZED,
			       "the bearer token is not a known API token");
	}
	if (!json_is_null(json_object_get(row, "revoked_at"))) {
		json_decref(row);
		return err_set(err, ERR_UNAUTHORIZED,
			       "the bearer token was revoked");
	}
	*read_only_out = json_integer_value(json_object_get(row, "read_only"))
			 != 0;
	json_decref(row);
	touch_used(j, id);
	return 0;
}
