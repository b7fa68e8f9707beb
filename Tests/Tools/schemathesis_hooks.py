"""Schemathesis hooks for the Cinnabar API fuzz run (loaded through SCHEMATHESIS_HOOKS).

POST /v1/batches takes application/x-ndjson (one canonical JSON record per line), a media type
schemathesis has no serializer for. A generated string is sent as its UTF-8 bytes; any other
generated value (negative cases) as its JSON text, one line.
"""
import json

import schemathesis


@schemathesis.serializer("application/x-ndjson")
def ndjson(ctx, value):
    if isinstance(value, bytes):
        return value
    if isinstance(value, str):
        return value.encode("utf-8", "surrogatepass")
    return json.dumps(value).encode("utf-8")
