#!/bin/sh
test_description='the local scheduler: queueing, time limits, evidence'
. "$(dirname "$0")/lib.sh"

test_expect_success 'setup: one job at a time' 'MAX_JOBS=1 RED_TEAM_ROUNDS=0 setup_local_config'

test_expect_success 'a second job waits in the queue until the first ends' '
	FAKE_AGENT_SLEEP=2 submit "first" && first=$sprint &&
	submit "second" && second=$sprint &&
	hl status --spec "{\"sprint_id\":\"$second\"}" &&
	test_json_field out .data.sprints.0.state submitted &&
	test_json_field out .data.sprints.0.evidence.scheduler.state pending &&
	wait_state $first completed 60 &&
	wait_state $second completed 60
'

test_expect_success 'status queries the scheduler once for all jobs' '
	FAKE_AGENT_SLEEP=3 submit "a" && a=$sprint &&
	FAKE_AGENT_SLEEP=3 submit "b" &&
	hl status &&
	test_json_field out .data.clusters.local.jobs 2 &&
	test_json_field out .data.clusters.local.queried true
'

test_expect_success 'the time limit ends a sprint as timed_out' '
	FAKE_AGENT_HANG_STEP=research submit "too slow" "\"time_limit_s\":3" &&
	wait_state $sprint timed_out 60 &&
	test_json_field out .data.sprints.0.state timed_out &&
	test_json_field "$sprint_dir/completion.json" .status timed_out &&
	wait_gone "$sprint_dir"
'

test_expect_success 'the local job record holds pid, start time and exit status' '
	job=$(json_field out .data.sprints.0.job_id) &&
	rec=$PWD/sprints/.hpcloop-local/jobs/$job &&
	test -s "$rec/pid" && test -s "$rec/start_time" &&
	wait_file "$rec/exit_status" &&
	grep -q timed_out "$rec/exit_status"
'

test_expect_success 'the local scheduler is asked on every call: only shared schedulers spend the query budget' '
	sed -i "s/^    cancel_grace_s: 30/&\n    query_interval_s: 60/" hpcloop.yaml &&
	FAKE_AGENT_SLEEP=1 submit "budget one" && one=$sprint &&
	hl status &&
	test_json_field out .data.clusters.local.queried true &&
	FAKE_AGENT_SLEEP=3 submit "budget two" &&
	hl status &&
	test_json_field out .data.clusters.local.queried true &&
	test_json_field out .data.clusters.local.cached false &&
	test_json_field out .data.clusters.local.jobs 2 &&
	wait_state $one completed 60 &&
	test_json_field out .data.sprints.0.evidence.scheduler.source query &&
	test_json_field out .data.sprints.0.evidence.completion_file.claim true
'

test_done
