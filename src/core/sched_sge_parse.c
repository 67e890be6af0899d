/*
 * sched_sge_parse.c: what Son of Grid Engine prints, read strictly, and
 * the "#$" header lines of a job script (see sched_sge.h).  Pure: no
 * command, no file, no clock.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "sched_sge.h"
#include "xalloc.h"
#include "banned.h"

/* ------------------------------------------------------------------ */
/* Small helpers                                                       */
/* ------------------------------------------------------------------ */

/* 1 when 's' is 1 to 'max' decimal digits and nothing else. */
static int all_digits(const char *s, size_t max)
{
	size_t n = 0;

	if (!s || !*s)
		return 0;
	for (; s[n]; n++) {
		if (!isdigit((unsigned char)s[n]) || n >= max)
			return 0;
	}
	return 1;
}

/* 1 when every byte of 's' (not empty) is a letter, digit or in 'extra'. */
static int word_of(const char *s, const char *extra, size_t max)
{
	size_t n;

	if (!s || !*s || strlen(s) > max)
		return 0;
	for (n = 0; s[n]; n++) {
		if (!isalnum((unsigned char)s[n]) && !strchr(extra, s[n]))
			return 0;
	}
	return 1;
}

/* Parse a decimal 's' (digits only) into '*out' when it is 1..max. */
static int parse_count(const char *s, long max, long *out)
{
	char *end;
	long v;

	if (!all_digits(s, 9))
		return -1;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end || v < 1 || v > max)
		return -1;
	*out = v;
	return 0;
}

int sched_sge_split_id(const char *id, unsigned long long *job_out,
		       unsigned long *task_out)
{
	char num[24];
	const char *dot;
	size_t n;

	*job_out = 0;
	*task_out = 0;
	if (!id)
		return -1;
	dot = strchr(id, '.');
	n = dot ? (size_t)(dot - id) : strlen(id);
	if (n == 0 || n >= sizeof(num))
		return -1;
	memcpy(num, id, n);
	num[n] = '\0';
	if (!all_digits(num, 18) || (dot && !all_digits(dot + 1, 9)))
		return -1;
	*job_out = strtoull(num, NULL, 10);
	if (dot)
		*task_out = strtoul(dot + 1, NULL, 10);
	if (*job_out == 0 || (dot && *task_out == 0))
		return -1;
	return 0;
}

int sched_sge_good_run_id(const char *run_id)
{
	size_t n;

	if (!run_id || !*run_id || strlen(run_id) > 64)
		return 0;
	for (n = 0; run_id[n]; n++) {
		if (!isalnum((unsigned char)run_id[n]) &&
		    !strchr("_.-", run_id[n]))
			return 0;
	}
	return 1;
}

/* ------------------------------------------------------------------ */
/* Directives                                                          */
/* ------------------------------------------------------------------ */

/* The text of option 'key' of 'opts' (a string or an integer), or NULL. */
static const char *option_text(const json_t *opts, const char *key,
			       char *tmp, size_t tmp_len)
{
	const json_t *v = json_object_get(opts, key);

	if (json_is_integer(v)) {
		snprintf(tmp, tmp_len, "%lld",
			 (long long)json_integer_value(v));
		return tmp;
	}
	return json_string_value(v);
}

/* "[[H:]M:]S" or plain minutes, as the local scheduler reads "time". */
static int parse_time_option(const char *text, int *out)
{
	long part[3] = { 0, 0, 0 }, v;
	char copy[32], *p, *colon;
	int n = 0;

	if (!text || strlen(text) >= sizeof(copy))
		return -1;
	if (all_digits(text, 7)) {
		if (parse_count(text, INT_MAX / 60, &v) < 0)
			return -1;
		*out = (int)v * 60;
		return 0;
	}
	memcpy(copy, text, strlen(text) + 1);
	for (p = copy; n < 3; p = colon + 1) {
		colon = strchr(p, ':');
		if (colon)
			*colon = '\0';
		if (!all_digits(p, 7))
			return -1;
		part[n++] = strtol(p, NULL, 10);
		if (!colon)
			break;
	}
	if (colon || n < 2)
		return -1;
	v = n == 3 ? part[0] * 3600 + part[1] * 60 + part[2] :
		part[0] * 60 + part[1];
	if (v < 1 || v > INT_MAX)
		return -1;
	*out = (int)v;
	return 0;
}

