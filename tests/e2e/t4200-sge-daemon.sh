#!/bin/sh
test_description='a real Grid Engine cell from tests/cluster/start-sge.sh'
# What the SGE scheduler module will rely on, proved from the shell
# against a real sge_qmaster and sge_execd that this script starts in
# its own trash directory on free ports and stops at the end: qsub
# -terse for jobs and arrays, qstat -xml, qstat -j for completion, qacct
# exit statuses, qdel, -hold_jid.
. "$(dirname "$0")/lib.sh"
CLUSTER=$SRC_DIR/tests/cluster
. "$CLUSTER/lib.sh"

sge_missing=
for c in /usr/sbin/sge_qmaster /usr/sbin/sge_execd qsub qstat qacct qdel qconf
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

# No daemon outlives the script, whatever ends it.
BASE=$TRASH_DIRECTORY/sge
trap 'sh "$CLUSTER/stop-sge.sh" "$BASE" >/dev/null 2>&1' EXIT
trap 'exit 130' INT TERM HUP

# qsub_ ARGS...: submit from here with output here; the job id in $id.
qsub_ () {
	id=$(qsub -terse -cwd -o "$PWD" -e "$PWD" "$@") || return 1
	id=${id%%.*}
	case $id in ""|*[!0-9]*) echo "not a job id: $id" >&2; return 1 ;; esac
}

# wait_gone JOB [SECONDS]: qstat -j JOB fails once the job has left.
wait_job_gone () {
	i=0
	while qstat -j "$1" >/dev/null 2>&1; do
		i=$((i + 1))
		[ $i -lt $((${2:-30} * 5)) ] || {
			echo "job $1 still listed after ${2:-30}s" >&2
			qstat -j "$1" >&2
			return 1
		}
		sleep 0.2
	done
}

# wait_acct JOB N [SECONDS]: qacct has N records of JOB (it lags the
# job's end); they are left in acct.out.
wait_acct () {
	i=0
	while :; do
		qacct -j "$1" >acct.out 2>/dev/null
		[ "$(grep -c "^exit_status" acct.out)" = "$2" ] && return 0
		i=$((i + 1))
		[ $i -lt $((${3:-30} * 5)) ] || {
			echo "qacct -j $1 has not $2 records:" >&2
			cat acct.out >&2
			return 1
		}
		sleep 0.2
	done
}

# xml_state JOB: the state qstat -xml gives JOB (empty if not listed).
xml_state () {
	qstat -xml | awk -v j="$1" '
		/<JB_job_number>/ { gsub(/.*<JB_job_number>|<.*/, ""); n = $0 }
		/<state>/ && n == j { gsub(/.*<state>|<.*/, ""); print; exit }'
}

# wait_xml_state JOB STATE [SECONDS]: poll until qstat -xml says STATE.
wait_xml_state () {
	i=0
	until [ "$(xml_state "$1")" = "$2" ]; do
		i=$((i + 1))
		[ $i -lt $((${3:-30} * 5)) ] || {
			echo "job $1 is '$(xml_state "$1")', wanted $2" >&2
			return 1
		}
		sleep 0.2
	done
}

# daemon_pids: the pids in BASE's pid files, one line.
daemon_pids () {
	for f in "$BASE"/qmaster/qmaster.pid "$BASE"/execd/*/execd.pid; do
		cluster_pidfile_pid "$f"
	done | tr '\n' ' '
}

test_expect_success SGE 'start-sge.sh starts qmaster and execd until all.q is ready' '
	cat >job.sh <<-\EOF &&
	#!/bin/sh
	# job.sh [SECONDS] [EXIT]: note who runs, sleep, exit.
	echo "job $JOB_ID task $SGE_TASK_ID"
	echo $$ >"pid.$JOB_ID"
	sleep "${1:-0}"
	exit "${2:-0}"
	EOF
	sh "$CLUSTER/start-sge.sh" "$BASE" 2>start.err &&
	. "$BASE/env.sh" &&
	test "$SGE_ROOT" = "$BASE/root" &&
	test "$SGE_CELL" = default &&
	qstat -f >qstat.out &&
	grep "^all.q@" qstat.out >queue.out &&
	test "$(wc -w <queue.out)" = 5 &&
	grep "0/0/$(nproc) " queue.out &&
	cluster_pidfile_alive "$BASE/qmaster/qmaster.pid" sge_qmaster &&
	cluster_pidfile_alive "$(echo "$BASE"/execd/*/execd.pid)" sge_execd &&
	cluster_port_busy "$SGE_QMASTER_PORT" &&
	cluster_port_busy "$SGE_EXECD_PORT" &&
	qconf -sconf global >global.out &&
	grep "^min_uid  *0$" global.out &&
	qconf -ssconf | grep "^schedule_interval  *0:0:1$" &&
	qconf -sq all.q | grep "^pe_list  *NONE$"
