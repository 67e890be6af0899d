#!/usr/bin/env bash
#
# With an orchestrator URL the job posts each heartbeat and the
# completion with the sprint's token (read from .hpcloop/token) as
# "Authorization: Bearer"; what cannot be sent stays in .hpcloop/spool
# and heartbeats are sent again on later beats.  The URL and the token
# reach curl in a config on its stdin, never in its argv (which ps shows
# to every user of a compute node): a recording curl first on PATH proves
# it, and the receiving end is a small real HTTP server (python3's
# standard library) that records what the real curl sent.
# shellcheck disable=SC1090,SC1091,SC2016,SC2034,SC2317  # test idioms
test_description='job script: webhooks and the spool'
. "$(dirname "$0")/lib.sh"

TOKEN=tok-0123456789abcdef
PYTHON=/usr/bin/python3
[[ -x $PYTHON ]] || PYTHON=$(command -v python3)
REAL_CURL=$(command -v curl)

# free_port: print a TCP port on 127.0.0.1 that nothing listens on now.
free_port() {
	"$PYTHON" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# start_server PORT LOG MODE: run a receiver on PORT that appends one JSON
# line per request to LOG ({"path", "auth", "type", "test", "body"}, the
# last the body as JSON, or as text when it is not JSON) and answers 200,
# or 500 when MODE is "fail".  SERVER_PID is its pid.
start_server() {
	"$PYTHON" - "$1" "$2" "$3" <<'PY' &
import http.server, json, sys
port, log, mode = int(sys.argv[1]), sys.argv[2], sys.argv[3]
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(n).decode("utf-8")
        try:
            body = json.loads(body)
        except ValueError:
            pass
        with open(log, "a") as f:
            f.write(json.dumps({"path": self.path,
                                "auth": self.headers.get("Authorization"),
                                "type": self.headers.get("Content-Type"),
                                "test": self.headers.get("X-Test"),
                                "body": body}) + "\n")
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

# recording_curl DIR: put DIR/bin/curl, a curl that records its argv (one
# argument per line) in DIR/calls/N.argv and its stdin in DIR/calls/N.in,
# then runs the real curl with both.
recording_curl() {
	mkdir -p "$1/bin" "$1/calls" &&
	cat >"$1/bin/curl" <<-CURL &&
	#!/usr/bin/env bash
	n=\$(date +%s%N).\$\$
	printf '%s\n' "\$@" >"$1/calls/\$n.argv"
	cat >"$1/calls/\$n.in"
	exec "$REAL_CURL" "\$@" <"$1/calls/\$n.in"
	CURL
	chmod +x "$1/bin/curl"
}

if [[ -n $PYTHON && -n $REAL_CURL ]]; then
	test_set_prereq SERVER
else
	test_lack_prereq SERVER "no python3 or no curl"
fi

test_expect_success SERVER 'a URL that refuses connections: spool files kept' '
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

test_expect_success SERVER 'the token is in no log and not in the script' '
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
	[[ $(grep -c "\"auth\": \"Bearer $TOKEN\"" "$TRASH/live.log") == \
		$(wc -l <"$TRASH/live.log") ]] &&
	[[ $(grep -c "\"type\": \"application/json\"" "$TRASH/live.log") == \
		$(wc -l <"$TRASH/live.log") ]] &&
	grep "/api/webhook/complete" "$TRASH/live.log" >complete &&
	test_json_field complete body.status completed &&
	test_json_field complete body.sprint_id sp-7e57ab
'

test_expect_success SERVER 'the URL and the token reach curl on stdin, never in argv' '
	port=$(free_port) &&
	url="http://127.0.0.1:$port/k-5ecret-path" &&
	start_server "$port" "$TRASH/argv.log" ok &&
	recording_curl "$TRASH/rec" &&
	make_sprint "$TRASH/argv" rounds=0 url="$url" token="$TOKEN" &&
	run_job "$TRASH/argv" FAKE_AGENT_SLEEP=1 \
		PATH="$TRASH/rec/bin:$PATH" &&
	stop_server &&
	[[ $JOB_RC == 0 ]] &&
	ls "$TRASH"/rec/calls/*.argv >calls &&
	n=$(wc -l <calls) &&
	((n >= 2)) &&
	[[ $(wc -l <"$TRASH/argv.log") == "$n" ]] &&
	for f in $(cat calls); do
		! grep -qF -e "$TOKEN" -e k-5ecret-path -e "127.0.0.1:$port" \
			"$f" || { echo "in argv: $(cat "$f")"; return 1; }
		grep -qxF -- --config "$f" &&
		grep -qx -- - "$f" &&
		grep -qE "^url = \"$url/api/webhook/(heartbeat|complete)\"\$" \
			"${f%.argv}.in" &&
		grep -qxF "header = \"Authorization: Bearer $TOKEN\"" \
			"${f%.argv}.in" || return 1
	done &&
	grep -c "\"path\": \"/k-5ecret-path/api/webhook/" "$TRASH/argv.log" >n &&
	[[ $(cat n) == "$(wc -l <"$TRASH/argv.log")" ]] &&
	[[ $(grep -c "\"auth\": \"Bearer $TOKEN\"" "$TRASH/argv.log") == \
		"$(wc -l <"$TRASH/argv.log")" ]]
'

test_expect_success SERVER 'quotes and backslashes survive the curl config' '
	port=$(free_port) &&
	start_server "$port" "$TRASH/quote.log" ok &&
	value="a \"quoted\" \\\\back\\slash\\\" end\\" &&
	(
		cd "$SPRINT" && . "$TRASH/argv/job.sh" &&
		curl_quote "http://127.0.0.1:$port/q\"\\" && u=$JSON_OUT &&
		curl_quote "X-Test: $value" && h=$JSON_OUT &&
		printf "url = %s\nheader = %s\n" "$u" "$h" |
			"$REAL_CURL" --fail -sS --config - --data-binary x \
				-o /dev/null
	) &&
	stop_server &&
	printf "%s\n" "$value" >expect &&
	jt get "$TRASH/quote.log" test >got &&
	cmp expect got &&
	jt get "$TRASH/quote.log" path >got &&
	printf "%s\n" "/q\"\\" >expect &&
	cmp expect got
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
	start_job "$TRASH/late" FAKE_AGENT_WAIT_FILE="$TRASH/late/go" &&
	wait_for 10 test -f "$SPRINT/.hpcloop/spool/heartbeat-3.json" &&
	start_server "$port" "$TRASH/late.log" ok &&
	wait_for 10 eval "! ls \"\$SPRINT\"/.hpcloop/spool/heartbeat-* \
		>/dev/null 2>&1" &&
	touch "$TRASH/late/go" &&
	wait_job 20 &&
	stop_server &&
	[[ $JOB_RC == 0 ]] &&
	[[ -z $(ls -A "$SPRINT/.hpcloop/spool") ]] &&
	for seq in 1 2 3; do
		grep -q "\"seq\": $seq," "$TRASH/late.log" || return 1
	done
'

test_expect_success SERVER 'without a token nothing is sent, all is spooled' '
	port=$(free_port) &&
	make_sprint "$TRASH/notoken" rounds=0 url="http://127.0.0.1:$port" &&
	run_job "$TRASH/notoken" &&
	[[ $JOB_RC == 0 ]] &&
	test_must_contain "$SPRINT/sprint_log.txt" \
		".hpcloop/token is missing or malformed" &&
	[[ -f $SPRINT/.hpcloop/spool/complete.json ]]
'

test_done