/* The keys sched_sge_directives() knows. */
static const char *const known_options[] = {
	"mem", "cpus", "pe", "gpu", "queue", "project", "time", NULL
};

/* 1 when 'key' is one of known_options. */
static int known_option(const char *key)
{
	size_t i;

	for (i = 0; known_options[i]; i++) {
		if (!strcmp(known_options[i], key))
			return 1;
	}
	return 0;
}

/*
 * Append the "#$" line of option 'key' to 'b' in the format 'fmt' (one
 * %s) when 'opts' has it and its value matches 'ok'; refuse it when it
 * does not.
 */
static int option_line(struct buf *b, const json_t *opts, const char *key,
		       int (*ok)(const char *), const char *fmt,
		       struct err *err)
{
	char tmp[32];
	const char *v = option_text(opts, key, tmp, sizeof(tmp));

	if (!json_object_get(opts, key))
		return 0;
	if (!v || !ok(v))
		return err_set(err, ERR_SCHEDULER_REJECTED,
			       "job option '%s' has a value sge cannot take",
			       key);
	buf_addf(b, fmt, v);
	return 0;
}

/* Memory: digits, an optional fraction, an optional unit. */
static int ok_mem(const char *v)
{
	size_t n = strspn(v, "0123456789");

	if (n == 0 || n > 12)
		return 0;
	if (v[n] == '.') {
		size_t f = strspn(v + n + 1, "0123456789");

		if (f == 0 || f > 6)
			return 0;
		n += f + 1;
	}
	if (v[n] && strchr("KkMmGgTt", v[n]))
		n++;
	return v[n] == '\0';
}

static int ok_count(const char *v)
{
	long n;

	return parse_count(v, 1000000, &n) == 0;
}

/* Queue: "all.q", "all.q@host", "a.q,b.q", "*.q". */
static int ok_queue(const char *v)
{
	return word_of(v, "_.-@*,", 256) && v[0] != '-';
}

/* Project and parallel environment names: SGE object names. */
static int ok_object(const char *v)
{
	return word_of(v, "_.-", 128) && isalpha((unsigned char)v[0]);
}

int sched_sge_directives(struct buf *out, const struct sched_submit *req,
			 struct err *err)
{
	const json_t *opts = req->job_options;
	struct buf b = BUF_INIT;
	const char *key, *pe;
	const json_t *v;
	char tmp[32], pe_tmp[32];
	int limit = req->time_limit_s > 0 ? req->time_limit_s : 0, grace;
	int r = -1;

	buf_init(&b, 64 * 1024);
	json_object_foreach((json_t *)opts, key, v) {
		if (!known_option(key)) {
			err_set(err, ERR_SCHEDULER_REJECTED,
				"job option '%s' is not one sge knows (mem, "
				"cpus, pe, gpu, queue, project, time)", key);
			goto out;
		}
	}
	buf_adds(&b, "#$ -S /bin/bash\n");
	if (!limit && json_object_get(opts, "time") &&
	    parse_time_option(option_text(opts, "time", tmp, sizeof(tmp)),
			      &limit) < 0) {
		err_set(err, ERR_SCHEDULER_REJECTED,
			"job option 'time' has a value sge cannot take");
		goto out;
	}
	if (limit) {
		grace = limit >= 4 * SGE_GRACE_S ? SGE_GRACE_S : limit / 4;
		buf_addf(&b, "#$ -l h_rt=%d\n", limit);
		if (grace > 0)
			buf_addf(&b, "#$ -l s_rt=%d\n", limit - grace);
	}
	if (option_line(&b, opts, "mem", ok_mem, "#$ -l h_vmem=%s\n",
			err) < 0)
		goto out;
	pe = option_text(opts, "pe", pe_tmp, sizeof(pe_tmp));
	if (json_object_get(opts, "pe") && (!pe || !ok_object(pe))) {
		err_set(err, ERR_SCHEDULER_REJECTED,
			"job option 'pe' has a value sge cannot take");
		goto out;
	}
	if (json_object_get(opts, "cpus")) {
		const char *c = option_text(opts, "cpus", tmp, sizeof(tmp));

		if (!c || !ok_count(c)) {
			err_set(err, ERR_SCHEDULER_REJECTED,
				"job option 'cpus' has a value sge cannot "
				"take");
			goto out;
		}
		buf_addf(&b, "#$ -pe %s %s\n", pe ? pe : SGE_DEFAULT_PE, c);
	}
	if (option_line(&b, opts, "gpu", ok_count, "#$ -l gpu=%s\n",
			err) < 0 ||
	    option_line(&b, opts, "queue", ok_queue, "#$ -q %s\n", err) < 0 ||
	    option_line(&b, opts, "project", ok_object, "#$ -P %s\n",
			err) < 0)
		goto out;
	if (buf_add(out, b.data, b.len) < 0) {
		err_set(err, ERR_SPEC_INVALID,
			"the job script's header would be too long");
		goto out;
	}
	r = 0;
out:
	buf_release(&b);
	return r;
}