'

test_expect_success SGE 'start-sge.sh again reuses the running daemons and their ports' '
	before=$(daemon_pids) &&
	env_before=$(cat "$BASE/env.sh") &&
	sh "$CLUSTER/start-sge.sh" "$BASE" 2>start.err &&
	test "$(daemon_pids)" = "$before" &&
	test "$(cat "$BASE/env.sh")" = "$env_before"
'

test_expect_success SGE 'a busy port is refused and nothing is left running' '
	test_expect_code 1 env SGE_QMASTER_PORT=$SGE_QMASTER_PORT \
		SGE_EXECD_PORT= sh "$CLUSTER/start-sge.sh" \
		"$TRASH_DIRECTORY/second" 2>busy.err &&
	grep "port $SGE_QMASTER_PORT for sge_qmaster is in use" busy.err &&
	! cluster_pidfile_alive "$TRASH_DIRECTORY/second/qmaster/qmaster.pid" sge_qmaster
'

test_expect_success SGE 'qsub -terse -t prints the array id; every task runs, at most 2 at once; qacct has each exit_status' '
	cat >slot.sh <<-\EOF &&
	#!/bin/sh
	# Count the tasks running beside this one, then hold the slot.
	mkdir -p running
	: >"running/$SGE_TASK_ID"
	ls running | wc -l >>counts
	sleep 1
	rm -f "running/$SGE_TASK_ID"
	EOF
	out=$(qsub -terse -cwd -o "$PWD" -e "$PWD" -t 1-4 -tc 2 slot.sh) &&
	arr=${out%%.*} &&
	test "$out" = "$arr.1-4:1" &&
	wait_job_gone "$arr" 60 &&
	test "$(wc -l <counts)" = 4 &&
	test "$(sort -n counts | tail -n 1)" -le 2 &&
	wait_acct "$arr" 4 &&
	test "$(grep "^exit_status" acct.out | awk "{print \$2}" | sort -u)" = 0 &&
	test "$(grep "^taskid" acct.out | awk "{print \$2}" | sort -n | tr "\n" " ")" = "1 2 3 4 "
'

test_expect_success SGE 'qstat -xml shows a running job; -hold_jid holds another behind it' '
	qsub_ job.sh 300 && long=$id &&
	wait_xml_state "$long" r &&
	qstat -xml >xml.out &&
	grep "<job_list state=\"running\">" xml.out &&
	grep "<JB_job_number>$long</JB_job_number>" xml.out &&
	qsub_ -hold_jid "$long" job.sh && held=$id &&
	wait_xml_state "$held" hqw &&
	qstat -xml | grep "<job_list state=\"pending\">"
'

test_expect_success SGE 'qdel ends the running job (qacct: exit 137); then the held one runs' '
	qdel "$long" >qdel.out &&
	grep "registered the job $long for deletion" qdel.out &&
	wait_job_gone "$long" &&
	wait_acct "$long" 1 &&
	grep "^exit_status  *137" acct.out &&
	grep "^failed  *100" acct.out &&
	wait_job_gone "$held" &&
	wait_acct "$held" 1 &&
	grep "^exit_status  *0 *$" acct.out &&
	grep -x "job $held task undefined" "job.sh.o$held"
'

test_expect_success SGE 'a failing job has its exit status in qacct' '
	qsub_ job.sh 0 3 && bad=$id &&
	wait_job_gone "$bad" &&
	wait_acct "$bad" 1 &&
	grep "^exit_status  *3 *$" acct.out &&
	grep "^failed  *0 *$" acct.out
'

test_expect_success SGE 'stop-sge.sh deletes the running jobs and stops both daemons' '
	qsub_ job.sh 300 && last=$id &&
	wait_xml_state "$last" r &&
	wait_file "pid.$last" &&
	job_pid=$(cat "pid.$last") &&
	pids=$(daemon_pids) &&
	sh "$CLUSTER/stop-sge.sh" "$BASE" &&
	for p in $pids $job_pid; do
		! cluster_pid_alive "$p" || { echo "$p still runs"; return 1; }
	done &&
	sh "$CLUSTER/stop-sge.sh" "$BASE"
'

test_done
