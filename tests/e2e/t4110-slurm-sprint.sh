#!/bin/sh
test_description='sprints over SSH on a real SLURM cluster (scheduler slurm)'
# The slurm scheduler module (src/core/sched_slurm*.c) end to end:
# hpcloop reaches a private sshd on 127.0.0.1 with the ssh transport,
# and that sshd's sessions reach a private one-node SLURM (munged,
# slurmctld, slurmd from tests/cluster/start-slurm.sh).  Sprints run
# the stand-in agent; squeue, sacct, scontrol, sbatch and scancel are
# the real ones, behind a wrapper first on the sessions' PATH that only
# logs each call, so that the steps can count them.  Everything this
# script starts it stops in its EXIT trap.
. "$(dirname "$0")/lib.sh"
CLUSTER=$SRC_DIR/tests/cluster
. "$CLUSTER/lib.sh"

missing=
for c in munged slurmctld slurmd sbatch squeue scontrol scancel sacct sinfo
do
	command -v "$c" >/dev/null 2>&1 || missing="$missing $c"
done
[ -x /usr/sbin/sshd ] || missing="$missing sshd"
if [ -n "$missing" ]; then
	require_component slurm "not installed:$missing (scripts/install-deps.sh)"
elif [ "$(id -u)" != 0 ]; then
	require_component slurm "the test daemons run as root, and this is uid $(id -u)"
else
	test_set_prereq SLURM
fi

BASE=$TRASH_DIRECTORY/slurm
SSHD_DIR=$TRASH_DIRECTORY/sshd
WRAP=$TRASH_DIRECTORY/wrap
CALLS=$TRASH_DIRECTORY/calls.log
REMOTE=$TRASH_DIRECTORY/remote
XDG_RUNTIME_DIR=$TRASH_DIRECTORY/run
export XDG_RUNTIME_DIR
mkdir -m 0700 "$XDG_RUNTIME_DIR"
unset SSH_AUTH_SOCK HPCLOOP_SSH_KEY_PASSPHRASE
LSAN_OPTIONS="suppressions=$TEST_DIRECTORY/t3000-libssh2.supp:fast_unwind_on_malloc=0:print_suppressions=0${LSAN_OPTIONS:+:$LSAN_OPTIONS}"
export LSAN_OPTIONS
trap '"$CLUSTER/stop-sshd.sh" "$SSHD_DIR" >/dev/null 2>&1
	sh "$CLUSTER/stop-slurm.sh" "$BASE" >/dev/null 2>&1' EXIT
trap 'exit 130' INT TERM HUP

# start_sshd: our sshd, its sessions on the wrapped SLURM commands.
start_sshd () {
	SSHD_SETENV="SLURM_CONF=$BASE/slurm.conf PATH=$WRAP:/usr/bin:/bin" \
		"$CLUSTER/start-sshd.sh" "$SSHD_DIR" "$port" 2>>sshd-start.log
}

# calls CMD: how many times CMD ran on the cluster so far.
calls () { grep -c "^$1 " "$CALLS" 2>/dev/null || :; }

# sprint_field ID FIELD: FIELD of sprint ID's status row (into ./out).
sprint_field () {
	hl status --spec "{\"sprint_id\":\"$1\"}" &&
	json_field out ".data.sprints.0.$2"
}

# state_in_out ID: the state of sprint ID in the status answer ./out.
state_in_out () {
	python3 -c 'import json, sys
for s in json.load(open("out"))["data"]["sprints"]:
    if s["sprint_id"] == sys.argv[1]:
        print(s["state"])' "$1"
}

# queued_with COMMENT: the ids of the jobs SLURM has with COMMENT.
queued_with () {
	squeue --noheader --array --states=all --format="%i|%k" |
		sed -n "s/|$1\$//p"
}

