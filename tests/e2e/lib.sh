# lib.sh: the shell test library (after git's t/test-lib.sh).
#
# A test script sets test_description, sources this file, runs steps
# with test_expect_success [PREREQ] 'title' 'commands', and ends with
# test_done, which prints the TAP plan.  Each script runs in a fresh
# trash directory with its own HPCLOOP_CONFIG and HPCLOOP_JOURNAL.
#
# hl ARGS... runs the binary with stdout in ./out and stderr in ./err,
# and fails the step when stdout is not exactly one line of JSON (unless
# --pretty was asked for).  Every envelope is also logged for t9's
# schema checks.

TEST_DIRECTORY=$(cd "$(dirname "$0")" && pwd)
SRC_DIR=$(cd "$TEST_DIRECTORY/../.." && pwd)
: "${HPCLOOP_BIN:=$SRC_DIR/build/hpcloop}"
: "${HPCLOOP_TEST_TOOL:=$SRC_DIR/build/test-tool}"
: "${HPCLOOP_ENVELOPE_DIR:=$SRC_DIR/build/envelopes}"
export HPCLOOP_BIN HPCLOOP_TEST_TOOL HPCLOOP_ENVELOPE_DIR SRC_DIR

this_test=$(basename "$0" .sh)
TRASH_DIRECTORY="${TMPDIR:-/tmp}/hpcloop-trash.$this_test.$$"
rm -rf "$TRASH_DIRECTORY"
mkdir -p "$TRASH_DIRECTORY" "$HPCLOOP_ENVELOPE_DIR" || exit 1
ENVELOPE_LOG="$HPCLOOP_ENVELOPE_DIR/$this_test.jsonl"
: >"$ENVELOPE_LOG"
cd "$TRASH_DIRECTORY" || exit 1

HPCLOOP_CONFIG="$TRASH_DIRECTORY/hpcloop.yaml"
HPCLOOP_JOURNAL="$TRASH_DIRECTORY/.hpcloop/journal.db"
export HPCLOOP_CONFIG HPCLOOP_JOURNAL
unset HPCLOOP_ORCHESTRATOR_URL HPCLOOP_ORCHESTRATOR_SECRET
# Every result is checked against its output schema inside the binary.
HPCLOOP_CHECK_OUTPUT=1
export HPCLOOP_CHECK_OUTPUT

test_count=0
test_failures=0
test_skipped=0
test_prereqs=" "

say () { printf '%s\n' "$*"; }

# test_set_prereq NAME: mark a prerequisite as present.
test_set_prereq () { test_prereqs="$test_prereqs$1 "; }

# test_have_prereq A,B: true when all are present ("!A" negates).
test_have_prereq () {
	for p in $(echo "$1" | tr ',' ' '); do
		case "$p" in
		!*) case "$test_prereqs" in *" ${p#!} "*) return 1 ;; esac ;;
		*) case "$test_prereqs" in *" $p "*) ;; *) return 1 ;; esac ;;
		esac
	done
	return 0
}

# Run a step's body in a function of its own, so 'return' ends the step.
test_eval_ () { eval "$1"; }

