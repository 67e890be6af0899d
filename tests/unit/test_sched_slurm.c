/*
 * test_sched_slurm.c: unit tests for the pure parts of the slurm
 * scheduler (sched_slurm.h): job ids and what sbatch --parsable prints,
 * exit codes, the state table (CANCELLED by N, COMPLETED without proof,
 * PREEMPTED in and out of the queue, words nobody knows), the output
 * of squeue, sacct and scontrol as SLURM 22.05 prints it and as a
 * hostile account could make it look, and the #SBATCH lines: the allow
 * list, rejected options and values, the time limit, the warning
 * signal and the requeue policy.  The commands themselves run against
 * real daemons in tests/e2e/t4110-slurm-sprint.sh.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "buf.h"
#include "err.h"
#include "sched.h"
#include "sched_slurm.h"
#include "banned.h"

/* ------------------------------------------------------------------ */
/* Ids, sbatch's answer, exit codes                                    */
/* ------------------------------------------------------------------ */

static void test_slurm_valid_ids(void **state)
{
	static const char *const good[] = { "1", "123", "123_4", "9_0",
		"1234567890123456789", NULL };
	static const char *const bad[] = { "", "0", "01", "1_", "_1",
		"1_2_3", "1;x", "12345678901234567890", "1 2", "$(id)",
		"1,2", "-1", "1_01", "1\n", "1.batch", NULL };
	size_t i;

	(void)state;
	for (i = 0; good[i]; i++)
		assert_true(slurm_valid_id(good[i]));
	for (i = 0; bad[i]; i++)
		assert_false(slurm_valid_id(bad[i]));
	assert_false(slurm_valid_id(NULL));
}

/* Parse 'text' as sbatch's answer; the id, or NULL (code in '*code'). */
static char *job_id_of(const char *text, size_t len, enum err_code *code)
{
	struct err err = ERR_INIT;
	char *id = NULL;

	*code = ERR_NONE;
	if (slurm_parse_job_id(&id, text, len, &err) < 0) {
		*code = err.code;
		assert_null(id);
		/* The message never carries control bytes. */
		assert_null(strchr(err.message, '\n'));
		assert_null(strchr(err.message, '\033'));
	}
	err_release(&err);
	return id;
}

static void test_slurm_parse_job_id(void **state)
{
	static const char *const bad[] = { "", "\n", "abc\n", "0\n",
		"012\n", "123\n\n", "123 \n", " 123\n", "123;\n",
		"123;bad name\n", "Submitted batch job 5\n", "123;c;d\n",
		"12345678901234567890\n", "5\n6\n", "5\r\n",
		"5;\033[31mred\n", NULL };
	enum err_code code;
	char *id;
	size_t i;

	(void)state;
	id = job_id_of("123\n", 4, &code);
	assert_string_equal(id, "123");
	free(id);
	id = job_id_of("77", 2, &code);
	assert_string_equal(id, "77");
	free(id);
	id = job_id_of("123;cluster-a\n", 14, &code);
	assert_string_equal(id, "123");
	free(id);
	for (i = 0; bad[i]; i++) {
		id = job_id_of(bad[i], strlen(bad[i]), &code);
		if (id)
			fail_msg("'%s' gave id '%s'", bad[i], id);
		assert_int_equal(code, ERR_REMOTE_COMMAND_FAILED);
	}
	/* A NUL inside is not cut short into an id. */
	id = job_id_of("12\0003\n", 5, &code);
	assert_null(id);
	/* Bytes that are not UTF-8 still make a printable error. */
	id = job_id_of("\xff\xfe\n", 3, &code);
	assert_null(id);
}

