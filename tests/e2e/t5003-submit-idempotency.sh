#!/bin/sh
test_description='submit-flow is exactly-once: replays, keys bound to their spec, crashes at every fault point'
. "$(dirname "$0")/lib.sh"

test_expect_success 'setup' 'RED_TEAM_ROUNDS=0 setup_local_config'

jobs_count () { ls sprints/.hpcloop-local/jobs 2>/dev/null | wc -l; }

# crash POINT SPEC: run submit-flow with SPEC, killed at fault POINT.
crash () {
	HPCLOOP_FAULT=$1 "$HPCLOOP_BIN" submit-flow --spec "$2" >crash.out 2>crash.err
	rc=$?
	test $rc = 137 || { echo "expected SIGKILL (137) at $1, got $rc"; cat crash.out; return 1; }
	test ! -s crash.out || { echo "a killed call printed:"; cat crash.out; return 1; }
}

test_expect_success 'the same spec twice submits one job' '
	submit "once only" && cp out first &&
	test_json_field out .idempotent false &&
	n=$(jobs_count) &&
	row_counts >before &&
	hl submit-flow --spec "{\"study\":\"demo\",\"idea\":\"once only\"}" &&
	test_json_field out .idempotent true &&
	json_field first .data.sprint_id >a && json_field out .data.sprint_id >b &&
	test_cmp a b &&
	json_field first .data.job_id >a && json_field out .data.job_id >b &&
	test_cmp a b &&
	test $(jobs_count) = $n &&
	row_counts >after && test_cmp before after
'

test_expect_success 'a replay reports the sprint as it is now, not as it was' '
	wait_state $(json_field first .data.sprint_id) completed 60 &&
	hl submit-flow --spec "{\"study\":\"demo\",\"idea\":\"once only\"}" &&
	test_json_field out .idempotent true &&
	test_json_field out .data.state completed &&
	test_json_field out .data.phase done
'

test_expect_success 'an explicit idempotency_key replays' '
	hl submit-flow --spec "{\"study\":\"demo\",\"idea\":\"keyed\",\"idempotency_key\":\"k-1\"}" &&
	id1=$(json_field out .data.sprint_id) &&
	hl submit-flow --spec "{\"study\":\"demo\",\"idea\":\"keyed\",\"idempotency_key\":\"k-1\"}" &&
	test_json_field out .idempotent true &&
	test_json_field out .data.sprint_id $id1
'

test_expect_success 'the same key with another spec is conflict, nothing submitted' '
	n=$(jobs_count) &&
	row_counts >before &&
	test_expect_code 1 hl submit-flow --spec "{\"study\":\"demo\",\"idea\":\"other\",\"idempotency_key\":\"k-1\"}" &&
	test_error out conflict &&
	test_json_field out .retry_safe false &&
	test $(jobs_count) = $n &&
	row_counts >after && test_cmp before after
'

test_expect_success 'a key is bound to its spec while its first attempt is still pending' '
	crash submit.after_pending "{\"study\":\"demo\",\"idea\":\"first idea\",\"idempotency_key\":\"bound\"}" &&
	n=$(jobs_count) &&
	test_expect_code 1 hl submit-flow --spec "{\"study\":\"demo\",\"idea\":\"second idea\",\"idempotency_key\":\"bound\"}" &&
	test_error out conflict &&
	test $(jobs_count) = $n &&
	hl submit-flow --spec "{\"study\":\"demo\",\"idea\":\"first idea\",\"idempotency_key\":\"bound\"}" &&
	test_json_field out .data.state submitted &&
	test $(jobs_count) = $((n + 1)) &&
	grep -q "$(printf "first idea" | base64)" "$(json_field out .data.directory)/run_sprint.sh" &&
	! grep -q "$(printf "second idea" | base64)" "$(json_field out .data.directory)/run_sprint.sh"
'

test_expect_success 'killed after the job was submitted: the retry adopts it, no second job' '
	spec="{\"study\":\"demo\",\"idea\":\"crash after sched\",\"idempotency_key\":\"c-after\"}" &&
	n=$(jobs_count) &&
	crash submit.after_sched "$spec" &&
	test $(jobs_count) = $((n + 1)) &&
	hl submit-flow --spec "$spec" &&
	test_json_field out .data.state submitted &&
	test $(jobs_count) = $((n + 1)) &&
	id=$(json_field out .data.sprint_id) &&
	wait_state $id completed 60 &&
	hl events --spec "{\"subject\":\"$id\",\"type\":\"sprint.submitted\"}" &&
	test_json_field out .data.count 1
'

test_expect_success 'killed before the job reached the scheduler: the retry submits it once' '
	spec="{\"study\":\"demo\",\"idea\":\"crash before sched\",\"idempotency_key\":\"c-before\"}" &&
	n=$(jobs_count) &&
	crash submit.before_sched "$spec" &&
	test $(jobs_count) = $n &&
	hl submit-flow --spec "$spec" &&
	test $(jobs_count) = $((n + 1)) &&
	wait_state $(json_field out .data.sprint_id) completed 60
'

test_expect_success 'killed after the commit: the retry is a replay' '
	spec="{\"study\":\"demo\",\"idea\":\"crash after commit\",\"idempotency_key\":\"c-commit\"}" &&
	n=$(jobs_count) &&
	crash submit.after_commit "$spec" &&
	hl submit-flow --spec "$spec" &&
	test_json_field out .idempotent true &&
	test $(jobs_count) = $((n + 1))
'

test_expect_success 'status and doctor say what to do with a pending sprint whose attempt died' '
	crash submit.after_pending "{\"study\":\"demo\",\"idea\":\"abandoned\",\"idempotency_key\":\"gone\"}" &&
	hl status &&
	json_field out .data.sprints >sprints.json &&
	grep -q "repeat the same submit-flow call" sprints.json &&
	hl doctor &&
	test_json_field out .data.healthy false &&
	json_field out .data.checks >checks.json &&
	grep -q "\"name\":\"abandoned_submissions\",\"ok\":false" checks.json
'

test_expect_success SQLITE3 'a pending sprint no one resumes is failed after the timeout, and its key freed' '
	id=$(sqlite3 "$HPCLOOP_JOURNAL" "SELECT subject FROM idempotency WHERE key = '"'"'gone'"'"'") &&
	sqlite3 "$HPCLOOP_JOURNAL" "UPDATE sprints SET created_at = '"'"'2000-01-01T00:00:00Z'"'"' WHERE id = '"'"'$id'"'"'" &&
	hl status --spec "{\"sprint_id\":\"$id\"}" &&
	test_json_field out .data.sprints.0.state failed &&
	json_field out .data.sprints.0.error | grep -q "never resumed" &&
	hl submit-flow --spec "{\"study\":\"demo\",\"idea\":\"abandoned\",\"idempotency_key\":\"gone\"}" &&
	test_json_field out .idempotent false &&
	test "$(json_field out .data.sprint_id)" != "$id"
'

test_expect_success 'status settles every sprint' '
	for s in $(ls sprints/demo | sed -n "s/.*--\(sp-[0-9a-f]*\)--.*/\1/p"); do
		wait_state $s completed 60 2>/dev/null ||
			case $(json_field out .data.sprints.0.state) in
			cancelled|failed) ;; *) return 1 ;; esac
	done
'

test_done