test_expect_success () {
	prereq=
	if [ $# = 3 ]; then prereq=$1; shift; fi
	test_count=$((test_count + 1))
	if [ -n "$prereq" ] && ! test_have_prereq "$prereq"; then
		test_skip_ "$prereq" "$1"
		return 0
	fi
	: >"$TRASH_DIRECTORY/.violation"
	test_eval_ "$2" >"$TRASH_DIRECTORY/.step-log" 2>&1
	rc=$?
	cd "$TRASH_DIRECTORY" || exit 1
	if [ $rc = 0 ] && [ -s "$TRASH_DIRECTORY/.violation" ]; then
		rc=1
	fi
	if [ $rc = 0 ]; then
		say "ok $test_count - $1"
	else
		test_failures=$((test_failures + 1))
		say "not ok $test_count - $1"
		# The details go to stderr too, so prove shows them in CI logs.
		{
			echo "# $this_test: not ok $test_count - $1"
			sed -e 's/^/#	/' <<-EOF
			$2
			EOF
			sed -e 's/^/# > /' "$TRASH_DIRECTORY/.step-log"
			[ -s "$TRASH_DIRECTORY/.violation" ] &&
				sed -e 's/^/# ! /' "$TRASH_DIRECTORY/.violation"
			# The last hpcloop call's stdout and stderr.
			[ -f "$TRASH_DIRECTORY/out" ] &&
				head -c 2000 "$TRASH_DIRECTORY/out" |
				sed -e 's/^/# out: /'
			[ -s "$TRASH_DIRECTORY/err" ] &&
				head -c 2000 "$TRASH_DIRECTORY/err" |
				sed -e 's/^/# err: /'
		} | tee /dev/stderr
	fi
	return 0
}

test_done () {
	say "1..$test_count"
	# Jobs a test left running (their scripts live in the trash) end
	# with it; TERM lets each job script stop its agent first.
	pkill -TERM -f "$TRASH_DIRECTORY/" 2>/dev/null
	sleep 0.2
	cd / && if [ $test_failures = 0 ]; then
		rm -rf "$TRASH_DIRECTORY"
		exit 0
	fi
	say "# failed $test_failures of $test_count (trash kept: $TRASH_DIRECTORY)"
	exit 1
}

# hl ARGS...: run hpcloop; stdout -> out, stderr -> err; check one line.
hl () {
	"$HPCLOOP_BIN" "$@" >out 2>err
	hl_rc=$?
	case " $* " in
	*" --pretty "*) ;;
	*)
		if ! "$HPCLOOP_TEST_TOOL" envelope out 2>>err; then
			echo "stdout of 'hpcloop $*' is not one JSON line:" \
				>>"$TRASH_DIRECTORY/.violation"
			head -c 400 out >>"$TRASH_DIRECTORY/.violation"
		else
			cat out >>"$ENVELOPE_LOG"
		fi
		;;
	esac
	return $hl_rc
}

# test_must_fail CMD...: CMD exits 1, 2 or 3 (not 0, not a signal).
test_must_fail () {
	"$@"
	rc=$?
	case $rc in
	1|2|3) return 0 ;;
	esac
	echo "test_must_fail: '$*' exited $rc" >&2
	return 1
}

# test_expect_code N CMD...: CMD exits exactly N.
test_expect_code () {
	want=$1
	shift
	"$@"
	rc=$?
	[ "$rc" = "$want" ] && return 0
	echo "test_expect_code: '$*' exited $rc, wanted $want" >&2
	return 1
}

# test_cmp EXPECTED ACTUAL
test_cmp () { diff -u "$1" "$2"; }

# test_json_field FILE PATH EXPECTED: the field equals EXPECTED.
test_json_field () {
	got=$("$HPCLOOP_TEST_TOOL" json-field "$1" "$2") || return 1
	[ "$got" = "$3" ] && return 0
	echo "test_json_field: $1 $2 is '$got', wanted '$3'" >&2
	return 1
}

# json_field FILE PATH: print it.
json_field () { "$HPCLOOP_TEST_TOOL" json-field "$1" "$2"; }

# row_counts: the journal's row counts (or "absent").
row_counts () { "$HPCLOOP_TEST_TOOL" row-counts "$HPCLOOP_JOURNAL"; }

# test_error FILE CODE: a failure envelope with that error_code.
test_error () {
	test_json_field "$1" .ok false &&
	test_json_field "$1" .error_code "$2"
}

if [ -x /usr/bin/python3 ] && /usr/bin/python3 -c 'import jsonschema' 2>/dev/null
then
	test_set_prereq PYJSONSCHEMA
fi
case "${HPCLOOP_SANITIZE:-}" in
'') test_set_prereq NOT_ASAN ;;
esac
command -v sqlite3 >/dev/null 2>&1 && test_set_prereq SQLITE3

# ---------------------------------------------------------------------
# Sprints on the local scheduler with the stand-in agent.

FAKE_AGENT="$SRC_DIR/tests/agents/fake-agent"

