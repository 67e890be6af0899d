#!/bin/sh
# The demo on the local scheduler (the embedded default; no cluster
# needed): init in a temporary directory, submit a sprint, follow it with
# status until it ends, then show the status, the summary and where the
# report is.
#
# The agent: when the set-up installed the real agent CLI (Claude Code,
# build/agent-cli) it runs, against a SCRIPTED model on 127.0.0.1
# (tests/model/model-server with tests/model/scripts/demo.json), so the
# CLI really runs its tools in the sprint directory but no real model is
# asked; otherwise the STAND-IN agent (tests/agents/fake-agent: a script
# that speaks the CLI's stream-json and writes plausible files).  The
# demo says which.
#
# Progress goes to stderr (one line that updates on a terminal, plain
# lines otherwise); each hpcloop call's JSON goes to stdout.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
bin="$top/build/hpcloop"
agent="$top/tests/agents/fake-agent"
claude=$(sh "$top/scripts/install-agent-cli.sh" --bin)
dir=$(mktemp -d "${TMPDIR:-/tmp}/hpcloop-demo.XXXXXX")
cd "$dir"
export HPCLOOP_CONFIG="$dir/hpcloop.yaml"
export HPCLOOP_JOURNAL="$dir/.hpcloop/journal.db"
say () { printf '%s\n' "$*" >&2; }
tool="$top/build/test-tool"
# field PATH: a field of the JSON on stdin.
field () { "$tool" json-field - "$1"; }
model_pid=''
trap '[ -z "$model_pid" ] || kill "$model_pid" 2>/dev/null' EXIT

say "== hpcloop demo in $dir"
"$bin" init
# The demo study runs quickly: heartbeats every 2 s.
sed -e 's/^heartbeat_interval_s: .*/heartbeat_interval_s: 2/' \
	hpcloop.yaml >hpcloop.yaml.new && mv hpcloop.yaml.new hpcloop.yaml
if [ -x "$claude" ] && [ -x /usr/bin/python3 ]; then
	/usr/bin/python3 "$top/tests/model/model-server" serve \
		--script "$top/tests/model/scripts/demo.json" \
		--port-file "$dir/model.port" --log "$dir/model.log" \
		--lifetime 600 2>"$dir/model.err" &
	model_pid=$!
	i=0
	while ! [ -s "$dir/model.port" ] && [ $i -lt 100 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	port=$(cat "$dir/model.port")
	mkdir -p "$dir/claude-home"
	say "== using the REAL agent CLI ($claude,"
	say "   $(sh "$top/scripts/install-agent-cli.sh" --version)) against a SCRIPTED model on"
	say "   127.0.0.1:$port (tests/model/scripts/demo.json): the CLI runs its tools for"
	say "   real, but no real model is asked"
	sed -e "s|^# agent_command:.*|agent_command: \"$claude -p --output-format stream-json --verbose\"|" \
		hpcloop.yaml >hpcloop.yaml.new && mv hpcloop.yaml.new hpcloop.yaml
	sed -i "s|^    working_dir: sprints|&\n    environment:\n      HOME: \"$dir/claude-home\"\n      ANTHROPIC_BASE_URL: \"http://127.0.0.1:$port\"\n      ANTHROPIC_API_KEY: \"demo-key-for-the-scripted-model\"\n      CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: \"1\"\n      DISABLE_TELEMETRY: \"1\"\n      DISABLE_AUTOUPDATER: \"1\"|" hpcloop.yaml
else
	say "== using the STAND-IN agent ($agent): no model runs"
	say "   (scripts/install-agent-cli.sh installs the real CLI for the demo);"
	say "   for real research set agent_command to"
	say "   \"claude -p --output-format stream-json --verbose\""
	sed -e "s|^# agent_command:.*|agent_command: \"$agent -p --output-format stream-json --verbose\"|" \
		hpcloop.yaml >hpcloop.yaml.new && mv hpcloop.yaml.new hpcloop.yaml
	# A second per step, so the progress has something to show.
	export FAKE_AGENT_SLEEP=1
fi
"$bin" study-show demo >/dev/null

say "== submitting a sprint"
out=$("$bin" submit-flow --spec '{"study":"demo","idea":"Does a smaller learning rate lower the validation loss of the toy model?"}')
echo "$out"
sprint=$(echo "$out" | field .data.sprint_id)
[ -n "$sprint" ] || { say "submit-flow failed"; exit 1; }

say "== waiting for $sprint (the agent runs research, red team; a fix when"
say "   the red team finds a critical issue; then report and summary)"
state=submitted
last=''
i=0
while :; do
	st=$("$bin" status --spec "{\"sprint_id\":\"$sprint\"}")
	state=$(echo "$st" | field .data.sprints.0.state)
	phase=$(echo "$st" | field .data.sprints.0.phase)
	if [ -t 2 ]; then
		printf '\r   %3ds  state=%-10s phase=%-30s' "$i" "$state" \
			"$phase" >&2
	elif [ "$state $phase" != "$last" ]; then
		printf '   %3ds  state=%s phase=%s\n' "$i" "$state" "$phase" >&2
		last="$state $phase"
	fi
	case "$state" in completed|failed|timed_out|cancelled|lost) break ;; esac
	[ $i -lt 300 ] || { say; say "gave up waiting"; exit 1; }
	sleep 1
	i=$((i + 1))
done
[ -t 2 ] && say ""
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
