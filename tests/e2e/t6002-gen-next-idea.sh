#!/bin/sh
test_description='gen-next-idea: the agent, builtin and brief modes, each idea
journaled with its mode and inputs, and no error ever taken for an idea'
. "$(dirname "$0")/lib.sh"

# ideas: how many ideas the journal holds.
ideas () {
	sqlite3 "$HPCLOOP_JOURNAL" "SELECT count(*) FROM ideas"
}

test_expect_success 'setup: a study with a parameter space' '
	setup_local_config "    initial_points: 2
    explore_after: 2
    seed: 11
    params:
      lr: {type: float, low: 0.0001, high: 0.1, log: true}
      depth: {type: int, low: 2, high: 8}
      opt: {type: choice, choices: [adam, sgd]}
  plain:
    cluster: local
    metric: {name: loss, direction: minimize}"
'

test_expect_success 'builtin proposes an initial design point in range, journaled' '
	hl gen-next-idea --spec "{\"study\":\"demo\",\"mode\":\"builtin\"}" &&
	test_json_field out .data.idea.mode builtin &&
	test_json_field out .data.idea.inputs.move initial &&
	test_json_field out .data.idea.inputs.seed 11 &&
	test_json_field out .data.idea.inputs.index 0 &&
	depth=$(json_field out .data.idea.params.depth) &&
	test "$depth" -ge 2 && test "$depth" -le 8 &&
	json_field out .data.idea.text | grep -q "^Set depth=$depth, lr=" &&
	id=$(json_field out .data.idea.idea_id) &&
	hl events --spec "{\"type\":\"idea.proposed\"}" &&
	json_field out .data.events | grep -q "\"idea_id\":\"$id\"" &&
	json_field out .data.events | grep -q "\"mode\":\"builtin\""
'

test_expect_success SQLITE3 'builtin: initial design, then local search, then the stagnation guard' '
	hl gen-next-idea --spec "{\"study\":\"demo\",\"mode\":\"builtin\"}" &&
	test_json_field out .data.idea.inputs.move initial &&
	p1=$(json_field out .data.idea.params) &&
	hl record-result --spec "{\"study\":\"demo\",\"value\":0.5,\"params\":$p1,\"description\":\"first point\"}" &&
	hl gen-next-idea --spec "{\"study\":\"demo\",\"mode\":\"builtin\"}" &&
	test_json_field out .data.idea.inputs.move local &&
	test_json_field out .data.idea.inputs.stale 0 &&
	p2=$(json_field out .data.idea.params) &&
	test "$p2" != "$p1" &&
	hl record-result --spec "{\"study\":\"demo\",\"value\":0.6,\"params\":$p2,\"description\":\"worse\"}" &&
	hl gen-next-idea --spec "{\"study\":\"demo\",\"mode\":\"builtin\"}" &&
	test_json_field out .data.idea.inputs.move local &&
	test_json_field out .data.idea.inputs.stale 1 &&
	p3=$(json_field out .data.idea.params) &&
	hl record-result --spec "{\"study\":\"demo\",\"value\":0.7,\"params\":$p3,\"description\":\"worse again\"}" &&
	hl gen-next-idea --spec "{\"study\":\"demo\",\"mode\":\"builtin\"}" &&
	test_json_field out .data.idea.inputs.move explore &&
	json_field out .data.idea.rationale | grep -q "stagnation guard" &&
	test "$(ideas)" = 5
'

test_expect_success 'builtin needs the study to declare params' '
	row_counts >before &&
	test_expect_code 1 hl gen-next-idea --spec "{\"study\":\"plain\",\"mode\":\"builtin\"}" &&
	test_error out precondition_failed &&
	grep -q "declares no params" out &&
	row_counts >after && test_cmp before after
'

test_expect_success 'agent: the stand-in agent answers an idea object' '
	FAKE_AGENT_IDEA="halve the warm-up" hl gen-next-idea --spec "{\"study\":\"demo\",\"mode\":\"agent\",\"guidance\":\"keep it cheap\"}" &&
	test_json_field out .data.idea.mode agent &&
	test_json_field out .data.idea.text "halve the warm-up" &&
	json_field out .data.idea.rationale | grep -q "stand-in" &&
	test_json_field out .data.idea.inputs.guidance true &&
	test "$(json_field out .data.idea.inputs.agent)" = "$FAKE_AGENT" &&
	test -n "$(json_field out .data.idea.inputs.prompt_sha256)" &&
	json_field out .data.idea.inputs.result_ids | grep -q "1" &&
	test "$(json_field out .data.idea.cost_usd)" != null
'

test_expect_success 'agent: an error, an empty answer or no idea object is agent_failed, never an idea' '
	row_counts >before &&
	FAKE_AGENT_ERROR_STEP=idea test_expect_code 2 hl gen-next-idea --spec "{\"study\":\"demo\",\"mode\":\"agent\"}" &&
	test_error out agent_failed &&
	FAKE_AGENT_EMPTY_STEP=idea test_expect_code 2 hl gen-next-idea --spec "{\"study\":\"demo\",\"mode\":\"agent\"}" &&
	test_error out agent_failed &&
	grep -q "answered nothing" out &&
	FAKE_AGENT_NO_OUTPUT_STEP=idea test_expect_code 2 hl gen-next-idea --spec "{\"study\":\"demo\",\"mode\":\"agent\"}" &&
	test_error out agent_failed &&
	grep -q "holds no idea object" out &&
	FAKE_AGENT_FAIL_STEP=idea test_expect_code 2 hl gen-next-idea --spec "{\"study\":\"demo\",\"mode\":\"agent\"}" &&
	test_error out agent_failed &&
	test_json_field out .details.exit_code 3 &&
	row_counts >after && test_cmp before after
'

test_expect_success 'agent: a command that is not there is agent_failed' '
	cp hpcloop.yaml good.yaml &&
	sed -i "s|^agent_command:.*|agent_command: \"/nonexistent/agent -p\"|" hpcloop.yaml &&
	test_expect_code 2 hl gen-next-idea --spec "{\"study\":\"demo\",\"mode\":\"agent\"}" &&
	test_error out agent_failed &&
	cp good.yaml hpcloop.yaml
'

test_expect_success 'brief: the evidence for the calling agent, and only an event' '
	n=$(ideas) &&
	hl gen-next-idea --spec "{\"study\":\"demo\",\"mode\":\"brief\",\"guidance\":\"be bold\"}" &&
	test_json_field out .data.idea null &&
	test_json_field out .data.evidence.guidance "be bold" &&
	test_json_field out .data.evidence.digest.study demo &&
	test_json_field out .data.evidence.params.opt.type choice &&
	json_field out .data.instructions | grep -q submit-flow &&
	test "$(ideas)" = "$n" &&
	hl events --spec "{\"type\":\"idea.briefed\"}" &&
	test_json_field out .data.count 1
'

test_expect_success 'an unknown study is not_found' '
	test_expect_code 1 hl gen-next-idea --spec "{\"study\":\"nope\",\"mode\":\"brief\"}" &&
	test_error out not_found
'

test_done