# setup_local_config [EXTRA-YAML]: a config with the local cluster, a
# study "demo" driven by the stand-in agent, fast heartbeats and a short
# watchdog, plus EXTRA-YAML appended.
setup_local_config () {
	cat >hpcloop.yaml <<-YAML
	version: 1
	agent_command: "$FAKE_AGENT -p --output-format stream-json --verbose"
	heartbeat_interval_s: 1
	watchdog_grace_s: 2
	context: global context line
	clusters:
	  local:
	    transport: local
	    scheduler: local
	    working_dir: sprints
	    max_concurrent_jobs: ${MAX_JOBS:-4}
	    cancel_grace_s: 30
	studies:
	  demo:
	    cluster: local
	    description: a test study
	    context: study context line
	    red_team_max_rounds: ${RED_TEAM_ROUNDS:-1}
	    max_sprint_duration_hours: 1
	    metric: {name: val_loss, direction: minimize}
	    allow_loop: true
	YAML
	if [ -n "${1:-}" ]; then printf '%s\n' "$1" >>hpcloop.yaml; fi
	"$HPCLOOP_BIN" init >/dev/null
}

# submit IDEA [EXTRA-JSON-FIELDS]: submit a sprint; its id in $sprint.
submit () {
	hl submit-flow --spec "{\"study\":\"demo\",\"idea\":\"$1\"${2:+,$2}}" &&
	sprint=$(json_field out .data.sprint_id) &&
	sprint_dir=$(json_field out .data.directory)
}

# wait_state ID STATE [SECONDS]: call status until the sprint is STATE.
wait_state () {
	i=0
	while [ $i -lt $((${3:-30} * 5)) ]; do
		hl status --spec "{\"sprint_id\":\"$1\"}" || return 1
		s=$(json_field out .data.sprints.0.state)
		[ "$s" = "$2" ] && return 0
		case "$s" in completed|failed|timed_out|cancelled|lost)
			echo "sprint $1 is $s, wanted $2" >&2; cat out >&2
			return 1 ;;
		esac
		sleep 0.2
		i=$((i + 1))
	done
	echo "sprint $1 still $s after ${3:-30}s, wanted $2" >&2
	return 1
}

# wait_gone PATTERN [SECONDS]: no process whose command line matches
# PATTERN remains (polling; processes take a moment to die).
wait_gone () {
	i=0
	while [ $i -lt $((${2:-15} * 10)) ]; do
		pgrep -f "$1" >/dev/null || return 0
		sleep 0.1
		i=$((i + 1))
	done
	echo "still running: $(pgrep -af "$1")" >&2
	return 1
}

# wait_file PATH [SECONDS]: PATH exists (polling).
wait_file () {
	i=0
	while [ $i -lt $((${2:-15} * 10)) ]; do
		test -e "$1" && return 0
		sleep 0.1
		i=$((i + 1))
	done
	echo "no file $1" >&2
	return 1
}