/* ------------------------------------------------------------------ */
/* qsub -terse                                                         */
/* ------------------------------------------------------------------ */

int sched_sge_parse_job_id(char **out, const char *text, size_t len,
			   struct err *err)
{
	size_t n = 0, end = len;
	const char *p;

	*out = NULL;
	if (end && text[end - 1] == '\n')
		end--;
	while (n < end && isdigit((unsigned char)text[n]))
		n++;
	if (n == 0 || n > 18 || text[0] == '0')
		goto bad;
	if (n < end) {
		/* An array: ".FIRST-LAST:STEP". */
		p = text + n;
		if (*p != '.' || end - n < 6)
			goto bad;
		for (p++; p < text + end; p++) {
			if (!isdigit((unsigned char)*p) && *p != '-' &&
			    *p != ':')
				goto bad;
		}
	}
	*out = xmalloc(n + 1);
	memcpy(*out, text, n);
	(*out)[n] = '\0';
	return 0;
bad:
	return err_set(err, ERR_SCHEDULER_REJECTED,
		       "qsub printed no job id (%zu bytes of something else)",
		       len);
}

void sched_sge_job_name(char *out, const char *name)
{
	size_t i = 0, o = 0;

	if (name && (isdigit((unsigned char)name[0]) || name[0] == '.'))
		out[o++] = 'j';
	for (; name && name[i] && o < SGE_NAME_MAX; i++) {
		unsigned char c = (unsigned char)name[i];

		out[o++] = isalnum(c) || c == '_' || c == '.' || c == '-' ?
			(char)c : '_';
	}
	out[o] = '\0';
	if (!o)
		memcpy(out, "hpcloop", sizeof("hpcloop"));
}

/* ------------------------------------------------------------------ */
/* qstat -xml                                                          */
/* ------------------------------------------------------------------ */

/*
 * Decode the XML text 'p'..'end' (entity references: the five named
 * ones and &#N; / &#xN; of ASCII) into a new string in '*out'; -1 for a
 * '<' or an entity it does not know.
 */
static int xml_text(char **out, const char *p, const char *end)
{
	static const struct { const char *name; char c; } ents[] = {
		{ "amp;", '&' }, { "lt;", '<' }, { "gt;", '>' },
		{ "quot;", '"' }, { "apos;", '\'' },
	};
	struct buf b = BUF_INIT;
	size_t i;

	buf_init(&b, 64 * 1024);
	while (p < end) {
		if (*p == '<')
			goto bad;
		if (*p != '&') {
			buf_add(&b, p++, 1);
			continue;
		}
		p++;
		for (i = 0; i < sizeof(ents) / sizeof(ents[0]); i++) {
			size_t n = strlen(ents[i].name);

			if ((size_t)(end - p) >= n &&
			    !memcmp(p, ents[i].name, n)) {
				buf_add(&b, &ents[i].c, 1);
				p += n;
				break;
			}
		}
		if (i < sizeof(ents) / sizeof(ents[0]))
			continue;
		if (p < end && *p == '#') {
			int hex = p + 1 < end && (p[1] == 'x' || p[1] == 'X');
			const char *q = p + 1 + hex;
			unsigned long c = 0;
			char ch;

			for (; q < end && isxdigit((unsigned char)*q) &&
			     c < 256; q++)
				c = c * (hex ? 16 : 10) +
				    (unsigned long)(isdigit((unsigned char)*q) ?
				     *q - '0' : (tolower((unsigned char)*q) -
						 'a' + 10));
			if (q == p + 1 + hex || q >= end || *q != ';' ||
			    c == 0 || c > 127 || (!hex && strspn(p + 1,
					"0123456789") != (size_t)(q - p - 1)))
				goto bad;
			ch = (char)c;
			buf_add(&b, &ch, 1);
			p = q + 1;
			continue;
		}
		goto bad;
	}
	*out = buf_detach(&b, NULL);
	return 0;
bad:
	buf_release(&b);
	*out = NULL;
	return -1;
}

