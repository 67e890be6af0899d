#!/bin/sh
test_description='registry, schemas, docs and examples agree'
. "$(dirname "$0")/lib.sh"

names () {
	"$HPCLOOP_BIN" list | "$HPCLOOP_TEST_TOOL" json-field - .data.primitives |
		tr ',' '\n' | sed -n 's/.*"name":"\([^"]*\)".*/\1/p'
}

test_expect_success 'primitives.def matches src/primitives/*.c' '
	sed -n "s/^PRIM(\(.*\))$/\1/p" "$SRC_DIR/src/primitives/primitives.def" |
		tr _ - >def &&
	sort def >def.sorted && test_cmp def def.sorted &&
	(cd "$SRC_DIR/src/primitives" && ls *.c) | sed "s/\.c$//" |
		grep -vx registry >files &&
	test_cmp def files &&
	names >listed && test_cmp def listed
'

test_expect_success 'every primitive has both schemas, draft-07, closed specs' '
	for p in $(names); do
		for w in input output; do
			f="$SRC_DIR/schemas/$p.$w.json" &&
			test -f "$f" &&
			grep -q "draft-07" "$f" &&
			"$HPCLOOP_TEST_TOOL" json-field "$f" .additionalProperties >ap &&
			test "$(cat ap)" = false || { echo "bad $f"; return 1; }
		done
	done
'

test_expect_success 'no schema file without a primitive' '
	(cd "$SRC_DIR/schemas" && ls *.input.json *.output.json) |
		sed "s/\.\(input\|output\)\.json$//" | sort -u >schemas &&
	names | sort >listed && test_cmp listed schemas
'

test_expect_success 'every primitive has docs and an e2e test' '
	for p in $(names); do
		test -f "$SRC_DIR/docs/primitives/$p.md" || { echo "no doc $p"; return 1; }
		grep -l "hl $p\b" "$SRC_DIR"/tests/e2e/t[0-8]*.sh >/dev/null ||
			{ echo "no e2e test calls $p"; return 1; }
	done
'

test_expect_success 'help NAME and docs/primitives/NAME.md agree' '
	for p in $(names); do
		hl help $p &&
		json_field out .data.text >help.md &&
		test_cmp "$SRC_DIR/docs/primitives/$p.md" help.md || return 1
	done
'

test_expect_success 'generated docs are not stale' '
	"$HPCLOOP_BIN" __gen-docs fresh &&
	diff -r "$SRC_DIR/docs/primitives" fresh/primitives &&
	test_cmp "$SRC_DIR/docs/error-codes.md" fresh/error-codes.md &&
	test_cmp "$SRC_DIR/docs/catalog.json" fresh/catalog.json
'

test_expect_success 'every error code in errors.def is in the docs' '
	sed -n "s/^ERR([A-Z_]*, \([a-z_]*\),.*/\1/p" "$SRC_DIR/src/core/errors.def" >codes &&
	test $(wc -l <codes) -ge 19 &&
	while read c; do
		grep -q "| \`$c\` |" "$SRC_DIR/docs/error-codes.md" || return 1
	done <codes
'

test_expect_success 'every documented example runs after init' '
	setup_local_config &&
	for p in $(names); do
		ex=$(sed -n "s/^    hpcloop $p --spec '"'"'\(.*\)'"'"'$/\1/p" \
			"$SRC_DIR/docs/primitives/$p.md") &&
		test -n "$ex" || { echo "no example for $p"; return 1; }
		# Examples name a sprint as sp-000000: give each a fresh one.
		case "$ex" in
		*cp-000000*)
			# Examples name a campaign as cp-000000: one that
			# suits the primitive, settled.
			case $p in
			resubmit-failed) exe=false canary=false ;;
			verify-canary) exe=true canary=true ;;
			*) exe=true canary=false ;;
			esac
			hl submit-flow --spec "{\"study\": \"demo\", \"campaign\": {\"executor\": [\"$exe\"], \"canary\": $canary, \"tasks\": [{\"x\": 1}]}}" &&
			cp=$(json_field out .data.campaign_id) &&
			{ [ $p = verify-canary ] ||
			  hl monitor-flow --spec "{\"campaign_id\": \"$cp\", \"budget_s\": 30, \"interval_s\": 1}"; } || return 1
			ex=$(echo "$ex" | sed "s/cp-000000/$cp/g") ;;
		*sp-000000*)
			FAKE_AGENT_SLEEP=20 submit "example for $p" || return 1
			ex=$(echo "$ex" | sed "s/sp-000000/$sprint/g") ;;
		esac
		hl $p --spec "$ex" &&
		test_json_field out .ok true || { echo "example of $p failed"; cat out; return 1; }
		case "$ex" in *sp-*) hl cancel --spec "{\"sprint_id\":\"$sprint\"}" ;; esac
	done
'

test_done
