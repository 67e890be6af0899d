#!/usr/bin/env bash
#
# lib.sh: the library of the job script harness (tests/jobscript/t*.sh).
#
# It runs the job script as a sprint runs it, with the stand-in agent
# tests/agents/fake-agent and no scheduler: make_sprint writes an
# hpcloop.yaml and renders the script through the product (test-tool
# render-job, which calls jobgen_build() on the embedded
# templates/job.sh), and run_job runs it.  So the binaries must be built
# first (`make check-jobscript` builds them); HPCLOOP_BIN and
# HPCLOOP_TEST_TOOL name them (default build/).
#
# A test file sets test_description, sources this file, runs steps with
#	test_expect_success [PREREQ] 'title' 'commands'
# and ends with test_done, which prints the TAP plan.  A step whose
# PREREQ is missing prints "ok N # skip", with the reason given to
# test_lack_prereq, and does not run.  Each file gets a fresh trash
# directory (TRASH) and leaves it behind only when a step failed.  The
# API follows tests/e2e/lib.sh, so that the tests port to the e2e suite
# with few changes.
#
# Helpers:
#   jt get|lines|valid ARGS		read JSON back (test-tool)
#   make_sprint DIR [OPTION=VALUE...]	render DIR/job.sh (see below)
#   run_job DIR [ENV=VALUE...]		run DIR/job.sh, wait (30 s at most)
#   start_job DIR [ENV=VALUE...]	run it in the background (JOB_PID)
#   wait_for SECONDS COMMAND...		poll until COMMAND succeeds
#   test_json_field FILE PATH EXPECTED	compare one JSON field
#   test_set_prereq NAME / test_lack_prereq NAME REASON

