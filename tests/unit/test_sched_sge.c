/*
 * test_sched_sge.c: unit tests for the pure parts of the Son of Grid
 * Engine scheduler (sched_sge.h): the "#$" lines and the job options
 * they refuse (hostile values included), qsub -terse job ids, job
 * names, the qstat -xml reader (entities, arrays, cut-short and
 * garbled documents), the qacct reader, and the mapping of SGE's queue
 * codes and accounting records to states.  The XML and qacct texts are
 * those a real SGE 8.1.9 printed (tests/e2e/t4200, t4210 run it).
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
#include "sched_sge.h"
#include "transport.h"
#include "xalloc.h"
#include "banned.h"

/* ------------------------------------------------------------------ */
/* Directives                                                          */
/* ------------------------------------------------------------------ */

/*
 * The directives for the options 'json' and the time limit 'limit'
 * into 'out' (limit 'max'); returns what sched_sge_directives returned.
 */
static int directives(struct buf *out, size_t max, const char *json,
		      int limit, struct err *err)
{
	struct sched_submit req;
	int r;

	memset(&req, 0, sizeof(req));
	req.job_options = json ? json_loads(json, 0, NULL) : NULL;
	req.time_limit_s = limit;
	if (json)
		assert_non_null(req.job_options);
	buf_init(out, max);
	r = sched_sge_directives(out, &req, err);
	json_decref((json_t *)req.job_options);
	return r;
}

static void test_sched_sge_directives_map(void **state)
{
	struct err err = ERR_INIT;
	struct buf b;
	const struct sched_ops *ops = sched_kind("sge");

	(void)state;
	assert_non_null(ops);
	assert_int_equal(ops->shared, 1);
	assert_ptr_equal(ops->directives, sched_sge_directives);
	assert_int_equal(directives(&b, 4096, NULL, 0, &err), 0);
	assert_string_equal(buf_str(&b), "#$ -S /bin/bash\n");
	buf_release(&b);
	assert_int_equal(directives(&b, 4096, "{\"mem\": \"4G\", \"cpus\": 4,"
				    " \"gpu\": \"2\", \"queue\": \"gpu.q@n1\","
				    " \"project\": \"ml_team\"}", 3600, &err),
			 0);
	assert_string_equal(buf_str(&b), "#$ -S /bin/bash\n"
			    "#$ -l h_rt=3600\n#$ -l s_rt=3540\n"
			    "#$ -l h_vmem=4G\n#$ -pe smp 4\n#$ -l gpu=2\n"
			    "#$ -q gpu.q@n1\n#$ -P ml_team\n");
	buf_release(&b);
	/* The parallel environment is configurable; a short limit keeps
	   a quarter of itself for the job script's own report. */
	assert_int_equal(directives(&b, 4096, "{\"cpus\": \"8\", \"pe\": "
				    "\"mpi-fill\"}", 20, &err), 0);
	assert_string_equal(buf_str(&b), "#$ -S /bin/bash\n#$ -l h_rt=20\n"
			    "#$ -l s_rt=15\n#$ -pe mpi-fill 8\n");
	buf_release(&b);
	/* "time" as the local scheduler reads it: minutes, or H:M:S. */
	assert_int_equal(directives(&b, 4096, "{\"time\": 10}", 0, &err), 0);
	assert_non_null(strstr(buf_str(&b), "h_rt=600\n"));
	buf_release(&b);
	assert_int_equal(directives(&b, 4096, "{\"time\": \"1:00:05\"}", 0,
				    &err), 0);
	assert_non_null(strstr(buf_str(&b), "h_rt=3605\n"));
	buf_release(&b);
	/* The request's own limit wins over "time". */
	assert_int_equal(directives(&b, 4096, "{\"time\": \"5\"}", 1000,
				    &err), 0);
	assert_non_null(strstr(buf_str(&b), "h_rt=1000\n"));
	buf_release(&b);
	assert_int_equal(directives(&b, 4096, "{\"mem\": \"1.5g\"}", 0, &err),
			 0);
	assert_non_null(strstr(buf_str(&b), "-l h_vmem=1.5g\n"));
	buf_release(&b);
	err_release(&err);
}

