#!/bin/sh
test_description='sprints over ssh on a real Grid Engine cell (scheduler sge)'
# A real sge_qmaster and sge_execd (tests/cluster/start-sge.sh) and a
# real sshd on 127.0.0.1 (start-sshd.sh), both in this script's trash
# directory on free ports and stopped when it ends.  hpcloop reaches
# the cell only through the ssh transport: qsub, qstat, qacct and qdel
# run over ssh, the sprint directory is written over SFTP.  The stand-in
# agent completes, fails or hangs, as each cluster's environment tells
# it.  Covers issue 8, items 4 and 9 for SGE.
. "$(dirname "$0")/lib.sh"
CLUSTER=$SRC_DIR/tests/cluster
. "$CLUSTER/lib.sh"

sge_missing=
for c in /usr/sbin/sge_qmaster /usr/sbin/sge_execd /usr/sbin/sshd qsub \
	qstat qacct qdel qconf
do
	command -v "$c" >/dev/null 2>&1 || sge_missing="$sge_missing $c"
done
if [ -n "$sge_missing" ]; then
	require_component sge "not installed:$sge_missing (scripts/install-deps.sh)"
elif [ "$(id -u)" != 0 ]; then
	require_component sge "sge_execd must run as root, and this is uid $(id -u)"
else
	test_set_prereq SGE
fi

BASE=$TRASH_DIRECTORY/sge
SSHD_DIR=$TRASH_DIRECTORY/sshd
XDG_RUNTIME_DIR=$TRASH_DIRECTORY/run
export XDG_RUNTIME_DIR
mkdir -m 0700 "$XDG_RUNTIME_DIR"
unset SSH_AUTH_SOCK HPCLOOP_SSH_KEY_PASSPHRASE
LSAN_OPTIONS="suppressions=$TEST_DIRECTORY/t3000-libssh2.supp:fast_unwind_on_malloc=0:print_suppressions=0${LSAN_OPTIONS:+:$LSAN_OPTIONS}"
export LSAN_OPTIONS

