#!/usr/bin/env bash
#
# The agent's own reason reaches the sprint: tool calls refused by the
# permission setting are named, a bad --resume's "errors" become the
# error, plain text instead of stream-json says which flags to add, and a
# step whose every tool call failed is not a silent success.
# shellcheck disable=SC1090,SC1091,SC2016,SC2034,SC2317  # test idioms
test_description='job script: the agent says why'
. "$(dirname "$0")/lib.sh"

test_expect_success 'tool calls refused by the permission setting fail the step, naming the tools' '
	make_sprint "$TRASH/deny" rounds=1 &&
	run_job "$TRASH/deny" FAKE_AGENT_DENY_STEP=research &&
	[[ $JOB_RC == 1 ]] &&
	test_json_field "$SPRINT/completion.json" status failed &&
	test_json_field "$SPRINT/completion.json" error \
		"research failed: the permission setting refused the agent'"'"'s tool calls: Write, Bash; allow them in agent_tools in hpcloop.yaml (or in the agent'"'"'s own flags)"
'

test_expect_success 'a result with no text carries the reason from its errors' '
	make_sprint "$TRASH/nosession" rounds=1 &&
	run_job "$TRASH/nosession" FAKE_AGENT_NOSESSION_STEP=red_team_1 &&
	[[ $JOB_RC == 1 ]] &&
	jt get "$SPRINT/completion.json" error >got &&
	grep -q "^red-team round 1 failed: error_during_execution: No conversation found with session ID: fake-" got
'

test_expect_success 'plain text instead of stream-json says what to add' '
	make_sprint "$TRASH/plain" rounds=1 &&
	run_job "$TRASH/plain" FAKE_AGENT_PLAIN_STEP=research &&
	[[ $JOB_RC == 1 ]] &&
	test_json_field "$SPRINT/completion.json" error \
		"research failed: the agent printed plain text, not stream-json: add --output-format stream-json --verbose to agent_command (see .hpcloop/research.jsonl)"
'

test_expect_success 'a step whose every tool call failed is not a success' '
	make_sprint "$TRASH/toolsfail" rounds=1 &&
	run_job "$TRASH/toolsfail" FAKE_AGENT_TOOLS_FAIL_STEP=report &&
	[[ $JOB_RC == 1 ]] &&
	test_json_field "$SPRINT/completion.json" error \
		"report failed: every tool call of the agent failed (1 of 1; see .hpcloop/report.jsonl)"
'

test_expect_success 'the agent'"'"'s command cap fits what is left of the time limit' '
	make_sprint "$TRASH/cap" rounds=0 hours=0.05 &&
	run_job "$TRASH/cap" FAKE_AGENT_ENV_FILE="$TRASH/cap/env.log" &&
	[[ $JOB_RC == 0 ]] &&
	read -r step cap <"$TRASH/cap/env.log" &&
	[[ $step == research ]] &&
	ms=${cap#BASH_MAX_TIMEOUT_MS=} &&
	((ms >= 60000 && ms <= 120000)) &&
	make_sprint "$TRASH/cap8" rounds=0 &&
	run_job "$TRASH/cap8" FAKE_AGENT_ENV_FILE="$TRASH/cap8/env.log" &&
	read -r step cap <"$TRASH/cap8/env.log" &&
	ms=${cap#BASH_MAX_TIMEOUT_MS=} &&
	((ms > 28000000 && ms <= 28800000))
'

test_expect_success 'a cap the cluster sets wins' '
	make_sprint "$TRASH/capset" rounds=0 env="BASH_MAX_TIMEOUT_MS=5000" &&
	run_job "$TRASH/capset" FAKE_AGENT_ENV_FILE="$TRASH/capset/env.log" &&
	grep -q "^research BASH_MAX_TIMEOUT_MS=5000$" "$TRASH/capset/env.log"
'

test_expect_success 'a normal run has no denials and completes' '
	make_sprint "$TRASH/ok" rounds=1 &&
	run_job "$TRASH/ok" &&
	[[ $JOB_RC == 0 ]] &&
	test_json_field "$SPRINT/completion.json" status completed
'

test_done
