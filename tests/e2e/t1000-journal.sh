#!/bin/sh
test_description='the journal: creation, WAL, migrations, events, doctor'
. "$(dirname "$0")/lib.sh"

test_expect_success 'init creates the config and the journal' '
	hl init &&
	test_json_field out .data.config_created true &&
	test_json_field out .data.journal_initialized true &&
	test_json_field out .idempotent false &&
	test -f hpcloop.yaml && test -f .hpcloop/journal.db
'

test_expect_success SQLITE3 'the journal is in WAL mode at the current version' '
	test "$(sqlite3 .hpcloop/journal.db "PRAGMA journal_mode")" = wal &&
	test "$(sqlite3 .hpcloop/journal.db "PRAGMA user_version")" = 2
'

test_expect_success 'init again changes nothing and says so' '
	"$HPCLOOP_TEST_TOOL" sha256 hpcloop.yaml >sum1 &&
	row_counts >before &&
	hl init &&
	test_json_field out .idempotent true &&
	test_json_field out .data.config_created false &&
	test_json_field out .data.journal_initialized false &&
	"$HPCLOOP_TEST_TOOL" sha256 hpcloop.yaml >sum2 &&
	test_cmp sum1 sum2 &&
	row_counts >after && test_cmp before after
'

test_expect_success 'events pages with a cursor' '
	for i in 1 2 3 4 5; do
		hl annotate --spec "{\"text\":\"note $i\",\"subject\":\"s$((i % 2))\"}" || return 1
	done &&
	hl events --spec "{\"since\":0,\"limit\":3}" &&
	test_json_field out .data.count 3 &&
	test_json_field out .data.events.0.type journal.init &&
	next=$(json_field out .data.next) &&
	hl events --spec "{\"since\":$next,\"limit\":100}" &&
	test_json_field out .data.count 3 &&
	test_json_field out .data.events.2.data.text "note 5" &&
	last=$(json_field out .data.next) &&
	hl events --spec "{\"since\":$last}" &&
	test_json_field out .data.count 0 &&
	test_json_field out .data.next "$last"
'

test_expect_success 'events filter by subject and type' '
	hl events --spec "{\"subject\":\"s1\"}" &&
	test_json_field out .data.count 3 &&
	hl events --spec "{\"type\":\"journal.init\"}" &&
	test_json_field out .data.count 1
'

test_expect_success 'doctor reports a healthy journal and config' '
	hl doctor &&
	test_json_field out .data.healthy true &&
	test_json_field out .data.journal.schema_version 2 &&
	test_json_field out .data.journal.integrity ok
'

test_expect_success 'doctor reports a broken config without failing' '
	cp hpcloop.yaml good.yaml &&
	echo "clusters: [" >hpcloop.yaml &&
	hl doctor &&
	test_json_field out .data.healthy false &&
	json_field out .data.checks | grep -q "\"name\":\"config\",\"ok\":false" &&
	cp good.yaml hpcloop.yaml
'

test_expect_success 'a file that is not a journal is journal_corrupt, exit 3' '
	head -c 8192 /dev/urandom >bad.db &&
	test_expect_code 3 hl events --journal bad.db &&
	test_error out journal_corrupt
'

test_expect_success SQLITE3 'a journal from a newer hpcloop is refused' '
	cp .hpcloop/journal.db newer.db &&
	sqlite3 newer.db "PRAGMA user_version = 99" &&
	test_expect_code 1 hl events --journal newer.db &&
	test_error out precondition_failed &&
	grep -q "newer" out
'

test_expect_success SQLITE3 'a journal of schema version 1 migrates forward, keeping its rows' '
	cp .hpcloop/journal.db v1.db &&
	sqlite3 v1.db "DROP INDEX sprints_finished; PRAGMA user_version = 1" &&
	before=$(sqlite3 v1.db "SELECT count(*) FROM events") &&
	hl events --journal v1.db &&
	test "$(sqlite3 v1.db "PRAGMA user_version")" = 2 &&
	sqlite3 v1.db "SELECT name FROM sqlite_master WHERE type = '"'"'index'"'"'" | grep -q sprints_finished &&
	test "$(sqlite3 v1.db "SELECT count(*) FROM events")" = "$before"
'

test_expect_success 'HPCLOOP_JOURNAL and --journal choose the file' '
	HPCLOOP_JOURNAL=$PWD/other.db hl annotate --spec "{\"text\":\"x\"}" &&
	test -f other.db &&
	hl events --journal other.db &&
	test_json_field out .data.count 1
'

test_done
