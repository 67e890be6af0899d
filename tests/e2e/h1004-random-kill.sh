#!/bin/sh
test_description='random kill -9: submit-flow killed at a random instant, then retried, makes exactly one job that runs (bench/crash.sh runs it at full size)'
. "$(dirname "$0")/lib.sh"

# Not in make check (DESIGN §12: random kills run only in bench/, at full
# size; the tests aim at named fault points instead, t1004).
N=${HPCLOOP_CRASH_N:-100}
exec 3>&1

test_expect_success 'setup' 'RED_TEAM_ROUNDS=0 MAX_JOBS=8 setup_local_config'

# The longest delay before the kill, in ms: the time one submit-flow
# takes here, and half again, so the kills land all along it and some
# calls finish first.
s=$(date +%s%N)
"$HPCLOOP_BIN" submit-flow --spec '{"study":"demo","idea":"timing run"}' >/dev/null 2>&1
e=$(date +%s%N)
MAX_MS=${HPCLOOP_CRASH_MAX_MS:-$(( (e - s) * 3 / 2000000 + 1 ))}
echo "# kills land 0-${MAX_MS} ms after the start" >&3

killed=0 finished=0 dups=0 lost=0 stuck=0 ids=
i=0
while [ $i -lt $N ]; do
	i=$((i + 1))
	test_expect_success "run $i: killed at a random instant, the retry makes one sprint" '
		spec="{\"study\":\"demo\",\"idea\":\"random kill $i\",\"idempotency_key\":\"rk-$i\"}" &&
		ms=$(awk -v s=$$$i -v m=$MAX_MS "BEGIN { srand(s); printf \"%d\", rand() * m }") ||
			return 1
		"$HPCLOOP_BIN" submit-flow --spec "$spec" >kill.out 2>kill.err &
		pid=$!
		sleep "$(awk -v ms=$ms "BEGIN { printf \"%.3f\", ms / 1000 }")" &&
		if kill -9 $pid 2>/dev/null; then killed=$((killed + 1)); else finished=$((finished + 1)); fi &&
		{ wait $pid; true; } &&
		tries=0 &&
		until hl submit-flow --spec "$spec"; do
			test_error out in_progress || { cat out; return 1; }
			tries=$((tries + 1)); test $tries -lt 100 || { stuck=$((stuck + 1)); return 1; }
			sleep 0.2
		done &&
		ids="$ids $(json_field out .data.sprint_id)"
	'
done

test_expect_success 'every spec has exactly one sprint and one job, and every job ran' '
	hl events --spec "{\"type\":\"sprint.created\",\"limit\":1000}" &&
	json_field out .data.events | tr "{" "\n" | grep -o "random-kill-[0-9]*\"" | sort | uniq -c >made &&
	test "$(wc -l <made)" = "$N" || { dups=$((dups + 1)); echo "specs with sprints: $(wc -l <made)"; }
	awk "\$1 != 1" made >doubled && test ! -s doubled || { dups=$((dups + $(wc -l <doubled))); cat doubled; }
	for id in $ids; do
		jobs=$(local_jobs_for $id)
		test "$jobs" = 1 || { dups=$((dups + 1)); echo "$id: $jobs jobs"; continue; }
		wait_state $id completed 120 || lost=$((lost + 1))
	done
	echo "# random kill: runs=$N killed=$killed finished_first=$finished duplicates=$dups lost=$lost stuck=$stuck" >&3
	test $dups = 0 && test $lost = 0 && test $stuck = 0
'

test_done
