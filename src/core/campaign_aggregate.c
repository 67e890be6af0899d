/*
 * campaign_aggregate.c: pulling a finished campaign's results to this
 * machine in one pass and running a reducer over them (see
 * campaign.h's campaign_aggregate()).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "campaign.h"
#include "campaign_internal.h"
#include "cluster.h"
#include "config.h"
#include "journal.h"
#include "proc.h"
#include "sched.h"
#include "transport.h"
#include "xalloc.h"
#include "banned.h"

#define RESULT_FILE_MAX (64u << 20)
#define RESULT_FILES_MAX 100000
#define REDUCER_OUT_MAX (1u << 20)

/* The integer 'key' of 'o', or 'dflt'. */
static long long int_or(const json_t *o, const char *key, long long dflt)
{
	const json_t *v = json_object_get(o, key);

	return json_is_integer(v) ? (long long)json_integer_value(v) : dflt;
}

/* ---------------------------------------------------------------- */
/* Aggregation                                                        */
/* ---------------------------------------------------------------- */

/* mkdir -p of the directory of 'path' on this machine. */
static int local_mkdirs_of(const char *path, struct err *err)
{
	char *d = xstrdup(path), *p;

	for (p = d + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(d, 0700) < 0 && errno != EEXIST) {
			err_set(err, ERR_IO_FAILED, "cannot create '%s': %s", d,
				strerror(errno));
			free(d);
			return -1;
		}
		*p = '/';
	}
	free(d);
	return 0;
}

/*
 * Copy every task's result/ into 'out'/tasks/<t>/, from one listing of
 * the campaign's directory 'dir' (trusted: hpcloop made it) whose
 * entries below it are not: the listing skips links, FIFOs and devices,
 * and each file is read with 'dir' as the trusted part and its path as
 * the untrusted one (transport.h), so a result/ that is a link to / is
 * never followed.
 */
static int pull_all(struct cluster *c, struct transport *here,
		    const char *dir, long long tasks, const char *out,
		    long long *files, long long *bytes, struct err *err)
{
	struct buf data = BUF_INIT, to = BUF_INIT;
	json_t *list = NULL, *f;
	long long t;
	size_t i;
	int r = -1;

	for (t = 0; t < tasks; t++) {
		buf_truncate(&to, 0);
		buf_addf(&to, "%s/tasks/%lld/", out, t);
		if (local_mkdirs_of(to.data, err) < 0)
			goto out;
	}
	if (transport_list(c->t, &list, dir, 19, 4 * RESULT_FILES_MAX, err) < 0)
		goto out;
	json_array_foreach(list, i, f) {
		const char *p = json_string_value(json_object_get(f, "path"));
		const char *rest;
		char *end;

		if (strncmp(p, "tasks/", 6))
			continue;
		t = strtoll(p + 6, &end, 10);
		if (end == p + 6 || t < 0 || t >= tasks ||
		    strncmp(end, "/result/", 8))
			continue;
		rest = end + 8;
		buf_truncate(&to, 0);
		buf_addf(&to, "%s/tasks/%lld/%s", out, t, rest);
		if (transport_read_file(c->t, &data, dir, p, RESULT_FILE_MAX,
					err) < 0 ||
		    local_mkdirs_of(to.data, err) < 0 ||
		    transport_write_file(here, to.data, data.data ? data.data : "",
					 data.len, 0600, err) < 0)
			goto out;
		(*files)++;
		*bytes += (long long)data.len;
	}
	r = 0;
out:
	json_decref(list);
	buf_release(&data);
	buf_release(&to);
	return r;
}

int campaign_aggregate(struct journal *j, json_t **data_out,
		       const struct config *cfg, const char *id,
		       const json_t *reducer, const char *out_dir,
		       struct err *err)
{
	struct cluster c = CLUSTER_INIT;
	struct transport *here = NULL;
	struct exec_result res;
	struct buf out = BUF_INIT;
	json_t *row = NULL, *missing = NULL, *params, *red = json_null(), *t;
	json_t *parsed;
	const char **argv = NULL;
	long long files = 0, bytes = 0, tasks;
	const char *dir;
	size_t i;
	int r = -1;

