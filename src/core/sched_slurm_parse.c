/*
 * sched_slurm_parse.c: the pure parts of the slurm scheduler (see
 * sched_slurm.h): job ids, the state table, squeue / sacct / scontrol
 * output, and the #SBATCH lines.  Everything read here came from a
 * command on a shared machine, so every line is checked for its shape
 * and a line that does not fit is skipped, never guessed at.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "ids.h"
#include "sched_slurm.h"
#include "xalloc.h"
#include "banned.h"

/* The longest line of command output looked at. */
#define SLURM_LINE_MAX 8192
/* The longest job option value written into a directive. */
#define SLURM_VALUE_MAX 512

/* ------------------------------------------------------------------ */
/* Job ids and exit codes                                              */
/* ------------------------------------------------------------------ */

/* The 'n' bytes at 'p' as a new JSON string, every byte that is not
 * printable ASCII as '?': command output is no proof of UTF-8. */
static json_t *ascii_string(const char *p, size_t n)
{
	char *s = xmalloc(n + 1);
	json_t *v;
	size_t i;

	for (i = 0; i < n; i++)
		s[i] = (unsigned char)p[i] < 0x20 || (unsigned char)p[i] >= 0x7f
			       ? '?' : p[i];
	s[n] = '\0';
	v = json_string(s);
	free(s);
	return v;
}

/* Whether the 'n' bytes at 'p' are a decimal number without a leading
 * zero (or "0" alone) of at most 19 digits. */
static int decimal(const char *p, size_t n)
{
	size_t i;

	if (n == 0 || n > 19 || (p[0] == '0' && n > 1))
		return 0;
	for (i = 0; i < n; i++) {
		if (p[i] < '0' || p[i] > '9')
			return 0;
	}
	return 1;
}

int slurm_valid_id(const char *id)
{
	const char *us;

	if (!id || !*id || id[0] == '0')
		return 0;
	us = strchr(id, '_');
	if (!us)
		return decimal(id, strlen(id));
	return decimal(id, (size_t)(us - id)) &&
	       decimal(us + 1, strlen(us + 1));
}

/* Whether the 'n' bytes at 'p' are a SLURM cluster name. */
static int cluster_name(const char *p, size_t n)
{
	size_t i;

	if (n == 0 || n > 64)
		return 0;
	for (i = 0; i < n; i++) {
		if (!isalnum((unsigned char)p[i]) && p[i] != '_' &&
		    p[i] != '-' && p[i] != '.')
			return 0;
	}
	return 1;
}

int slurm_parse_job_id(char **out, const char *text, size_t len,
		       struct err *err)
{
	const char *semi;
	size_t n = len, idn;

	*out = NULL;
	if (n && text[n - 1] == '\n')
		n--;
	semi = memchr(text, ';', n);
	idn = semi ? (size_t)(semi - text) : n;
	if (memchr(text, '\0', len) || !decimal(text, idn) || text[0] == '0' ||
	    (semi && !cluster_name(semi + 1, n - idn - 1))) {
		json_t *shown = ascii_string(text, len > 200 ? 200 : len);

		err_set(err, ERR_REMOTE_COMMAND_FAILED,
			"sbatch printed no job id: '%s'",
			json_string_value(shown));
		json_decref(shown);
		err_detail(err, "stdout",
			   ascii_string(text, len > 4096 ? 4096 : len));
		return err_remedy(err, "look for the job with squeue --me; a "
				  "retry of the same call adopts it");
	}
	*out = xstrndup(text, idn);
	return 0;
}

int slurm_parse_exit(int *code_out, int *signal_out, const char *text)
{
	const char *colon = text ? strchr(text, ':') : NULL;
	char *end;
	long c, s;

	*code_out = *signal_out = -1;
	if (!colon || colon == text || !isdigit((unsigned char)text[0]) ||
	    !isdigit((unsigned char)colon[1]))
		return -1;
	errno = 0;
	c = strtol(text, &end, 10);
	if (errno || end != colon || c > 255)
		return -1;
	s = strtol(colon + 1, &end, 10);
	if (errno || *end || s > 255)
		return -1;
	*code_out = (int)c;
	*signal_out = (int)s;
	return 0;
}

/* ------------------------------------------------------------------ */
/* The state table                                                     */
/* ------------------------------------------------------------------ */

