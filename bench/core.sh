#!/bin/sh
# bench/core.sh: the figures of the core in one run (issue 6): start-up
# of the primitives that touch no cluster against a bare python3, status
# at 1k/10k/100k sprints (old and recently finished), events by subject
# on 1M events, plan-waves for 1M tasks, submit-flow on the local
# scheduler, and heartbeat-ingest with 1, 4 and 16 writers at once.
# Prints medians; asserts nothing (the machines are shared and noisy).  Targets from the issue are shown
# beside each figure.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
bin=${HPCLOOP_BIN:-$top/build/hpcloop}
command -v sqlite3 >/dev/null || { echo "bench/core.sh needs sqlite3" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
py=/usr/bin/python3
[ -x "$py" ] || py=python3

# median_ms N CMD...: run CMD N times, print the median in ms.
median_ms () {
	n=$1
	shift
	i=0
	while [ $i -lt "$n" ]; do
		s=$(date +%s%N)
		"$@" >/dev/null 2>&1 || true
		e=$(date +%s%N)
		echo $(( (e - s) / 1000 ))
		i=$((i + 1))
	done | sort -n | sed -n "$(( (n + 1) / 2 ))p" |
		awk '{ printf "%.2f", $1 / 1000 }'
}

# fresh DIR: an initialised directory; exports its config and journal.
fresh () {
	mkdir -p "$1" && cd "$1"
	export HPCLOOP_CONFIG="$1/hpcloop.yaml" HPCLOOP_JOURNAL="$1/j.db"
	"$bin" init >/dev/null
}

# sprints N WHEN: N sprints of study demo, 10 of them live, the others
# finished at WHEN ("old": a year ago; "recent": within the last day).
sprints () {
	case $2 in
	old) fin="'2025-01-02T00:00:00Z'" ;;
	*) fin="strftime('%Y-%m-%dT%H:%M:%SZ', 'now', '-' || (i % 80000) || ' seconds')" ;;
	esac
	sqlite3 j.db "INSERT OR IGNORE INTO studies (name, cluster, created_at,
		updated_at) VALUES ('demo', 'local', 't', 't');
	WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n
	  WHERE i < $1)
	INSERT INTO sprints (id, study, cluster, idea, state, directory,
	  job_id, created_at, finished_at, summary)
	SELECT printf('sp-%06x', i), 'demo', 'local', 'idea ' || i,
	  CASE WHEN i <= 10 THEN 'running' ELSE 'completed' END,
	  '$PWD/sprints/' || i, 'none-' || i, '2025-01-01T00:00:00Z',
	  CASE WHEN i <= 10 THEN NULL ELSE $fin END,
	  'summary ' || i FROM n;"
}

echo "== start-up (median of 50)"
fresh "$tmp/start"
printf '%-44s %8s ms\n' "python3 -c 'import json, sqlite3' (floor)" \
	"$(median_ms 50 "$py" -c 'import json, sqlite3')"
printf '%-44s %8s ms  (target: 8x below python3)\n' "hpcloop list" \
	"$(median_ms 50 "$bin" list)"
printf '%-44s %8s ms\n' "hpcloop version" "$(median_ms 50 "$bin" version)"
printf '%-44s %8s ms\n' "hpcloop status (no sprints)" \
	"$(median_ms 50 "$bin" status)"

echo "== status with many sprints, 10 live (median of 30)"
for n in 1000 10000 100000; do
	for when in old recent; do
		fresh "$tmp/s$n$when"
		sprints $n $when
		target=''
		[ $n = 10000 ] && target='(target <= 5 ms)'
		[ $n = 100000 ] && [ $when = recent ] && target='(target <= 10 ms)'
		printf 'status {} %6d sprints, finished %-6s %8s ms  %s\n' $n \
			$when "$(median_ms 30 "$bin" status)" "$target"
	done
done
printf 'status {"sprint_id"} of 100000 (recent)     %8s ms\n' \
	"$(median_ms 30 "$bin" status --spec '{"sprint_id":"sp-000400"}')"

