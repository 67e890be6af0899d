#!/bin/sh
test_description='sprints with the real agent CLI against the scripted model'
. "$(dirname "$0")/lib.sh"

# The real Claude Code CLI (scripts/install-agent-cli.sh) runs its tools
# in the sprint directory, resumes one session across the steps and
# prints its own stream-json; only the model is a stand-in
# (tests/model/model-server with tests/model/scripts/t5100.json).
claude_require

TOOLS=Bash,Write,Edit,Read,Glob,Grep

# on_session FILE: the lines of FILE (one per model request, as
# model_pick prints them) of the requests in session $session.
on_session () {
	model_pick session >sessions &&
	paste -d "\t" sessions "$1" | sed -n "s/^$session	//p"
}

test_expect_success 'the agent CLI is the pinned version' '
	"$REAL_CLAUDE" --version >version &&
	echo "$CLAUDE_VERSION (Claude Code)" >expect &&
	test_cmp expect version
'

test_expect_success 'setup: the model server and a study driven by the real CLI' '
	start_model "$SRC_DIR/tests/model/scripts/t5100.json" &&
	mkdir -p claude-home &&
	{
		cat <<-YAML
		version: 1
		agent_command: "$REAL_CLAUDE -p --output-format stream-json --verbose --allowedTools $TOOLS"
		heartbeat_interval_s: 1
		watchdog_grace_s: 2
		clusters:
		  local:
		    transport: local
		    scheduler: local
		    working_dir: sprints
		    max_concurrent_jobs: 4
		    cancel_grace_s: 10
		    environment:
		YAML
		claude_env | sed -e "s/=/: \"/" -e "s/^/      /" -e "s/\$/\"/"
		cat <<-YAML
		studies:
		  demo:
		    cluster: local
		    description: a line fit with the real CLI
		    red_team_max_rounds: 2
		    max_sprint_duration_hours: 1
		    metric: {name: val_loss, direction: minimize}
		YAML
	} >hpcloop.yaml &&
	hl init &&
	grep -q "ANTHROPIC_BASE_URL: \"$MODEL_URL\"" hpcloop.yaml
'

test_expect_success 'submit a sprint, and one whose key the model refuses' '
	submit "IDEA-BADKEY fit a line with a refused key" &&
	bad=$sprint && bad_dir=$sprint_dir &&
	submit "fit a line to noisy points and measure the held-out loss" &&
	test_json_field out .data.state submitted
'

# While the sprints run: the CLI alone against the model's failures.

test_expect_success 'a 500 from the model ends the run with the error of the CLI' '
	test_expect_code 1 run_claude "cli-500 go" &&
	grep "\"type\":\"result\"" stream.jsonl >result.json &&
	test_json_field result.json .is_error true &&
	test_json_field result.json .api_error_status 500 &&
	json_field result.json .result | grep -q "500 scripted failure"
'

test_expect_success 'a 529 (overloaded) is retried, then reported as 529' '
	test_expect_code 1 run_claude "cli-529 go" &&
	grep "\"type\":\"result\"" stream.jsonl >result.json &&
	test_json_field result.json .api_error_status 529 &&
	model_pick prompt >prompts &&
	test $(grep -c "^cli-529 go" prompts) = 3
'

test_expect_success 'a stalled answer times out and the retry gets the answer' '
	CLAUDE_API_TIMEOUT_MS=2000 run_claude "cli-stall go" &&
	grep "\"type\":\"result\"" stream.jsonl >result.json &&
	test_json_field result.json .is_error false &&
	test_json_field result.json .result "answered after the stall" &&
	model_pick prompt >prompts &&
	test $(grep -c "^cli-stall go" prompts) = 2
'

test_expect_success 'a stream cut short is taken up again' '
	run_claude "cli-cut go" &&
	grep "\"type\":\"result\"" stream.jsonl >result.json &&
	test_json_field result.json .is_error false &&
	test_json_field result.json .result "answered after the cut"