/* What each SLURM state word means; 'done' words end the job. */
static const struct {
	const char *word;
	enum sched_state state;
} states[] = {
	{ "PENDING", SCHED_PENDING },
	{ "CONFIGURING", SCHED_PENDING },
	{ "RESV_DEL_HOLD", SCHED_PENDING },
	{ "RUNNING", SCHED_RUNNING },
	{ "COMPLETING", SCHED_RUNNING },
	{ "SUSPENDED", SCHED_RUNNING },
	{ "STOPPED", SCHED_RUNNING },
	{ "SIGNALING", SCHED_RUNNING },
	{ "STAGE_OUT", SCHED_RUNNING },
	{ "RESIZING", SCHED_RUNNING },
	{ "COMPLETED", SCHED_COMPLETED },
	{ "FAILED", SCHED_FAILED },
	{ "NODE_FAIL", SCHED_FAILED },
	{ "BOOT_FAIL", SCHED_FAILED },
	{ "OUT_OF_MEMORY", SCHED_FAILED },
	{ "DEADLINE", SCHED_FAILED },
	{ "SPECIAL_EXIT", SCHED_FAILED },
	{ "CANCELLED", SCHED_CANCELLED },
	{ "REVOKED", SCHED_CANCELLED },
	{ "TIMEOUT", SCHED_TIMED_OUT },
	{ "PREEMPTED", SCHED_REQUEUED },
	{ "REQUEUED", SCHED_REQUEUED },
	{ "REQUEUE_HOLD", SCHED_REQUEUED },
	{ "REQUEUE_FED", SCHED_REQUEUED },
};

enum sched_state slurm_state(const char *raw, int code, int sig, int queued)
{
	size_t i, n;
	enum sched_state st;

	if (!raw)
		return SCHED_UNKNOWN;
	/* "CANCELLED by 1000": the word is what comes before a space;
	 * sacct may also end a word with '+' when it was cut. */
	n = strcspn(raw, " +");
	if (raw[n] == '+' || (raw[n] == ' ' && strncmp(raw + n, " by ", 4)))
		return SCHED_UNKNOWN;
	for (i = 0; i < sizeof(states) / sizeof(states[0]); i++) {
		if (strlen(states[i].word) != n ||
		    strncmp(states[i].word, raw, n))
			continue;
		st = states[i].state;
		if (raw[n] == ' ' && st != SCHED_CANCELLED)
			return SCHED_UNKNOWN;
		/* Success needs proof: exit code 0 and no signal. */
		if (st == SCHED_COMPLETED && (code != 0 || sig > 0))
			return SCHED_FAILED;
		/* Preempted and gone from the queue: it will not run
		 * again, so it is over, and did not succeed. */
		if (st == SCHED_REQUEUED && !queued &&
		    !strcmp(states[i].word, "PREEMPTED"))
			return SCHED_FAILED;
		return st;
	}
	return SCHED_UNKNOWN;
}

/* ------------------------------------------------------------------ */
/* Command output                                                      */
/* ------------------------------------------------------------------ */

/* A record {"raw_state", "exit_code", "signal", "reason"}; new. */
static json_t *record(const char *state, size_t state_len, const char *exit,
		      const char *reason, size_t reason_len)
{
	int code = -1, sig = -1;

	if (exit)
		slurm_parse_exit(&code, &sig, exit);
	return json_pack("{s:s%, s:o, s:o, s:o}", "raw_state", state,
			 state_len, "exit_code",
			 code >= 0 ? json_integer(code) : json_null(),
			 "signal", sig >= 0 ? json_integer(sig) : json_null(),
			 "reason", reason && reason_len
			 ? ascii_string(reason, reason_len)
			 : json_null());
}

/* Whether the 'n' bytes at 'p' are a state word: capitals, '_', and
 * for CANCELLED " by " and a uid. */
static int state_text(const char *p, size_t n)
{
	size_t i;

	if (n == 0 || n > 64)
		return 0;
	for (i = 0; i < n; i++) {
		if (!isupper((unsigned char)p[i]) && p[i] != '_' &&
		    p[i] != ' ' && p[i] != '+' && !isdigit((unsigned char)p[i]) &&
		    !(p[i] >= 'a' && p[i] <= 'z'))
			return 0;
	}
	return 1;
}

