/*
 * waves.h: planning a campaign's tasks as scheduler arrays run in waves
 * (pure: no journal, no cluster).
 *
 * N tasks (0-based ids) are cut into arrays of at most max_array_size
 * tasks (the scheduler's MaxArraySize / max_aj_tasks), all of one size
 * but the last, so that no array is much shorter than the others.
 * Arrays run max_concurrent at a time: array i belongs to wave
 * i / max_concurrent, and each wave starts when every array of the one
 * before it has ended (afterany / -hold_jid), so a campaign never has
 * more than max_concurrent arrays in the queue.  Inside an array at most
 * array_concurrency tasks run at once (--array=a-b%k, qsub -tc k).
 *
 * The plan is a few numbers; any array's tasks and wave are computed
 * from them in O(1), so a plan of 1,000,000 tasks costs nothing until
 * its arrays are listed.
 */
#ifndef HPCLOOP_WAVES_H
#define HPCLOOP_WAVES_H

#include "err.h"

/* The most tasks a plan may hold. */
#define WAVES_MAX_TASKS 1000000000LL

/* What the plan must respect. */
struct wave_limits {
	long long tasks;	     /* tasks to run, >= 1 */
	long long max_array_size;    /* most tasks in one array, >= 1 */
	long long max_concurrent;    /* most arrays in one wave, >= 1 */
	long long array_concurrency; /* most tasks of an array at once, 0:
					no cap */
	double task_s;		     /* estimated seconds of one task, 0:
					unknown */
	double spin_up_s;	     /* seconds from queued to running */
	double max_walltime_s;	     /* the longest job allowed, 0: none */
};

/* A plan, from waves_plan(). */
struct wave_plan {
	long long tasks;	   /* as asked */
	long long array_size;	   /* tasks of every array but the last */
	long long arrays;	   /* how many arrays */
	long long per_wave;	   /* arrays in every wave but the last */
	long long waves;	   /* how many waves */
	long long array_concurrency; /* as asked (0: none) */
	double wave_wall_s;	   /* estimated wall time of a full wave,
				      0 when task_s is unknown */
	double total_wall_s;	   /* estimated wall time of all waves */
};

/*
 * Plan 'l' into 'out'.  Limits below 1, more than WAVES_MAX_TASKS tasks,
 * or a task that cannot fit the longest job allowed (task_s + spin_up_s
 * > max_walltime_s) are spec_invalid.
 */
int waves_plan(struct wave_plan *out, const struct wave_limits *l,
	       struct err *err);

/* One array of a plan. */
struct wave_array {
	long long index;      /* 0-based array number */
	long long wave;	      /* 0-based wave it runs in */
	long long first_task; /* its first task id (0-based) */
	long long last_task;  /* its last task id, inclusive */
};

/* Array 'i' (0 <= i < p->arrays) of the plan 'p' into 'out'. */
void waves_array(const struct wave_plan *p, struct wave_array *out,
		 long long i);

/* The array that runs task 'task' of the plan 'p'. */
long long waves_array_of_task(const struct wave_plan *p, long long task);

#endif