	*data_out = NULL;
	exec_result_init(&res, REDUCER_OUT_MAX);
	if (cp_row(j, &row, id, err) < 0 || cp_cluster(&c, cfg, row, err) < 0 ||
	    transport_open(&here, NULL, err) < 0)
		goto out;
	params = json_pack("[s]", id);
	r = journal_exec(j, &missing,
			 "SELECT task, state FROM campaign_tasks WHERE "
			 "campaign_id = ? AND state <> 'completed' ORDER BY task "
			 "LIMIT 50",
			 params, err);
	json_decref(params);
	if (r < 0)
		goto out;
	r = -1;
	if (json_array_size(missing)) {
		json_t *ids = json_array();

		json_array_foreach(missing, i, t)
			json_array_append(ids, json_object_get(t, "task"));
		err_set(err, ERR_OUTPUTS_MISSING, "%zu or more tasks of %s have "
			"not completed (task %lld is %s)", json_array_size(missing),
			id, (long long)json_integer_value(json_object_get(
				json_array_get(missing, 0), "task")),
			json_string_value(json_object_get(json_array_get(missing, 0),
							  "state")));
		err_detail(err, "missing_tasks", ids);
		err_remedy(err, "wait with monitor-flow, or resubmit-failed the "
			   "failed tasks, then aggregate again");
		goto out;
	}
	dir = json_string_value(json_object_get(row, "directory"));
	if (out_dir) {
		buf_adds(&out, out_dir);
	} else {
		/* Beside the journal, outside the campaign's untrusted tree. */
		char *jd = xstrdup(journal_path(j)), *sl = strrchr(jd, '/');

		if (sl)
			*sl = '\0';
		buf_addf(&out, "%s/aggregate/%s", sl ? jd : ".", id);
		free(jd);
	}
	tasks = int_or(row, "tasks", 0);
	if (pull_all(&c, here, dir, tasks, out.data, &files, &bytes, err) < 0)
		goto out;
	if (json_array_size(reducer)) {
		argv = xcalloc(json_array_size(reducer) + 1, sizeof(*argv));
		json_array_foreach(reducer, i, t)
			argv[i] = json_string_value(t);
		if (local_mkdirs_of(out.data, err) < 0 ||
		    (mkdir(out.data, 0700) < 0 && errno != EEXIST))
			goto out;
		if (proc_run(&res, argv, out.data, NULL, 0, 3600, err) < 0)
			goto out;
		if (res.exit_code != 0) {
			err_set(err, ERR_REDUCER_FAILED, "the reducer exited %d",
				res.exit_code);
			err_detail(err, "stderr", json_string(buf_str(&res.err)));
			goto out;
		}
		parsed = json_loads(buf_str(&res.out), JSON_DECODE_ANY, NULL);
		json_decref(red);
		red = json_pack("{s:i, s:s, s:o, s:b}", "exit_code", res.exit_code,
				"stdout", buf_str(&res.out), "json",
				parsed ? parsed : json_null(), "stdout_truncated",
				res.out_truncated);
	}
	*data_out = json_pack("{s:s, s:I, s:I, s:I, s:s, s:O}", "campaign_id", id,
			      "tasks", (json_int_t)tasks, "files",
			      (json_int_t)files, "bytes", (json_int_t)bytes,
			      "out_dir", out.data, "reducer", red);
	r = *data_out ? 0 : err_set(err, ERR_INTERNAL, "aggregate result");
out:
	free(argv);
	exec_result_release(&res);
	buf_release(&out);
	json_decref(row);
	json_decref(missing);
	json_decref(red);
	transport_close(here);
	cluster_release(&c);
	return r;
}

