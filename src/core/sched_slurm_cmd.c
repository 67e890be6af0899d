/*
 * sched_slurm_cmd.c: how the slurm scheduler runs its commands on the
 * cluster (through the transport, argv vectors only, bounded output,
 * failures named after the command and the first line of its stderr),
 * and where it looks up the jobs that left the queue: the accounting
 * source, found once per cluster and remembered in
 * <state_dir>/slurm-accounting (see sched_slurm.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "sched.h"
#include "sched_slurm.h"
#include "transport.h"
#include "xalloc.h"
#include "banned.h"

/* The most output read from one command. */
#define SLURM_OUT_MAX (4 * 1024 * 1024)
/* The longest id list given to one command (well inside ARG_MAX and
 * sshd's command line). */
#define SLURM_ARGLIST_MAX (64 * 1024)
/* The most ids looked up one by one with scontrol in one query. */
#define SLURM_SCONTROL_MAX 32
/* The file under the state directory naming the accounting source. */
#define SLURM_MODE_FILE "slurm-accounting"

static const char *const mode_names[] = {
	[MODE_UNKNOWN] = "", [MODE_SACCT] = "sacct",
	[MODE_JOBCOMP] = "jobcomp", [MODE_SCONTROL] = "scontrol",
};

static struct sched_slurm *slurm_priv(const struct sched *s)
{
	return s->priv;
}

/* ------------------------------------------------------------------ */
/* Running commands                                                    */
/* ------------------------------------------------------------------ */

/* The first line of 'res''s stderr into 'line', control bytes as '?'. */
static void first_line(struct buf *line, const struct exec_result *res)
{
	const char *p;

	for (p = buf_str(&res->err); *p && *p != '\n' && line->len < 300;
	     p++) {
		char c = (unsigned char)*p < 0x20 || (unsigned char)*p >= 0x7f
				 ? '?' : *p;

		buf_add(line, &c, 1);
	}
	if (!line->len)
		buf_addf(line, "exit status %d", res->exit_code);
}

/*
 * Fail with 'code' after the command 'what' ended badly with 'res':
 * the message quotes the first line of its standard error.
 */
int slurm_failed(struct sched *s, struct err *err, enum err_code code,
		  const char *what, const struct exec_result *res)
{
	struct buf line = BUF_INIT;

	first_line(&line, res);
	err_set(err, code, "%s on cluster '%s' failed: %s", what,
		s->cluster_name, buf_str(&line));
	buf_release(&line);
	err_detail(err, "exit_code", json_integer(res->exit_code));
	if (code == ERR_SCHEDULER_UNAVAILABLE)
		err_remedy(err, "check that slurmctld answers (`sinfo` on the "
			   "cluster); retry later");
	return -1;
}

/*
 * Run 'argv' on the cluster into 'res' (set up here).  A command that
 * could not be found or was cut by the timeout is
 * ERR_SCHEDULER_UNAVAILABLE when 'map_timeout', the transport's own
 * error otherwise (a submission cut short may have submitted).
 */
int slurm_run(struct sched *s, struct exec_result *res,
	       const char *const *argv, int map_timeout, struct err *err)
{
	exec_result_init(res, SLURM_OUT_MAX);
	if (transport_exec(s->t, res, argv, NULL, NULL, 0,
			   slurm_priv(s)->timeout_s, err) < 0) {
		if (err->code == ERR_NOT_FOUND ||
		    (map_timeout && err->code == ERR_TIMEOUT)) {
			enum err_code was = err->code;

			err_clear(err);
			err_set(err, ERR_SCHEDULER_UNAVAILABLE,
				"%s on cluster '%s': %s", argv[0],
				s->cluster_name,
				was == ERR_TIMEOUT ? "no answer in time"
						   : "not installed");
		}
		return -1;
	}
	if (res->exit_code == 127) {
		err_set(err, ERR_SCHEDULER_UNAVAILABLE,
			"%s is not installed on cluster '%s' (exit 127)",
			argv[0], s->cluster_name);
		return err_remedy(err, "install the SLURM client commands "
				  "on the cluster or fix the login PATH");
	}
	if (res->out_truncated)
		return err_set(err, ERR_SCHEDULER_UNAVAILABLE,
			       "%s on cluster '%s' printed more than %d bytes",
			       argv[0], s->cluster_name, SLURM_OUT_MAX);
	return 0;
}

