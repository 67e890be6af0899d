/*
 * sched.c: the table of scheduler kinds, state names, and sched_open()
 * (see sched.h).  The kinds themselves live in sched_<kind>.c; a new
 * kind is one line in kinds[].
 */
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "sched.h"
#include "xalloc.h"
#include "banned.h"

static const char *const state_names[] = {
	[SCHED_PENDING] = "pending",
	[SCHED_RUNNING] = "running",
	[SCHED_COMPLETED] = "completed",
	[SCHED_FAILED] = "failed",
	[SCHED_CANCELLED] = "cancelled",
	[SCHED_TIMED_OUT] = "timed_out",
	[SCHED_UNKNOWN] = "unknown",
	[SCHED_LOST] = "lost",
	[SCHED_REQUEUED] = "requeued",
};

#define STATE_COUNT (sizeof(state_names) / sizeof(state_names[0]))

/* Every kind this build has. */
static const struct sched_ops *const kinds[] = {
	&sched_local_ops,
	&sched_slurm_ops,
	&sched_sge_ops,
};

#define KIND_COUNT (sizeof(kinds) / sizeof(kinds[0]))

const char *sched_state_name(enum sched_state s)
{
	if ((size_t)s >= STATE_COUNT)
		return "unknown";
	return state_names[s];
}

int sched_state_from_name(enum sched_state *out, const char *name)
{
	size_t i;

	for (i = 0; i < STATE_COUNT; i++) {
		if (name && !strcmp(state_names[i], name)) {
			*out = (enum sched_state)i;
			return 0;
		}
	}
	return -1;
}

int sched_state_terminal(enum sched_state s)
{
	switch (s) {
	case SCHED_COMPLETED:
	case SCHED_FAILED:
	case SCHED_CANCELLED:
	case SCHED_TIMED_OUT:
	case SCHED_LOST:
		return 1;
	default:
		return 0;
	}
}

char *sched_task_id(const struct sched *s, const char *array_id, int index)
{
	struct buf b = BUF_INIT;

	buf_addf(&b, "%s%c%d", array_id, s->ops->task_sep ? s->ops->task_sep : '_',
		 index);
	return buf_detach(&b, NULL);
}

const struct sched_ops *sched_kind(const char *name)
{
	size_t i;

	for (i = 0; name && i < KIND_COUNT; i++) {
		if (!strcmp(kinds[i]->name, name))
			return kinds[i];
	}
	return NULL;
}

int sched_open(struct sched **out, struct transport *t,
	       const json_t *cluster, const char *cluster_name,
	       const char *state_dir, struct err *err)
{
	const char *kind = NULL;
	const struct sched_ops *ops;
	struct sched *s;

	*out = NULL;
	if (cluster)
		kind = json_string_value(json_object_get(cluster,
							 "scheduler"));
	if (!kind)
		kind = "local";
	ops = sched_kind(kind);
	if (!ops)
		return err_set(err, ERR_CONFIG_INVALID,
			       "scheduler '%s' is not available in this build",
			       kind);
	s = xcalloc(1, sizeof(*s));
	s->ops = ops;
	s->t = t;
	/* Our reference is only read; jansson's API wants it mutable. */
	s->cluster = cluster ? json_incref((json_t *)cluster) : json_object();
	s->cluster_name = xstrdup(cluster_name ? cluster_name : kind);
	s->state_dir = xstrdup(state_dir ? state_dir : "");
	if (ops->open && ops->open(s, err) < 0) {
		sched_close(s);
		return -1;
	}
	*out = s;
	return 0;
}

void sched_close(struct sched *s)
{
	if (!s)
		return;
	if (s->ops->release)
		s->ops->release(s);
	json_decref(s->cluster);
	free(s->cluster_name);
	free(s->state_dir);
	free(s);
}

int sched_submit(struct sched *s, char **job_id_out,
		 const struct sched_submit *req, struct err *err)
{
	size_t i;

	*job_id_out = NULL;
	if (req->array_size < 0 || req->array_limit < 0 ||
	    (req->after && !json_is_array(req->after)))
		return err_set(err, ERR_INTERNAL, "bad array or dependency");
	for (i = 0; req->after && i < json_array_size(req->after); i++)
		if (!json_is_string(json_array_get(req->after, i)))
			return err_set(err, ERR_INTERNAL,
				       "dependencies must be job ids");
	return s->ops->submit(s, job_id_out, req, err);
}

int sched_query(struct sched *s, json_t **out, const json_t *job_ids,
		struct err *err)
{
	*out = NULL;
	if (!json_is_array(job_ids))
		return err_set(err, ERR_INTERNAL, "job ids must be an array");
	return s->ops->query(s, out, job_ids, err);
}

int sched_cancel(struct sched *s, const json_t *job_ids, struct err *err)
{
	if (!json_is_array(job_ids))
		return err_set(err, ERR_INTERNAL, "job ids must be an array");
	return s->ops->cancel(s, job_ids, err);
}

int sched_find(struct sched *s, json_t **out, const char *run_id,
	       struct err *err)
{
	*out = NULL;
	if (!run_id || !*run_id)
		return err_set(err, ERR_INTERNAL, "find without a run id");
	return s->ops->find(s, out, run_id, err);
}