static void test_slurm_parse_exit(void **state)
{
	int code, sig;

	(void)state;
	assert_int_equal(slurm_parse_exit(&code, &sig, "3:0"), 0);
	assert_int_equal(code, 3);
	assert_int_equal(sig, 0);
	assert_int_equal(slurm_parse_exit(&code, &sig, "0:15"), 0);
	assert_int_equal(code, 0);
	assert_int_equal(sig, 15);
	assert_int_equal(slurm_parse_exit(&code, &sig, "x"), -1);
	assert_int_equal(code, -1);
	assert_int_equal(slurm_parse_exit(&code, &sig, ":"), -1);
	assert_int_equal(slurm_parse_exit(&code, &sig, "3"), -1);
	assert_int_equal(slurm_parse_exit(&code, &sig, "-1:0"), -1);
	assert_int_equal(slurm_parse_exit(&code, &sig, "300:0"), -1);
	assert_int_equal(slurm_parse_exit(&code, &sig, "1:2x"), -1);
	assert_int_equal(slurm_parse_exit(&code, &sig, NULL), -1);
}

/* ------------------------------------------------------------------ */
/* The state table                                                     */
/* ------------------------------------------------------------------ */

static void test_slurm_state_table(void **state)
{
	static const struct {
		const char *raw;
		enum sched_state want;
	} table[] = {
		{ "PENDING", SCHED_PENDING },
		{ "CONFIGURING", SCHED_PENDING },
		{ "RUNNING", SCHED_RUNNING },
		{ "COMPLETING", SCHED_RUNNING },
		{ "SUSPENDED", SCHED_RUNNING },
		{ "FAILED", SCHED_FAILED },
		{ "OUT_OF_MEMORY", SCHED_FAILED },
		{ "NODE_FAIL", SCHED_FAILED },
		{ "BOOT_FAIL", SCHED_FAILED },
		{ "DEADLINE", SCHED_FAILED },
		{ "TIMEOUT", SCHED_TIMED_OUT },
		{ "CANCELLED", SCHED_CANCELLED },
		{ "CANCELLED by 0", SCHED_CANCELLED },
		{ "CANCELLED by 1000", SCHED_CANCELLED },
		{ "REQUEUED", SCHED_REQUEUED },
		{ "REQUEUE_HOLD", SCHED_REQUEUED },
		{ "PREEMPTED", SCHED_REQUEUED },
		/* Words nobody knows are never success. */
		{ "COMPLETED+", SCHED_UNKNOWN },
		{ "CANCELLED+", SCHED_UNKNOWN },
		{ "RUNNING by 3", SCHED_UNKNOWN },
		{ "completed", SCHED_UNKNOWN },
		{ "COMPLETEDX", SCHED_UNKNOWN },
		{ "COMPLETE", SCHED_UNKNOWN },
		{ "", SCHED_UNKNOWN },
		{ "BRAND_NEW_STATE", SCHED_UNKNOWN },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
		enum sched_state got = slurm_state(table[i].raw, 0, 0, 1);

		if (got != table[i].want)
			fail_msg("'%s' is %s, wanted %s", table[i].raw,
				 sched_state_name(got),
				 sched_state_name(table[i].want));
	}
	assert_int_equal(slurm_state(NULL, 0, 0, 1), SCHED_UNKNOWN);
}

static void test_slurm_state_needs_proof(void **state)
{
	(void)state;
	/* COMPLETED is success only with exit 0 and no signal. */
	assert_int_equal(slurm_state("COMPLETED", 0, 0, 0), SCHED_COMPLETED);
	assert_int_equal(slurm_state("COMPLETED", -1, -1, 0), SCHED_FAILED);
	assert_int_equal(slurm_state("COMPLETED", 2, 0, 0), SCHED_FAILED);
	assert_int_equal(slurm_state("COMPLETED", 0, 9, 0), SCHED_FAILED);
	/* Preempted: back in the queue it will run again; gone, it is
	 * over without success. */
	assert_int_equal(slurm_state("PREEMPTED", -1, -1, 1), SCHED_REQUEUED);
	assert_int_equal(slurm_state("PREEMPTED", 0, 0, 0), SCHED_FAILED);
	assert_int_equal(slurm_state("REQUEUED", -1, -1, 0), SCHED_REQUEUED);
	assert_false(sched_state_terminal(SCHED_REQUEUED));
}