/* Each of these is refused, naming its option, and 'out' is unchanged. */
static void test_sched_sge_directives_refuse_hostile(void **state)
{
	static const struct { const char *json, *name; } bad[] = {
		{ "{\"partition\": \"debug\"}", "'partition'" },
		{ "{\"account\": \"x\"}", "'account'" },
		{ "{\"mem\": \"4G -l h_rt=99999\"}", "'mem'" },
		{ "{\"mem\": \"4G\\n#$ -q evil\"}", "'mem'" },
		{ "{\"mem\": \"$(touch PWNED)\"}", "'mem'" },
		{ "{\"mem\": \"\"}", "'mem'" },
		{ "{\"mem\": \"4GB\"}", "'mem'" },
		{ "{\"cpus\": 0}", "'cpus'" },
		{ "{\"cpus\": -2}", "'cpus'" },
		{ "{\"cpus\": \"1e3\"}", "'cpus'" },
		{ "{\"cpus\": \"4 -q x\"}", "'cpus'" },
		{ "{\"cpus\": 2, \"pe\": \"smp -l x\"}", "'pe'" },
		{ "{\"pe\": \"1smp\"}", "'pe'" },
		{ "{\"gpu\": \"`id`\"}", "'gpu'" },
		{ "{\"queue\": \"all.q extra\"}", "'queue'" },
		{ "{\"queue\": \"-l\"}", "'queue'" },
		{ "{\"queue\": \"a'b\"}", "'queue'" },
		{ "{\"project\": \"p\\u00e9\"}", "'project'" },
		{ "{\"project\": \"a;b\"}", "'project'" },
		{ "{\"time\": \"soon\"}", "'time'" },
		{ "{\"time\": \"1:2:3:4\"}", "'time'" },
		{ "{\"time\": 0}", "'time'" },
	};
	struct err err = ERR_INIT;
	struct buf b;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		buf_init(&b, 4096);
		buf_adds(&b, "kept\n");
		{
			struct sched_submit req;

			memset(&req, 0, sizeof(req));
			req.job_options = json_loads(bad[i].json, 0, NULL);
			assert_non_null(req.job_options);
			assert_int_equal(sched_sge_directives(&b, &req, &err),
					 -1);
			json_decref((json_t *)req.job_options);
		}
		if (err.code != ERR_SCHEDULER_REJECTED ||
		    !strstr(err.message, bad[i].name))
			fail_msg("%s: %s", bad[i].json, err.message);
		assert_string_equal(buf_str(&b), "kept\n");
		buf_release(&b);
		err_release(&err);
	}
}

/* More than the caller's limit is spec_invalid, and nothing is added. */
static void test_sched_sge_directives_limit(void **state)
{
	struct err err = ERR_INIT;
	struct buf b;

	(void)state;
	assert_int_equal(directives(&b, 20, "{\"mem\": \"4G\"}", 60, &err),
			 -1);
	assert_int_equal(err.code, ERR_SPEC_INVALID);
	assert_int_equal(b.len, 0);
	buf_release(&b);
	err_release(&err);
}

/* ------------------------------------------------------------------ */
/* qsub -terse, job names, ids                                         */
/* ------------------------------------------------------------------ */

static void test_sched_sge_job_id(void **state)
{
	static const char *const bad[] = {
		"", "\n", "abc\n", "12\n13\n", "Your job 12 (\"x\") has been "
		"submitted\n", "012\n", "12 \n", " 12\n", "12.\n", "12.x-y\n",
		"-12\n", "1234567890123456789\n", "12\n\n",
	};
	struct err err = ERR_INIT;
	char *id = NULL;
	size_t i;

	(void)state;
	assert_int_equal(sched_sge_parse_job_id(&id, "12\n", 3, &err), 0);
	assert_string_equal(id, "12");
	free(id);
	assert_int_equal(sched_sge_parse_job_id(&id, "8.1-3:1\n", 8, &err), 0);
	assert_string_equal(id, "8");
	free(id);
	assert_int_equal(sched_sge_parse_job_id(&id, "77", 2, &err), 0);
	assert_string_equal(id, "77");
	free(id);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (sched_sge_parse_job_id(&id, bad[i], strlen(bad[i]),
					   &err) != -1)
			fail_msg("accepted '%s' as %s", bad[i], id);
		assert_null(id);
		assert_int_equal(err.code, ERR_SCHEDULER_REJECTED);
		err_release(&err);
	}
	/* A NUL inside is not the end of the answer. */
	assert_int_equal(sched_sge_parse_job_id(&id, "12\0003\n", 5, &err),
			 -1);
	err_release(&err);
}

