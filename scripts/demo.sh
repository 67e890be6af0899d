#!/bin/sh
# The demo: set up hpcloop in a temporary directory and show the
# primitives at work.  Progress goes to stderr; the JSON each step
# prints goes to stdout.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
bin="$top/build/hpcloop"
dir=$(mktemp -d "${TMPDIR:-/tmp}/hpcloop-demo.XXXXXX")
cd "$dir"
export HPCLOOP_CONFIG="$dir/hpcloop.yaml" HPCLOOP_JOURNAL="$dir/.hpcloop/journal.db"
say () { printf '\n== %s\n' "$*" >&2; }

say "hpcloop init (in $dir)"
"$bin" init
say "the catalog"
"$bin" list
say "a note in the journal, twice: the second is a replay"
"$bin" annotate --spec '{"subject":"demo","text":"demo started"}'
"$bin" annotate --spec '{"subject":"demo","text":"demo started"}'
say "events since 0"
"$bin" events --spec '{"since":0}'
say "doctor"
"$bin" doctor
say "done: everything is in $dir"