/* ------------------------------------------------------------------ */
/* squeue, sacct, scontrol                                             */
/* ------------------------------------------------------------------ */

/* The "raw_state" of 'id' in 'o', or NULL. */
static const char *raw_of(const json_t *o, const char *id)
{
	return json_string_value(json_object_get(json_object_get(o, id),
						 "raw_state"));
}

static void test_slurm_parse_squeue(void **state)
{
	static const char text[] =
		"12|RUNNING|None\n"
		"13_0|PENDING|JobArrayTaskLimit\n"
		"13_1|RUNNING|None\r\n"
		"14|PENDING|Dependency\n"
		"garbage line\n"
		"15|RUNNING\n"
		"$(touch x)|RUNNING|None\n"
		"16|RUN NING;rm|None\n"
		"\n"
		"17|SUSPENDED|\xff\xfe\x01odd\n"
		"18|PENDING|None";
	json_t *o = json_object(), *r17;
	int skipped;

	(void)state;
	skipped = slurm_parse_squeue(o, text, sizeof(text) - 1);
	assert_int_equal(skipped, 4);
	assert_int_equal(json_object_size(o), 6);
	assert_string_equal(raw_of(o, "12"), "RUNNING");
	assert_string_equal(raw_of(o, "13_0"), "PENDING");
	assert_string_equal(raw_of(o, "13_1"), "RUNNING");
	assert_string_equal(raw_of(o, "18"), "PENDING");
	assert_string_equal(json_string_value(json_object_get(
		json_object_get(o, "14"), "reason")), "Dependency");
	assert_true(json_is_null(json_object_get(json_object_get(o, "12"),
						 "exit_code")));
	/* A reason that is not ASCII is kept printable. */
	r17 = json_object_get(o, "17");
	assert_string_equal(json_string_value(json_object_get(r17, "reason")),
			    "???odd");
	json_decref(o);
}

static void test_slurm_parse_squeue_restarts(void **state)
{
	static const char text[] =
		"30|PENDING|BeginTime|1\n"
		"31|PENDING|None|0\n"
		"32|RUNNING|None|x\n"
		"33|RUNNING|None|99999999999\n"
		"34|RUNNING|None|2\n"
		"35|PENDING|Dependency\n";
	json_t *o = json_object(), *e;
	enum sched_state st;

	(void)state;
	assert_int_equal(slurm_parse_squeue(o, text, sizeof(text) - 1), 2);
	/* Pending again after a run: requeued, with the count as evidence. */
	e = slurm_verdict(&st, json_object_get(o, "30"), "squeue", 1);
	assert_int_equal(st, SCHED_REQUEUED);
	assert_int_equal(json_integer_value(json_object_get(e, "restarts")), 1);
	json_decref(e);
	json_decref(slurm_verdict(&st, json_object_get(o, "31"), "squeue", 1));
	assert_int_equal(st, SCHED_PENDING);
	json_decref(slurm_verdict(&st, json_object_get(o, "34"), "squeue", 1));
	assert_int_equal(st, SCHED_RUNNING);
	json_decref(slurm_verdict(&st, json_object_get(o, "35"), "squeue", 1));
	assert_int_equal(st, SCHED_PENDING);
	assert_null(json_object_get(o, "32"));
	assert_null(json_object_get(o, "33"));
	json_decref(o);
}

