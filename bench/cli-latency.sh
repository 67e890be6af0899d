#!/bin/sh
# Median wall time of 50 runs each of `hpcloop list` and `hpcloop events`
# on a journal holding 100,000 events, beside the start-up cost of
# `python3 -c 'import json, sqlite3'`, the floor any Python tool pays.
# Prints figures; asserts nothing.  Target: under 5 ms for both.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
bin=${HPCLOOP_BIN:-$top/build/hpcloop}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp"
export HPCLOOP_CONFIG="$tmp/hpcloop.yaml" HPCLOOP_JOURNAL="$tmp/j.db"
"$bin" init >/dev/null
# 100,000 events, written in one transaction through sqlite3 if present.
if command -v sqlite3 >/dev/null; then
	sqlite3 "$tmp/j.db" "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL
	  SELECT i + 1 FROM n WHERE i < 100000)
	  INSERT INTO events (ts, type, subject, data)
	  SELECT '2026-01-01T00:00:00Z', 'note', 's' || (i % 100),
	         '{\"text\":\"bench\"}' FROM n;"
else
	echo "sqlite3 not installed: journal has few events" >&2
fi

# median_ms CMD...: run CMD 50 times, print the median in ms.
median_ms () {
	i=0
	while [ $i -lt 50 ]; do
		s=$(date +%s%N)
		"$@" >/dev/null 2>&1
		e=$(date +%s%N)
		echo $(( (e - s) / 1000 ))
		i=$((i + 1))
	done | sort -n | sed -n 25p | awk '{ printf "%.2f", $1 / 1000 }'
}

events=$(sqlite3 "$tmp/j.db" "SELECT count(*) FROM events" 2>/dev/null || echo '?')
echo "journal events: $events"
printf 'hpcloop list                         median %s ms (target < 5)\n' \
	"$(median_ms "$bin" list)"
printf 'hpcloop events {"since":99900}       median %s ms (target < 5)\n' \
	"$(median_ms "$bin" events --spec '{"since":99900,"limit":100}')"
printf 'hpcloop events {} (first page)       median %s ms\n' \
	"$(median_ms "$bin" events)"
py=/usr/bin/python3
[ -x "$py" ] || py=python3
printf "python3 -c 'import json, sqlite3'    median %s ms (floor)\n" \
	"$(median_ms "$py" -c 'import json, sqlite3')"
