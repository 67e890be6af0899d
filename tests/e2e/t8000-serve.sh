#!/bin/sh
test_description='hpcloop serve: the HTTP API of the registry, API tokens, job webhooks, the remote CLI'
# Issue 12 items 1, 2, 3, 4 (API tokens), 6 and 9.  A real server on
# 127.0.0.1 (a free port) is driven with the real curl: every endpoint,
# every auth failure refused with its HTTP status and an envelope, the
# body cap, upload traversal, SIGTERM with a request in flight, the job
# script's own posts end to end, the remote CLI against local calls, and
# 16 concurrent submit-flow calls making one sprint.
. "$(dirname "$0")/lib.sh"

SECRET='s3cret "with" \ odd $chars'
PY=/usr/bin/python3

command -v curl >/dev/null 2>&1 && test_set_prereq CURL
command -v openssl >/dev/null 2>&1 && test_set_prereq OPENSSL
if [ -e /usr/lib/x86_64-linux-gnu/libmicrohttpd.so.12 ] ||
	ldconfig -p 2>/dev/null | grep -q libmicrohttpd.so.12; then
	test_set_prereq MHD
else
	require_component mhd "libmicrohttpd12 is not installed"
fi

free_port () {
	$PY -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# start_serve OUT [ARGS...]: start `hpcloop serve` (with the variables
# of SERVE_ENV) with stdout in OUT, wait for its one line; SERVE_PID and
# SERVE_URL are set.
start_serve () {
	o=$1
	shift
	env ${SERVE_ENV:-} "$HPCLOOP_BIN" serve "$@" >"$o" 2>"$o.err" &
	SERVE_PID=$!
	wait_for_line "$o" || return 1
	SERVE_URL=$(json_field "$o" .data.url)
}

wait_for_line () {
	i=0
	while [ $i -lt 100 ]; do
		[ -s "$1" ] && return 0
		kill -0 $SERVE_PID 2>/dev/null || { cat "$1.err" >&2; return 1; }
		sleep 0.1
		i=$((i + 1))
	done
	return 1
}

stop_serve () {
	kill -TERM "$1" 2>/dev/null
	wait "$1"
}

# req METHOD PATH [CURL-ARGS...]: the answer's body in ./resp, its status
# in ./code.
req () {
	m=$1 p=$2
	shift 2
	curl -s -o resp -w '%{http_code}' -X "$m" "$@" "$URL$p" >code
}

# api NAME SPEC [TOKEN]: POST /v1/p/NAME with the token (default $TOK).
api () {
	req POST "/v1/p/$1" -H "Authorization: Bearer ${3-$TOK}" \
		--data-binary "$2"
}

want () {
	[ "$(cat code)" = "$1" ] || { echo "HTTP $(cat code), wanted $1" >&2; cat resp >&2; return 1; }
}

# sign FILE [TS]: X-Hpcloop-* header args for FILE's body in ./sighdr,
# signed with the sprint's own key (the HMAC under the orchestrator
# secret of "hpcloop-sprint:ID", as hpcloop derives it): the sprint of
# the body's sprint_id, or $SIGN_SPRINT for an artifact.
sign () {
	ts=${2:-$(date +%s)}
	sid=${SIGN_SPRINT:-$(/usr/bin/python3 -c 'import json,sys
try: print(json.load(open(sys.argv[1])).get("sprint_id", ""))
except Exception: print("")' "$1")}
	key=$(printf 'hpcloop-sprint:%s' "$sid" |
		openssl dgst -sha256 -hmac "$SECRET" | sed 's/.*= //')
	sig=$({ printf '%s.' "$ts"; cat "$1"; } |
		openssl dgst -sha256 -hmac "$key" | sed 's/.*= //')
	printf '%s\n%s\n' "X-Hpcloop-Timestamp: $ts" "X-Hpcloop-Signature: $sig" >sighdr
}

# hook KIND FILE TOKEN [QUERY]: POST the webhook signed by sign.
hook () {
	h1=$(sed -n 1p sighdr) h2=$(sed -n 2p sighdr)
	req POST "/api/webhook/$1${4:+?$4}" -H "Authorization: Bearer $3" \
		-H "$h1" -H "$h2" -H "Content-Type: application/json" \
		--data-binary "@$2"
}

test_expect_success MHD,CURL 'setup: a config with an orchestrator secret and URL, a server on a free port' '
	PORT=$(free_port) &&
	setup_local_config "orchestrator_url: http://127.0.0.1:$PORT
orchestrator_secret: \"s3cret \\\"with\\\" \\\\ odd \$chars\"" &&
	start_serve serve.out --listen "127.0.0.1:$PORT" &&
	test $(wc -l <serve.out) = 1 &&
	test_json_field serve.out .ok true &&
	test_json_field serve.out .primitive serve &&
	test_json_field serve.out .data.url "http://127.0.0.1:$PORT" &&
	test_json_field serve.out .data.pid $SERVE_PID &&
	URL=$SERVE_URL && SERVE_PID_MAIN=$SERVE_PID
'

test_expect_success MHD,CURL 'token-create prints the token once; token-list never shows it or its hash' '
	hl token-create --spec "{\"name\":\"ci\"}" &&
	json_field out .data.token >tok &&
	grep -qE "^hpc_[0-9a-f]{6}_[0-9a-f]{64}\$" tok &&
	hl token-create --spec "{\"name\":\"ro\",\"read_only\":true}" &&
	json_field out .data.token >rotok &&
	hl token-create --spec "{\"name\":\"old\"}" &&
	json_field out .data.token >oldtok &&
	hl token-revoke --spec "{\"name\":\"old\"}" &&
	test_json_field out .data.changed true &&
	hl token-list &&
	test_json_field out .data.count 3 &&
	! grep -qF "$(cat tok)" out && ! grep -qF "$(cut -c12- tok)" out &&
	hash=$(printf %s "$(cat tok)" | sha256sum | cut -c1-64) &&
	! grep -q "$hash" out &&
	! grep -rqF "$(cat tok)" .hpcloop/journal.db &&
	test_expect_code 1 hl token-create --spec "{\"name\":\"ci\"}" &&
	test_error out conflict &&
	test_expect_code 1 hl token-create --spec "{\"name\":\"\"}" &&
	test_error out spec_invalid
'
TOK=$(cat tok 2>/dev/null)
ROTOK=$(cat rotok 2>/dev/null)
OLDTOK=$(cat oldtok 2>/dev/null)

test_expect_success MHD,CURL 'POST /v1/p/NAME runs the primitive: the same envelope as the CLI' '
	api status "{}" && want 200 &&
	hl status && test_cmp out resp &&
	api study-list "" && want 200 && test_json_field resp .primitive study-list &&
	api events "{\"since\":\"x\"}" && want 400 && test_error resp spec_invalid &&
	api nosuch "{}" && want 400 && test_error resp unknown_primitive &&
	api events "{not json" && want 400 && test_error resp spec_invalid &&
	api cancel "{\"sprint_id\":\"sp-ffffff\"}" && want 400 && test_error resp not_found &&
	req GET /v1/p/status -H "Authorization: Bearer $TOK" && want 404 &&
	test_error resp not_found &&
	req GET /nowhere && want 404 && test_error resp not_found
'

test_expect_success MHD,CURL 'GET /v1/catalog is what `list` prints' '
	req GET /v1/catalog -H "Authorization: Bearer $TOK" && want 200 &&
	hl list && test_cmp out resp
'

test_expect_success MHD,CURL 'every API auth failure is refused with its status and an envelope' '
	row_counts >before &&
	req POST /v1/p/status --data-binary "{}" && want 401 && test_error resp unauthorized &&
	req GET /v1/catalog && want 401 && test_error resp unauthorized &&
	req GET /v1/events && want 401 && test_error resp unauthorized &&
	api status "{}" "hpc_000000_$(printf %064d 0)" && want 401 && test_error resp unauthorized &&
	api status "{}" "$(echo "$TOK" | sed "s/.\$/x/")" && want 401 && test_error resp unauthorized &&
	api status "{}" "not-a-token" && want 401 && test_error resp unauthorized &&
	api status "{}" "$OLDTOK" && want 401 && test_error resp unauthorized &&
	grep -q revoked resp &&
	api token-create "{\"name\":\"x\"}" "$ROTOK" && want 403 && test_error resp forbidden &&
	api cancel "{\"sprint_id\":\"sp-ffffff\"}" "$ROTOK" && want 403 && test_error resp forbidden &&
	row_counts >after && test_cmp before after &&
	api status "{}" "$ROTOK" && want 200 && test_json_field resp .ok true &&
	req GET /v1/catalog -H "Authorization: Bearer $ROTOK" && want 200 &&
	hl token-list &&
	tr "{" "\n" <out | grep "\"name\":\"ro\"" | grep -q "\"last_used_at\":\"20" &&
	tr "{" "\n" <out | grep "\"name\":\"old\"" | grep -q "\"last_used_at\":null"
'

test_expect_success MHD,CURL 'the number of open event streams is bounded' '
	pids= &&
	for i in 1 2 3 4 5 6 7 8; do
		curl -s -N --max-time 3 -H "Authorization: Bearer $TOK" \
			"$URL/v1/events?since=0" >"stream.$i" &
		pids="$pids $!"
	done &&
	sleep 1 &&
	req GET /v1/events -H "Authorization: Bearer $TOK" && want 503 &&
	test_error resp journal_busy &&
	api status "{}" && want 200 &&
	wait $pids;
	for i in 1 2 3 4 5 6 7 8; do grep -qx "id: 1" "stream.$i" || { head -c 300 stream.$i; return 1; }; done &&
	# Closed streams are noticed at their next keepalive (5 s).
	i=0 && while [ $i -lt 12 ]; do
		curl -s -N --max-time 1 -H "Authorization: Bearer $TOK" "$URL/v1/events" >again
		grep -qx "id: 1" again && break
		sleep 1; i=$((i + 1))
	done &&
	grep -qx "id: 1" again
'

test_expect_success MHD,CURL 'a body over the cap is refused with 413' '
	head -c 1100000 /dev/zero | tr "\\0" " " >big &&
	req POST /v1/p/status -H "Authorization: Bearer $TOK" --data-binary @big &&
	want 413 && test_error resp payload_too_large
'

test_expect_success MHD,CURL 'GET /v1/events streams server-sent events; Last-Event-ID resumes' '
	curl -s -N --max-time 2 -H "Authorization: Bearer $TOK" -D hdr \
		"$URL/v1/events?since=0" >sse; test $? = 28 &&
	grep -qi "^content-type: text/event-stream" hdr &&
	grep -qx "id: 1" sse && grep -qx "event: journal.init" sse &&
	grep -q "^data: {\"id\":1," sse &&
	last=$(sed -n "s/^id: //p" sse | tail -1) &&
	test "$last" -ge 4 &&
	curl -s -N --max-time 2 -H "Authorization: Bearer $TOK" \
		-H "Last-Event-ID: 2" "$URL/v1/events" >sse2; test $? = 28 &&
	test "$(sed -n "s/^id: //p" sse2 | head -1)" = 3 &&
	curl -s -N --max-time 2 -H "Authorization: Bearer $TOK" \
		"$URL/v1/events?since=$last" >sse3; test $? = 28 &&
	! grep -q "^id:" sse3 &&
	true
'

test_expect_success MHD,CURL 'a new event reaches an open stream' '
	hl events --spec "{\"tail\":1}" && last=$(json_field out .data.next) ||
		return 1
	(curl -s -N --max-time 3 -H "Authorization: Bearer $TOK" \
		"$URL/v1/events?since=$last" >live; true) &
	cpid=$!
	sleep 0.5 &&
	hl annotate --spec "{\"subject\":\"t8000\",\"text\":\"streamed\"}" &&
	wait $cpid &&
	grep -q "streamed" live && grep -qx "event: note" live
'

test_expect_success MHD,CURL 'the remote CLI gives the same bytes and exit codes as local calls' '
	for spec in "status {}" "study-list {}" "token-list {}" "events {\"tail\":3}" \
		"events {\"since\":\"x\"}" "cancel {\"sprint_id\":\"sp-ffffff\"}" \
		"nosuch {}" "help {\"name\":\"status\"}"; do
		p=${spec%% *} s=${spec#* } &&
		{ "$HPCLOOP_BIN" $p --spec "$s" >local; lrc=$?; } &&
		{ HPCLOOP_API_TOKEN=$TOK "$HPCLOOP_BIN" $p --spec "$s" --server "$URL" >remote; rrc=$?; } &&
		{ test_cmp local remote && test $lrc = $rrc ||
			{ echo "$spec: $lrc vs $rrc"; return 1; }; } || return 1
	done &&
	export HPCLOOP_API_TOKEN="$TOK" HPCLOOP_SERVER="$URL/" &&
	hl status && test_json_field out .ok true &&
	unset HPCLOOP_SERVER && HPCLOOP_API_TOKEN=$ROTOK &&
	test_expect_code 1 hl token-create --spec "{\"name\":\"r\"}" --server "$URL" &&
	unset HPCLOOP_API_TOKEN &&
	test_error out forbidden &&
	test_expect_code 1 env -u HPCLOOP_API_TOKEN "$HPCLOOP_BIN" status --server "$URL" >out &&
	test_error out unauthorized
'

test_expect_success MHD,CURL 'an unreachable server is server_unreachable, exit 2' '
	port=$(free_port) &&
	export HPCLOOP_API_TOKEN="$TOK" &&
	test_expect_code 2 hl status --server "http://127.0.0.1:$port" &&
	unset HPCLOOP_API_TOKEN &&
	test_error out server_unreachable &&
	test_json_field out .retry_safe true
'

test_expect_success MHD,CURL 'the token is on no command line of the remote CLI' '
	export HPCLOOP_API_TOKEN="$TOK" &&
	("$HPCLOOP_BIN" status --server "$URL" >out 2>err & p=$!;
	 tr "\0" " " </proc/$p/cmdline >cmdline; wait $p) &&
	unset HPCLOOP_API_TOKEN &&
	test_json_field out .ok true &&
	! grep -qF "$TOK" cmdline err
'

test_expect_success MHD,CURL 'the job script posts its heartbeats to the server; status shows them' '
	FAKE_AGENT_SLEEP=4 submit "pushed heartbeats" &&
	a=$sprint a_dir=$sprint_dir &&
	test -f "$a_dir/.hpcloop/secret" &&
	test "$(stat -c %a "$a_dir/.hpcloop/secret")" = 600 &&
	i=0 && while [ $i -lt 100 ]; do
		n=$(sqlite3 .hpcloop/journal.db "SELECT count(*) FROM heartbeats WHERE sprint_id = '\''$a'\'' AND source = '\''push'\''") &&
		[ "$n" -ge 2 ] && break
		sleep 0.1; i=$((i + 1))
	done &&
	[ "$n" -ge 2 ] &&
	test "$(sqlite3 .hpcloop/journal.db "SELECT state FROM sprints WHERE id = '\''$a'\''")" = running &&
	hl status --spec "{\"sprint_id\":\"$a\"}" &&
	test_json_field out .data.sprints.0.state running &&
	json_field out .data.sprints.0.phase | grep -q "running" &&
	! grep -qF "$(cat "$a_dir/.hpcloop/token")" out &&
	! grep -rqF "$SECRET" "$a_dir/.hpcloop/curl.log" "$a_dir/sprint_log.txt" 2>/dev/null &&
	wait_state "$a" completed 60 &&
	test "$(sqlite3 .hpcloop/journal.db "SELECT count(*) FROM events WHERE type = '\''sprint.claimed'\'' AND subject = '\''$a'\''")" = 1 &&
	echo "$a" >sprint_a && echo "$a_dir" >sprint_a_dir
'
A=$(cat sprint_a 2>/dev/null)
A_DIR=$(cat sprint_a_dir 2>/dev/null)

test_expect_success MHD,CURL,OPENSSL 'webhook auth failures: token, another sprint, signature, stale, future, replay' '
	FAKE_AGENT_SLEEP=30 submit "second sprint" &&
	b=$sprint b_dir=$sprint_dir && btok=$(cat "$b_dir/.hpcloop/token") &&
	atok=$(cat "$A_DIR/.hpcloop/token") &&
	printf "{\"seq\":900,\"sprint_id\":\"%s\",\"phase\":\"running (x)\"}" "$b" >hb &&
	stored900 () { sqlite3 .hpcloop/journal.db "SELECT count(*) FROM heartbeats WHERE sprint_id = '\''$b'\'' AND seq = 900"; } &&
	sign hb && req POST /api/webhook/heartbeat -H "$(sed -n 1p sighdr)" \
		-H "$(sed -n 2p sighdr)" --data-binary @hb &&
	want 401 && test_error resp unauthorized &&
	sign hb && hook heartbeat hb "$atok" && want 401 && test_error resp unauthorized &&
	grep -q "not the token of sprint" resp &&
	sign hb && hook heartbeat hb "$TOK" && want 401 &&
	sign hb $(($(date +%s) - 400)) && hook heartbeat hb "$btok" && want 401 &&
	grep -q stale resp &&
	sign hb $(($(date +%s) + 400)) && hook heartbeat hb "$btok" && want 401 &&
	grep -q future resp &&
	printf "%s\n%s\n" "X-Hpcloop-Timestamp: $(date +%s)" \
		"X-Hpcloop-Signature: $(printf %064d 0)" >sighdr &&
	hook heartbeat hb "$btok" && want 401 && grep -q "does not match" resp &&
	printf "%s\n" "X-Hpcloop-Timestamp: $(date +%s)" >sighdr &&
	hook heartbeat hb "$btok" && want 401 && grep -q "no X-Hpcloop-Signature" resp &&
	sign hb && cp hb hb2 && printf " " >>hb2 && hook heartbeat hb2 "$btok" && want 401 &&
	test "$(stored900)" = 0 &&
	sign hb && hook heartbeat hb "$btok" && want 200 &&
	test_json_field resp .primitive heartbeat-ingest &&
	test_json_field resp .data.stored 1 &&
	hook heartbeat hb "$btok" && want 401 && grep -q replay resp &&
	test "$(sqlite3 .hpcloop/journal.db "SELECT source FROM heartbeats WHERE sprint_id = '\''$b'\'' AND seq = 900")" = push &&
	echo "$b" >sprint_b && echo "$b_dir" >sprint_b_dir
'
B=$(cat sprint_b 2>/dev/null)
B_DIR=$(cat sprint_b_dir 2>/dev/null)

test_expect_success MHD,CURL,OPENSSL 'a heartbeat never moves a finished sprint; a completion is a claim' '
	atok=$(cat "$A_DIR/.hpcloop/token") &&
	printf "{\"seq\":901,\"sprint_id\":\"%s\",\"phase\":\"running (late)\"}" "$A" >late &&
	sign late && hook heartbeat late "$atok" && want 400 && test_error resp conflict &&
	hl status --spec "{\"sprint_id\":\"$A\"}" &&
	test_json_field out .data.sprints.0.state completed &&
	printf "{\"sprint_id\":\"%s\",\"status\":\"failed\",\"summary\":\"late\"}" "$A" >done &&
	sign done && hook complete done "$atok" && want 200 &&
	test_json_field resp .data.state completed &&
	test_json_field resp .idempotent true
'

test_expect_success MHD,CURL,OPENSSL 'artifact upload: written under the store; traversal and links refused' '
	btok=$(cat "$B_DIR/.hpcloop/token") &&
	printf "result 1\n" >art &&
	SIGN_SPRINT=$B sign art && hook artifact art "$btok" "sprint_id=$B&name=result.txt" && want 200 &&
	test_json_field resp .data.size 9 &&
	cmp art ".hpcloop/artifacts/$B/result.txt" &&
	n=0 &&
	for name in ../escape.txt a/b .hidden .. "x%00y" "..%2fx" "%2e%2e" ""; do
		n=$((n + 1)) && echo "$n" >art.$n && SIGN_SPRINT=$B sign art.$n && hook artifact art.$n "$btok" "sprint_id=$B&name=$name" &&
		want 400 && test_error resp spec_invalid || { echo "name $name"; return 1; }
	done &&
	! test -e .hpcloop/artifacts/escape.txt && ! test -e .hpcloop/escape.txt &&
	echo outside >outside && ln -s "$PWD/outside" ".hpcloop/artifacts/$B/link.txt" &&
	echo linked >link.body && SIGN_SPRINT=$B sign link.body && hook artifact link.body "$btok" "sprint_id=$B&name=link.txt" && want 200 &&
	test "$(cat outside)" = outside && ! test -L ".hpcloop/artifacts/$B/link.txt" &&
	atok=$(cat "$A_DIR/.hpcloop/token") &&
	SIGN_SPRINT=$B sign art && hook artifact art "$atok" "sprint_id=$B&name=other.txt" && want 401 &&
	! test -e ".hpcloop/artifacts/$B/other.txt" &&
	head -c 17000000 /dev/zero >huge && SIGN_SPRINT=$B sign huge &&
	hook artifact huge "$btok" "sprint_id=$B&name=huge.bin" && want 413 &&
	hl cancel --spec "{\"sprint_id\":\"$B\"}"
'

test_expect_success MHD,CURL 'a server without a secret takes no webhooks' '
	env -u HPCLOOP_ORCHESTRATOR_SECRET "$HPCLOOP_BIN" serve --listen 127.0.0.1:0 \
		--config /dev/null/none >s2.out 2>s2.err &
	pid=$! && SERVE_PID=$pid && wait_for_line s2.out &&
	u=$(json_field s2.out .data.url) &&
	curl -s -o resp -w "%{http_code}" -X POST --data-binary "{\"sprint_id\":\"sp-000000\"}" \
		"$u/api/webhook/heartbeat" >code &&
	want 400 && test_error resp precondition_failed &&
	stop_serve $pid
'

test_expect_success MHD,CURL 'port 0 picks a free port; a bad --listen is refused' '
	start_serve s3.out --listen 127.0.0.1:0 &&
	pid=$SERVE_PID &&
	port=$(json_field s3.out .data.url | sed "s/.*://") && test "$port" -gt 0 &&
	curl -s -o /dev/null -w "%{http_code}" "http://127.0.0.1:$port/v1/catalog" >code &&
	want 401 && stop_serve $pid &&
	test_expect_code 1 "$HPCLOOP_BIN" serve --listen nonsense >out &&
	test $(wc -l <out) = 1 && test_error out usage &&
	test_expect_code 1 "$HPCLOOP_BIN" serve --listen 127.0.0.1:99999 >out &&
	test_error out usage &&
	test_expect_code 1 "$HPCLOOP_BIN" serve --listen "127.0.0.1:$PORT" >out &&
	test_error out precondition_failed
'

test_expect_success MHD,CURL '16 concurrent POSTs of one submit-flow spec make one sprint' '
	spec="{\"study\":\"demo\",\"idea\":\"raced over http\"}" &&
	pids= &&
	for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16; do
		curl -s -o "race.$i" -H "Authorization: Bearer $TOK" \
			--data-binary "$spec" "$URL/v1/p/submit-flow" &
		pids="$pids $!"
	done && wait $pids &&
	test "$(sqlite3 .hpcloop/journal.db "SELECT count(*) FROM sprints WHERE idea = '\''raced over http'\''")" = 1 &&
	for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16; do
		grep -q "\"ok\":true" "race.$i" && json_field "race.$i" .data.sprint_id
		grep -q "\"ok\":false" "race.$i" && json_field "race.$i" .error_code
	done | sort -u >ids &&
	cat ids &&
	test "$(grep -c "^sp-" ids)" = 1 &&
	! grep -v "^sp-" ids | grep -vx in_progress &&
	hl cancel --spec "{\"sprint_id\":\"$(grep "^sp-" ids)\"}"
'

test_expect_success MHD,CURL 'SIGTERM with a request in flight: it completes, the server exits 0' '
	SERVE_ENV=HPCLOOP_FAULT=serve.before_answer:sleep2 &&
	start_serve s4.out --listen 127.0.0.1:0 && SERVE_ENV= &&
	pid=$SERVE_PID && u=$SERVE_URL || return 1
	(curl -s -o slow -w "%{http_code}" -H "Authorization: Bearer $TOK" \
		--data-binary "{}" "$u/v1/p/status" >slow.code) &
	cpid=$!
	i=0 && while ! grep -q "fault point serve.before_answer: sleeping" s4.out.err; do
		sleep 0.1; i=$((i + 1)); [ $i -lt 50 ] || return 1
	done &&
	kill -TERM $pid &&
	wait $cpid && test "$(cat slow.code)" = 200 && test_json_field slow .ok true &&
	wait $pid && test $(wc -l <s4.out) = 1
'

test_expect_success MHD,CURL 'killed at serve.before_answer: the client sees no answer, the journal stays whole' '
	SERVE_ENV=HPCLOOP_FAULT=serve.before_answer &&
	start_serve s5.out --listen 127.0.0.1:0 && SERVE_ENV= &&
	pid=$SERVE_PID && u=$SERVE_URL &&
	! curl -sf -H "Authorization: Bearer $TOK" --data-binary "{}" \
		"$u/v1/p/status" &&
	{ wait $pid; test $? = 137; } &&
	hl doctor && test_json_field out .ok true
'

test_expect_success MHD,CURL 'SIGTERM on an idle server: exit 0, one line on stdout' '
	stop_serve $SERVE_PID_MAIN && test $(wc -l <serve.out) = 1 &&
	! curl -s "$URL/v1/catalog"
'

test_done