static void test_slurm_parse_squeue_long_and_nul(void **state)
{
	struct buf b = BUF_INIT;
	json_t *o = json_object();
	int i;

	(void)state;
	buf_adds(&b, "20|RUNNING|");
	for (i = 0; i < 9000; i++)
		buf_adds(&b, "x");
	buf_adds(&b, "\n21|RUN");
	buf_add(&b, "\0", 1);
	buf_adds(&b, "NING|None\n22|PENDING|None\n");
	assert_int_equal(slurm_parse_squeue(o, b.data, b.len), 2);
	assert_null(json_object_get(o, "20"));
	assert_null(json_object_get(o, "21"));
	assert_string_equal(raw_of(o, "22"), "PENDING");
	json_decref(o);
	buf_release(&b);
}

static void test_slurm_parse_sacct(void **state)
{
	static const char text[] =
		"1_0|COMPLETED|0:0\n"
		"1_0.batch|COMPLETED|0:0\n"
		"2|FAILED|3:0\n"
		"2.batch|FAILED|3:0\n"
		"2.0|FAILED|3:0\n"
		"3|CANCELLED by 0|0:15\n"
		"4|TIMEOUT|0:0\n"
		"5|OUT_OF_MEMORY|0:125\n"
		"6|COMPLETED|bad\n"
		"7|COMPLETED|0:0|extra\n"
		"8|RUNNING|0:0\n"
		"8|COMPLETED|0:0\n";
	json_t *o = json_object(), *r;
	enum sched_state st;

	(void)state;
	assert_int_equal(slurm_parse_sacct(o, text, sizeof(text) - 1), 2);
	assert_int_equal(json_object_size(o), 6);
	assert_string_equal(raw_of(o, "1_0"), "COMPLETED");
	assert_string_equal(raw_of(o, "3"), "CANCELLED by 0");
	/* A job listed twice keeps its last line. */
	assert_string_equal(raw_of(o, "8"), "COMPLETED");
	r = json_object_get(o, "2");
	assert_int_equal(json_integer_value(json_object_get(r, "exit_code")),
			 3);
	json_decref(slurm_verdict(&st, r, "sacct", 0));
	assert_int_equal(st, SCHED_FAILED);
	json_decref(slurm_verdict(&st, json_object_get(o, "1_0"), "sacct", 0));
	assert_int_equal(st, SCHED_COMPLETED);
	json_decref(slurm_verdict(&st, json_object_get(o, "3"), "sacct", 0));
	assert_int_equal(st, SCHED_CANCELLED);
	json_decref(slurm_verdict(&st, json_object_get(o, "4"), "sacct", 0));
	assert_int_equal(st, SCHED_TIMED_OUT);
	json_decref(slurm_verdict(&st, json_object_get(o, "5"), "sacct", 0));
	assert_int_equal(st, SCHED_FAILED);
	assert_null(json_object_get(o, "6"));
	assert_null(json_object_get(o, "7"));
	json_decref(o);
}

/* One line of `scontrol -o show job` as 22.05 prints it. */
#define SCONTROL_ARRAY \
	"JobId=4 ArrayJobId=2 ArrayTaskId=1 JobName=j.sh UserId=root(0) " \
	"GroupId=root(0) MCS_label=N/A Priority=4294901758 Nice=0 " \
	"Account=(null) QOS=(null) JobState=FAILED Reason=NonZeroExitCode " \
	"Dependency=(null) Requeue=0 Restarts=0 BatchFlag=1 Reboot=0 " \
	"ExitCode=3:0 RunTime=00:00:01 TimeLimit=UNLIMITED " \
	"DerivedExitCode=0:0 Comment=sp-arr StdOut=/dev/null Power= \n"

