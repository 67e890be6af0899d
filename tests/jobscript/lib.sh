#!/usr/bin/env bash
#
# lib.sh: the library of the job script harness (tests/jobscript/t*.sh).
#
# It exercises templates/job.sh without the rest of hpcloop: a small C
# program ("jt", compiled on the fly into a cache directory under /tmp
# from src/core/template.c and its few dependencies) renders the prompts
# and the job script, and reads JSON back for the checks.  The agent is
# tests/agents/fake-agent.
#
# A test file sets test_description, sources this file, runs steps with
#	test_expect_success 'title' 'commands'
# and ends with test_done, which prints the TAP plan.  Each file gets a
# fresh trash directory (TRASH) and leaves it behind only when a step
# failed.  The API follows tests/e2e/lib.sh, so that the tests port to
# the e2e suite with few changes.
#
# Helpers:
#   jt render|get|lines|string|valid ARGS	the JSON/template helper
#   make_sprint DIR [OPTION=VALUE...]	render DIR/job.sh (see below)
#   run_job DIR [ENV=VALUE...]		run DIR/job.sh, wait (30 s at most)
#   start_job DIR [ENV=VALUE...]	run it in the background (JOB_PID)
#   wait_for SECONDS COMMAND...		poll until COMMAND succeeds
#   test_json_field FILE PATH EXPECTED	compare one JSON field

TEST_DIRECTORY=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SRC_DIR=$(cd "$TEST_DIRECTORY/../.." && pwd)
FAKE_AGENT="$SRC_DIR/tests/agents/fake-agent"
JT_CACHE="${TMPDIR:-/tmp}/hpcloop-jobscript-$(id -u)"
this_test=$(basename "$0" .sh)
TRASH="${TMPDIR:-/tmp}/hpcloop-jobscript-trash.$this_test.$$"
test_count=0
test_failures=0
JOB_RC=''	# the exit code of the last job (run_job, wait_job)
JOB_PID=''	# the job of start_job
SPRINT=''	# the sprint directory of the last make_sprint
export JOB_RC JOB_PID SPRINT

rm -rf "$TRASH"
mkdir -p "$TRASH" "$JT_CACHE" || exit 1

# ---------------------------------------------------------------------
# The helper program
# ---------------------------------------------------------------------

# jt_source: print the C source of the helper.
jt_source() {
	cat <<'EOF'
/* jt: the job script harness's helper (see tests/jobscript/lib.sh). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include "buf.h"
#include "err.h"
#include "template.h"

static char *slurp(const char *path, size_t *len)
{
	struct buf b;
	FILE *f = fopen(path, "rb");

	if (!f) {
		perror(path);
		exit(2);
	}
	buf_init(&b, 0);
	if (buf_read_file(&b, f) != 0)
		exit(2);
	fclose(f);
	return buf_detach(&b, len);
}

static json_t *load(const char *path)
{
	json_error_t e;
	json_t *v = json_load_file(path, JSON_DECODE_ANY, &e);

	if (!v) {
		fprintf(stderr, "%s:%d: %s\n", path, e.line, e.text);
		exit(1);
	}
	return v;
}

/* Walk the dotted 'path' ("steps.0.name") from 'v'. */
static json_t *walk(json_t *v, const char *path)
{
	char *copy = strdup(path), *save = NULL, *part;

	for (part = strtok_r(copy, ".", &save); part && v;
	     part = strtok_r(NULL, ".", &save)) {
		if (json_is_array(v))
			v = json_array_get(v, strtoul(part, NULL, 10));
		else
			v = json_object_get(v, part);
	}
	free(copy);
	return v;
}

int main(int argc, char **argv)
{
	struct err err = ERR_INIT;
	char *text, *out;
	size_t len;
	json_t *v;

	if (argc == 4 && !strcmp(argv[1], "render")) {
		text = slurp(argv[2], &len);
		v = load(argv[3]);
		if (template_render(&out, text, v, argv[2], &err) < 0) {
			fprintf(stderr, "%s\n", err.message);
			return 1;
		}
		fputs(out, stdout);
		return 0;
	}
	if (argc == 4 && !strcmp(argv[1], "get")) {
		v = walk(load(argv[2]), argv[3]);
		if (!v)
			return 1;
		if (json_is_string(v)) {
			fwrite(json_string_value(v), 1, json_string_length(v),
			       stdout);
		} else {
			out = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT |
					 JSON_REAL_PRECISION(15));
			fputs(out, stdout);
		}
		putchar('\n');
		return 0;
	}
	if (argc == 3 && !strcmp(argv[1], "lines")) {
		/* Every line is one JSON object; print how many. */
		char *line, *save = NULL;
		int n = 0;

		text = slurp(argv[2], &len);
		if (strlen(text) != len)
			return 1;
		for (line = strtok_r(text, "\n", &save); line;
		     line = strtok_r(NULL, "\n", &save), n++) {
			json_error_t e;

			v = json_loads(line, 0, &e);
			if (!json_is_object(v)) {
				fprintf(stderr, "line %d: %s\n", n + 1,
					e.text);
				return 1;
			}
		}
		printf("%d\n", n);
		return 0;
	}
	if (argc == 3 && !strcmp(argv[1], "string")) {
		text = slurp(argv[2], &len);
		v = json_stringn(text, len);
		if (!v)
			return 1;
		out = json_dumps(v, JSON_ENCODE_ANY);
		fputs(out, stdout);
		return 0;
	}
	if (argc == 3 && !strcmp(argv[1], "valid")) {
		load(argv[2]);
		return 0;
	}
	fprintf(stderr, "usage: jt render TEMPLATE VARS | get FILE PATH |"
		" lines FILE | string FILE | valid FILE\n");
	return 2;
}
EOF
}