/*
 * Call 'fn' for each line of the 'len' bytes at 'text' (without its
 * newline); lines longer than SLURM_LINE_MAX are skipped and counted.
 * Returns the lines skipped, 'fn''s own count added.
 */
static int each_line(const char *text, size_t len,
		     int (*fn)(json_t *out, char *line), json_t *out)
{
	const char *p = text, *end = text + len, *nl;
	char *line;
	int skipped = 0;

	while (p < end) {
		nl = memchr(p, '\n', (size_t)(end - p));
		if (!nl)
			nl = end;
		if ((size_t)(nl - p) > SLURM_LINE_MAX ||
		    memchr(p, '\0', (size_t)(nl - p))) {
			skipped++;
		} else if (nl > p) {
			line = xstrndup(p, (size_t)(nl - p));
			if (line[strlen(line) - 1] == '\r')
				line[strlen(line) - 1] = '\0';
			skipped += fn(out, line);
			free(line);
		}
		p = nl + 1;
	}
	return skipped;
}

/*
 * One squeue line "ID|STATE|REASON[|RESTARTS]" into 'out'; 1 when
 * skipped.  RESTARTS, when there, is how often the job was requeued.
 */
static int squeue_line(json_t *out, char *line)
{
	char *a = strchr(line, '|'), *b, *c, *end;
	long restarts = -1;
	json_t *rec;

	if (!a)
		return 1;
	*a++ = '\0';
	b = strchr(a, '|');
	if (!b)
		return 1;
	*b++ = '\0';
	c = strrchr(b, '|');
	if (c) {
		*c++ = '\0';
		if (!isdigit((unsigned char)*c))
			return 1;
		errno = 0;
		restarts = strtol(c, &end, 10);
		if (errno || *end || restarts > INT_MAX)
			return 1;
	}
	if (!slurm_valid_id(line) || !state_text(a, strlen(a)))
		return 1;
	rec = record(a, strlen(a), NULL, b, strlen(b));
	if (restarts >= 0)
		json_object_set_new(rec, "restarts", json_integer(restarts));
	json_object_set_new(out, line, rec);
	return 0;
}

int slurm_parse_squeue(json_t *out, const char *text, size_t len)
{
	return each_line(text, len, squeue_line, out);
}

/* One sacct line "JOBID|STATE|EXITCODE" into 'out'; 1 when skipped. */
static int sacct_line(json_t *out, char *line)
{
	char *a = strchr(line, '|'), *b;
	int code, sig;

	if (!a)
		return 1;
	*a++ = '\0';
	b = strchr(a, '|');
	if (!b)
		return 1;
	*b++ = '\0';
	/* Steps ("123.batch", "123.0") are not the job. */
	if (strchr(line, '.'))
		return 0;
	if (!slurm_valid_id(line) || !state_text(a, strlen(a)) ||
	    strchr(b, '|') || slurm_parse_exit(&code, &sig, b) < 0)
		return 1;
	json_object_set_new(out, line, record(a, strlen(a), b, NULL, 0));
	return 0;
}

int slurm_parse_sacct(json_t *out, const char *text, size_t len)
{
	return each_line(text, len, sacct_line, out);
}

/*
 * The value of the field "KEY=" in the scontrol line 'line' (at the
 * start of the line or after a space), up to the next space, as a new
 * string; NULL when absent, and when it is there twice: a job name or a
 * path holding " JobState=..." must not pass for the field.
 */
static char *field(const char *line, const char *key)
{
	size_t k = strlen(key);
	const char *p = line, *found = NULL;

	while ((p = strstr(p, key))) {
		if ((p == line || p[-1] == ' ') && p[k] == '=') {
			if (found)
				return NULL;
			found = p + k + 1;
		}
		p += k;
	}
	return found ? xstrndup(found, strcspn(found, " ")) : NULL;
}

