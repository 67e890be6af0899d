#!/bin/sh
# The builtin proposer and the noise-aware decide, measured (issue 11,
# item 11).  Over 10 seeds on the bundled experiment
# (examples/quadratic: three hyperparameters and seeded noise), how many
# runs the builtin proposer (driven through `hpcloop gen-next-idea` and
# `record-result`, no scheduler) needs to reach a target metric, against
# plain random search and against Optuna's TPE sampler (Debian's
# python3-optuna; used by this benchmark only, never by the product).
# Then, on a pure-noise experiment, how many of 100 runs the noise-aware
# rule keeps against the naive better-than-best rule.  Prints figures;
# asserts nothing.  The driver is bench/proposer.py.
#
# PROPOSER_SEEDS (10), PROPOSER_TARGET (0.15), PROPOSER_CAP (100 runs of
# the builtin proposer), PROPOSER_CAP_RANDOM (3000), PROPOSER_CAP_TPE
# (300) and PROPOSER_BASELINES (5) change the set-up.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
bin=${HPCLOOP_BIN:-$top/build/hpcloop}
[ -x "$bin" ] || { echo "needs $bin (run make)" >&2; exit 1; }
[ -x /usr/bin/python3 ] || { echo "needs /usr/bin/python3" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
/usr/bin/python3 "$top/bench/proposer.py" "$bin" "$tmp/w"