/* Find 'needle' in 'p'..'end'; NULL when it is not there. */
static const char *find_in(const char *p, const char *end,
			   const char *needle)
{
	size_t n = strlen(needle);

	for (; p && (size_t)(end - p) >= n; p++) {
		if (*p == *needle && !memcmp(p, needle, n))
			return p;
	}
	return NULL;
}

/*
 * The decoded text of the element <tag> inside 'p'..'end' into '*out'
 * (new), NULL when absent; -1 when it is there but malformed.
 */
static int element(char **out, const char *p, const char *end,
		   const char *tag)
{
	char open[40], close[40];
	const char *a, *z;

	*out = NULL;
	snprintf(open, sizeof(open), "<%s>", tag);
	snprintf(close, sizeof(close), "</%s>", tag);
	a = find_in(p, end, open);
	if (!a)
		return 0;
	a += strlen(open);
	z = find_in(a, end, close);
	if (!z)
		return -1;
	return xml_text(out, a, z);
}

/* One <job_list ...>...</job_list> block, as an entry of the result. */
static int job_entry(json_t *jobs, const char *p, const char *end)
{
	static const char *const fields[] = { "JB_name", "JB_owner", "tasks" };
	static const char *const keys[] = { "name", "owner", "tasks" };
	char *num = NULL, *state = NULL, *v;
	json_t *e = NULL;
	size_t i;
	int r = -1;

	if (element(&num, p, end, "JB_job_number") < 0 || !num ||
	    !all_digits(num, 18) || element(&state, p, end, "state") < 0 ||
	    !state || !word_of(state, "", 16))
		goto out;
	e = json_pack("{s:s, s:s}", "job", num, "state", state);
	for (i = 0; i < 3; i++) {
		if (element(&v, p, end, fields[i]) < 0)
			goto out;
		if (v)
			json_object_set_new(e, keys[i], json_string(v));
		free(v);
	}
	if (json_object_get(e, "tasks") &&
	    !word_of(json_string_value(json_object_get(e, "tasks")),
		     "-:,", 64))
		goto out;
	json_array_append(jobs, e);
	r = 0;
out:
	json_decref(e);
	free(num);
	free(state);
	return r;
}

int sched_sge_parse_qstat(json_t **out, const char *xml, size_t len,
			  struct err *err)
{
	const char *end = xml + len, *p, *a, *z;
	json_t *jobs = json_array();

	*out = NULL;
	if (memchr(xml, '\0', len) || !find_in(xml, end, "<job_info") ||
	    !(p = find_in(xml, end, "</job_info>")))
		goto bad;
	/* The last </job_info> closes the document: nothing after it. */
	for (a = p; (a = find_in(a + 1, end, "</job_info>")); )
		p = a;
	for (a = p + strlen("</job_info>"); a < end; a++) {
		if (!isspace((unsigned char)*a))
			goto bad;
	}
	for (p = xml; (a = find_in(p, end, "<job_list")); p = z) {
		z = find_in(a, end, "</job_list>");
		if (!z || job_entry(jobs, a, z) < 0)
			goto bad;
		z += strlen("</job_list>");
	}
	*out = jobs;
	return 0;
bad:
	json_decref(jobs);
	return err_set(err, ERR_SCHEDULER_UNAVAILABLE,
		       "qstat -xml printed something that is not a job list");
}

