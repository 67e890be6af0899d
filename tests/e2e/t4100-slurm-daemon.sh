#!/bin/sh
test_description='a real SLURM cluster from tests/cluster/start-slurm.sh'
# What the SLURM scheduler module will rely on, proved from the shell
# against real daemons (munged, slurmctld, slurmd) that this script
# starts in its own trash directory on free ports and stops at the end:
# sbatch --parsable, arrays with a %N limit, squeue formats, finished
# jobs, scancel, afterany, exit codes through scontrol and `sacct -c`.
. "$(dirname "$0")/lib.sh"
CLUSTER=$SRC_DIR/tests/cluster
. "$CLUSTER/lib.sh"

slurm_missing=
for c in munged slurmctld slurmd sbatch squeue scontrol scancel sacct sinfo
do
	command -v "$c" >/dev/null 2>&1 || slurm_missing="$slurm_missing $c"
done
if [ -n "$slurm_missing" ]; then
	require_component slurm "not installed:$slurm_missing (scripts/install-deps.sh)"
elif [ "$(id -u)" != 0 ]; then
	require_component slurm "the test daemons run as root, and this is uid $(id -u)"
else
	test_set_prereq SLURM
fi

# No daemon outlives the script, whatever ends it.
BASE=$TRASH_DIRECTORY/slurm
trap 'sh "$CLUSTER/stop-slurm.sh" "$BASE" >/dev/null 2>&1' EXIT
trap 'exit 130' INT TERM HUP

# job_state JOB: its state, finished or not (empty if unknown).
job_state () { squeue -h -t all -j "$1" -o %T 2>/dev/null; }

# wait_job JOB STATE [SECONDS]: poll until JOB is in STATE.
wait_job () {
	i=0
	while [ $i -lt $((${3:-30} * 5)) ]; do
		s=$(job_state "$1")
		[ "$s" = "$2" ] && return 0
		sleep 0.2
		i=$((i + 1))
	done
	echo "job $1 is '$s' after ${3:-30}s, wanted $2" >&2
	scontrol show job "$1" >&2
	return 1
}

# daemon_pids: the pids in BASE's pid files, one line.
daemon_pids () {
	for f in run/slurmctld.pid run/slurmd.pid munge/munged.pid; do
		cluster_pidfile_pid "$BASE/$f"
	done | tr '\n' ' '
}

test_expect_success SLURM 'start-slurm.sh starts munged, slurmctld and slurmd until sinfo says idle' '
	cat >job.sh <<-\EOF &&
	#!/bin/sh
	# job.sh [SECONDS] [EXIT]: note who runs, sleep, exit.
	echo "job ${SLURM_JOB_ID:-?} task ${SLURM_ARRAY_TASK_ID:-none}"
	echo $$ >"pid.${SLURM_JOB_ID:-x}"
	sleep "${1:-0}"
	exit "${2:-0}"
	EOF
	sh "$CLUSTER/start-slurm.sh" "$BASE" 2>start.err &&
	test -s "$BASE/env.sh" &&
	. "$BASE/env.sh" &&
	test "$SLURM_CONF" = "$BASE/slurm.conf" &&
	test "$(sinfo -h -o %T)" = idle &&
	cluster_pidfile_alive "$BASE/run/slurmctld.pid" slurmctld &&
	cluster_pidfile_alive "$BASE/run/slurmd.pid" slurmd &&
	cluster_pidfile_alive "$BASE/munge/munged.pid" munged &&
	test "$(stat -c %a "$BASE/munge")" = 755 &&
	test "$(stat -c %a "$BASE/munge/munge.key")" = 400 &&
	grep -q "^SlurmctldHost=.*(127.0.0.1)$" "$SLURM_CONF" &&
	grep -q "^NodeName=.* NodeAddr=127.0.0.1 " "$SLURM_CONF" &&
	grep -q "^JobCompType=jobcomp/filetxt$" "$SLURM_CONF" &&
	ctld_port=$(sed -n "s/^SlurmctldPort=//p" "$SLURM_CONF") &&
	cluster_port_busy "$ctld_port"
'

test_expect_success SLURM 'start-slurm.sh again reuses the running daemons and their ports' '
	before=$(daemon_pids) &&
	conf_before=$(cat "$SLURM_CONF") &&
	sh "$CLUSTER/start-slurm.sh" "$BASE" 2>start.err &&
	test "$(daemon_pids)" = "$before" &&
	test "$(cat "$SLURM_CONF")" = "$conf_before"
'

test_expect_success SLURM 'a busy port is refused and nothing is left running' '
	test_expect_code 1 env SLURMCTLD_PORT=$ctld_port \
		sh "$CLUSTER/start-slurm.sh" "$TRASH_DIRECTORY/second" \
		2>busy.err &&
	grep "port $ctld_port for slurmctld is in use" busy.err &&
	! cluster_pidfile_alive "$TRASH_DIRECTORY/second/munge/munged.pid" munged &&
	! cluster_pidfile_alive "$TRASH_DIRECTORY/second/run/slurmctld.pid" slurmctld
