/*
 * idem.c: the idempotency table (see idem.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto.h"
#include "idem.h"
#include "ids.h"
#include "journal.h"
#include "lease.h"
#include "banned.h"

void idem_key_of(struct idem_key *k, const json_t *spec)
{
	const char *given = json_string_value(json_object_get(spec,
							       "idempotency_key"));

	crypto_json_hash(k->hash, spec);
	snprintf(k->key, sizeof(k->key), "%s", given ? given : k->hash);
}

void idem_claim_release(struct idem_claim *c)
{
	if (!c)
		return;
	json_decref(c->data);
	c->data = NULL;
}

/* The row of ('primitive', 'k') as a new object, or NULL. */
static int get_row(struct journal *j, json_t **row_out, const char *primitive,
		   const struct idem_key *k, struct err *err)
{
	json_t *params = json_pack("[s,s]", primitive, k->key);
	int r = journal_row(j, row_out,
			    "SELECT spec_hash, status, subject, data, "
			    "lease_owner, lease_at FROM idempotency "
			    "WHERE primitive = ? AND key = ?",
			    params, err);

	json_decref(params);
	return r;
}

/* conflict when 'row' was written for another spec than 'k'. */
static int check_spec(const json_t *row, const struct idem_key *k,
		      struct err *err)
{
	const char *stored = json_string_value(json_object_get(row,
							       "spec_hash"));

	if (stored && !strcmp(stored, k->hash))
		return 0;
	err_set(err, ERR_CONFLICT,
		"idempotency_key '%s' was first used with a different spec",
		k->key);
	err_detail(err, "idempotency_key", json_string(k->key));
	return err_remedy(err, "repeat the first spec unchanged to get its "
			  "result, or choose a new idempotency_key for the "
			  "new spec");
}

/* The stored result of 'row' as a new object, or journal_corrupt. */
static int stored_data(json_t **out, const json_t *row,
		       const struct idem_key *k, struct err *err)
{
	const char *text = json_string_value(json_object_get(row, "data"));

	*out = text ? json_loads(text, 0, NULL) : NULL;
	if (!json_is_object(*out)) {
		json_decref(*out);
		*out = NULL;
		return err_set(err, ERR_JOURNAL_CORRUPT,
			       "stored result for idempotency_key '%s' is not "
			       "a JSON object", k->key);
	}
	return 0;
}

int idem_lookup(struct journal *j, json_t **data_out, const char *primitive,
		const struct idem_key *k, struct err *err)
{
	json_t *row = NULL;
	int r = -1;

	*data_out = NULL;
	if (get_row(j, &row, primitive, k, err) < 0)
		return -1;
	if (!row)
		return 0;
	if (check_spec(row, k, err) < 0)
		goto out;
	if (strcmp(json_string_value(json_object_get(row, "status")),
		   "done")) {
		r = 0;
		goto out;
	}
	if (stored_data(data_out, row, k, err) < 0)
		goto out;
	r = 1;
out:
	json_decref(row);
	return r;
}

int idem_store(struct journal *j, const char *primitive,
	       const struct idem_key *k, const char *subject,
	       const json_t *data, struct err *err)
{
	char now[IDS_TIME_LEN];
	json_t *params;
	int r;

	ids_now(now);
	params = json_pack("[s,s,s,s?,O,s,s]", primitive, k->key, k->hash,
			   subject, data, now, now);
	r = journal_exec(j, NULL,
			 "INSERT INTO idempotency (primitive, key, spec_hash, "
			 "status, subject, data, created_at, updated_at) "
			 "VALUES (?, ?, ?, 'done', ?, ?, ?, ?) "
			 "ON CONFLICT (primitive, key) DO UPDATE SET "
			 "status = 'done', subject = coalesce("
			 "excluded.subject, subject), data = excluded.data, "
			 "lease_owner = NULL, lease_at = NULL, "
			 "updated_at = excluded.updated_at",
			 params, err);
	json_decref(params);
	return r;
}

/* Put this process's lease on the row, with 'subject' (NULL: keep). */
static int take_over(struct journal *j, const char *primitive,
		     const struct idem_key *k, int clear_subject,
		     struct err *err)
{
	char owner[LEASE_OWNER_MAX], now[IDS_TIME_LEN];
	json_t *params;
	int r;

	lease_self(owner);
	ids_now(now);
	params = json_pack("[s,f,i,s,s,s]", owner, lease_now(), clear_subject,
			   now, primitive, k->key);
	r = journal_exec(j, NULL,
			 "UPDATE idempotency SET status = 'pending', "
			 "lease_owner = ?, lease_at = ?, subject = CASE WHEN ? "
			 "THEN NULL ELSE subject END, data = NULL, "
			 "updated_at = ? WHERE primitive = ? AND key = ?",
			 params, err);
	json_decref(params);
	return r;
}

/* A fresh pending row leased to this process. */
static int insert_pending(struct journal *j, const char *primitive,
			  const struct idem_key *k, struct err *err)
{
	char owner[LEASE_OWNER_MAX], now[IDS_TIME_LEN];
	json_t *params;
	int r;

	lease_self(owner);
	ids_now(now);
	params = json_pack("[s,s,s,s,f,s,s]", primitive, k->key, k->hash,
			   owner, lease_now(), now, now);
	r = journal_exec(j, NULL,
			 "INSERT INTO idempotency (primitive, key, spec_hash, "
			 "status, lease_owner, lease_at, created_at, "
			 "updated_at) VALUES (?, ?, ?, 'pending', ?, ?, ?, ?)",
			 params, err);
	json_decref(params);
	return r;
}

