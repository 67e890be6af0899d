#!/bin/sh
test_description='notify: ntfy, Slack, webhook and file channels against a
real HTTP server on loopback; retries on 5xx and 429 (Retry-After), a
server too slow for the timeout, dedup by key, the drain of journal events
and a loop whose finish loop-tick notifies (issue 11, item 8)'
. "$(dirname "$0")/lib.sh"

RECORDER="$SRC_DIR/tests/http/http-recorder"

# start_recorder SCRIPT-JSON: start tests/http/http-recorder answering
# with the responses SCRIPT-JSON lists; sets REC_URL, REC_LOG, REC_PID.
start_recorder () {
	rec_n=$((${rec_n:-0} + 1))
	REC_DIR="$TRASH_DIRECTORY/rec-$rec_n"
	REC_LOG="$REC_DIR/log"
	mkdir -p "$REC_DIR" && printf '%s\n' "$1" >"$REC_DIR/script.json" &&
	: >"$REC_LOG" || return 1
	/usr/bin/python3 "$RECORDER" serve --script "$REC_DIR/script.json" \
		--port-file "$REC_DIR/port" --log "$REC_LOG" --lifetime 200 \
		2>"$REC_DIR/stderr" &
	REC_PID=$!
	i=0
	while ! [ -s "$REC_DIR/port" ]; do
		if [ $i -ge 100 ] || ! kill -0 $REC_PID 2>/dev/null; then
			echo "the recorder did not start:" >&2
			cat "$REC_DIR/stderr" >&2
			return 1
		fi
		sleep 0.1
		i=$((i + 1))
	done
	REC_URL="http://127.0.0.1:$(cat "$REC_DIR/port")"
}

stop_recorder () {
	kill $REC_PID 2>/dev/null
	wait $REC_PID 2>/dev/null
	return 0
}

# pick N FIELD: FIELD of request N the recorder received.
pick () { /usr/bin/python3 "$RECORDER" pick "$REC_LOG" "$1" "$2"; }

# requests: how many requests the recorder received.
requests () { wc -l <"$REC_LOG" | tr -d " "; }

# channels YAML: the test config with these notification channels.
channels () {
	setup_local_config "notifications:
$1"
}

# no_secret WORD: WORD is in neither out nor err.
no_secret () {
	! grep -q "$1" out err
}

q () { sqlite3 "$HPCLOOP_JOURNAL" "$@"; }

test_expect_success 'setup' '
	setup_local_config ""
'

test_expect_success 'list does not load libcurl' '
	LD_DEBUG=files "$HPCLOOP_BIN" list >/dev/null 2>ld.log &&
	grep -q "libc.so" ld.log &&
	! grep -q libcurl ld.log
'

test_expect_success 'ntfy: POST to URL/TOPIC with Title, Priority, Tags and the bearer token' '
	start_recorder "[]" &&
	channels "  - {name: phone, type: ntfy, url: \"$REC_URL/\", topic: topic-s3cret, token: tk-ntfy-s3cret}" &&
	hl notify --spec "{\"event\":\"failed\",\"title\":\"sprint sp-000001 failed\",\"body\":\"out of memory\",\"key\":\"k-ntfy\"}" &&
	test_json_field out .data.delivered 1 &&
	test_json_field out .data.deliveries.0.channel phone &&
	test_json_field out .data.deliveries.0.status delivered &&
	test_json_field out .data.deliveries.0.attempts 1 &&
	test_json_field out .data.deliveries.0.http_status 200 &&
	test "$(requests)" = 1 &&
	test "$(pick 1 method)" = POST &&
	test "$(pick 1 path)" = /topic-s3cret &&
	test "$(pick 1 headers.title)" = "sprint sp-000001 failed" &&
	test "$(pick 1 headers.priority)" = 4 &&
	test "$(pick 1 headers.tags)" = "hpcloop,failed" &&
	test "$(pick 1 headers.authorization)" = "Bearer tk-ntfy-s3cret" &&
	test "$(pick 1 body)" = "out of memory" &&
	no_secret tk-ntfy-s3cret && no_secret topic-s3cret &&
	LD_DEBUG=files "$HPCLOOP_BIN" status >/dev/null 2>ld.log &&
	grep -q "libc.so" ld.log &&
	! grep -q libcurl ld.log &&
	LD_DEBUG=files "$HPCLOOP_BIN" notify --spec "{\"event\":\"note\",\"title\":\"t\",\"key\":\"k-ld\"}" >/dev/null 2>ld.log &&
	grep -q libcurl ld.log
