#!/bin/sh
test_description='the scripted model server: each behaviour, turn keys, the record'
. "$(dirname "$0")/lib.sh"

# post PATH FILE [CURL-ARGS...]: POST the JSON in FILE to the model
# server; body in ./body, headers in ./headers, status in ./status.
post () {
	path=$1 file=$2
	shift 2
	curl -s -o body -D headers -w '%{http_code}\n' \
		-H 'content-type: application/json' \
		-H 'x-api-key: sk-secret-never-logged' \
		-H 'x-claude-code-session-id: sess-1' \
		--data-binary "@$file" "$@" "$MODEL_URL$path" >status
}

# request FILE PROMPT [STREAM]: write a Messages API request whose one
# user message is PROMPT (after a system reminder, as the CLI sends it).
request () {
	cat >"$1" <<-EOF
	{"model":"claude-test-model","max_tokens":100,"stream":${3:-true},
	 "tools":[{"name":"Bash","input_schema":{"type":"object"}},
		  {"name":"Write","input_schema":{"type":"object"}}],
	 "messages":[{"role":"user","content":[
	  {"type":"text","text":"<system-reminder>context</system-reminder>"},
	  {"type":"text","text":"$2"}]}]}
	EOF
}

# events: the event names of the stream in ./body, one a line.
events () { sed -n 's/^event: //p' body; }

# data N: the JSON of the Nth data line of ./body, in ./dN.json.
data () { sed -n 's/^data: //p' body | sed -n "$1p" >"d$1.json"; }

test_expect_success MODEL,CURL 'setup: a script with every behaviour' '
	cat >script.json <<-\EOF &&
	{"rules": [
	 {"prompt": "say-text", "reply": {"text": "hello there, this text is long enough for two deltas"}},
	 {"prompt": "use-tool", "turn": 0,
	  "reply": {"text": "writing", "tool": {"name": "Bash",
		"input": {"command": "echo \"quoted\" > out.txt", "description": "write"}}}},
	 {"prompt": "use-tool", "turn": 1, "reply": {"text": "tool turn 1"}},
	 {"prompt": "next-step", "turn": 0, "reply": {"text": "next step turn 0"}},
	 {"prompt": "not-streamed", "stream": false, "reply": {"text": "one message", "usage": {"input_tokens": 7, "output_tokens": 3}}},
	 {"prompt": "e401", "reply": {"error": 401, "message": "invalid x-api-key"}},
	 {"prompt": "e429", "times": 1, "reply": {"error": 429, "retry_after": 2, "message": "slow down"}},
	 {"prompt": "e429", "reply": {"text": "after the rate limit"}},
	 {"prompt": "e500", "reply": {"error": 500}},
	 {"prompt": "e529", "reply": {"error": 529, "message": "Overloaded"}},
	 {"prompt": "stall-start", "reply": {"stall": 20}},
	 {"prompt": "stall-stream", "reply": {"stall": 20, "stall_at": "stream"}},
	 {"prompt": "broken-cut", "reply": {"broken": "cut", "text": "never finished"}},
	 {"prompt": "broken-garbage", "reply": {"broken": "garbage"}},
	 {"prompt": "broken-error", "reply": {"broken": "error_event", "message": "Overloaded"}}
	],
	 "default": {"text": "the default answer"}}
	EOF
	start_model script.json &&
	test -n "$MODEL_PORT" && kill -0 $MODEL_PID
'

test_expect_success MODEL,CURL 'HEAD / answers 200 and is recorded' '
	curl -s -I -o /dev/null -w "%{http_code}\n" "$MODEL_URL/" >status &&
	echo 200 >expect && test_cmp expect status &&
	model_pick method "*" >methods &&
	grep -qx HEAD methods
'

test_expect_success MODEL,CURL 'a text answer streams the Messages API events in order' '
	request r.json say-text &&
	post "/v1/messages?beta=true" r.json &&
	echo 200 >expect && test_cmp expect status &&
	grep -qi "^content-type: text/event-stream" headers &&
	events >got &&
	cat >expect <<-\EOF &&
	message_start
	ping
	content_block_start
	content_block_delta
	content_block_delta
	content_block_stop
	message_delta
	message_stop
	EOF
	test_cmp expect got &&
	data 1 && test_json_field d1.json .message.role assistant &&
	test_json_field d1.json .message.model claude-test-model &&
	test_json_field d1.json .message.content "[]" &&
	data 3 && test_json_field d3.json .content_block.type text &&
	data 4 && test_json_field d4.json .delta.type text_delta &&
	data 5 && data 7 &&
	printf "%s%s\n" "$(json_field d4.json .delta.text)" \
		"$(json_field d5.json .delta.text)" >text &&
	echo "hello there, this text is long enough for two deltas" >expect &&
	test_cmp expect text &&
	test_json_field d7.json .delta.stop_reason end_turn &&
	test $(json_field d7.json .usage.output_tokens) -ge 1
'