'

test_expect_success 'the Bash tool is capped by BASH_MAX_TIMEOUT_MS' '
	CLAUDE_BASH_MS=1000 run_claude "cli-slow go" --allowedTools Bash &&
	grep "\"type\":\"user\"" stream.jsonl >tool.json &&
	test_json_field tool.json .message.content.0.is_error true &&
	json_field tool.json .message.content.0.content |
		grep -q "timed out" &&
	! grep -q too-late tool.json
'

test_expect_success 'without --allowedTools a Write is denied, and the result says so' '
	run_claude "cli-deny go" &&
	! test -e denied.txt &&
	grep "\"type\":\"result\"" stream.jsonl >result.json &&
	test_json_field result.json .subtype success &&
	test_json_field result.json .permission_denials.0.tool_name Write
'

# The sprints.

test_expect_success 'the sprint runs to completed' '
	wait_state $sprint completed 90 &&
	test_json_field out .data.sprints.0.phase done &&
	c="$sprint_dir/completion.json" &&
	test_json_field "$c" .status completed &&
	session=$(json_field "$c" .session_id) &&
	test -n "$session"
'

test_expect_success 'the refused key failed its sprint with the message of the CLI' '
	wait_state $bad failed 60 &&
	c="$bad_dir/completion.json" &&
	test_json_field "$c" .status failed &&
	json_field "$c" .error | grep -q "^research failed: .*Invalid API key" &&
	test_json_field "$c" .cost_usd 0 &&
	grep "\"type\":\"result\"" "$bad_dir/.hpcloop/research.jsonl" >r.json &&
	test_json_field r.json .api_error_status 401 &&
	! test -e "$bad_dir/findings.md"
'

test_expect_success 'the steps ran in order, with one fix round after a critical verdict' '
	json_field "$sprint_dir/completion.json" .steps >steps.json &&
	/usr/bin/python3 -c "
