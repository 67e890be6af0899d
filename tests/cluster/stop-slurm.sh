#!/bin/sh
# stop-slurm.sh BASE: stop the SLURM cluster start-slurm.sh runs in BASE.
#
# Cancels every job of that cluster first (stopping slurmd does not end
# the jobs it started), asks slurmctld to shut the cluster down, then
# ends whatever is left of slurmctld, slurmd and munged through BASE's
# pid files only: no other process on the machine is signalled.  A
# daemon that is already gone, or only a zombie, counts as stopped.
# BASE itself stays (its state, logs and the jobcomp file).  Exits 0
# when nothing of the cluster runs any more, also when BASE holds none.
set -eu
cluster_name=stop-slurm
. "$(dirname "$0")/lib.sh"

[ $# = 1 ] || cluster_die "usage: stop-slurm.sh BASE"
[ -d "$1" ] || exit 0
BASE=$(cluster_abspath "$1")
ctld_pid=$BASE/run/slurmctld.pid
d_pid=$BASE/run/slurmd.pid
munge_pid=$BASE/munge/munged.pid

SLURM_CONF=$BASE/slurm.conf
export SLURM_CONF

# no_jobs_left: nothing of this cluster runs, or the controller is gone.
no_jobs_left () {
	[ -z "$(timeout 10 squeue -h -t running,completing,suspended \
		-o %A 2>/dev/null)" ]
}

if [ -f "$SLURM_CONF" ] && cluster_pidfile_alive "$ctld_pid" slurmctld
then
	ids=$(timeout 10 squeue -h -o %A 2>/dev/null | sort -u)
	if [ -n "$ids" ]; then
		# shellcheck disable=SC2086
		timeout 10 scancel $ids 2>/dev/null || true
		# Their steps end within KillWait (5 s) once signalled.
		if cluster_pidfile_alive "$d_pid" slurmd; then
			cluster_wait 15 no_jobs_left || true
		fi
	fi
	timeout 10 scontrol shutdown >/dev/null 2>&1 || true
fi

status=0
cluster_kill_pidfile "$d_pid" slurmd 10 || {
	echo "stop-slurm: slurmd survived SIGKILL" >&2
	status=1
}
cluster_kill_pidfile "$ctld_pid" slurmctld 10 || {
	echo "stop-slurm: slurmctld survived SIGKILL" >&2
	status=1
}
cluster_kill_pidfile "$munge_pid" munged 5 || {
	echo "stop-slurm: munged survived SIGKILL" >&2
	status=1
}
exit $status
