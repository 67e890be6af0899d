#!/bin/sh
test_description='sprints that fail, hang, leak children or are cancelled'
. "$(dirname "$0")/lib.sh"

test_expect_success 'setup' 'RED_TEAM_ROUNDS=1 setup_local_config'

test_expect_success 'an error result fails the sprint, naming the step' '
	FAKE_AGENT_ERROR_STEP=red_team_1 submit "error in red team" &&
	wait_state $sprint failed 60 2>/dev/null;
	hl status --spec "{\"sprint_id\":\"$sprint\"}" &&
	test_json_field out .data.sprints.0.state failed &&
	json_field out .data.sprints.0.error | grep -i "red.team" &&
	! test -f "$sprint_dir/report.md"
'

test_expect_success 'an agent that exits without a result fails the step' '
	FAKE_AGENT_FAIL_STEP=research submit "no result" &&
	wait_state $sprint failed 60 2>/dev/null;
	hl status --spec "{\"sprint_id\":\"$sprint\"}" &&
	test_json_field out .data.sprints.0.state failed &&
	json_field out .data.sprints.0.error | grep -i research
'

test_expect_success 'a step that leaves a child holding the pipe still completes' '
	FAKE_AGENT_LEAK_STEP=research submit "leaky child" &&
	wait_state $sprint completed 60 &&
	pid=$(cat "$sprint_dir/fake-agent-leak.pid") &&
	i=0 && while kill -0 "$pid" 2>/dev/null && [ $i -lt 100 ]; do
		sleep 0.1; i=$((i + 1)); done &&
	! kill -0 "$pid" 2>/dev/null
'

test_expect_success 'cancel stops a hung sprint and its whole process group' '
	FAKE_AGENT_HANG_STEP=research submit "hang forever" &&
	wait_state $sprint running 30 &&
	hl cancel --spec "{\"sprint_id\":\"$sprint\"}" &&
	test_json_field out .data.state cancelled &&
	test_json_field out .data.previous_state running &&
	wait_file "$sprint_dir/completion.json" &&
	test_json_field "$sprint_dir/completion.json" .status cancelled &&
	wait_gone "$sprint_dir" &&
	hl status --spec "{\"sprint_id\":\"$sprint\"}" &&
	test_json_field out .data.sprints.0.state cancelled &&
	json_field out .data.sprints.0.error | grep -q "^cancelled (SIGTERM)" &&
	json_field out .data.sprints.0.steps | grep -q "^\[" &&
	json_field out .data.sprints.0.cost_usd | grep -qE "^[0-9.]+$"
'

test_expect_success 'cancelling a finished sprint is conflict and changes nothing' '
	row_counts >before &&
	test_expect_code 1 hl cancel --spec "{\"sprint_id\":\"$sprint\"}" &&
	test_error out conflict &&
	row_counts >after && test_cmp before after
'

test_expect_success 'a heartbeat for a finished sprint is conflict' '
	test_expect_code 1 hl heartbeat-ingest --spec "{\"sprint_id\":\"$sprint\",\"heartbeat\":{\"seq\":9999}}" &&
	test_error out conflict
'

test_expect_success 'a heartbeat for an unknown sprint is not_found, journal unchanged' '
	row_counts >before &&
	test_expect_code 1 hl heartbeat-ingest --spec "{\"sprint_id\":\"sp-abcdef\",\"heartbeat\":{\"seq\":1}}" &&
	test_error out not_found &&
	row_counts >after && test_cmp before after
'

test_expect_success 'heartbeat-ingest stores once, replays are idempotent' '
	FAKE_AGENT_SLEEP=5 submit "slow" &&
	hl heartbeat-ingest --spec "{\"sprint_id\":\"$sprint\",\"heartbeats\":[{\"seq\":1000,\"phase\":\"running (cli)\"},{\"seq\":1001}]}" &&
	test_json_field out .data.stored 2 &&
	test_json_field out .data.state running &&
	hl heartbeat-ingest --spec "{\"sprint_id\":\"$sprint\",\"heartbeat\":{\"seq\":1000}}" &&
	test_json_field out .idempotent true &&
	test_json_field out .data.stored 0 &&
	hl cancel --spec "{\"sprint_id\":\"$sprint\"}"
'

test_expect_success SQLITE3 'heartbeats and completion keep the stored metadata' '
	meta=$(sqlite3 "$HPCLOOP_JOURNAL" "SELECT metadata FROM sprints WHERE id = '"'"'$sprint'"'"'") &&
	echo "$meta" | grep -q "\"job_options\"" &&
	echo "$meta" | grep -q "\"time_limit_s\"" &&
	echo "$meta" | grep -q "\"completion\""
'

test_expect_success 'a job that ends without a completion record is never a success' '
	FAKE_AGENT_SLEEP=30 submit "vanishing record" &&
	wait_state $sprint running 30 &&
	dir=$sprint_dir &&
	pkill -KILL -f "$dir/run_sprint.sh";
	wait_state $sprint failed 30 2>/dev/null;
	hl status --spec "{\"sprint_id\":\"$sprint\"}" &&
	state=$(json_field out .data.sprints.0.state) &&
	test "$state" != completed && test "$state" != running &&
	json_field out .data.sprints.0.error | grep -q "without a completion record"
'

test_done