/* Whether every line of 'res''s stderr holds one of 'words'. */
int slurm_only_errors(const struct exec_result *res,
		       const char *const *words)
{
	const char *p = buf_str(&res->err), *nl;
	int seen = 0;
	size_t i;

	for (; *p; p = *nl ? nl + 1 : nl) {
		struct buf l = BUF_INIT;
		int ok = 0;

		nl = strchr(p, '\n');
		if (!nl)
			nl = p + strlen(p);
		if (nl == p)
			continue;
		buf_add(&l, p, (size_t)(nl - p));
		for (i = 0; words[i]; i++)
			ok |= strstr(buf_str(&l), words[i]) != NULL;
		buf_release(&l);
		if (!ok)
			return 0;
		seen = 1;
	}
	return seen;
}

/* A NULL-terminated argv: 'fixed' (NULL-terminated), then 'extra'. */
const char **slurm_argv(const char *const *fixed, const char *extra)
{
	size_t n = 0, i;
	const char **v;

	while (fixed[n])
		n++;
	v = xcalloc(n + 2, sizeof(*v));
	for (i = 0; i < n; i++)
		v[i] = fixed[i];
	v[n] = extra;
	return v;
}

/*
 * The valid ids of 'ids' cut into comma-separated lists of at most
 * SLURM_ARGLIST_MAX bytes: a new array of strings.
 */
json_t *slurm_chunks(const json_t *ids, const char *sep)
{
	json_t *out = json_array(), *v;
	struct buf b = BUF_INIT;
	size_t i;

	json_array_foreach((json_t *)ids, i, v) {
		const char *id = json_string_value(v);

		if (b.len && b.len + strlen(id) + 1 > SLURM_ARGLIST_MAX) {
			json_array_append_new(out, json_string(buf_str(&b)));
			buf_release(&b);
		}
		buf_addf(&b, "%s%s", b.len ? sep : "", id);
	}
	if (b.len)
		json_array_append_new(out, json_string(buf_str(&b)));
	buf_release(&b);
	return out;
}

/* ------------------------------------------------------------------ */
/* The accounting source                                               */
/* ------------------------------------------------------------------ */

/* The remembered source of 's' (MODE_UNKNOWN when none is). */
enum slurm_mode slurm_remembered(struct sched *s)
{
	struct buf b = BUF_INIT;
	struct err e = ERR_INIT;
	enum slurm_mode m = MODE_UNKNOWN, i;

	if (slurm_priv(s)->mode != MODE_UNKNOWN || !*s->state_dir)
		return slurm_priv(s)->mode;
	if (transport_read_file(s->t, &b, s->state_dir, SLURM_MODE_FILE, 64,
				&e) == 0) {
		for (i = MODE_SACCT; i <= MODE_SCONTROL; i++) {
			size_t n = strlen(mode_names[i]);

			if (b.len >= n && !strncmp(buf_str(&b), mode_names[i],
						   n) &&
			    (b.len == n || buf_str(&b)[n] == '\n'))
				m = i;
		}
	}
	err_release(&e);
	buf_release(&b);
	slurm_priv(s)->mode = m;
	return m;
}

/* Remember 'm' as the source of 's' (a failure to write only costs a
 * detection next time). */
static void remember(struct sched *s, enum slurm_mode m)
{
	struct buf path = BUF_INIT;
	struct err e = ERR_INIT;
	char text[16];

	slurm_priv(s)->mode = m;
	if (!*s->state_dir)
		return;
	snprintf(text, sizeof(text), "%s\n", mode_names[m]);
	buf_addf(&path, "%s/%s", s->state_dir, SLURM_MODE_FILE);
	transport_write_file(s->t, buf_str(&path), text, strlen(text), 0600,
			     &e);
	err_release(&e);
	buf_release(&path);
}

/*
 * Ask sacct (plain when 'completion' is 0, -c otherwise) about the
 * comma-separated 'list' into 'recs'.  Returns 0 when it answered, 1
 * when that source is not there on this cluster, -1 on a failure.
 */
