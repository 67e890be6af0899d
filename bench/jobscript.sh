#!/bin/sh
# bench/jobscript.sh: the job script's own overhead per step against the
# agent's time, with the real agent CLI (issue 10, item 9).  One sprint
# on the local scheduler whose agent is the real CLI (build/agent-cli)
# against the scripted model (tests/model, the demo's script), each run
# of the CLI wrapped to log its start and end in nanoseconds.  Prints:
# each step's agent time, the job script's time between an agent's exit
# and the next agent's start, from the last exit to completion.json, and
# what one heartbeat costs (the job script's heartbeat_write, timed in a
# sourced copy of the script).  Asserts nothing.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
bin=${HPCLOOP_BIN:-$top/build/hpcloop}
tool=$top/build/test-tool
claude=$(sh "$top/scripts/install-agent-cli.sh" --bin)
if ! [ -x "$claude" ] || ! [ -x /usr/bin/python3 ]; then
	echo "bench/jobscript.sh: skipped: the agent CLI is not installed" \
		"(sh scripts/install-agent-cli.sh)"
	exit 0
fi
dir=$(mktemp -d)
model_pid=''
trap '[ -z "$model_pid" ] || kill "$model_pid" 2>/dev/null; [ -n "${BENCH_KEEP:-}" ] || rm -rf "$dir"' EXIT
cd "$dir"
export HPCLOOP_CONFIG="$dir/hpcloop.yaml" HPCLOOP_JOURNAL="$dir/j.db"

/usr/bin/python3 "$top/tests/model/model-server" serve \
	--script "$top/tests/model/scripts/demo.json" \
	--port-file model.port --log model.log --lifetime 600 2>model.err &
model_pid=$!
i=0
while ! [ -s model.port ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
port=$(cat model.port)

# The wrapper: one "start NS" and one "end NS" line per run of the CLI.
# Named claude, so hpcloop gives it the CLI's tool flags (agent_tools).
mkdir wrap
cat >wrap/claude <<'WRAP'
#!/bin/sh
echo "start $(date +%s%N)" >>"$BENCH_AGENT_LOG"
"$@"
rc=$?
echo "end $(date +%s%N)" >>"$BENCH_AGENT_LOG"
exit $rc
WRAP
chmod +x wrap/claude
mkdir claude-home
"$bin" init >/dev/null
sed -i -e "s|^# agent_command:.*|agent_command: \"$dir/wrap/claude $claude -p --output-format stream-json --verbose\"|" \
	-e 's/^heartbeat_interval_s: .*/heartbeat_interval_s: 2/' hpcloop.yaml
sed -i "s|^    working_dir: sprints|&\n    environment:\n      HOME: \"$dir/claude-home\"\n      BENCH_AGENT_LOG: \"$dir/agent.log\"\n      ANTHROPIC_BASE_URL: \"http://127.0.0.1:$port\"\n      ANTHROPIC_API_KEY: \"bench-key-for-the-scripted-model\"\n      CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: \"1\"\n      DISABLE_TELEMETRY: \"1\"\n      DISABLE_AUTOUPDATER: \"1\"|" hpcloop.yaml

sprint=$("$bin" submit-flow --spec '{"study":"demo","idea":"bench the job script"}' |
	"$tool" json-field - .data.sprint_id)
i=0
state=submitted
while [ $i -lt 300 ]; do
	state=$("$bin" status --spec "{\"sprint_id\":\"$sprint\"}" |
		"$tool" json-field - .data.sprints.0.state)
	case $state in completed|failed|timed_out|cancelled|lost) break ;; esac
	sleep 0.5
	i=$((i + 1))
done
sdir=$(ls -d sprints/demo/*"$sprint"*)
done_ns=$(stat -c %.9Y "$sdir/completion.json" | tr -d .)
steps=$("$tool" json-field "$sdir/completion.json" .steps |
	tr '{' '\n' | sed -n 's/.*"name":"\([^"]*\)".*/\1/p' | tr '\n' ' ')
echo "sprint $sprint: $state; steps: $steps (in $dir)"
echo "CLI $(sh "$top/scripts/install-agent-cli.sh" --version), scripted model"
awk -v done_ns="$done_ns" -v steps="$steps" '
	BEGIN { n = split(steps, name, " ") }
	$1 == "start" { k++; start[k] = $2 }
	$1 == "end" { end[k] = $2 }
	END {
		printf "%-14s %12s %22s\n", "step", "agent (ms)", "job script after (ms)"
		for (i = 1; i <= k; i++) {
			agent = (end[i] - start[i]) / 1e6
			gap = (i < k ? start[i + 1] - end[i] : done_ns - end[i]) / 1e6
			tot_a += agent; tot_g += gap
			printf "%-14s %12.1f %22.1f%s\n", (i in name ? name[i] : "?"), agent, gap,
				i < k ? "" : "  (to completion.json)"
		}
		printf "%-14s %12.1f %22.1f  (%.2f%% of the agent time)\n", "total", tot_a, tot_g,
			tot_a ? 100 * tot_g / tot_a : 0
	}' agent.log

# One heartbeat: heartbeat_write in a sourced copy of the job script,
# 200 times (the job writes one every heartbeat_interval_s, default 60).
cp "$sdir/run_sprint.sh" hb-job.sh
mkdir -p hb/.hpcloop
ms=$(cd hb && bash -c '
	. ../hb-job.sh
	URL=""
	s=$(date +%s%N)
	for ((i = 1; i <= 200; i++)); do heartbeat_write $i research research; done
	e=$(date +%s%N)
	echo $(( (e - s) / 200000 ))' 2>/dev/null) || ms='?'
echo "heartbeat_write: ${ms} us each (one a minute by default)"
