#!/bin/sh
# Install the agent CLI the tests drive (Claude Code, from npm) into a
# project-local prefix, build/agent-cli/, never globally: the e2e tests
# run the real CLI against a scripted model server on loopback
# (tests/model/), and users who bring their own agent never need it.
#
# The version is pinned here, in CLI_VERSION, and nowhere else.  The
# package places its native binary through its platform optional
# dependency and its postinstall (node install.cjs), so neither
# --ignore-scripts nor --omit=optional is passed.
#
# Idempotent and quiet: when the pinned version is already installed and
# answers --version it does nothing.  When npm is missing or the registry
# cannot be reached it says so on stderr and exits 0, so that a machine
# without the network still builds and tests (the real-CLI tests then
# skip, saying why).  npm's own output goes to build/agent-cli/npm.log.
#
#   scripts/install-agent-cli.sh            install (or check) the CLI
#   scripts/install-agent-cli.sh --version  print the pinned version
#   scripts/install-agent-cli.sh --bin      print where the CLI goes
set -eu

CLI_PACKAGE=@anthropic-ai/claude-code
CLI_VERSION=2.1.197

top=$(cd "$(dirname "$0")/.." && pwd)
prefix="$top/build/agent-cli"
bin="$prefix/node_modules/.bin/claude"
log="$prefix/npm.log"
pkgdir="$prefix/node_modules/$CLI_PACKAGE"

case "${1-}" in
--version) printf '%s\n' "$CLI_VERSION"; exit 0 ;;
--bin) printf '%s\n' "$bin"; exit 0 ;;
'') ;;
*) echo "usage: $0 [--version | --bin]" >&2; exit 1 ;;
esac

say () { printf 'install-agent-cli: %s\n' "$*" >&2; }

# installed_version: print the version the installed CLI reports.
installed_version () {
	[ -x "$bin" ] || return 1
	DISABLE_TELEMETRY=1 CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC=1 \
		timeout 30 "$bin" --version 2>/dev/null | sed -n '1s/ .*//p'
}

if [ "$(installed_version || true)" = "$CLI_VERSION" ]; then
	say "$CLI_PACKAGE $CLI_VERSION present"
	exit 0
fi

if ! command -v npm >/dev/null 2>&1; then
	say "npm not found; the tests that run the real agent CLI will skip"
	exit 0
fi

mkdir -p "$prefix"
# A package.json of its own keeps npm from climbing to a parent project.
[ -f "$prefix/package.json" ] ||
	printf '{"name":"hpcloop-agent-cli","private":true}\n' \
		>"$prefix/package.json"
if ! timeout 600 npm install --prefix "$prefix" --no-audit --no-fund \
	--no-update-notifier --fetch-retries=1 --fetch-timeout=60000 \
	--save-exact "$CLI_PACKAGE@$CLI_VERSION" >"$log" 2>&1; then
	say "npm could not install $CLI_PACKAGE@$CLI_VERSION (see $log);"
	say "the tests that run the real agent CLI will skip"
	exit 0
fi

got=$(installed_version || true)
# An npm that holds back install scripts leaves the placeholder binary:
# run the package's postinstall, which places the native one.
if [ "$got" != "$CLI_VERSION" ] && [ -f "$pkgdir/install.cjs" ]; then
	(cd "$pkgdir" && node install.cjs) >>"$log" 2>&1 || true
	got=$(installed_version || true)
fi
if [ "$got" != "$CLI_VERSION" ]; then
	say "$CLI_PACKAGE installed but '$bin --version' says '${got:-nothing}'"
	say "(see $log); the tests that run the real agent CLI will skip"
	exit 0
fi
say "$CLI_PACKAGE $CLI_VERSION installed in $prefix"
