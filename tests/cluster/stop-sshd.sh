#!/bin/bash
# stop-sshd.sh DIR: stop the sshd that start-sshd.sh DIR started, and
# only it: the pid in DIR/sshd.pid, if that process is an sshd running
# DIR's config.  Sessions it already forked end with their clients.
# Exits 0 when no sshd of DIR runs any more.
set -u
dir=${1:?usage: stop-sshd.sh DIR}
dir=$(cd "$dir" 2>/dev/null && pwd -P) || exit 0
pid=$(cat "$dir/sshd.pid" 2>/dev/null) || exit 0
case $pid in ''|*[!0-9]*) rm -f "$dir/sshd.pid"; exit 0 ;; esac
if tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null |
	grep -q "sshd .*-f $dir/sshd_config"; then
	kill "$pid" 2>/dev/null
	for _ in $(seq 1 100); do
		kill -0 "$pid" 2>/dev/null || break
		# A zombie nobody reaped yet is gone too.
		grep -q '^State:.*Z' "/proc/$pid/status" 2>/dev/null && break
		sleep 0.05
	done
	if kill -0 "$pid" 2>/dev/null &&
		! grep -q '^State:.*Z' "/proc/$pid/status" 2>/dev/null; then
		kill -KILL "$pid" 2>/dev/null
	fi
fi
rm -f "$dir/sshd.pid"
exit 0
