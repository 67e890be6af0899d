#!/bin/sh
test_description='sprints with the real agent CLI whose model fails: each ends promptly in the right state with the agent words'
# Issue 10 item 4: an overloaded model until the CLI gives up, a broken
# stream, a step that stalls past the time limit (timed_out, the agent's
# process group killed, nothing left running), tool calls refused by
# the permission setting.  Nothing is marked completed that did not
# complete.  (A refused key is in t5100; a session the CLI no longer has
# in t5103.)  The agent_command gives no --allowedTools: the default
# agent_tools of hpcloop.yaml apply, as for a user.
. "$(dirname "$0")/lib.sh"

claude_require

test_expect_success 'setup: the model server and two studies driven by the real CLI' '
	start_model "$SRC_DIR/tests/model/scripts/t5102.json" &&
	mkdir -p claude-home &&
	{
		cat <<-YAML
		version: 1
		agent_command: "$REAL_CLAUDE -p --output-format stream-json --verbose"
		heartbeat_interval_s: 1
		watchdog_grace_s: 2
		clusters:
		  local:
		    transport: local
		    scheduler: local
		    working_dir: sprints
		    max_concurrent_jobs: 4
		    cancel_grace_s: 5
		    environment:
		YAML
		claude_env | sed -e "s/=/: \"/" -e "s/^/      /" -e "s/\$/\"/"
		cat <<-YAML
		studies:
		  demo:
		    cluster: local
		    description: the real CLI against a failing model
		    red_team_max_rounds: 1
		    max_sprint_duration_hours: 1
		    metric: {name: val_loss, direction: minimize}
		  readonly:
		    cluster: local
		    description: an agent that may only read
		    red_team_max_rounds: 1
		    max_sprint_duration_hours: 1
		    metric: {name: val_loss, direction: minimize}
		    agent_tools: {allow: [Read], deny: []}
		  nowrite:
		    cluster: local
		    description: an agent whose Write tool is disallowed
		    red_team_max_rounds: 1
		    max_sprint_duration_hours: 1
		    metric: {name: val_loss, direction: minimize}
		    agent_tools: {allow: [Read, Bash], deny: [Write]}
		YAML
	} >hpcloop.yaml &&
	hl init
'

test_expect_success 'submit one sprint per failure' '
	submit "IDEA-OVERLOADED the model is overloaded" &&
	over=$sprint && over_dir=$sprint_dir &&
	submit "IDEA-GARBAGE the stream breaks" &&
	garb=$sprint && garb_dir=$sprint_dir &&
	submit "IDEA-STALL the model never answers" "\"time_limit_s\": 12" &&
	stall=$sprint && stall_dir=$sprint_dir &&
	hl submit-flow --spec "{\"study\": \"readonly\", \"idea\": \"IDEA-DENY write the findings\"}" &&
	deny=$(json_field out .data.sprint_id) && deny_dir=$(json_field out .data.directory) &&
	hl submit-flow --spec "{\"study\": \"nowrite\", \"idea\": \"IDEA-DENY write the findings anyway\"}" &&
	nowr=$(json_field out .data.sprint_id) && nowr_dir=$(json_field out .data.directory)
'

test_expect_success 'overloaded until the CLI gives up: failed, with the status of the API in error' '
	wait_state $over failed 90 &&
	json_field out .data.sprints.0.error >error &&
	grep -q "^research failed: .*\(529\|Overloaded\|overloaded\)" error &&
	test_json_field "$over_dir/completion.json" .status failed &&
	! test -e "$over_dir/findings.md" &&
	model_pick rule >rules &&
	test $(grep -cx 0 rules) -ge 3
'

test_expect_success 'a broken stream on every call: failed at research, which wrote nothing' '
	wait_state $garb failed 90 &&
	json_field out .data.sprints.0.error >error &&
	grep -q "^research failed: findings.md was not written" error &&
	test_json_field "$garb_dir/completion.json" .status failed &&
	test_json_field "$garb_dir/completion.json" .steps.0.status failed
'

test_expect_success 'a step that stalls past the time limit: timed_out, the agent group killed' '
	wait_state $stall timed_out 60 &&
	json_field out .data.sprints.0.error >error &&
	grep -q "timed out" error &&
	test_json_field "$stall_dir/completion.json" .status timed_out &&
	pgid=$(cat "$stall_dir/.hpcloop/research.pgid") &&
	test -n "$pgid" &&
	i=0 && while kill -0 -- "-$pgid" 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done &&
	! kill -0 -- "-$pgid" 2>/dev/null &&
	wait_gone "$stall_dir" 10
'

test_expect_success 'tools refused by agent_tools: failed, naming the refused tool and the setting' '
	wait_state $deny failed 90 &&
	json_field out .data.sprints.0.error >error &&
	grep -q "permission setting refused the agent.s tool calls: Write" error &&
	grep -q "agent_tools" error &&
	! test -e "$deny_dir/findings.md" &&
	grep "\"type\":\"result\"" "$deny_dir/.hpcloop/research.jsonl" >r.json &&
	test_json_field r.json .permission_denials.0.tool_name Write
'

test_expect_success 'a disallowed tool is not offered; calling it anyway fails the step, saying so' '
	wait_state $nowr failed 90 &&
	json_field out .data.sprints.0.error >error &&
	grep -q "every tool call of the agent failed" error &&
	! test -e "$nowr_dir/findings.md" &&
	model_pick session >sessions && model_pick tools >tools &&
	nowr_session=$(json_field "$nowr_dir/completion.json" .session_id) &&
	paste -d "\t" sessions tools | grep "^$nowr_session	" >nowr-tools &&
	test -s nowr-tools &&
	! grep -q "\"Write\"" nowr-tools &&
	grep -q "\"Bash\"" nowr-tools
'

test_expect_success 'the default agent_tools offer no tool that waits for a person' '
	model_pick tools >tools &&
	grep -q "\"Bash\"" tools &&
	! grep -q "\"AskUserQuestion\"" tools &&
	! grep -q "\"EnterPlanMode\"" tools
'

test_expect_success 'nothing of these sprints is left running' '
	for d in "$over_dir" "$garb_dir" "$stall_dir" "$deny_dir" "$nowr_dir"; do
		wait_gone "$d" 10 || return 1
	done
'

test_done
