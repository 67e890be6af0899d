#!/bin/sh
# Median latency of `hpcloop status` with 1,000 and with 10,000 sprints
# in the journal (10 of them live, the rest finished more than a day
# ago), and of `submit-flow` on the local scheduler with the stand-in
# agent.  Prints figures; asserts nothing.  Targets: status < 5 ms with
# 1,000 and < 20 ms with 10,000.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
bin=${HPCLOOP_BIN:-$top/build/hpcloop}
command -v sqlite3 >/dev/null || { echo "needs sqlite3" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# median_ms N CMD...: run CMD N times, print the median in ms.
median_ms () {
	n=$1
	shift
	i=0
	while [ $i -lt "$n" ]; do
		s=$(date +%s%N)
		"$@" >/dev/null 2>&1
		e=$(date +%s%N)
		echo $(( (e - s) / 1000 ))
		i=$((i + 1))
	done | sort -n | sed -n "$(( (n + 1) / 2 ))p" |
		awk '{ printf "%.2f", $1 / 1000 }'
}

# setup DIR N: a journal in DIR with N sprints, 10 live.
setup () {
	mkdir -p "$1"
	cd "$1"
	export HPCLOOP_CONFIG="$1/hpcloop.yaml" HPCLOOP_JOURNAL="$1/j.db"
	"$bin" init >/dev/null
	sqlite3 j.db "INSERT INTO studies VALUES ('demo', 'local', '{}',
		'2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z');
	WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n
	  WHERE i < $2)
	INSERT INTO sprints (id, study, cluster, idea, state, directory,
	  created_at, finished_at, summary)
	SELECT printf('sp-%06x', i), 'demo', 'local', 'idea ' || i,
	  CASE WHEN i <= 10 THEN 'running' ELSE 'completed' END,
	  '$1/sprints/' || i, '2026-01-01T00:00:00Z',
	  CASE WHEN i <= 10 THEN NULL ELSE '2026-01-02T00:00:00Z' END,
	  'summary ' || i FROM n;"
}

for n in 1000 10000; do
	setup "$tmp/s$n" $n
	printf 'status {} with %5d sprints (10 live)   median %s ms\n' $n \
		"$(median_ms 30 "$bin" status)"
	printf 'status {"sprint_id"} with %5d sprints  median %s ms\n' $n \
		"$(median_ms 30 "$bin" status --spec '{"sprint_id":"sp-0003e8"}')"
done

mkdir -p "$tmp/submit" && cd "$tmp/submit"
export HPCLOOP_CONFIG="$tmp/submit/hpcloop.yaml" HPCLOOP_JOURNAL="$tmp/submit/j.db"
"$bin" init >/dev/null
sed -i -e "s|^# agent_command:.*|agent_command: \"$top/tests/agents/fake-agent -p\"|" \
	-e 's/max_concurrent_jobs: .*/max_concurrent_jobs: 100/' hpcloop.yaml
i=0
for k in $(seq 1 21); do
	s=$(date +%s%N)
	"$bin" submit-flow --spec "{\"study\":\"demo\",\"idea\":\"bench $k\"}" >/dev/null
	e=$(date +%s%N)
	echo $(( (e - s) / 1000 ))
done | sort -n | sed -n 11p | awk '{ printf "submit-flow (local scheduler)            median %.2f ms\n", $1 / 1000 }'
# Let the stand-in jobs finish before the directory goes away.
sleep 3
