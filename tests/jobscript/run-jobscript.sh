#!/usr/bin/env bash
#
# run-jobscript.sh: run the job script harness (tests/jobscript/t*.sh),
# which runs templates/job.sh, rendered by the product (test-tool
# render-job), with the stand-in agent and no scheduler.  Each t*.sh
# prints TAP; with prove(1) available the files run in parallel under it,
# otherwise one after the other with a summary.
#
# Usage: tests/jobscript/run-jobscript.sh [t01-happy-sprint.sh ...]
# (`make check-jobscript` builds the binaries first and names them in
# HPCLOOP_BIN and HPCLOOP_TEST_TOOL; the default is build/.)  Needs bash,
# coreutils, setsid, curl, and python3 (the standard library) for the
# webhook receiver.

set -u -o pipefail
dir=$(cd "$(dirname "$0")" && pwd)
cd "$dir" || exit 1

if (($# == 0)); then
	set -- t[0-9]*.sh
fi

src=$(cd ../.. && pwd)
for f in "${HPCLOOP_BIN:=$src/build/hpcloop}" \
	"${HPCLOOP_TEST_TOOL:=$src/build/test-tool}"; do
	if [[ ! -x $f ]]; then
		echo "run-jobscript: $f is not built; run make" \
			"(or make check-jobscript)" >&2
		exit 1
	fi
done
export HPCLOOP_BIN HPCLOOP_TEST_TOOL

if command -v prove >/dev/null 2>&1; then
	exec prove -j4 --timer -e bash "$@"
fi

failed=0
for t in "$@"; do
	echo "== $t"
	bash "$t" || failed=$((failed + 1))
done
if ((failed)); then
	echo "run-jobscript: $failed of $# files failed"
	exit 1
fi
echo "run-jobscript: all $# files passed"
