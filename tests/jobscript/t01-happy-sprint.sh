#!/usr/bin/env bash
#
# A full sprint with the fake agent: research, red-team round 1 (critical),
# fix round 1, red-team round 2 (clean, so the loop stops), report and
# summarize, all in one resumed session.
# shellcheck disable=SC1090,SC1091,SC2016,SC2034,SC2317  # test idioms
test_description='job script: a happy sprint'
. "$(dirname "$0")/lib.sh"

test_expect_success 'render a sprint with two red-team rounds' '
	make_sprint "$TRASH/happy" rounds=2 context="Use the CPU." \
		job_option=mem=4G \
		env="HPCLOOP_TEST_ENV=visible" &&
	bash -n "$TRASH/happy/job.sh" &&
	[[ $(sed -n 2p "$TRASH/happy/job.sh") != "#SBATCH"* ]] &&
	! grep -q "{{" "$TRASH/happy/job.sh"
'

test_expect_success 'the sprint completes and exits 0' '
	run_job "$TRASH/happy" FAKE_AGENT_CRITICAL_ROUNDS=1 \
		FAKE_AGENT_LOG="$TRASH/happy/agent.log" &&
	[[ $JOB_RC == 0 ]] &&
	jt valid "$SPRINT/completion.json" &&
	test_json_field "$SPRINT/completion.json" status completed &&
	test_json_field "$SPRINT/completion.json" error null &&
	test_json_field "$SPRINT/completion.json" exit_code 0 &&
	test_json_field "$SPRINT/completion.json" sprint_id sp-7e57ab
'

test_expect_success 'the steps ran in order: the loop stopped at round 2' '
	for i in 0 1 2 3 4 5; do
		jt get "$SPRINT/completion.json" "steps.$i.name"
		test_json_field "$SPRINT/completion.json" "steps.$i.status" \
			completed || return 1
	done >names &&
	printf "%s\n" research red_team_1 fix_1 red_team_2 report summarize \
		>expect &&
	diff expect names &&
	! jt get "$SPRINT/completion.json" steps.6
'

test_expect_success 'a stray "NO CRITICAL ISSUES" did not stop round 1' '
	test_must_contain "$SPRINT/red_team_round_1.md" "NO CRITICAL ISSUES" &&
	test_must_contain "$SPRINT/red_team_round_1.md" \
		"VERDICT: CRITICAL ISSUES" &&
	[[ -f $SPRINT/fixes_round_1.md && ! -e $SPRINT/fixes_round_2.md ]]
'

test_expect_success 'every file of the sprint is there' '
	for f in idea.txt CLAUDE.md findings.md progress.md output.log \
		results/metric.json red_team_round_1.md fixes_round_1.md \
		red_team_round_2.md report.md summary.txt sprint_log.txt \
		heartbeats.jsonl completion.json .hpcloop/session_id \
		.hpcloop/research.jsonl .hpcloop/research.pgid .hpcloop/prompt-research.md \
		.hpcloop/prompt-red_team_2.md .hpcloop/prompt-fix_2.md \
		.hpcloop/prompt-report.md .hpcloop/prompt-summarize.md; do
		[[ -s $SPRINT/$f ]] || { echo "missing: $f"; return 1; }
	done &&
	[[ -f $SPRINT/.hpcloop/research.stderr ]] &&
	[[ $(cat "$SPRINT/CLAUDE.md") == "Use the CPU." ]] &&
	[[ ! -e $SPRINT/.hpcloop/active_step ]]
'

test_expect_success 'the prompts are the rendered templates' '
	head -n 1 "$SPRINT/.hpcloop/prompt-red_team_2.md" >first &&
	echo "<!-- hpcloop-step: red_team round=2 -->" >expect &&
	diff expect first &&
	test_must_contain "$SPRINT/.hpcloop/prompt-research.md" \
		"Does the fake agent follow the pipeline?"
'