echo "== events on 1,000,000 events (median of 30)"
fresh "$tmp/events"
sqlite3 j.db "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1
	FROM n WHERE i < 1000000)
	INSERT INTO events (ts, type, subject, data)
	SELECT '2026-01-01T00:00:00Z', CASE WHEN i % 10 THEN 'note' ELSE
	  'sprint.heartbeat' END, 's' || (i % 1000), '{}' FROM n;"
printf '%-44s %8s ms  (target <= 5 ms)\n' 'events {"subject":"s7"} (first page)' \
	"$(median_ms 30 "$bin" events --spec '{"subject":"s7"}')"
printf '%-44s %8s ms\n' 'events {"subject":"s7","tail":50}' \
	"$(median_ms 30 "$bin" events --spec '{"subject":"s7","tail":50}')"
printf '%-44s %8s ms\n' 'events {"type":"sprint.heartbeat","tail":50}' \
	"$(median_ms 30 "$bin" events --spec '{"type":"sprint.heartbeat","tail":50}')"
printf '%-44s %8s ms\n' 'events {"tail":50}' \
	"$(median_ms 30 "$bin" events --spec '{"tail":50}')"

echo "== plan-waves (median of 30)"
printf '%-44s %8s ms  (target <= 20 ms)\n' 'plan-waves 1,000,000 tasks (first page)' \
	"$(median_ms 30 "$bin" plan-waves --spec '{"tasks":1000000,"max_array_size":1000,"max_concurrent":10,"task_s":60}')"

echo "== submit-flow on the local scheduler (median of 21)"
# Twice: with the jobs queued behind max_concurrent_jobs (submit-flow
# alone), and with every job started at once (submit-flow beside up to
# 21 running job scripts on this machine's cores).
for mj in 1 100; do
	fresh "$tmp/submit-$mj"
	sed -i -e "s|^# agent_command:.*|agent_command: \"$top/tests/agents/fake-agent -p\"|" \
		-e "s/max_concurrent_jobs: .*/max_concurrent_jobs: $mj/" hpcloop.yaml
	for k in $(seq 1 21); do
		s=$(date +%s%N)
		"$bin" submit-flow --spec "{\"study\":\"demo\",\"idea\":\"bench $k\"}" >/dev/null
		e=$(date +%s%N)
		echo $(( (e - s) / 1000 ))
	done | sort -n | sed -n 11p |
		awk -v mj=$mj '{ printf "submit-flow, max_concurrent_jobs %-3s        %8.2f ms  (target <= 25 ms)\n", mj, $1 / 1000 }'
done
sleep 3

echo "== heartbeat-ingest (median of each writer's calls)"
fresh "$tmp/hb"
sprints 1 recent
for w in 1 4 16; do
	k=0
	while [ $k -lt $w ]; do
		(
			j=0
			while [ $j -lt 40 ]; do
				seq=$(( (k + 1) * 100000 + j + 1 ))
				s=$(date +%s%N)
				"$bin" heartbeat-ingest --spec "{\"sprint_id\":\"sp-000001\",\"heartbeat\":{\"seq\":$seq}}" >/dev/null 2>&1 || true
				e=$(date +%s%N)
				echo $(( (e - s) / 1000 ))
				j=$((j + 1))
			done
		) >"$tmp/hb.$w.$k" &
		k=$((k + 1))
	done
	wait
	t=''
	[ $w = 1 ] && t='(target <= 3 ms)'
	cat "$tmp"/hb.$w.* | sort -n | awk -v w=$w -v t="$t" \
		'{ a[NR] = $1 } END { printf "heartbeat-ingest, %2d writers at once      %8.2f ms  %s\n", w, a[int((NR + 1) / 2)] / 1000, t }'
done
echo "heartbeats stored: $(sqlite3 j.db 'SELECT count(*) FROM heartbeats')"
