#!/usr/bin/python3
"""slash-specs.py FILE...: every spec a slash command passes to hpcloop.

For each `hpcloop NAME --spec - <<'SPEC'` block (the only way the slash
commands may hand hpcloop a spec: a heredoc with a quoted delimiter, so
the shell expands nothing) print "NAME<TAB>SPEC", with the placeholders
filled in by values the schemas accept.  Fails when a block is malformed
or when there are fewer than 15 of them (a rewrite that dropped them).
"""
import json
import re
import sys

FILL = {"STUDY": "demo", "SPRINT_ID": "sp-1a2b3c", "LOOP_ID": "lp-1a2b3c"}
n = 0
for path in sys.argv[1:]:
    lines = open(path).read().split("\n")
    for i, line in enumerate(lines):
        m = re.match(r"\s*hpcloop ([a-z-]+) --spec - <<'SPEC'$", line)
        if not m:
            continue
        spec = re.sub(r"\b(VALUE|COUNT)\b", "3", lines[i + 1].strip())
        for k, v in FILL.items():
            spec = spec.replace('"%s"' % k, '"%s"' % v)
        if lines[i + 2].strip() != "SPEC":
            sys.exit("%s:%d: the spec is not one line before SPEC" % (path, i + 2))
        json.loads(spec)
        print(m.group(1) + "\t" + spec)
        n += 1
if n < 15:
    sys.exit("only %d spec blocks" % n)