# local_jobs_for SPRINT: how many local scheduler jobs carry SPRINT's id.
local_jobs_for () {
	grep -l "\"comment\": \"$1\"" sprints/.hpcloop-local/jobs/*/spec.json \
		2>/dev/null | wc -l
}

# tally FILE...: count the envelopes in FILEs by outcome, into $ok,
# $replays, $in_progress, $busy, $internal and $other.
tally () {
	ok=0 replays=0 in_progress=0 busy=0 internal=0 other=0
	for f in "$@"; do
		if ! "$HPCLOOP_TEST_TOOL" envelope "$f" 2>/dev/null; then
			other=$((other + 1)); continue
		fi
		cat "$f" >>"$ENVELOPE_LOG"
		case "$("$HPCLOOP_TEST_TOOL" json-field "$f" .ok):$("$HPCLOOP_TEST_TOOL" json-field "$f" .idempotent 2>/dev/null):$("$HPCLOOP_TEST_TOOL" json-field "$f" .error_code 2>/dev/null)" in
		true:false:*) ok=$((ok + 1)) ;;
		true:true:*) replays=$((replays + 1)) ;;
		false:*:in_progress) in_progress=$((in_progress + 1)) ;;
		false:*:journal_busy) busy=$((busy + 1)) ;;
		false:*:internal) internal=$((internal + 1)) ;;
		*) other=$((other + 1)) ;;
		esac
	done
}

# local_job_pid JOB: the pid of local job JOB's script (empty if none).
local_job_pid () {
	cut -d" " -f1 "sprints/.hpcloop-local/jobs/$1/pid" 2>/dev/null
}

# ---------------------------------------------------------------------
# Components: daemons and tools that steps need (slurm, sge, sshd...).
#
# A script that finds a component unusable says why, once, before its
# steps: require_component slurm "slurmctld is not installed".  Steps
# whose prerequisite is the name in capitals (SLURM) then print
# "ok N # skip REASON (TITLE)", or, when the comma list HPCLOOP_REQUIRE
# names the component (as CI's does), fail with REASON: a required
# component never skips.  A usable one is marked with test_set_prereq.

# component_required NAME: HPCLOOP_REQUIRE lists NAME.
component_required () {
	case ",${HPCLOOP_REQUIRE:-}," in *",$1,"*) return 0 ;; esac
	return 1
}

# require_component NAME REASON: NAME cannot be used here, for REASON.
require_component () {
	case $1 in ''|*[!a-z0-9_]*) echo "require_component: bad name '$1'" >&2
		exit 1 ;;
	esac
	eval "component_reason_$(echo "$1" | tr a-z A-Z)=\$2"
}

# test_skip_ PREREQS TITLE: the step TITLE lacks one of PREREQS: print
# its skip (with a component's reason if one is missing), or its failure
# when a missing one is a required component.
test_skip_ () {
	ts_reason= ts_required=
	for ts_p in $(echo "$1" | tr ',' ' '); do
		case $ts_p in !*) continue ;; esac
		test_have_prereq "$ts_p" && continue
		eval "ts_r=\${component_reason_$ts_p:-}"
		[ -n "$ts_r" ] || continue
		ts_reason=$ts_r
		ts_name=$(echo "$ts_p" | tr A-Z a-z)
		component_required "$ts_name" && ts_required=$ts_name && break
	done
	if [ -n "$ts_required" ]; then
		test_failures=$((test_failures + 1))
		say "not ok $test_count - $2"
		ts_msg="# $this_test: not ok $test_count - $2: component"
		ts_msg="$ts_msg '$ts_required' is required (HPCLOOP_REQUIRE)"
		say "$ts_msg but $ts_reason"
		say "$ts_msg but $ts_reason" >&2
		return 0
	fi
	test_skipped=$((test_skipped + 1))
	if [ -n "$ts_reason" ]; then
		say "ok $test_count # skip $ts_reason ($2)"
	else
		say "ok $test_count # skip $2 (missing $1)"
	fi
}

# The real agent CLI and the scripted model server (tests/model/).
#
# REAL_CLAUDE is the CLI that scripts/install-agent-cli.sh installs
# (REAL_CLAUDE in the environment overrides it).  The CLAUDE
# prerequisite is set when it is there at the pinned version; otherwise
# CLAUDE_WHY says why, and a script that needs it calls claude_require
# to skip as a whole with that reason.  When HPCLOOP_REQUIRE lists
# "claude" the prerequisite is set anyway, so the steps run and fail.

MODEL_SERVER="$SRC_DIR/tests/model/model-server"
CLAUDE_VERSION=$(sh "$SRC_DIR/scripts/install-agent-cli.sh" --version)
: "${REAL_CLAUDE:=$(sh "$SRC_DIR/scripts/install-agent-cli.sh" --bin)}"
CLAUDE_WHY=
claude_pkg="${REAL_CLAUDE%/.bin/claude}/@anthropic-ai/claude-code/package.json"
if ! [ -x /usr/bin/python3 ]; then
	CLAUDE_WHY="/usr/bin/python3 is missing (the scripted model needs it)"
elif ! [ -x "$REAL_CLAUDE" ]; then
	CLAUDE_WHY="the agent CLI is not installed at $REAL_CLAUDE"
	CLAUDE_WHY="$CLAUDE_WHY (scripts/install-agent-cli.sh installs it"
	CLAUDE_WHY="$CLAUDE_WHY when npm can reach its registry)"
elif [ -f "$claude_pkg" ] && ! grep -q "\"version\": *\"$CLAUDE_VERSION\"" \
	"$claude_pkg"; then
	CLAUDE_WHY="the agent CLI at $REAL_CLAUDE is not the pinned"
	CLAUDE_WHY="$CLAUDE_WHY $CLAUDE_VERSION"
	CLAUDE_WHY="$CLAUDE_WHY (rerun scripts/install-agent-cli.sh)"
fi
case ",${HPCLOOP_REQUIRE:-}," in
*,claude,*) test_set_prereq CLAUDE ;;
*) [ -n "$CLAUDE_WHY" ] || test_set_prereq CLAUDE ;;
esac
[ -x /usr/bin/python3 ] && test_set_prereq MODEL
command -v curl >/dev/null 2>&1 && test_set_prereq CURL

# claude_require: end the script here with "1..0 # SKIP <why>" when the
# real CLI cannot run (and HPCLOOP_REQUIRE does not list it).
claude_require () {
	if test_have_prereq CLAUDE; then
		[ -z "$CLAUDE_WHY" ] ||
			say "# HPCLOOP_REQUIRE lists claude, but $CLAUDE_WHY"
		return 0
	fi
	say "1..0 # SKIP $CLAUDE_WHY"
	cd / && rm -rf "$TRASH_DIRECTORY"
	exit 0
}

# start_model SCRIPT: start the scripted model server with the script
# file SCRIPT on a free loopback port; sets MODEL_PORT, MODEL_URL,
# MODEL_LOG (its record of requests) and MODEL_PID.  It stops with the
# test (test_done ends what runs from the trash) or after 300 s.
start_model () {
	model_n=$((${model_n:-0} + 1))
	MODEL_DIR="$TRASH_DIRECTORY/model-$model_n"
	MODEL_LOG="$MODEL_DIR/requests.jsonl"
	mkdir -p "$MODEL_DIR" || return 1
	/usr/bin/python3 "$MODEL_SERVER" serve --script "$1" \
		--port-file "$MODEL_DIR/port" --log "$MODEL_LOG" \
		--lifetime 300 2>"$MODEL_DIR/stderr" &
	MODEL_PID=$!
	i=0
	while ! [ -s "$MODEL_DIR/port" ]; do
		if [ $i -ge 100 ] || ! kill -0 $MODEL_PID 2>/dev/null; then
			echo "the model server did not start:" >&2
			cat "$MODEL_DIR/stderr" >&2
			return 1
		fi
		sleep 0.1
		i=$((i + 1))
	done
	MODEL_PORT=$(cat "$MODEL_DIR/port") &&
	MODEL_URL="http://127.0.0.1:$MODEL_PORT"
}

# stop_model: stop the server start_model started last.
stop_model () {
	kill $MODEL_PID 2>/dev/null
	wait $MODEL_PID 2>/dev/null
	return 0
}

# model_pick FIELD [PATH]: FIELD of each request the model server
# recorded (tests/model/README.md), of the model calls unless PATH.
model_pick () {
	/usr/bin/python3 "$MODEL_SERVER" pick "$MODEL_LOG" "$1" \
		${2:+--path "$2"}
}

# claude_env: the environment the real CLI needs against the model
# server, as NAME=VALUE lines: its own HOME in the trash, the Bash
# tool capped at 20 s (CLAUDE_BASH_MS), two retries (CLAUDE_RETRIES), a
# 10 s request timeout (CLAUDE_API_TIMEOUT_MS).
claude_env () {
	cat <<-EOF
	HOME=$TRASH_DIRECTORY/claude-home
	ANTHROPIC_BASE_URL=$MODEL_URL
	ANTHROPIC_API_KEY=test-key-for-the-model-server
	CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC=1
	DISABLE_TELEMETRY=1
	DISABLE_AUTOUPDATER=1
	BASH_DEFAULT_TIMEOUT_MS=${CLAUDE_BASH_MS:-20000}
	BASH_MAX_TIMEOUT_MS=${CLAUDE_BASH_MS:-20000}
	CLAUDE_CODE_MAX_RETRIES=${CLAUDE_RETRIES:-2}
	API_TIMEOUT_MS=${CLAUDE_API_TIMEOUT_MS:-10000}
	EOF
}

# run_claude PROMPT [ARGS...]: run the real CLI in print mode with
# stream-json output, PROMPT on stdin, in the current directory with
# claude_env; stdout in ./stream.jsonl, stderr in ./stream.err.
run_claude () {
	prompt=$1
	shift
	mkdir -p "$TRASH_DIRECTORY/claude-home" &&
	printf '%s\n' "$prompt" |
	env $(claude_env) timeout 120 "$REAL_CLAUDE" -p \
		--output-format stream-json --verbose "$@" \
		>stream.jsonl 2>stream.err
}
