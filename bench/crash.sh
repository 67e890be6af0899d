#!/bin/sh
# bench/crash.sh: the crash and race harnesses at full size (issue 7,
# items 1 and 3; DESIGN §12: random kills run only here).  100
# submit-flow calls each killed by kill -9 at a random instant and then
# retried, and 64 identical submit-flow calls at once, on the local
# scheduler.  Prints the counts (duplicates, lost, stuck must be 0); the
# harnesses fail when they are not.  Sizes: HPCLOOP_CRASH_N,
# HPCLOOP_RACE_N.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
rc=0
HPCLOOP_CRASH_N=${HPCLOOP_CRASH_N:-100}
HPCLOOP_RACE_N=${HPCLOOP_RACE_N:-64}
HPCLOOP_ENVELOPE_DIR=$(mktemp -d)
export HPCLOOP_CRASH_N HPCLOOP_RACE_N HPCLOOP_ENVELOPE_DIR
trap 'rm -rf "$HPCLOOP_ENVELOPE_DIR"' EXIT
for h in h1004-random-kill t1003-submit-race; do
	out=$(sh "$top/tests/e2e/$h.sh" 2>&1) || rc=1
	printf '%s\n' "$out" | grep -E '^# (random kill|race|kills land|failed)' |
		sed "s/^# /$h: /"
done
exit $rc
