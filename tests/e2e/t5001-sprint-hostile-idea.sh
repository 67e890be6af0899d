#!/bin/sh
test_description='hostile idea text goes through submit, job and summary as data

An idea holding $(...), backticks, quotes, newlines, non-ASCII text and
100 KB of text is submitted; nothing in it is ever executed, and the
summary carries it back literally.'
. "$(dirname "$0")/lib.sh"

test_expect_success 'setup' '
	RED_TEAM_ROUNDS=0 setup_local_config &&
	mkdir -p canary
'

test_expect_success 'an idea with shell syntax runs as data' '
	idea="ünïcödé ✓ try \$(touch $PWD/canary/DOLLAR) and \`touch $PWD/canary/TICK\` with \\\"quotes\\\" '\''single'\'' ; touch $PWD/canary/SEMI \\n new line and more" &&
	submit "$idea" &&
	wait_state $sprint completed 60 &&
	test -z "$(ls canary)" &&
	json_field out .data.sprints.0.summary >summary &&
	grep -F "\$(touch $PWD/canary/DOLLAR)" summary &&
	grep -F "\`touch $PWD/canary/TICK\`" summary &&
	grep -F "ünïcödé ✓ try" summary &&
	grep -F "$PWD/canary/DOLLAR" "$sprint_dir/idea.txt" &&
	! grep -F "canary" "$sprint_dir/run_sprint.sh"
'

test_expect_success 'the idea reaches the prompt intact (newline and quotes too)' '
	grep -F "with \"quotes\" '\''single'\''" "$sprint_dir/.hpcloop/prompt-research.md" &&
	grep -F " new line and" "$sprint_dir/idea.txt" &&
	test $(wc -l <"$sprint_dir/idea.txt") -ge 1
'

test_expect_success 'a 100 KB idea goes through' '
	head -c 102400 /dev/zero | tr "\0" "x" >big &&
	printf "{\"study\":\"demo\",\"idea\":\"BIG-START \$(touch %s/canary/BIG) %s\"}" "$PWD" "$(cat big)" >big.json &&
	hl submit-flow --spec big.json &&
	sprint=$(json_field out .data.sprint_id) &&
	dir=$(json_field out .data.directory) &&
	wait_state $sprint completed 60 &&
	test -z "$(ls canary)" &&
	test $(wc -c <"$dir/idea.txt") -ge 102400 &&
	json_field out .data.sprints.0.summary | grep -q "BIG-START"
'

test_expect_success 'context, environment and agent command never become shell source' '
	mkdir -p hostile && cd hostile &&
	cat >hpcloop.yaml <<-YAML &&
	version: 1
	agent_command: "$FAKE_AGENT -p --output-format stream-json --verbose --x=\$(touch $TRASH_DIRECTORY/canary/AGENT)"
	context: "global \$(touch $TRASH_DIRECTORY/canary/CTX) \`id\`"
	heartbeat_interval_s: 1
	clusters:
	  local:
	    transport: local
	    scheduler: local
	    max_concurrent_jobs: 4
	    cancel_grace_s: 10
	    environment: {HOSTILE: "\$(touch $TRASH_DIRECTORY/canary/ENV); echo pwned"}
	studies:
	  demo:
	    cluster: local
	    red_team_max_rounds: 0
	    context: "study '"'"'quoted'"'"' \"double\" ;|&<>"
	YAML
	hl render-job --config hpcloop.yaml --journal j.db --spec "{\"study\":\"demo\",\"idea\":\"i\"}" &&
	script="$(json_field out .data.directory)/run_sprint.sh" &&
	! grep -F "touch $TRASH_DIRECTORY/canary" "$script" &&
	! grep -F "quoted" "$script" &&
	! grep -F "echo pwned" "$script" &&
	hl submit-flow --config hpcloop.yaml --journal j.db --spec "{\"study\":\"demo\",\"idea\":\"hostile config\"}" &&
	id=$(json_field out .data.sprint_id) &&
	dir=$(json_field out .data.directory) &&
	i=0 && while [ $i -lt 300 ] && ! test -f "$dir/completion.json"; do sleep 0.1; i=$((i+1)); done &&
	grep -q "\"status\":\"completed\"" "$dir/completion.json" &&
	grep -F "touch $TRASH_DIRECTORY/canary/CTX" "$dir/CLAUDE.md" &&
	test -z "$(ls "$TRASH_DIRECTORY/canary")"
'

test_expect_success 'hpcloop secrets in the environment never reach the job' '
	mkdir -p envcheck && cd envcheck &&
	cat >hpcloop.yaml <<-\YAML &&
	version: 1
	agent_command: "env"
	clusters:
	  local: {transport: local, scheduler: local, max_concurrent_jobs: 4,
	          cancel_grace_s: 10}
	studies:
	  demo: {cluster: local, red_team_max_rounds: 0}
	YAML
	HPCLOOP_ORCHESTRATOR_SECRET=s3cret-do-not-leak VISIBLE_MARK=yes-visible \
		hl submit-flow --config hpcloop.yaml --journal j.db \
		--spec "{\"study\":\"demo\",\"idea\":\"dump env\"}" &&
	dir=$(json_field out .data.directory) &&
	wait_file "$dir/completion.json" 30 &&
	grep -q "VISIBLE_MARK=yes-visible" "$dir/.hpcloop/research.jsonl" &&
	! grep -rq "s3cret-do-not-leak" "$dir" &&
	! grep -rq "s3cret-do-not-leak" sprints
'

test_done
