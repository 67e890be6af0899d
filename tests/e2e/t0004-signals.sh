#!/bin/sh
test_description='signals and closed pipes end a call with its one envelope and nothing half-done'
. "$(dirname "$0")/lib.sh"

test_expect_success 'setup' 'RED_TEAM_ROUNDS=0 setup_local_config'

# start_sleeping POINT ARGS...: run hpcloop ARGS in the background with
# HPCLOOP_FAULT=POINT:sleep and wait until it sleeps there; $pid is it.
start_sleeping () {
	point=$1; shift
	rm -f bg.out bg.err
	HPCLOOP_FAULT=$point:sleep "$HPCLOOP_BIN" "$@" >bg.out 2>bg.err &
	pid=$!
	i=0
	while ! grep -q "fault point $point: sleeping" bg.err 2>/dev/null; do
		i=$((i + 1))
		test $i -lt 100 || { echo "never reached $point"; cat bg.err; return 1; }
		sleep 0.1
	done
}

for sig in TERM INT HUP; do
	test_expect_success "SIG$sig inside a transaction: one envelope, interrupted, nothing committed" '
		row_counts >before &&
		start_sleeping journal.before_commit annotate --spec "{\"text\":\"never stored $sig\"}" &&
		kill -'$sig' $pid &&
		{ wait $pid; rc=$?; } ;
		test $rc = 3 &&
		"$HPCLOOP_TEST_TOOL" envelope bg.out &&
		test_json_field bg.out .error_code interrupted &&
		test_json_field bg.out .retry_safe true &&
		test_json_field bg.out .primitive annotate &&
		grep -q "SIG'$sig'" bg.out &&
		row_counts >after && test_cmp before after
	'
done

test_expect_success 'SIGTERM between the phases of a submission: the retry resumes it, one job' '
	spec="{\"study\":\"demo\",\"idea\":\"interrupted submit\",\"idempotency_key\":\"sig-1\"}" &&
	start_sleeping submit.before_sched submit-flow --spec "$spec" &&
	kill -TERM $pid &&
	{ wait $pid; rc=$?; } ;
	test $rc = 3 &&
	test_json_field bg.out .error_code interrupted &&
	hl submit-flow --spec "$spec" &&
	test_json_field out .data.state submitted &&
	id=$(json_field out .data.sprint_id) &&
	hl events --spec "{\"subject\":\"$id\",\"type\":\"sprint.submitted\"}" &&
	test_json_field out .data.count 1 &&
	wait_state $id completed 60
'

test_expect_success 'a closed stdout is exit 3, and the commit is whole' '
	row_counts >before &&
	"$HPCLOOP_BIN" annotate --spec "{\"text\":\"stdout closed\"}" >&- 2>closed.err;
	test $? = 3 &&
	row_counts >after &&
	! test_cmp before after >/dev/null &&
	hl events --spec "{\"type\":\"note\"}" &&
	json_field out .data.events | grep -q "stdout closed"
'

test_expect_success 'a reader that went away (SIGPIPE) is exit 3, not a silent death' '
	{ HPCLOOP_FAULT=envelope.before_print:sleep1 "$HPCLOOP_BIN" list 2>pipe.err; echo $? >rc; } | true &&
	test "$(cat rc)" = 3 &&
	grep -q "cannot write to stdout" pipe.err
'

test_done
