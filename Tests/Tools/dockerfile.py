"""The Docker files read for check_docker.py and docker_rehearsal.py: the Dockerfile's stages and
instructions, the .dockerignore, the compose file's init command, and the toolchain an image tag names.

Only what docker/Dockerfile uses is understood; any other instruction is kept under its keyword, so
a caller that meets one it cannot follow can say so instead of skipping it.
"""
import json
import os
import posixpath
import re
import shlex
import subprocess
from dataclasses import dataclass, field


@dataclass
class Instruction:
    keyword: str  # upper case: RUN, COPY, WORKDIR, …
    arguments: str  # the rest of the line, continuation lines joined

    def exec_form(self):
        """The JSON array form (ENTRYPOINT ["a", "b"]), or None for the shell form."""
        text = self.arguments.strip()
        if not text.startswith("["):
            return None
        return json.loads(text)


@dataclass
class Stage:
    image: str
    name: str | None
    instructions: list = field(default_factory=list)

    def apt_packages(self):
        """Every package an `apt-get install` in this stage's RUN lines names."""
        packages = []
        for run in self.all("RUN"):
            for command in run.arguments.split("&&"):
                words = command.split()
                if "apt-get" in words and "install" in words:
                    packages += [w for w in words[words.index("install") + 1:] if not w.startswith("-")]
        return packages

    def all(self, keyword):
        return [i for i in self.instructions if i.keyword == keyword]

    def last(self, keyword):
        found = self.all(keyword)
        return found[-1] if found else None


def parse(text):
    """[Stage] in file order."""
    joined = re.sub(r"\\\n", " ", text)
    stages = []
    for line in joined.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        keyword, _, arguments = line.partition(" ")
        keyword = keyword.upper()
        if keyword == "FROM":
            words = arguments.split()
            name = words[2] if len(words) >= 3 and words[1].upper() == "AS" else None
            stages.append(Stage(image=words[0], name=name))
        elif stages:
            stages[-1].instructions.append(Instruction(keyword, re.sub(r"\s+", " ", arguments).strip()))
    return stages


class DockerIgnore:
    """The build context's .dockerignore: which paths (relative to the context) Docker leaves out.

    As Docker reads it: a line starting with '#' is a comment; each pattern is trimmed, cleaned as
    a path (`./a`, `a//b`, `a/../b`) and loses a leading '/'; `*`, `?` and `[...]` stop at '/',
    `**` crosses any number of directories, '\\' escapes; a path is left out when it or one of its
    parent directories matches; a `!pattern` line brings a path back (even under a directory left
    out); the last matching line wins.
    """

    def __init__(self, text):
        self.rules = []
        for line in text.splitlines():
            if line.startswith("#"):
                continue
            line = line.strip()
            if not line:
                continue
            keep = line.startswith("!")
            pattern = line[1:].strip() if keep else line
            if pattern:
                pattern = posixpath.normpath(pattern).lstrip("/") or "."
            self.rules.append((keep, re.compile(self._regex(pattern))))
        self.has_exceptions = any(keep for keep, _ in self.rules)

    @staticmethod
    def _regex(pattern):
        out, i = "", 0
        while i < len(pattern):
            c = pattern[i]
            if pattern.startswith("**/", i):
                out, i = out + "(?:.*/)?", i + 3
            elif pattern.startswith("**", i):
                out, i = out + ".*", i + 2
            elif c == "*":
                out, i = out + "[^/]*", i + 1
            elif c == "?":
                out, i = out + "[^/]", i + 1
            elif c == "\\" and i + 1 < len(pattern):
                out, i = out + re.escape(pattern[i + 1]), i + 2
            elif c == "[" and "]" in pattern[i + 1:]:
                end = pattern.index("]", i + 2 if pattern[i + 1:i + 2] in ("^", "!") else i + 1)
                body = pattern[i + 1:end]
                negate = body[:1] in ("^", "!")
                body = body[1:] if negate else body
                out += "[" + ("^/" if negate else "") + body.replace("\\", "\\\\") + "]"
                i = end + 1
            else:
                out, i = out + re.escape(c), i + 1
        return out + r"\Z"

    def excludes(self, path):
        parts = [p for p in path.strip("/").split("/") if p not in ("", ".")]
        excluded = False
        for keep, rule in self.rules:
            if any(rule.match("/".join(parts[:n])) for n in range(1, len(parts) + 1)):
                excluded = not keep
        return excluded

    def sends(self, context, source):
        """True if Docker sends `source` (or something under it) with the build context."""
        full = os.path.join(context, source)
        if not os.path.exists(full):
            return False
        if not self.excludes(source):
            return True
        if not (self.has_exceptions and os.path.isdir(full)):
            return False
        for folder, _, files in os.walk(full):
            for name in files:
                if not self.excludes(os.path.relpath(os.path.join(folder, name), context)):
                    return True
        return False

    def prunes(self, context, path):
        """Whether a copy from the context can skip `path` (a file or a whole directory)."""
        if os.path.isdir(path) and self.has_exceptions:
            return False  # an exception may bring back something under it
        return self.excludes(os.path.relpath(path, context))

    @classmethod
    def of_context(cls, context):
        path = os.path.join(context, ".dockerignore")
        return cls(open(path, encoding="utf-8").read() if os.path.exists(path) else "")


def toolchain_version(swift="swift"):
    """major.minor of `swift --version` (what a swift:X.Y image tag names), or None."""
    out = subprocess.run([swift, "--version"], capture_output=True, text=True)
    found = re.search(r"Swift version (\d+\.\d+)", out.stdout + out.stderr)
    return found.group(1) if found else None


def compose_init(services):
    """The compose `init` service's `cinnabar dev init …` words (after its `test -f … ||` guard)
    and the consortium folder its --dir names."""
    command = " ".join(services["init"]["command"])
    words = shlex.split(command.split("||", 1)[1])
    return words, words[words.index("--dir") + 1] if "--dir" in words else None
