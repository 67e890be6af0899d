#!/bin/sh
test_description='idempotency keys and replay (DESIGN §4)'
. "$(dirname "$0")/lib.sh"

test_expect_success 'setup' 'hl init'

test_expect_success 'a first call is not a replay' '
	hl annotate --spec "{\"text\":\"hello\"}" &&
	test_json_field out .idempotent false &&
	json_field out .data >first
'

test_expect_success 'the same spec replays: same data, nothing written' '
	row_counts >before &&
	hl annotate --spec "{\"text\":\"hello\"}" &&
	test_json_field out .idempotent true &&
	json_field out .data >again &&
	test_cmp first again &&
	row_counts >after && test_cmp before after
'

test_expect_success 'key order and spacing do not change the key' '
	hl annotate --spec "{\"subject\":\"a\",\"text\":\"t\"}" &&
	json_field out .data >one &&
	hl annotate --spec "{ \"text\" : \"t\",  \"subject\":\"a\" }" &&
	test_json_field out .idempotent true &&
	json_field out .data >two &&
	test_cmp one two
'

test_expect_success 'an explicit idempotency_key replays' '
	hl annotate --spec "{\"text\":\"k\",\"idempotency_key\":\"run-7\"}" &&
	test_json_field out .idempotent false &&
	hl annotate --spec "{\"text\":\"k\",\"idempotency_key\":\"run-7\"}" &&
	test_json_field out .idempotent true
'

test_expect_success 'a key reused with another spec is conflict, nothing written' '
	row_counts >before &&
	test_expect_code 1 hl annotate --spec "{\"text\":\"other\",\"idempotency_key\":\"run-7\"}" &&
	test_error out conflict &&
	row_counts >after && test_cmp before after
'

test_expect_success 'parallel identical calls write one event' '
	for i in 1 2 3 4 5 6; do
		"$HPCLOOP_BIN" annotate --spec "{\"text\":\"race\"}" >race.$i &
	done &&
	wait &&
	hl events --spec "{\"limit\":1000}" &&
	test "$(grep -o "\"text\":\"race\"" out | wc -l)" = 1 &&
	test "$(grep -l "\"idempotent\":false" race.* | wc -l)" = 1
'

test_done
