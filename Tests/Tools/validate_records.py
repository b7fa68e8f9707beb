#!/usr/bin/env python3
"""Validate Cinnabar records against the published JSON Schemas with an independent validator.

Usage: validate_records.py SCHEMA_DIR RECORD_FILE...
Each record file holds one record (canonical JSON). Its schema is SCHEMA_DIR/<type>.schema.json.
Prints one line per failure and a closing 'N passed, M failed'; exits non-zero on any failure.
"""
import json
import sys

from jsonschema import Draft202012Validator


def main() -> int:
    schema_dir, files = sys.argv[1], sys.argv[2:]
    validators = {}
    passed = failed = 0
    for path in files:
        with open(path, encoding="utf-8") as f:
            record = json.load(f)
        kind = record.get("type")
        if kind not in validators:
            with open(f"{schema_dir}/{kind}.schema.json", encoding="utf-8") as f:
                schema = json.load(f)
            Draft202012Validator.check_schema(schema)
            validators[kind] = Draft202012Validator(schema)
        errors = sorted(validators[kind].iter_errors(record), key=lambda e: list(e.path))
        if errors:
            failed += 1
            for e in errors:
                print(f"{path}: {kind}: {'/'.join(map(str, e.path))}: {e.message}")
        else:
            passed += 1
    print(f"{passed} passed, {failed} failed")
    return 1 if failed or not files else 0


if __name__ == "__main__":
    sys.exit(main())
