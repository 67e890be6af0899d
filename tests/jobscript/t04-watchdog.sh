#!/usr/bin/env bash
#
# An agent that leaves a child behind holding its stdout, after a good
# result: the watchdog ends the step's process group after the grace
# period, and the step counts as a success.
# shellcheck disable=SC1090,SC1091,SC2016,SC2034,SC2317  # test idioms
test_description='job script: the watchdog'
. "$(dirname "$0")/lib.sh"

test_expect_success 'a leaked child does not hold the sprint' '
	make_sprint "$TRASH/leak" rounds=0 grace=2 &&
	run_job "$TRASH/leak" FAKE_AGENT_LEAK_STEP=research &&
	[[ $JOB_RC == 0 ]] &&
	test_json_field "$SPRINT/completion.json" status completed &&
	test_json_field "$SPRINT/completion.json" steps.0.status completed
'

test_expect_success 'the step waited for the grace period' '
	seconds=$(jt get "$SPRINT/completion.json" steps.0.seconds) &&
	((seconds >= 2 && seconds <= 10)) &&
	test_must_contain "$SPRINT/sprint_log.txt" "research: watchdog"
'

test_expect_success 'the leaked sleep is gone' '
	pid=$(cat "$SPRINT/fake-agent-leak.pid") &&
	[[ -n $pid ]] &&
	! kill -0 "$pid" 2>/dev/null &&
	pgid=$(cat "$SPRINT/.hpcloop/research.pgid") &&
	! kill -0 -- "-$pgid" 2>/dev/null
'

test_expect_success 'a step without leaks does not wait for the grace' '
	make_sprint "$TRASH/quick" rounds=0 grace=30 &&
	run_job "$TRASH/quick" &&
	[[ $JOB_RC == 0 ]] &&
	seconds=$(jt get "$SPRINT/completion.json" steps.0.seconds) &&
	((seconds <= 2))
'

test_expect_success 'an agent that hangs after its result is ended too' '
	make_sprint "$TRASH/linger" rounds=0 grace=2 &&
	run_job "$TRASH/linger" FAKE_AGENT_LINGER_STEP=report &&
	[[ $JOB_RC == 0 ]] &&
	test_json_field "$SPRINT/completion.json" status completed &&
	test_json_field "$SPRINT/completion.json" steps.1.name report &&
	test_json_field "$SPRINT/completion.json" steps.1.status completed &&
	[[ $(cat "$SPRINT/.hpcloop/report.exit") == 143 ]] &&
	pgid=$(cat "$SPRINT/.hpcloop/report.pgid") &&
	! kill -0 -- "-$pgid" 2>/dev/null
'

test_expect_success 'an error result is a failure even after the watchdog' '
	make_sprint "$TRASH/lingererr" rounds=0 grace=1 &&
	run_job "$TRASH/lingererr" FAKE_AGENT_LINGER_STEP=research \
		FAKE_AGENT_ERROR_STEP=research &&
	[[ $JOB_RC == 1 ]] &&
	test_json_field "$SPRINT/completion.json" error \
		"research failed: error_during_execution: fake failure in research"
'

test_done