static int ask_sacct(struct sched *s, json_t *recs, const char *list,
		     int completion, struct err *err)
{
	static const char *const plain[] = { "sacct", "--noheader",
		"--parsable2", "--allocations",
		"--format=JobID,State,ExitCode", NULL };
	static const char *const comp[] = { "sacct", "--completion",
		"--noheader", "--parsable2",
		"--format=JobID,State,ExitCode", NULL };
	static const char *const absent[] = { "accounting storage is disabled",
		"not configured", "JobCompType", "jobcomp/none",
		"No such file", "Unknown type", NULL };
	struct exec_result res;
	struct buf jobs = BUF_INIT;
	const char **argv;
	int r;

	buf_addf(&jobs, "--jobs=%s", list);
	argv = slurm_argv(completion ? comp : plain, buf_str(&jobs));
	r = slurm_run(s, &res, argv, 1, err);
	if (r == 0 && res.exit_code == 0) {
		json_t *got = json_object(), *rec;
		const char *id;

		slurm_parse_sacct(got, buf_str(&res.out), res.out.len);
		json_object_foreach(got, id, rec) {
			json_object_set_new(rec, "source", json_string(
				completion ? "sacct-completion" : "sacct"));
			json_object_set(recs, id, rec);
		}
		json_decref(got);
	} else if (r == 0 && slurm_only_errors(&res, absent)) {
		r = 1;
	} else if (r == 0) {
		r = slurm_failed(s, err, ERR_SCHEDULER_UNAVAILABLE, "sacct", &res);
	}
	exec_result_release(&res);
	buf_release(&jobs);
	free(argv);
	return r;
}

/* Ask scontrol about each of 'ids' that 'recs' lacks (at most
 * SLURM_SCONTROL_MAX of them). */
static int ask_scontrol(struct sched *s, json_t *recs, const json_t *ids,
			struct err *err)
{
	static const char *const gone[] = { "Invalid job id", NULL };
	struct exec_result res;
	json_t *v, *rec;
	size_t i;
	int asked = 0, r = 0;

	json_array_foreach((json_t *)ids, i, v) {
		const char *id = json_string_value(v);
		const char *argv[] = { "scontrol", "--oneliner", "show", "job",
				       id, NULL };

		if (json_object_get(recs, id) || asked >= SLURM_SCONTROL_MAX)
			continue;
		asked++;
		r = slurm_run(s, &res, argv, 1, err);
		if (r == 0 && res.exit_code == 0) {
			rec = slurm_parse_scontrol(id, buf_str(&res.out),
						   res.out.len);
			if (rec) {
				json_object_set_new(rec, "source",
						    json_string("scontrol"));
				json_object_set_new(recs, id, rec);
			}
		} else if (r == 0 && !slurm_only_errors(&res, gone)) {
			r = slurm_failed(s, err, ERR_SCHEDULER_UNAVAILABLE,
				   "scontrol", &res);
		}
		exec_result_release(&res);
		if (r < 0)
			return -1;
	}
	return 0;
}

/*
 * The records of the ids 'left' (which left the queue) into 'recs'
 * (id -> record, each with its "source"): the cluster's accounting,
 * then scontrol for the rest.
 */
int slurm_accounting(struct sched *s, json_t *recs, const json_t *left,
		      struct err *err)
{
	enum slurm_mode m = slurm_remembered(s);
	json_t *lists = slurm_chunks(left, ","), *whole = json_array(), *comp;
	json_t *v;
	size_t i;
	int r = 0, tried_sacct = 0;

	/* A completion log knows array tasks only by their raw ids, and
	 * answers "123_4" with the record of another task: ask it about
	 * whole jobs only; scontrol tells the tasks. */
	json_array_foreach((json_t *)left, i, v) {
		if (!strchr(json_string_value(v), '_'))
			json_array_append(whole, v);
	}
	comp = slurm_chunks(whole, ",");
	json_decref(whole);

	if (m == MODE_UNKNOWN || m == MODE_SACCT) {
		tried_sacct = 1;
		json_array_foreach(lists, i, v) {
			r = ask_sacct(s, recs, json_string_value(v), 0, err);
			if (r != 0)
				break;
		}
		if (r < 0)
			goto out;
		if (r == 0) {
			if (m == MODE_UNKNOWN)
				remember(s, MODE_SACCT);
			m = MODE_SACCT;
		} else {
			m = MODE_JOBCOMP;
		}
	}
	if (m == MODE_JOBCOMP && json_array_size(comp)) {
		r = 0;
		json_array_foreach(comp, i, v) {
			r = ask_sacct(s, recs, json_string_value(v), 1, err);
			if (r != 0)
				break;
		}
		if (r < 0)
			goto out;
		if (r == 0) {
			if (tried_sacct || slurm_priv(s)->mode == MODE_UNKNOWN)
				remember(s, MODE_JOBCOMP);
		} else {
			remember(s, MODE_SCONTROL);
		}
	}
	/* What the accounting did not answer: the controller's memory. */
	r = ask_scontrol(s, recs, left, err);
out:
	json_decref(lists);
	json_decref(comp);
	return r < 0 ? -1 : 0;
}

