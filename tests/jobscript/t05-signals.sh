#!/usr/bin/env bash
#
# SIGUSR1 (the scheduler's warning before the time limit) ends the sprint
# as timed_out; SIGTERM (a cancel) as cancelled.  Either way the running
# agent's process group is ended and completion.json is written.
# shellcheck disable=SC1090,SC1091,SC2016,SC2034,SC2317  # test idioms
test_description='job script: signals'
. "$(dirname "$0")/lib.sh"

# agent_started: the hanging research step has started its agent.
agent_started() {
	[[ -s $SPRINT/.hpcloop/research.pgid ]] &&
		grep -q '"type":"assistant"' "$SPRINT/.hpcloop/research.jsonl"
}

test_expect_success 'SIGUSR1 during a step: timed_out' '
	make_sprint "$TRASH/usr1" rounds=1 &&
	start_job "$TRASH/usr1" FAKE_AGENT_HANG_STEP=research &&
	wait_for 10 agent_started &&
	pgid=$(cat "$SPRINT/.hpcloop/research.pgid") &&
	kill -0 -- "-$pgid" &&
	kill -USR1 "$JOB_PID" &&
	wait_job 15 &&
	[[ $JOB_RC == $((128 + $(kill -l USR1))) ]] &&
	test_json_field "$SPRINT/completion.json" status timed_out &&
	test_json_field "$SPRINT/completion.json" exit_code "$JOB_RC" &&
	test_json_field "$SPRINT/completion.json" error \
		"timed out (SIGUSR1) during research" &&
	test_json_field "$SPRINT/completion.json" steps.0.status timed_out &&
	! kill -0 -- "-$pgid" 2>/dev/null
'

test_expect_success 'the last heartbeat says done' '
	tail -n 1 "$SPRINT/heartbeats.jsonl" >last &&
	test_json_field last phase done
'

test_expect_success 'SIGTERM during a step: cancelled, agent group gone' '
	make_sprint "$TRASH/term" rounds=1 &&
	start_job "$TRASH/term" FAKE_AGENT_HANG_STEP=research &&
	wait_for 10 agent_started &&
	pgid=$(cat "$SPRINT/.hpcloop/research.pgid") &&
	kill -TERM "$JOB_PID" &&
	wait_job 15 &&
	[[ $JOB_RC == 143 ]] &&
	test_json_field "$SPRINT/completion.json" status cancelled &&
	test_json_field "$SPRINT/completion.json" error \
		"cancelled (SIGTERM) during research" &&
	! kill -0 -- "-$pgid" 2>/dev/null &&
	[[ ! -e $SPRINT/report.md ]]
'

test_expect_success 'a cancel before any heartbeat was counted: no shell error on stderr' '
	make_sprint "$TRASH/early" rounds=1 &&
	start_job "$TRASH/early" FAKE_AGENT_HANG_STEP=research &&
	wait_for 10 agent_started &&
	rm -f "$SPRINT/.hpcloop/heartbeat_seq" &&
	kill -TERM "$JOB_PID" &&
	wait_job 15 &&
	test_json_field "$SPRINT/completion.json" status cancelled &&
	! grep "No such file" "$TRASH/early/job.out"
'

if env --default-signal=INT true 2>/dev/null; then
	test_set_prereq DEFAULT_SIGNAL
else
	test_lack_prereq DEFAULT_SIGNAL "env has no --default-signal, so a \
background job cannot get SIGINT back"
fi

test_expect_success DEFAULT_SIGNAL 'SIGINT is a cancel too' '
	make_sprint "$TRASH/int" rounds=0 &&
	start_job "$TRASH/int" FAKE_AGENT_HANG_STEP=research &&
	wait_for 10 agent_started &&
	kill -INT "$JOB_PID" &&
	wait_job 15 &&
	[[ $JOB_RC == 130 ]] &&
	test_json_field "$SPRINT/completion.json" status cancelled
'

test_expect_success 'the heartbeat loop is gone after the job' '
	sleep 2 &&
	lines=$(wc -l <"$SPRINT/heartbeats.jsonl") &&
	sleep 2 &&
	[[ $(wc -l <"$SPRINT/heartbeats.jsonl") == "$lines" ]]
'

test_expect_success 'SIGKILL of the job: the heartbeat loop ends the agent' '
	make_sprint "$TRASH/kill" rounds=0 &&
	start_job "$TRASH/kill" FAKE_AGENT_HANG_STEP=research &&
	wait_for 10 agent_started &&
	pgid=$(cat "$SPRINT/.hpcloop/research.pgid") &&
	kill -KILL "$JOB_PID" &&
	wait_job 5 &&
	wait_for 10 eval "! kill -0 -- -$pgid 2>/dev/null" &&
	test_must_contain "$SPRINT/sprint_log.txt" \
		"the job script was killed; ending research" &&
	[[ ! -e $SPRINT/completion.json ]]
'

test_done