/* 1 when task 'task' is in the task text 'tasks' ("N", "A-B:S", "A,B"). */
static int task_in(const char *tasks, unsigned long task)
{
	const char *p = tasks;

	while (p && *p) {
		unsigned long a, b, step = 1;
		char *e;

		a = strtoul(p, &e, 10);
		b = a;
		if (*e == '-') {
			b = strtoul(e + 1, &e, 10);
			if (*e == ':')
				step = strtoul(e + 1, &e, 10);
		}
		if (step == 0)
			step = 1;
		if (task >= a && task <= b && (task - a) % step == 0)
			return 1;
		p = *e == ',' ? e + 1 : NULL;
	}
	return 0;
}

/*
 * How much the queue entry 'e' says about its job: a running task most,
 * then any other live one, then a finished one (state "z") least.
 */
static int rank(const json_t *e)
{
	const char *code = json_string_value(json_object_get(e, "state"));

	if (strchr(code, 'z'))
		return 1;
	return sched_sge_queue_state(code) == SCHED_RUNNING ? 3 : 2;
}

const json_t *sched_sge_qstat_find(const json_t *jobs, const char *id)
{
	unsigned long long job, n;
	unsigned long task;
	const json_t *e, *best = NULL;
	int best_rank = 0;
	const char *tasks;
	size_t i;

	if (sched_sge_split_id(id, &job, &task) < 0)
		return NULL;
	json_array_foreach((json_t *)jobs, i, e) {
		n = strtoull(json_string_value(json_object_get(e, "job")),
			     NULL, 10);
		if (n != job)
			continue;
		tasks = json_string_value(json_object_get(e, "tasks"));
		if (task && (!tasks || !task_in(tasks, task)))
			continue;
		if (rank(e) > best_rank) {
			best = e;
			best_rank = rank(e);
		}
	}
	return best;
}

/* ------------------------------------------------------------------ */
/* qacct -j                                                            */
/* ------------------------------------------------------------------ */

/* Seconds of an ru_wallclock value ("7s", "7", "7.000"). */
static json_int_t wallclock(const char *v)
{
	return (json_int_t)strtoll(v, NULL, 10);
}

/* Add the "key value" line 'line' to the record 'rec'; -1 if garbled. */
static int acct_line(json_t *rec, char *line)
{
	char *key = line, *val, *end;
	long long n;

	val = line + strcspn(line, " \t");
	if (*val)
		*val++ = '\0';
	val += strspn(val, " \t");
	end = val + strlen(val);
	while (end > val && isspace((unsigned char)end[-1]))
		*--end = '\0';
	if (!strcmp(key, "failed") || !strcmp(key, "exit_status")) {
		errno = 0;
		n = strtoll(val, &end, 10);
		if (errno || end == val || n < 0 || n > INT_MAX)
			return -1;
		json_object_set_new(rec, key, json_integer(n));
		if (!strcmp(key, "failed")) {
			end += strspn(end, " \t:");
			json_object_set_new(rec, "failed_reason",
					    json_string(end));
		}
	} else if (!strcmp(key, "ru_wallclock")) {
		json_object_set_new(rec, key, json_integer(wallclock(val)));
	} else if (!strcmp(key, "jobnumber") || !strcmp(key, "taskid") ||
		   !strcmp(key, "jobname") || !strcmp(key, "category") ||
		   !strcmp(key, "owner")) {
		if (!json_object_get(rec, key))
			json_object_set_new(rec, key, json_string(val));
	}
	return 0;
}

/* Close the record 'rec': append it to 'records' if whole; -1 if not. */
static int acct_close(json_t *records, json_t **rec)
{
	json_t *r = *rec;

	*rec = NULL;
	if (!r)
		return 0;
	if (!all_digits(json_string_value(json_object_get(r, "jobnumber")),
			18) || !json_object_get(r, "failed") ||
	    !json_object_get(r, "exit_status") ||
	    !json_is_string(json_object_get(r, "taskid"))) {
		json_decref(r);
		return -1;
	}
	json_array_append_new(records, r);
	return 0;
}

int sched_sge_parse_qacct(json_t **out, const char *text, size_t len,
			  struct err *err)
{
	json_t *records = json_array(), *rec = NULL;
	char *copy, *line, *next;