TEST_DIRECTORY=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SRC_DIR=$(cd "$TEST_DIRECTORY/../.." && pwd)
FAKE_AGENT="$SRC_DIR/tests/agents/fake-agent"
: "${HPCLOOP_BIN:=$SRC_DIR/build/hpcloop}"
: "${HPCLOOP_TEST_TOOL:=$SRC_DIR/build/test-tool}"
[[ $HPCLOOP_BIN == /* ]] || HPCLOOP_BIN=$PWD/$HPCLOOP_BIN
[[ $HPCLOOP_TEST_TOOL == /* ]] || HPCLOOP_TEST_TOOL=$PWD/$HPCLOOP_TEST_TOOL
export HPCLOOP_BIN HPCLOOP_TEST_TOOL
# The config is the test's own: no orchestrator from the environment.
unset HPCLOOP_CONFIG HPCLOOP_JOURNAL HPCLOOP_ORCHESTRATOR_URL \
	HPCLOOP_ORCHESTRATOR_SECRET HPCLOOP_FAULT
this_test=$(basename "$0" .sh)
TRASH="${TMPDIR:-/tmp}/hpcloop-jobscript-trash.$this_test.$$"
test_count=0
test_failures=0
JOB_RC=''	# the exit code of the last job (run_job, wait_job)
JOB_PID=''	# the job of start_job
SPRINT=''	# the sprint directory of the last make_sprint
export JOB_RC JOB_PID SPRINT
declare -A PREREQ=()	# name -> "" (present) or the reason it is missing

# The binaries render the embedded templates: one older than a template
# would test an old script.
for f in "$HPCLOOP_BIN" "$HPCLOOP_TEST_TOOL"; do
	if [[ ! -x $f ]]; then
		echo "Bail out! $f is not built (run make)"
		exit 1
	fi
	for t in "$SRC_DIR"/templates/*; do
		if [[ $t -nt $f ]]; then
			echo "Bail out! $f is older than $t (run make)"
			exit 1
		fi
	done
done
unset f t

rm -rf "$TRASH"
mkdir -p "$TRASH" || exit 1

# ---------------------------------------------------------------------
# JSON, through test-tool
# ---------------------------------------------------------------------

# jt get FILE PATH: print the field PATH ("steps.0.name") of the JSON in
# FILE: strings raw with a newline, other values as compact JSON.
# jt lines FILE: print the number of lines of FILE, each of which must be
# a JSON object.
# jt valid FILE: FILE is a JSON object.
jt() {
	local line n=0
	case ${1-} in
	get)
		"$HPCLOOP_TEST_TOOL" json-field "$2" "$3"
		;;
	lines)
		while IFS= read -r line || [[ -n $line ]]; do
			n=$((n + 1))
			printf '%s' "$line" |
				"$HPCLOOP_TEST_TOOL" keys - >/dev/null || {
				echo "$2: line $n is not a JSON object" >&2
				return 1
			}
		done <"$2"
		printf '%d\n' "$n"
		;;
	valid)
		"$HPCLOOP_TEST_TOOL" keys "$2" >/dev/null
		;;
	*)
		echo "usage: jt get FILE PATH | lines FILE | valid FILE" >&2
		return 2
		;;
	esac
}

# ---------------------------------------------------------------------
# Rendering a sprint through the product
# ---------------------------------------------------------------------

# yaml_str TEXT: print TEXT as a double-quoted YAML scalar.  It is also
# a JSON string literal, which YAML 1.2 reads the same way: backslash and
# quote escaped, control characters as \u00XX, the rest as it is.
yaml_str() {
	local LC_ALL=C
	local s=$1 out='' c n bs=$'\\' q='"' re='^[^[:cntrl:]"\\]+'
	while [[ -n $s ]]; do
		if [[ $s =~ $re ]]; then
			out+=${BASH_REMATCH[0]}
			s=${s:${#BASH_REMATCH[0]}}
			continue
		fi
		c=${s:0:1}
		case $c in
		"$bs") out+="$bs$bs" ;;
		"$q") out+="$bs$q" ;;
		*)
			printf -v n '%d' "'$c"
			printf -v c '\\u%04x' "$n"
			out+=$c
			;;
		esac
		s=${s:1}
	done
	printf '"%s"' "$out"
}

# make_sprint DIR [OPTION=VALUE...]: write DIR/hpcloop.yaml for the
# options and render DIR/job.sh from it with test-tool render-job (the
# product's jobgen_build()), for a sprint of study "demo" in DIR/sprint
# (SPRINT).  Each option is a key of the config:
#   rounds=N (2)		studies.demo.red_team_max_rounds
#   context=TEXT ('')		context
#   url=URL ('')		orchestrator_url
#   heartbeat=S (1)		heartbeat_interval_s
#   grace=S (2)			watchdog_grace_s
#   step_timeout=S (0)		step_timeout_s
#   agent=PATH (fake-agent)	agent_command: [PATH, -p, --output-format,
#				stream-json, --verbose]
#   env='NAME=VALUE' (none)	clusters.here.environment (one variable)
#   scheduler=NAME (local)	clusters.here.scheduler
#   job_option='KEY=VALUE' (none)  clusters.here.job_options (one)
#   hours=H (8)			studies.demo.max_sprint_duration_hours
#   executor=ARG,ARG... (none)	studies.demo.executor (an array; no
#				commas inside an argument)
#   metric=NAME (none)		studies.demo.metric.name (minimize)
# or of the request:
#   idea_file=FILE (an idea of one line)
#   sprint_id=ID (sp-7e57ab)
#   params_file=FILE (none)	the run's parameters (a JSON object)
# and token=TOKEN writes SPRINT/.hpcloop/token (0600) as submit-flow does.
make_sprint() {
	local dir=$1 opt key value
	local idea_file='' rounds=2 context='' url='' token='' heartbeat=1
	local grace=2 step_timeout=0 agent=$FAKE_AGENT env='' job_option=''
	local scheduler=local sprint_id=sp-7e57ab hours=8 executor=''
	local metric='' params_file='' sep a
	local -a args=()
	shift
	for opt in "$@"; do
		key=${opt%%=*}
		value=${opt#*=}
		case $key in
		idea_file | rounds | context | url | token | heartbeat | \
			grace | step_timeout | agent | env | job_option | \
			scheduler | sprint_id | hours | executor | metric | \
			params_file)
			printf -v "$key" '%s' "$value"
			;;
		*)
			echo "make_sprint: unknown option $key" >&2
			return 1
			;;
		esac
	done
	mkdir -p "$dir/sprint/.hpcloop" || return 1
	SPRINT="$dir/sprint"
	if [[ -z $idea_file ]]; then
		idea_file="$dir/idea.txt"
		printf '%s\n' 'Does the fake agent follow the pipeline?' \
			>"$idea_file"
	fi
	if [[ -n $token ]]; then
		(umask 077 && printf '%s\n' "$token" >"$SPRINT/.hpcloop/token")
	fi
	{
		printf 'version: 1\n'
		printf 'heartbeat_interval_s: %s\n' "$heartbeat"
		printf 'watchdog_grace_s: %s\n' "$grace"
		printf 'step_timeout_s: %s\n' "$step_timeout"
		[[ -n $context ]] &&
			printf 'context: %s\n' "$(yaml_str "$context")"
		[[ -n $url ]] &&
			printf 'orchestrator_url: %s\n' "$(yaml_str "$url")"
		printf 'agent_command: [%s, "-p", "--output-format",' \
			"$(yaml_str "$agent")"
		printf ' "stream-json", "--verbose"]\n'
		printf 'clusters:\n  here:\n    scheduler: %s\n' \
			"$(yaml_str "$scheduler")"
		if [[ -n $env ]]; then
			printf '    environment:\n      %s: %s\n' \
				"$(yaml_str "${env%%=*}")" \
				"$(yaml_str "${env#*=}")"
		fi
		if [[ -n $job_option ]]; then
			printf '    job_options:\n      %s: %s\n' \
				"$(yaml_str "${job_option%%=*}")" \
				"$(yaml_str "${job_option#*=}")"
		fi
		printf 'studies:\n  demo:\n    cluster: here\n'
		printf '    red_team_max_rounds: %s\n' "$rounds"
		printf '    max_sprint_duration_hours: %s\n' "$hours"
		if [[ -n $executor ]]; then
			printf '    executor: ['
			sep=''
			IFS=, read -r -a args <<<"$executor"
			for a in "${args[@]}"; do
				printf '%s%s' "$sep" "$(yaml_str "$a")"
				sep=', '
			done
			printf ']\n'
		fi
		if [[ -n $metric ]]; then
			printf '    metric: {name: %s, direction: minimize}\n' \
				"$(yaml_str "$metric")"
		fi
	} >"$dir/hpcloop.yaml" || return 1
	"$HPCLOOP_TEST_TOOL" render-job "$dir/hpcloop.yaml" demo \
		"$idea_file" "$sprint_id" "$SPRINT" ${params_file:+"$params_file"} \
		>"$dir/job.sh" &&
		chmod +x "$dir/job.sh"
}

# ---------------------------------------------------------------------
# Running a job
# ---------------------------------------------------------------------

# run_job DIR [ENV=VALUE...]: run DIR/job.sh in a clean environment
# (plus ENV) and wait for it, 30 s at most; JOB_RC is its exit code.
# Its stdout and stderr go to DIR/job.out.
run_job() {
	local dir=$1
	shift
	env -i PATH="$PATH" HOME="$dir" TMPDIR="${TMPDIR:-/tmp}" "$@" \
		timeout -k 5 30 bash "$dir/job.sh" >"$dir/job.out" 2>&1
	JOB_RC=$?
}

# start_job DIR [ENV=VALUE...]: start DIR/job.sh in the background;
# JOB_PID is the pid of its bash.  A background job of a script starts
# with SIGINT ignored, which bash cannot undo; env(1) resets it where it
# can, as a scheduler would start the job.
start_job() {
	local dir=$1
	local -a reset=()
	shift
	env --default-signal=INT true 2>/dev/null &&
		reset=(--default-signal=INT)
	env ${reset[@]+"${reset[@]}"} -i PATH="$PATH" HOME="$dir" \
		TMPDIR="${TMPDIR:-/tmp}" "$@" \
		bash "$dir/job.sh" >"$dir/job.out" 2>&1 &
	JOB_PID=$!
}

# wait_job SECONDS: wait for the job of start_job to end (JOB_RC), and
# kill it when it takes longer than SECONDS.
wait_job() {
	local i
	for ((i = 0; i < $1 * 10; i++)); do
		kill -0 "$JOB_PID" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$JOB_PID" 2>/dev/null; then
		echo "job $JOB_PID still running after $1 s; killing it" >&2
		kill -KILL "$JOB_PID"
	fi
	wait "$JOB_PID"
	JOB_RC=$?
}

# wait_for SECONDS COMMAND...: run COMMAND every 0.1 s until it succeeds;
# fail after SECONDS.
wait_for() {
	local i limit=$(($1 * 10))
	shift
	for ((i = 0; i < limit; i++)); do
		"$@" && return 0
		sleep 0.1
	done
	echo "gave up waiting for: $*" >&2
	return 1
}

# ---------------------------------------------------------------------
# Checks and TAP
# ---------------------------------------------------------------------

# test_json_field FILE PATH EXPECTED: the field PATH of the JSON in FILE
# is EXPECTED (strings compared raw, other values as compact JSON).
test_json_field() {
	local got
	got=$(jt get "$1" "$2") || {
		echo "no field $2 in $1" >&2
		return 1
	}
	if [[ $got != "$3" ]]; then
		echo "$1: $2 is '$got', expected '$3'" >&2
		return 1
	fi
}

# test_must_contain FILE TEXT: FILE holds the fixed string TEXT.
test_must_contain() {
	grep -qF -- "$2" "$1" || {
		echo "'$2' not found in $1" >&2
		return 1
	}
}

# test_run_ COMMANDS: evaluate COMMANDS in a function of its own, so that
# a "return" in them ends only them.
test_run_() {
	eval "$1"
}

# test_set_prereq NAME: NAME is present.
test_set_prereq() {
	PREREQ[$1]=''
}

# test_lack_prereq NAME REASON: NAME is missing, because of REASON (the
# skip lines say it).
test_lack_prereq() {
	PREREQ[$1]=$2
}

# test_expect_success [PREREQ] TITLE COMMANDS: run COMMANDS in this
# shell (so that later steps see the variables they set), starting in
# the trash directory, and print one TAP line.  When PREREQ was given to
# test_lack_prereq the step is skipped, saying why; a PREREQ given to
# neither function fails the step.
test_expect_success() {
	local rc prereq=''
	if (($# == 3)); then
		prereq=$1
		shift
	fi
	test_count=$((test_count + 1))
	if [[ -n $prereq && ! -v PREREQ[$prereq] ]]; then
		# A misspelt name must not skip a step silently.
		test_failures=$((test_failures + 1))
		printf 'not ok %d - %s (prerequisite %s never checked)\n' \
			"$test_count" "$1" "$prereq"
		return 0
	fi
	if [[ -n $prereq && -n ${PREREQ[$prereq]} ]]; then
		printf 'ok %d # skip %s (%s: %s)\n' "$test_count" "$1" \
			"$prereq" "${PREREQ[$prereq]}"
		return 0
	fi
	cd "$TRASH" || exit 1
	test_run_ "$2" >"$TRASH/.step-log" 2>&1
	rc=$?
	cd "$TRASH" || exit 1
	if ((rc == 0)); then
		printf 'ok %d - %s\n' "$test_count" "$1"
	else
		test_failures=$((test_failures + 1))
		printf 'not ok %d - %s\n' "$test_count" "$1"
		printf '%s\n' "$2" | sed -e 's/^/#	/'
		sed -e 's/^/# > /' "$TRASH/.step-log"
	fi
}

# test_done: print the plan, clean up, and exit with the result.
test_done() {
	printf '1..%d\n' "$test_count"
	if ((test_failures == 0)); then
		rm -rf "$TRASH"
		exit 0
	fi
	printf '# failed %d of %d; trash kept in %s\n' "$test_failures" \
		"$test_count" "$TRASH"
	exit 1
}

printf '# %s\n' "${test_description:-$this_test}"
