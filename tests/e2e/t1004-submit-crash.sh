#!/bin/sh
test_description='crash harness: submit-flow killed at every fault point, then retried, makes exactly one job that runs'
. "$(dirname "$0")/lib.sh"

test_expect_success 'setup' 'RED_TEAM_ROUNDS=0 setup_local_config'

# Every fault point in the tree is run at least once (DESIGN §12).
points=$(grep -rhoE 'fault_point\("[a-z_.]+"\)' "$SRC_DIR/src" |
	sed 's/fault_point("\(.*\)")/\1/' | sort -u)
exec 3>&1

test_expect_success 'the tree has fault points before and after submitting' '
	echo "$points" | grep -qx submit.before_sched &&
	echo "$points" | grep -qx submit.after_sched
'

runs=0 dups=0 lost=0 stuck=0
for p in $points; do
	test_expect_success "killed at $p, the retry makes one sprint and one job that completes" '
		spec="{\"study\":\"demo\",\"idea\":\"crash at $p\",\"idempotency_key\":\"crash-$p\"}" &&
		HPCLOOP_FAULT=$p "$HPCLOOP_BIN" submit-flow --spec "$spec" >crash.out 2>crash.err;
		rc=$? &&
		runs=$((runs + 1)) &&
		{ test $rc = 137 || echo "# $p: not reached by submit-flow (exit $rc)" >&3; } &&
		tries=0 &&
		until hl submit-flow --spec "$spec"; do
			test_error out in_progress || { cat out; return 1; }
			tries=$((tries + 1)); test $tries -lt 50 || { stuck=$((stuck + 1)); return 1; }
			sleep 0.2
		done &&
		id=$(json_field out .data.sprint_id) &&
		hl events --spec "{\"type\":\"sprint.created\",\"limit\":1000}" &&
		made=$(json_field out .data.events | tr "{" "\n" | grep -c "\"directory\":\"[^\"]*--$(echo "crash at $p" | tr -c "a-z0-9\n" "-" | sed "s/--*/-/g")\"") &&
		{ test "$made" = 1 || { dups=$((dups + 1)); echo "sprints: $made"; return 1; }; } &&
		jobs=$(local_jobs_for $id) &&
		{ test "$jobs" = 1 || { dups=$((dups + 1)); echo "jobs: $jobs"; return 1; }; } &&
		{ wait_state $id completed 60 || { lost=$((lost + 1)); return 1; }; }
	'
done

test_expect_success 'the counts' '
	echo "# crash harness: runs=$runs duplicates=$dups lost=$lost stuck=$stuck" >&3 &&
	test $runs -ge 5 && test $dups = 0 && test $lost = 0 && test $stuck = 0
'

test_done