static void test_slurm_parse_scontrol(void **state)
{
	static const char done[] =
		"JobId=1 JobName=hpl-x UserId=root(0) GroupId=root(0) "
		"JobState=COMPLETED Reason=None Dependency=(null) Requeue=0 "
		"ExitCode=0:0 RunTime=00:00:02 Comment=sp-abc \n";
	static const char cancelled[] =
		"JobId=9 JobName=x JobState=CANCELLED Reason=None "
		"ExitCode=0:15\n";
	json_t *r;
	enum sched_state st;

	(void)state;
	r = slurm_parse_scontrol("1", done, sizeof(done) - 1);
	assert_non_null(r);
	assert_string_equal(json_string_value(json_object_get(r, "raw_state")),
			    "COMPLETED");
	assert_true(json_is_null(json_object_get(r, "reason")));
	json_decref(slurm_verdict(&st, r, "scontrol", 0));
	assert_int_equal(st, SCHED_COMPLETED);
	json_decref(r);
	/* Another id than the one asked about is no answer. */
	assert_null(slurm_parse_scontrol("2", done, sizeof(done) - 1));
	/* An array task answers for "2_1" and for its raw id. */
	r = slurm_parse_scontrol("2_1", SCONTROL_ARRAY,
				 sizeof(SCONTROL_ARRAY) - 1);
	assert_non_null(r);
	assert_int_equal(json_integer_value(json_object_get(r, "exit_code")),
			 3);
	assert_string_equal(json_string_value(json_object_get(r, "reason")),
			    "NonZeroExitCode");
	json_decref(r);
	r = slurm_parse_scontrol("4", SCONTROL_ARRAY,
				 sizeof(SCONTROL_ARRAY) - 1);
	assert_non_null(r);
	json_decref(r);
	assert_null(slurm_parse_scontrol("2_2", SCONTROL_ARRAY,
					 sizeof(SCONTROL_ARRAY) - 1));
	r = slurm_parse_scontrol("9", cancelled, sizeof(cancelled) - 1);
	json_decref(slurm_verdict(&st, r, "scontrol", 0));
	assert_int_equal(st, SCHED_CANCELLED);
	json_decref(r);
}

static void test_slurm_parse_scontrol_hostile(void **state)
{
	/* A job name holding a field must not pass for the field. */
	static const char named[] =
		"JobId=5 JobName=x JobState=COMPLETED ExitCode=0:0 "
		"UserId=me(1) JobState=FAILED Reason=None ExitCode=1:0\n";
	static const char pathy[] =
		"JobId=6 JobName=y JobState=RUNNING Reason=None ExitCode=0:0 "
		"StdOut=/tmp/a ExitCode=0:0\n";
	static const char noprefix[] =
		"slurm_load_jobs error: JobId=7 JobState=COMPLETED\n";
	static const char nul[] = "JobId=8 JobState=COMP\0LETED ExitCode=0:0\n";

	(void)state;
	assert_null(slurm_parse_scontrol("5", named, sizeof(named) - 1));
	/* Two ExitCode fields: the state stands, the code is unknown, so
	 * it cannot be success. */
	{
		json_t *r = slurm_parse_scontrol("6", pathy, sizeof(pathy) - 1);
		enum sched_state st;

		assert_non_null(r);
		assert_true(json_is_null(json_object_get(r, "exit_code")));
		json_decref(slurm_verdict(&st, r, "scontrol", 0));
		assert_int_equal(st, SCHED_RUNNING);
		json_decref(r);
	}
	assert_null(slurm_parse_scontrol("7", noprefix, sizeof(noprefix) - 1));
	assert_null(slurm_parse_scontrol("8", nul, sizeof(nul) - 1));
	assert_null(slurm_parse_scontrol("8", "", 0));
}

static void test_slurm_verdict_evidence(void **state)
{
	json_t *rec = json_pack("{s:s, s:i, s:i, s:n}", "raw_state",
				"WEIRD_NEW", "exit_code", 0, "signal", 0,
				"reason");
	json_t *e;
	enum sched_state st;

	(void)state;
	e = slurm_verdict(&st, rec, "squeue", 1);
	assert_int_equal(st, SCHED_UNKNOWN);
	assert_string_equal(json_string_value(json_object_get(e, "source")),
			    "squeue");
	assert_string_equal(json_string_value(json_object_get(e,
							     "raw_state")),
			    "WEIRD_NEW");
	assert_non_null(json_object_get(e, "detail"));
	assert_non_null(json_object_get(e, "checked_at"));
	json_decref(e);
	/* Nobody knew the job: unknown, with no state made up. */
	e = slurm_verdict(&st, NULL, "none", 0);
	assert_int_equal(st, SCHED_UNKNOWN);
	assert_true(json_is_null(json_object_get(e, "raw_state")));
	assert_non_null(json_object_get(e, "detail"));
	json_decref(e);
	json_decref(rec);
}

