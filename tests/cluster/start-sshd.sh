#!/bin/bash
# start-sshd.sh DIR PORT: a private OpenSSH server on 127.0.0.1:PORT for
# the transport tests, everything under DIR (after the lab notes in
# shared/reference/lab-slurm-sge-sshd.md, section 3).
#
# DIR gets: host keys (ed25519, ecdsa), client keys id_ed25519 and
# id_ecdsa (no passphrase) for the user running this, authorized_keys
# with every DIR/id_*.pub, known_hosts with the [127.0.0.1]:PORT entry
# of the ed25519 host key only (the case where libssh2's default
# preference, ecdsa, would look like a changed key), known_hosts.ecdsa
# with the ecdsa one only, sshd_config (key-only, StrictModes no, UsePAM
# no, MaxStartups/MaxSessions 100, LogLevel VERBOSE), sshd.log and
# sshd.pid.  SSHD_SETENV (optional: NAME=VALUE words) becomes a SetEnv
# line, so that remote commands find the test clusters (SLURM_CONF=...).
#
# Idempotent: when the sshd of DIR already runs it is kept (sent HUP
# when its config changed).  A PORT that something else listens on is
# refused.  Exits 0 once sshd answers, 1 when it cannot run (no
# /usr/sbin/sshd, a busy port), saying why on stderr.
set -u
dir=${1:?usage: start-sshd.sh DIR PORT}
port=${2:?usage: start-sshd.sh DIR PORT}
sshd=/usr/sbin/sshd

die () { echo "start-sshd: $*" >&2; exit 1; }

[ -x "$sshd" ] || die "no $sshd (apt-get install openssh-server)"
command -v ssh-keygen >/dev/null || die "no ssh-keygen (apt-get install openssh-client)"
case $port in ''|*[!0-9]*) die "bad port '$port'" ;; esac
mkdir -p "$dir" || die "cannot create $dir"
dir=$(cd "$dir" && pwd -P)
chmod 755 "$dir"

# Our own sshd, if it runs: its pid from the pid file, checked by name.
running_pid () {
	local pid
	pid=$(cat "$dir/sshd.pid" 2>/dev/null) || return 1
	case $pid in ''|*[!0-9]*) return 1 ;; esac
	tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null |
		grep -q "sshd .*-f $dir/sshd_config" || return 1
	echo "$pid"
}

# Whether something accepts connections on the port.
port_busy () { (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; }

key () {	# key TYPE FILE: make FILE (and FILE.pub) once
	[ -s "$2" ] && [ -s "$2.pub" ] && return 0
	rm -f "$2" "$2.pub"
	ssh-keygen -q -t "$1" -N '' -C "hpcloop-test-$1" -f "$2" ||
		die "ssh-keygen -t $1 failed"
}

key ed25519 "$dir/ssh_host_ed25519_key"
key ecdsa "$dir/ssh_host_ecdsa_key"
key ed25519 "$dir/id_ed25519"
key ecdsa "$dir/id_ecdsa"
cat "$dir"/id_*.pub >"$dir/authorized_keys"
chmod 644 "$dir/authorized_keys"
chmod 600 "$dir"/ssh_host_*_key "$dir"/id_ed25519 "$dir"/id_ecdsa
echo "[127.0.0.1]:$port $(cut -d' ' -f1,2 "$dir/ssh_host_ed25519_key.pub")" \
	>"$dir/known_hosts"
echo "[127.0.0.1]:$port $(cut -d' ' -f1,2 "$dir/ssh_host_ecdsa_key.pub")" \
	>"$dir/known_hosts.ecdsa"

cat >"$dir/sshd_config.new" <<CONF
Port $port
ListenAddress 127.0.0.1
HostKey $dir/ssh_host_ed25519_key
HostKey $dir/ssh_host_ecdsa_key
PidFile $dir/sshd.pid
AuthorizedKeysFile $dir/authorized_keys
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
UsePAM no
StrictModes no
MaxStartups 100
MaxSessions 100
LogLevel VERBOSE
Subsystem sftp internal-sftp
CONF
if [ -n "${SSHD_SETENV:-}" ]; then
	echo "SetEnv $SSHD_SETENV" >>"$dir/sshd_config.new"
fi

if pid=$(running_pid); then
	if ! cmp -s "$dir/sshd_config.new" "$dir/sshd_config"; then
		mv "$dir/sshd_config.new" "$dir/sshd_config"
		"$sshd" -t -f "$dir/sshd_config" || die "sshd -t refused the config"
		kill -HUP "$pid"
		sleep 0.3
	else
		rm -f "$dir/sshd_config.new"
	fi
	echo "start-sshd: sshd $pid already runs on 127.0.0.1:$port" >&2
	exit 0
fi
port_busy && die "port $port is already in use"
mv "$dir/sshd_config.new" "$dir/sshd_config"
# The privilege separation directory is compiled in; only root needs it.
if [ "$(id -u)" = 0 ]; then
	mkdir -p -m 0755 /run/sshd || die "cannot create /run/sshd"
fi
"$sshd" -t -f "$dir/sshd_config" || die "sshd -t refused the config"
: >"$dir/sshd.log"
setsid "$sshd" -D -f "$dir/sshd_config" -E "$dir/sshd.log" \
	</dev/null >/dev/null 2>&1 &
pid=$!
echo "$pid" >"$dir/sshd.pid"
for _ in $(seq 1 100); do
	if port_busy; then
		# The probe is a connection too: wait for sshd to log it,
		# so that tests counting connections count none of ours.
		for _ in $(seq 1 100); do
			grep -q "Connection from" "$dir/sshd.log" && break
			sleep 0.05
		done
		echo "start-sshd: sshd $pid listens on 127.0.0.1:$port" >&2
		exit 0
	fi
	kill -0 "$pid" 2>/dev/null || break
	sleep 0.05
done
cat "$dir/sshd.log" >&2
kill "$pid" 2>/dev/null
rm -f "$dir/sshd.pid"
die "sshd did not start on port $port"