static void test_sched_sge_job_name(void **state)
{
	char out[SGE_NAME_MAX + 1], longname[300];

	(void)state;
	sched_sge_job_name(out, "hpl-sp-1a2b3c");
	assert_string_equal(out, "hpl-sp-1a2b3c");
	sched_sge_job_name(out, "1abc");
	assert_string_equal(out, "j1abc");
	sched_sge_job_name(out, ".hidden");
	assert_string_equal(out, "j.hidden");
	sched_sge_job_name(out, "a b:c/d@e\\f*g?h\ti'$(x)");
	assert_string_equal(out, "a_b_c_d_e_f_g_h_i___x_");
	sched_sge_job_name(out, "\xff\xfe");
	assert_string_equal(out, "__");
	sched_sge_job_name(out, "");
	assert_string_equal(out, "hpcloop");
	sched_sge_job_name(out, NULL);
	assert_string_equal(out, "hpcloop");
	memset(longname, 'a', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	sched_sge_job_name(out, longname);
	assert_int_equal(strlen(out), SGE_NAME_MAX);
}

static void test_sched_sge_split_id(void **state)
{
	static const char *const bad[] = {
		"", "x", "12.", ".3", "12.3.4", "0", "12.0", "-1", "1 2",
		"12.a", "1234567890123456789", NULL,
	};
	unsigned long long job;
	unsigned long task;
	size_t i;

	(void)state;
	assert_int_equal(sched_sge_split_id("12", &job, &task), 0);
	assert_true(job == 12 && task == 0);
	assert_int_equal(sched_sge_split_id("12.34", &job, &task), 0);
	assert_true(job == 12 && task == 34);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(sched_sge_split_id(bad[i], &job, &task), -1);
}

static void test_sched_sge_run_ids(void **state)
{
	char big[80];

	(void)state;
	assert_true(sched_sge_good_run_id("sp-1a2b3c"));
	assert_true(sched_sge_good_run_id("A_b.c-9"));
	assert_false(sched_sge_good_run_id(""));
	assert_false(sched_sge_good_run_id(NULL));
	assert_false(sched_sge_good_run_id("a,b"));
	assert_false(sched_sge_good_run_id("a=b"));
	assert_false(sched_sge_good_run_id("a b"));
	assert_false(sched_sge_good_run_id("a*"));
	assert_false(sched_sge_good_run_id("\xc3\xa9"));
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_false(sched_sge_good_run_id(big));
}

/* The lines of one job among several in "qstat -j" text. */
static void test_sched_sge_job_detail(void **state)
{
	static const char text[] =
		"==============================================================\n"
		"job_number:                 10\n"
		"job_name:                   hpl-sp-abc123\n"
		"context:                    hpcloop_run=sp-abc123\n"
		"==============================================================\n"
		"job_number:                 101\n"
		"context:                    hpcloop_run=other\n"
		"error reason          1:      12/03/2026 05:45:35 [0:19025]: "
		"error: can't chdir to /x: No such file\x01\n";
	char out[64];

	(void)state;
	sched_sge_job_detail(out, sizeof(out), text, "10", "context");
	assert_string_equal(out, "hpcloop_run=sp-abc123");
	sched_sge_job_detail(out, sizeof(out), text, "101", "context");
	assert_string_equal(out, "hpcloop_run=other");
	sched_sge_job_detail(out, sizeof(out), text, "1", "context");
	assert_string_equal(out, "");
	sched_sge_job_detail(out, sizeof(out), text, "10", "error reason");
	assert_string_equal(out, "");
	/* Cut to the buffer, printable only. */
	sched_sge_job_detail(out, 20, text, "101", "error reason");
	assert_int_equal(strlen(out), 19);
	sched_sge_job_detail(out, sizeof(out), text, "101", "error reason");
	assert_null(strchr(out, '\x01'));
}

/* ------------------------------------------------------------------ */
/* qstat -xml                                                          */
/* ------------------------------------------------------------------ */

/* What qstat -xml -g d printed with jobs 7 (Eqw), 8 (an array), 9. */
static const char qstat_xml[] =
	"<?xml version='1.0'?>\n"
	"<job_info  xmlns:xsd=\"http://arc.liv.ac.uk/repos/darcs/sge/source/"
	"dist/util/resources/schemas/qstat/qstat.xsd\">\n"
	"  <queue_info>\n"
	"    <job_list state=\"running\">\n"
	"      <JB_job_number>8</JB_job_number>\n"
	"      <JAT_prio>0.50000</JAT_prio>\n"
	"      <JB_name>sig2.sh</JB_name>\n"
	"      <JB_owner>root</JB_owner>\n"
	"      <state>r</state>\n"
	"      <JAT_start_time>2026-12-03T05:45:35</JAT_start_time>\n"
	"      <queue_name>all.q@vm</queue_name>\n"
	"      <slots>1</slots>\n"
	"      <tasks>1</tasks>\n"
	"    </job_list>\n"
	"  </queue_info>\n"
	"  <job_info>\n"
	"    <job_list state=\"pending\">\n"
	"      <JB_job_number>7</JB_job_number>\n"
	"      <JB_name>a&amp;b&lt;c&gt;&quot;d&apos;&#65;&#x42;</JB_name>\n"
	"      <JB_owner>root</JB_owner>\n"
	"      <state>Eqw</state>\n"
	"      <queue_name></queue_name>\n"
	"      <slots>1</slots>\n"
	"    </job_list>\n"
	"    <job_list state=\"pending\">\n"
	"      <JB_job_number>8</JB_job_number>\n"
	"      <JB_name>sig2.sh</JB_name>\n"
	"      <state>qw</state>\n"
	"      <tasks>2-5:3</tasks>\n"
	"    </job_list>\n"
	"    <job_list state=\"pending\">\n"
	"      <JB_job_number>9</JB_job_number>\n"
	"      <JB_name>hpl-sp-abc123</JB_name>\n"
	"      <state>hqw</state>\n"
	"    </job_list>\n"
	"  </job_info>\n"
	"</job_info>\n";

static void test_sched_sge_qstat(void **state)
{
	struct err err = ERR_INIT;
	json_t *jobs = NULL;
	const json_t *e;

	(void)state;
	assert_int_equal(sched_sge_parse_qstat(&jobs, qstat_xml,
					       strlen(qstat_xml), &err), 0);
	assert_int_equal(json_array_size(jobs), 4);
	e = json_array_get(jobs, 1);
	assert_string_equal(json_string_value(json_object_get(e, "name")),
			    "a&b<c>\"d'AB");
	assert_string_equal(json_string_value(json_object_get(e, "state")),
			    "Eqw");
	assert_null(json_object_get(e, "tasks"));
	/* Lookups: a task of a range, the running task first. */
	e = sched_sge_qstat_find(jobs, "8.5");
	assert_non_null(e);
	assert_string_equal(json_string_value(json_object_get(e, "state")),
			    "qw");
	assert_null(sched_sge_qstat_find(jobs, "8.3"));
	assert_null(sched_sge_qstat_find(jobs, "8.6"));
	e = sched_sge_qstat_find(jobs, "8.1");
	assert_string_equal(json_string_value(json_object_get(e, "state")),
			    "r");
	e = sched_sge_qstat_find(jobs, "8");
	assert_string_equal(json_string_value(json_object_get(e, "state")),
			    "r");
	assert_non_null(sched_sge_qstat_find(jobs, "9"));
	assert_null(sched_sge_qstat_find(jobs, "90"));
	assert_null(sched_sge_qstat_find(jobs, "9.1"));
	assert_null(sched_sge_qstat_find(jobs, "nine"));
	json_decref(jobs);
	err_release(&err);
}

/* A finished job ("qstat -s z") counts only when nothing live does. */
static void test_sched_sge_qstat_finished(void **state)
{
	static const char xml[] =
		"<job_info>\n<job_info>\n"
		"<job_list state=\"zombie\"><JB_job_number>5</JB_job_number>"
		"<JB_name>hpl-sp-1</JB_name><state>z</state>"
		"<tasks>1</tasks></job_list>\n"
		"<job_list state=\"pending\"><JB_job_number>5</JB_job_number>"
		"<state>qw</state><tasks>2</tasks></job_list>\n"
		"<job_list state=\"zombie\"><JB_job_number>6</JB_job_number>"
		"<state>z</state></job_list>\n"
		"</job_info>\n</job_info>\n";
	struct err err = ERR_INIT;
	json_t *jobs = NULL;

	(void)state;
	assert_int_equal(sched_sge_parse_qstat(&jobs, xml, strlen(xml), &err),
			 0);
	assert_string_equal(json_string_value(json_object_get(
		sched_sge_qstat_find(jobs, "5"), "state")), "qw");
	assert_string_equal(json_string_value(json_object_get(
		sched_sge_qstat_find(jobs, "5.1"), "state")), "z");
	assert_string_equal(json_string_value(json_object_get(
		sched_sge_qstat_find(jobs, "6"), "state")), "z");
	assert_int_equal(sched_sge_queue_state("z"), SCHED_UNKNOWN);
	json_decref(jobs);
}

static void test_sched_sge_qstat_empty(void **state)
{
	static const char empty[] =
		"<?xml version='1.0'?>\n<job_info  xmlns:xsd=\"x\">\n"
		"  <queue_info>\n  </queue_info>\n  <job_info>\n"
		"  </job_info>\n</job_info>";
	struct err err = ERR_INIT;
	json_t *jobs = NULL;

	(void)state;
	assert_int_equal(sched_sge_parse_qstat(&jobs, empty, strlen(empty),
					       &err), 0);
	assert_int_equal(json_array_size(jobs), 0);
	json_decref(jobs);
}

/* Cut short, garbled or hostile: refused as scheduler_unavailable. */
static void test_sched_sge_qstat_refused(void **state)
{
	static const char *const bad[] = {
		"",
		"error: commlib error: got select error (Connection refused)\n",
		"<job_info><job_list><JB_job_number>1</JB_job_number>"
		"<state>r</state></job_list>",
		"<job_info><job_list><JB_job_number>1</JB_job_number>"
		"<state>r</state></job_info>",
		"<job_info><job_list><state>r</state></job_list></job_info>",
		"<job_info><job_list><JB_job_number>1</JB_job_number>"
		"</job_list></job_info>",
		"<job_info><job_list><JB_job_number>x1</JB_job_number>"
		"<state>r</state></job_list></job_info>",
		"<job_info><job_list><JB_job_number>1</JB_job_number>"
		"<state>r r</state></job_list></job_info>",
		"<job_info><job_list><JB_job_number>1</JB_job_number>"
		"<state>r</state><JB_name>a&bogus;</JB_name></job_list>"
		"</job_info>",
		"<job_info><job_list><JB_job_number>1</JB_job_number>"
		"<state>r</state><JB_name>&#0;</JB_name></job_list>"
		"</job_info>",
		"<job_info><job_list><JB_job_number>1</JB_job_number>"
		"<state>r</state><JB_name>a</job_list></job_info>",
		"<job_info><job_list><JB_job_number>1</JB_job_number>"
		"<state>r</state><tasks>1 2</tasks></job_list></job_info>",
		"<job_info></job_info>trailing",
	};
	struct err err = ERR_INIT;
	json_t *jobs = NULL;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (sched_sge_parse_qstat(&jobs, bad[i], strlen(bad[i]),
					  &err) != -1)
			fail_msg("accepted: %s", bad[i]);
		assert_null(jobs);
		assert_int_equal(err.code, ERR_SCHEDULER_UNAVAILABLE);
		err_release(&err);
	}
	/* A NUL anywhere, and a document cut anywhere, are refused. */
	assert_int_equal(sched_sge_parse_qstat(&jobs, "<job_info>\0</job_info>",
					       22, &err), -1);
	err_release(&err);
	for (i = 1; i + 2 < strlen(qstat_xml); i += 7) {
		if (sched_sge_parse_qstat(&jobs, qstat_xml, i, &err) == 0)
			fail_msg("accepted the first %zu bytes", i);
		err_release(&err);
	}
}