/* ------------------------------------------------------------------ */
/* Directives                                                          */
/* ------------------------------------------------------------------ */

/* The directives for 'opts' (JSON text or NULL), 'limit', 'grace' and
 * 'requeue' into '*out' (new), or NULL with the code in '*code'. */
static char *directives(const char *opts, int limit, int grace, int requeue,
			enum err_code *code)
{
	struct sched_submit req;
	struct buf b = BUF_INIT;
	struct err err = ERR_INIT;
	json_t *o = opts ? json_loads(opts, 0, NULL) : NULL;
	char *text = NULL;

	if (opts)
		assert_non_null(o);
	memset(&req, 0, sizeof(req));
	req.job_options = o;
	req.time_limit_s = limit;
	req.signal_grace_s = grace;
	req.requeue = requeue;
	buf_init(&b, 64 * 1024);
	*code = ERR_NONE;
	if (slurm_directives(&b, &req, &err) < 0) {
		*code = err.code;
		assert_int_equal(b.len, 0);
	} else {
		text = buf_detach(&b, NULL);
	}
	buf_release(&b);
	err_release(&err);
	json_decref(o);
	return text;
}

static void test_slurm_directives(void **state)
{
	enum err_code code;
	char *t;

	(void)state;
	t = directives("{\"partition\":\"gpu\",\"account\":\"lab\","
		       "\"qos\":\"high\",\"gres\":\"gpu:a100:2\","
		       "\"mem\":\"64G\",\"cpus_per_task\":\"8\","
		       "\"constraint\":\"a100&ib\",\"mem-per-cpu\":\"4G\"}",
		       3661, 0, 0, &code);
	assert_non_null(t);
	assert_string_equal(t, "#SBATCH --partition=gpu\n"
			       "#SBATCH --account=lab\n"
			       "#SBATCH --qos=high\n"
			       "#SBATCH --gres=gpu:a100:2\n"
			       "#SBATCH --mem=64G\n"
			       "#SBATCH --cpus-per-task=8\n"
			       "#SBATCH --constraint=a100&ib\n"
			       "#SBATCH --mem-per-cpu=4G\n"
			       "#SBATCH --time=1:01:01\n"
			       "#SBATCH --signal=B:USR1@120\n"
			       "#SBATCH --no-requeue\n");
	free(t);
	/* The study's grace and requeue; no time limit. */
	t = directives(NULL, 0, 300, 1, &code);
	assert_string_equal(t, "#SBATCH --signal=B:USR1@300\n"
			       "#SBATCH --requeue\n");
	free(t);
	/* A grace never passes 9/10 of the time limit. */
	t = directives(NULL, 60, 120, 0, &code);
	assert_non_null(strstr(t, "--time=0:01:00\n"));
	assert_non_null(strstr(t, "--signal=B:USR1@54\n"));
	free(t);
	t = directives(NULL, 1, 0, 0, &code);
	assert_non_null(strstr(t, "--signal=B:USR1@1\n"));
	free(t);
	/* The "time" option stands when no limit is given. */
	t = directives("{\"time\":\"1-02:00:00\"}", 0, 0, 0, &code);
	assert_non_null(strstr(t, "#SBATCH --time=1-02:00:00\n"));
	free(t);
	t = directives("{\"time\":\"1-02:00:00\"}", 600, 0, 0, &code);
	assert_non_null(strstr(t, "#SBATCH --time=0:10:00\n"));
	assert_null(strstr(t, "1-02"));
	free(t);
}