	*out = NULL;
	if (memchr(text, '\0', len))
		goto bad;
	copy = xmalloc(len + 1);
	memcpy(copy, text, len);
	copy[len] = '\0';
	for (line = copy; line && *line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		if (line[0] == '=' && strspn(line, "=") > 10) {
			if (acct_close(records, &rec) < 0)
				goto bad_free;
			rec = json_object();
			continue;
		}
		if (!*line)
			continue;
		if (!rec || acct_line(rec, line) < 0)
			goto bad_free;
	}
	if (acct_close(records, &rec) < 0)
		goto bad_free;
	free(copy);
	*out = records;
	return 0;
bad_free:
	free(copy);
	json_decref(rec);
bad:
	json_decref(records);
	return err_set(err, ERR_SCHEDULER_UNAVAILABLE,
		       "qacct printed something that is not an accounting "
		       "record");
}

const json_t *sched_sge_qacct_find(const json_t *records, const char *id)
{
	unsigned long long job;
	unsigned long task, t;
	const json_t *e, *found = NULL;
	const char *tid;
	size_t i;

	if (sched_sge_split_id(id, &job, &task) < 0)
		return NULL;
	json_array_foreach((json_t *)records, i, e) {
		if (strtoull(json_string_value(json_object_get(e,
				"jobnumber")), NULL, 10) != job)
			continue;
		tid = json_string_value(json_object_get(e, "taskid"));
		t = all_digits(tid, 9) ? strtoul(tid, NULL, 10) : 0;
		if (t == task)
			found = e;
	}
	return found;
}

/* ------------------------------------------------------------------ */
/* States                                                              */
/* ------------------------------------------------------------------ */

enum sched_state sched_sge_queue_state(const char *code)
{
	if (!code || !*code || !word_of(code, "", 16) || strchr(code, 'z'))
		return SCHED_UNKNOWN;
	if (strchr(code, 'E'))
		return SCHED_FAILED;
	if (strchr(code, 'd'))
		return SCHED_CANCELLED;
	if (strchr(code, 'R') && !strchr(code, 'r') && !strchr(code, 't'))
		return SCHED_REQUEUED;
	if (strchr(code, 'r') || strchr(code, 't') || strchr(code, 's') ||
	    strchr(code, 'S') || strchr(code, 'T'))
		return SCHED_RUNNING;
	if (strchr(code, 'q') || strchr(code, 'w') || strchr(code, 'h'))
		return SCHED_PENDING;
	return SCHED_UNKNOWN;
}

/*
 * The s_rt of a job's category ("-l h_rt=600,s_rt=540 -q all.q") in
 * seconds ("540" or "0:9:0"), or -1 when it has none.
 */
static long category_s_rt(const char *cat)
{
	const char *p = cat ? strstr(cat, "s_rt=") : NULL;
	long part[3] = { 0, 0, 0 };
	int n = 0;
	char *e;

	if (!p)
		return -1;
	for (p += 5; n < 3; p = e + 1) {
		if (!isdigit((unsigned char)*p))
			return -1;
		part[n++] = strtol(p, &e, 10);
		if (*e != ':')
			break;
	}
	if (n == 1)
		return part[0];
	if (n == 2)
		return part[0] * 60 + part[1];
	return part[0] * 3600 + part[1] * 60 + part[2];
}

enum sched_state sched_sge_acct_state(const json_t *rec)
{
	json_int_t failed = json_integer_value(json_object_get(rec,
							       "failed"));
	json_int_t code = json_integer_value(json_object_get(rec,
							     "exit_status"));
	long s_rt;

	if (!json_is_integer(json_object_get(rec, "failed")) ||
	    !json_is_integer(json_object_get(rec, "exit_status")))
		return SCHED_UNKNOWN;
	if (failed == 37)
		return SCHED_TIMED_OUT;
	if (failed == 100 && code == 137)
		return SCHED_CANCELLED;
	if (failed)
		return SCHED_FAILED;
	if (code == 0)
		return SCHED_COMPLETED;
	s_rt = category_s_rt(json_string_value(json_object_get(rec,
							       "category")));
	if (code == 128 + 10 && s_rt >= 0 &&
	    json_integer_value(json_object_get(rec, "ru_wallclock")) >=
	    s_rt)
		return SCHED_TIMED_OUT;
	return SCHED_FAILED;
}
