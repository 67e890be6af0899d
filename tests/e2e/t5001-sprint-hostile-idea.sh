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

test_done
