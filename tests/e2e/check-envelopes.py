"""Validate each envelope against schemas/envelope.json, and each success
envelope's data against schemas/NAME.output.json, with python3-jsonschema
(Debian's), independently of hpcloop's validator.
Usage: check-envelopes.py SCHEMA_DIR ENVELOPES.jsonl"""
import json
import sys

import jsonschema

schema_dir, path = sys.argv[1], sys.argv[2]
schemas = {}
checked = bad = 0
with open(f"{schema_dir}/envelope.json", encoding="utf-8") as s:
    envelope = json.load(s)
jsonschema.Draft7Validator.check_schema(envelope)
envelope_check = jsonschema.Draft7Validator(envelope)
with open(path, encoding="utf-8") as f:
    for line in f:
        env = json.loads(line)
        errors = list(envelope_check.iter_errors(env))
        if errors:
            bad += 1
            print(f"envelope: {errors[0].message}: {line[:200]}", file=sys.stderr)
        if not env.get("ok"):
            continue
        prim = env["primitive"]
        if prim not in schemas:
            with open(f"{schema_dir}/{prim}.output.json", encoding="utf-8") as s:
                schemas[prim] = json.load(s)
            jsonschema.Draft7Validator.check_schema(schemas[prim])
        errors = list(jsonschema.Draft7Validator(schemas[prim]).iter_errors(env["data"]))
        checked += 1
        if errors:
            bad += 1
            print(f"{prim}: {errors[0].message}", file=sys.stderr)
print(f"{checked} envelopes checked with jsonschema, {bad} invalid")
sys.exit(1 if bad or not checked else 0)
