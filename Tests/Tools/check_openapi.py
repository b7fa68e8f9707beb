#!/usr/bin/env python3
"""Check a live Cinnabar node against Specs/openapi.yaml.

Usage: check_openapi.py SPEC BASE_URL 'METHOD|PATH_TEMPLATE|URL_PATH|STATUS[|HEADERS_JSON|BODY]' ...
Validates the spec itself, then for each case requests BASE_URL+URL_PATH (with the extra headers
and body when given), checks the status, the
content type and (for JSON answers) the body against the response schema the spec gives for that
path template and status. Prints one line per failure and 'N passed, M failed'.
"""
import json
import sys
import urllib.error
import urllib.request

import yaml
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate


def main() -> int:
    spec_path, base, cases = sys.argv[1], sys.argv[2], sys.argv[3:]
    with open(spec_path, encoding="utf-8") as f:
        spec = yaml.safe_load(f)
    validate(spec)
    passed = failed = 0
    for case in cases:
        method, template, path, status, *extra = case.split("|", 5)
        headers = json.loads(extra[0]) if extra else {}
        data = extra[1].encode() if len(extra) > 1 else None
        request = urllib.request.Request(base + path, method=method, headers=headers, data=data)
        try:
            with urllib.request.urlopen(request) as r:
                got, ctype, body = r.status, r.headers.get("Content-Type", ""), r.read()
        except urllib.error.HTTPError as e:
            got, ctype, body = e.code, e.headers.get("Content-Type", ""), e.read()
        problems = []
        if str(got) != status:
            problems.append(f"status {got}, expected {status}")
        responses = spec["paths"].get(template, {}).get(method.lower(), {}).get("responses", {})
        response = responses.get(str(got))
        if response is None:
            problems.append(f"status {got} is not documented for {method} {template}")
        else:
            if "$ref" in response:
                response = spec["components"]["responses"][response["$ref"].split("/")[-1]]
            content = response.get("content", {})
            media = ctype.split(";")[0].strip()
            if media not in content:
                problems.append(f"content type {media} is not documented (have {list(content)})")
            elif media.endswith("json"):
                schema = dict(spec)
                schema.update(content[media]["schema"])
                for error in Draft202012Validator(schema).iter_errors(json.loads(body)):
                    problems.append(f"{'/'.join(map(str, error.path))}: {error.message}")
        if problems:
            failed += 1
            for p in problems:
                print(f"{method} {path}: {p}")
        else:
            passed += 1
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
