/*
 * waves.c: cutting a campaign's tasks into arrays and waves (see
 * waves.h).
 */

#include "waves.h"
#include "banned.h"

/* ceil(a / b) for a >= 0, b >= 1. */
static long long ceil_div(long long a, long long b)
{
	return a / b + (a % b != 0);
}

int waves_plan(struct wave_plan *out, const struct wave_limits *l,
	       struct err *err)
{
	long long runs;

	if (l->tasks < 1 || l->tasks > WAVES_MAX_TASKS)
		return err_set(err, ERR_SPEC_INVALID,
			       "tasks must be 1 to %lld", WAVES_MAX_TASKS);
	if (l->max_array_size < 1 || l->max_concurrent < 1 ||
	    l->array_concurrency < 0)
		return err_set(err, ERR_SPEC_INVALID,
			       "max_array_size and max_concurrent must be at "
			       "least 1, array_concurrency at least 0");
	if (l->task_s < 0 || l->spin_up_s < 0 || l->max_walltime_s < 0)
		return err_set(err, ERR_SPEC_INVALID,
			       "times cannot be negative");
	if (l->max_walltime_s > 0 &&
	    l->task_s + l->spin_up_s > l->max_walltime_s) {
		err_set(err, ERR_SPEC_INVALID,
			"one task (%.0f s with %.0f s to start) does not fit "
			"the longest job allowed (%.0f s)",
			l->task_s, l->spin_up_s, l->max_walltime_s);
		return err_remedy(err, "split the task into shorter ones, or "
				  "ask for a partition with a longer time "
				  "limit");
	}
	out->tasks = l->tasks;
	out->arrays = ceil_div(l->tasks, l->max_array_size);
	/*
	 * Every array but the last has one size, the smallest that keeps
	 * their count: 2500 tasks at most 1000 a piece are 3 arrays of
	 * 834 (the last 832), not 1000, 1000 and 500.
	 */
	out->array_size = ceil_div(l->tasks, out->arrays);
	out->arrays = ceil_div(l->tasks, out->array_size);
	out->per_wave = l->max_concurrent < out->arrays ? l->max_concurrent
							: out->arrays;
	out->waves = ceil_div(out->arrays, out->per_wave);
	out->array_concurrency = l->array_concurrency;
	runs = l->array_concurrency > 0 &&
			       l->array_concurrency < out->array_size
		       ? ceil_div(out->array_size, l->array_concurrency)
		       : 1;
	out->wave_wall_s =
		l->task_s > 0 ? l->spin_up_s + (double)runs * l->task_s : 0;
	out->total_wall_s = out->wave_wall_s * (double)out->waves;
	return 0;
}

void waves_array(const struct wave_plan *p, struct wave_array *out,
		 long long i)
{
	out->index = i;
	out->wave = i / p->per_wave;
	out->first_task = i * p->array_size;
	out->last_task = out->first_task + p->array_size - 1;
	if (out->last_task > p->tasks - 1)
		out->last_task = p->tasks - 1;
}

long long waves_array_of_task(const struct wave_plan *p, long long task)
{
	return task / p->array_size;
}