# cleanup: the jobs of this script's sprints (which outlive a killed
# qmaster), then both daemons, each by the pids it recorded.  The last
# step runs it (test_done removes the trash directory, and with it the
# pid files, before the EXIT trap runs); the trap is for the scripts
# that end early or fail, whose trash is kept.
cleanup () {
	for p in $(pgrep -f "$TRASH_DIRECTORY/sprints" 2>/dev/null); do
		kill -9 "$p" 2>/dev/null
	done
	sh "$CLUSTER/stop-sge.sh" "$BASE" >/dev/null 2>&1
	sh "$CLUSTER/stop-sshd.sh" "$SSHD_DIR" >/dev/null 2>&1
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

# sge_jobs_named TEXT: how many jobs in the queue have TEXT in their name.
sge_jobs_named () {
	qstat -xml -u '*' | grep -c "<JB_name>[^<]*$1[^<]*</JB_name>"
}

# sge_job_gone JOB: the queue no longer holds JOB.
sge_job_gone () { ! qstat -j "$1" >/dev/null 2>&1; }

# sge_job_in_error JOB: JOB is in an error state (Eqw).
sge_job_in_error () {
	qstat -xml | grep -A4 "<JB_job_number>$1</JB_job_number>" |
		grep -q "<state>E"
}

# wait_running ID [SECONDS]: poll status until sprint ID's job runs.
wait_running () {
	i=0
	while [ $i -lt $((${2:-30} * 5)) ]; do
		hl status --spec "{\"sprint_id\":\"$1\"}" || return 1
		test "$(json_field out .data.sprints.0.state)" = running &&
		return 0
		sleep 0.2
		i=$((i + 1))
	done
	echo "sprint $1 never ran" >&2
	cat out >&2
	return 1
}

test_expect_success SGE 'setup: a Grid Engine cell, an sshd that reaches it, the config' '
	sh "$CLUSTER/start-sge.sh" "$BASE" 2>sge-start.err &&
	. "$BASE/env.sh" &&
	port=$("$HPCLOOP_TEST_TOOL" free-port) &&
	"$CLUSTER/start-sshd.sh" "$SSHD_DIR" "$port" 2>sshd-start.err &&
	# Remote qsub finds the cell through the session environment, as a
	# site profile would set it.
	echo "SetEnv SGE_ROOT=$SGE_ROOT SGE_CELL=$SGE_CELL SGE_QMASTER_PORT=$SGE_QMASTER_PORT SGE_EXECD_PORT=$SGE_EXECD_PORT" \
		>>"$SSHD_DIR/sshd_config" &&
	kill -HUP "$(cat "$SSHD_DIR/sshd.pid")" &&
	sleep 0.5 &&
	me=$(id -un) &&
	for c in sge sgefail sgehang; do
		case $c in
		sge) env="{}" ;;
		sgefail) env="{FAKE_AGENT_FAIL_STEP: research}" ;;
		sgehang) env="{FAKE_AGENT_HANG_STEP: research}" ;;
		esac
		cat <<-YAML || return 1
		  $c:
		    transport: ssh
		    host: 127.0.0.1
		    port: $port
		    user: $me
		    key: $SSHD_DIR/id_ed25519
		    known_hosts: $SSHD_DIR/known_hosts
		    scheduler: sge
		    working_dir: $TRASH_DIRECTORY/sprints/$c
		    query_interval_s: 1
		    query_burst: 100
		    environment: $env
		YAML
	done >clusters.yaml &&
	cat >hpcloop.yaml <<-YAML &&
	version: 1
	agent_command: "$FAKE_AGENT -p --output-format stream-json --verbose"
	heartbeat_interval_s: 1
	watchdog_grace_s: 2
	clusters:
	$(cat clusters.yaml)
	studies:
	  demo: {cluster: sge, red_team_max_rounds: 1, max_sprint_duration_hours: 1, metric: {name: val_loss, direction: minimize}}
	  bad: {cluster: sgefail, red_team_max_rounds: 1, max_sprint_duration_hours: 1, metric: {name: val_loss, direction: minimize}}
	  hang: {cluster: sgehang, red_team_max_rounds: 1, max_sprint_duration_hours: 1, metric: {name: val_loss, direction: minimize}}
	YAML
	"$HPCLOOP_BIN" init >/dev/null
'

test_expect_success SGE 'preflight over SSH: reached, limits from qconf -sconf, working_dir, the agent on PATH' '
	hl preflight --spec "{\"cluster\": \"sge\"}" &&
	test_json_field out .data.ready true &&
	test "$(json_field out .data.clusters.0.limits.max_array_size)" -gt 0
'

test_expect_success SGE 'a sprint past its time limit is submitted with h_rt and s_rt' '
	hl submit-flow --spec "{\"study\":\"hang\",\"idea\":\"hang past the limit\",\"time_limit_s\":20}" &&
	slow=$(json_field out .data.sprint_id) &&
	slow_dir=$(json_field out .data.directory) &&
	grep -x "#\\$ -l h_rt=20" "$slow_dir/run_sprint.sh" &&
	grep -x "#\\$ -l s_rt=15" "$slow_dir/run_sprint.sh" &&
	grep -x "#\\$ -S /bin/bash" "$slow_dir/run_sprint.sh"
'

