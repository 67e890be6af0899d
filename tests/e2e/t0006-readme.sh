#!/bin/sh
test_description='README: the set-up commands are at the top, CI runs the test command it gives, and its shell examples run as written'
# Issue 9 item 9: the README's shell examples run in a scratch
# directory (not the checkout), with an agent that exists on a fresh
# machine, and pipe through nothing the set-up does not install (no jq).
. "$(dirname "$0")/lib.sh"

README=$SRC_DIR/README.md

test_expect_success 'the two set-up commands are near the top, and .ci/run calls the test one' '
	head -n 12 "$README" >top &&
	grep -q "^    scripts/install-deps.sh && make demo " top &&
	grep -q "^    scripts/install-deps.sh && make check " top &&
	grep -q "make check" "$SRC_DIR/.ci/run"
'

test_expect_success 'the examples need nothing the set-up does not install' '
	! grep -n "| *jq\b\|\bjq " "$README"
'

test_expect_success 'the "Trying it by hand" block runs as written, from the checkout, in a scratch directory' '
	/usr/bin/python3 "$TEST_DIRECTORY/readme-block.py" "$README" "Trying it by hand" >block.sh &&
	grep -q "mktemp -d" block.sh &&
	mkdir bin && ln -s "$HPCLOOP_BIN" bin/hpcloop &&
	( cd "$SRC_DIR" && git status --porcelain --ignored >"$TRASH_DIRECTORY/tree-before" 2>/dev/null;
	  unset HPCLOOP_CONFIG HPCLOOP_JOURNAL;
	  TMPDIR=$TRASH_DIRECTORY PATH=$TRASH_DIRECTORY/bin:$PATH sh -e "$TRASH_DIRECTORY/block.sh" ) >run.out 2>run.err &&
	( cd "$SRC_DIR" && git status --porcelain --ignored >"$TRASH_DIRECTORY/tree-after" 2>/dev/null );
	test_cmp tree-before tree-after &&
	grep -c "^{\"ok\":true" run.out >n && test "$(cat n)" -ge 8 &&
	! grep "^{\"ok\":false" run.out &&
	grep -q "\"primitive\":\"cancel\".*\"state\":\"cancelled\"" run.out &&
	grep -q "\"healthy\":true" run.out
'

test_expect_success 'the failure example gives the error it shows' '
	grep -q "hpcloop events --spec .{\"since\": \"x\"}." "$README" &&
	test_expect_code 1 hl events --spec "{\"since\": \"x\"}" &&
	test_error out spec_invalid
'

test_done
