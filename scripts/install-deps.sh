#!/bin/sh
# Install the Debian 12 packages that building and testing hpcloop need.
# Idempotent: packages already present are left alone. As root it runs
# apt-get (quietly: its log is shown only on failure); otherwise it
# prints the exact command to run and exits 1.
set -eu

PKGS="build-essential pkg-config git ca-certificates curl
libsqlite3-dev libssh2-1-dev libcurl4-openssl-dev libjansson-dev
libyaml-dev libpcre2-dev libssl-dev libcrypt-dev libmicrohttpd-dev
libcmocka-dev json-schema-test-suite python3 python3-jsonschema
sqlite3 perl openssh-server openssh-client"
# The test clusters (tests/cluster/start-slurm.sh, start-sge.sh).  The
# scripts run private daemons on other ports, never the system ones.
PKGS="$PKGS slurmctld slurmd slurm-client munge
gridengine-master gridengine-exec gridengine-client"
# bench/proposer.sh compares the builtin proposer with Optuna's TPE
# sampler; the product never imports it.
PKGS="$PKGS python3-optuna"
# bench/serve.sh only (wrk against the webhooks of `hpcloop serve`).
PKGS="$PKGS wrk"

missing=""
for p in $PKGS; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
		grep -q 'install ok installed'; then
		missing="$missing $p"
	fi
done

# The agent CLI the e2e tests drive (npm, into build/agent-cli/; never
# fails the set-up: without npm or its registry those tests skip).
sh "$(dirname "$0")/install-agent-cli.sh"

if [ -z "$missing" ]; then
	echo "install-deps: all packages present" >&2
	exit 0
fi

if [ "$(id -u)" != 0 ]; then
	echo "install-deps: missing:$missing" >&2
	echo "run as root: apt-get update && apt-get install -y --no-install-recommends$missing" >&2
	exit 1
fi

# apt's chatter goes to a log that is shown only when it fails.
export DEBIAN_FRONTEND=noninteractive
# openssh-server is for the tests' own sshd on 127.0.0.1
# (tests/cluster/start-sshd.sh); on a machine without policy-rc.d its
# postinst may also start the system's sshd.
log=$(mktemp)
# shellcheck disable=SC2086
if ! { apt-get update -q &&
	apt-get install -y -q --no-install-recommends $missing; } >"$log" 2>&1
then
	cat "$log" >&2
	rm -f "$log"
	echo "install-deps: apt-get failed installing:$missing" >&2
	exit 1
fi
rm -f "$log"
echo "install-deps: installed:$missing" >&2
