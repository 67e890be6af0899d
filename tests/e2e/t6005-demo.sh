#!/bin/sh
test_description='make demo'"'"'s loop (issue 11, item 10): scripts/demo.sh
--loop-only runs 15 executor runs of examples/quadratic tuned by the
builtin proposer; the ledger has them all, a best, and the best beats the
first run'
. "$(dirname "$0")/lib.sh"

[ -x /usr/bin/python3 ] && test_set_prereq PYTHON3

# row N FIELD: field FIELD (1 id, 2 metric, 3 status, 4 description) of
# the Nth row of the demo's ledger.
row () { sed -n "$(($1 + 1))p" tsv | cut -f "$2"; }

test_expect_success PYTHON3 'the demo loop runs to its end' '
	sh "$SRC_DIR/scripts/demo.sh" --loop-only --dir "$PWD/demo" \
		>demo.out 2>demo.err ||
		{ tail -n 20 demo.err >&2; return 1; } &&
	grep -q "^== the loop finished (count)" demo.err &&
	grep -q "^   run 15/15  metric=" demo.err &&
	test "$(grep -c "^   run [ 0-9]*/15  metric=" demo.err)" = 15
'

test_expect_success PYTHON3 'every line the demo printed on stdout is one envelope' '
	n=0 &&
	while IFS= read -r line; do
		printf "%s\n" "$line" >one &&
		"$HPCLOOP_TEST_TOOL" envelope one || { head -c 300 one; return 1; }
		n=$((n + 1))
	done <demo.out &&
	test $n = 5 &&
	grep -c "\"primitive\":\"ledger\"" demo.out | grep -qx 2
'

test_expect_success PYTHON3 'the ledger has the 15 runs, each with a metric the experiment printed' '
	HPCLOOP_CONFIG="$PWD/demo/hpcloop.yaml" \
		HPCLOOP_JOURNAL="$PWD/demo/.hpcloop/journal.db" \
		hl ledger --spec "{\"study\":\"quadratic\",\"format\":\"tsv\"}" &&
	test_json_field out .data.count 15 &&
	test_json_field out .data.counts.crash 0 &&
	json_field out .data.tsv >tsv &&
	test $(wc -l <tsv) = 16 &&
	for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15; do
		case $(row $i 3) in keep|discard) ;; *) return 1 ;; esac
		row $i 4 | grep -q "^Set activation=" || return 1
	done &&
	test "$(grep -c "^metric: " demo/sprints/quadratic/*/executor.log | grep -c ":1$")" = 15
'

test_expect_success PYTHON3 'there is a best, and it beats the first run' '
	HPCLOOP_CONFIG="$PWD/demo/hpcloop.yaml" \
		HPCLOOP_JOURNAL="$PWD/demo/.hpcloop/journal.db" \
		hl ledger --spec "{\"study\":\"quadratic\"}" &&
	test_json_field out .data.best.status keep &&
	best=$(json_field out .data.best.id) &&
	first=$(row 1 2) &&
	bestv=$(awk -F "\t" -v id="$best" "\$1 == id { print \$2 }" tsv) &&
	test -n "$bestv" &&
	echo "first $first, best $bestv (run $best)" &&
	awk -v b="$bestv" -v f="$first" "BEGIN { exit !(b < f) }" &&
	grep -q "^   run $(json_field out .data.best.iteration): metric $bestv" demo.err
'

test_done