'

test_expect_success 'ntfy: a title cannot add a header, and priority is the caller'"'"'s' '
	hl notify --spec "{\"event\":\"note\",\"title\":\"one\\r\\nX-Evil: yes\",\"priority\":2,\"key\":\"k-inject\"}" &&
	n=$(requests) &&
	test "$(pick $n headers.title)" = "one  X-Evil: yes" &&
	test "$(pick $n headers.x-evil)" = null &&
	test "$(pick $n headers.priority)" = 2 &&
	test "$(pick $n body)" = "$(printf "one\r\nX-Evil: yes")"
'

test_expect_success 'the same key is sent once; the same spec is replayed' '
	hl notify --spec "{\"event\":\"failed\",\"title\":\"again\",\"key\":\"k-ntfy\"}" &&
	test_json_field out .data.deliveries.0.status duplicate &&
	test_json_field out .data.deliveries.0.attempts 0 &&
	n=$(requests) &&
	hl notify --spec "{\"event\":\"note\",\"title\":\"replayed\"}" &&
	test_json_field out .idempotent false &&
	hl notify --spec "{\"event\":\"note\",\"title\":\"replayed\"}" &&
	test_json_field out .idempotent true &&
	test "$(requests)" = $((n + 1)) &&
	test "$(q "SELECT count(*) FROM notifications WHERE channel = '"'"'phone'"'"' AND key = '"'"'k-ntfy'"'"' AND status = '"'"'delivered'"'"'")" = 1
'
stop_recorder

test_expect_success 'slack: chat.postMessage with the bot token as Bearer, the channel and the text' '
	start_recorder "[{\"status\":200,\"body\":{\"ok\":true,\"ts\":\"1.2\"}}]" &&
	channels "  - {name: team, type: slack, url: \"$REC_URL/api/chat.postMessage\", channel: C0123456789}" &&
	HPCLOOP_NOTIFY_TEAM_TOKEN=xoxb-s3cret hl notify --spec "{\"event\":\"new_best\",\"title\":\"new best\",\"body\":\"val_loss 0.41\"}" &&
	test_json_field out .data.deliveries.0.status delivered &&
	test "$(pick 1 path)" = /api/chat.postMessage &&
	test "$(pick 1 headers.authorization)" = "Bearer xoxb-s3cret" &&
	pick 1 headers.content-type | grep -q "^application/json" &&
	test "$(pick 1 json.channel)" = C0123456789 &&
	test "$(pick 1 json.text)" = "$(printf "*new best*\nval_loss 0.41")" &&
	no_secret xoxb-s3cret
'
stop_recorder

test_expect_success 'slack: "ok": false is notify_failed (exit 2), not retried' '
	start_recorder "[{\"status\":200,\"body\":{\"ok\":false,\"error\":\"invalid_auth\"}}]" &&
	channels "  - {name: team, type: slack, url: \"$REC_URL/api/chat.postMessage\", channel: C1, token: xoxb-bad}" &&
	test_expect_code 2 hl notify --spec "{\"event\":\"note\",\"title\":\"x\"}" &&
	test_error out notify_failed &&
	json_field out .message | grep -q invalid_auth &&
	test_json_field out .retry_safe false &&
	test "$(requests)" = 1 &&
	no_secret xoxb-bad
'
stop_recorder

test_expect_success 'slack: an incoming webhook gets the text alone' '
	start_recorder "[]" &&
	channels "  - {name: hook, type: slack, url: \"$REC_URL/services/T1/B2/hook-s3cret\"}" &&
	hl notify --spec "{\"event\":\"completed\",\"title\":\"done\"}" &&
	test "$(pick 1 path)" = /services/T1/B2/hook-s3cret &&
	test "$(pick 1 json)" = "{\"text\": \"*done*\"}" &&
	test "$(pick 1 headers.authorization)" = null &&
	no_secret hook-s3cret
'
stop_recorder

