#!/usr/bin/env bash
#
# A study with an executor (issue 11, item 10): the job runs that one
# command instead of the agent steps, in the sprint directory, with the
# run's parameters as HPCLOOP_PARAM_<NAME>; its output goes to
# executor.log and the last "METRIC: VALUE" line there to
# results/metric.json.  User text (arguments, parameter values, the
# metric name) arrives verbatim and never runs as shell code.
# shellcheck disable=SC1090,SC1091,SC2016,SC2034,SC2317  # test idioms
test_description='job script: the executor'
. "$(dirname "$0")/lib.sh"

# An executor that records its argv and environment and prints lines a
# test chose (EXEC_LINES, one per \n), then exits with EXEC_RC.
cat >"$TRASH/exec.sh" <<'SH'
#!/usr/bin/env bash
printf '%s\n' "$@" >argv.txt
env | grep '^HPCLOOP_' | sort >env.txt
pwd >pwd.txt
printf '%b' "${EXEC_LINES-metric: 0.25\n}"
[[ -n ${EXEC_SLEEP-} ]] && { sleep "$EXEC_SLEEP" & echo $! >child.pid; wait; }
exit "${EXEC_RC-0}"
SH
chmod +x "$TRASH/exec.sh"

test_expect_success 'the executor runs instead of the agent, with the params' '
	printf "%s" "{\"lr\": 0.001, \"width\": 24, \"activation\": \"relu\", \"batch-size\": 8}" \
		>"$TRASH/params.json" &&
	make_sprint "$TRASH/ok" agent=/nonexistent/agent \
		executor="$TRASH/exec.sh,--flag,two words" metric=val_loss \
		params_file="$TRASH/params.json" &&
	run_job "$TRASH/ok" &&
	[[ $JOB_RC == 0 ]] &&
	test_json_field "$SPRINT/completion.json" status completed &&
	test_json_field "$SPRINT/completion.json" steps.0.name executor &&
	test_json_field "$SPRINT/completion.json" steps.0.status completed &&
	[[ ! -e $SPRINT/.hpcloop/research.jsonl ]] &&
	printf "%s\n" --flag "two words" >expect &&
	cmp expect "$SPRINT/argv.txt" &&
	printf "%s\n" "$SPRINT" >expect &&
	cmp expect "$SPRINT/pwd.txt" &&
	grep -qx "HPCLOOP_PARAM_LR=0.001" "$SPRINT/env.txt" &&
	grep -qx "HPCLOOP_PARAM_WIDTH=24" "$SPRINT/env.txt" &&
	grep -qx "HPCLOOP_PARAM_ACTIVATION=relu" "$SPRINT/env.txt" &&
	grep -qx "HPCLOOP_PARAM_BATCH_SIZE=8" "$SPRINT/env.txt" &&
	grep -qx "HPCLOOP_SPRINT_ID=sp-7e57ab" "$SPRINT/env.txt" &&
	grep -qx "HPCLOOP_STUDY=demo" "$SPRINT/env.txt" &&
	test_must_contain "$SPRINT/executor.log" "metric: 0.25"
'

test_expect_success 'no metric line for another name: no metric.json' '
	[[ ! -e $SPRINT/results/metric.json ]] &&
	test_must_contain "$SPRINT/summary.txt" "printed no line" &&
	test_json_field "$SPRINT/completion.json" summary \
		"$(cat "$SPRINT/summary.txt")"
'

test_expect_success 'the last valid metric line goes to results/metric.json' '
	make_sprint "$TRASH/metric" executor="$TRASH/exec.sh" metric=val_loss &&
	run_job "$TRASH/metric" EXEC_LINES="val_loss: 9\nval_loss: 1.5 epoch 3\nval_loss:2\nxval_loss: 7\n  val_loss: 8\nval_loss: abc\nval_loss: 3x\nval_loss: 1e999\nval_loss: nan\nval_loss_b: 6\n" &&
	[[ $JOB_RC == 0 ]] &&
	test_json_field "$SPRINT/results/metric.json" metric 2 &&
	test_json_field "$SPRINT/results/metric.json" name val_loss &&
	test_json_field "$SPRINT/results/metric.json" line 3 &&
	test_must_contain "$SPRINT/summary.txt" "val_loss: 2"
'