static void test_slurm_directives_rejected(void **state)
{
	static const char *const options[] = {
		/* set by hpcloop, or not options at all */
		"{\"job_name\":\"x\"}", "{\"output\":\"/etc/passwd\"}",
		"{\"error\":\"x\"}", "{\"signal\":\"KILL\"}",
		"{\"wrap\":\"rm -rf ~\"}", "{\"array\":\"1-9\"}",
		"{\"dependency\":\"afterok:1\"}", "{\"chdir\":\"/\"}",
		"{\"comment\":\"x\"}", "{\"requeue\":\"1\"}",
		"{\"export\":\"ALL\"}", "{\"no_such_option\":\"1\"}",
		"{\"parsable\":\"1\"}",
		/* values sbatch would split or read as syntax */
		"{\"mem\":\"4G --wrap=id\"}", "{\"partition\":\"a'b\"}",
		"{\"partition\":\"a\\\"b\"}", "{\"account\":\"#x\"}",
		"{\"qos\":\"\"}", "{\"qos\":\"a\\tb\"}",
		"{\"gres\":\"gpu\\u00e9\"}", "{\"constraint\":\"a\\\\b\"}",
		"{\"mem\":\"`id`\"}",
		/* a time that is not one */
		"{\"time\":\"forever\"}", "{\"time\":\"1-2-3\"}",
		"{\"time\":\":10\"}",
		NULL };
	enum err_code code;
	size_t i;
	char *t;

	(void)state;
	for (i = 0; options[i]; i++) {
		t = directives(options[i], 60, 0, 0, &code);
		if (t)
			fail_msg("%s gave '%s'", options[i], t);
		assert_int_equal(code, ERR_SCHEDULER_REJECTED);
	}
}

static void test_slurm_directives_limit(void **state)
{
	struct sched_submit req;
	struct buf b = BUF_INIT;
	struct err err = ERR_INIT;
	json_t *o = json_pack("{s:s}", "partition", "debug");

	(void)state;
	memset(&req, 0, sizeof(req));
	req.job_options = o;
	req.time_limit_s = 60;
	buf_init(&b, 40);
	buf_adds(&b, "#!/bin/bash\n");
	assert_int_equal(slurm_directives(&b, &req, &err), -1);
	assert_int_equal(err.code, ERR_SPEC_INVALID);
	/* What the buffer held before is all it holds. */
	assert_string_equal(buf_str(&b), "#!/bin/bash\n");
	buf_release(&b);
	err_release(&err);
	json_decref(o);
}

static void test_slurm_kind_registered(void **state)
{
	const struct sched_ops *k = sched_kind("slurm");

	(void)state;
	assert_non_null(k);
	assert_true(k->shared);
	assert_non_null(k->directives);
	assert_non_null(k->find);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_slurm_valid_ids),
		cmocka_unit_test(test_slurm_parse_job_id),
		cmocka_unit_test(test_slurm_parse_exit),
		cmocka_unit_test(test_slurm_state_table),
		cmocka_unit_test(test_slurm_state_needs_proof),
		cmocka_unit_test(test_slurm_parse_squeue),
		cmocka_unit_test(test_slurm_parse_squeue_restarts),
		cmocka_unit_test(test_slurm_parse_squeue_long_and_nul),
		cmocka_unit_test(test_slurm_parse_sacct),
		cmocka_unit_test(test_slurm_parse_scontrol),
		cmocka_unit_test(test_slurm_parse_scontrol_hostile),
		cmocka_unit_test(test_slurm_verdict_evidence),
		cmocka_unit_test(test_slurm_directives),
		cmocka_unit_test(test_slurm_directives_rejected),
		cmocka_unit_test(test_slurm_directives_limit),
		cmocka_unit_test(test_slurm_kind_registered),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
