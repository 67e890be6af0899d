#!/bin/sh
test_description='tables of bad input: tests/e2e/data/PRIMITIVE/CASE/

Each case holds spec.json and expect: the expected error_code, then an
extended regular expression the failure envelope must match.  Every case
must exit 1 with that code and leave the journal row counts unchanged.'
. "$(dirname "$0")/lib.sh"

test_expect_success 'setup' 'setup_local_config'

for case_dir in "$TEST_DIRECTORY"/data/*/*/; do
	prim=$(basename "$(dirname "$case_dir")")
	name=$(basename "$case_dir")
	test_expect_success "$prim/$name" '
		read -r code pattern <"'"$case_dir"'expect" &&
		row_counts >before &&
		test_expect_code 1 hl '"$prim"' --spec "'"$case_dir"'spec.json" &&
		test_error out "$code" &&
		grep -E -q -- "$pattern" out &&
		row_counts >after && test_cmp before after
	'
done

test_done
