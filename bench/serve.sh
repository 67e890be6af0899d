#!/bin/sh
# bench/serve.sh: wrk against the heartbeat webhook of `hpcloop serve`
# (issue 12 item 10): requests per second, p50 and p99 latency, and the
# server's peak RSS, beside the figures of the system it replaces.
#
# Every request is a real, accepted webhook: the sprint's token, and a
# body signed with the orchestrator secret.  A signature is accepted
# once, so python3 signs N distinct heartbeats beforehand and a wrk Lua
# script sends each once (requests past N are replays the server
# refuses: they are counted apart as non-2xx).  Asserts nothing.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
bin=${HPCLOOP_BIN:-$top/build/hpcloop}
secs=${BENCH_SECONDS:-5}
conns=${BENCH_CONNECTIONS:-16}
n=${BENCH_REQUESTS:-300000}
command -v wrk >/dev/null || { echo "bench/serve.sh needs wrk (scripts/install-deps.sh)" >&2; exit 1; }
command -v sqlite3 >/dev/null || { echo "bench/serve.sh needs sqlite3" >&2; exit 1; }
tmp=$(mktemp -d)
pid=
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$tmp"' EXIT
cd "$tmp"
export HPCLOOP_CONFIG="$tmp/hpcloop.yaml" HPCLOOP_JOURNAL="$tmp/j.db"
secret=bench-secret
token=0123456789abcdef0123456789abcdef
cat >hpcloop.yaml <<EOF
version: 1
orchestrator_secret: $secret
clusters:
  local: {transport: local, scheduler: local, working_dir: sprints}
studies:
  demo: {cluster: local}
EOF
"$bin" init >/dev/null
hash=$(printf %s "$token" | sha256sum | cut -c1-64)
now=$(date -u +%Y-%m-%dT%H:%M:%SZ)
sqlite3 j.db "INSERT INTO studies (name, cluster, created_at, updated_at) VALUES ('demo', 'local', '$now', '$now');
INSERT INTO sprints (id, study, cluster, state, directory, token_hash, job_id, created_at)
VALUES ('sp-0be4c1', 'demo', 'local', 'running', '/nonexistent', '$hash', '1', '$now');"

/usr/bin/python3 - "$n" "$secret" "$token" >reqs.lua <<'PY'
import hashlib, hmac, json, sys, time
n, secret, token = int(sys.argv[1]), sys.argv[2].encode(), sys.argv[3]
ts = str(int(time.time()))
print("local reqs = {")
for seq in range(1, n + 1):
    body = json.dumps({"seq": seq, "ts": "2026-01-01T00:00:00Z",
                       "sprint_id": "sp-0be4c1", "phase": "running (research)",
                       "step": "research", "elapsed_s": seq}, separators=(",", ":"))
    sig = hmac.new(secret, (ts + "." + body).encode(), hashlib.sha256).hexdigest()
    print('{%s,"%s"},' % (json.dumps(body), sig))
print("}")
print("""
local i = 0
local ts = "%s"
request = function()
  i = i + 1
  local r = reqs[((i - 1) %% #reqs) + 1]
  return wrk.format("POST", "/api/webhook/heartbeat", {
    ["Authorization"] = "Bearer %s",
    ["Content-Type"] = "application/json",
    ["X-Hpcloop-Timestamp"] = ts,
    ["X-Hpcloop-Signature"] = r[2]}, r[1])
end
""" % (ts, token))
PY
# Each wrk thread has its own Lua state: give each its own slice.
cat >>reqs.lua <<'LUA'
local counter = 0
setup = function(thread)
  counter = counter + 1
  thread:set("slice", counter)
end
init = function(args)
  i = (slice - 1) * math.floor(#reqs / 2)
end
LUA

"$bin" serve --listen 127.0.0.1:0 >serve.out 2>serve.err &
pid=$!
i=0
while [ ! -s serve.out ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
url=$(sed 's/.*"url":"\([^"]*\)".*/\1/' serve.out)
wrk -t2 -c"$conns" -d"${secs}s" --latency -s reqs.lua "$url" >wrk.out 2>&1
rss=$(awk '/VmHWM/ {printf "%.1f", $2 / 1024}' "/proc/$pid/status")
stored=$(sqlite3 j.db "SELECT count(*) FROM heartbeats")
kill "$pid"
wait "$pid" || true
pid=

rps=$(awk '/Requests\/sec/ {print $2}' wrk.out)
p50=$(awk '$1 == "50%" {print $2}' wrk.out)
p99=$(awk '$1 == "99%" {print $2}' wrk.out)
non2xx=$(awk '/Non-2xx/ {print $5}' wrk.out)
echo "heartbeat webhook, $conns connections, ${secs}s (wrk -t2):"
printf '  %-22s %12s   %s\n' "" "hpcloop" "replaced system / target"
printf '  %-22s %12s   %s\n' "requests/s" "$rps" "1,781 / >= 35,000"
printf '  %-22s %12s   %s\n' "p50 latency" "$p50" "-"
printf '  %-22s %12s   %s\n' "p99 latency" "$p99" "16.8 ms / <= 2 ms"
printf '  %-22s %12s   %s\n' "server peak RSS (MB)" "$rss" "62 MB / <= 10 MB"
echo "  heartbeats stored: $stored; non-2xx answers: ${non2xx:-0} (replays past the $n signed ones, or errors)"
