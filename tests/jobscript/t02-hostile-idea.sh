#!/usr/bin/env bash
#
# User text never runs as code: an idea (and a context and an environment
# value) full of shell syntax, quotes, newlines and non-ASCII text, 100 KB
# long, goes through the job script as data.
# shellcheck disable=SC1090,SC1091,SC2016,SC2034,SC2317  # test idioms
test_description='job script: hostile text is data'
. "$(dirname "$0")/lib.sh"

# make_idea FILE: write the hostile idea: a first line of tricks, then
# about 100 KB of ASCII lines (so that the fake agent's 200-byte summary
# ends on a character boundary), then a last non-ASCII line.
make_idea() {
	local i
	{
		printf '%s' "Idea \$(touch PWNED) \`touch PWNED2\` 'q' \"dq\" "
		printf '%s' "\${HOME} ; rm -rf x & é ü 日本 \\ \\\\n %s %n {{x}}"
		printf '\n$(touch PWNED3)\n'
		for ((i = 0; i < 3300; i++)); do
			printf 'line %04d: `id` $(id) "%%s" '"'"'x'"'"'\n' "$i"
		done
		printf 'the end: ünïcödé 🙂\n'
	} >"$1"
}

test_expect_success 'render a sprint with a 100 KB hostile idea' '
	make_idea "$TRASH/idea.txt" &&
	size=$(wc -c <"$TRASH/idea.txt") &&
	((size > 100000)) &&
	make_sprint "$TRASH/h" idea_file="$TRASH/idea.txt" rounds=1 \
		context="ctx \$(touch PWNED4) \`touch PWNED5\`" \
		env="HOSTILE=\$(touch PWNED6)" &&
	bash -n "$TRASH/h/job.sh"
'

test_expect_success 'the job script holds none of the text as source' '
	! grep -q "PWNED" "$TRASH/h/job.sh" &&
	! grep -q "touch" "$TRASH/h/job.sh"
'

test_expect_success 'the sprint completes' '
	run_job "$TRASH/h" LANG=C.UTF-8 &&
	[[ $JOB_RC == 0 ]] &&
	test_json_field "$SPRINT/completion.json" status completed
'

test_expect_success 'nothing was executed' '
	found=$(find "$TRASH" -name "PWNED*") &&
	[[ -z $found ]] || { echo "found: $found"; false; }
'

test_expect_success 'idea.txt and CLAUDE.md are the exact bytes' '
	cmp "$TRASH/idea.txt" "$SPRINT/idea.txt" &&
	[[ $(cat "$SPRINT/CLAUDE.md") == "ctx \$(touch PWNED4) \`touch PWNED5\`" ]]
'

test_expect_success 'the research prompt carries the idea as text' '
	test_must_contain "$SPRINT/.hpcloop/prompt-research.md" \
		"line 3299: \`id\` \$(id)" &&
	test_must_contain "$SPRINT/.hpcloop/prompt-research.md" \
		"{{x}}"
'

test_expect_success 'the summary holds the literal text' '
	{
		printf "Fake agent (stand-in, no model) studied: "
		head -c 200 "$TRASH/idea.txt"
	} >expect &&
	jt get "$SPRINT/completion.json" summary >got &&
	printf "\n" >>expect &&
	cmp expect got &&
	test_must_contain got "\$(touch PWNED)" &&
	test_must_contain got "日本"
'

test_expect_success 'a summary cut inside a UTF-8 character stays valid JSON' '
	printf "%0199d日本語\n" 0 >"$TRASH/idea2.txt" &&
	make_sprint "$TRASH/u" idea_file="$TRASH/idea2.txt" rounds=0 &&
	run_job "$TRASH/u" LANG=C.UTF-8 &&
	[[ $JOB_RC == 0 ]] &&
	jt valid "$SPRINT/completion.json" &&
	jt get "$SPRINT/completion.json" summary >got &&
	test_must_contain got "$(printf "%0199d" 0)"
'

test_expect_success 'invalid UTF-8 and control bytes stay valid JSON' '
	cat >"$TRASH/bad-agent" <<-AGENT &&
	#!/usr/bin/env bash
	"$FAKE_AGENT" "\$@"
	rc=\$?
	if [[ -f summary.txt ]]; then
		printf "bad \\xff\\xfe bytes \\x01\\x1f tab\\t end\\n" >summary.txt
	fi
	exit \$rc
	AGENT
	chmod +x "$TRASH/bad-agent" &&
	make_sprint "$TRASH/b" rounds=0 agent="$TRASH/bad-agent" &&
	run_job "$TRASH/b" &&
	[[ $JOB_RC == 0 ]] &&
	jt valid "$SPRINT/completion.json" &&
	jt get "$SPRINT/completion.json" summary >got &&
	printf "bad \\xef\\xbf\\xbd\\xef\\xbf\\xbd bytes \\x01\\x1f tab\\t end\\n" >expect &&
	cmp expect got
'

test_done
