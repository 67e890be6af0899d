#!/bin/sh
test_description='the ledger: record-result, extract-metric, ledger and digest,
and a finished sprint that records its own metric'
. "$(dirname "$0")/lib.sh"

# test_json_num FILE PATH WANT: the number at PATH is WANT (to 6 digits).
test_json_num () {
	got=$(json_field "$1" "$2" | awk '{ printf "%.6g", $1 }') &&
	want=$(echo "$3" | awk '{ printf "%.6g", $1 }') &&
	[ "$got" = "$want" ] && return 0
	echo "test_json_num: $1 $2 is '$got', wanted '$want'" >&2
	return 1
}

# record SPEC-FIELDS: record-result for study demo.
record () {
	hl record-result --spec "{\"study\":\"demo\",$1}"
}

test_expect_success 'setup' '
	RED_TEAM_ROUNDS=0 setup_local_config
'

test_expect_success 'record-result keeps the first value and decides the next ones' '
	record "\"value\":0.52,\"description\":\"baseline\",\"baseline\":true" &&
	test_json_field out .data.result.status keep &&
	test_json_field out .data.result.baseline true &&
	test_json_field out .data.result.source record-result &&
	test_json_field out .data.result.decision.reference_kind none &&
	record "\"value\":0.6,\"description\":\"a bigger model\"" &&
	test_json_field out .data.result.status discard &&
	json_field out .data.result.decision.reason | grep -q "no better than the best 0.52" &&
	record "\"value\":0.4,\"description\":\"a smaller lr\",\"analysis_summary\":\"lr matters\",\"commit\":\"abc1234\",\"params\":{\"lr\":0.001}" &&
	test_json_field out .data.result.status keep &&
	test_json_field out .data.result.commit abc1234 &&
	test_json_field out .data.result.analysis_summary "lr matters" &&
	test_json_num out .data.result.params.lr 0.001 &&
	test_json_num out .data.result.decision.gain 0.12
'

test_expect_success 'record-result takes a given status and a minimum delta' '
	record "\"value\":0.39,\"description\":\"tiny gain\",\"min_delta\":0.05" &&
	test_json_field out .data.result.status discard &&
	record "\"description\":\"out of memory\",\"status\":\"crash\"" &&
	test_json_field out .data.result.status crash &&
	test_json_field out .data.result.metric null &&
	test_json_field out .data.result.decision.given true &&
	record "\"description\":\"no value at all\"" &&
	test_json_field out .data.result.status crash
'

test_expect_success 'record-result replays with an explicit key, and only with one' '
	row_counts >before &&
	record "\"value\":0.7,\"description\":\"keyed\",\"idempotency_key\":\"run-7\"" &&
	test_json_field out .idempotent false &&
	id=$(json_field out .data.result.id) &&
	record "\"value\":0.7,\"description\":\"keyed\",\"idempotency_key\":\"run-7\"" &&
	test_json_field out .idempotent true &&
	test_json_field out .data.result.id "$id" &&
	test_expect_code 1 record "\"value\":0.8,\"description\":\"keyed\",\"idempotency_key\":\"run-7\"" &&
	test_error out conflict &&
	record "\"value\":0.7,\"description\":\"unkeyed\"" &&
	record "\"value\":0.7,\"description\":\"unkeyed\"" &&
	test_json_field out .idempotent false &&
	hl ledger --spec "{\"study\":\"demo\",\"limit\":100}" &&
	test_json_field out .data.count 9
'

test_expect_success 'record-result reads a log: its last NAME: VALUE line' '
	printf "val_loss: 0.9\nstep 2\nval_loss:   0.35\nval_loss_ema: 0.1\n" >run.log &&
	record "\"log\":\"$PWD/run.log\",\"description\":\"from a log\"" &&
	test_json_num out .data.result.metric 0.35 &&
	test_json_field out .data.result.status keep &&
	echo "nothing here" >empty.log &&
	record "\"log\":\"empty.log\",\"description\":\"a log without it\"" &&
	test_json_field out .data.result.status crash &&
	json_field out .data.result.decision.reason | grep -q "no line .val_loss: VALUE."
'

test_expect_success 'extract-metric finds a log line or a JSON pointer, else outputs_missing' '
	hl extract-metric --spec "{\"path\":\"run.log\",\"name\":\"val_loss\"}" &&
	test_json_num out .data.value 0.35 &&
	test_json_field out .data.line 3 &&
	test_json_field out .data.source log &&
	echo "{\"metric\": 0.25, \"eval\": {\"acc\": [0.5, 0.75]}}" >metric.json &&
	hl extract-metric --spec "{\"path\":\"metric.json\",\"pointer\":\"/eval/acc/1\"}" &&
	test_json_num out .data.value 0.75 &&
	hl extract-metric --spec "{\"text\":\"acc: 3\\nacc: 4\\n\",\"name\":\"acc\"}" &&
	test_json_num out .data.value 4 &&
	test_expect_code 2 hl extract-metric --spec "{\"path\":\"empty.log\",\"name\":\"val_loss\"}" &&
	test_error out outputs_missing &&
	test_expect_code 2 hl extract-metric --spec "{\"path\":\"metric.json\",\"pointer\":\"/nope\"}" &&
	test_error out outputs_missing &&
	test_expect_code 2 hl extract-metric --spec "{\"path\":\"missing.log\",\"name\":\"val_loss\"}" &&
	test_error out outputs_missing
'