test_expect_success SLURM 'setup: SLURM, an sshd on 127.0.0.1, a config with ssh clusters on slurm' '
	sh "$CLUSTER/start-slurm.sh" "$BASE" 2>slurm-start.log &&
	. "$BASE/env.sh" &&
	mkdir -p "$WRAP" "$REMOTE" &&
	for c in squeue sacct scontrol sbatch scancel; do
		printf "#!/bin/sh\necho \"%s \$*\" >>%s\nexec /usr/bin/%s \"\$@\"\n" \
			"$c" "$CALLS" "$c" >"$WRAP/$c" &&
		chmod +x "$WRAP/$c" || return 1
	done &&
	port=$("$HPCLOOP_TEST_TOOL" free-port) &&
	start_sshd &&
	{ cat <<-EOF
	version: 1
	agent_command: "$SRC_DIR/tests/agents/fake-agent -p --output-format stream-json --verbose"
	heartbeat_interval_s: 1
	watchdog_grace_s: 2
	clusters:
	EOF
	for name in hpc hang fail calm; do
		qi=1 qb=100 && test $name != calm || { qi=300 qb=1; }
		cat <<-EOF
		  $name:
		    transport: ssh
		    host: 127.0.0.1
		    port: $port
		    user: $(id -un)
		    key: $SSHD_DIR/id_ed25519
		    known_hosts: $SSHD_DIR/known_hosts
		    connect_timeout_s: 5
		    scheduler: slurm
		    working_dir: $REMOTE/$name
		    query_interval_s: $qi
		    query_burst: $qb
		EOF
		case $name in
		hang) echo "    environment: {FAKE_AGENT_HANG_STEP: research}" ;;
		fail) echo "    environment: {FAKE_AGENT_FAIL_STEP: research}" ;;
		esac
	done
	cat <<-EOF
	studies:
	EOF
	for name in hpc hang fail calm again; do
		on=$name && test $name != again || on=hang
		cat <<-EOF
		  $name:
		    cluster: $on
		    red_team_max_rounds: 0
		    max_sprint_duration_hours: 1
		    signal_grace_s: 55
		    job_options: {partition: debug, cpus_per_task: 1}
		    metric: {name: val_loss, direction: minimize}
		EOF
		test $name = again && echo "    requeue: true"
	done; } >hpcloop.yaml &&
	hl init &&
	test_json_field out .ok true
'

test_expect_success SLURM 'preflight over SSH: reached, scheduler limits from scontrol, working_dir, the agent on PATH' '
	hl preflight --spec "{\"cluster\": \"hpc\"}" &&
	test_json_field out .data.ready true &&
	test "$(json_field out .data.clusters.0.limits.max_array_size)" -gt 0 &&
	test "$(json_field out .data.clusters.0.limits.max_job_count)" -gt 0
'

test_expect_success SLURM 'a sprint past its time limit gets the warning signal and ends timed_out (started first: it takes a while)' '
	hl submit-flow --spec "{\"study\":\"hang\",\"idea\":\"too slow\",\"time_limit_s\":60}" &&
	late=$(json_field out .data.sprint_id) &&
	late_job=$(json_field out .data.job_id) &&
	late_dir=$(json_field out .data.directory) &&
	grep -x "#SBATCH --time=0:01:00" "$late_dir/run_sprint.sh" &&
	grep -x "#SBATCH --signal=B:USR1@54" "$late_dir/run_sprint.sh" &&
	scontrol -o show job "$late_job" | grep -q "TimeLimit=00:01:00"
'

test_expect_success SLURM 'submit-flow over SSH: sbatch --parsable with the run id as comment, the study options as #SBATCH lines' '
	: >"$CALLS" &&
	hl submit-flow --spec "{\"study\":\"hpc\",\"idea\":\"first on slurm\"}" &&
	test_json_field out .data.state submitted &&
	ok=$(json_field out .data.sprint_id) &&
	ok_job=$(json_field out .data.job_id) &&
	ok_dir=$(json_field out .data.directory) &&
	case $ok_job in ""|*[!0-9]*) echo "not a job id: $ok_job"; false ;; esac &&
	test "$(calls sbatch)" = 1 &&
	grep "^sbatch --parsable --job-name=hpl-$ok --comment=$ok --chdir=$ok_dir " "$CALLS" &&
	grep -x "#SBATCH --partition=debug" "$ok_dir/run_sprint.sh" &&
	grep -x "#SBATCH --cpus-per-task=1" "$ok_dir/run_sprint.sh" &&
	grep -x "#SBATCH --no-requeue" "$ok_dir/run_sprint.sh" &&
	test "$(queued_with "$ok")" = "$ok_job"
'

test_expect_success SLURM 'a job option sbatch must not get is refused: nothing submitted, the journal untouched' '
	row_counts >before &&
	: >"$CALLS" &&
	for opts in "{\"output\":\"/etc/passwd\"}" "{\"wrap\":\"id\"}" \
		"{\"mem\":\"4G --wrap=id\"}" "{\"partition\":\"a'"'"'b\"}" \
		"{\"time\":\"\$(id)\"}"; do
		test_expect_code 2 hl submit-flow --spec "{\"study\":\"hpc\",\"idea\":\"bad options\",\"job_options\":$opts}" &&
		test_json_field out .error_code scheduler_rejected &&
		json_field out .details.option >opt &&
		test -s opt || return 1
	done &&
	test "$(calls sbatch)" = 0 &&
	row_counts >after &&
	test_cmp before after
