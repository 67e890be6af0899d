#!/bin/sh
# Fail when the committed generated docs differ from what the binary
# generates now (`make docs` regenerates them).
set -eu
bin=${HPCLOOP_BIN:-./build/hpcloop}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$bin" __gen-docs "$tmp"
if ! diff -r docs/primitives "$tmp/primitives" >"$tmp/diff" ||
	! diff docs/error-codes.md "$tmp/error-codes.md" >>"$tmp/diff" ||
	! diff docs/catalog.json "$tmp/catalog.json" >>"$tmp/diff"; then
	cat "$tmp/diff" >&2
	echo "docs are stale: run 'make docs' and commit the result" >&2
	exit 1
fi
echo "docs are up to date"
