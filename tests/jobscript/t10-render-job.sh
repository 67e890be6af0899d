#!/usr/bin/env bash
#
# The harness renders its sprints with test-tool render-job; this file
# checks that it is what the binary renders: `hpcloop render-job` writes
# the same script for the same config, idea, sprint id and directory, and
# that script, run as it is, completes a sprint whose prompts and context
# are the files render-job wrote beside it.
# shellcheck disable=SC1090,SC1091,SC2016,SC2034,SC2317  # test idioms
test_description='job script: the binary renders what the harness runs'
. "$(dirname "$0")/lib.sh"

test_expect_success 'hpcloop render-job writes the script and prompts' '
	make_sprint "$TRASH/p" rounds=1 context="Use the CPU." &&
	spec="{\"study\":\"demo\",\"idea\":\"Does the fake agent follow the pipeline?\\n\"}" &&
	"$HPCLOOP_BIN" render-job --config "$TRASH/p/hpcloop.yaml" \
		--journal "$TRASH/p/.hpcloop/journal.db" --spec "$spec" \
		>out 2>err &&
	"$HPCLOOP_TEST_TOOL" envelope out &&
	test_json_field out ok true &&
	RENDERED=$(jt get out data.directory) &&
	[[ $RENDERED == "$TRASH/p/.hpcloop/render/"* ]] &&
	test_json_field out data.red_team_max_rounds 1 &&
	for f in run_sprint.sh CLAUDE.md .hpcloop/prompt-research.md \
		.hpcloop/prompt-red_team_1.md .hpcloop/prompt-fix_1.md \
		.hpcloop/prompt-report.md .hpcloop/prompt-summarize.md; do
		[[ -s $RENDERED/$f ]] || { echo "missing: $f"; return 1; }
	done
'

test_expect_success 'test-tool render-job renders the same script' '
	"$HPCLOOP_TEST_TOOL" render-job "$TRASH/p/hpcloop.yaml" demo \
		"$TRASH/p/idea.txt" sp-preview "$RENDERED" >same.sh &&
	cmp same.sh "$RENDERED/run_sprint.sh" &&
	! cmp -s same.sh "$TRASH/p/job.sh"
'

test_expect_success 'the rendered script runs a sprint from its files' '
	mkdir rendered &&
	cp -R "$RENDERED/." rendered/ &&
	env -i PATH="$PATH" HOME="$TRASH" TMPDIR="${TMPDIR:-/tmp}" \
		FAKE_AGENT_CRITICAL_ROUNDS=1 \
		timeout -k 5 30 bash "$RENDERED/run_sprint.sh" >job.out 2>&1 &&
	test_json_field "$RENDERED/completion.json" status completed &&
	test_json_field "$RENDERED/completion.json" sprint_id sp-preview &&
	test_json_field "$RENDERED/completion.json" steps.3.name report &&
	for f in CLAUDE.md .hpcloop/prompt-research.md \
		.hpcloop/prompt-red_team_1.md .hpcloop/prompt-fix_1.md \
		.hpcloop/prompt-report.md .hpcloop/prompt-summarize.md; do
		cmp "rendered/$f" "$RENDERED/$f" || return 1
	done &&
	printf "Does the fake agent follow the pipeline?\n" >expect &&
	cmp expect "$RENDERED/idea.txt"
'

test_done