/* ------------------------------------------------------------------ */
/* qacct -j                                                            */
/* ------------------------------------------------------------------ */

static const char qacct_text[] =
	"==============================================================\n"
	"qname        all.q               \n"
	"hostname     vm                  \n"
	"owner        root                \n"
	"jobname      sig2.sh             \n"
	"jobnumber    8                   \n"
	"taskid       1                   \n"
	"failed       100 : assumedly after job\n"
	"exit_status  137                  (Killed)\n"
	"ru_wallclock 7s\n"
	"category     NONE\n"
	"==============================================================\n"
	"jobname      hpl-sp-1a2b3c       \n"
	"jobnumber    1                   \n"
	"taskid       undefined\n"
	"failed       37  : qmaster enforced h_rt, h_cpu, or h_vmem limit\n"
	"exit_status  0                   \n"
	"category     -l h_rt=5\n"
	"==============================================================\n"
	"jobname      hpl-sp-1a2b3c       \n"
	"jobnumber    1                   \n"
	"taskid       undefined\n"
	"failed       0    \n"
	"exit_status  3                   \n";

static void test_sched_sge_qacct(void **state)
{
	struct err err = ERR_INIT;
	json_t *recs = NULL;
	const json_t *r;

	(void)state;
	assert_int_equal(sched_sge_parse_qacct(&recs, qacct_text,
					       strlen(qacct_text), &err), 0);
	assert_int_equal(json_array_size(recs), 3);
	r = json_array_get(recs, 0);
	assert_int_equal(json_integer_value(json_object_get(r, "failed")),
			 100);
	assert_string_equal(json_string_value(json_object_get(r,
				"failed_reason")), "assumedly after job");
	assert_int_equal(json_integer_value(json_object_get(r,
				"exit_status")), 137);
	assert_int_equal(json_integer_value(json_object_get(r,
				"ru_wallclock")), 7);
	assert_string_equal(json_string_value(json_object_get(r, "jobname")),
			    "sig2.sh");
	assert_string_equal(json_string_value(json_object_get(r, "owner")),
			    "root");
	assert_ptr_equal(sched_sge_qacct_find(recs, "8.1"), r);
	assert_null(sched_sge_qacct_find(recs, "8"));
	assert_null(sched_sge_qacct_find(recs, "8.2"));
	/* A job id used twice: its last record counts. */
	r = sched_sge_qacct_find(recs, "1");
	assert_ptr_equal(r, json_array_get(recs, 2));
	assert_int_equal(sched_sge_acct_state(r), SCHED_FAILED);
	assert_int_equal(sched_sge_acct_state(json_array_get(recs, 1)),
			 SCHED_TIMED_OUT);
	assert_int_equal(sched_sge_acct_state(json_array_get(recs, 0)),
			 SCHED_CANCELLED);
	json_decref(recs);
	/* Nothing printed: no record. */
	assert_int_equal(sched_sge_parse_qacct(&recs, "", 0, &err), 0);
	assert_int_equal(json_array_size(recs), 0);
	json_decref(recs);
}