# jt_build: compile the helper into JT_CACHE unless it is up to date.
jt_build() {
	local bin="$JT_CACHE/jt" src f stale=0 tmp
	[[ -x $bin ]] || stale=1
	for f in "$SRC_DIR"/src/core/{template,buf,err,xalloc,envelope,fault}.c \
		"$SRC_DIR"/src/core/{template,buf,err,xalloc,envelope,fault}.h \
		"$SRC_DIR/src/core/errors.def" "$TEST_DIRECTORY/lib.sh"; do
		[[ $f -nt $bin ]] && stale=1
	done
	((stale)) || return 0
	tmp=$(mktemp -d "$JT_CACHE/build.XXXXXX") || return 1
	src="$tmp/jt.c"
	jt_source >"$src"
	# shellcheck disable=SC2046
	${CC:-gcc} -std=c11 -D_GNU_SOURCE -O1 -w -I"$SRC_DIR/src/core" \
		$(pkg-config --cflags jansson) -o "$tmp/jt" "$src" \
		"$SRC_DIR"/src/core/{template,buf,err,xalloc,envelope,fault}.c \
		$(pkg-config --libs jansson) &&
		mv -f "$tmp/jt" "$bin"
	local rc=$?
	rm -rf "$tmp"
	return "$rc"
}

# jt ARGS...: run the helper.
jt() {
	"$JT_CACHE/jt" "$@"
}

# ---------------------------------------------------------------------
# Rendering a sprint
# ---------------------------------------------------------------------

# b64 FILE: print FILE in base64 on one line.
b64() {
	base64 -w0 <"$1"
}

# b64s TEXT: print TEXT in base64 on one line.
b64s() {
	printf '%s' "$1" | base64 -w0
}

