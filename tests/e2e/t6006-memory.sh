#!/bin/sh
test_description='campaign memory: interview persists a campaign intent,
recall summarises past intents with what happened since'
. "$(dirname "$0")/lib.sh"

# record SPEC-FIELDS: record-result for study demo.
record () {
	hl record-result --spec "{\"study\":\"demo\",$1}"
}

test_expect_success 'setup' '
	RED_TEAM_ROUNDS=0 setup_local_config "  other:
    cluster: local
    metric: {name: acc, direction: maximize}"
'

test_expect_success 'recall with no intents is an empty page' '
	hl recall &&
	test_json_field out .data.count 0 &&
	test_json_field out .data.total_matching 0 &&
	test_json_field out .data.next null
'

test_expect_success 'interview persists the intent, journaled with an event' '
	record "\"value\":0.9,\"description\":\"before the campaign\",\"params\":{\"lr\":9}" &&
	hl interview --spec "{\"study\":\"demo\",\"goal\":\"Bring val_loss under 0.3 by tuning the LEARNING rate\",\"budget\":{\"runs\":20,\"hours\":4},\"task_count\":20,\"abort_if\":\"three crashes in a row\",\"parameters\":{\"lr\":{\"low\":0.0001,\"high\":0.1,\"log\":true},\"opt\":\"adam or sgd\"},\"notes\":\"first try\"}" &&
	test_json_field out .idempotent false &&
	iv1=$(json_field out .data.interview.interview_id) &&
	echo "$iv1" | grep -E -q "^iv-[0-9a-f]{6}$" &&
	test_json_field out .data.interview.budget.runs 20 &&
	test_json_field out .data.interview.task_count 20 &&
	test_json_field out .data.interview.parameters.opt "adam or sgd" &&
	test_json_field out .data.interview.abort_if "three crashes in a row" &&
	test_json_field out .data.interview.after_result_id 1 &&
	hl events --spec "{\"type\":\"interview.recorded\"}" &&
	test_json_field out .data.count 1 &&
	test_json_field out .data.events.0.subject "$iv1" &&
	test_json_field out .data.events.0.data.study demo
'

test_expect_success 'interview is idempotent by key; a changed spec under the key is conflict' '
	hl interview --spec "{\"study\":\"demo\",\"goal\":\"keyed goal\",\"idempotency_key\":\"k1\"}" &&
	ivk=$(json_field out .data.interview.interview_id) &&
	row_counts >before &&
	hl interview --spec "{\"study\":\"demo\",\"goal\":\"keyed goal\",\"idempotency_key\":\"k1\"}" &&
	test_json_field out .idempotent true &&
	test_json_field out .data.interview.interview_id "$ivk" &&
	row_counts >after && test_cmp before after &&
	test_expect_code 1 hl interview --spec "{\"study\":\"demo\",\"goal\":\"another goal\",\"idempotency_key\":\"k1\"}" &&
	test_error out conflict &&
	row_counts >after && test_cmp before after
'

test_expect_success 'runs after an intent are summarised by recall' '
	record "\"value\":0.5,\"description\":\"lr small\",\"params\":{\"lr\":0.001,\"opt\":\"adam\",\"warm\":true},\"commit\":\"abc1234\"" &&
	record "\"value\":0.7,\"description\":\"lr big\",\"params\":{\"lr\":0.05,\"opt\":\"sgd\"}" &&
	record "\"value\":0.375,\"description\":\"lr mid\",\"params\":{\"lr\":0.01,\"opt\":\"adam\"},\"commit\":\"def5678\"" &&
	record "\"description\":\"oom\",\"status\":\"crash\",\"params\":{\"lr\":0.25}" &&
	hl recall --spec "{\"study\":\"demo\"}" &&
	test_json_field out .data.total_matching 2 &&
	test_json_field out .data.campaigns.0.interview.interview_id "$ivk" &&
	test_json_field out .data.campaigns.1.interview.interview_id "$iv1" &&
	test_json_field out .data.campaigns.0.since.results.total 4 &&
	test_json_field out .data.campaigns.0.since.results.keep 2 &&
	test_json_field out .data.campaigns.0.since.results.discard 1 &&
	test_json_field out .data.campaigns.0.since.results.crash 1 &&
	test_json_field out .data.campaigns.0.since.params.lr.min 0.001 &&
	test_json_field out .data.campaigns.0.since.params.lr.max 0.25 &&
	test_json_field out .data.campaigns.0.since.params.warm.values.0 true &&
	test_json_field out .data.campaigns.0.since.params.lr.runs 4 &&
	test_json_field out .data.campaigns.0.since.params.opt.values.0 adam &&
	test_json_field out .data.campaigns.0.since.params.opt.runs 3 &&
	test_json_field out .data.campaigns.0.since.best.metric 0.375 &&
	test_json_field out .data.campaigns.0.since.best.commit def5678 &&
	test_json_field out .data.campaigns.0.since.best.description "lr mid" &&
	test_json_field out .data.campaigns.0.since.metric.direction minimize &&
	test_json_field out .data.campaigns.0.since.until_result_id null