static void test_sched_sge_qacct_refused(void **state)
{
	static const char *const bad[] = {
		"jobnumber 1\nfailed 0\nexit_status 0\ntaskid undefined\n",
		"==============================================================\n"
		"jobnumber 1\nexit_status 0\ntaskid undefined\n",
		"==============================================================\n"
		"jobnumber 1\nfailed 0\ntaskid undefined\n",
		"==============================================================\n"
		"jobnumber x\nfailed 0\nexit_status 0\ntaskid undefined\n",
		"==============================================================\n"
		"jobnumber 1\nfailed zero\nexit_status 0\ntaskid undefined\n",
		"==============================================================\n"
		"jobnumber 1\nfailed 0\nexit_status -3\ntaskid undefined\n",
		"==============================================================\n"
		"jobnumber 1\nfailed 0\nexit_status 99999999999\n"
		"taskid undefined\n",
		"==============================================================\n"
		"jobnumber 1\nfailed 0\nexit_status 0\n",
	};
	struct err err = ERR_INIT;
	json_t *recs = NULL;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (sched_sge_parse_qacct(&recs, bad[i], strlen(bad[i]),
					  &err) != -1)
			fail_msg("accepted: %s", bad[i]);
		assert_null(recs);
		assert_int_equal(err.code, ERR_SCHEDULER_UNAVAILABLE);
		err_release(&err);
	}
}