test_expect_success SGE 'a sprint over ssh runs on SGE to completed; status shows the qacct evidence' '
	# The failing one (next step) runs meanwhile.
	hl submit-flow --spec "{\"study\":\"bad\",\"idea\":\"fail on sge\"}" &&
	bad=$(json_field out .data.sprint_id) &&
	hl submit-flow --spec "{\"study\":\"demo\",\"idea\":\"complete on sge\"}" &&
	test_json_field out .data.state submitted &&
	ok=$(json_field out .data.sprint_id) &&
	job=$(json_field out .data.job_id) &&
	echo "$job" | grep -Eq "^[1-9][0-9]*$" &&
	wait_state "$ok" completed 40 &&
	test_json_field out .data.sprints.0.job_id "$job" &&
	test_json_field out .data.sprints.0.evidence.scheduler.evidence.source sge &&
	test_json_field out .data.sprints.0.evidence.scheduler.evidence.seen qacct &&
	test_json_field out .data.sprints.0.evidence.scheduler.state completed &&
	qacct -j "$job" >acct.out &&
	grep "^jobname  *hpl-$ok *$" acct.out &&
	grep "^exit_status  *0 *$" acct.out
'

test_expect_success SGE 'a job that exits non-zero is failed, with qacct exit_status' '
	wait_state "$bad" failed 40 &&
	test_json_field out .data.sprints.0.evidence.scheduler.state failed &&
	test "$(json_field out .data.sprints.0.evidence.scheduler.evidence.exit_status)" != 0
'

test_expect_success SGE 'cancel qdels a running job; the sprint ends cancelled' '
	hl submit-flow --spec "{\"study\":\"hang\",\"idea\":\"hang to be cancelled\"}" &&
	hung=$(json_field out .data.sprint_id) &&
	hung_job=$(json_field out .data.job_id) &&
	wait_running "$hung" &&
	json_field out .data.sprints.0.evidence.scheduler.evidence.sge_state |
		grep -qx "[rt]" &&
	hl cancel --spec "{\"sprint_id\":\"$hung\"}" &&
	wait_state "$hung" cancelled 40 &&
	cluster_wait 30 sge_job_gone "$hung_job"
'

test_expect_success SGE 'a queued job deleted behind our back: running while accounting may lag, then lost' '
	qmod -d "all.q" >/dev/null &&
	hl submit-flow --spec "{\"study\":\"demo\",\"idea\":\"deleted while queued\"}" &&
	gone=$(json_field out .data.sprint_id) &&
	gone_job=$(json_field out .data.job_id) &&
	hl status --spec "{\"sprint_id\":\"$gone\"}" &&
	test_json_field out .data.sprints.0.evidence.scheduler.state pending &&
	test_json_field out .data.sprints.0.evidence.scheduler.evidence.sge_state qw &&
	qdel "$gone_job" >/dev/null &&
	qmod -e "all.q" >/dev/null &&
	hl status --spec "{\"sprint_id\":\"$gone\"}" &&
	test_json_field out .data.sprints.0.state running &&
	test_json_field out .data.sprints.0.evidence.scheduler.state running &&
	json_field out .data.sprints.0.evidence.scheduler.evidence.detail |
		grep -q "no accounting record yet" &&
	mark=$TRASH_DIRECTORY/sprints/sge/.hpcloop-local/sge/gone/$gone_job &&
	test -f "$mark" &&
	echo $(($(date +%s) - 3600)) >"$mark" &&
	hl status --spec "{\"sprint_id\":\"$gone\"}" &&
	test_json_field out .data.sprints.0.state lost &&
	test_json_field out .data.sprints.0.evidence.scheduler.state lost
'

test_expect_success SGE 'a job SGE cannot start (Eqw) is failed, with its error reason' '
	qmod -d "all.q" >/dev/null &&
	hl submit-flow --spec "{\"study\":\"demo\",\"idea\":\"error state\"}" &&
	eqw=$(json_field out .data.sprint_id) &&
	eqw_job=$(json_field out .data.job_id) &&
	eqw_dir=$(json_field out .data.directory) &&
	mv "$eqw_dir" "$eqw_dir.away" &&
	qmod -e "all.q" >/dev/null &&
	cluster_wait 30 sge_job_in_error "$eqw_job" &&
	mv "$eqw_dir.away" "$eqw_dir" &&
	hl status --spec "{\"sprint_id\":\"$eqw\"}" &&
	test_json_field out .data.sprints.0.state failed &&
	test_json_field out .data.sprints.0.evidence.scheduler.state failed &&
	test_json_field out .data.sprints.0.evidence.scheduler.evidence.sge_state Eqw &&
	json_field out .data.sprints.0.evidence.scheduler.evidence.error_reason |
		grep -q "chdir" &&
	qdel "$eqw_job" >/dev/null
