/*
 * plan-waves: cut N tasks into scheduler arrays and waves (pure; see
 * src/core/waves.h): arrays of at most max_array_size tasks, at most
 * max_concurrent of them queued at once, each wave chained after the
 * one before, with a wall-time estimate.  The waves are paged.
 */
#include <stdio.h>
#include <stdlib.h>

#include "primitive.h"
#include "waves.h"
#include "banned.h"

/* The defaults the input schema describes. */
#define PLAN_DEFAULT_ARRAY_SIZE 1000
#define PLAN_DEFAULT_CONCURRENT 10
#define PLAN_DEFAULT_LIMIT 50

/* The integer member 'key' of 'spec', or 'dflt' when absent. */
static long long int_or(const json_t *spec, const char *key, long long dflt)
{
	const json_t *v = json_object_get(spec, key);

	return json_is_integer(v) ? (long long)json_integer_value(v) : dflt;
}

/* The wave 'w' of 'p' as a new object. */
static json_t *wave_json(const struct wave_plan *p, long long w)
{
	long long i = w * p->per_wave, end = i + p->per_wave;
	struct wave_array a;
	json_t *arrays = json_array();
	long long first = -1, last = -1;

	if (end > p->arrays)
		end = p->arrays;
	for (; i < end; i++) {
		waves_array(p, &a, i);
		if (first < 0)
			first = a.first_task;
		last = a.last_task;
		json_array_append_new(arrays,
				      json_pack("[I,I]", (json_int_t)a.first_task,
						(json_int_t)a.last_task));
	}
	return json_pack("{s:I, s:o, s:I, s:I, s:o}", "wave", (json_int_t)w,
			 "after_wave",
			 w ? json_integer((json_int_t)(w - 1)) : json_null(),
			 "first_task", (json_int_t)first, "last_task",
			 (json_int_t)last, "arrays", arrays);
}

static int plan_waves_run(struct ctx *ctx, const json_t *spec, json_t **data,
			  struct err *err)
{
	const char *cursor = json_string_value(json_object_get(spec,
							       "cursor"));
	long long limit = int_or(spec, "limit", PLAN_DEFAULT_LIMIT);
	struct wave_limits l = {
		.tasks = int_or(spec, "tasks", 0),
		.max_array_size = int_or(spec, "max_array_size",
					 PLAN_DEFAULT_ARRAY_SIZE),
		.max_concurrent = int_or(spec, "max_concurrent",
					 PLAN_DEFAULT_CONCURRENT),
		.array_concurrency = int_or(spec, "array_concurrency", 0),
		.task_s = json_number_value(json_object_get(spec, "task_s")),
		.spin_up_s = json_number_value(json_object_get(spec,
							       "spin_up_s")),
		.max_walltime_s = json_number_value(
			json_object_get(spec, "max_walltime_s")),
	};
	struct wave_plan p;
	long long w, from = cursor ? strtoll(cursor + 1, NULL, 10) : 0;
	json_t *plan;
	char next[32];

	(void)ctx;
	if (waves_plan(&p, &l, err) < 0)
		return -1;
	if (from >= p.waves) {
		err_set(err, ERR_SPEC_INVALID,
			"cursor '%s' is past the last wave (%lld)", cursor,
			p.waves - 1);
		return err_remedy(err, "give the `next` of the previous page "
				  "with the same tasks and limits, or no "
				  "cursor for the first page");
	}
	plan = json_array();
	for (w = from; w < p.waves && w < from + limit; w++)
		json_array_append_new(plan, wave_json(&p, w));
	snprintf(next, sizeof(next), "w%lld", w);
	*data = json_pack(
		"{s:I, s:I, s:I, s:I, s:I, s:I, s:s, s:o, s:o, s:o}", "tasks",
		(json_int_t)p.tasks, "arrays", (json_int_t)p.arrays,
		"array_size", (json_int_t)p.array_size, "waves",
		(json_int_t)p.waves, "per_wave", (json_int_t)p.per_wave,
		"array_concurrency", (json_int_t)p.array_concurrency,
		"dependency", "afterany", "estimate",
		l.task_s > 0 ? json_pack("{s:f, s:f}", "wave_wall_s",
					 p.wave_wall_s, "total_wall_s",
					 p.total_wall_s)
			     : json_null(),
		"plan", plan, "next",
		w < p.waves ? json_string(next) : json_null());
	return 0;
}

static const enum err_code plan_waves_errors[] = { ERR_NONE };

const struct primitive prim_plan_waves = {
	.name = "plan-waves",
	.summary = "Cut N tasks into scheduler arrays and waves chained by "
		   "dependencies, with a wall-time estimate",
	.description =
		"Pure: nothing is read or written. Tasks (0-based ids) go "
		"into arrays of at most `max_array_size` (default 1000) of "
		"one size but the last, which may be shorter; at most "
		"`max_concurrent` arrays (default 10) are queued at once, "
		"so array i runs in wave i / max_concurrent, and each wave "
		"waits for every array of the wave before it to end "
		"(`afterany`). `array_concurrency` caps the tasks of one "
		"array running at once. With `task_s`, `estimate` gives a "
		"full wave's wall time (spin_up_s plus task_s for each round "
		"of array_concurrency tasks) and the total. A task that "
		"cannot fit `max_walltime_s` is refused. The waves are "
		"paged (`limit`, default 50; `cursor`).",
	.example = "{\"tasks\": 2500, \"max_array_size\": 1000, "
		   "\"max_concurrent\": 2, \"array_concurrency\": 50, "
		   "\"task_s\": 600}",
	.flags = PRIM_IDEMPOTENT | PRIM_READ_SAFE | PRIM_HTTP,
	.errors = plan_waves_errors,
	.handler = plan_waves_run,
};
