/*
 * campaign_reconcile.c: bringing live campaigns in line with their
 * schedulers after a crash (see campaign.h's campaign_reconcile()).
 */
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "campaign.h"
#include "campaign_internal.h"
#include "cluster.h"
#include "journal.h"
#include "sched.h"
#include "transport.h"
#include "xalloc.h"
#include "banned.h"

/* ---------------------------------------------------------------- */
/* Reconciling                                                        */
/* ---------------------------------------------------------------- */

/*
 * Adopt the arrays of the pending campaign 'row' that a dead attempt
 * submitted (found by their comments) into the journal; count them into
 * '*adopted' and those not on the scheduler into '*missing'.
 */
static int adopt(struct journal *j, struct cluster *c, const json_t *row,
		 int *adopted, int *missing, struct err *err)
{
	const char *id = json_string_value(json_object_get(row, "id"));
	json_t *subs = NULL, *s, *found = NULL, *tids;
	struct buf comment = BUF_INIT;
	size_t i, k, n;
	int r = -1;

	if (cp_submissions(j, &subs, id, err) < 0)
		return -1;
	json_array_foreach(subs, i, s) {
		json_t *tasks;

		if (json_is_string(json_object_get(s, "job_id")))
			continue;
		buf_truncate(&comment, 0);
		buf_addf(&comment, "%s-s%lld", id,
			 (long long)json_integer_value(json_object_get(s, "n")));
		json_decref(found);
		found = NULL;
		if (sched_find(c->sched, &found, comment.data, err) < 0)
			goto out;
		if (!json_array_size(found)) {
			(*missing)++;
			continue;
		}
		tasks = json_loads(json_string_value(json_object_get(s, "tasks")),
				   0, NULL);
		n = json_array_size(tasks);
		json_decref(tasks);
		tids = json_array();
		for (k = 1; k <= n; k++) {
			char *tid = sched_task_id(
				c->sched, json_string_value(json_array_get(found, 0)),
				(int)k);

			json_array_append_new(tids, json_string(tid));
			free(tid);
		}
		r = cp_record_submission(
			j, id, (int)json_integer_value(json_object_get(s, "n")),
			json_string_value(json_array_get(found, 0)), tids, err);
		json_decref(tids);
		if (r < 0)
			goto out;
		r = -1;
		(*adopted)++;
	}
	r = 0;
out:
	json_decref(subs);
	json_decref(found);
	buf_release(&comment);
	return r;
}

int campaign_reconcile(struct journal *j, json_t **out,
		       const struct config *cfg, const char *cluster,
		       struct err *err)
{
	json_t *rows = NULL, *row, *params, *list = json_array(), *show = NULL;
	size_t i;
	int r = -1;

	*out = NULL;
	params = json_pack("[s?, s?]", cluster, cluster);
	r = journal_exec(j, &rows,
			 "SELECT * FROM campaigns WHERE state IN ('pending', "
			 "'submitted', 'running') AND (? IS NULL OR cluster = ?)"
			 " ORDER BY created_at",
			 params, err);
	json_decref(params);
	if (r < 0)
		goto out;
	r = -1;
	json_array_foreach(rows, i, row) {
		const char *id = json_string_value(json_object_get(row, "id"));
		const char *before = json_string_value(json_object_get(row, "state"));
		struct cluster c = CLUSTER_INIT;
		int active = 0, adopted = 0, missing = 0;

		{
			if (idem_subject_active(j, &active, id, err) < 0)
				goto out;
			if (!active && (cp_cluster(&c, cfg, row, err) < 0 ||
					adopt(j, &c, row, &adopted, &missing,
					      err) < 0)) {
				cluster_release(&c);
				goto out;
			}
			cluster_release(&c);
		}
		json_decref(show);
		show = NULL;
		if (campaign_tick(j, &show, cfg, id, err) < 0)
			goto out;
		json_array_append_new(list, json_pack(
			"{s:s, s:s, s:O, s:i, s:i, s:b}", "campaign_id", id,
			"before", before, "after", json_object_get(show, "state"),
			"adopted", adopted, "not_on_scheduler", missing,
			"in_progress", active));
	}
	*out = list;
	list = NULL;
	r = 0;
out:
	json_decref(rows);
	json_decref(list);
	json_decref(show);
	return r;
}