# make_sprint DIR [OPTION=VALUE...]: render the prompts and DIR/job.sh
# for a sprint in DIR/sprint, as hpcloop would.  Options (defaults):
#   idea_file=FILE (an idea of one line)   rounds=N (2)
#   context=TEXT ('')  url=URL ('')  token=TOKEN ('')
#   heartbeat=S (1)  grace=S (2)  step_timeout=S (0)
#   agent=PATH (tests/agents/fake-agent)  env='NAME=VALUE' (one)
#   header='#SBATCH ...' (one)  sprint_id=ID (sp-7e57ab)
# The sprint directory is DIR/sprint (SPRINT).
make_sprint() {
	local dir=$1 opt key value
	local idea_file='' rounds=2 context='' url='' token='' heartbeat=1
	local grace=2 step_timeout=0 agent=$FAKE_AGENT env='' header=''
	local sprint_id=sp-7e57ab
	shift
	for opt in "$@"; do
		key=${opt%%=*}
		value=${opt#*=}
		case $key in
		idea_file | rounds | context | url | token | heartbeat | \
			grace | step_timeout | agent | env | header | sprint_id)
			printf -v "$key" '%s' "$value"
			;;
		*)
			echo "make_sprint: unknown option $key" >&2
			return 1
			;;
		esac
	done
	jt_build || return 1
	mkdir -p "$dir/sprint/.hpcloop" "$dir/prompts" || return 1
	SPRINT="$dir/sprint"
	if [[ -z $idea_file ]]; then
		idea_file="$dir/idea.txt"
		printf 'Does the fake agent follow the pipeline?\n' >"$idea_file"
	fi
	if [[ -n $token ]]; then
		(umask 077 && printf '%s\n' "$token" >"$SPRINT/.hpcloop/token")
	fi
	printf '%s' "$context" >"$dir/context.txt"

	# The prompts, rendered with the idea as raw text.
	local r kind
	prompt_vars() {
		printf '{"idea": %s, "study": "demo", "sprint_id": "%s",' \
			"$(jt string "$idea_file")" "$sprint_id"
		printf ' "round": %d, "max_rounds": %d, "context": %s}\n' \
			"$1" "$rounds" "$(jt string "$dir/context.txt")"
	}
	prompt_vars 0 >"$dir/prompts/vars-0.json" || return 1
	for kind in research report summarize; do
		jt render "$SRC_DIR/templates/prompt-$kind.md" \
			"$dir/prompts/vars-0.json" >"$dir/prompts/$kind.md" ||
			return 1
	done
	for ((r = 1; r <= rounds; r++)); do
		prompt_vars "$r" >"$dir/prompts/vars-$r.json" || return 1
		for kind in red-team fix; do
			jt render "$SRC_DIR/templates/prompt-$kind.md" \
				"$dir/prompts/vars-$r.json" \
				>"$dir/prompts/$kind-$r.md" || return 1
		done
	done

	# The job script's variables: all user text in base64.
	{
		printf '{"sprint_id": "%s", "study": "demo",\n' "$sprint_id"
		printf ' "header_lines": ['
		[[ -n $header ]] && printf '{"line": %s}' \
			"$(printf '%s' "$header" | jt string /dev/stdin)"
		printf '],\n'
		printf ' "sprint_dir_b64": "%s",\n' "$(b64s "$SPRINT")"
		printf ' "idea_b64": "%s",\n' "$(b64 "$idea_file")"
		printf ' "agent_argv": [{"b64": "%s"}, {"b64": "%s"},' \
			"$(b64s "$agent")" "$(b64s -p)"
		printf ' {"b64": "%s"}, {"b64": "%s"}, {"b64": "%s"}],\n' \
			"$(b64s --output-format)" "$(b64s stream-json)" \
			"$(b64s --verbose)"
		printf ' "env": ['
		if [[ -n $env ]]; then
			printf '{"name": "%s", "value_b64": "%s"}' \
				"${env%%=*}" "$(b64s "${env#*=}")"
		fi
		printf '],\n'
		printf ' "context_b64": "%s",\n' "$(b64s "$context")"
		printf ' "prompts": {"research_b64": "%s",' \
			"$(b64 "$dir/prompts/research.md")"
		printf ' "report_b64": "%s",' "$(b64 "$dir/prompts/report.md")"
		printf ' "summarize_b64": "%s",\n' \
			"$(b64 "$dir/prompts/summarize.md")"
		for kind in red-team fix; do
			printf '  "%s": [' "${kind/-/_}"
			for ((r = 1; r <= rounds; r++)); do
				((r > 1)) && printf ', '
				printf '{"round": %d, "b64": "%s"}' "$r" \
					"$(b64 "$dir/prompts/$kind-$r.md")"
			done
			printf ']'
			[[ $kind == red-team ]] && printf ','
			printf '\n'
		done
		printf ' },\n'
		printf ' "red_team_max_rounds": %d,\n' "$rounds"
		printf ' "heartbeat_interval_s": %d,\n' "$heartbeat"
		printf ' "watchdog_grace_s": %d,\n' "$grace"
		printf ' "step_timeout_s": %d,\n' "$step_timeout"
		printf ' "orchestrator_url_b64": "%s"}\n' "$(b64s "$url")"
	} >"$dir/vars.json" || return 1
	jt render "$SRC_DIR/templates/job.sh" "$dir/vars.json" >"$dir/job.sh" &&
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

# test_expect_success TITLE COMMANDS: run COMMANDS in this shell (so
# that later steps see the variables they set), starting in the trash
# directory, and print one TAP line.
test_expect_success() {
	local rc
	test_count=$((test_count + 1))
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
