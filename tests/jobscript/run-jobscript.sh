#!/usr/bin/env bash
#
# run-jobscript.sh: run the job script harness (tests/jobscript/t*.sh),
# which checks templates/job.sh with the stand-in agent, without the rest
# of hpcloop.  Each t*.sh prints TAP; with prove(1) available the files run
# in parallel under it, otherwise one after the other with a summary.
#
# Usage: tests/jobscript/run-jobscript.sh [t01-happy-sprint.sh ...]
# Needs bash, coreutils, setsid, gcc, pkg-config and jansson (to build the
# small rendering helper), curl, and python3 for the webhook receiver.

set -u -o pipefail
dir=$(cd "$(dirname "$0")" && pwd)
cd "$dir" || exit 1

if (($# == 0)); then
	set -- t[0-9]*.sh
fi

# Build the helper once, before the files run in parallel.
bash -c '. ./lib.sh >/dev/null && jt_build && rm -rf "$TRASH"' || {
	echo "run-jobscript: cannot build the rendering helper" >&2
	exit 1
}

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
