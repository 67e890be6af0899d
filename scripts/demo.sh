#!/bin/sh
# The demo on the local scheduler (the embedded default; no cluster
# needed), in a temporary directory after `hpcloop init`, in two parts.
#
# 1. A real optimisation loop.  A study "quadratic" whose executor is the
#    bundled experiment examples/quadratic/quadratic.py (standard-library
#    Python: a loss of three hyperparameters, lr on a log scale, width an
#    integer and activation a choice, plus seeded noise, printed as
#    "metric: VALUE").  loop-start with the builtin proposer and a count
#    of 15, then loop-tick until the loop finishes: every run is a job on
#    the local scheduler that runs the experiment with its params as
#    HPCLOOP_PARAM_*, and the metric it prints is recorded, kept or
#    discarded.  Then the ledger and the best run.
#
# 2. One sprint with the agent.  When the set-up installed the real agent
#    CLI (Claude Code, build/agent-cli) it runs, against a SCRIPTED model
#    on 127.0.0.1 (tests/model/model-server with
#    tests/model/scripts/demo.json), so the CLI really runs its tools in
#    the sprint directory but no real model is asked; otherwise the
#    STAND-IN agent (tests/agents/fake-agent: a script that speaks the
#    CLI's stream-json and writes plausible files).  The demo says which.
#
# Progress goes to stderr (one line that updates on a terminal, plain
# lines otherwise); each hpcloop call's JSON goes to stdout.
#
#   scripts/demo.sh [--loop-only] [--dir DIR]
#
# --loop-only stops after part 1 (tests/e2e/t6005 runs that); --dir runs
# in DIR (which must not exist yet) instead of a new temporary directory.
set -eu
loop_only=0
dir=''
while [ $# -gt 0 ]; do
	case $1 in
	--loop-only) loop_only=1 ;;
	--dir)
		[ $# -ge 2 ] || { echo "demo.sh: --dir needs a directory" >&2; exit 2; }
		dir=$2
		shift
		;;
	*) echo "usage: demo.sh [--loop-only] [--dir DIR]" >&2; exit 2 ;;
	esac
	shift
done
top=$(cd "$(dirname "$0")/.." && pwd)
bin="${HPCLOOP_BIN:-$top/build/hpcloop}"
agent="$top/tests/agents/fake-agent"
claude=$(sh "$top/scripts/install-agent-cli.sh" --bin)
if [ -n "$dir" ]; then
	mkdir "$dir"
	dir=$(cd "$dir" && pwd)
else
	dir=$(mktemp -d "${TMPDIR:-/tmp}/hpcloop-demo.XXXXXX")
fi
cd "$dir"
export HPCLOOP_CONFIG="$dir/hpcloop.yaml"
export HPCLOOP_JOURNAL="$dir/.hpcloop/journal.db"
say () { printf '%s\n' "$*" >&2; }
tool="${HPCLOOP_TEST_TOOL:-$top/build/test-tool}"
# field PATH: a field of the JSON on stdin.
field () { "$tool" json-field - "$1"; }
model_pid=''
trap '[ -z "$model_pid" ] || kill "$model_pid" 2>/dev/null' EXIT

say "== hpcloop demo in $dir"
"$bin" init
# The demo study runs quickly: heartbeats every 2 s.
sed -e 's/^heartbeat_interval_s: .*/heartbeat_interval_s: 2/' \
	hpcloop.yaml >hpcloop.yaml.new && mv hpcloop.yaml.new hpcloop.yaml

# ---------------------------------------------------------------------
# Part 1: the loop
# ---------------------------------------------------------------------

count=15
experiment="$top/examples/quadratic/quadratic.py"
if [ ! -x /usr/bin/python3 ]; then
	say "== /usr/bin/python3 is missing: the loop's experiment cannot run"
	say "   (scripts/install-deps.sh installs it); skipping the loop"
	[ $loop_only = 0 ] || exit 1
else
# The study: the experiment as its executor (an argv array: no shell),
# its three parameters, and a fixed seed for the proposer and the noise.
cat >>hpcloop.yaml <<YAML
  quadratic:
    cluster: local
    description: the bundled toy experiment, tuned by the builtin proposer
    executor: ["/usr/bin/python3", "$experiment", "--seed", "1"]
    metric:
      name: metric
      direction: minimize
    allow_loop: true
    seed: 1
    initial_points: 5
    params:
      lr: {type: float, low: 0.0001, high: 1, log: true}
      width: {type: int, low: 1, high: 64}
      activation: {type: choice, choices: [relu, tanh, sigmoid]}
YAML
"$bin" study-show quadratic >/dev/null

