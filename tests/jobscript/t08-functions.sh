#!/usr/bin/env bash
#
# The job script's functions one by one (the script is sourced, which
# defines them without running the sprint): the top-level JSON field
# reader, the JSON string writer, costs, verdicts and the stream reader.
# Each check is a function below, run by in_job.
# shellcheck disable=SC1090,SC1091,SC2016,SC2034,SC2317  # test idioms
test_description='job script: its functions'
. "$(dirname "$0")/lib.sh"

make_sprint "$TRASH/f" rounds=1 >/dev/null 2>&1 || exit 1
JOB="$TRASH/f/job.sh"

# in_job FUNCTION: run FUNCTION in a subshell that sourced the job script
# (so with "set -u -o pipefail", as in a job) in the sprint directory.
in_job() {
	(cd "$SPRINT" && . "$JOB" && "$1")
}

# expect_eq GOT WANT: GOT is WANT, or say what it is.
expect_eq() {
	[[ $1 == "$2" ]] || {
		printf 'got  [%s]\nwant [%s]\n' "$1" "$2"
		return 1
	}
}

check_top_level_only() {
	local line
	line='{"type":"result","result":"x \"session_id\":\"decoy\"",'
	line+='"permission_denials":[{"session_id":"nested"}],'
	line+='"obj":{"a":{"session_id":"deep"},"b":"}{]["},'
	line+='"session_id":"real-1","is_error":false,'
	line+='"total_cost_usd":1.5e-3,"n":null}'
	json_top "$line" &&
		expect_eq "${JT_VAL[session_id]}" real-1 &&
		expect_eq "${JT_TYPE[session_id]}" s &&
		expect_eq "${JT_VAL[result]}" 'x "session_id":"decoy"' &&
		expect_eq "${JT_TYPE[permission_denials]}" a &&
		expect_eq "${JT_TYPE[obj]}" o &&
		expect_eq "${JT_VAL[is_error]}${JT_TYPE[is_error]}" falseb &&
		expect_eq "${JT_VAL[total_cost_usd]}" 1.5e-3 &&
		expect_eq "${JT_TYPE[n]}" z &&
		expect_eq "${#JT_VAL[@]}" 8
}

check_spaces_and_escapes() {
	json_top ' { "type" : "system" , "s" : "a\\b\/c\n\u00e9\u65e5\t" ,
		"k":[1,{"x":[]}] } ' &&
		expect_eq "${JT_VAL[type]}" system &&
		expect_eq "${JT_VAL[s]}" $'a\\b/c\né日\t'
}

check_rejects() {
	! json_top '[1,2]' && ! json_top '{"a":"unterminated}' &&
		! json_top '{"a":[1,2}' && ! json_top 'not json' &&
		! json_top '{"a" 1}' && ! json_top '{"a":1,}'
}

check_json_escape() {
	json_escape $'plain "quoted" back\\slash\n\t\r\x01\x7f é 日本 \xff\xc3('
	printf '%s\n' "$JSON_OUT" >"$TRASH/escaped.json"
	json_escape ''
	expect_eq "$JSON_OUT" '""'
}

check_costs() {
	local pair
	for pair in 0.0123=12300 1=1000000 1.5e-3=1500 2E2=200000000 \
		0.0000004=0 0=0 12.3456789=12345678 1e-06=1 1E+2=100000000; do
		usd_to_micro "${pair%=*}" &&
			expect_eq "$MICRO" "${pair#*=}" || return 1
	done
	! usd_to_micro -1 && ! usd_to_micro abc && ! usd_to_micro 1e99 &&
		micro_to_usd 73800 && expect_eq "$JSON_OUT" 0.0738 &&
		micro_to_usd 0 && expect_eq "$JSON_OUT" 0 &&
		micro_to_usd 2000000 && expect_eq "$JSON_OUT" 2
}

# verdict TEXT: verdict_clean on a file holding TEXT (printf %b).
verdict() {
	printf '%b' "$1" >"$TRASH/v.md"
	verdict_clean "$TRASH/v.md"
}

check_verdicts() {
	verdict 'All good.\nVERDICT: NO CRITICAL ISSUES\n' &&
		verdict '**VERDICT: NO CRITICAL ISSUES**' &&
		verdict 'VERDICT: CRITICAL ISSUES\nfixed:\nVERDICT: NO CRITICAL ISSUES\r\n' &&
		! verdict 'There are NO CRITICAL ISSUES.\nVERDICT: CRITICAL ISSUES\n' &&
		! verdict 'NO CRITICAL ISSUES\n' &&
		! verdict 'Not a VERDICT: NO CRITICAL ISSUES line\n' &&
		! verdict 'VERDICT: NO CRITICAL ISSUES\nVERDICT: CRITICAL ISSUES\n' &&
		! verdict ''
}

