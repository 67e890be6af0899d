#!/usr/bin/env bash
#
# With an orchestrator URL the job posts each heartbeat and the
# completion with the sprint's token (read from .hpcloop/token); what
# cannot be sent stays in .hpcloop/spool and heartbeats are sent again on
# later beats.  The receiving end is a small real HTTP server (python3).
# shellcheck disable=SC1090,SC1091,SC2016,SC2034,SC2317  # test idioms
test_description='job script: webhooks and the spool'
. "$(dirname "$0")/lib.sh"

TOKEN=tok-0123456789abcdef

# free_port: print a TCP port on 127.0.0.1 that nothing listens on now.
free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# start_server PORT LOG MODE: run a receiver on PORT that appends one JSON
# line per request to LOG ({"path", "token", "body"}) and answers 200, or
# 500 when MODE is "fail".  SERVER_PID is its pid.
start_server() {
	python3 - "$1" "$2" "$3" <<'PY' &
import http.server, json, sys
port, log, mode = int(sys.argv[1]), sys.argv[2], sys.argv[3]
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(n).decode("utf-8")
        with open(log, "a") as f:
            f.write(json.dumps({"path": self.path,
                                "token": self.headers.get("X-Hpcloop-Token"),
                                "type": self.headers.get("Content-Type"),
                                "body": json.loads(body)}) + "\n")
        self.send_response(500 if mode == "fail" else 200)
        self.send_header("Content-Length", "0")
        self.end_headers()
    def log_message(self, *a):
        pass
http.server.ThreadingHTTPServer(("127.0.0.1", port), H).serve_forever()
PY
	SERVER_PID=$!
	wait_for 10 curl -s -o /dev/null "http://127.0.0.1:$1/"
}

# stop_server: end the receiver.
stop_server() {
	kill "$SERVER_PID" 2>/dev/null
	wait "$SERVER_PID" 2>/dev/null
	return 0
}

if command -v python3 >/dev/null && command -v curl >/dev/null; then
	test_set_prereq SERVER
else
	test_lack_prereq SERVER "no python3 or no curl"
fi

test_expect_success 'a URL that refuses connections: spool files kept' '
	port=$(free_port) &&
	make_sprint "$TRASH/refused" rounds=0 url="http://127.0.0.1:$port" \
		token="$TOKEN" &&
	run_job "$TRASH/refused" FAKE_AGENT_SLEEP=1 &&
	[[ $JOB_RC == 0 ]] &&
	test_json_field "$SPRINT/completion.json" status completed &&
	ls "$SPRINT"/.hpcloop/spool/heartbeat-*.json >spooled &&
	(($(wc -l <spooled) >= 2)) &&
	[[ -f $SPRINT/.hpcloop/spool/heartbeat-1.json ]] &&
	cmp "$SPRINT/completion.json" "$SPRINT/.hpcloop/spool/complete.json" &&
	test_must_contain "$SPRINT/sprint_log.txt" "completion not sent" &&
	test_must_contain "$SPRINT/.hpcloop/curl.log" "curl: (7)"
'

test_expect_success 'the token is in no log and not in the script' '
	! grep -rqF "$TOKEN" "$TRASH/refused/job.sh" "$TRASH/refused/job.out" \
		"$SPRINT/sprint_log.txt" "$SPRINT/.hpcloop/curl.log" \
		"$SPRINT/heartbeats.jsonl" "$SPRINT/completion.json"
'

test_expect_success SERVER 'a live orchestrator gets every beat and the completion' '
	port=$(free_port) &&
	start_server "$port" "$TRASH/live.log" ok &&
	make_sprint "$TRASH/live" rounds=0 url="http://127.0.0.1:$port/" \
		token="$TOKEN" &&
	run_job "$TRASH/live" FAKE_AGENT_SLEEP=1 &&
	stop_server &&
	[[ $JOB_RC == 0 ]] &&
	[[ -z $(ls -A "$SPRINT/.hpcloop/spool") ]] &&
	grep -c "\"path\": \"/api/webhook/heartbeat\"" "$TRASH/live.log" >n &&
	[[ $(cat n) == $(($(wc -l <"$SPRINT/heartbeats.jsonl") - 1)) ]] &&
	[[ $(grep -c "/api/webhook/complete" "$TRASH/live.log") == 1 ]] &&
	[[ $(grep -c "\"token\": \"$TOKEN\"" "$TRASH/live.log") == \
		$(wc -l <"$TRASH/live.log") ]] &&
	[[ $(grep -c "\"type\": \"application/json\"" "$TRASH/live.log") == \
		$(wc -l <"$TRASH/live.log") ]] &&
	grep "/api/webhook/complete" "$TRASH/live.log" >complete &&
	test_json_field complete body.status completed &&
	test_json_field complete body.sprint_id sp-7e57ab
'

test_expect_success SERVER 'an orchestrator that answers 500: spooled, not sent' '
	port=$(free_port) &&
	start_server "$port" "$TRASH/fail.log" fail &&
	make_sprint "$TRASH/fail" rounds=0 url="http://127.0.0.1:$port" \
		token="$TOKEN" &&
	run_job "$TRASH/fail" &&
	stop_server &&
	[[ $JOB_RC == 0 ]] &&
	[[ -f $SPRINT/.hpcloop/spool/complete.json ]] &&
	[[ -f $SPRINT/.hpcloop/spool/heartbeat-1.json ]]
'

test_expect_success SERVER 'spooled beats are sent when the orchestrator comes up' '
	port=$(free_port) &&
	make_sprint "$TRASH/late" rounds=0 url="http://127.0.0.1:$port" \
		token="$TOKEN" &&
	start_job "$TRASH/late" FAKE_AGENT_SLEEP=2 &&
	wait_for 10 test -f "$SPRINT/.hpcloop/spool/heartbeat-3.json" &&
	start_server "$port" "$TRASH/late.log" ok &&
	wait_job 20 &&
	stop_server &&
	[[ $JOB_RC == 0 ]] &&
	[[ -z $(ls -A "$SPRINT/.hpcloop/spool") ]] &&
	for seq in 1 2 3; do
		grep -q "\"seq\": $seq," "$TRASH/late.log" || return 1
	done
'

test_expect_success 'without a token nothing is sent, all is spooled' '
	port=$(free_port) &&
	make_sprint "$TRASH/notoken" rounds=0 url="http://127.0.0.1:$port" &&
	run_job "$TRASH/notoken" &&
	[[ $JOB_RC == 0 ]] &&
	test_must_contain "$SPRINT/sprint_log.txt" \
		".hpcloop/token is missing or malformed" &&
	[[ -f $SPRINT/.hpcloop/spool/complete.json ]]
'

test_done