test_expect_success 'a finished sprint records its own metric, and only one result' '
	FAKE_AGENT_METRIC=0.3 submit "a sprint that reports 0.3" &&
	wait_state $sprint completed 60 &&
	hl digest --spec "{\"study\":\"demo\",\"last\":1}" &&
	test_json_field out .data.last.0.sprint_id "$sprint" &&
	id=$(json_field out .data.last.0.id) &&
	hl ledger --spec "{\"study\":\"demo\",\"limit\":1,\"cursor\":\"$((id - 1))\"}" &&
	test_json_field out .data.rows.0.sprint_id "$sprint" &&
	test_json_field out .data.rows.0.source sprint &&
	test_json_num out .data.rows.0.metric 0.3 &&
	test_json_field out .data.rows.0.status keep &&
	json_field out .data.rows.0.description | grep -q "reports 0.3" &&
	row_counts >before &&
	test_expect_code 1 hl record-result --spec "{\"sprint_id\":\"$sprint\",\"value\":0.1,\"description\":\"again\"}" &&
	test_error out conflict &&
	row_counts >after && test_cmp before after
'

test_expect_success 'extract-metric reads inside a sprint, and refuses a link there' '
	hl extract-metric --spec "{\"sprint_id\":\"$sprint\",\"path\":\"results/metric.json\",\"pointer\":\"/metric\"}" &&
	test_json_num out .data.value 0.3 &&
	printf "val_loss: 0.11\n" >"$sprint_dir/train.log" &&
	hl extract-metric --spec "{\"sprint_id\":\"$sprint\",\"path\":\"train.log\"}" &&
	test_json_num out .data.value 0.11 &&
	ln -s "$PWD/run.log" "$sprint_dir/link.log" &&
	test_expect_code 2 hl extract-metric --spec "{\"sprint_id\":\"$sprint\",\"path\":\"link.log\"}" &&
	test_error out file_refused
'

test_expect_success 'a sprint without a metric file, and a failing one, are crashes' '
	FAKE_AGENT_METRIC=none submit "a sprint that reports nothing" &&
	wait_state $sprint completed 60 &&
	hl ledger --spec "{\"study\":\"demo\",\"status\":\"crash\",\"limit\":100}" &&
	json_field out .data.rows >rows &&
	grep -q "\"sprint_id\":\"$sprint\"" rows &&
	grep -q "completed without a metric" rows &&
	FAKE_AGENT_FAIL_STEP=research submit "a sprint whose agent fails" &&
	wait_state $sprint failed 60 2>/dev/null;
	hl status --spec "{\"sprint_id\":\"$sprint\"}" &&
	test_json_field out .data.sprints.0.state failed &&
	hl ledger --spec "{\"study\":\"demo\",\"status\":\"crash\",\"limit\":100}" &&
	json_field out .data.rows | grep -q "\"sprint_id\":\"$sprint\""
'

test_expect_success 'ledger pages oldest first with a cursor and exports results.tsv' '
	hl ledger --spec "{\"study\":\"demo\",\"limit\":3}" &&
	test_json_field out .data.count 3 &&
	test_json_field out .data.rows.0.id 1 &&
	next=$(json_field out .data.next) &&
	test "$next" = 3 &&
	hl ledger --spec "{\"study\":\"demo\",\"limit\":3,\"cursor\":\"$next\"}" &&
	test_json_field out .data.rows.0.id 4 &&
	hl ledger --spec "{\"study\":\"demo\",\"format\":\"tsv\",\"limit\":2}" &&
	json_field out .data.tsv >tsv &&
	printf "id\tmetric\tstatus\tdescription\n1\t0.520000\tkeep\tbaseline\n2\t0.600000\tdiscard\ta bigger model\n" >want &&
	test_cmp want tsv &&
	! json_field out .data.rows 2>/dev/null | grep -q id
'

test_expect_success 'ledger says the best, the trend and the counts' '
	hl ledger --spec "{\"study\":\"demo\"}" &&
	test_json_num out .data.best.metric 0.3 &&
	test_json_field out .data.metric.direction minimize &&
	test -n "$(json_field out .data.trend.direction)" &&
	test "$(json_field out .data.counts.total)" = "$(json_field out .data.count)" &&
	test "$(json_field out .data.counts.runs)" = "$(json_field out .data.counts.total)"
'

test_expect_success 'decide compares with the best without writing' '
	row_counts >before &&
	hl decide --spec "{\"study\":\"demo\",\"value\":0.29}" &&
	test_json_field out .data.status keep &&
	hl decide --spec "{\"study\":\"demo\",\"value\":0.31}" &&
	test_json_field out .data.status discard &&
	hl decide --spec "{\"study\":\"demo\"}" &&
	test_json_field out .data.status crash &&
	row_counts >after && test_cmp before after
'

test_expect_success 'digest is short and clips long texts' '
	long=$(printf "%0500d" 0 | tr 0 x) &&
	record "\"value\":0.9,\"description\":\"$long\",\"analysis_summary\":\"$long\"" &&
	hl digest --spec "{\"study\":\"demo\",\"last\":3}" &&
	test_json_field out .data.study demo &&
	test $(json_field out .data.last | "$HPCLOOP_TEST_TOOL" json-field - .2.description | wc -c) -le 161 &&
	test $(json_field out .data.last | "$HPCLOOP_TEST_TOOL" json-field - .2.analysis_summary | wc -c) -le 241 &&
	test_json_num out .data.best.metric 0.3 &&
	test_json_field out .data.loop null &&
	json_field out .data.next_step | grep -q "meta-analyze" &&
	test $(wc -c <out) -lt 6000
'

test_expect_success 'digest lists the live runs of the study' '
	FAKE_AGENT_SLEEP=30 submit "a slow sprint" &&
	hl digest --spec "{\"study\":\"demo\"}" &&
	test_json_field out .data.live.0.sprint_id "$sprint" &&
	json_field out .data.next_step | grep -q "wait" &&
	hl cancel --spec "{\"sprint_id\":\"$sprint\"}"
'

test_done
