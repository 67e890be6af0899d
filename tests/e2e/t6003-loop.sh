#!/bin/sh
test_description='the unattended loop: agent sprints end to end, stop and
resume, eight concurrent ticks that submit once, the time gate, failures
and budgets'
. "$(dirname "$0")/lib.sh"

q () { sqlite3 "$HPCLOOP_JOURNAL" "$@"; }

# start SPEC-FIELDS: loop-start for study demo; its id in $loop.
start () {
	hl loop-start --spec "{\"study\":\"demo\",\"mode\":\"sprint\",$1}" &&
	loop=$(json_field out .data.loop_id)
}

# tick: one loop-tick of $loop; its state in $state.
tick () {
	hl loop-tick --spec "{\"loop_id\":\"$loop\"}" &&
	state=$(json_field out .data.loops.0.state)
}

# tick_until STATE [SECONDS]: tick $loop until it is STATE.
tick_until () {
	i=0
	while [ $i -lt $((${2:-60} * 4)) ]; do
		tick || return 1
		[ "$state" = "$1" ] && return 0
		sleep 0.25
		i=$((i + 1))
	done
	echo "loop $loop still $state, wanted $1" >&2
	return 1
}

# loop_sprints: how many sprints $loop has.
loop_sprints () { q "SELECT count(*) FROM sprints WHERE loop_id = '$loop'"; }

test_expect_success 'setup' '
	RED_TEAM_ROUNDS=0 setup_local_config "    params:
      lr: {type: float, low: 0.0001, high: 0.1, log: true}
  closed:
    cluster: local
    metric: {name: loss, direction: minimize}" &&
	export FAKE_AGENT_METRICS_FILE="$PWD/metrics" FAKE_AGENT_LOG="$PWD/agent.log"
'

test_expect_success SQLITE3 'a loop of four agent sprints runs end to end and finishes at its count' '
	printf "0.5\n0.45\n0.6\n0.4\n" >metrics &&
	start "\"count\":4,\"proposer\":\"agent\",\"guidance\":\"try smaller models\"" &&
	test_json_field out .data.state running &&
	test_json_field out .data.iteration 0 &&
	json_field out .data.next_step | grep -q loop-tick &&
	tick_until finished 90 &&
	test_json_field out .data.loops.0.stop_reason count &&
	test_json_field out .data.loops.0.iteration 4 &&
	q "SELECT iteration, status, metric FROM results WHERE loop_id = '"'"'$loop'"'"' ORDER BY id" >got &&
	printf "1|keep|0.5\n2|keep|0.45\n3|discard|0.6\n4|keep|0.4\n" >want &&
	test_cmp want got &&
	test "$(loop_sprints)" = 4 &&
	test "$(q "SELECT count(*) FROM ideas WHERE loop_id = '"'"'$loop'"'"' AND sprint_id IS NOT NULL AND mode = '"'"'agent'"'"'")" = 4 &&
	test "$(grep -c "^idea " agent.log)" = 4
'

test_expect_success 'the loop journaled its events, and its ledger and status say where it is' '
	hl events --spec "{\"subject\":\"$loop\",\"limit\":1000}" &&
	json_field out .data.events >evs &&
	test $(grep -o "\"type\":\"loop.started\"" evs | wc -l) = 1 &&
	test $(grep -o "\"type\":\"loop.iteration\"" evs | wc -l) = 4 &&
	test $(grep -o "\"type\":\"idea.proposed\"" evs | wc -l) = 4 &&
	test $(grep -o "\"type\":\"result.recorded\"" evs | wc -l) = 4 &&
	grep -q "\"type\":\"loop.tick\"" evs &&
	grep -q "\"type\":\"loop.finished\"" evs &&
	hl ledger --spec "{\"loop_id\":\"$loop\"}" &&
	test_json_field out .data.count 4 &&
	test_json_field out .data.best.iteration 4 &&
	test_json_field out .data.counts.runs 4 &&
	hl loop-status --spec "{\"loop_id\":\"$loop\"}" &&
	test_json_field out .data.loop.state finished &&
	test_json_field out .data.loop.spent.runs 4 &&
	test_json_field out .data.loop.best.iteration 4 &&
	test_json_field out .data.loop.guidance "try smaller models" &&
	json_field out .data.loop.next_step | grep -q "finished (count)" &&
	hl digest --spec "{\"loop_id\":\"$loop\"}" &&
	test_json_field out .data.loop.loop_id "$loop" &&
	test_json_field out .data.counts.total 4
'

test_expect_success 'a finished loop stays finished' '
	test_expect_code 1 hl loop-resume --spec "{\"loop_id\":\"$loop\"}" &&
	test_error out conflict &&
	row_counts >before &&
	tick && test "$state" = finished &&
	test_json_field out .data.loops.0.steps "[]" &&
	row_counts >after && test_cmp before after
'

