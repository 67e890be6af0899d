#!/bin/sh
test_description='every envelope the suite produced matches its output schema

Runs after the t0-t8 tests (the Makefile runs t9 last).  Validates the
data of every success envelope with the built-in validator and, when
present, with Debian python3-jsonschema, and fails when a primitive of
the catalog was never invoked by any test.'
. "$(dirname "$0")/lib.sh"

test_expect_success 'the suite logged envelopes' '
	cat "$HPCLOOP_ENVELOPE_DIR"/t[0-8]*.jsonl >all.jsonl &&
	test $(wc -l <all.jsonl) -gt 50
'

test_expect_success 'built-in validator: every data matches its schema' '
	"$HPCLOOP_TEST_TOOL" check-output all.jsonl
'

test_expect_success 'every failure carries a code its primitive declares (or every primitive may return)' '
	"$HPCLOOP_TEST_TOOL" check-errors all.jsonl
'

test_expect_success PYJSONSCHEMA 'python3-jsonschema agrees' '
	/usr/bin/python3 "$TEST_DIRECTORY/check-envelopes.py" \
		"$SRC_DIR/schemas" all.jsonl
'

test_expect_success 'every primitive in the catalog was invoked successfully' '
	"$HPCLOOP_BIN" list | "$HPCLOOP_TEST_TOOL" json-field - .data.primitives |
		tr "," "\n" | sed -n "s/.*\"name\":\"\([^\"]*\)\".*/\1/p" >names &&
	while read p; do
		grep -q "\"ok\":true,\"primitive\":\"$p\"" all.jsonl ||
			{ echo "never invoked: $p"; return 1; }
	done <names
'

test_done