check_stream() {
	local f="$TRASH/s.jsonl"
	: >"$f"
	exec {STREAM_FD}<"$f"
	CURRENT_STEP=t
	{
		printf '{"type":"system","subtype":"init","session_id":"init-1"}\n'
		printf '{"type":"assistant","message":{"content":[{"type":'
		printf '"tool_use","id":"t1","name":"Bash","input":{}}]}}\n'
		printf '{"type":"resu'
	} >>"$f"
	stream_poll
	expect_eq "$INIT_SESSION/$RESULT_SEEN/$TOOL_CALLS" init-1/0/1 &&
		printf '%s\n' 'lt","subtype":"error_max_turns","is_error":false,"session_id":"-bad id","total_cost_usd":0.5}' >>"$f" &&
		stream_poll &&
		expect_eq "$RESULT_SEEN/$RESULT_ERROR" 1/1 &&
		expect_eq "$RESULT_SUBTYPE/$RESULT_SESSION" error_max_turns/ &&
		expect_eq "$COST_MICRO" 500000
}

check_stream_key_order() {
	local f="$TRASH/o.jsonl"
	printf '%s\n' '{"session_id":"s-2","type":"result","subtype":"success","is_error":false}' >"$f"
	exec {STREAM_FD}<"$f"
	CURRENT_STEP=t
	stream_poll
	expect_eq "$RESULT_SEEN/$RESULT_ERROR/$RESULT_SESSION" 1/0/s-2
}

check_big_line() {
	local big line start LC_ALL=C
	printf -v big '%0100000d' 0
	big=${big//0/'ab\"cd\\n '}
	line='{"type":"result","subtype":"success","result":"'$big'",'
	line+='"session_id":"big-1"}'
	start=$SECONDS
	json_top "$line" &&
		expect_eq "${JT_VAL[session_id]}" big-1 &&
		expect_eq "${JT_VAL[result]:0:16}" 'ab"cd\n ab"cd\n ' &&
		((SECONDS - start <= 10))
}

check_curl_quote() {
	curl_quote 'plain' && expect_eq "$JSON_OUT" '"plain"' &&
		curl_quote 'a"b\c\"' && expect_eq "$JSON_OUT" '"a\"b\\c\\\""' &&
		curl_quote '' && expect_eq "$JSON_OUT" '""'
}

check_write_reason() {
	write_reason $'base64: write error: No space left on device\nbase64: write error' &&
		expect_eq "$REASON" 'no space left on device' &&
		write_reason "mv: cannot move 'a' to 'b': Disk quota exceeded" &&
		expect_eq "$REASON" 'disk quota exceeded' &&
		write_reason './job.sh: line 9: x.tmp: Permission denied' &&
		expect_eq "$REASON" 'permission denied' &&
		write_reason 'base64: write error' &&
		expect_eq "$REASON" 'write error' &&
		write_reason '' && expect_eq "$REASON" 'the write failed'
}

test_expect_success 'sourcing the script runs nothing' '
	in_job true &&
	[[ ! -e $SPRINT/completion.json && ! -e $SPRINT/heartbeats.jsonl ]]
'

test_expect_success 'json_top reads top-level fields only' '
	in_job check_top_level_only
'

test_expect_success 'json_top: spaces, escapes and \u sequences' '
	in_job check_spaces_and_escapes
'

test_expect_success 'json_top rejects what is not an object' '
	in_job check_rejects
'

test_expect_success 'json_escape writes valid JSON for any bytes' '
	in_job check_json_escape &&
	printf "{\"v\": %s}\n" "$(cat escaped.json)" >wrapped.json &&
	jt get wrapped.json v >got &&
	printf "plain \"quoted\" back\\\\slash\n\t\r\001\177 é 日本 \357\277\275\357\277\275(\n" >expect &&
	cmp expect got
'

test_expect_success 'usd_to_micro and micro_to_usd' '
	in_job check_costs
'

test_expect_success 'verdict_clean reads the last VERDICT line only' '
	in_job check_verdicts
'

test_expect_success 'the stream reader: session, cost, errors, partial lines' '
	in_job check_stream
'

test_expect_success 'the stream reader: other key orders are parsed' '
	in_job check_stream_key_order
'

test_expect_success 'curl_quote escapes for curl'"'"'s config syntax' '
	in_job check_curl_quote
'

test_expect_success 'write_reason finds the system'"'"'s reason' '
	in_job check_write_reason
'

test_expect_success 'a large result line is parsed in reasonable time' '
	in_job check_big_line
'

test_done