'

test_expect_success SLURM 'sbatch --parsable prints the job id; the job runs and writes its output' '
	job=$(sbatch --parsable -o "out-%j.txt" job.sh) &&
	case $job in ""|*[!0-9]*) echo "not a job id: $job"; false ;; esac &&
	wait_job "$job" COMPLETED &&
	grep -x "job $job task none" "out-$job.txt"
'

test_expect_success SLURM 'a finished job needs squeue -t all; an unknown one is an error' '
	squeue -h -j "$job" -o %T >plain.out &&
	! test -s plain.out &&
	test "$(squeue -h -t all -j "$job" -o "%i %T")" = "$job COMPLETED" &&
	test_expect_code 1 squeue -h -j 999999 2>unknown.err &&
	grep "Invalid job id" unknown.err
'

test_expect_success SLURM 'a held array shows its id, range and limit through squeue -o; -r lists each task' '
	held=$(sbatch --parsable --hold --array=0-3%2 -J held -o /dev/null job.sh) &&
	test "$(squeue -h -j "$held" -o "%i|%A|%F|%K|%T|%j|%r")" = \
		"${held}_[0-3%2]|$held|$held|0-3%2|PENDING|held|JobHeldUser" &&
	squeue -r -h -j "$held" -o "%i|%T" >tasks.out &&
	printf "%s|PENDING\n" ${held}_0 ${held}_1 ${held}_2 ${held}_3 >tasks.want &&
	test_cmp tasks.want tasks.out &&
	scancel "$held"
'

test_expect_success SLURM 'an array with %2 runs every task, never more than 2 at once' '
	cat >slot.sh <<-\EOF &&
	#!/bin/sh
	# Count the tasks running beside this one, then hold the slot.
	mkdir -p running
	: >"running/$SLURM_ARRAY_TASK_ID"
	ls running | wc -l >>counts
	sleep 1
	rm -f "running/$SLURM_ARRAY_TASK_ID"
	EOF
	arr=$(sbatch --parsable --array=0-5%2 -o "arr-%A_%a.txt" slot.sh) &&
	for t in 0 1 2 3 4 5; do
		wait_job "${arr}_$t" COMPLETED 60 || return 1
		test -f "arr-${arr}_$t.txt" || return 1
	done &&
	test "$(wc -l <counts)" = 6 &&
	test "$(sort -n counts | tail -n 1)" -le 2
'

test_expect_success SLURM 'afterany waits for a job; scancel ends it as CANCELLED; then the dependent runs' '
	long=$(sbatch --parsable -o "out-%j.txt" job.sh 300) &&
	wait_job "$long" RUNNING &&
	dep=$(sbatch --parsable --dependency=afterany:$long -o "out-%j.txt" job.sh) &&
	i=0 &&
	until test "$(squeue -h -j "$dep" -o "%T %r")" = "PENDING Dependency"
	do
		i=$((i + 1)) && test $i -lt 100 && sleep 0.1 || return 1
	done &&
	scancel "$long" &&
	wait_job "$long" CANCELLED &&
	scontrol show job "$long" | grep "JobState=CANCELLED" &&
	wait_job "$dep" COMPLETED &&
	grep -x "job $dep task none" "out-$dep.txt"
'

test_expect_success SLURM 'a failing job is FAILED with its exit code in scontrol and sacct -c' '
	bad=$(sbatch --parsable -o /dev/null job.sh 0 3) &&
	wait_job "$bad" FAILED &&
	scontrol show job "$bad" >show.out &&
	grep "JobState=FAILED" show.out &&
	grep "ExitCode=3:0" show.out &&
	test "$(scontrol -o show job "$bad" | wc -l)" = 1 &&
	sacct -c -j "$bad" -n -P --format=JobID,State,ExitCode >sacct.out &&
	test "$(cat sacct.out)" = "$bad|FAILED|3:0"
'

test_expect_success SLURM 'stop-slurm.sh cancels the running jobs and stops every daemon' '
	last=$(sbatch --parsable -o /dev/null job.sh 300) &&
	wait_job "$last" RUNNING &&
	wait_file "pid.$last" &&
	job_pid=$(cat "pid.$last") &&
	pids=$(daemon_pids) &&
	sh "$CLUSTER/stop-slurm.sh" "$BASE" &&
	for p in $pids $job_pid; do
		! cluster_pid_alive "$p" || { echo "$p still runs"; return 1; }
	done &&
	test ! -e "$BASE/run/slurmctld.pid" &&
	sh "$CLUSTER/stop-slurm.sh" "$BASE"
'

test_done
