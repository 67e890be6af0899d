#!/usr/bin/python3
"""The driver of bench/proposer.sh (which says what it measures).

Usage: proposer.py HPCLOOP WORKDIR

The builtin proposer is driven through the binary, as an agent would:
`gen-next-idea` (mode builtin) proposes, the experiment is evaluated in
this process (examples/quadratic, imported), `record-result` records it.
Random search and Optuna's TPE sampler evaluate the same experiment with
the same seed.  The noise part records runs of the pure-noise experiment
with `record-result` (which decides) in two studies: one with repeat runs
of the baseline (so the noise-aware rule applies) and one without (the
naive better-than-best rule).  Prints figures; asserts nothing.
"""
import json
import math
import os
import random
import statistics
import subprocess
import sys
import time

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(TOP, "examples", "quadratic"))
import quadratic  # noqa: E402

SEEDS = int(os.environ.get("PROPOSER_SEEDS", "10"))
TARGET = float(os.environ.get("PROPOSER_TARGET", "0.15"))
CAP_BUILTIN = int(os.environ.get("PROPOSER_CAP", "100"))
CAP_RANDOM = int(os.environ.get("PROPOSER_CAP_RANDOM", "3000"))
CAP_TPE = int(os.environ.get("PROPOSER_CAP_TPE", "300"))
NOISE_RUNS = 100
CALLS = 0
BASELINES = int(os.environ.get("PROPOSER_BASELINES", "5"))

SPACE = """    params:
      lr: {type: float, low: 0.0001, high: 1, log: true}
      width: {type: int, low: 1, high: 64}
      activation: {type: choice, choices: [relu, tanh, sigmoid]}
"""


def evaluate(seed, run, lr, width, activation, noise_only=False):
    args = quadratic.parse(["--lr", repr(float(lr)), "--width",
                            str(int(width)), "--activation", activation,
                            "--seed", str(seed), "--run", str(run)]
                           + (["--noise-only"] if noise_only else []))
    return quadratic.metric(args)


class Hpcloop:
    """The binary with a config and journal of its own."""

    def __init__(self, binary, workdir):
        self.binary = binary
        self.workdir = workdir
        os.makedirs(workdir)
        self.env = dict(os.environ,
                        HPCLOOP_CONFIG=os.path.join(workdir, "hpcloop.yaml"),
                        HPCLOOP_JOURNAL=os.path.join(workdir, "journal.db"))

    def write_config(self, studies):
        with open(self.env["HPCLOOP_CONFIG"], "w") as f:
            f.write("version: 1\nclusters:\n  local:\n"
                    "    transport: local\n    scheduler: local\n"
                    "    working_dir: sprints\nstudies:\n" + studies)
        self.call("init", None)

    def call(self, primitive, spec):
        argv = [self.binary, primitive]
        if spec is not None:
            argv += ["--spec", json.dumps(spec)]
        global CALLS
        CALLS += 1
        p = subprocess.run(argv, env=self.env, capture_output=True,
                           text=True)
        env = json.loads(p.stdout)
        if not env.get("ok"):
            raise RuntimeError("%s: %s" % (primitive, p.stdout.strip()))
        return env.get("data")


def builtin_runs(binary, workdir, seed):
    h = Hpcloop(binary, workdir)
    h.write_config("  q:\n    cluster: local\n"
                   "    metric: {name: metric, direction: minimize}\n"
                   "    seed: %d\n" % seed + SPACE)
    for n in range(1, CAP_BUILTIN + 1):
        idea = h.call("gen-next-idea", {"study": "q", "mode": "builtin"})
        p = idea["idea"]["params"]
        v = evaluate(seed, 0, p["lr"], p["width"], p["activation"])
        h.call("record-result", {"study": "q", "value": v, "params": p,
                                 "description": "run %d" % n})
        if v <= TARGET:
            return n
    return None


def random_runs(seed):
    rng = random.Random(1000 + seed)
    for n in range(1, CAP_RANDOM + 1):
        lr = 10 ** rng.uniform(-4, 0)
        width = rng.randint(1, 64)
        act = rng.choice(sorted(quadratic.CHOICES))
        if evaluate(seed, 0, lr, width, act) <= TARGET:
            return n
    return None


def tpe_runs(seed):
    try:
        import optuna
    except ImportError:
        return "n/a"
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    hit = []

    def objective(trial):
        lr = trial.suggest_float("lr", 1e-4, 1.0, log=True)
        width = trial.suggest_int("width", 1, 64)
        act = trial.suggest_categorical("activation",
                                        sorted(quadratic.CHOICES))
        v = evaluate(seed, 0, lr, width, act)
        if v <= TARGET and not hit:
            hit.append(trial.number + 1)
            trial.study.stop()
        return v

    study = optuna.create_study(
        direction="minimize",
        sampler=optuna.samplers.TPESampler(seed=seed))
    study.optimize(objective, n_trials=CAP_TPE)
    return hit[0] if hit else None


