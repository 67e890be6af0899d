#!/bin/sh
test_description='race harness: the same submission many times at once makes one job'
. "$(dirname "$0")/lib.sh"

# Callers at once (bench/ runs the harness bigger).
N=${HPCLOOP_RACE_N:-16}

test_expect_success 'setup' 'RED_TEAM_ROUNDS=0 FAKE_AGENT_SLEEP=2 setup_local_config'

# race SPEC: N concurrent submit-flow calls with SPEC; outcomes in
# race.N.out; prints the counts as a TAP comment.
race () {
	i=0
	while [ $i -lt $N ]; do
		"$HPCLOOP_BIN" submit-flow --spec "$1" >race.$i.out 2>race.$i.err &
		i=$((i + 1))
	done
	wait
	for f in race.*.out; do cp $f ${f%.out}.first; done
	tally race.*.out
	echo "# race: callers=$N first=$ok replays=$replays in_progress=$in_progress journal_busy=$busy internal=$internal other=$other" >&3
}
exec 3>&1

# check_one IDEA: exactly one sprint, one job, and every caller's
# retry until done answers with that sprint.
check_one () {
	hl events --spec "{\"type\":\"sprint.created\",\"limit\":1000}" &&
	ids=$(json_field out .data.events | tr "{" "\n" | grep -c "\"directory\":\"[^\"]*--$1\"") &&
	test "$ids" = 1 || { echo "sprints made: $ids"; return 1; }
	sprint=$(json_field race.0.out .data.sprint_id 2>/dev/null)
	for f in race.*.out; do
		while test_json_field $f .error_code in_progress 2>/dev/null ||
		      test_json_field $f .error_code journal_busy 2>/dev/null; do
			sleep 0.2
			"$HPCLOOP_BIN" submit-flow --spec "$spec" >$f 2>/dev/null
		done
		test_json_field $f .ok true || { cat $f; return 1; }
		got=$(json_field $f .data.sprint_id)
		test -n "$sprint" || sprint=$got
		test "$got" = "$sprint" || { echo "$f: $got, not $sprint"; return 1; }
	done
	jobs=$(local_jobs_for $sprint) &&
	test "$jobs" = 1 || { echo "jobs for $sprint: $jobs"; return 1; }
	hl events --spec "{\"subject\":\"$sprint\",\"type\":\"sprint.submitted\"}" &&
	test_json_field out .data.count 1
}

test_expect_success "$N identical specs at once: one sprint, one job, never internal" '
	rm -f race.*.out race.*.first && spec="{\"study\":\"demo\",\"idea\":\"race-by-hash\"}" &&
	race "$spec" &&
	test $internal = 0 && test $other = 0 && test $ok = 1 &&
	check_one race-by-hash
'

test_expect_success "$N calls with one idempotency_key at once: one sprint, one job" '
	rm -f race.*.out race.*.first && spec="{\"study\":\"demo\",\"idea\":\"race-by-key\",\"idempotency_key\":\"race-key\"}" &&
	race "$spec" &&
	test $internal = 0 && test $other = 0 && test $ok = 1 &&
	check_one race-by-key
'

test_expect_success 'every other caller was told it is a replay or to retry, and when' '
	tally race.*.first &&
	test $((replays + in_progress + busy)) = $((N - 1)) &&
	for f in race.*.first; do
		if test_json_field $f .error_code in_progress 2>/dev/null; then
			test_json_field $f .retry_safe true &&
			json_field $f .details.retry_after_s | grep -qE "^[0-9]+$" || return 1
		fi
	done
'

test_expect_success 'the sprints finish' '
	wait_state $sprint completed 60
'

test_done
