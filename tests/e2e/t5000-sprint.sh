#!/bin/sh
test_description='a sprint end to end on the local scheduler with the stand-in agent'
. "$(dirname "$0")/lib.sh"

test_expect_success 'setup' '
	RED_TEAM_ROUNDS=2 setup_local_config &&
	export FAKE_AGENT_CRITICAL_ROUNDS=1 FAKE_AGENT_LOG="$PWD/agent.log"
'

test_expect_success 'submit-flow submits and answers with the job' '
	submit "lower the loss with a smaller learning rate" &&
	test_json_field out .data.state submitted &&
	test_json_field out .data.cluster local &&
	test -n "$(json_field out .data.job_id)" &&
	echo "$sprint" | grep -E "^sp-[0-9a-f]{6}$" &&
	basename "$sprint_dir" |
		grep -E "^[0-9]{4}-[0-9]{2}-[0-9]{2}--[0-9]{2}-[0-9]{2}--$sprint--lower-the-loss-with-a-smaller-learning-rate$" &&
	test -x "$sprint_dir/run_sprint.sh" &&
	test "$(stat -c %a "$sprint_dir/.hpcloop/token")" = 600
'

test_expect_success 'the sprint runs to completed' '
	wait_state $sprint completed 60 &&
	test_json_field out .data.sprints.0.phase done &&
	test_json_field out .data.sprints.0.evidence.completion_file.claim true &&
	json_field out .data.sprints.0.evidence.scheduler.evidence.source | grep -q local &&
	json_field out .data.sprints.0.summary | grep -q "lower the loss"
'

test_expect_success 'the pipeline ran research, 2 red-team rounds, 1 fix, report, summary' '
	for f in findings.md red_team_round_1.md fixes_round_1.md red_team_round_2.md \
		report.md summary.txt progress.md output.log heartbeats.jsonl completion.json CLAUDE.md; do
		test -f "$sprint_dir/$f" || { echo "missing $f"; return 1; }
	done &&
	! test -f "$sprint_dir/fixes_round_2.md" &&
	cut -d" " -f1 agent.log >steps &&
	printf "research\nred_team_1\nfix_1\nred_team_2\nreport\nsummarize\n" >expect &&
	test_cmp expect steps
'

test_expect_success 'every step after the first resumed one session (not the decoy)' '
	first=$(sed -n 1p agent.log | cut -d" " -f2) &&
	test -n "$first" &&
	! grep -q decoy agent.log &&
	test $(cut -d" " -f2 agent.log | sort -u | wc -l) = 1
'

test_expect_success 'the context file holds global, cluster and study context in order' '
	grep -n "context line" "$sprint_dir/CLAUDE.md" >ctx &&
	head -1 ctx | grep -q "global context line" &&
	tail -1 ctx | grep -q "study context line"
'

test_expect_success 'heartbeats were pulled into the journal' '
	hl events --spec "{\"subject\":\"$sprint\",\"type\":\"sprint.heartbeat\"}" &&
	test $(json_field out .data.count) -ge 1 &&
	hl events --spec "{\"subject\":\"$sprint\"}" &&
	json_field out .data.events >evs &&
	grep -q sprint.created evs && grep -q sprint.submitted evs &&
	grep -q sprint.finished evs
'

test_expect_success 'logs shows the tails of the logs and each step' '
	hl logs --spec "{\"sprint_id\":\"$sprint\",\"lines\":5}" &&
	json_field out /data/logs/progress.md | grep -q summarize &&
	json_field out /data/logs/output.log | grep -q summarize &&
	json_field out /data/steps/research.jsonl | grep -q "\"type\":\"result\"" &&
	test $(json_field out /data/logs/sprint_log.txt | wc -l) -le 5
'

test_expect_success 'artifacts hashes and copies files, never the token' '
	hl artifacts --spec "{\"sprint_id\":\"$sprint\"}" &&
	store=$(json_field out .data.store) &&
	test -f "$store/$sprint/report.md" &&
	test_cmp "$sprint_dir/report.md" "$store/$sprint/report.md" &&
	sha=$("$HPCLOOP_TEST_TOOL" sha256 "$sprint_dir/report.md") &&
	json_field out .data.files | grep -q "$sha" &&
	! test -e "$store/$sprint/.hpcloop/token" &&
	! json_field out .data.files | grep -q "hpcloop/token"
'

test_expect_success 'artifacts does not follow a link out of the sprint' '
	echo secret >outside.txt &&
	ln -s "$PWD/outside.txt" "$sprint_dir/link.txt" &&
	hl artifacts --spec "{\"sprint_id\":\"$sprint\"}" &&
	! json_field out .data.files | grep -q link.txt
'

test_expect_success 'artifacts again stores no duplicate rows' '
	row_counts >before &&
	hl artifacts --spec "{\"sprint_id\":\"$sprint\"}" &&
	row_counts >after && test_cmp before after
'

test_expect_success 'complete again is a replay that changes nothing' '
	row_counts >before &&
	hl complete --spec "{\"sprint_id\":\"$sprint\",\"status\":\"failed\"}" &&
	test_json_field out .idempotent true &&
	test_json_field out .data.state completed &&
	test_json_field out .data.transitioned false &&
	row_counts >after && test_cmp before after
'

test_expect_success 'a finished sprint keeps the evidence for its state' '
	hl status --spec "{\"sprint_id\":\"$sprint\"}" &&
	test_json_field out .data.sprints.0.state completed &&
	test_json_field out .data.sprints.0.evidence.completion_file.claim true &&
	test_json_field out .data.sprints.0.evidence.scheduler.evidence.source local
'

test_expect_success 'study-list and study-show count the sprint' '
	hl study-list &&
	test_json_field out .data.studies.0.name demo &&
	test_json_field out .data.studies.0.sprints 1 &&
	hl study-show demo &&
	test_json_field out .data.recent_sprints.0.sprint_id $sprint &&
	test_json_field out .data.agent_argv.0 "$FAKE_AGENT"
'

test_expect_success 'status of an unknown sprint is not_found' '
	test_expect_code 1 hl status --spec "{\"sprint_id\":\"sp-000000\"}" &&
	test_error out not_found
'

test_expect_success 'render-job renders without submitting' '
	row_counts >before &&
	hl render-job --spec "{\"study\":\"demo\",\"idea\":\"preview me\"}" &&
	dir=$(json_field out .data.directory) &&
	test -x "$dir/run_sprint.sh" &&
	test -f "$dir/.hpcloop/prompt-research.md" &&
	grep -q "preview me" "$dir/.hpcloop/prompt-research.md" &&
	! grep -q "preview me" "$dir/run_sprint.sh" &&
	sha=$("$HPCLOOP_TEST_TOOL" sha256 "$dir/run_sprint.sh") &&
	json_field out .data.files | grep -q "$sha" &&
	row_counts >after && test_cmp before after
'

test_done