test_expect_success 'numbers JSON cannot hold as written are normalised' '
	make_sprint "$TRASH/norm" executor="$TRASH/exec.sh" metric=m &&
	run_job "$TRASH/norm" EXEC_LINES="m: .5\n" &&
	test_json_field "$SPRINT/results/metric.json" metric 0.5 &&
	run_job "$TRASH/norm" EXEC_LINES="m: +3.\r\n" &&
	test_json_field "$SPRINT/results/metric.json" metric 3 &&
	run_job "$TRASH/norm" EXEC_LINES="m:\t-1.25e-3\n" &&
	test_json_field "$SPRINT/results/metric.json" metric -0.00125
'

test_expect_success 'hostile parameter values, names and metric name stay text' '
	printf "%s" "{\"x\": \"\$(touch $TRASH/pwned1)\", \"y z;touch $TRASH/pwned2\": \"a'\''b\\\"c\\\\d\", \"n\": null, \"t\": true}" \
		>"$TRASH/hostile.json" &&
	make_sprint "$TRASH/hostile" executor="$TRASH/exec.sh,\$(touch $TRASH/pwned3)" \
		metric="m\$(touch $TRASH/pwned4)" params_file="$TRASH/hostile.json" &&
	! grep -q "pwned" "$TRASH/hostile/job.sh" &&
	run_job "$TRASH/hostile" EXEC_LINES="m\$(touch $TRASH/pwned4): 4\n" &&
	[[ $JOB_RC == 0 ]] &&
	for i in 1 2 3 4; do [[ ! -e $TRASH/pwned$i ]] || return 1; done &&
	grep -qxF "HPCLOOP_PARAM_X=\$(touch $TRASH/pwned1)" "$SPRINT/env.txt" &&
	name="y z;touch $TRASH/pwned2" &&
	name=${name^^} &&
	name=${name//[^A-Z0-9_]/_} &&
	grep -qxF "HPCLOOP_PARAM_${name:0:64}=a'\''b\"c\\d" "$SPRINT/env.txt" &&
	grep -qx "HPCLOOP_PARAM_N=" "$SPRINT/env.txt" &&
	grep -qx "HPCLOOP_PARAM_T=true" "$SPRINT/env.txt" &&
	grep -qxF "\$(touch $TRASH/pwned3)" "$SPRINT/argv.txt" &&
	test_json_field "$SPRINT/results/metric.json" metric 4
'

test_expect_success 'a failing executor fails the sprint, with no metric' '
	make_sprint "$TRASH/fail" executor="$TRASH/exec.sh" metric=metric &&
	run_job "$TRASH/fail" EXEC_RC=3 &&
	[[ $JOB_RC == 1 ]] &&
	test_json_field "$SPRINT/completion.json" status failed &&
	test_json_field "$SPRINT/completion.json" error \
		"the executor exited with status 3 (see executor.log)" &&
	test_json_field "$SPRINT/completion.json" steps.0.status failed &&
	test_json_field "$SPRINT/completion.json" summary null &&
	[[ ! -e $SPRINT/results/metric.json ]]
'

test_expect_success 'an executor that is not there fails the sprint' '
	make_sprint "$TRASH/missing" executor="$TRASH/no-such-program" &&
	run_job "$TRASH/missing" &&
	[[ $JOB_RC == 1 ]] &&
	test_json_field "$SPRINT/completion.json" error \
		"the executor '\''$TRASH/no-such-program'\'' was not found"
'

test_expect_success 'step_timeout_s ends the executor and its children' '
	make_sprint "$TRASH/slow" executor="$TRASH/exec.sh" metric=metric \
		step_timeout=1 &&
	run_job "$TRASH/slow" EXEC_SLEEP=60 &&
	[[ $JOB_RC == 1 ]] &&
	test_json_field "$SPRINT/completion.json" error \
		"the executor timed out after 1 s" &&
	child=$(cat "$SPRINT/child.pid") &&
	! kill -0 "$child" 2>/dev/null
'

# executor_started: the sleeping executor has started its child.
executor_started() {
	[[ -s $SPRINT/child.pid ]]
}

test_expect_success 'SIGTERM cancels the sprint and ends the executor group' '
	make_sprint "$TRASH/term" executor="$TRASH/exec.sh" metric=metric &&
	start_job "$TRASH/term" EXEC_SLEEP=60 &&
	wait_for 10 executor_started &&
	pgid=$(cat "$SPRINT/.hpcloop/executor.pgid") &&
	kill -0 -- "-$pgid" &&
	kill -TERM "$JOB_PID" &&
	wait_job 15 &&
	[[ $JOB_RC == 143 ]] &&
	test_json_field "$SPRINT/completion.json" status cancelled &&
	test_json_field "$SPRINT/completion.json" error \
		"cancelled (SIGTERM) during executor" &&
	! kill -0 -- "-$pgid" 2>/dev/null
'

test_done
