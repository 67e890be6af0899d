#!/bin/sh
# stop-sge.sh BASE: stop the Grid Engine cluster start-sge.sh runs in BASE.
#
# Deletes every job of that cell, asks execd (with its jobs) and qmaster
# to shut down (qconf -kej / -km), then ends whatever is left of them
# through BASE's pid files only: no other process on the machine is
# signalled.  A daemon already gone, or only a zombie, counts as
# stopped.  BASE itself stays (spool, accounting, logs).  Exits 0 when
# nothing of the cell runs any more, also when BASE holds none.
set -eu
cluster_name=stop-sge
. "$(dirname "$0")/lib.sh"

[ $# = 1 ] || cluster_die "usage: stop-sge.sh BASE"
[ -d "$1" ] || exit 0
BASE=$(cluster_abspath "$1")
SGE_BIN=/usr/lib/gridengine
qm_pid=$BASE/qmaster/qmaster.pid
host=$(hostname)

# qmaster_up: qmaster runs and env.sh says how to reach it.
qmaster_up () {
	[ -r "$BASE/env.sh" ] && cluster_pidfile_alive "$qm_pid" sge_qmaster
}

# no_jobs: the cell lists no job (or no longer answers).
no_jobs () {
	[ -z "$(timeout 10 "$SGE_BIN/qstat" -u '*' 2>/dev/null)" ]
}

if qmaster_up; then
	. "$BASE/env.sh"
	SGE_ARCH=$(/usr/share/gridengine/util/arch)
	export SGE_ARCH
	if ! no_jobs; then
		timeout 10 "$SGE_BIN/qdel" -u '*' >/dev/null 2>&1 || true
		cluster_wait 10 no_jobs || true
	fi
	timeout 10 "$SGE_BIN/qconf" -kej "$host" >/dev/null 2>&1 || true
	timeout 10 "$SGE_BIN/qconf" -km >/dev/null 2>&1 || true
fi

status=0
for ep in "$BASE"/execd/*/execd.pid; do
	[ -f "$ep" ] || continue
	cluster_kill_pidfile "$ep" sge_execd 10 || {
		echo "stop-sge: sge_execd survived SIGKILL" >&2
		status=1
	}
done
# A controlled qmaster shutdown takes several seconds (its threads end
# on their own timers); the spool is a throw-away one, so KILL after 15.
cluster_kill_pidfile "$qm_pid" sge_qmaster 15 || {
	echo "stop-sge: sge_qmaster survived SIGKILL" >&2
	status=1
}
exit $status
