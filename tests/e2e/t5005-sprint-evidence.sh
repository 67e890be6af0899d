#!/bin/sh
test_description='the sprint directory is evidence, not an order: heartbeat lines and completion records are checked'
. "$(dirname "$0")/lib.sh"

# Heartbeats only when we write them: the job writes its first and then
# sleeps for an hour between beats.
test_expect_success 'setup' '
	RED_TEAM_ROUNDS=0 setup_local_config &&
	sed -i "s/^heartbeat_interval_s: 1$/heartbeat_interval_s: 3600/" hpcloop.yaml &&
	FAKE_AGENT_SLEEP=20 submit "hostile evidence" &&
	wait_state $sprint running 30
'

hb () { printf "%s" "$1" >>"$sprint_dir/heartbeats.jsonl"; }
stored () {
	sqlite3 "$HPCLOOP_JOURNAL" "SELECT count(*) FROM heartbeats WHERE sprint_id = '$sprint' AND seq = $1"
}

test_expect_success SQLITE3 'lines that are not this sprint'"'"'s heartbeats are skipped, the good ones kept' '
	hb "{\"seq\":0,\"sprint_id\":\"$sprint\"}
" &&
	hb "{\"seq\":7001,\"sprint_id\":\"sp-ffffff\"}
" &&
	hb "{\"seq\":7002}
" &&
	hb "not json at all
" &&
	hb "{\"seq\":7003,\"sprint_id\":\"$sprint\",\"phase\":\"injected\"}
" &&
	hl status --spec "{\"sprint_id\":\"$sprint\"}" &&
	test_json_field out .data.sprints.0.evidence.heartbeats.skipped 4 &&
	test "$(stored 7001)" = 0 && test "$(stored 7003)" = 1
'

test_expect_success SQLITE3 'an oversize line is skipped with a note, not a stall' '
	head -c 20000 /dev/zero | tr "\0" x >big &&
	hb "{\"seq\":7004,\"sprint_id\":\"$sprint\",\"junk\":\"$(cat big)\"}
" &&
	hb "{\"seq\":7005,\"sprint_id\":\"$sprint\"}
" &&
	hl status --spec "{\"sprint_id\":\"$sprint\"}" &&
	test_json_field out .data.sprints.0.evidence.heartbeats.skipped 1 &&
	test "$(stored 7004)" = 0 && test "$(stored 7005)" = 1
'

test_expect_success SQLITE3 'an oversize line longer than one read is stepped over too' '
	head -c 600000 /dev/zero | tr "\0" y >huge &&
	hb "{\"seq\":7006,\"junk\":\"$(cat huge)" &&
	hl status --spec "{\"sprint_id\":\"$sprint\"}" &&
	hb "\"}
{\"seq\":7007,\"sprint_id\":\"$sprint\"}
" &&
	hl status --spec "{\"sprint_id\":\"$sprint\"}" &&
	hl status --spec "{\"sprint_id\":\"$sprint\"}" &&
	test "$(stored 7007)" = 1
'

test_expect_success SQLITE3 'a final line without its newline waits for it' '
	hb "{\"seq\":7008,\"sprint_id\":\"$sprint\"}" &&
	hl status --spec "{\"sprint_id\":\"$sprint\"}" &&
	test_json_field out .data.sprints.0.evidence.heartbeats.new 0 &&
	test "$(stored 7008)" = 0 &&
	hb "
" &&
	hl status --spec "{\"sprint_id\":\"$sprint\"}" &&
	test "$(stored 7008)" = 1
'

test_expect_success 'a completion record naming another sprint is refused and reported' '
	echo "{\"sprint_id\":\"sp-ffffff\",\"status\":\"completed\",\"summary\":\"not mine\"}" >"$sprint_dir/completion.json" &&
	hl status --spec "{\"sprint_id\":\"$sprint\"}" &&
	test_json_field out .data.sprints.0.state running &&
	test_json_field out .data.sprints.0.evidence.completion_file.names_other sp-ffffff &&
	test_json_field out .data.sprints.0.evidence.completion_file.claim false &&
	hl events --spec "{\"subject\":\"$sprint\",\"type\":\"sprint.completion_refused\"}" &&
	test_json_field out .data.count 1
'

test_expect_success 'a completion record while the job runs is a claim: the sprint stays running' '
	echo "{\"sprint_id\":\"$sprint\",\"status\":\"completed\",\"summary\":\"said early\"}" >"$sprint_dir/completion.json" &&
	hl status --spec "{\"sprint_id\":\"$sprint\"}" &&
	test_json_field out .data.sprints.0.state running &&
	test_json_field out .data.sprints.0.evidence.completion_file.claim true &&
	hl complete --spec "{\"sprint_id\":\"$sprint\",\"status\":\"completed\",\"summary\":\"pushed early\"}" &&
	test_json_field out .data.claimed true &&
	test_json_field out .data.state running
'

test_expect_success 'when the job ends its own record decides, confirmed by the scheduler' '
	wait_state $sprint completed 90 &&
	json_field out .data.sprints.0.summary | grep -q "hostile evidence" &&
	test_json_field out .data.sprints.0.evidence.scheduler.state completed
'

test_expect_success 'a job killed before it could write any record is never a success' '
	FAKE_AGENT_SLEEP=30 submit "no record" &&
	wait_state $sprint running 30 &&
	job=$(json_field out .data.sprints.0.job_id) &&
	pid=$(local_job_pid $job) &&
	test -n "$pid" &&
	rm -f "$sprint_dir/completion.json" &&
	kill -KILL $pid &&
	wait_state $sprint failed 60 &&
	json_field out .data.sprints.0.error | grep -q "without a completion record"
'

test_done
