#!/bin/sh
test_description='the stand-in agent prints only shapes the real agent CLI prints'
. "$(dirname "$0")/lib.sh"

claude_require

test_expect_success 'setup: the scripted model' '
	start_model "$SRC_DIR/tests/model/scripts/t5103.json"
'

test_expect_success 'the real CLI runs a tool that works and one that fails' '
	run_claude "shape-check" --allowedTools Write,Read &&
	grep -q "\"type\":\"result\"" stream.jsonl &&
	cp stream.jsonl real.jsonl &&
	grep -q "\"is_error\":true" real.jsonl
'

test_expect_success 'the real CLI resuming a session it does not have' '
	run_claude "shape-check" --resume 00000000-0000-4000-8000-000000000000;
	grep -q "\"subtype\":\"error_during_execution\"" stream.jsonl &&
	cat stream.jsonl >>real.jsonl
'

test_expect_success 'the stand-in agent, on a normal step and on each of its failure shapes' '
	: >fake.jsonl &&
	for knob in "" FAKE_AGENT_ERROR_STEP FAKE_AGENT_TOOLS_FAIL_STEP \
		FAKE_AGENT_NOSESSION_STEP FAKE_AGENT_DENY_STEP; do
		if [ -n "$knob" ]; then
			printf "shape-check\n" | env $knob=unknown "$FAKE_AGENT" -p \
				--output-format stream-json --verbose >>fake.jsonl
		else
			printf "shape-check\n" | "$FAKE_AGENT" -p \
				--output-format stream-json --verbose >>fake.jsonl
		fi
	done;
	test -s fake.jsonl
'

test_expect_success 'every shape of the stand-in is one the real CLI printed' '
	/usr/bin/python3 "$TEST_DIRECTORY/compare-shapes.py" real.jsonl fake.jsonl
'

test_expect_success 'and the comparison can fail' '
	sed "s/\"parent_tool_use_id\"/\"parent_tool_use_idx\"/" fake.jsonl >bad.jsonl &&
	! /usr/bin/python3 "$TEST_DIRECTORY/compare-shapes.py" real.jsonl bad.jsonl
'

test_expect_success 'stop the model' 'stop_model'

test_done