'

test_expect_success SGE 'a job option sge cannot take is refused by name and nothing is queued' '
	before=$(qstat -xml -u "*" | grep -c "<JB_job_number>" || :) &&
	test_expect_code 2 hl submit-flow --spec "{\"study\":\"demo\",\"idea\":\"bad option\",\"job_options\":{\"partition\":\"debug\"}}" &&
	test_json_field out .error_code scheduler_rejected &&
	json_field out .message | grep -q "partition" &&
	test_expect_code 2 hl submit-flow --spec "{\"study\":\"demo\",\"idea\":\"hostile mem\",\"job_options\":{\"mem\":\"4G -l h_rt=1\"}}" &&
	test_json_field out .error_code scheduler_rejected &&
	json_field out .message | grep -q "mem" &&
	test "$(qstat -xml -u "*" | grep -c "<JB_job_number>" || :)" = "$before"
'

test_expect_success SGE 'killed after qsub, before the journal knew the job: the retry adopts it, no duplicate' '
	spec="{\"study\":\"hang\",\"idea\":\"crash after qsub\",\"idempotency_key\":\"sge-crash\"}" &&
	HPCLOOP_FAULT=submit.after_sched "$HPCLOOP_BIN" submit-flow --spec "$spec" >crash.out 2>crash.err
	test $? = 137 &&
	test ! -s crash.out &&
	hl submit-flow --spec "$spec" &&
	test_json_field out .data.state submitted &&
	crash=$(json_field out .data.sprint_id) &&
	crash_job=$(json_field out .data.job_id) &&
	test "$(sge_jobs_named "$crash")" = 1 &&
	qstat -j "$crash_job" | grep -x "context: *hpcloop_run=$crash" &&
	hl events --spec "{\"subject\":\"$crash\",\"type\":\"sprint.submitted\"}" &&
	test_json_field out .data.count 1 &&
	wait_running "$crash" &&
	test "$(sge_jobs_named "$crash")" = 1
'

test_expect_success SGE 'past its time limit the job reports itself timed_out (SIGUSR1 at s_rt)' '
	wait_state "$slow" timed_out 45 &&
	test_json_field out .data.sprints.0.evidence.scheduler.state timed_out &&
	grep -q "SIGUSR1" "$slow_dir/completion.json"
'

