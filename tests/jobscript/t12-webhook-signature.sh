#!/usr/bin/env bash
#
# The job script signs each webhook: hmac_sha256 (bash, the builtin
# printf and sha256sum only) agrees with `openssl dgst -sha256 -hmac`
# for keys short, empty-padded, exactly 64 bytes, longer than a block
# (hashed first), with quotes, backslashes, spaces, bytes above 0x7f and
# '6' (0x36, which ipad turns into a NUL byte); and a real post carries
# X-Hpcloop-Timestamp and X-Hpcloop-Signature that verify, while the
# secret is in no argv and no log.
# shellcheck disable=SC1090,SC1091,SC2016,SC2034,SC2317  # test idioms
test_description='job script: the webhook signature'
. "$(dirname "$0")/lib.sh"

PYTHON=$(command -v python3)
if command -v openssl >/dev/null 2>&1; then
	test_set_prereq OPENSSL
else
	test_lack_prereq OPENSSL "no openssl to compare with"
fi

make_sprint "$TRASH/f" rounds=0 >/dev/null 2>&1 || exit 1
JOB="$TRASH/f/job.sh"

# same KEY: hmac_sha256 of a body under KEY equals openssl's.
same() {
	printf '%s' "$1" >"$TRASH/key"
	printf '{"seq":3,"x":"\xc3\xa9 \\"q\\""}\n' >"$TRASH/body"
	got=$(cd "$SPRINT" && . "$JOB" &&
		hmac_sha256 "$TRASH/key" "1700000000." "$TRASH/body" &&
		echo "$JSON_OUT") || return 1
	want=$({ printf '1700000000.'; cat "$TRASH/body"; } |
		openssl dgst -sha256 -hmac "$1" | sed 's/.*= //')
	[[ $got =~ ^[0-9a-f]{64}$ && $got == "$want" ]] || {
		printf 'key [%s]: got %s want %s\n' "$1" "$got" "$want"
		return 1
	}
}

test_expect_success OPENSSL 'hmac_sha256 agrees with openssl for every kind of key' '
	same k &&
	same "s3cret with spaces \"q\" \\ and \$x" &&
	same "$(printf "x%.0s" {1..64})" &&
	same "$(printf "y%.0s" {1..65})" &&
	same "$(printf "z%.0s" {1..200})" &&
	same "$(printf "6666\xff\xc3\xa9\x01")" &&
	same "$(printf "6%.0s" {1..64})"
'

test_expect_success OPENSSL 'a different body or timestamp gives a different signature' '
	printf k >"$TRASH/key" && printf a >"$TRASH/b1" && printf b >"$TRASH/b2" &&
	s1=$(cd "$SPRINT" && . "$JOB" && hmac_sha256 "$TRASH/key" "1." "$TRASH/b1" && echo "$JSON_OUT") &&
	s2=$(cd "$SPRINT" && . "$JOB" && hmac_sha256 "$TRASH/key" "1." "$TRASH/b2" && echo "$JSON_OUT") &&
	s3=$(cd "$SPRINT" && . "$JOB" && hmac_sha256 "$TRASH/key" "2." "$TRASH/b1" && echo "$JSON_OUT") &&
	[[ $s1 != "$s2" && $s1 != "$s3" && $s2 != "$s3" ]]
'

# A receiver that checks each post's signature under SECRET and logs
# {"path", "ok", "ts"} per request; answers 200.
SECRET='sig "secret" \ 6'
start_checker() {
	"$PYTHON" - "$1" "$2" "$SECRET" <<'PY' &
import hashlib, hmac, http.server, json, sys, time
port, log, secret = int(sys.argv[1]), sys.argv[2], sys.argv[3].encode()
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(n)
        ts = self.headers.get("X-Hpcloop-Timestamp") or ""
        sig = self.headers.get("X-Hpcloop-Signature") or ""
        want = hmac.new(secret, ts.encode() + b"." + body, hashlib.sha256).hexdigest()
        ok = hmac.compare_digest(want, sig) and abs(time.time() - int(ts or 0)) < 300
        with open(log, "a") as f:
            f.write(json.dumps({"path": self.path, "ok": ok, "ts": ts}) + "\n")
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()
    def log_message(self, *a):
        pass
http.server.ThreadingHTTPServer(("127.0.0.1", port), H).serve_forever()
PY
	SERVER_PID=$!
	wait_for 10 curl -s -o /dev/null "http://127.0.0.1:$1/"
}

if [[ -n $PYTHON ]] && command -v curl >/dev/null 2>&1; then
	test_set_prereq SERVER
else
	test_lack_prereq SERVER "no python3 or no curl"
fi

test_expect_success SERVER 'every post of a real job is signed, and the signature verifies' '
	port=$("$PYTHON" -c "import socket; s = socket.socket(); s.bind((\"127.0.0.1\", 0)); print(s.getsockname()[1])") &&
	start_checker "$port" "$TRASH/signed.log" &&
	make_sprint "$TRASH/signed" rounds=0 url="http://127.0.0.1:$port" token=tok-1 &&
	(umask 077 && printf "%s" "$SECRET" >"$SPRINT/.hpcloop/secret") &&
	run_job "$TRASH/signed" FAKE_AGENT_SLEEP=1 &&
	kill "$SERVER_PID" && wait "$SERVER_PID" 2>/dev/null;
	[[ $JOB_RC == 0 ]] &&
	n=$(wc -l <"$TRASH/signed.log") && ((n >= 2)) &&
	[[ $(grep -c "\"ok\": true" "$TRASH/signed.log") == "$n" ]] &&
	grep -q "/api/webhook/complete" "$TRASH/signed.log" &&
	! grep -rqF "$SECRET" "$SPRINT/sprint_log.txt" "$SPRINT/.hpcloop/curl.log" \
		"$SPRINT/heartbeats.jsonl" "$SPRINT/completion.json" "$TRASH/signed/job.sh"
'

test_done