test_expect_success SQLITE3 'a stop is honoured at the next tick; a resumed loop goes on with its numbering' '
	printf "0.7\n0.3\n" >metrics &&
	start "\"count\":2,\"proposer\":\"agent\"" &&
	tick && test "$state" = running &&
	test_json_field out .data.loops.0.iteration 1 &&
	sprint=$(json_field out .data.loops.0.live.sprint_id) &&
	hl loop-stop --spec "{\"loop_id\":\"$loop\",\"reason\":\"lunch\"}" &&
	test_json_field out .data.loops.0.state stopping &&
	test_json_field out .data.loops.0.changed true &&
	wait_state $sprint completed 60 &&
	tick && test "$state" = stopped &&
	test_json_field out .data.loops.0.stop_reason lunch &&
	test_json_field out .data.loops.0.iteration 1 &&
	json_field out .data.loops.0.steps | grep -q "\"step\":\"stop\"" &&
	tick && test "$state" = stopped &&
	test "$(loop_sprints)" = 1 &&
	hl loop-stop --spec "{\"loop_id\":\"$loop\"}" &&
	test_json_field out .data.loops.0.changed false &&
	hl loop-resume --spec "{\"loop_id\":\"$loop\"}" &&
	test_json_field out .data.loops.0.state running &&
	tick &&
	test_json_field out .data.loops.0.iteration 2 &&
	tick_until finished 60 &&
	q "SELECT iteration, status FROM results WHERE loop_id = '"'"'$loop'"'"' ORDER BY id" >got &&
	printf "1|discard\n2|keep\n" >want &&
	test_cmp want got
'

test_expect_success SQLITE3 'eight concurrent loop-ticks propose once and submit once' '
	start "\"count\":1,\"proposer\":\"agent\"" &&
	: >agent.log &&
	for i in 1 2 3 4 5 6 7 8; do
		FAKE_AGENT_SLEEP=1 "$HPCLOOP_BIN" loop-tick --spec "{\"loop_id\":\"$loop\"}" >tick.$i 2>tick.$i.err &
	done &&
	wait &&
	tally tick.1 tick.2 tick.3 tick.4 tick.5 tick.6 tick.7 tick.8 &&
	test $ok = 8 &&
	test "$(loop_sprints)" = 1 &&
	test "$(q "SELECT count(*) FROM ideas WHERE loop_id = '"'"'$loop'"'"'")" = 1 &&
	test "$(grep -c "^idea " agent.log)" = 1 &&
	sprint=$(q "SELECT id FROM sprints WHERE loop_id = '"'"'$loop'"'"'") &&
	test "$(local_jobs_for $sprint)" = 1 &&
	test $(cat tick.* | grep -o "\"step\":\"submit\"" | wc -l) = 1 &&
	hl events --spec "{\"subject\":\"$loop\",\"type\":\"loop.iteration\"}" &&
	test_json_field out .data.count 1 &&
	tick_until finished 60 &&
	test "$(loop_sprints)" = 1
'

for p in loop.after_idea submit.before_sched loop.before_advance; do
	test_expect_success SQLITE3 "a tick killed at $p is finished by the next: one idea, one sprint" '
		start "\"count\":1,\"proposer\":\"agent\"" &&
		HPCLOOP_FAULT='"$p"' "$HPCLOOP_BIN" loop-tick --spec "{\"loop_id\":\"$loop\"}" >crash.out 2>crash.err;
		test $? = 137 &&
		test "$(loop_sprints)" = "$(test '"$p"' = loop.after_idea && echo 0 || echo 1)" &&
		tries=0 &&
		until tick && json_field out .data.loops.0.live >/dev/null &&
			test "$(json_field out .data.loops.0.iteration)" = 1; do
			tries=$((tries + 1)); test $tries -lt 40 || return 1
			sleep 0.25
		done &&
		test "$(loop_sprints)" = 1 &&
		test "$(q "SELECT count(*) FROM ideas WHERE loop_id = '"'"'$loop'"'"'")" = 1 &&
		tick_until finished 60 &&
		test "$(loop_sprints)" = 1 &&
		sprint=$(q "SELECT id FROM sprints WHERE loop_id = '"'"'$loop'"'"'") &&
		test "$(local_jobs_for $sprint)" = 1 &&
		hl events --spec "{\"subject\":\"$loop\",\"type\":\"loop.iteration\"}" &&
		test_json_field out .data.count 1
	'
done

test_expect_success SQLITE3 'the time gate stops a run past twice its budget and records a timeout' '
	start "\"count\":1,\"proposer\":\"agent\",\"run_budget_s\":1" &&
	FAKE_AGENT_HANG_STEP=research tick &&
	sprint=$(json_field out .data.loops.0.live.sprint_id) &&
	wait_state $sprint running 30 &&
	sleep 3 &&
	tick &&
	json_field out .data.loops.0.steps | grep -q "\"step\":\"gate\"" &&
	test "$state" = finished &&
	hl status --spec "{\"sprint_id\":\"$sprint\"}" &&
	test_json_field out .data.sprints.0.state timed_out &&
	json_field out .data.sprints.0.error | grep -q "time gate" &&
	test "$(q "SELECT status FROM results WHERE sprint_id = '"'"'$sprint'"'"'")" = timeout &&
	pid=$(local_job_pid "$(json_field out .data.sprints.0.job_id)") &&
	test -n "$pid" &&
	i=0 && while kill -0 "$pid" 2>/dev/null && [ $i -lt 100 ]; do
		sleep 0.1; i=$((i + 1))
	done &&
	! kill -0 "$pid" 2>/dev/null &&
	hl events --spec "{\"subject\":\"$loop\",\"type\":\"loop.gate\"}" &&
	test_json_field out .data.count 1
