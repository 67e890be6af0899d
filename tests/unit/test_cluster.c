/*
 * test_cluster.c: unit tests for the shared scheduler query budget
 * (cluster.h): one query per interval for every process on a journal.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "cluster.h"
#include "config.h"
#include "journal.h"
#include "banned.h"

/*
 * The interval comes from the config, where the schema gives shared
 * schedulers a default and the local one none; a fraction is honoured.
 */
static void test_cluster_query_interval_defaults(void **state)
{
	struct cluster c = CLUSTER_INIT;
	json_t *conf;

	(void)state;
	conf = json_pack("{s:s}", "scheduler", "local");
	config_fill_defaults(conf, "cluster");
	c.conf = conf;
	assert_true(cluster_query_interval(&c) == 0);
	json_decref(conf);
	conf = json_pack("{s:s}", "scheduler", "slurm");
	config_fill_defaults(conf, "cluster");
	c.conf = conf;
	assert_true(cluster_query_interval(&c) == 30);
	json_decref(conf);
	conf = json_pack("{s:s, s:f}", "scheduler", "sge",
			 "query_interval_s", 7.5);
	config_fill_defaults(conf, "cluster");
	c.conf = conf;
	assert_true(cluster_query_interval(&c) == 7.5);
	json_decref(conf);
}

static void test_cluster_budget_shared(void **state)
{
	char dir[] = "/tmp/hpcloop-test-cluster.XXXXXX", path[128];
	struct journal *j1 = NULL, *j2 = NULL;
	struct err err = ERR_INIT;
	struct cluster c = CLUSTER_INIT;
	json_t *conf = json_pack("{s:s, s:i}", "scheduler", "slurm",
				 "query_interval_s", 60);
	double wait;
	int allowed;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/j.db", dir);
	c.name = "hpc";
	c.conf = conf;
	assert_int_equal(journal_open(&j1, path, &err), 0);
	assert_int_equal(journal_open(&j2, path, &err), 0);
	assert_int_equal(journal_begin(j1, &err), 0);
	assert_int_equal(cluster_take_query(j1, &c, &allowed, &wait, &err),
			 0);
	assert_int_equal(allowed, 1);
	assert_int_equal(journal_commit(j1, &err), 0);
	/* Another process on the same journal must wait. */
	assert_int_equal(journal_begin(j2, &err), 0);
	assert_int_equal(cluster_take_query(j2, &c, &allowed, &wait, &err),
			 0);
	assert_int_equal(allowed, 0);
	assert_true(wait > 50 && wait <= 60);
	assert_int_equal(journal_commit(j2, &err), 0);
	/* Another cluster has its own budget. */
	c.name = "other";
	assert_int_equal(journal_begin(j2, &err), 0);
	assert_int_equal(cluster_take_query(j2, &c, &allowed, &wait, &err),
			 0);
	assert_int_equal(allowed, 1);
	journal_rollback(j2);
	journal_close(j1);
	journal_close(j2);
	json_decref(conf);
	unlink(path);
	snprintf(path, sizeof(path), "%s/j.db-wal", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/j.db-shm", dir);
	unlink(path);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cluster_query_interval_defaults),
		cmocka_unit_test(test_cluster_budget_shared),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
