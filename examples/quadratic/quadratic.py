#!/usr/bin/python3
"""A toy experiment for hpcloop's demo and benchmark: a "validation loss"
that depends on three hyperparameters, plus a seeded noise term.

    lr          float, log scale (1e-4 .. 1): best near 1e-2
    width       int (1 .. 64): best near 24
    activation  choice (relu, tanh, sigmoid): relu best

metric = (log10(lr) + 2)^2 + ((width - 24) / 16)^2
         + {relu: 0, tanh: 0.15, sigmoid: 0.4}[activation] + 0.05 + noise

The best expected value is 0.05.  The noise is normal with standard
deviation NOISE (0.01 by default), drawn from a generator seeded by the
seed, the run number and the parameters, so a run is reproducible.  With
--noise-only the metric is 1.0 + noise: an experiment whose parameters
do not matter at all.

Parameters come from the command line (--lr, --width, --activation) or,
as an hpcloop executor gets them, from HPCLOOP_PARAM_LR,
HPCLOOP_PARAM_WIDTH and HPCLOOP_PARAM_ACTIVATION; the seed and run number
from --seed/--run or QUADRATIC_SEED/QUADRATIC_RUN (default 0).  It
prints the parameters and, last, "metric: VALUE" (what extract-metric
and the executor read).  Standard library only; it runs in milliseconds.
"""
import argparse
import hashlib
import math
import os
import random
import sys

CHOICES = {"relu": 0.0, "tanh": 0.15, "sigmoid": 0.4}


def env(name, default):
    value = os.environ.get(name)
    return default if value is None or value == "" else value


def parse(argv):
    p = argparse.ArgumentParser(description="toy experiment for hpcloop")
    p.add_argument("--lr", type=float,
                   default=float(env("HPCLOOP_PARAM_LR", "0.1")))
    p.add_argument("--width", type=int,
                   default=int(float(env("HPCLOOP_PARAM_WIDTH", "8"))))
    p.add_argument("--activation", choices=sorted(CHOICES),
                   default=env("HPCLOOP_PARAM_ACTIVATION", "tanh"))
    p.add_argument("--seed", type=int,
                   default=int(env("QUADRATIC_SEED", "0")))
    p.add_argument("--run", type=int,
                   default=int(env("QUADRATIC_RUN", "0")))
    p.add_argument("--noise", type=float,
                   default=float(env("QUADRATIC_NOISE", "0.01")))
    p.add_argument("--noise-only", action="store_true",
                   default=env("QUADRATIC_NOISE_ONLY", "") == "1")
    return p.parse_args(argv)


def noise(args):
    key = "%d|%d|%r|%d|%s" % (args.seed, args.run, args.lr, args.width,
                              args.activation)
    digest = hashlib.sha256(key.encode()).digest()
    rng = random.Random(int.from_bytes(digest[:8], "big"))
    return rng.gauss(0.0, args.noise)


def metric(args):
    if args.noise_only:
        return 1.0 + noise(args)
    if not args.lr > 0:
        raise ValueError("lr must be above 0")
    return ((math.log10(args.lr) + 2) ** 2
            + ((args.width - 24) / 16.0) ** 2
            + CHOICES[args.activation] + 0.05 + noise(args))


def main(argv):
    try:
        args = parse(argv)
        value = metric(args)
    except ValueError as e:
        print("quadratic: %s" % e, file=sys.stderr)
        return 2
    print("lr: %r" % args.lr)
    print("width: %d" % args.width)
    print("activation: %s" % args.activation)
    print("metric: %.6f" % value)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