/* ------------------------------------------------------------------ */
/* States                                                              */
/* ------------------------------------------------------------------ */

static void test_sched_sge_queue_states(void **state)
{
	static const struct { const char *code; enum sched_state s; } map[] = {
		{ "qw", SCHED_PENDING }, { "hqw", SCHED_PENDING },
		{ "hRwq", SCHED_REQUEUED }, { "Rq", SCHED_REQUEUED },
		{ "r", SCHED_RUNNING }, { "t", SCHED_RUNNING },
		{ "Rr", SCHED_RUNNING }, { "Rt", SCHED_RUNNING },
		{ "s", SCHED_RUNNING }, { "S", SCHED_RUNNING },
		{ "T", SCHED_RUNNING }, { "Eqw", SCHED_FAILED },
		{ "Ehqw", SCHED_FAILED }, { "dr", SCHED_CANCELLED },
		{ "dt", SCHED_CANCELLED }, { "dRr", SCHED_CANCELLED },
		{ "zz", SCHED_UNKNOWN }, { "", SCHED_UNKNOWN },
		{ "r;", SCHED_UNKNOWN }, { NULL, SCHED_UNKNOWN },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
		if (sched_sge_queue_state(map[i].code) != map[i].s)
			fail_msg("%s: %s", map[i].code ? map[i].code : "NULL",
				 sched_state_name(sched_sge_queue_state(
					 map[i].code)));
	}
}