'

test_expect_success SQLITE3 'a failed run is a crash and the loop goes on; with stop_on_failure it finishes' '
	printf "none\n0.2\n" >metrics &&
	start "\"count\":2,\"proposer\":\"agent\"" &&
	tick_until finished 60 &&
	q "SELECT status FROM results WHERE loop_id = '"'"'$loop'"'"' ORDER BY id" >got &&
	printf "crash\nkeep\n" >want &&
	test_cmp want got &&
	start "\"count\":3,\"proposer\":\"agent\",\"stop_on_failure\":true" &&
	FAKE_AGENT_FAIL_STEP=research tick &&
	FAKE_AGENT_FAIL_STEP=research tick_until finished 60 &&
	test_json_field out .data.loops.0.stop_reason failure &&
	test "$(loop_sprints)" = 1
'

test_expect_success SQLITE3 'max_runs and max_usd finish a loop early' '
	start "\"count\":5,\"proposer\":\"agent\",\"max_runs\":1" &&
	tick_until finished 60 &&
	test_json_field out .data.loops.0.stop_reason max_runs &&
	test "$(loop_sprints)" = 1 &&
	start "\"count\":5,\"proposer\":\"agent\",\"max_usd\":0.01" &&
	tick_until finished 60 &&
	test_json_field out .data.loops.0.stop_reason max_usd &&
	test "$(loop_sprints)" = 1
'

test_expect_success SQLITE3 'a builtin loop submits the points of the parameter space' '
	start "\"count\":2,\"proposer\":\"builtin\"" &&
	tick_until finished 60 &&
	test "$(q "SELECT count(*) FROM results WHERE loop_id = '"'"'$loop'"'"' AND json_extract(params, '"'"'$.lr'"'"') > 0")" = 2 &&
	test "$(q "SELECT count(*) FROM ideas WHERE loop_id = '"'"'$loop'"'"' AND mode = '"'"'builtin'"'"'")" = 2 &&
	q "SELECT idea FROM sprints WHERE loop_id = '"'"'$loop'"'"'" | grep -q "^Set lr="
'

test_expect_success 'loop-tick without a loop ticks every running loop' '
	start "\"count\":1,\"proposer\":\"agent\"" &&
	first=$loop &&
	start "\"count\":1,\"proposer\":\"agent\"" &&
	hl loop-tick &&
	test_json_field out .data.count 2 &&
	json_field out .data.loops | grep -q "$first" &&
	json_field out .data.loops | grep -q "$loop" &&
	hl loop-status --spec "{\"study\":\"demo\",\"state\":\"running\"}" &&
	test_json_field out .data.count 2 &&
	hl loop-stop --spec "{\"study\":\"demo\"}" &&
	test $(json_field out .data.loops | grep -o "\"changed\":true" | wc -l) = 2 &&
	hl loop-tick &&
	hl loop-status --spec "{\"study\":\"demo\",\"state\":\"running\"}" &&
	test_json_field out .data.count 0
'

test_expect_success 'loop-start checks the study first' '
	row_counts >before &&
	test_expect_code 1 hl loop-start --spec "{\"study\":\"closed\",\"count\":1,\"mode\":\"sprint\",\"proposer\":\"agent\"}" &&
	test_error out precondition_failed &&
	grep -q "does not allow loops" out &&
	test_expect_code 1 hl loop-start --spec "{\"study\":\"demo\",\"count\":1,\"mode\":\"campaign\",\"proposer\":\"agent\"}" &&
	test_error out precondition_failed &&
	test_expect_code 1 hl loop-start --spec "{\"study\":\"nope\",\"count\":1,\"mode\":\"sprint\",\"proposer\":\"agent\"}" &&
	test_error out not_found &&
	row_counts >after && test_cmp before after &&
	hl loop-start --spec "{\"study\":\"demo\",\"count\":1,\"mode\":\"sprint\",\"proposer\":\"agent\",\"idempotency_key\":\"nightly\"}" &&
	id=$(json_field out .data.loop_id) &&
	hl loop-start --spec "{\"study\":\"demo\",\"count\":1,\"mode\":\"sprint\",\"proposer\":\"agent\",\"idempotency_key\":\"nightly\"}" &&
	test_json_field out .idempotent true &&
	test_json_field out .data.loop_id "$id"
'

test_done
