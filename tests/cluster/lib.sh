# lib.sh: helpers shared by the scripts that start and stop the test
# clusters (start-slurm.sh, start-sge.sh and their stop scripts).
#
# Each test script runs its own daemons in its own directory on its own
# ports (DESIGN §12), so these helpers never look at processes or files
# outside the directory they are given: ports are chosen free at run
# time, and only the pids written in that directory's pid files are ever
# signalled.  Sourced with `. lib.sh` after `set -eu`; every function is
# prefixed cluster_ and keeps its variables local (dash, bash and
# busybox sh all have `local`), and every one returns a status instead
# of exiting, except cluster_die.

# cluster_die MESSAGE...: print "NAME: MESSAGE" on stderr and exit 1.
cluster_die () {
	printf '%s: %s\n' "${cluster_name:-cluster}" "$*" >&2
	exit 1
}

# cluster_say MESSAGE: a progress line on stderr (HPCLOOP_CLUSTER_QUIET=1
# silences it).
cluster_say () {
	[ -n "${HPCLOOP_CLUSTER_QUIET:-}" ] ||
		printf '%s: %s\n' "${cluster_name:-cluster}" "$1" >&2
}

# cluster_need CMD...: every CMD is on PATH (or an executable path);
# otherwise print which are missing and return 1.
cluster_need () {
	local c cluster_missing
	cluster_missing=
	for c in "$@"; do
		command -v "$c" >/dev/null 2>&1 ||
			cluster_missing="$cluster_missing $c"
	done
	[ -z "$cluster_missing" ] && return 0
	printf '%s: not installed:%s (run scripts/install-deps.sh)\n' \
		"${cluster_name:-cluster}" "$cluster_missing" >&2
	return 1
}

# cluster_abspath DIR: print DIR as an absolute path (DIR must exist).
cluster_abspath () { (cd "$1" && pwd -P); }

# cluster_shquote STRING: print STRING single-quoted for a shell file.
cluster_shquote () {
	printf "'%s'" "$(printf '%s' "$1" | sed "s/'/'\\\\''/g")"
}

# ---------------------------------------------------------------------
# Ports

# cluster_port_busy PORT: true when a TCP socket (IPv4 or IPv6) is
# listening on PORT.  Reads /proc/net/tcp*, so it needs no tool.
cluster_port_busy () {
	local hex
	hex=$(printf '%04X' "$1")
	cat /proc/net/tcp /proc/net/tcp6 2>/dev/null |
		awk -v p=":$hex" '$4 == "0A" && substr($2, length($2) - 4) == p {
			found = 1
		} END { exit !found }'
}

# cluster_free_port: print a port nobody listens on, chosen at random
# below the kernel's ephemeral range (so outgoing connections never
# take it) and away from the schedulers' well-known ports.  Two scripts
# may race for one port between this check and the daemon's bind; the
# range is large and the start scripts check that their daemons live.
cluster_free_port () {
	local low i r port
	low=$(cut -f1 /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null) ||
		low=32768
	[ "$low" -gt 12000 ] 2>/dev/null || low=32768
	i=0
	while [ $i -lt 100 ]; do
		r=$(od -An -N2 -tu2 /dev/urandom | tr -d ' ')
		port=$((10000 + r % (low - 10000)))
		i=$((i + 1))
		case $port in 6444|6445|6817|6818|6819) continue ;; esac
		cluster_port_busy "$port" && continue
		echo "$port"
		return 0
	done
	return 1
}

# cluster_port_ok PORT: PORT is a decimal number in 1..65535.
cluster_port_ok () {
	case $1 in ''|*[!0-9]*) return 1 ;; esac
	[ "$1" -ge 1 ] && [ "$1" -le 65535 ]
}

# ---------------------------------------------------------------------
# Processes and pid files

# cluster_pid_alive PID [COMM]: PID is a live process (a zombie counts
# as dead) and, when COMM is given, its command name is COMM, so a
# stale pid file never makes us signal a process that reused its pid.
cluster_pid_alive () {
	local st
	case $1 in ''|*[!0-9]*) return 1 ;; esac
	[ -r "/proc/$1/stat" ] || return 1
	# The state is the first field after the parenthesised name.
	st=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1) ||
		return 1
	case $st in Z|X|x|'') return 1 ;; esac
	if [ -n "${2:-}" ]; then
		[ "$(cat "/proc/$1/comm" 2>/dev/null)" = "$2" ] || return 1
	fi
	return 0
}

# cluster_pidfile_pid FILE: print the pid FILE holds (empty if none).
cluster_pidfile_pid () {
	[ -r "$1" ] || return 0
	head -n 1 "$1" 2>/dev/null | tr -cd '0-9'
}

# cluster_pidfile_alive FILE COMM: FILE names a live COMM process.
cluster_pidfile_alive () {
	cluster_pid_alive "$(cluster_pidfile_pid "$1")" "$2"
}

# cluster_wait_dead PID COMM SECONDS: wait until PID is no longer a live
# COMM; false if it still is after SECONDS.
cluster_wait_dead () {
	local n
	n=$(($3 * 20))
	while cluster_pid_alive "$1" "$2"; do
		[ $n -le 0 ] && return 1
		sleep 0.05
		n=$((n - 1))
	done
	return 0
}

# cluster_kill_pidfile FILE COMM [SECONDS]: end the COMM process whose
# pid FILE holds: TERM, then KILL after SECONDS (default 5).  Nothing is
# signalled when FILE is missing, empty or names another program.  The
# file is removed once the process is gone; false if it survived KILL.
cluster_kill_pidfile () {
	local pid
	pid=$(cluster_pidfile_pid "$1")
	if ! cluster_pid_alive "$pid" "$2"; then
		rm -f "$1"
		return 0
	fi
	kill -TERM "$pid" 2>/dev/null || true
	if ! cluster_wait_dead "$pid" "$2" "${3:-5}"; then
		kill -KILL "$pid" 2>/dev/null || true
		cluster_wait_dead "$pid" "$2" 2 || return 1
	fi
	rm -f "$1"
	return 0
}

# ---------------------------------------------------------------------
# Waiting

# cluster_wait SECONDS CMD...: run CMD until it succeeds, every 50 ms,
# for at most SECONDS of wall time; false on time-out.
cluster_wait () {
	local cluster_deadline
	cluster_deadline=$(($(date +%s) + $1))
	shift
	while ! "$@"; do
		[ "$(date +%s)" -ge "$cluster_deadline" ] && return 1
		sleep 0.05
	done
	return 0
}

# cluster_log_tail FILE: the end of a daemon's log on stderr, to say why
# it did not come up.
cluster_log_tail () {
	[ -s "$1" ] || return 0
	echo "--- last lines of $1:" >&2
	tail -n 15 "$1" >&2
}