test_expect_success SGE 'a campaign over SSH: SGE arrays with -tc 2, waves held by -hold_jid, a failed task resubmitted, results pulled' '
	mkdir -p "$TRASH_DIRECTORY/remote" &&
	{ echo "#!/bin/sh" && echo "heal=$TRASH_DIRECTORY/remote/heal" && cat <<-\SH; } >"$TRASH_DIRECTORY/remote/exec.sh" &&
	echo "task $HPCLOOP_TASK_ID of job ${JOB_ID:-?}.${SGE_TASK_ID:-?} started $(date +%s)"
	[ "$HPCLOOP_PARAM_X" -ge 2 ] || sleep 2
	if [ "$HPCLOOP_PARAM_X" = 3 ] && ! [ -e "$heal" ]; then exit 5; fi
	printf "%s" "$HPCLOOP_PARAM_X" >"$HPCLOOP_RESULT_DIR/x"
	SH
	chmod +x "$TRASH_DIRECTORY/remote/exec.sh" &&
	hl submit-flow --spec "{\"study\": \"demo\", \"campaign\": {\"executor\": [\"$TRASH_DIRECTORY/remote/exec.sh\"], \"params\": {\"x\": [0, 1, 2, 3]}, \"max_array_size\": 2, \"arrays_per_wave\": 1, \"array_concurrency\": 2}}" &&
	cp=$(json_field out .data.campaign_id) &&
	a0=$(json_field out .data.submissions.0.job_id) &&
	a1=$(json_field out .data.submissions.1.job_id) &&
	d=$(json_field out .data.directory) &&
	grep -q "^#\\$ -S /bin/bash" "$d/submissions/0.sh" &&
	qstat -j "$a1" >a1.txt 2>&1; grep -q "jid_predecessor_list.*$a0\|hold_jid.*$a0" a1.txt || grep -q "$a0" a1.txt || ! grep -q "job_number" a1.txt;
	hl monitor-flow --spec "{\"campaign_id\": \"$cp\", \"budget_s\": 150, \"interval_s\": 1}" &&
	test_json_field out .data.ended true &&
	test_json_field out .data.state failed &&
	test_json_field out .data.failed_tasks.0 3 &&
	test_json_field out .data.counts.completed 3 &&
	grep -q "task 2 of job ${a1}.1 started" "$d/tasks/2/output.log" &&
	end0=$(stat -c %Y "$d/tasks/0/exit_code" "$d/tasks/1/exit_code" | sort -n | tail -n 1) &&
	start1=$(sed -n "s/.* started \([0-9]*\)$/\1/p" "$d/tasks/2/output.log" | head -n 1) &&
	test "$start1" -ge "$end0" &&
	touch "$TRASH_DIRECTORY/remote/heal" &&
	hl resubmit-failed --spec "{\"campaign_id\": \"$cp\"}" &&
	test_json_field out .data.tasks.0 3 &&
	hl monitor-flow --spec "{\"campaign_id\": \"$cp\", \"budget_s\": 90, \"interval_s\": 1}" &&
	test_json_field out .data.state completed &&
	hl aggregate-flow --spec "{\"campaign_id\": \"$cp\", \"out_dir\": \"$TRASH_DIRECTORY/agg\", \"reducer\": [\"sh\", \"-c\", \"cat tasks/*/x\"]}" &&
	test_json_field out .data.reducer.stdout 0123
'

test_expect_success SGE 'qmaster stopped: scheduler_unavailable (exit 2 for submit and cancel), nothing finished' '
	qm=$(cat "$BASE/qmaster/qmaster.pid") &&
	kill -9 "$qm" &&
	cluster_wait_dead "$qm" sge_qmaster 10 &&
	hl status --spec "{\"sprint_id\":\"$crash\"}" &&
	test_json_field out .partial_errors.0.code scheduler_unavailable &&
	test_json_field out .data.clusters.sgehang.error scheduler_unavailable &&
	test_json_field out .data.sprints.0.state running &&
	test_expect_code 2 hl submit-flow --spec "{\"study\":\"demo\",\"idea\":\"no qmaster\"}" &&
	test_json_field out .error_code scheduler_unavailable &&
	test_expect_code 2 hl cancel --spec "{\"sprint_id\":\"$crash\"}" &&
	test_json_field out .error_code scheduler_unavailable &&
	hl events --spec "{\"subject\":\"$crash\",\"type\":\"sprint.finished\"}" &&
	test_json_field out .data.count 0 &&
	hl status --spec "{\"sprint_id\":\"$crash\"}" &&
	test_json_field out .data.sprints.0.state running
'

test_expect_success SGE 'every daemon and job this script started is stopped' '
	pids=$(cat "$BASE"/execd/*/execd.pid "$SSHD_DIR/sshd.pid") &&
	test -n "$pids" &&
	cleanup &&
	for p in $pids; do
		! cluster_pid_alive "$p" || { echo "$p still runs"; return 1; }
	done &&
	test -z "$(pgrep -f "$TRASH_DIRECTORY/sprints")"
'

test_done
