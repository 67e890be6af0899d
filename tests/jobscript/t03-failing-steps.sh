#!/usr/bin/env bash
#
# A failing step fails the sprint with a message naming the step, and the
# rest of the pipeline is skipped.
# shellcheck disable=SC1090,SC1091,SC2016,SC2034,SC2317  # test idioms
test_description='job script: failing steps'
. "$(dirname "$0")/lib.sh"

# steps_of FILE: print the "name status" pairs of completion.json's steps.
steps_of() {
	local i=0
	while jt get "$1" "steps.$i.name" >/dev/null 2>&1; do
		printf '%s %s\n' "$(jt get "$1" "steps.$i.name")" \
			"$(jt get "$1" "steps.$i.status")"
		i=$((i + 1))
	done
}

test_expect_success 'an error result fails the sprint, naming the step' '
	make_sprint "$TRASH/err" rounds=2 &&
	run_job "$TRASH/err" FAKE_AGENT_ERROR_STEP=red_team_1 &&
	[[ $JOB_RC == 1 ]] &&
	test_json_field "$SPRINT/completion.json" status failed &&
	test_json_field "$SPRINT/completion.json" exit_code 1 &&
	test_json_field "$SPRINT/completion.json" error \
		"red-team round 1 failed: error_during_execution: fake failure in red_team_1" &&
	steps_of "$SPRINT/completion.json" >got &&
	printf "research completed\nred_team_1 failed\n" >expect &&
	diff expect got &&
	[[ ! -e $SPRINT/report.md ]] &&
	test_json_field "$SPRINT/completion.json" summary null &&
	test_must_contain "$SPRINT/completion.json" "\"cost_usd\":0.0246,"
'

test_expect_success 'an agent that exits with no result fails its step' '
	make_sprint "$TRASH/fail" rounds=1 &&
	run_job "$TRASH/fail" FAKE_AGENT_FAIL_STEP=report &&
	[[ $JOB_RC == 1 ]] &&
	test_json_field "$SPRINT/completion.json" status failed &&
	test_json_field "$SPRINT/completion.json" error \
		"report failed: the agent wrote no result (exit status 3; see .hpcloop/report.stderr)" &&
	test_must_contain "$SPRINT/.hpcloop/report.stderr" "failing step report" &&
	steps_of "$SPRINT/completion.json" >got &&
	printf "%s\n" "research completed" "red_team_1 completed" \
		"report failed" >expect &&
	diff expect got &&
	[[ ! -e $SPRINT/summary.txt ]]
'

test_expect_success 'a missing report.md fails the report step' '
	make_sprint "$TRASH/nofile" rounds=0 &&
	run_job "$TRASH/nofile" FAKE_AGENT_NO_OUTPUT_STEP=report &&
	[[ $JOB_RC == 1 ]] &&
	test_json_field "$SPRINT/completion.json" error \
		"report failed: report.md was not written"
'

test_expect_success 'a missing red-team file fails the round' '
	make_sprint "$TRASH/nord" rounds=2 &&
	run_job "$TRASH/nord" FAKE_AGENT_NO_OUTPUT_STEP=red_team_1 &&
	[[ $JOB_RC == 1 ]] &&
	test_json_field "$SPRINT/completion.json" error \
		"red-team round 1 failed: red_team_round_1.md was not written"
'

test_expect_success 'a stale report.md from an earlier run does not count' '
	make_sprint "$TRASH/stale" rounds=0 &&
	echo "old report" >"$SPRINT/report.md" &&
	touch -d "2 hours ago" "$SPRINT/report.md" &&
	run_job "$TRASH/stale" FAKE_AGENT_NO_OUTPUT_STEP=report &&
	[[ $JOB_RC == 1 ]] &&
	test_json_field "$SPRINT/completion.json" error \
		"report failed: report.md was not written"
'

test_expect_success 'a summary.txt from an earlier run is not reported for a failed one' '
	make_sprint "$TRASH/oldsum" rounds=0 &&
	echo "an old summary" >"$SPRINT/summary.txt" &&
	run_job "$TRASH/oldsum" FAKE_AGENT_ERROR_STEP=research &&
	[[ $JOB_RC == 1 ]] &&
	test_json_field "$SPRINT/completion.json" summary null
'

test_expect_success 'a step past step_timeout_s fails as timed out' '
	make_sprint "$TRASH/slow" rounds=0 step_timeout=2 &&
	run_job "$TRASH/slow" FAKE_AGENT_HANG_STEP=research &&
	[[ $JOB_RC == 1 ]] &&
	test_json_field "$SPRINT/completion.json" error \
		"research failed: timed out after 2 s" &&
	pgid=$(cat "$SPRINT/.hpcloop/research.pgid") &&
	! kill -0 -- "-$pgid" 2>/dev/null
'

test_expect_success 'an agent command that does not exist fails at once' '
	make_sprint "$TRASH/none" rounds=0 agent=/nonexistent/agent &&
	run_job "$TRASH/none" &&
	[[ $JOB_RC == 1 ]] &&
	test_json_field "$SPRINT/completion.json" error \
		"the agent command '"'"'/nonexistent/agent'"'"' was not found" &&
	test_json_field "$SPRINT/completion.json" steps "[]"
'

test_done