json_t *slurm_parse_scontrol(const char *id, const char *text, size_t len)
{
	char *line, *job, *arr, *task, *st, *exit, *reason;
	json_t *rec = NULL;
	struct buf b = BUF_INIT;
	const char *nl;

	nl = memchr(text, '\n', len);
	if (nl)
		len = (size_t)(nl - text);
	if (len == 0 || len > SLURM_LINE_MAX || memchr(text, '\0', len) ||
	    strncmp(text, "JobId=", 6))
		return NULL;
	line = xstrndup(text, len);
	job = field(line, "JobId");
	arr = field(line, "ArrayJobId");
	task = field(line, "ArrayTaskId");
	st = field(line, "JobState");
	exit = field(line, "ExitCode");
	reason = field(line, "Reason");
	if (arr && task)
		buf_addf(&b, "%s_%s", arr, task);
	if (job && st && state_text(st, strlen(st)) &&
	    (!strcmp(job, id) || (arr && task && !strcmp(buf_str(&b), id))))
		rec = record(st, strlen(st), exit, reason,
			     reason && strcmp(reason, "None") ?
			     strlen(reason) : 0);
	buf_release(&b);
	free(line);
	free(job);
	free(arr);
	free(task);
	free(st);
	free(exit);
	free(reason);
	return rec;
}

json_t *slurm_verdict(enum sched_state *state_out, const json_t *rec,
		      const char *source, int queued)
{
	char now[IDS_TIME_LEN];
	const json_t *code = json_object_get(rec, "exit_code");
	const json_t *sig = json_object_get(rec, "signal");
	const char *raw = json_string_value(json_object_get(rec,
							    "raw_state"));
	json_t *e;

	*state_out = slurm_state(raw, json_is_integer(code) ?
				 (int)json_integer_value(code) : -1,
				 json_is_integer(sig) ?
				 (int)json_integer_value(sig) : -1, queued);
	/* Pending again after it ran: requeued (SLURM shows REQUEUED only
	 * for an instant, then PENDING with a restart count). */
	if (queued && *state_out == SCHED_PENDING &&
	    json_integer_value(json_object_get(rec, "restarts")) > 0)
		*state_out = SCHED_REQUEUED;
	ids_now(now);
	e = json_pack("{s:s, s:O?, s:O?, s:O?, s:O?, s:s}", "source", source,
		      "raw_state", json_object_get(rec, "raw_state"),
		      "exit_code", code, "signal", sig, "reason",
		      json_object_get(rec, "reason"), "checked_at", now);
	if (json_is_integer(json_object_get(rec, "restarts")))
		json_object_set(e, "restarts", json_object_get(rec, "restarts"));
	if (!rec)
		json_object_set_new(e, "detail",
				    json_string("neither the queue nor the "
						"accounting knows this job"));
	else if (*state_out == SCHED_UNKNOWN)
		json_object_set_new(e, "detail",
				    json_string("a state hpcloop does not "
						"know: not counted as an end"));
	return e;
}

/* ------------------------------------------------------------------ */
/* Directives                                                          */
/* ------------------------------------------------------------------ */

/*
 * The sbatch long options a job option may set.  The ones hpcloop
 * sets itself (job-name, comment, chdir, output, error, signal,
 * requeue, array, dependency, export, parsable, wrap) are not here.
 */
static const char *const allowed[] = {
	"account", "acctg-freq", "batch", "bb", "begin", "clusters",
	"constraint", "container", "core-spec", "cores-per-socket",
	"cpu-freq", "cpus-per-gpu", "cpus-per-task", "deadline", "delay-boot",
	"distribution", "exclude", "extra-node-info", "gpu-bind", "gpu-freq",
	"gpus", "gpus-per-node", "gpus-per-socket", "gpus-per-task", "gres",
	"gres-flags", "hint", "licenses", "mail-type", "mail-user",
	"mcs-label", "mem", "mem-bind", "mem-per-cpu", "mem-per-gpu",
	"mincpus", "network", "nice", "nodefile", "nodelist", "nodes",
	"ntasks", "ntasks-per-core", "ntasks-per-gpu", "ntasks-per-node",
	"ntasks-per-socket", "partition", "power", "prefer", "priority",
	"profile", "qos", "reservation", "sockets-per-node", "spread-job",
	"switches", "thread-spec", "threads-per-core", "time-min", "tmp",
	"uid", "wckey",
};

/* 'key' with '_' turned into '-' into 'name' (size 'n'); -1 if long. */
static int option_name(char *name, size_t n, const char *key)
{
	size_t i, k = strlen(key);

	if (k >= n)
		return -1;
	for (i = 0; i <= k; i++)
		name[i] = key[i] == '_' ? '-' : (char)tolower((unsigned char)
							      key[i]);
	return 0;
}