int idem_claim(struct journal *j, struct idem_claim *out,
	       const char *primitive, const struct idem_key *k,
	       struct err *err)
{
	json_t *row = NULL;
	const char *status, *subject;
	int r = -1;

	out->found = IDEM_FRESH;
	out->subject[0] = '\0';
	out->data = NULL;
	if (get_row(j, &row, primitive, k, err) < 0)
		return -1;
	if (!row)
		return insert_pending(j, primitive, k, err);
	if (check_spec(row, k, err) < 0)
		goto out;
	status = json_string_value(json_object_get(row, "status"));
	subject = json_string_value(json_object_get(row, "subject"));
	snprintf(out->subject, sizeof(out->subject), "%s",
		 subject ? subject : "");
	if (!strcmp(status, "done")) {
		out->found = IDEM_REPLAY;
		r = stored_data(&out->data, row, k, err);
		goto out;
	}
	if (!strcmp(status, "failed")) {
		out->subject[0] = '\0';
		r = take_over(j, primitive, k, 1, err);
		goto out;
	}
	if (lease_held(json_string_value(json_object_get(row, "lease_owner")),
		       json_number_value(json_object_get(row, "lease_at")),
		       lease_now())) {
		err_set(err, ERR_IN_PROGRESS,
			"another call with idempotency key '%s' is still "
			"working on it", k->key);
		err_detail(err, "retry_after_s",
			   json_integer(IDEM_RETRY_AFTER_S));
		if (out->subject[0])
			err_detail(err, "subject", json_string(out->subject));
		goto out;
	}
	out->found = IDEM_RESUME;
	r = take_over(j, primitive, k, 0, err);
out:
	json_decref(row);
	return r;
}

int idem_bind(struct journal *j, const char *primitive,
	      const struct idem_key *k, const char *subject, struct err *err)
{
	json_t *params = json_pack("[s,s,s]", subject, primitive, k->key);
	int r = journal_exec(j, NULL,
			     "UPDATE idempotency SET subject = ? "
			     "WHERE primitive = ? AND key = ?",
			     params, err);

	json_decref(params);
	return r;
}

int idem_fail(struct journal *j, const char *primitive,
	      const struct idem_key *k, struct err *err)
{
	json_t *params = json_pack("[s,s]", primitive, k->key);
	int r = journal_exec(j, NULL,
			     "UPDATE idempotency SET status = 'failed', "
			     "lease_owner = NULL, lease_at = NULL "
			     "WHERE primitive = ? AND key = ? AND "
			     "status = 'pending'",
			     params, err);

	json_decref(params);
	return r;
}

int idem_fail_subject(struct journal *j, const char *subject,
		      struct err *err)
{
	json_t *params = json_pack("[s]", subject);
	int r = journal_exec(j, NULL,
			     "UPDATE idempotency SET status = 'failed', "
			     "lease_owner = NULL, lease_at = NULL "
			     "WHERE subject = ? AND status = 'pending'",
			     params, err);

	json_decref(params);
	return r;
}

int idem_pending(struct journal *j, json_t **out, struct err *err)
{
	json_t *rows = NULL;
	double now = lease_now();
	size_t i;

	*out = NULL;
	if (journal_exec(j, &rows,
			 "SELECT primitive, key, subject, lease_owner, "
			 "lease_at FROM idempotency WHERE status = 'pending' "
			 "ORDER BY created_at",
			 NULL, err) < 0)
		return -1;
	for (i = 0; i < json_array_size(rows); i++) {
		json_t *row = json_array_get(rows, i);

		json_object_set_new(
			row, "alive",
			json_boolean(lease_held(
				json_string_value(
					json_object_get(row, "lease_owner")),
				json_number_value(
					json_object_get(row, "lease_at")),
				now)));
		json_object_del(row, "lease_at");
	}
	*out = rows;
	return 0;
}

int idem_subject_active(struct journal *j, int *active_out,
			const char *subject, struct err *err)
{
	json_t *params = json_pack("[s]", subject), *rows = NULL;
	double now = lease_now();
	size_t i;
	int r;

	*active_out = 0;
	r = journal_exec(j, &rows,
			 "SELECT lease_owner, lease_at FROM idempotency "
			 "WHERE subject = ? AND status = 'pending'",
			 params, err);
	json_decref(params);
	if (r < 0)
		return -1;
	for (i = 0; i < json_array_size(rows); i++) {
		json_t *row = json_array_get(rows, i);

		if (lease_held(json_string_value(json_object_get(row,
							 "lease_owner")),
			       json_number_value(json_object_get(row,
								 "lease_at")),
			       now))
			*active_out = 1;
	}
	json_decref(rows);
	return 0;
}

int idem_find(struct journal *j, json_t **out, const char *primitive,
	      const struct idem_key *k, struct err *err)
{
	json_t *row = NULL;
	const char *hash;

	*out = NULL;
	if (get_row(j, &row, primitive, k, err) < 0)
		return -1;
	if (!row)
		return 0;
	hash = json_string_value(json_object_get(row, "spec_hash"));
	*out = json_pack("{s:O, s:O, s:b}", "status",
			 json_object_get(row, "status"), "subject",
			 json_object_get(row, "subject"), "spec_matches",
			 hash && !strcmp(hash, k->hash));
	json_decref(row);
	return 0;
}
