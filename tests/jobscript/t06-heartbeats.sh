#!/usr/bin/env bash
#
# The heartbeat loop appends one line to heartbeats.jsonl per interval,
# with increasing seq, the running step as phase, and valid JSON.
# shellcheck disable=SC1090,SC1091,SC2016,SC2034,SC2317  # test idioms
test_description='job script: heartbeats'
. "$(dirname "$0")/lib.sh"

test_expect_success 'a slow sprint with one-second heartbeats' '
	make_sprint "$TRASH/hb" rounds=0 heartbeat=1 &&
	run_job "$TRASH/hb" FAKE_AGENT_SLEEP=2 &&
	[[ $JOB_RC == 0 ]]
'

test_expect_success 'every line is a JSON object under 4 KiB' '
	n=$(jt lines "$SPRINT/heartbeats.jsonl") &&
	((n >= 6)) &&
	! grep -qE "^.{4096}" "$SPRINT/heartbeats.jsonl"
'

test_expect_success 'seq counts up from 1 with no gap; elapsed_s grows' '
	i=0 &&
	prev=0 &&
	while IFS= read -r line; do
		i=$((i + 1))
		printf "%s\n" "$line" >one
		test_json_field one seq "$i" &&
		test_json_field one sprint_id sp-7e57ab &&
		e=$(jt get one elapsed_s) &&
		((e >= prev)) &&
		prev=$e &&
		[[ $(jt get one ts) =~ ^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z$ ]] ||
			return 1
	done <"$SPRINT/heartbeats.jsonl"
'

test_expect_success 'phases: starting, running (step), done' '
	head -n 1 "$SPRINT/heartbeats.jsonl" >first &&
	test_json_field first phase starting &&
	grep -F "\"phase\":\"running (research)\",\"step\":\"research\"" \
		"$SPRINT/heartbeats.jsonl" &&
	grep -F "\"phase\":\"running (summarize)\",\"step\":\"summarize\"" \
		"$SPRINT/heartbeats.jsonl" &&
	tail -n 1 "$SPRINT/heartbeats.jsonl" >last &&
	test_json_field last phase done &&
	[[ $(grep -c "\"phase\":\"done\"" "$SPRINT/heartbeats.jsonl") == 1 ]]
'

test_expect_success 'the beats come about once a second' '
	n=$(jt lines "$SPRINT/heartbeats.jsonl") &&
	tail -n 1 "$SPRINT/heartbeats.jsonl" >last &&
	e=$(jt get last elapsed_s) &&
	((n >= e - 1 && n <= 2 * e + 2))
'

test_expect_success 'without a URL nothing is spooled' '
	[[ -z $(ls -A "$SPRINT/.hpcloop/spool") ]]
'

test_done
