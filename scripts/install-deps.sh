#!/bin/sh
# Install the Debian 12 packages that building and testing hpcloop need.
# Idempotent: packages already present are left alone. As root it runs
# apt-get; otherwise it prints the exact command to run and exits 1.
set -eu

PKGS="build-essential pkg-config git ca-certificates curl
libsqlite3-dev libssh2-1-dev libcurl4-openssl-dev libjansson-dev
libyaml-dev libpcre2-dev libssl-dev libcrypt-dev libmicrohttpd-dev
libcmocka-dev json-schema-test-suite python3 python3-jsonschema
sqlite3 perl openssh-server openssh-client"

missing=""
for p in $PKGS; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
		grep -q 'install ok installed'; then
		missing="$missing $p"
	fi
done

if [ -z "$missing" ]; then
	echo "install-deps: all packages present" >&2
	exit 0
fi

if [ "$(id -u)" != 0 ]; then
	echo "install-deps: missing:$missing" >&2
	echo "run as root: apt-get update && apt-get install -y --no-install-recommends$missing" >&2
	exit 1
fi

export DEBIAN_FRONTEND=noninteractive
# openssh-server is for the tests' own sshd on 127.0.0.1
# (tests/cluster/start-sshd.sh); on a machine without policy-rc.d its
# postinst may also start the system's sshd.
apt-get update -q >&2
# shellcheck disable=SC2086
apt-get install -y -q --no-install-recommends $missing >&2
