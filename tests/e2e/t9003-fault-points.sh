#!/bin/sh
test_description='docs/fault-points.md lists exactly the fault points of the code, and a test names each'
. "$(dirname "$0")/lib.sh"

test_expect_success 'the code and the doc list the same points' '
	grep -rhoE "fault_point\(\"[a-z_.]+\"\)" "$SRC_DIR/src" |
		sed "s/fault_point(\"\(.*\)\")/\1/" | sort -u >code &&
	test -s code &&
	sed -n "s/^| \`\([a-z_.]*\)\` |.*/\1/p" "$SRC_DIR/docs/fault-points.md" |
		sort -u >doc &&
	test_cmp code doc
'

test_expect_success 'each point is named by a test that aims at it' '
	for p in $(cat code); do
		grep -rlF "$p" "$SRC_DIR/tests/e2e" "$SRC_DIR/tests/unit" |
			grep -v t9003 >where || { echo "no test names $p"; return 1; }
	done
'

test_expect_success 'each test the doc names for a point names that point' '
	sed -n "s/^| \`\([a-z_.]*\)\` |.*| \([^|]*\) |$/\1 \2/p" \
		"$SRC_DIR/docs/fault-points.md" | tr -d , >pairs &&
	test -s pairs &&
	while read -r p tests; do
		for t in $tests; do
			f=$(ls "$SRC_DIR"/tests/e2e/$t-*.sh "$SRC_DIR"/tests/unit/$t.c 2>/dev/null | head -1) &&
			test -n "$f" || { echo "$p: no test $t"; return 1; }
			case $t in t1004) continue ;; esac
			grep -qF "$p" "$f" || { echo "$f does not name $p"; return 1; }
		done
	done <pairs
'

test_done
