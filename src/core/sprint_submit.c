/*
 * sprint_submit.c: the two phases of a keyed submission (see sprint.h),
 * each in a short transaction of its own so that no lock is held while
 * the cluster works in between.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "idem.h"
#include "journal.h"
#include "sprint.h"
#include "xalloc.h"
#include "banned.h"

void sprint_attempt_release(struct sprint_attempt *a)
{
	if (!a)
		return;
	json_decref(a->row);
	json_decref(a->stored);
	a->row = NULL;
	a->stored = NULL;
}

/*
 * The attempt's sprint id from the key's subject 'subject'; one that is
 * not a sprint id (too long) leaves it empty, as no subject does.
 */
static void set_id(struct sprint_attempt *a, const char *subject)
{
	size_t n = strlen(subject);

	a->id[0] = '\0';
	if (n < sizeof(a->id))
		memcpy(a->id, subject, n + 1);
}

/* '<base>/<dir name of id and idea>' as a new string. */
static char *dir_for(const char *base, const char *id, const char *idea)
{
	char *name = sprint_dir_name(id, idea, time(NULL));
	size_t n = strlen(base) + strlen(name) + 2;
	char *dir = xmalloc(n);

	snprintf(dir, n, "%s/%s", base, name);
	free(name);
	return dir;
}

/* Create the sprint 'n' afresh for attempt 'a' and bind it to the key. */
static int create_fresh(struct journal *j, struct sprint_attempt *a,
			struct sprint_new *n, const char *base_dir,
			struct err *err)
{
	char *dir = NULL;
	int r = -1;

	if (sprint_new_id(j, a->id, err) < 0)
		return -1;
	dir = dir_for(base_dir, a->id, n->idea);
	n->id = a->id;
	n->directory = dir;
	if (sprint_create(j, n, err) < 0 ||
	    idem_bind(j, a->primitive, a->key, a->id, err) < 0 ||
	    sprint_get(j, &a->row, a->id, err) < 0)
		goto out;
	a->found = IDEM_FRESH;
	r = 0;
out:
	/* The directory lives on in the row; 'n' must not keep it. */
	n->directory = NULL;
	free(dir);
	return r;
}

int sprint_submit_begin(struct journal *j, struct sprint_attempt *a,
			struct sprint_new *n, const char *base_dir,
			struct err *err)
{
	struct idem_claim claim = IDEM_CLAIM_INIT;
	const char *state;
	int r = -1;

	if (journal_begin(j, err) < 0)
		return -1;
	if (idem_claim(j, &claim, a->primitive, a->key, err) < 0)
		goto out;
	a->found = claim.found;
	if (claim.found == IDEM_REPLAY) {
		set_id(a, claim.subject);
		a->stored = claim.data;
		claim.data = NULL;
		if (a->id[0] && sprint_get(j, &a->row, a->id, err) < 0)
			goto out;
		r = 0;
		goto out;
	}
	if (claim.found == IDEM_FRESH || !claim.subject[0]) {
		if (create_fresh(j, a, n, base_dir, err) < 0)
			goto out;
		r = 0;
		goto out;
	}
	/* A dead attempt's sprint: resume it, or replay it if it got on. */
	set_id(a, claim.subject);
	if (sprint_get(j, &a->row, a->id, err) < 0)
		goto out;
	state = json_string_value(json_object_get(a->row, "state"));
	if (strcmp(state, "pending"))
		a->found = IDEM_REPLAY;
	r = 0;
out:
	idem_claim_release(&claim);
	if (r == 0 && journal_commit(j, err) < 0)
		r = -1;
	if (r < 0)
		journal_rollback(j);
	return r;
}

int sprint_submit_commit(struct journal *j, struct sprint_attempt *a,
			 const char *cluster, const char *job_id,
			 json_t *(*result)(const json_t *row, void *arg),
			 void *arg, json_t **data_out, struct err *err)
{
	json_t *data = NULL;

	*data_out = NULL;
	if (journal_begin(j, err) < 0)
		return -1;
	if (sprint_mark_submitted(j, a->id, cluster, job_id, err) < 0)
		goto fail;
	json_decref(a->row);
	a->row = NULL;
	if (sprint_get(j, &a->row, a->id, err) < 0)
		goto fail;
	data = result(a->row, arg);
	if (idem_store(j, a->primitive, a->key, a->id, data, err) < 0 ||
	    journal_commit(j, err) < 0)
		goto fail;
	*data_out = data;
	return 0;
fail:
	json_decref(data);
	journal_rollback(j);
	return -1;
}

int sprint_submit_store(struct journal *j, struct sprint_attempt *a,
			const json_t *data, struct err *err)
{
	if (journal_begin(j, err) < 0)
		return -1;
	if (idem_store(j, a->primitive, a->key, a->id, data, err) < 0 ||
	    journal_commit(j, err) < 0) {
		journal_rollback(j);
		return -1;
	}
	return 0;
}

void sprint_submit_abandon(struct journal *j, struct sprint_attempt *a,
			   const struct err *why, int clean)
{
	struct err ignored = ERR_INIT;
	json_t *record;
	int transitioned, r;

	if (!a->id[0] || journal_in_transaction(j))
		return;
	record = json_pack("{s:s, s:s, s:s}", "status", "failed", "error",
			   why->message, "error_code", err_name(why->code));
	if (journal_begin(j, &ignored) < 0)
		goto out;
	if (clean)
		r = sprint_finish(j, &transitioned, a->id, SPRINT_FAILED,
				  record, NULL, &ignored) < 0 ||
		    idem_fail(j, a->primitive, a->key, &ignored) < 0;
	else
		r = sprint_note(j, a->id, "sprint.submit_interrupted", record,
				&ignored) < 0;
	if (r || journal_commit(j, &ignored) < 0)
		journal_rollback(j);
out:
	json_decref(record);
	err_release(&ignored);
}