'

test_expect_success 'an older intent covers its runs up to the next intent of its study' '
	hl recall --spec "{\"study\":\"demo\",\"text\":\"learning\"}" &&
	test_json_field out .data.total_matching 1 &&
	test_json_field out .data.campaigns.0.interview.interview_id "$iv1" &&
	test_json_field out .data.campaigns.0.since.results.total 0 &&
	test_json_field out .data.campaigns.0.since.until_result_id 1 &&
	test_json_field out .data.campaigns.0.since.best null &&
	test_json_field out .data.campaigns.0.interview.budget.hours 4
'

test_expect_success 'recall searches goals by text, and study by study' '
	hl interview --spec "{\"study\":\"other\",\"goal\":\"accuracy above 90%\"}" &&
	hl recall --spec "{\"text\":\"90%\"}" &&
	test_json_field out .data.total_matching 1 &&
	test_json_field out .data.campaigns.0.interview.study other &&
	test_json_field out .data.campaigns.0.since.best null &&
	test_json_field out .data.campaigns.0.since.metric.direction maximize &&
	hl recall --spec "{\"text\":\"no such goal\"}" &&
	test_json_field out .data.count 0 &&
	hl recall --spec "{\"text\":\"a%b\"}" &&
	test_json_field out .data.count 0 &&
	hl recall --spec "{\"study\":\"other\"}" &&
	test_json_field out .data.total_matching 1
'

test_expect_success 'recall pages newest first' '
	hl recall --spec "{\"limit\":2}" &&
	test_json_field out .data.count 2 &&
	test_json_field out .data.total_matching 3 &&
	test_json_field out .data.campaigns.0.interview.study other &&
	next=$(json_field out .data.next) &&
	hl recall --spec "{\"limit\":2,\"cursor\":\"$next\"}" &&
	test_json_field out .data.count 1 &&
	test_json_field out .data.campaigns.0.interview.interview_id "$iv1" &&
	test_json_field out .data.next null
'

test_expect_success 'recall output is bounded: long text is cut, truncated says so' '
	long=$(awk "BEGIN { for (i = 0; i < 1000; i++) printf \"ab\" }") &&
	hl interview --spec "{\"study\":\"demo\",\"goal\":\"$long\",\"notes\":\"é$long\",\"parameters\":{\"a\":\"$(echo "$long" | cut -c1-450)\",\"b\":{\"low\":0,\"high\":1,\"why\":\"$(echo "$long" | cut -c1-400)\"},\"c\":{\"low\":1,\"high\":2}}}" &&
	hl recall --spec "{\"limit\":1}" &&
	test_json_field out .data.campaigns.0.truncated true &&
	goal=$(json_field out .data.campaigns.0.interview.goal) &&
	test ${#goal} -le 403 &&
	a=$(json_field out .data.campaigns.0.interview.parameters.a) &&
	test ${#a} -le 203 &&
	b=$(json_field out .data.campaigns.0.interview.parameters.b) &&
	test ${#b} -le 203 && echo "$b" | grep -q "^{" &&
	test_json_field out .data.campaigns.0.interview.parameters.c.high 2 &&
	test $(wc -c <out) -lt 3000 &&
	hl recall --spec "{\"text\":\"learning\"}" &&
	test_json_field out .data.campaigns.0.truncated false
'

test_expect_success 'hostile text in a goal is data: quotes, $(), SQL' '
	hl interview --spec "{\"study\":\"demo\",\"goal\":\"x\\\"; DROP TABLE results; -- \$(touch pwned) %\"}" &&
	hl recall --spec "{\"text\":\"DROP TABLE\"}" &&
	test_json_field out .data.count 1 &&
	test ! -e pwned &&
	hl ledger --spec "{\"study\":\"demo\"}"
'

test_expect_success 'bad input is refused with exit 1 and the journal untouched' '
	row_counts >before &&
	test_expect_code 1 hl interview --spec "{\"study\":\"nope\",\"goal\":\"g\"}" &&
	test_error out not_found &&
	test_expect_code 1 hl interview --spec "{\"study\":\"demo\"}" &&
	test_error out spec_invalid &&
	test_expect_code 1 hl interview --spec "{\"study\":\"demo\",\"goal\":\"g\",\"budget\":{\"runs\":0}}" &&
	test_error out spec_invalid &&
	test_expect_code 1 hl recall --spec "{\"limit\":51}" &&
	test_error out spec_invalid &&
	row_counts >after && test_cmp before after
'

test_done
