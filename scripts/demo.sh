#!/bin/sh
# The demo loop on the local scheduler (the embedded default; no cluster
# needed): init in a temporary directory, point the study at the
# STAND-IN agent (tests/agents/fake-agent: a script that speaks the
# agent CLI's stream-json and writes plausible files; no model runs),
# submit a sprint, follow it with status until it ends, then show the
# status, the summary and where the report is.
#
# Progress goes to stderr; each hpcloop call's JSON goes to stdout.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
bin="$top/build/hpcloop"
agent="$top/tests/agents/fake-agent"
dir=$(mktemp -d "${TMPDIR:-/tmp}/hpcloop-demo.XXXXXX")
cd "$dir"
export HPCLOOP_CONFIG="$dir/hpcloop.yaml"
export HPCLOOP_JOURNAL="$dir/.hpcloop/journal.db"
say () { printf '%s\n' "$*" >&2; }
tool="$top/build/test-tool"
# field PATH: a field of the JSON on stdin.
field () { "$tool" json-field - "$1"; }

say "== hpcloop demo in $dir"
"$bin" init
say "== using the STAND-IN agent ($agent): no model runs;"
say "   for real research set agent_command to"
say "   \"claude -p --output-format stream-json --verbose\""
# The demo study runs quickly: heartbeats every 2 s, the stand-in agent.
sed -e "s|^# agent_command:.*|agent_command: \"$agent -p --output-format stream-json --verbose\"|" \
	-e 's/^heartbeat_interval_s: .*/heartbeat_interval_s: 2/' \
	hpcloop.yaml >hpcloop.yaml.new && mv hpcloop.yaml.new hpcloop.yaml
"$bin" study-show demo >/dev/null

# A second per step, so the progress line has something to show.
export FAKE_AGENT_SLEEP=1
say "== submitting a sprint"
out=$("$bin" submit-flow --spec '{"study":"demo","idea":"Does a smaller learning rate lower the validation loss of the toy model?"}')
echo "$out"
sprint=$(echo "$out" | field .data.sprint_id)
[ -n "$sprint" ] || { say "submit-flow failed"; exit 1; }

say "== waiting for $sprint (the stand-in agent runs research, red-team, fix, report, summary)"
state=submitted
i=0
while :; do
	st=$("$bin" status --spec "{\"sprint_id\":\"$sprint\"}")
	state=$(echo "$st" | field .data.sprints.0.state)
	phase=$(echo "$st" | field .data.sprints.0.phase)
	printf '\r   %3ds  state=%-10s phase=%-30s' "$i" "$state" "$phase" >&2
	case "$state" in completed|failed|timed_out|cancelled|lost) break ;; esac
	[ $i -lt 300 ] || { say; say "gave up waiting"; exit 1; }
	sleep 1
	i=$((i + 1))
done
say ""
say "== status"
echo "$st"
sprint_dir=$(ls -d "$dir"/sprints/demo/*"$sprint"*)
say "== summary ($sprint_dir/summary.txt)"
cat "$sprint_dir/summary.txt" >&2
say "== report: $sprint_dir/report.md"
say "== artifacts: files hashed and copied to the store"
art=$("$bin" artifacts --spec "{\"sprint_id\":\"$sprint\"}")
say "   $(echo "$art" | field .data.count) files in $(echo "$art" | field .data.store)/$sprint"
say "== the journal's events for $sprint"
"$bin" events --spec "{\"subject\":\"$sprint\",\"type\":\"sprint.finished\"}"
say "== done: sprint $sprint is $state; everything is in $dir"
[ "$state" = completed ]