def noise_keeps(binary, workdir, seed):
    """Keeps of 100 pure-noise runs: (noise-aware, naive)."""
    h = Hpcloop(binary, workdir)
    study = ("    cluster: local\n"
             "    metric: {name: metric, direction: minimize}\n")
    h.write_config("  aware:\n" + study + "  naive:\n" + study)
    for b in range(BASELINES):
        v = evaluate(seed, 10000 + b, 0.01, 24, "relu", noise_only=True)
        h.call("record-result", {"study": "aware", "value": v,
                                 "baseline": True,
                                 "description": "baseline %d" % b})
    keeps = {"aware": 0, "naive": 0}
    for n in range(NOISE_RUNS):
        v = evaluate(seed, n, 0.01, 24, "relu", noise_only=True)
        for s in keeps:
            r = h.call("record-result", {"study": s, "value": v,
                                         "description": "run %d" % n})
            if r["result"]["status"] == "keep":
                keeps[s] += 1
                if os.environ.get("PROPOSER_VERBOSE"):
                    print("  %s keeps run %d: %s" % (
                        s, n, r["result"]["decision"]["reason"]))
    return keeps["aware"], keeps["naive"]


def show(x, cap):
    if x is None:
        return ">%d" % cap
    return str(x)


def summary(xs, cap):
    """Median and mean, counting a miss as the cap (a lower bound)."""
    if any(x == "n/a" for x in xs):
        return "n/a", "n/a"
    vals = [cap if x is None else x for x in xs]
    miss = sum(1 for x in xs if x is None)
    med = statistics.median(vals)
    mean = statistics.mean(vals)
    flag = ">=" if miss else ""
    return "%s%g" % (flag, med), "%s%.1f" % (flag, mean)


def main():
    binary, workdir = sys.argv[1], sys.argv[2]
    t0 = time.time()
    print("runs to reach metric <= %g on examples/quadratic (best expected"
          " 0.05), %d seeds" % (TARGET, SEEDS))
    print("%-6s %8s %8s %8s" % ("seed", "builtin", "random", "tpe"))
    rows = []
    for seed in range(SEEDS):
        b = builtin_runs(binary, os.path.join(workdir, "b%d" % seed), seed)
        r = random_runs(seed)
        t = tpe_runs(seed)
        rows.append((b, r, t))
        print("%-6d %8s %8s %8s" % (seed, show(b, CAP_BUILTIN),
                                    show(r, CAP_RANDOM),
                                    t if t == "n/a" else show(t, CAP_TPE)),
              flush=True)
    cols = list(zip(*rows))
    meds = [summary(cols[0], CAP_BUILTIN), summary(cols[1], CAP_RANDOM),
            summary(cols[2], CAP_TPE)]
    print("%-6s %8s %8s %8s" % ("median", meds[0][0], meds[1][0],
                                meds[2][0]))
    print("%-6s %8s %8s %8s" % ("mean", meds[0][1], meds[1][1],
                                meds[2][1]))
    print("(target: builtin at most a third of random's runs and no more"
          " than TPE's; a miss counts as the cap, shown with >=)")
    if cols[2][0] == "n/a":
        print("(tpe: n/a, python3-optuna is not installed;"
              " scripts/install-deps.sh installs it)")

    print()
    print("keeps among %d runs of a pure-noise experiment (metric 1 + "
          "N(0, 0.01)), %d seeds" % (NOISE_RUNS, SEEDS))
    print("%-6s %12s %12s" % ("seed", "noise-aware", "naive"))
    aware, naive = [], []
    for seed in range(SEEDS):
        a, n = noise_keeps(binary, os.path.join(workdir, "n%d" % seed),
                           seed)
        aware.append(a)
        naive.append(n)
        print("%-6d %12d %12d" % (seed, a, n), flush=True)
    print("%-6s %12.1f %12.1f" % ("mean", statistics.mean(aware),
                                  statistics.mean(naive)))
    print("(noise-aware: record-result's decide with %d baseline runs "
          "(noise_k 2); naive: better than the best so far, the first "
          "run included; target: at most 1, where naive keeps about 5)"
          % BASELINES)
    print()
    print("%.1f s, %d hpcloop calls" % (time.time() - t0, CALLS))


if __name__ == "__main__":
    main()
