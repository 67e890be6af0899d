#!/bin/sh
# The cost of history on the local scheduler: the median time of one
# submit and of one query with no past jobs and with 100,000 finished
# ones in the state directory.  The past jobs are written directly, as
# the scheduler leaves them (record with spec.json and exit_status,
# by-run entry, counter), which takes seconds where running them would
# take hours.  A tiny C driver compiled against build/libhpcloop.a does
# the timing.  Prints figures; asserts nothing.  Target: both within
# 1.2x of their time with no past jobs.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
lib=${HPCLOOP_LIB:-$top/build/libhpcloop.a}
past=${LOCAL_HISTORY_PAST:-100000}
rounds=${LOCAL_HISTORY_ROUNDS:-40}
[ -f "$lib" ] || { echo "needs $lib (run make)" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

cat >"$tmp/driver.c" <<'C'
/*
 * driver DIR PAST ROUNDS: write PAST finished job records in DIR, then
 * submit ROUNDS jobs ("true", after three not counted) and query each,
 * and print the median microseconds of a submit and of a query.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "err.h"
#include "sched.h"
#include "transport.h"

static void put(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	if (fd < 0 || write(fd, text, strlen(text)) < 0 || close(fd) < 0) {
		perror(path);
		exit(1);
	}
}

static void dir(const char *path)
{
	if (mkdir(path, 0700) < 0) {
		perror(path);
		exit(1);
	}
}

/* PAST records of jobs that ran and ended, as the scheduler leaves them. */
static void fill(const char *state, long past)
{
	char p[4096], text[512];
	long i;

	snprintf(p, sizeof(p), "%s", state);
	dir(p);
	snprintf(p, sizeof(p), "%s/jobs", state);
	dir(p);
	snprintf(p, sizeof(p), "%s/by-run", state);
	dir(p);
	for (i = 1; i <= past; i++) {
		snprintf(p, sizeof(p), "%s/jobs/%ld", state, i);
		dir(p);
		snprintf(p, sizeof(p), "%s/jobs/%ld/spec.json", state, i);
		snprintf(text, sizeof(text), "{\"comment\": \"sp-%06lx\", "
			 "\"name\": \"hpl-sp-%06lx\", \"script\": \"/bin/true\""
			 ", \"workdir\": \"/\", \"time_limit_s\": 0, "
			 "\"env\": {}, \"environ\": {}}\n", i, i);
		put(p, text);
		snprintf(p, sizeof(p), "%s/jobs/%ld/exit_status", state, i);
		put(p, "{\"exit_code\": 0, \"signal\": null, \"reason\": "
		       "\"exited\", \"ended_at\": \"2026-01-01T00:00:00Z\"}\n");
		snprintf(p, sizeof(p), "%s/by-run/sp-%06lx", state, i);
		dir(p);
		snprintf(p, sizeof(p), "%s/by-run/sp-%06lx/%ld", state, i, i);
		put(p, "");
	}
	snprintf(p, sizeof(p), "%s/next_id", state);
	snprintf(text, sizeof(text), "%ld\n", past + 1);
	put(p, text);
}

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp);
	return v[n / 2];
}

static void die(const char *what, const struct err *err)
{
	fprintf(stderr, "%s: %s\n", what, err->message);
	exit(1);
}

int main(int argc, char **argv)
{
	struct err err = ERR_INIT;
	struct transport *t = NULL;
	struct sched *s = NULL;
	struct sched_submit req;
	char state[4096], script[4096], comment[64];
	json_t *conf, *ids, *out;
	double *sub, *qry, t0;
	long past;
	int rounds, i;

	if (argc != 4)
		return 2;
	past = atol(argv[2]);
	rounds = atoi(argv[3]);
	sub = calloc((size_t)rounds, sizeof(*sub));
	qry = calloc((size_t)rounds, sizeof(*qry));
	snprintf(state, sizeof(state), "%s/state", argv[1]);
	snprintf(script, sizeof(script), "%s/job.sh", argv[1]);
	put(script, "true\n");
	fill(state, past);
	sync();	/* so the records written above do not slow the fsyncs */
	conf = json_pack("{s:s, s:s, s:i, s:i}", "transport", "local",
			 "scheduler", "local", "max_concurrent_jobs", 1000,
			 "cancel_grace_s", 10);
	if (transport_open(&t, conf, &err) < 0 ||
	    sched_open(&s, t, conf, "bench", state, &err) < 0)
		die("open", &err);
	ids = json_array();
	/* Warm up: the first calls create directories and fill caches. */
	for (i = -3; i < rounds; i++) {
		char *id = NULL;

		memset(&req, 0, sizeof(req));
		snprintf(comment, sizeof(comment), "sp-new%03d", i);
		req.name = comment;
		req.comment = comment;
		req.workdir = argv[1];
		req.script_path = script;
		t0 = now_us();
		if (sched_submit(s, &id, &req, &err) < 0)
			die("submit", &err);
		if (i >= 0) {
			sub[i] = now_us() - t0;
			json_array_append_new(ids, json_string(id));
		}
		free(id);
	}
	/* Let the jobs end, so every query sees the same queue. */
	sleep(1);
	for (i = 0; i < rounds; i++) {
		json_t *one = json_pack("[O]", json_array_get(ids, i));

		t0 = now_us();
		if (sched_query(s, &out, one, &err) < 0)
			die("query", &err);
		qry[i] = now_us() - t0;
		json_decref(out);
		json_decref(one);
	}
	printf("%ld %.0f %.0f\n", past, median(sub, rounds),
	       median(qry, rounds));
	json_decref(ids);
	json_decref(conf);
	sched_close(s);
	transport_close(t);
	free(sub);
	free(qry);
	return 0;
}
C

pkgs="sqlite3 jansson yaml-0.1 libpcre2-8 libcrypto"
# shellcheck disable=SC2046
${CC:-cc} -std=c11 -D_GNU_SOURCE -O2 -iquote "$top/src" \
	-iquote "$top/src/core" $(pkg-config --cflags $pkgs) \
	-o "$tmp/driver" "$tmp/driver.c" "$lib" \
	$(pkg-config --libs $pkgs) -ldl -lpthread -lm

mkdir "$tmp/none" "$tmp/many"
s=$(date +%s)
base=$("$tmp/driver" "$tmp/none" 0 "$rounds")
many=$("$tmp/driver" "$tmp/many" "$past" "$rounds")
e=$(date +%s)
echo "$base
$many" | awk -v past="$past" -v rounds="$rounds" -v secs=$((e - s)) '
NR == 1 { s0 = $2; q0 = $3 }
NR == 2 { s1 = $2; q1 = $3 }
END {
	printf "local scheduler, median of %d calls of each", rounds
	printf " (setup and calls %d s):\n", secs
	printf "  past jobs        submit      query\n"
	printf "  %9d  %8.2f ms  %6.2f ms\n", 0, s0 / 1000, q0 / 1000
	printf "  %9d  %8.2f ms  %6.2f ms\n", past, s1 / 1000, q1 / 1000
	printf "  ratio            %6.2fx    %6.2fx   (target <= 1.20x)\n",
		s1 / s0, q1 / q0
}'
