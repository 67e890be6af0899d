#!/bin/sh
test_description='the contract every primitive keeps on bad input

For EVERY primitive that `hpcloop list` reports: a garbage spec, a
non-object spec, an unknown field, invalid UTF-8 and a 2 MiB spec each
give one JSON line, spec_invalid, exit 1, and leave the journal row counts
unchanged.'
. "$(dirname "$0")/lib.sh"

test_expect_success 'setup: init and a 2 MiB spec' '
	hl init &&
	hl annotate --spec "{\"text\":\"seed\"}" &&
	head -c 2097152 /dev/zero | tr "\0" "a" >big.txt &&
	{ printf "{\"x\":\""; cat big.txt; printf "\"}"; } >big.json &&
	printf "{\"text\":\"\377\376\"}" >badutf8.json &&
	hl list &&
	json_field out .data.primitives >catalog &&
	"$HPCLOOP_TEST_TOOL" json-field out .data.count >count &&
	test "$(cat count)" -ge 9
'

names=$("$HPCLOOP_BIN" list | "$HPCLOOP_TEST_TOOL" json-field - .data.primitives |
	tr ',' '\n' | sed -n 's/.*"name":"\([^"]*\)".*/\1/p')

for p in $names; do
	test_expect_success "$p: garbage spec is spec_invalid, journal unchanged" '
		row_counts >before &&
		test_expect_code 1 hl '"$p"' --spec "{nope" &&
		test_error out spec_invalid &&
		test_json_field out .primitive '"$p"' &&
		row_counts >after && test_cmp before after
	'
	test_expect_success "$p: non-object spec is spec_invalid" '
		row_counts >before &&
		test_expect_code 1 hl '"$p"' --spec "[1,2]" &&
		test_error out spec_invalid &&
		grep -q "must be a JSON object" out &&
		row_counts >after && test_cmp before after
	'
	test_expect_success "$p: unknown field is spec_invalid naming it" '
		row_counts >before &&
		test_expect_code 1 hl '"$p"' --spec "{\"no_such_field_x\":1}" &&
		test_error out spec_invalid &&
		grep -q "no_such_field_x" out &&
		row_counts >after && test_cmp before after
	'
	test_expect_success "$p: 2 MiB spec is spec_invalid (file and stdin)" '
		row_counts >before &&
		test_expect_code 1 hl '"$p"' --spec big.json &&
		test_error out spec_invalid &&
		grep -q "larger than" out &&
		test_expect_code 1 hl '"$p"' --spec - <big.json &&
		test_error out spec_invalid &&
		row_counts >after && test_cmp before after
	'
	test_expect_success "$p: invalid UTF-8 is spec_invalid" '
		row_counts >before &&
		test_expect_code 1 hl '"$p"' --spec badutf8.json &&
		test_error out spec_invalid &&
		row_counts >after && test_cmp before after
	'
done

test_expect_success 'a duplicate key is refused' '
	test_expect_code 1 hl events --spec "{\"since\":1,\"since\":2}" &&
	test_error out spec_invalid &&
	grep -q "duplicate" out
'

test_expect_success 'a wrong type names the field and the keyword' '
	test_expect_code 1 hl events --spec "{\"since\":\"x\"}" &&
	test_error out spec_invalid &&
	test_json_field out .details.errors.0.path /since &&
	test_json_field out .details.errors.0.keyword type
'

test_done