'

test_expect_success SLURM 'it runs to completed; status shows the job left the queue and what accounting said' '
	wait_state "$ok" completed 40 &&
	test_json_field out .data.sprints.0.evidence.scheduler.state completed &&
	json_field out .data.sprints.0.evidence.scheduler.evidence.source >src &&
	grep -E "^(sacct|sacct-completion|scontrol)$" src &&
	test_json_field out .data.sprints.0.evidence.scheduler.evidence.raw_state COMPLETED &&
	test_json_field out .data.sprints.0.evidence.scheduler.evidence.exit_code 0 &&
	json_field out .data.sprints.0.summary | grep -q "first on slurm" &&
	# the cluster has no accounting storage: found once, remembered
	test "$(cat "$REMOTE/hpc/.hpcloop-local/slurm-accounting")" = jobcomp
'

test_expect_success SLURM 'heartbeats and the completion record were pulled back through the ssh transport' '
	hl events --spec "{\"subject\":\"$ok\",\"type\":\"sprint.heartbeat\"}" &&
	test "$(json_field out .data.count)" -ge 1 &&
	test_json_field out .data.events.0.data.source pull &&
	hl events --spec "{\"subject\":\"$ok\",\"type\":\"sprint.finished\"}" &&
	test "$(json_field out .data.count)" = 1 &&
	test_json_field out .data.events.0.data.completion.status completed &&
	test_json_field out .data.events.0.data.evidence.completion_file.claim true &&
	# nothing reached this machine but through sshd: no orchestrator
	test -z "${HPCLOOP_ORCHESTRATOR_URL:-}"
'

test_expect_success SLURM 'a job exiting non-zero is failed, with its exit code as evidence' '
	hl submit-flow --spec "{\"study\":\"fail\",\"idea\":\"will fail\"}" &&
	bad=$(json_field out .data.sprint_id) &&
	wait_state "$bad" failed 40 &&
	test_json_field out .data.sprints.0.evidence.scheduler.state failed &&
	test_json_field out .data.sprints.0.evidence.scheduler.evidence.raw_state FAILED &&
	code=$(json_field out .data.sprints.0.evidence.scheduler.evidence.exit_code) &&
	test "$code" -ne 0
'

test_expect_success SLURM 'one status call asks squeue once for every live job' '
	hl submit-flow --spec "{\"study\":\"hang\",\"idea\":\"to cancel\"}" &&
	stuck=$(json_field out .data.sprint_id) &&
	stuck_job=$(json_field out .data.job_id) &&
	i=0 &&
	until test "$(squeue -h -j "$stuck_job" -o %T)" = RUNNING; do
		i=$((i + 1)) && test $i -lt 150 && sleep 0.2 || return 1
	done &&
	hl submit-flow --spec "{\"study\":\"hang\",\"idea\":\"waits its turn\"}" &&
	queued=$(json_field out .data.sprint_id) &&
	queued_job=$(json_field out .data.job_id) &&
	sleep 1 &&
	: >"$CALLS" &&
	hl status &&
	test_json_field out .ok true &&
	test "$(calls squeue)" = 1 &&
	sed -n "s/^squeue .*--jobs=//p" "$CALLS" | tr , "\n" >asked &&
	grep -x "$stuck_job" asked && grep -x "$queued_job" asked &&
	test "$(state_in_out "$stuck")" = running &&
	# it waits for a slot, or runs if the sprint past its limit ended
	state_in_out "$queued" | grep -xE "submitted|running" &&
	sprint_field "$stuck" state >st && test "$(cat st)" = running &&
	test_json_field out .data.sprints.0.evidence.scheduler.evidence.source squeue
'

test_expect_success SLURM 'slurmctld stopped: status reports scheduler_unavailable for the cluster, submit-flow exits 2, nothing is finished' '
	cluster_kill_pidfile "$BASE/run/slurmctld.pid" slurmctld &&
	hl status &&
	test_json_field out .ok true &&
	test_json_field out .partial_errors.0.code scheduler_unavailable &&
	json_field out .partial_errors.0.cluster >cl &&
	test "$(cat cl)" = hang &&
	test "$(state_in_out "$stuck")" = running &&
	state_in_out "$queued" | grep -xE "submitted|running" &&
	test_json_field out .data.clusters.hang.queried false &&
	test_expect_code 2 hl submit-flow --spec "{\"study\":\"hpc\",\"idea\":\"while down\"}" &&
	test_json_field out .error_code scheduler_unavailable
