/*
 * test_waves.c: unit tests for wave planning (waves.h): every task in
 * exactly one array, no array over the limit or empty, every array but
 * the last of one size, no wave over the concurrency limit, waves in
 * order, the task-to-array map, the estimate, and the refusals.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>

#include "waves.h"
#include "banned.h"

/* Plan 'tasks' with the limits given, or the test fails. */
static struct wave_plan plan(long long tasks, long long max_array,
			     long long concurrent)
{
	struct wave_limits l = { tasks, max_array, concurrent, 0, 0, 0, 0 };
	struct wave_plan p;
	struct err err = ERR_INIT;

	if (waves_plan(&p, &l, &err) < 0)
		fail_msg("%lld/%lld/%lld: %s", tasks, max_array, concurrent,
			 err.message);
	return p;
}

/* The invariants of a plan, checked array by array. */
static void check_plan(const struct wave_plan *p, long long max_array,
		       long long concurrent)
{
	struct wave_array a;
	long long i, next_task = 0, in_wave = 0, wave = 0;

	assert_true(p->arrays >= 1);
	assert_true(p->array_size <= max_array);
	for (i = 0; i < p->arrays; i++) {
		waves_array(p, &a, i);
		/* contiguous: every task once, in order */
		assert_int_equal(a.first_task, next_task);
		assert_true(a.last_task >= a.first_task);
		assert_true(a.last_task - a.first_task + 1 <= max_array);
		if (i < p->arrays - 1)
			assert_int_equal(a.last_task - a.first_task + 1,
					 p->array_size);
		assert_int_equal(waves_array_of_task(p, a.first_task), i);
		assert_int_equal(waves_array_of_task(p, a.last_task), i);
		next_task = a.last_task + 1;
		/* waves in order, none over the limit */
		if (a.wave != wave) {
			assert_int_equal(a.wave, wave + 1);
			wave = a.wave;
			in_wave = 0;
		}
		in_wave++;
		assert_true(in_wave <= concurrent);
	}
	assert_int_equal(next_task, p->tasks);
	assert_int_equal(wave + 1, p->waves);
	/* the arrays are as few as the limit allows */
	assert_int_equal(p->arrays, (p->tasks + max_array - 1) / max_array);
}

static void test_waves_invariants(void **state)
{
	static const long long tasks[] = { 1, 2, 3, 7, 10, 99, 100, 101,
					   1000, 1001, 2500, 9999 };
	static const long long arrays[] = { 1, 2, 3, 4, 7, 100, 1000 };
	static const long long conc[] = { 1, 2, 3, 10 };
	size_t i, j, k;

	(void)state;
	for (i = 0; i < sizeof(tasks) / sizeof(*tasks); i++)
		for (j = 0; j < sizeof(arrays) / sizeof(*arrays); j++)
			for (k = 0; k < sizeof(conc) / sizeof(*conc); k++) {
				struct wave_plan p =
					plan(tasks[i], arrays[j], conc[k]);

				check_plan(&p, arrays[j], conc[k]);
			}
}

static void test_waves_examples(void **state)
{
	struct wave_plan p;
	struct wave_array a;

	(void)state;
	/* 2500 tasks of at most 1000: 3 arrays of 834, the last 832 */
	p = plan(2500, 1000, 2);
	assert_int_equal(p.arrays, 3);
	assert_int_equal(p.array_size, 834);
	assert_int_equal(p.waves, 2);
	waves_array(&p, &a, 2);
	assert_int_equal(a.first_task, 1668);
	assert_int_equal(a.last_task, 2499);
	assert_int_equal(a.wave, 1);
	/* a million tasks */
	p = plan(1000000, 1000, 10);
	assert_int_equal(p.arrays, 1000);
	assert_int_equal(p.waves, 100);
	assert_int_equal(waves_array_of_task(&p, 999999), 999);
}

static void test_waves_estimate(void **state)
{
	struct wave_limits l = { 2500, 1000, 2, 50, 600, 30, 0 };
	struct wave_plan p;
	struct err err = ERR_INIT;

	(void)state;
	assert_int_equal(waves_plan(&p, &l, &err), 0);
	/* 834 tasks 50 at a time: 17 rounds of 600 s, plus the spin-up */
	assert_float_equal(p.wave_wall_s, 30 + 17 * 600.0, 1e-9);
	assert_float_equal(p.total_wall_s, 2 * (30 + 17 * 600.0), 1e-9);
	/* no cap: one round */
	l.array_concurrency = 0;
	assert_int_equal(waves_plan(&p, &l, &err), 0);
	assert_float_equal(p.wave_wall_s, 630.0, 1e-9);
	/* unknown task time: no estimate */
	l.task_s = 0;
	assert_int_equal(waves_plan(&p, &l, &err), 0);
	assert_float_equal(p.total_wall_s, 0, 0);
}

static void test_waves_refusals(void **state)
{
	struct wave_limits bad[] = {
		{ 0, 10, 1, 0, 0, 0, 0 },
		{ WAVES_MAX_TASKS + 1, 10, 1, 0, 0, 0, 0 },
		{ 10, 0, 1, 0, 0, 0, 0 },
		{ 10, 10, 0, 0, 0, 0, 0 },
		{ 10, 10, 1, -1, 0, 0, 0 },
		{ 10, 10, 1, 0, -1, 0, 0 },
		{ 10, 10, 1, 0, 100, 10, 60 },
	};
	struct wave_plan p;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		struct err err = ERR_INIT;

		assert_int_equal(waves_plan(&p, &bad[i], &err), -1);
		assert_int_equal(err.code, ERR_SPEC_INVALID);
		err_release(&err);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_waves_invariants),
		cmocka_unit_test(test_waves_examples),
		cmocka_unit_test(test_waves_estimate),
		cmocka_unit_test(test_waves_refusals),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
