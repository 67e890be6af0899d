#!/bin/sh
test_description='meta-analyze: due every N results or after a large gain,
builtin, agent, brief and given, kept in the journal and next-hypotheses.md'
. "$(dirname "$0")/lib.sh"

test_expect_success 'setup: meta-analysis every 3 results or after a gain of 0.05' '
	setup_local_config "    meta_every: 3
    meta_gain: 0.05
    params:
      lr: {type: float, low: 0.0001, high: 0.1, log: true}"
'

# rec VALUE LR: record a result of study demo.
rec () {
	hl record-result --spec "{\"study\":\"demo\",\"value\":$1,\"params\":{\"lr\":$2},\"description\":\"lr $2\"}"
}

test_expect_success 'nothing is due at first, and nothing runs' '
	rec 0.50 0.01 &&
	row_counts >before &&
	hl meta-analyze --spec "{\"study\":\"demo\"}" &&
	test_json_field out .data.due.due false &&
	test_json_field out .data.due.since 1 &&
	test_json_field out .data.analysis null &&
	row_counts >after && test_cmp before after
'

test_expect_success 'every meta_every results it is due, and builtin ranks hypotheses' '
	rec 0.49 0.005 && rec 0.51 0.02 &&
	hl digest --spec "{\"study\":\"demo\"}" &&
	test_json_field out .data.meta.due true &&
	hl meta-analyze --spec "{\"study\":\"demo\"}" &&
	test_json_field out .data.due.reason every &&
	test_json_field out .data.analysis.mode builtin &&
	test_json_field out .data.analysis.new true &&
	test_json_field out .data.analysis.results 3 &&
	test_json_field out .data.analysis.hypotheses.0.rank 1 &&
	file=$(json_field out .data.analysis.file) &&
	test "$file" = "$PWD/sprints/demo/next-hypotheses.md" &&
	head -1 "$file" | grep -q "^# Next hypotheses (study demo)" &&
	grep -q "^1\. \[" "$file" &&
	hl events --spec "{\"type\":\"meta.analyzed\"}" &&
	test_json_field out .data.count 1
'

test_expect_success 'the same ledger position is not analysed twice' '
	row_counts >before &&
	hl meta-analyze --spec "{\"study\":\"demo\",\"force\":true}" &&
	test_json_field out .data.analysis.new false &&
	row_counts >after && test_cmp before after &&
	hl meta-analyze --spec "{\"study\":\"demo\"}" &&
	test_json_field out .data.due.due false &&
	test_json_field out .data.due.since 0
'

test_expect_success 'a kept result that gains more than meta_gain makes it due at once' '
	rec 0.40 0.002 &&
	test_json_field out .data.result.status keep &&
	hl meta-analyze --spec "{\"study\":\"demo\"}" &&
	test_json_field out .data.due.reason gain &&
	test_json_field out .data.analysis.reason gain
'

test_expect_success 'builtin sees a parameter that tracks the metric' '
	rec 0.38 0.001 && rec 0.60 0.05 && rec 0.65 0.08 &&
	hl meta-analyze --spec "{\"study\":\"demo\"}" &&
	json_field out .data.analysis.hypotheses | grep -q "lower lr tends to improve val_loss"
'

test_expect_success 'agent asks the configured agent for ranked hypotheses' '
	hl meta-analyze --spec "{\"study\":\"demo\",\"mode\":\"agent\",\"force\":true}" &&
	test_json_field out .data.analysis.mode agent &&
	test_json_field out .data.analysis.reason forced &&
	test_json_field out .data.analysis.hypotheses.0.text "fake hypothesis: smaller learning rates help" &&
	test_json_field out .data.analysis.hypotheses.0.kind agent &&
	grep -q "fake hypothesis" sprints/demo/next-hypotheses.md
'

test_expect_success 'agent failures are agent_failed and store nothing' '
	rec 0.7 0.09 &&
	row_counts >before &&
	FAKE_AGENT_ERROR_STEP=meta test_expect_code 2 hl meta-analyze --spec "{\"study\":\"demo\",\"mode\":\"agent\",\"force\":true}" &&
	test_error out agent_failed &&
	FAKE_AGENT_NO_OUTPUT_STEP=meta test_expect_code 2 hl meta-analyze --spec "{\"study\":\"demo\",\"mode\":\"agent\",\"force\":true}" &&
	test_error out agent_failed &&
	grep -q "no hypotheses" out &&
	row_counts >after && test_cmp before after
'

test_expect_success 'brief returns the evidence and writes nothing; given records the caller'"'"'s' '
	row_counts >before &&
	hl meta-analyze --spec "{\"study\":\"demo\",\"mode\":\"brief\"}" &&
	test_json_field out .data.mode brief &&
	test_json_field out .data.evidence.study demo &&
	test_json_field out .data.analysis.mode agent &&
	json_field out .data.instructions | grep -q hypotheses &&
	row_counts >after && test_cmp before after &&
	hl meta-analyze --spec "{\"study\":\"demo\",\"hypotheses\":[{\"text\":\"warm-up hurts\",\"confidence\":0.3},{\"text\":\"lr below 1e-3 helps\",\"confidence\":0.9}]}" &&
	test_json_field out .data.analysis.mode given &&
	test_json_field out .data.analysis.hypotheses.0.text "lr below 1e-3 helps" &&
	test_json_field out .data.analysis.hypotheses.1.rank 2
'

test_expect_success 'the next idea reads the newest hypotheses' '
	hl gen-next-idea --spec "{\"study\":\"demo\",\"mode\":\"brief\"}" &&
	test_json_field out .data.evidence.hypotheses.0.text "lr below 1e-3 helps" &&
	meta=$(json_field out .data.evidence.meta_id) &&
	hl gen-next-idea --spec "{\"study\":\"demo\",\"mode\":\"agent\"}" &&
	test_json_field out .data.idea.inputs.meta_id "$meta"
'

test_done
