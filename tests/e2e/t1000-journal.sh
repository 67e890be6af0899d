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
	test "$(sqlite3 .hpcloop/journal.db "PRAGMA user_version")" = 5
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
	hl doctor --spec "{\"agent_check\":\"path\"}" &&
	json_field out .data.checks >checks &&
	for c in journal_integrity journal_schema_version journal_foreign_keys sprint_states config; do
		grep -q "\"name\":\"$c\",\"ok\":true" checks || { echo "$c"; return 1; }
	done &&
	test_json_field out .data.journal.schema_version 5 &&
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
	test_error out journal_unsupported &&
	grep -q "newer" out
'

q () { sqlite3 "$@"; }

# The SQL of the migration tests (quotes cannot live in a step's body).
cat >v2.sql <<\EOF
INSERT INTO studies (name, cluster, created_at, updated_at)
	VALUES ('demo', 'local', 't', 't');
INSERT INTO sprints (id, study, cluster, state, directory, idem_key,
	job_id, created_at, finished_at)
	VALUES ('sp-000001', 'demo', 'local', 'completed', '/d1', 'k1',
		'7', 't', 't'),
	('sp-000002', 'demo', 'local', 'pending', '/d2', 'k2', NULL,
		't', NULL);
INSERT INTO idempotency (primitive, key, spec_hash, data, created_at)
	VALUES ('submit-flow', 'k1', 'h1', '{"sprint_id":"sp-000001"}', 't');
INSERT INTO events (ts, type, subject)
	VALUES ('t', 'sprint.created', 'sp-000001');
EOF
cat >edges.sql <<\EOF
INSERT INTO studies (name, cluster, created_at, updated_at)
	VALUES ('demo', 'local', 't', 't');
INSERT INTO sprints (id, study, cluster, state, directory, job_id,
	created_at)
	VALUES ('sp-000001', 'demo', 'local', 'completed', '/d', '1', 't');
EOF
echo "UPDATE sprints SET state = 'running';" >edge.sql
cat >check.sql <<\EOF
INSERT INTO sprints (id, study, cluster, state, directory, created_at)
	VALUES ('sp-000002', 'demo', 'local', 'running', '/d', 't');
EOF
sed "s/running/cached/; s/000002/000003/" check.sql >state.sql
cat >v3.sql <<\EOF
INSERT INTO studies (name, cluster, created_at, updated_at)
	VALUES ('demo', 'local', 't', 't');
INSERT INTO loops (id, study, status, total, completed, created_at,
	updated_at)
	VALUES ('lp-000001', 'demo', 'running', 5, 2, 't', 't'),
	('lp-000002', 'demo', 'whatever', 0, 0, 't', 't');
INSERT INTO sprints (id, study, cluster, state, directory, job_id,
	loop_id, created_at)
	VALUES ('sp-000001', 'demo', 'local', 'completed', '/d', '1',
		'lp-000001', 't');
INSERT INTO results (study, loop_id, iteration, sprint_id, metric,
	status, summary, description, created_at)
	VALUES ('demo', 'lp-000001', 1, 'sp-000001', 0.5, 'keep', 's',
		'baseline', 't'),
	('demo', NULL, NULL, NULL, NULL, 'crash', NULL, 'broke', 't');
INSERT INTO ideas (id, study, loop_id, mode, text, created_at)
	VALUES ('id-000001', 'demo', 'lp-000001', 'brief', 'try x', 't');
EOF
echo "INSERT INTO results (study, status, created_at) VALUES ('demo', 'bogus', 't');" >status.sql
echo "INSERT INTO results (study, sprint_id, status, created_at) VALUES ('demo', 'sp-000001', 'discard', 't');" >twice.sql
echo "INSERT INTO results (study, sprint_id, status, created_at) VALUES ('demo', 'sp-000001', 'requeued', 't');" >requeue.sql

test_expect_success SQLITE3 'a journal of schema version 2 migrates forward, keeping its rows' '
	"$HPCLOOP_TEST_TOOL" journal-old 2 v2.db &&
	test "$(q v2.db "PRAGMA user_version")" = 2 &&
	q v2.db <v2.sql &&
	hl events --journal v2.db &&
	test_json_field out .data.count 1 &&
	test "$(q v2.db "PRAGMA user_version")" = 5 &&
	q v2.db "SELECT id, state FROM sprints ORDER BY id" >got &&
	printf "sp-000001|completed\nsp-000002|pending\n" >want &&
	test_cmp want got &&
	q v2.db "SELECT key, status, subject FROM idempotency ORDER BY key" >got &&
	printf "k1|done|sp-000001\nk2|pending|sp-000002\n" >want &&
	test_cmp want got &&
	test "$(q v2.db "SELECT sprints, live FROM studies")" = "2|1" &&
	test -z "$(q v2.db "PRAGMA foreign_key_check")"
'

test_expect_success SQLITE3 'the journal refuses a state edge that is not one' '
	"$HPCLOOP_TEST_TOOL" journal-old 3 edges.db &&
	q edges.db <edges.sql &&
	! q edges.db <edge.sql 2>edge.err &&
	grep -q "edge not allowed" edge.err &&
	! q edges.db <check.sql 2>check.err &&
	grep -qi "constraint" check.err &&
	! q edges.db <state.sql 2>state.err &&
	grep -qi "constraint" state.err &&
	test "$(q edges.db "SELECT count(*) FROM sprints")" = 1
'

test_expect_success SQLITE3 'a journal of schema version 3 migrates to 4, keeping loops, results and ideas' '
	"$HPCLOOP_TEST_TOOL" journal-old 3 v3.db &&
	q v3.db <v3.sql &&
	hl events --journal v3.db &&
	test "$(q v3.db "PRAGMA user_version")" = 5 &&
	q v3.db "SELECT id, state, count, iteration, runs FROM loops ORDER BY id" >got &&
	printf "lp-000001|running|5|2|2\nlp-000002|stopped|1|0|0\n" >want &&
	test_cmp want got &&
	q v3.db "SELECT id, status, metric, description, source FROM results ORDER BY id" >got &&
	printf "1|keep|0.5|baseline|record-result\n2|crash||broke|record-result\n" >want &&
	test_cmp want got &&
	test "$(q v3.db "SELECT mode, text FROM ideas")" = "agent|try x" &&
	test "$(q v3.db "SELECT count(*) FROM meta_analyses")" = 0 &&
	test -z "$(q v3.db "PRAGMA foreign_key_check")"
'

test_expect_success SQLITE3 'the ledger refuses a status outside its list and a second row per sprint' '
	! q v3.db <status.sql 2>status.err &&
	grep -qi "constraint" status.err &&
	! q v3.db <twice.sql 2>twice.err &&
	grep -qi "unique" twice.err &&
	q v3.db <requeue.sql &&
	test "$(q v3.db "SELECT count(*) FROM results")" = 3
'

test_expect_success 'HPCLOOP_JOURNAL and --journal choose the file' '
	HPCLOOP_JOURNAL=$PWD/other.db hl annotate --spec "{\"text\":\"x\"}" &&
	test -f other.db &&
	hl events --journal other.db &&
	test_json_field out .data.count 1
'

test_done