static void test_sched_sge_acct_states(void **state)
{
	static const struct {
		const char *json;
		enum sched_state s;
	} map[] = {
		{ "{\"failed\":0,\"exit_status\":0}", SCHED_COMPLETED },
		{ "{\"failed\":0,\"exit_status\":3}", SCHED_FAILED },
		{ "{\"failed\":37,\"exit_status\":0}", SCHED_TIMED_OUT },
		{ "{\"failed\":37,\"exit_status\":137}", SCHED_TIMED_OUT },
		{ "{\"failed\":100,\"exit_status\":137}", SCHED_CANCELLED },
		{ "{\"failed\":100,\"exit_status\":0}", SCHED_FAILED },
		{ "{\"failed\":28,\"exit_status\":0}", SCHED_FAILED },
		{ "{\"failed\":1,\"exit_status\":0}", SCHED_FAILED },
		/* The job script's own report of s_rt's SIGUSR1. */
		{ "{\"failed\":0,\"exit_status\":138,\"ru_wallclock\":4,"
		  "\"category\":\"-l h_rt=10,s_rt=4\"}", SCHED_TIMED_OUT },
		{ "{\"failed\":0,\"exit_status\":138,\"ru_wallclock\":600,"
		  "\"category\":\"-q all.q -l s_rt=0:9:0,h_rt=600\"}",
		  SCHED_TIMED_OUT },
		{ "{\"failed\":0,\"exit_status\":138,\"ru_wallclock\":2,"
		  "\"category\":\"-l h_rt=10,s_rt=4\"}", SCHED_FAILED },
		{ "{\"failed\":0,\"exit_status\":138,\"ru_wallclock\":9,"
		  "\"category\":\"NONE\"}", SCHED_FAILED },
		{ "{\"failed\":0}", SCHED_UNKNOWN },
		{ "{\"exit_status\":0}", SCHED_UNKNOWN },
		{ "{\"failed\":\"0\",\"exit_status\":0}", SCHED_UNKNOWN },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
		json_t *rec = json_loads(map[i].json, 0, NULL);

		assert_non_null(rec);
		if (sched_sge_acct_state(rec) != map[i].s)
			fail_msg("%s: %s", map[i].json, sched_state_name(
					 sched_sge_acct_state(rec)));
		json_decref(rec);
	}
}

/* ------------------------------------------------------------------ */
/* Submissions refused before qsub runs                                */
/* ------------------------------------------------------------------ */

/*
 * Paths qsub would read as something else, a run id that cannot be a
 * context value, and a bad option are refused before any command runs
 * (PATH is emptied: a qsub run would fail otherwise, as not found).
 */