test_expect_success 'webhook: a JSON body signed with HMAC-SHA256 over timestamp.body' '
	start_recorder "[]" &&
	channels "  - {name: hook, type: webhook, url: \"$REC_URL/in\"}" &&
	HPCLOOP_NOTIFY_HOOK_SECRET=hm4c-s3cret hl notify --spec "{\"event\":\"lost\",\"title\":\"sprint lost\",\"body\":\"no heartbeat\",\"key\":\"k-hook\",\"data\":{\"sprint\":\"sp-000009\"}}" &&
	test_json_field out .data.deliveries.0.status delivered &&
	test "$(pick 1 json.event)" = lost &&
	test "$(pick 1 json.title)" = "sprint lost" &&
	test "$(pick 1 json.body)" = "no heartbeat" &&
	test "$(pick 1 json.key)" = k-hook &&
	test "$(pick 1 json.channel)" = hook &&
	test "$(pick 1 json.data.sprint)" = sp-000009 &&
	test "$(pick 1 headers.x-hpcloop-event)" = lost &&
	pick 1 headers.x-hpcloop-timestamp | grep -Eq "^[0-9]{10}$" &&
	/usr/bin/python3 -c "
import hmac, hashlib, json, sys
r = json.loads(open(sys.argv[1]).readline())
ts = r[\"headers\"][\"x-hpcloop-timestamp\"]
want = \"sha256=\" + hmac.new(b\"hm4c-s3cret\", (ts + \".\" + r[\"body\"]).encode(), hashlib.sha256).hexdigest()
got = r[\"headers\"][\"x-hpcloop-signature\"]
sys.exit(0 if hmac.compare_digest(want, got) else \"signature %s, wanted %s\" % (got, want))
" "$REC_LOG" &&
	no_secret hm4c-s3cret
'

test_expect_success 'webhook: the signature is checked by openssl too, and a changed body fails it' '
	body=$(pick 1 body) && ts=$(pick 1 headers.x-hpcloop-timestamp) &&
	sig=$(printf "%s.%s" "$ts" "$body" | openssl dgst -sha256 -hmac hm4c-s3cret | sed "s/.*= //") &&
	test "sha256=$sig" = "$(pick 1 headers.x-hpcloop-signature)" &&
	bad=$(printf "%s.%s " "$ts" "$body" | openssl dgst -sha256 -hmac hm4c-s3cret | sed "s/.*= //") &&
	test "sha256=$bad" != "$(pick 1 headers.x-hpcloop-signature)"
'
stop_recorder

test_expect_success 'a 500 then a 200 is tried again and delivered once' '
	start_recorder "[{\"status\":500,\"body\":\"boom\"},{\"status\":200}]" &&
	channels "  - {name: hook, type: webhook, url: \"$REC_URL/in\"}" &&
	hl notify --spec "{\"event\":\"note\",\"title\":\"flaky\",\"key\":\"k-500\"}" &&
	test_json_field out .data.deliveries.0.status delivered &&
	test_json_field out .data.deliveries.0.attempts 2 &&
	test "$(requests)" = 2 &&
	test "$(pick 1 json.key)" = k-500 &&
	test "$(pick 2 json.key)" = k-500 &&
	hl notify --spec "{\"event\":\"note\",\"title\":\"flaky, again\",\"key\":\"k-500\"}" &&
	test_json_field out .data.deliveries.0.status duplicate &&
	test "$(requests)" = 2 &&
	test "$(q "SELECT status, attempts, http_status FROM notifications WHERE key = '"'"'k-500'"'"'")" = "delivered|2|200"
'
stop_recorder

test_expect_success 'a 429 waits for its Retry-After before the next try' '
	start_recorder "[{\"status\":429,\"headers\":{\"Retry-After\":\"2\"}},{\"status\":200}]" &&
	channels "  - {name: hook, type: webhook, url: \"$REC_URL/in\"}" &&
	hl notify --spec "{\"event\":\"note\",\"title\":\"slow down\",\"key\":\"k-429\"}" &&
	test_json_field out .data.deliveries.0.attempts 2 &&
	test "$(requests)" = 2 &&
	/usr/bin/python3 -c "
import json, sys
t = [json.loads(l)[\"time\"] for l in open(sys.argv[1])]
sys.exit(0 if t[1] - t[0] >= 1.9 else \"second try after %.2f s\" % (t[1] - t[0]))
" "$REC_LOG"
'
stop_recorder

test_expect_success 'a Retry-After beyond the retry budget ends the tries: http_failed, exit 2' '
	start_recorder "[{\"status\":429,\"headers\":{\"Retry-After\":\"120\"}},{\"status\":200}]" &&
	channels "  - {name: hook, type: webhook, url: \"$REC_URL/in\", retry_budget_s: 5}" &&
	test_expect_code 2 hl notify --spec "{\"event\":\"note\",\"title\":\"later\",\"key\":\"k-budget\"}" &&
	test_error out http_failed &&
	test_json_field out .retry_safe true &&
	test_json_field out .details.http_status 429 &&
	test_json_field out .details.retry_after_s 120 &&
	test_json_field out .details.attempts 1 &&
	test "$(requests)" = 1 &&
	test "$(q "SELECT status FROM notifications WHERE key = '"'"'k-budget'"'"'")" = failed
'

test_expect_success 'a failed key is sent by the next call' '
	hl notify --spec "{\"event\":\"note\",\"title\":\"later\",\"key\":\"k-budget\"}" &&
	test_json_field out .data.deliveries.0.status delivered &&
	test "$(requests)" = 2
'
stop_recorder

test_expect_success 'a 4xx other than 429 is not tried again: notify_failed' '
	start_recorder "[{\"status\":403,\"body\":\"forbidden\"}]" &&
	channels "  - {name: hook, type: webhook, url: \"$REC_URL/in\"}" &&
	test_expect_code 2 hl notify --spec "{\"event\":\"note\",\"title\":\"no\",\"key\":\"k-403\"}" &&
	test_error out notify_failed &&
	test_json_field out .details.http_status 403 &&
	test "$(requests)" = 1
'
stop_recorder

test_expect_success 'a server slower than timeout_s is a timeout error (exit 2), not retried' '
	start_recorder "[{\"status\":200,\"delay\":6}]" &&
	channels "  - {name: hook, type: webhook, url: \"$REC_URL/in\", timeout_s: 1}" &&
	test_expect_code 2 hl notify --spec "{\"event\":\"note\",\"title\":\"slow\",\"key\":\"k-slow\"}" &&
	test_error out timeout &&
	test_json_field out .retry_safe true &&
	test_json_field out .details.attempts 1 &&
	test "$(requests)" = 1
'
stop_recorder

test_expect_success 'a refused connection is tried again, then http_failed' '
	start_recorder "[]" && port=${REC_URL##*:} && stop_recorder &&
	channels "  - {name: hook, type: webhook, url: \"http://127.0.0.1:$port/in\", max_attempts: 2}" &&
	test_expect_code 2 hl notify --spec "{\"event\":\"note\",\"title\":\"nobody\",\"key\":\"k-refused\"}" &&
	test_error out http_failed &&
	test_json_field out .details.attempts 2
'

test_expect_success 'one channel of two failing is a partial error; the same call then retries only it' '
	start_recorder "[]" &&
	channels "  - {name: up, type: webhook, url: \"$REC_URL/in\"}
  - {name: down, type: webhook, url: \"http://127.0.0.1:9/in\", max_attempts: 1}" &&
	hl notify --spec "{\"event\":\"note\",\"title\":\"half\",\"key\":\"k-half\"}" &&
	test_json_field out .ok true &&
	test_json_field out .data.delivered 1 &&
	test_json_field out .data.deliveries.0.status delivered &&
	test_json_field out .data.deliveries.1.status failed &&
	test_json_field out .data.deliveries.1.error_code http_failed &&
	test_json_field out .partial_errors.0.code http_failed &&
	hl notify --spec "{\"event\":\"note\",\"title\":\"half\",\"key\":\"k-half\"}" &&
	test_json_field out .idempotent false &&
	test_json_field out .data.deliveries.0.status duplicate &&
	test_json_field out .data.deliveries.1.status failed &&
	test "$(requests)" = 1
'
stop_recorder

test_expect_success SQLITE3 'killed before the send (notify.before_send), the next call sends once' '
	start_recorder "[]" &&
	channels "  - {name: hook, type: webhook, url: \"$REC_URL/in\"}" &&
	echo "{\"event\":\"note\",\"title\":\"crash\",\"key\":\"k-crash1\"}" >crash1.json &&
	test_expect_code 137 env HPCLOOP_FAULT=notify.before_send "$HPCLOOP_BIN" notify --spec crash1.json >/dev/null 2>&1 &&
	test "$(requests)" = 0 &&
	test "$(q "SELECT status FROM notifications WHERE key = '"'"'k-crash1'"'"'")" = sending &&
	hl notify --spec crash1.json &&
	test_json_field out .idempotent false &&
	test_json_field out .data.deliveries.0.status delivered &&
	test "$(requests)" = 1 &&
	test "$(q "SELECT status FROM notifications WHERE key = '"'"'k-crash1'"'"'")" = delivered
'

test_expect_success SQLITE3 'killed after the send (notify.after_send), the next call sends again: at least once' '
	echo "{\"event\":\"note\",\"title\":\"crash\",\"key\":\"k-crash2\"}" >crash2.json &&
	test_expect_code 137 env HPCLOOP_FAULT=notify.after_send "$HPCLOOP_BIN" notify --spec crash2.json >/dev/null 2>&1 &&
	test "$(requests)" = 2 &&
	test "$(q "SELECT status FROM notifications WHERE key = '"'"'k-crash2'"'"'")" = sending &&
	hl notify --spec crash2.json &&
	test_json_field out .data.deliveries.0.status delivered &&
	test "$(requests)" = 3 &&
	hl notify --spec crash2.json &&
	test_json_field out .idempotent true &&
	test "$(requests)" = 3
'
stop_recorder

test_expect_success 'file: the embedded default appends JSON lines' '
	setup_local_config "" &&
	hl notify --spec "{\"event\":\"note\",\"title\":\"to the file\",\"body\":\"b\",\"key\":\"k-file\"}" &&
	test_json_field out .data.deliveries.0.type file &&
	test_json_field out .data.deliveries.0.channel file &&
	hl notify --spec "{\"event\":\"note\",\"title\":\"second\",\"key\":\"k-file2\"}" &&
	test "$(wc -l <.hpcloop/notifications.jsonl)" = 2 &&
	head -1 .hpcloop/notifications.jsonl >line &&
	test_json_field line .title "to the file" &&
	test_json_field line .body b &&
	test_json_field line .key k-file &&
	test "$(stat -c %a .hpcloop/notifications.jsonl)" = 600
'

test_expect_success 'bad input is spec_invalid (exit 1) and leaves the journal as it was' '
	channels "  - {name: hook, type: webhook, url: \"http://127.0.0.1:9/in\"}" &&
	row_counts >before &&
	test_expect_code 1 hl notify --spec "{\"event\":\"note\"}" &&
	test_error out spec_invalid &&
	test_expect_code 1 hl notify --spec "{\"drain\":true,\"title\":\"x\"}" &&
	test_error out spec_invalid &&
	test_expect_code 1 hl notify --spec "{\"event\":\"note\",\"title\":\"x\",\"channel\":\"nope\"}" &&
	test_error out spec_invalid &&
	test_expect_code 1 hl notify --spec "{\"event\":\"note\",\"title\":\"x\",\"colour\":\"red\"}" &&
	test_error out spec_invalid &&
	test_expect_code 1 hl notify --spec "{\"event\":\"Bad Event\",\"title\":\"x\"}" &&
	test_error out spec_invalid &&
	test_expect_code 1 hl notify --spec "{\"drain\":false}" &&
	test_error out spec_invalid &&
	row_counts >after &&
	test_cmp before after
'

test_expect_success 'drain: a finished sprint and its result, a new best, are sent once across two drains' '
	start_recorder "[]" &&
	channels "  - {name: hook, type: webhook, url: \"$REC_URL/in\"}
  - {name: quiet, type: webhook, url: \"$REC_URL/quiet\", events: [loop_finished]}" &&
	submit "notify me" &&
	wait_state "$sprint" completed &&
	hl notify --spec "{\"drain\":true}" &&
	test_json_field out .data.delivered 2 &&
	test_json_field out .data.channels.0.channel hook &&
	test_json_field out .data.channels.0.delivered 2 &&
	test_json_field out .data.channels.1.channel quiet &&
	test_json_field out .data.channels.1.delivered 0 &&
	test "$(requests)" = 2 &&
	test "$(pick 1 json.event)" = completed &&
	test "$(pick 1 json.subject)" = "$sprint" &&
	test "$(pick 1 json.title)" = "sprint $sprint completed" &&
	test "$(pick 2 json.event)" = new_best &&
	pick 2 json.body | grep -q "metric 0.5" &&
	hl notify --spec "{\"drain\":true}" &&
	test_json_field out .data.delivered 0 &&
	test "$(requests)" = 2 &&
	test "$(q "SELECT count(*) FROM notifications WHERE channel = '"'"'hook'"'"' AND key LIKE '"'"'event:%'"'"'")" = 2
'
stop_recorder

test_expect_success 'drain: a failing channel is a partial error and keeps its cursor' '
	start_recorder "[{\"status\":503}]" &&
	channels "  - {name: down, type: webhook, url: \"$REC_URL/in\", max_attempts: 1}" &&
	hl notify --spec "{\"drain\":true}" &&
	test_json_field out .ok true &&
	test_json_field out .data.delivered 0 &&
	test_json_field out .partial_errors.0.code http_failed &&
	test_json_field out .data.channels.0.failed 1 &&
	test "$(requests)" = 1 &&
	stop_recorder &&
	start_recorder "[]" &&
	channels "  - {name: down, type: webhook, url: \"$REC_URL/in\", max_attempts: 1}" &&
	hl notify --spec "{\"drain\":true}" &&
	test_json_field out .data.delivered 2 &&
	test "$(requests)" = 2
'
stop_recorder

test_expect_success SQLITE3 'loop-tick notifies the finish of a loop, once' '
	start_recorder "[]" &&
	RED_TEAM_ROUNDS=0 channels "  - {name: ops, type: ntfy, url: \"$REC_URL\", topic: loops, events: [loop_finished]}" &&
	hl loop-start --spec "{\"study\":\"demo\",\"mode\":\"sprint\",\"count\":1,\"proposer\":\"agent\"}" &&
	loop=$(json_field out .data.loop_id) &&
	i=0 && state=running &&
	while [ "$state" != finished ] && [ $i -lt 240 ]; do
		hl loop-tick --spec "{\"loop_id\":\"$loop\"}" || break
		state=$(json_field out .data.loops.0.state)
		sleep 0.25; i=$((i + 1))
	done &&
	test "$state" = finished &&
	test_json_field out .data.notified 1 &&
	test "$(requests)" = 1 &&
	test "$(pick 1 path)" = /loops &&
	test "$(pick 1 headers.title)" = "loop $loop finished" &&
	test "$(pick 1 headers.tags)" = "hpcloop,loop_finished" &&
	hl loop-tick --spec "{\"loop_id\":\"$loop\"}" &&
	test_json_field out .data.notified 0 &&
	test "$(requests)" = 1
'
stop_recorder

test_expect_success 'eight concurrent drains deliver each event once' '
	start_recorder "[{\"status\":200,\"delay\":0.2}]" &&
	channels "  - {name: many, type: webhook, url: \"$REC_URL/in\"}" &&
	for i in 1 2 3 4 5 6 7 8; do
		"$HPCLOOP_BIN" notify --spec "{\"drain\":true}" >drain$i.out 2>drain$i.err &
	done &&
	wait &&
	tally drain1.out drain2.out drain3.out drain4.out drain5.out drain6.out drain7.out drain8.out &&
	test "$ok" = 8 &&
	total=0 &&
	for i in 1 2 3 4 5 6 7 8; do
		total=$((total + $(json_field drain$i.out .data.delivered)))
	done &&
	n=$(requests) &&
	test "$n" -ge 3 &&
	test "$total" = "$n" &&
	/usr/bin/python3 -c "
import json, sys
keys = [json.loads(l)[\"json\"][\"key\"] for l in open(sys.argv[1])]
sys.exit(0 if len(keys) == len(set(keys)) else \"sent twice: %s\" % keys)
" "$REC_LOG" &&
	hl notify --spec "{\"drain\":true}" &&
	test_json_field out .data.delivered 0 &&
	test "$(requests)" = "$n"
'
stop_recorder

test_expect_success 'loop-tick does not fail when the channel does' '
	channels "  - {name: ops-down, type: webhook, url: \"http://127.0.0.1:9/in\", max_attempts: 1}" &&
	hl loop-tick --spec "{\"loop_id\":\"$loop\"}" &&
	test_json_field out .ok true &&
	test_json_field out .partial_errors.0.code http_failed
'

test_expect_success 'loop-tick without channels drains nothing' '
	setup_local_config "" &&
	hl loop-tick --spec "{\"loop_id\":\"$loop\"}" &&
	test_json_field out .ok true &&
	! grep -q "\"notified\"" out
'

test_done