test_expect_success 'every step resumed the first step'"'"'s session' '
	[[ $(wc -l <"$TRASH/happy/agent.log") == 6 ]] &&
	read -r _ first <"$TRASH/happy/agent.log" &&
	[[ $first == fake-* ]] &&
	while read -r step sid; do
		[[ $sid == "$first" ]] || { echo "$step used $sid"; return 1; }
	done <"$TRASH/happy/agent.log" &&
	test_json_field "$SPRINT/completion.json" session_id "$first" &&
	[[ $(cat "$SPRINT/.hpcloop/session_id") == "$first" ]]
'

test_expect_success 'no decoy session id was ever used' '
	! grep -q decoy "$TRASH/happy/agent.log" &&
	! grep -q decoy "$SPRINT/.hpcloop/session_id"
'

test_expect_success 'the cost is the sum of the six results' '
	test_must_contain "$SPRINT/completion.json" "\"cost_usd\":0.0738,"
'

test_expect_success 'the summary is summary.txt' '
	test_json_field "$SPRINT/completion.json" summary \
		"Fake agent (stand-in, no model) studied: Does the fake agent follow the pipeline?"
'

test_expect_success 'the logs name each step; tool calls are logged' '
	for s in research red_team_1 fix_1 red_team_2 report summarize; do
		test_must_contain "$SPRINT/progress.md" "hpcloop: $s started" &&
		test_must_contain "$SPRINT/output.log" "hpcloop: $s started" &&
		test_must_contain "$SPRINT/sprint_log.txt" "$s completed" &&
		test_must_contain "$SPRINT/sprint_log.txt" "$s: tool Write" ||
		return 1
	done &&
	test_must_contain "$SPRINT/progress.md" "fake-agent: research done" &&
	! grep -q "\"type\"" "$SPRINT/output.log"
'

test_expect_success 'the heartbeats start and end the sprint' '
	jt lines "$SPRINT/heartbeats.jsonl" >/dev/null &&
	head -n 1 "$SPRINT/heartbeats.jsonl" >first &&
	test_json_field first seq 1 &&
	test_json_field first phase starting &&
	tail -n 1 "$SPRINT/heartbeats.jsonl" >last &&
	test_json_field last phase done &&
	test_json_field last step null
'

test_expect_success 'the environment reaches the agent' '
	cat >"$TRASH/env-agent" <<-AGENT &&
	#!/usr/bin/env bash
	printf "%s" "\$HPCLOOP_TEST_ENV" >env-seen.txt
	exec "$FAKE_AGENT" "\$@"
	AGENT
	chmod +x "$TRASH/env-agent" &&
	make_sprint "$TRASH/env" rounds=0 agent="$TRASH/env-agent" \
		env="HPCLOOP_TEST_ENV=a \$(b) \"c\"" &&
	run_job "$TRASH/env" &&
	[[ $JOB_RC == 0 ]] &&
	[[ $(cat "$SPRINT/env-seen.txt") == "a \$(b) \"c\"" ]]
'

test_expect_success 'no red-team rounds: research, report, summarize' '
	make_sprint "$TRASH/zero" rounds=0 &&
	run_job "$TRASH/zero" &&
	[[ $JOB_RC == 0 ]] &&
	test_json_field "$SPRINT/completion.json" steps.1.name report &&
	test_json_field "$SPRINT/completion.json" steps.2.name summarize &&
	[[ ! -e $SPRINT/red_team_round_1.md && ! -e $SPRINT/CLAUDE.md ]]
'

test_expect_success 'an environment name that is the script'"'"'s own is refused' '
	make_sprint "$TRASH/own" rounds=0 env="SESSION_ID=--evil" &&
	run_job "$TRASH/own" FAKE_AGENT_LOG="$TRASH/own/agent.log" &&
	[[ $JOB_RC == 0 ]] &&
	test_must_contain "$SPRINT/sprint_log.txt" \
		"environment: SESSION_ID may not be set; skipped" &&
	! grep -q -- --evil "$TRASH/own/agent.log"
'

test_done
