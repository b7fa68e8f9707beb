#!/usr/bin/env python3
"""Check the verification page's message files against the Simplified Chinese source of truth.

Usage: check_messages.py [I18N_DIR]   (default: Sources/API/Web/i18n beside this repository's Tests/)

For every language in languages.json, its <tag>.json must be valid JSON without duplicate keys, name
itself in "@language" as languages.json does, name an existing file in "@fallback" if it has one, and
have exactly the message keys of zh-Hans.json (keys starting with "@" are notes, not messages). Every
message must be a non-empty string with the same set of {placeholders} as zh-Hans.json's, and no brace
that is not a placeholder. A message whose zh-Hans text has Chinese characters must be written in its
language's script (Yi syllables for ii, Tibetan for bo, Hangul for ko, kana or kanji for ja, Cyrillic
for ru, Latin letters for en) and, for a language not written with Chinese characters, must not be
the zh-Hans text itself.

Prints one line per problem and exits 1 if there is any; else prints a summary and exits 0.
"""
import json
import re
import sys
from pathlib import Path

PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")  # as in js/i18n.mjs
HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
SCRIPTS = {
    "ii": re.compile(r"[\ua000-\ua4cf]"),
    "bo": re.compile(r"[\u0f00-\u0fff]"),
    "ko": re.compile(r"[\uac00-\ud7af\u1100-\u11ff\u3130-\u318f]"),
    "ja": re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff]"),
    "ru": re.compile(r"[\u0400-\u04ff]"),
    "en": re.compile(r"[A-Za-z]"),
}
WRITTEN_WITH_HAN = {"zh-Hans", "ja"}
SOURCE = "zh-Hans"


def load(path: Path, problems: list[str]):
    def no_duplicates(pairs):
        seen = {}
        for key, value in pairs:
            if key in seen:
                problems.append(f"{path.name}: key {key!r} appears more than once")
            seen[key] = value
        return seen

    try:
        return json.loads(path.read_text(encoding="utf-8"), object_pairs_hook=no_duplicates)
    except (OSError, ValueError) as error:
        problems.append(f"{path.name}: not a readable JSON file: {error}")
        return None


def placeholders(text: str) -> list[str]:
    return sorted(PLACEHOLDER.findall(text))


def check(directory: Path) -> tuple[list[str], int]:
    problems: list[str] = []
    languages = load(directory / "languages.json", problems)
    if not isinstance(languages, dict):
        return problems + ["languages.json: not a JSON object"], 0
    tables = {}
    for tag in languages:
        table = load(directory / f"{tag}.json", problems)
        if table is None:
            continue
        if not isinstance(table, dict):
            problems.append(f"{tag}.json: not a JSON object")
            continue
        tables[tag] = table
    source = tables.get(SOURCE)
    if source is None:
        return problems + [f"{SOURCE}.json: missing, nothing to check against"], len(tables)
    messages = {k: v for k, v in source.items() if not k.startswith("@")}

    for tag, table in tables.items():
        name = f"{tag}.json"
        if table.get("@language") != languages[tag]:
            problems.append(f"{name}: @language is {table.get('@language')!r}, languages.json says {languages[tag]!r}")
        fallback = table.get("@fallback")
        if fallback is not None and fallback not in tables:
            problems.append(f"{name}: @fallback {fallback!r} is not a language file")
        keys = {k for k in table if not k.startswith("@")}
        for key in sorted(messages.keys() - keys):
            problems.append(f"{name}: missing {key}")
        for key in sorted(keys - messages.keys()):
            problems.append(f"{name}: {key} is not in {SOURCE}.json")
        script = SCRIPTS.get(tag)
        for key in sorted(keys & messages.keys()):
            text, original = table[key], messages[key]
            if not isinstance(text, str) or not text.strip():
                problems.append(f"{name}: {key} is not a non-empty string")
                continue
            if placeholders(text) != placeholders(original):
                problems.append(f"{name}: {key} has placeholders {placeholders(text)}, {SOURCE} has {placeholders(original)}")
            if re.search(r"[{}]", PLACEHOLDER.sub("", text)):
                problems.append(f"{name}: {key} has a brace that is not a {{placeholder}}: {text!r}")
            if tag == SOURCE or not HAN.search(original):
                continue
            if script is not None and not script.search(PLACEHOLDER.sub("", text)):
                problems.append(f"{name}: {key} has no text in the {tag} script: {text!r}")
            if tag not in WRITTEN_WITH_HAN and text == original:
                problems.append(f"{name}: {key} is the {SOURCE} text, untranslated: {text!r}")
    return problems, len(tables)


def main() -> int:
    default = Path(__file__).resolve().parents[2] / "Sources/API/Web/i18n"
    directory = Path(sys.argv[1]) if len(sys.argv) > 1 else default
    problems, files = check(directory)
    for problem in problems:
        print(problem)
    if problems:
        print(f"{len(problems)} problem(s) in the message files")
        return 1
    print(f"{files} message files checked against {SOURCE}.json: no problems")
    return 0


if __name__ == "__main__":
    sys.exit(main())