say "== part 1: a loop of $count runs of $experiment"
say "   (metric: a loss of lr, width and activation plus seeded noise; the"
say "   builtin proposer: a Halton design, then local search around the best)"
out=$("$bin" loop-start --spec "{\"study\":\"quadratic\",\"count\":$count,\"mode\":\"sprint\",\"proposer\":\"builtin\"}")
printf '%s\n' "$out"
loop=$(printf '%s\n' "$out" | field .data.loop_id)
[ -n "$loop" ] || { say "loop-start failed"; exit 1; }
say "== loop $loop: loop-tick until it finishes"
runs=0
state=running
t0=$(date +%s)
while :; do
	out=$("$bin" loop-tick --spec "{\"loop_id\":\"$loop\"}") || {
		printf '%s\n' "$out"
		say "loop-tick failed"
		exit 1
	}
	state=$(printf '%s\n' "$out" | field .data.loops.0.state)
	now=$(printf '%s\n' "$out" | field .data.loops.0.spent.runs)
	if [ "$now" != "$runs" ]; then
		runs=$now
		# The newest row of the ledger: id, metric, status, description.
		row=$("$bin" ledger --spec "{\"loop_id\":\"$loop\",\"format\":\"tsv\"}" |
			field .data.tsv | tail -n 1 | cut -f 2,3)
		line=$(printf 'run %2d/%d  metric=%s  %s' "$runs" "$count" \
			"$(printf '%s\n' "$row" | cut -f 1)" "$(printf '%s\n' "$row" | cut -f 2)")
		if [ -t 2 ]; then
			printf '\r   %-60s' "$line" >&2
		else
			printf '   %s\n' "$line" >&2
		fi
	fi
	case "$state" in running|stopping) ;; *) break ;; esac
	[ $(($(date +%s) - t0)) -lt 120 ] || { say; say "gave up waiting"; exit 1; }
	sleep 0.1
done
[ -t 2 ] && say ""
printf '%s\n' "$out"
[ "$state" = finished ] || { say "the loop ended $state"; exit 1; }
say "== the loop finished ($(printf '%s\n' "$out" | field .data.loops.0.stop_reason)) in $(($(date +%s) - t0)) s; its ledger:"
ledger=$("$bin" ledger --spec "{\"loop_id\":\"$loop\",\"format\":\"tsv\"}")
printf '%s\n' "$ledger"
printf '%s\n' "$ledger" | field .data.tsv |
	sed -e 's/ (builtin proposer, \([a-z]*\) move.*/  [\1 move]/' -e 's/^/   /' >&2
say "== the best run"
best=$("$bin" ledger --spec "{\"loop_id\":\"$loop\"}")
printf '%s\n' "$best"
tsv=$(printf '%s\n' "$ledger" | field .data.tsv)
bid=$(printf '%s\n' "$best" | field .data.best.id)
brow=$(printf '%s\n' "$tsv" | awk -F '\t' -v id="$bid" '$1 == id')
say "   run $(printf '%s\n' "$best" | field .data.best.iteration): metric $(printf '%s\n' "$brow" | cut -f 2)" \
	"($(printf '%s\n' "$brow" | cut -f 4 | sed 's/ (builtin.*//'))"
say "   the first run had $(printf '%s\n' "$tsv" | sed -n 2p | cut -f 2);" \
	"the experiment's best expected value is 0.05"
bsprint=$(printf '%s\n' "$best" | field .data.best.sprint_id)
say "   its output: $(ls -d "$dir"/sprints/quadratic/*"$bsprint"*)/executor.log"
fi
if [ $loop_only = 1 ]; then
	say "== done: everything is in $dir"
	exit 0
fi

# ---------------------------------------------------------------------
# Part 2: one sprint with the agent
# ---------------------------------------------------------------------

say "== part 2: one sprint with the agent"
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
printf '%s\n' "$out"
sprint=$(printf '%s\n' "$out" | field .data.sprint_id)
[ -n "$sprint" ] || { say "submit-flow failed"; exit 1; }

say "== waiting for $sprint (the agent runs research, red team; a fix when"
say "   the red team finds a critical issue; then report and summary)"
state=submitted
last=''
i=0
while :; do
	st=$("$bin" status --spec "{\"sprint_id\":\"$sprint\"}")
	state=$(printf '%s\n' "$st" | field .data.sprints.0.state)
	phase=$(printf '%s\n' "$st" | field .data.sprints.0.phase)
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
printf '%s\n' "$st"
sprint_dir=$(ls -d "$dir"/sprints/demo/*"$sprint"*)
say "== summary ($sprint_dir/summary.txt)"
cat "$sprint_dir/summary.txt" >&2
say "== report: $sprint_dir/report.md"
say "== artifacts: files hashed and copied to the store"
art=$("$bin" artifacts --spec "{\"sprint_id\":\"$sprint\"}")
say "   $(printf '%s\n' "$art" | field .data.count) files in $(printf '%s\n' "$art" | field .data.store)/$sprint"
say "== the journal's events for $sprint"
"$bin" events --spec "{\"subject\":\"$sprint\",\"type\":\"sprint.finished\"}"
say "== done: sprint $sprint is $state; everything is in $dir"
[ "$state" = completed ]