'

test_expect_success SLURM 'slurmctld back: the running sprint is still running' '
	sh "$CLUSTER/start-slurm.sh" "$BASE" 2>>slurm-start.log &&
	sprint_field "$stuck" state >st && test "$(cat st)" = running
'

test_expect_success SLURM 'cancel: scancel ends the running job, the sprint is cancelled' '
	: >"$CALLS" &&
	hl cancel --spec "{\"sprint_id\":\"$stuck\"}" &&
	test_json_field out .ok true &&
	test "$(calls scancel)" = 1 &&
	grep -x "scancel $stuck_job" "$CALLS" &&
	i=0 &&
	until squeue -h -t all -j "$stuck_job" -o %T | grep -q CANCELLED; do
		i=$((i + 1)) && test $i -lt 100 && sleep 0.2 || return 1
	done &&
	sprint_field "$stuck" state >st && test "$(cat st)" = cancelled &&
	hl cancel --spec "{\"sprint_id\":\"$queued\"}" &&
	sprint_field "$queued" state >st && test "$(cat st)" = cancelled
'

test_expect_success SLURM 'a requeued job sends its sprint back to submitted with the same job id' '
	hl submit-flow --spec "{\"study\":\"again\",\"idea\":\"preempt me\"}" &&
	rq=$(json_field out .data.sprint_id) &&
	rq_job=$(json_field out .data.job_id) &&
	grep -x "#SBATCH --requeue" "$(json_field out .data.directory)/run_sprint.sh" &&
	wait_state "$rq" running 30 &&
	scontrol requeue "$rq_job" &&
	wait_state "$rq" submitted 30 &&
	test_json_field out .data.sprints.0.job_id "$rq_job" &&
	test_json_field out .data.sprints.0.evidence.scheduler.state requeued &&
	test_json_field out .data.sprints.0.evidence.scheduler.evidence.restarts 1 &&
	hl events --spec "{\"subject\":\"$rq\",\"type\":\"sprint.requeued\"}" &&
	test "$(json_field out .data.count)" = 1 &&
	wait_state "$rq" running 60 &&
	hl events --spec "{\"subject\":\"$rq\",\"type\":\"sprint.claimed\"}" &&
	claims=$(json_field out .data.count) &&
	hl events --spec "{\"subject\":\"$rq\",\"type\":\"sprint.claim_dropped\"}" &&
	test "$(json_field out .data.count)" = "$claims" &&
	hl status --spec "{\"sprint_id\":\"$rq\"}" &&
	test_json_field out .data.sprints.0.state running &&
	hl cancel --spec "{\"sprint_id\":\"$rq\"}"
'

test_expect_success SLURM 'a crash after sbatch, before the journal knew the job: the retry adopts it, no duplicate' '
	spec="{\"study\":\"hpc\",\"idea\":\"crash after sbatch\",\"idempotency_key\":\"k-crash-1\"}" &&
	HPCLOOP_FAULT=submit.after_sched "$HPCLOOP_BIN" submit-flow \
		--spec "$spec" >crash.out 2>crash.err
	test $? = 137 &&
	test ! -s crash.out &&
	crashed=$(sqlite3 "$HPCLOOP_JOURNAL" "SELECT id FROM sprints WHERE state = '"'"'pending'"'"'") &&
	test -n "$crashed" &&
	first=$(queued_with "$crashed") &&
	test -n "$first" &&
	hl submit-flow --spec "$spec" &&
	test_json_field out .data.sprint_id "$crashed" &&
	test_json_field out .data.job_id "$first" &&
	test "$(queued_with "$crashed")" = "$first"
'

test_expect_success SLURM 'sshd stopped: status reports ssh_unreachable for the cluster, submit-flow exits 2' '
	"$CLUSTER/stop-sshd.sh" "$SSHD_DIR" &&
	hl status &&
	test_json_field out .ok true &&
	test_json_field out .partial_errors.0.code ssh_unreachable &&
	test_expect_code 2 hl submit-flow --spec "{\"study\":\"hpc\",\"idea\":\"no sshd\"}" &&
	test_json_field out .error_code ssh_unreachable &&
	hl preflight --spec "{\"cluster\": \"hpc\"}" &&
	test_json_field out .data.ready false &&
	test_json_field out .data.clusters.0.checks.0.name reach &&
	test_json_field out .data.clusters.0.checks.0.error_code ssh_unreachable