test_expect_success MODEL,CURL 'a tool_use answer streams its input as input_json_delta' '
	request r.json use-tool &&
	post /v1/messages r.json &&
	events >got &&
	grep -c content_block_start got >n && echo 2 >expect && test_cmp expect n &&
	sed -n "s/^data: //p" body | grep "content_block_start.*tool_use" >start.json &&
	test_json_field start.json .content_block.name Bash &&
	json_field start.json .content_block.id | grep -q "^toolu_" &&
	test_json_field start.json .content_block.input "{}" &&
	sed -n "s/^data: //p" body | grep input_json_delta >deltas &&
	/usr/bin/python3 -c "
import json, sys
parts = [json.loads(l)[\"delta\"][\"partial_json\"] for l in open(\"deltas\")]
print(json.loads(\"\".join(parts))[\"command\"])" >cmd &&
	echo "echo \"quoted\" > out.txt" >expect && test_cmp expect cmd &&
	sed -n "s/^data: //p" body | grep message_delta >md.json &&
	test_json_field md.json .delta.stop_reason tool_use
'

test_expect_success MODEL,CURL 'the turn is the number of tool results after the prompt' '
	cat >r.json <<-\EOF &&
	{"model":"m","max_tokens":10,"stream":true,"messages":[
	 {"role":"user","content":[{"type":"text","text":"use-tool now"}]},
	 {"role":"assistant","content":[{"type":"tool_use","id":"t1","name":"Bash","input":{}}]},
	 {"role":"user","content":[{"type":"tool_result","tool_use_id":"t1","content":"ok"},
	  {"type":"text","text":"[Request interrupted by the CLI]"}]}]}
	EOF
	post /v1/messages r.json &&
	grep -q "tool turn 1" body &&
	model_pick turn | tail -1 >turn && echo 1 >expect && test_cmp expect turn
'

test_expect_success MODEL,CURL 'a prompt merged after the last tool result (--resume) starts at turn 0' '
	cat >r.json <<-\EOF &&
	{"model":"m","max_tokens":10,"stream":true,"messages":[
	 {"role":"user","content":[{"type":"text","text":"use-tool now"}]},
	 {"role":"assistant","content":[{"type":"tool_use","id":"t1","name":"Bash","input":{}}]},
	 {"role":"user","content":[{"type":"tool_result","tool_use_id":"t1","content":"ok"}]},
	 {"role":"assistant","content":[{"type":"text","text":"tool turn 1"}]},
	 {"role":"user","content":[{"type":"tool_result","tool_use_id":"t0","content":"x"},
	  {"type":"text","text":"next-step please"}]}]}
	EOF
	post /v1/messages r.json &&
	grep -q "next step turn 0" body &&
	model_pick turn | tail -1 >turn && echo 0 >expect && test_cmp expect turn &&
	model_pick prompt | tail -1 | grep -q "^next-step please"
'

test_expect_success MODEL,CURL 'the same request again (a retry) gets the same answer' '
	request r.json say-text &&
	post /v1/messages r.json && cp body first &&
	post /v1/messages r.json &&
	sed -n "s/^data: //p" first | grep text_delta >a &&
	sed -n "s/^data: //p" body | grep text_delta >b &&
	test_cmp a b
'

test_expect_success MODEL,CURL 'without "stream" the answer is one JSON message with the usage' '
	request r.json not-streamed false &&
	post /v1/messages r.json &&
	echo 200 >expect && test_cmp expect status &&
	test_json_field body .type message &&
	test_json_field body .content.0.text "one message" &&
	test_json_field body .stop_reason end_turn &&
	test_json_field body .usage.input_tokens 7 &&
	test_json_field body .usage.output_tokens 3
'

test_expect_success MODEL,CURL 'count_tokens answers a count' '
	request r.json say-text &&
	post /v1/messages/count_tokens r.json &&
	echo 200 >expect && test_cmp expect status &&
	test $(json_field body .input_tokens) -ge 1
'

test_expect_success MODEL,CURL '401 is an authentication_error' '
	request r.json e401 &&
	post /v1/messages r.json &&
	echo 401 >expect && test_cmp expect status &&
	test_json_field body .type error &&
	test_json_field body .error.type authentication_error &&
	test_json_field body .error.message "invalid x-api-key"
'

test_expect_success MODEL,CURL '429 says retry-after, once; the retry gets the answer' '
	request r.json e429 &&
	post /v1/messages r.json &&
	echo 429 >expect && test_cmp expect status &&
	grep -qi "^retry-after: 2" headers &&
	test_json_field body .error.type rate_limit_error &&
	post /v1/messages r.json &&
	echo 200 >expect && test_cmp expect status &&
	grep -q "after the rate limit" body
'

test_expect_success MODEL,CURL '500 is an api_error, 529 an overloaded_error' '
	request r.json e500 &&
	post /v1/messages r.json &&
	echo 500 >expect && test_cmp expect status &&
	test_json_field body .error.type api_error &&
	request r.json e529 &&
	post /v1/messages r.json &&
	echo 529 >expect && test_cmp expect status &&
	test_json_field body .error.type overloaded_error &&
	test_json_field body .error.message Overloaded
'

test_expect_success MODEL,CURL 'a stall answers nothing, while other requests are answered' '
	request stall.json stall-start &&
	{ curl -s -o stalled --max-time 20 -H "content-type: application/json" \
		--data-binary @stall.json "$MODEL_URL/v1/messages" & } &&
	stall_pid=$! &&
	request r.json say-text &&
	post /v1/messages r.json &&
	grep -q message_stop body &&
	kill -0 $stall_pid &&
	! test -s stalled &&
	kill $stall_pid
'

test_expect_success MODEL,CURL 'a stall in the stream sends the first delta, then nothing' '
	request r.json stall-stream &&
	test_expect_code 28 post /v1/messages r.json --max-time 2 &&
	events >got &&
	printf "message_start\nping\ncontent_block_start\ncontent_block_delta\n" >expect &&
	test_cmp expect got
'

test_expect_success MODEL,CURL 'a cut stream ends after its first delta, with no message_stop' '
	request r.json broken-cut &&
	post /v1/messages r.json &&
	events >got &&
	printf "message_start\nping\ncontent_block_start\ncontent_block_delta\n" >expect &&
	test_cmp expect got
'

test_expect_success MODEL,CURL 'a garbage stream holds a data line that is not JSON' '
	request r.json broken-garbage &&
	post /v1/messages r.json &&
	sed -n "s/^data: //p" body | sed -n 2p >bad.json &&
	! "$HPCLOOP_TEST_TOOL" json-field bad.json .type 2>/dev/null &&
	! grep -q message_stop body
'

test_expect_success MODEL,CURL 'an error event arrives in the stream after message_start' '
	request r.json broken-error &&
	post /v1/messages r.json &&
	echo 200 >expect && test_cmp expect status &&
	events >got && printf "message_start\nerror\n" >expect && test_cmp expect got &&
	data 2 && test_json_field d2.json .error.type overloaded_error
'

test_expect_success MODEL,CURL 'no rule: the default answer; an unknown path: 404' '
	request r.json "nothing scripted" &&
	post /v1/messages r.json &&
	grep -q "the default answer" body &&
	model_pick rule | tail -1 >rule && echo >expect && test_cmp expect rule &&
	echo "{}" >e.json &&
	post /v1/other e.json &&
	echo 404 >expect && test_cmp expect status &&
	test_json_field body .error.type not_found_error
'

test_expect_success MODEL,CURL 'every request is recorded, with no key in the record' '
	model_pick seq "*" >seqs &&
	test $(wc -l <seqs) -ge 20 &&
	sort -n seqs | uniq >sorted && test_cmp seqs sorted &&
	model_pick path "*" >paths &&
	grep -qx /v1/other paths &&
	grep -qx /v1/messages/count_tokens paths &&
	! grep -q sk-secret-never-logged "$MODEL_LOG" &&
	model_pick headers.x-api-key | grep . | sort -u >keys &&
	echo "<redacted>" >expect && test_cmp expect keys &&
	model_pick session | grep . | sort -u >sessions &&
	echo sess-1 >expect && test_cmp expect sessions &&
	model_pick answer >answers &&
	for a in message error stall broken; do
		grep -qx $a answers || { echo "no $a"; return 1; }
	done &&
	model_pick tools | sed -n 1p >tools &&
	echo "[\"Bash\",\"Write\"]" >expect && test_cmp expect tools &&
	model_pick body.model | sed -n 1p >model &&
	echo claude-test-model >expect && test_cmp expect model &&
	model_pick n_messages | sed -n 1p >n && echo 1 >expect && test_cmp expect n
'

test_expect_success MODEL 'a script with a typo or an impossible reply is refused at start' '
	echo "{\"rules\":[{\"prompt\":\"x\",\"reply\":{},\"turns\":1}]}" >bad.json &&
	test_must_fail /usr/bin/python3 "$MODEL_SERVER" serve --script bad.json \
		--port-file p --log l 2>err &&
	grep -q "rule 0: unknown keys \[.turns.\]" err &&
	echo "{\"rules\":[{\"reply\":{\"broken\":\"slowly\"}}]}" >bad.json &&
	test_must_fail /usr/bin/python3 "$MODEL_SERVER" serve --script bad.json \
		--port-file p --log l 2>err &&
	grep -q "rule 0: broken is one of" err &&
	echo "{\"default\":{\"tool\":{\"input\":{}}}}" >bad.json &&
	test_must_fail /usr/bin/python3 "$MODEL_SERVER" serve --script bad.json \
		--port-file p --log l 2>err &&
	grep -q "the default: a content block needs" err &&
	! test -e p
'

test_expect_success MODEL 'SIGTERM stops the server' '
	stop_model &&
	! kill -0 $MODEL_PID 2>/dev/null
'

test_done