/* Whether 'name' is one of allowed[]. */
static int option_allowed(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(allowed) / sizeof(allowed[0]); i++) {
		if (!strcmp(allowed[i], name))
			return 1;
	}
	return 0;
}

/*
 * Whether 'v' may stand in a directive: printable ASCII, no blank, no
 * quote, backslash or '#', which sbatch's own splitting of #SBATCH
 * lines would read as syntax.
 */
static int value_ok(const char *v)
{
	const unsigned char *p;

	if (!*v || strlen(v) > SLURM_VALUE_MAX)
		return 0;
	for (p = (const unsigned char *)v; *p; p++) {
		if (*p <= ' ' || *p >= 0x7f || *p == '"' || *p == '\'' ||
		    *p == '\\' || *p == '#' || *p == '`')
			return 0;
	}
	return 1;
}

/* Whether 'v' is a SLURM time: digits, ':' and one '-' (D-HH:MM:SS). */
static int time_ok(const char *v)
{
	size_t n = strspn(v, "0123456789:-");

	return *v && isdigit((unsigned char)*v) && !v[n] && n <= 16 &&
	       strchr(v, '-') == strrchr(v, '-');
}

int slurm_directives(struct buf *out, const struct sched_submit *req,
		     struct err *err)
{
	size_t before = out->len;
	const char *key, *opt_time = NULL;
	const json_t *v;
	char name[64];
	int grace, r = 0;

	json_object_foreach((json_t *)req->job_options, key, v) {
		const char *val = json_string_value(v);

		if (!val) {
			r = err_set(err, ERR_INTERNAL,
				    "job option '%s' is not a string", key);
			break;
		}
		if (!strcmp(key, "time")) {
			if (!time_ok(val)) {
				r = err_set(err, ERR_SCHEDULER_REJECTED,
					    "job option 'time' is not a SLURM "
					    "time ([D-]HH:MM:SS)");
				err_detail(err, "option", json_string(key));
				break;
			}
			opt_time = val;
			continue;
		}
		if (option_name(name, sizeof(name), key) < 0 ||
		    !option_allowed(name)) {
			r = err_set(err, ERR_SCHEDULER_REJECTED,
				    "job option '%s' is not an sbatch option "
				    "hpcloop passes on", key);
			err_detail(err, "option", json_string(key));
			err_remedy(err, "use one of the sbatch long options "
				   "(partition, account, qos, mem, gres, "
				   "cpus_per_task, constraint, ...); job-name, "
				   "output, signal and the like are set by "
				   "hpcloop");
			break;
		}
		if (!value_ok(val)) {
			r = err_set(err, ERR_SCHEDULER_REJECTED,
				    "job option '%s' has a value sbatch cannot "
				    "read in a directive (blanks, quotes, '#' "
				    "or non-ASCII)", key);
			err_detail(err, "option", json_string(key));
			break;
		}
		if (buf_addf(out, "#SBATCH --%s=%s\n", name, val) < 0) {
			r = -1;
			break;
		}
	}
	if (r == 0 && req->time_limit_s > 0)
		r = buf_addf(out, "#SBATCH --time=%d:%02d:%02d\n",
			     req->time_limit_s / 3600,
			     req->time_limit_s / 60 % 60,
			     req->time_limit_s % 60);
	else if (r == 0 && opt_time)
		r = buf_addf(out, "#SBATCH --time=%s\n", opt_time);
	if (r == 0) {
		grace = req->signal_grace_s > 0 ? req->signal_grace_s
						: SLURM_DEFAULT_SIGNAL_GRACE_S;
		/* Never more than 9/10 of the time limit (the job must
		 * run a while first), never past SLURM's 65535. */
		if (req->time_limit_s > 0 &&
		    grace > req->time_limit_s * 9 / 10)
			grace = req->time_limit_s * 9 / 10 ?
				req->time_limit_s * 9 / 10 : 1;
		if (grace > 65535)
			grace = 65535;
		r = buf_addf(out, "#SBATCH --signal=B:USR1@%d\n", grace);
	}
	if (r == 0)
		r = buf_adds(out, req->requeue ? "#SBATCH --requeue\n"
				     : "#SBATCH --no-requeue\n");
	if (r < 0) {
		buf_truncate(out, before);
		if (err->code == ERR_NONE)
			err_set(err, ERR_SPEC_INVALID,
				"the job options make too long a script "
				"header");
		return -1;
	}
	return 0;
}
