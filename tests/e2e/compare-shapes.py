"""compare-shapes.py REAL.jsonl FAKE.jsonl: check that every shape the
stand-in agent (tests/agents/fake-agent) prints is one the real agent CLI
printed: each (type, subtype) of a fake line occurs in the real stream,
and its top-level keys, its message's keys and each content block's keys
(per block type) are among those the real lines of that kind carried.
Prints what differs; exit 1 when anything does."""
import json
import sys


def shapes(path):
    """{(type, subtype): {"top": keys, "message": keys, "blocks": {t: keys}}}"""
    out = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if not line.startswith("{"):
                continue
            d = json.loads(line)
            kind = (d.get("type"), d.get("subtype"))
            s = out.setdefault(kind, {"top": set(), "message": set(),
                                      "blocks": {}})
            s["top"] |= set(d)
            m = d.get("message")
            if isinstance(m, dict):
                s["message"] |= set(m)
                content = m.get("content")
                if isinstance(content, list):
                    for b in content:
                        if isinstance(b, dict):
                            s["blocks"].setdefault(b.get("type"),
                                                   set()).update(b)
    return out


real, fake = shapes(sys.argv[1]), shapes(sys.argv[2])
bad = 0
for kind, s in sorted(fake.items(), key=str):
    r = real.get(kind)
    if r is None:
        print(f"{kind}: the real CLI printed no such line")
        bad += 1
        continue
    for part in ("top", "message"):
        extra = s[part] - r[part]
        if extra:
            print(f"{kind} {part}: keys the real CLI never printed: "
                  f"{sorted(extra)}")
            bad += 1
    for btype, keys in s["blocks"].items():
        extra = keys - r["blocks"].get(btype, set())
        if btype not in r["blocks"]:
            print(f"{kind}: content block {btype!r} the real CLI never "
                  f"printed")
            bad += 1
        elif extra:
            print(f"{kind} block {btype!r}: keys the real CLI never "
                  f"printed: {sorted(extra)}")
            bad += 1
print(f"{len(fake)} kinds of line compared, {bad} differences")
sys.exit(1 if bad or not fake else 0)
