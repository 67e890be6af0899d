#!/bin/sh
test_description='decide: keep, discard or crash against the best, with the
minimum improvement, and with the noise of repeat runs of the baseline'
. "$(dirname "$0")/lib.sh"

test_expect_success 'setup: a study to minimize and one to maximize' '
	setup_local_config "  acc:
    cluster: local
    allow_loop: true
    noise_k: 3
    metric: {name: accuracy, direction: maximize}" &&
	sed -i "s/direction: minimize}/direction: minimize, min_improvement: 0.01}/" \
		hpcloop.yaml &&
	hl study-show demo &&
	test_json_field out .data.study.metric.min_improvement 0.01
'

test_expect_success 'the first value of a study is kept; no value is a crash' '
	hl decide --spec "{\"study\":\"demo\",\"value\":0.5}" &&
	test_json_field out .data.status keep &&
	test_json_field out .data.reference null &&
	test_json_field out .data.best null &&
	hl decide --spec "{\"study\":\"demo\"}" &&
	test_json_field out .data.status crash &&
	test_json_field out .data.value null
'

test_expect_success 'a gain must beat min_improvement, or min_delta when given' '
	hl record-result --spec "{\"study\":\"demo\",\"value\":0.5,\"description\":\"first\"}" &&
	hl decide --spec "{\"study\":\"demo\",\"value\":0.495}" &&
	test_json_field out .data.status discard &&
	json_field out .data.reason | grep -q "by only" &&
	hl decide --spec "{\"study\":\"demo\",\"value\":0.48}" &&
	test_json_field out .data.status keep &&
	test_json_field out .data.reference_kind best &&
	hl decide --spec "{\"study\":\"demo\",\"value\":0.48,\"min_delta\":0.05}" &&
	test_json_field out .data.status discard &&
	hl decide --spec "{\"study\":\"demo\",\"value\":0.5}" &&
	test_json_field out .data.status discard &&
	test_json_field out .data.noise null
'

test_expect_success 'repeat runs of the baseline raise the threshold to k sd, and say so' '
	for v in 0.80 0.84 0.82; do
		hl record-result --spec "{\"study\":\"acc\",\"value\":$v,\"baseline\":true,\"description\":\"baseline\"}" || return 1
	done &&
	hl decide --spec "{\"study\":\"acc\",\"value\":0.86}" &&
	test_json_field out .data.status discard &&
	test_json_field out .data.noise.baseline_runs 3 &&
	test_json_field out .data.noise.raised_threshold true &&
	test_json_field out .data.reference_kind baseline_mean &&
	json_field out .data.reason | grep -q "3 sd of 3 baseline runs" &&
	hl decide --spec "{\"study\":\"acc\",\"value\":0.9}" &&
	test_json_field out .data.status keep &&
	test_json_field out .data.metric.direction maximize &&
	hl decide --spec "{\"study\":\"acc\",\"value\":0.7}" &&
	test_json_field out .data.status discard
'

test_expect_success 'record-result decides the same way as decide' '
	hl record-result --spec "{\"study\":\"acc\",\"value\":0.86,\"description\":\"within the noise\"}" &&
	test_json_field out .data.result.status discard &&
	test_json_field out .data.result.decision.noise.raised_threshold true &&
	hl record-result --spec "{\"study\":\"acc\",\"value\":0.9,\"description\":\"past the noise\"}" &&
	test_json_field out .data.result.status keep &&
	hl decide --spec "{\"study\":\"acc\",\"value\":0.9}" &&
	test_json_field out .data.status discard &&
	test_json_field out .data.reference_kind best
'

test_expect_success 'decide by loop uses the loop study, and writes nothing' '
	hl loop-start --spec "{\"study\":\"acc\",\"count\":1,\"mode\":\"sprint\",\"proposer\":\"agent\"}" &&
	loop=$(json_field out .data.loop_id) &&
	row_counts >before &&
	hl decide --spec "{\"loop_id\":\"$loop\",\"value\":0.99}" &&
	test_json_field out .data.study acc &&
	test_json_field out .data.status keep &&
	row_counts >after && test_cmp before after
'

test_expect_success 'a study without a metric cannot decide' '
	setup_local_config "  plain:
    cluster: local" &&
	test_expect_code 1 hl decide --spec "{\"study\":\"plain\",\"value\":1}" &&
	test_error out precondition_failed
'

test_done