static void test_sched_sge_submit_refused(void **state)
{
	static const struct { const char *field, *value, *needle; } bad[] = {
		{ "stdout", "/tmp/a,b/job.out", "/tmp/a,b/job.out" },
		{ "stdout", "/tmp/host:x/job.out", "host:x" },
		{ "stderr", "/tmp/$JOB_ID/job.err", "$JOB_ID" },
		{ "stderr", "-e/job.err", "-e/job.err" },
		{ "workdir", "-wd", "-wd" },
		{ "script", "-b", "-b" },
		{ "comment", "a,b=c", "a,b=c" },
		{ "comment", "", "run id" },
		{ "mem", "4G -l h_rt=1", "'mem'" },
	};
	struct transport *t = NULL;
	struct sched *sc = NULL;
	struct err err = ERR_INIT;
	json_t *cluster = json_pack("{s:s, s:s}", "scheduler", "sge", "user",
				    "someone");
	char *saved = getenv("PATH") ? xstrdup(getenv("PATH")) : NULL;
	size_t i;

	(void)state;
	assert_int_equal(transport_open(&t, NULL, &err), 0);
	assert_int_equal(sched_open(&sc, t, cluster, "hpc", "/tmp/sge-unit",
				    &err), 0);
	setenv("PATH", "/nonexistent-for-test", 1);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct sched_submit req;
		json_t *opts = json_object();
		char *id = NULL;

		memset(&req, 0, sizeof(req));
		req.name = "hpl-sp-1";
		req.comment = "sp-1";
		req.workdir = "/tmp/w";
		req.script_path = "/tmp/w/run_sprint.sh";
		req.stdout_path = "/tmp/w/job.out";
		req.stderr_path = "/tmp/w/job.err";
		req.job_options = opts;
		if (!strcmp(bad[i].field, "stdout"))
			req.stdout_path = bad[i].value;
		else if (!strcmp(bad[i].field, "stderr"))
			req.stderr_path = bad[i].value;
		else if (!strcmp(bad[i].field, "workdir"))
			req.workdir = bad[i].value;
		else if (!strcmp(bad[i].field, "script"))
			req.script_path = bad[i].value;
		else if (!strcmp(bad[i].field, "comment"))
			req.comment = bad[i].value;
		else
			json_object_set_new(opts, bad[i].field,
					    json_string(bad[i].value));
		assert_int_equal(sched_submit(sc, &id, &req, &err), -1);
		assert_null(id);
		if (err.code != ERR_SCHEDULER_REJECTED ||
		    !strstr(err.message, bad[i].needle))
			fail_msg("%s=%s: %s", bad[i].field, bad[i].value,
				 err.message);
		err_release(&err);
		json_decref(opts);
	}
	/* Good words, but no script there: nothing to submit. */
	{
		struct sched_submit req;
		char *id = NULL;

		memset(&req, 0, sizeof(req));
		req.name = "hpl-sp-1";
		req.comment = "sp-1";
		req.workdir = "/tmp/sge-unit-no-such-dir";
		req.script_path = "/tmp/sge-unit-no-such-dir/run_sprint.sh";
		assert_int_equal(sched_submit(sc, &id, &req, &err), -1);
		assert_int_equal(err.code, ERR_PRECONDITION_FAILED);
		err_release(&err);
	}
	if (saved)
		setenv("PATH", saved, 1);
	free(saved);
	sched_close(sc);
	transport_close(t);
	json_decref(cluster);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sched_sge_directives_map),
		cmocka_unit_test(test_sched_sge_directives_refuse_hostile),
		cmocka_unit_test(test_sched_sge_directives_limit),
		cmocka_unit_test(test_sched_sge_job_id),
		cmocka_unit_test(test_sched_sge_job_name),
		cmocka_unit_test(test_sched_sge_split_id),
		cmocka_unit_test(test_sched_sge_run_ids),
		cmocka_unit_test(test_sched_sge_job_detail),
		cmocka_unit_test(test_sched_sge_qstat),
		cmocka_unit_test(test_sched_sge_qstat_finished),
		cmocka_unit_test(test_sched_sge_qstat_empty),
		cmocka_unit_test(test_sched_sge_qstat_refused),
		cmocka_unit_test(test_sched_sge_qacct),
		cmocka_unit_test(test_sched_sge_qacct_refused),
		cmocka_unit_test(test_sched_sge_queue_states),
		cmocka_unit_test(test_sched_sge_acct_states),
		cmocka_unit_test(test_sched_sge_submit_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