'

test_expect_success SLURM 'sshd back: status reaches the cluster again' '
	start_sshd &&
	hl status &&
	test_json_field out .ok true &&
	test -z "$(json_field out .partial_errors 2>/dev/null)"
'

test_expect_success SLURM 'inside the freshness window status asks no squeue and opens no SSH connection' '
	hl submit-flow --spec "{\"study\":\"calm\",\"idea\":\"a calm cluster\"}" &&
	calm=$(json_field out .data.sprint_id) &&
	hl status --spec "{\"sprint_id\":\"$calm\"}" &&
	q0=$(calls squeue) && c0=$(grep -c "Connection from 127.0.0.1" "$SSHD_DIR/sshd.log") &&
	for i in 1 2 3; do
		hl status --spec "{\"sprint_id\":\"$calm\"}" || return 1
		test_json_field out .data.clusters.calm.cached true || return 1
		test_json_field out .data.clusters.calm.queried false || return 1
	done &&
	test "$(calls squeue)" = "$q0" &&
	test "$(grep -c "Connection from 127.0.0.1" "$SSHD_DIR/sshd.log")" = "$c0" &&
	hl cancel --spec "{\"sprint_id\":\"$calm\"}"
'

test_expect_success SLURM 'a campaign over SSH: SLURM arrays with %2, waves chained by afterany, a failed task resubmitted, results pulled' '
	{ echo "#!/bin/sh" && echo "heal=$REMOTE/heal" && cat <<-\SH; } >"$REMOTE/exec.sh" &&
	echo "task $HPCLOOP_TASK_ID of job ${SLURM_ARRAY_JOB_ID:-?}_${SLURM_ARRAY_TASK_ID:-?}"
	if [ "$HPCLOOP_PARAM_X" = 4 ] && ! [ -e "$heal" ]; then exit 5; fi
	printf "%s" "$HPCLOOP_PARAM_X" >"$HPCLOOP_RESULT_DIR/x"
	SH
	chmod +x "$REMOTE/exec.sh" &&
	: >"$CALLS" &&
	hl submit-flow --spec "{\"study\": \"hpc\", \"campaign\": {\"executor\": [\"$REMOTE/exec.sh\"], \"params\": {\"x\": [0, 1, 2, 3, 4, 5]}, \"max_array_size\": 3, \"arrays_per_wave\": 1, \"array_concurrency\": 2, \"job_options\": {\"partition\": \"\"}}}" &&
	cp=$(json_field out .data.campaign_id) &&
	a0=$(json_field out .data.submissions.0.job_id) &&
	a1=$(json_field out .data.submissions.1.job_id) &&
	grep "^sbatch .*--array=1-3%2" "$CALLS" >arrays && test $(wc -l <arrays) = 2 &&
	grep -q "^sbatch .*--array=1-3%2 --dependency=afterany:$a0 " "$CALLS" &&
	hl monitor-flow --spec "{\"campaign_id\": \"$cp\", \"budget_s\": 120, \"interval_s\": 1}" &&
	test_json_field out .data.ended true &&
	test_json_field out .data.state failed &&
	test_json_field out .data.failed_tasks.0 4 &&
	test_json_field out .data.counts.completed 5 &&
	d=$(json_field out .data.directory) &&
	grep -q "task 3 of job ${a1}_1" "$d/tasks/3/output.log" &&
	touch "$REMOTE/heal" &&
	hl resubmit-failed --spec "{\"campaign_id\": \"$cp\"}" &&
	test_json_field out .data.tasks.0 4 &&
	hl monitor-flow --spec "{\"campaign_id\": \"$cp\", \"budget_s\": 60, \"interval_s\": 1}" &&
	test_json_field out .data.state completed &&
	hl aggregate-flow --spec "{\"campaign_id\": \"$cp\", \"out_dir\": \"$TRASH_DIRECTORY/agg\", \"reducer\": [\"sh\", \"-c\", \"cat tasks/*/x\"]}" &&
	test_json_field out .data.files 6 &&
	test_json_field out .data.reducer.stdout 012345
'

test_expect_success SLURM 'the sprint past its time limit ended timed_out, from its own completion record' '
	wait_state "$late" timed_out 90 &&
	test_json_field out .data.sprints.0.evidence.completion_file.claim true
'

test_done
