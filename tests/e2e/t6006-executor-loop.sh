#!/bin/sh
test_description='a study executor (issue 11, item 10): the loop runs a
plain command with the idea'"'"'s params as HPCLOOP_PARAM_<NAME>, and
the metric it prints reaches the ledger; render-job shows it; bad
executors and params are refused'
. "$(dirname "$0")/lib.sh"

q () { sqlite3 "$HPCLOOP_JOURNAL" "$@"; }
quad="$SRC_DIR/examples/quadratic/quadratic.py"
[ -x /usr/bin/python3 ] && test_set_prereq PYTHON3

# tick_until STATE [SECONDS]: loop-tick $loop until it is STATE.
tick_until () {
	i=0
	while [ $i -lt $((${2:-60} * 10)) ]; do
		hl loop-tick --spec "{\"loop_id\":\"$loop\"}" || return 1
		state=$(json_field out .data.loops.0.state)
		[ "$state" = "$1" ] && return 0
		sleep 0.1
		i=$((i + 1))
	done
	echo "loop $loop still $state, wanted $1" >&2
	return 1
}

test_expect_success 'setup' '
	cat >fail.sh <<-\SH &&
	#!/bin/sh
	echo "metric: 0.5"
	exit 7
	SH
	chmod +x fail.sh &&
	setup_local_config "  quad:
    cluster: local
    executor: [\"$quad\", \"--seed\", \"11\"]
    metric: {name: metric, direction: minimize}
    allow_loop: true
    initial_points: 3
    params:
      lr: {type: float, low: 0.0001, high: 1, log: true}
      width: {type: int, low: 1, high: 64}
      activation: {type: choice, choices: [relu, tanh, sigmoid]}
  silent:
    cluster: local
    executor: /bin/true
    metric: {name: metric, direction: minimize}
    allow_loop: true
    params:
      x: {type: float, low: 0, high: 1}
  failing:
    cluster: local
    executor: \"$PWD/fail.sh\"
    metric: {name: metric, direction: minimize}
    allow_loop: true
    params:
      x: {type: float, low: 0, high: 1}"
'

test_expect_success 'render-job shows the executor and the variables of the params' '
	hl render-job --spec "{\"study\":\"quad\",\"idea\":\"try it\",\"params\":{\"lr\":0.01,\"width\":24,\"activation\":\"relu\",\"drop-out\":0.5}}" &&
	test_json_field out .data.executor_argv "[\"$quad\",\"--seed\",\"11\"]" &&
	test_json_field out .data.executor_env.HPCLOOP_PARAM_LR 0.01 &&
	test_json_field out .data.executor_env.HPCLOOP_PARAM_WIDTH 24 &&
	test_json_field out .data.executor_env.HPCLOOP_PARAM_ACTIVATION relu &&
	test_json_field out .data.executor_env.HPCLOOP_PARAM_DROP_OUT 0.5 &&
	dir=$(json_field out .data.directory) &&
	! grep -q "HPCLOOP_PARAM_LR=" "$dir/run_sprint.sh" &&
	hl render-job --spec "{\"study\":\"demo\",\"idea\":\"try it\"}" &&
	test_json_field out .data.executor_argv null &&
	test_json_field out .data.executor_env "{}"
'

test_expect_success 'render-job refuses params that are not an object, journal untouched' '
	row_counts >before &&
	test_expect_code 1 hl render-job --spec "{\"study\":\"quad\",\"idea\":\"x\",\"params\":[1]}" &&
	test_error out spec_invalid &&
	test_expect_code 1 hl render-job --spec "{\"study\":\"quad\",\"idea\":\"x\",\"params\":{\"lr\":[1]}}" &&
	test_error out spec_invalid &&
	row_counts >after && test_cmp before after
'

test_expect_success 'an empty or non-string executor is config_invalid' '
	cp hpcloop.yaml good.yaml &&
	sed "s|^    executor: \\[.*|    executor: []|" good.yaml >hpcloop.yaml &&
	row_counts >before &&
	test_expect_code 1 hl render-job --spec "{\"study\":\"quad\",\"idea\":\"x\"}" &&
	test_error out config_invalid &&
	grep -q executor out &&
	sed "s|^    executor: \\[.*|    executor: \"   \"|" good.yaml >hpcloop.yaml &&
	test_expect_code 1 hl render-job --spec "{\"study\":\"quad\",\"idea\":\"x\"}" &&
	test_error out config_invalid &&
	sed "s|^    executor: \\[.*|    executor: [1, 2]|" good.yaml >hpcloop.yaml &&
	test_expect_code 1 hl render-job --spec "{\"study\":\"quad\",\"idea\":\"x\"}" &&
	test_error out config_invalid &&
	row_counts >after && test_cmp before after &&
	cp good.yaml hpcloop.yaml
'

test_expect_success PYTHON3,SQLITE3 'a builtin loop of five executor runs: each metric is what the experiment prints for its params' '
	hl loop-start --spec "{\"study\":\"quad\",\"count\":5,\"mode\":\"sprint\",\"proposer\":\"builtin\"}" &&
	loop=$(json_field out .data.loop_id) &&
	tick_until finished 60 &&
	test_json_field out .data.loops.0.stop_reason count &&
	q "SELECT count(*) FROM results WHERE loop_id = '"'"'$loop'"'"' AND metric IS NOT NULL AND status IN ('"'"'keep'"'"', '"'"'discard'"'"')" >n &&
	echo 5 >want && test_cmp want n &&
	q "SELECT json_extract(params, '"'"'\$.lr'"'"') || '"'"' '"'"' || json_extract(params, '"'"'\$.width'"'"') || '"'"' '"'"' || json_extract(params, '"'"'\$.activation'"'"') || '"'"' '"'"' || printf('"'"'%.6f'"'"', metric) FROM results WHERE loop_id = '"'"'$loop'"'"' ORDER BY id" >rows &&
	test $(wc -l <rows) = 5 &&
	while read lr width act got; do
		HPCLOOP_PARAM_LR=$lr HPCLOOP_PARAM_WIDTH=$width \
			HPCLOOP_PARAM_ACTIVATION=$act "$quad" --seed 11 >run.log &&
		want=$(sed -n "s/^metric: //p" run.log) &&
		{ [ "$want" = "$got" ] || { echo "$lr $width $act: ledger $got, experiment $want" >&2; return 1; }; } || return 1
	done <rows &&
	sprint=$(q "SELECT sprint_id FROM results WHERE loop_id = '"'"'$loop'"'"' ORDER BY id LIMIT 1") &&
	dir=$(q "SELECT directory FROM sprints WHERE id = '"'"'$sprint'"'"'") &&
	test -s "$dir/executor.log" &&
	test_json_field "$dir/results/metric.json" .name metric &&
	test ! -e "$dir/.hpcloop/research.jsonl"
'

test_expect_success PYTHON3,SQLITE3 'a retry of an executor run gets its params again' '
	old=$(q "SELECT sprint_id FROM results WHERE loop_id = '"'"'$loop'"'"' ORDER BY id LIMIT 1") &&
	hl submit-flow --spec "{\"retry_of\":\"$old\"}" &&
	new=$(json_field out .data.sprint_id) &&
	wait_state "$new" completed 30 &&
	q "SELECT params || '"'"' '"'"' || printf('"'"'%.6f'"'"', metric) FROM results WHERE sprint_id = '"'"'$old'"'"'" >want &&
	q "SELECT params || '"'"' '"'"' || printf('"'"'%.6f'"'"', metric) FROM results WHERE sprint_id = '"'"'$new'"'"'" >got &&
	test -s got &&
	test_cmp want got
'

test_expect_success SQLITE3 'an executor that fails is a crash and the loop goes on' '
	hl loop-start --spec "{\"study\":\"failing\",\"count\":2,\"mode\":\"sprint\",\"proposer\":\"builtin\"}" &&
	loop=$(json_field out .data.loop_id) &&
	tick_until finished 60 &&
	q "SELECT status FROM results WHERE loop_id = '"'"'$loop'"'"' ORDER BY id" >got &&
	printf "crash\ncrash\n" >want &&
	test_cmp want got &&
	q "SELECT error FROM sprints WHERE loop_id = '"'"'$loop'"'"' LIMIT 1" | grep -q "executor exited with status 7"
'

test_expect_success SQLITE3 'an executor that prints no metric line is a crash' '
	hl loop-start --spec "{\"study\":\"silent\",\"count\":1,\"mode\":\"sprint\",\"proposer\":\"builtin\"}" &&
	loop=$(json_field out .data.loop_id) &&
	tick_until finished 60 &&
	q "SELECT r.status || '"'"' '"'"' || s.state FROM results r JOIN sprints s ON s.id = r.sprint_id WHERE r.loop_id = '"'"'$loop'"'"'" >got &&
	echo "crash completed" >want &&
	test_cmp want got
'

test_done