import json
for s in json.load(open(\"steps.json\")):
    print(s[\"name\"], s[\"status\"])" >steps &&
	cat >expect <<-\EOF &&
	research completed
	red_team_1 completed
	fix_1 completed
	red_team_2 completed
	report completed
	summarize completed
	EOF
	test_cmp expect steps &&
	tail -1 "$sprint_dir/red_team_round_1.md" >v1 &&
	echo "VERDICT: CRITICAL ISSUES" >expect && test_cmp expect v1 &&
	tail -1 "$sprint_dir/red_team_round_2.md" >v2 &&
	echo "VERDICT: NO CRITICAL ISSUES" >expect && test_cmp expect v2 &&
	test -s "$sprint_dir/fixes_round_1.md" &&
	! test -e "$sprint_dir/fixes_round_2.md" &&
	grep -q "^## Limitations" "$sprint_dir/report.md" &&
	hl status --spec "{\"sprint_id\":\"$sprint\"}" &&
	json_field out .data.sprints.0.summary | grep -q "least-squares line"
'

test_expect_success 'research ran a real experiment through the Bash tool' '
	d=$sprint_dir &&
	test -f "$d/experiment.py" &&
	metric=$(json_field "$d/results/metric.json" .metric) &&
	grep -q "^slope [0-9.]* val_loss $metric\$" "$d/output.log" &&
	grep -q "held-out {\"metric\": $metric}" "$d/findings.md" &&
	grep -q "research: val_loss measured" "$d/progress.md" &&
	grep -q "research: tool Write" "$d/sprint_log.txt" &&
	grep -q "research: tool Bash" "$d/sprint_log.txt"
'

test_expect_success 'the steps printed the stream-json of the real CLI' '
	head -1 "$sprint_dir/.hpcloop/research.jsonl" >init.json &&
	test_json_field init.json .type system &&
	test_json_field init.json .subtype init &&
	test_json_field init.json .cwd "$sprint_dir" &&
	json_field init.json .tools | grep -q "\"Bash\"" &&
	for s in research red_team_1 fix_1 red_team_2 report summarize; do
		grep "\"type\":\"result\"" "$sprint_dir/.hpcloop/$s.jsonl" >r.json &&
		test_json_field r.json .is_error false &&
		test_json_field r.json .session_id "$session" || return 1
	done
'

test_expect_success 'the model saw one session across all steps, resumed' '
	model_pick prompt >prompts &&
	on_session prompts >mine &&
	for m in "research" "red_team round=1" "fix round=1" \
		"red_team round=2" "report" "summarize"; do
		grep -q "^<!-- hpcloop-step: $m -->" mine ||
			{ echo "no request of $m in session $session"; return 1; }
	done &&
	bad_session=$(json_field "$bad_dir/completion.json" .session_id) &&
	test -n "$bad_session" && test "$bad_session" != "$session" &&
	paste -d "\t" sessions prompts | grep "	<!-- hpcloop-step" |
		cut -f1 | sort -u | grep -v "^$bad_session\$" >ids &&
	echo "$session" >expect && test_cmp expect ids
'

test_expect_success 'the conversation grew across --resume' '
	model_pick n_messages >counts &&
	on_session counts >mine &&
	sort -n -c mine &&
	test $(tail -1 mine) -gt 20 &&
	model_pick body.messages.0 >first &&
	on_session first | tail -1 | grep -q "hpcloop-step: research" &&
	model_pick turn >turns &&
	on_session turns | sort -n | tail -1 | grep -qx 3 &&
	model_pick body.messages >all &&
	on_session all | tail -1 >last &&
	for said in "Research done" "Review written: critical issues." \
		"Fixed." "No critical issues." "Report written."; do
		grep -qF "\"text\":\"$said" last ||
			{ echo "the last call lacks \"$said\""; return 1; }
	done
'

test_expect_success 'the tools of --allowedTools were offered to the model' '
	model_pick tools >tools &&
	on_session tools >mine &&
	for t in Bash Write Edit Read Glob Grep; do
		grep -v "\"$t\"" mine >missing
		! test -s missing || { echo "$t not offered"; return 1; }
	done
'

test_expect_success 'errors of the model were retried on the same turn' '
	model_pick answer >answers &&
	on_session answers >mine &&
	grep -qx error mine && grep -qx broken mine &&
	on_session prompts >p &&
	test $(grep -c "^<!-- hpcloop-step: red_team round=1" p) -ge 4
'

test_expect_success 'the completion record sums total_cost_usd of every step' '
	cat "$sprint_dir"/.hpcloop/*.jsonl | grep "\"type\":\"result\"" >results &&
	/usr/bin/python3 -c "
import json
micro = sum(int(json.loads(l)[\"total_cost_usd\"] * 1e6 + 1e-6)
            for l in open(\"results\"))
print(micro)" >expect &&
	test $(cat expect) -gt 0 &&
	json_field "$sprint_dir/completion.json" .cost_usd >usd &&
	/usr/bin/python3 -c "print(round(float(open(\"usd\").read()) * 1e6))" >got &&
	test_cmp expect got &&
	hl events --spec "{\"subject\":\"$sprint\",\"type\":\"sprint.finished\"}" &&
	json_field out .data.events | grep -q "\"cost_usd\": *$(cat usd)"
'

test_expect_success 'heartbeats showed the step that was running' '
	grep -q "\"phase\":\"running (research)\",\"step\":\"research\"" \
		"$sprint_dir/heartbeats.jsonl"
'

test_expect_success SQLITE3 'the journal kept the heartbeats of the research step' '
	sqlite3 "$HPCLOOP_JOURNAL" "SELECT count(*) FROM heartbeats
		WHERE sprint_id = '"'"'$sprint'"'"'
		AND phase = '"'"'running (research)'"'"'" >n &&
	test $(cat n) -ge 1
'

test_done
