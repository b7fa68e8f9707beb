"""A Dockerfile read into its stages and instructions, for check_docker.py and docker_rehearsal.py.

Only what docker/Dockerfile uses is understood; any other instruction is kept under its keyword, so
a caller that meets one it cannot follow can say so instead of skipping it.
"""
import json
import os
import re
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

    As Docker reads it: one pattern per line, cleaned of leading and trailing slashes; `*` and `?`
    stop at '/', `**` crosses any number of directories; a path is left out when it or one of its
    parent directories matches; a `!pattern` line brings a path back; the last matching line wins.
    """

    def __init__(self, text):
        self.rules = []
        for line in text.splitlines():
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            keep = line.startswith("!")
            pattern = line[1:].strip() if keep else line
            self.rules.append((keep, re.compile(self._regex(pattern.strip("/")))))

    @staticmethod
    def _regex(pattern):
        out, i = "", 0
        while i < len(pattern):
            if pattern.startswith("**/", i):
                out, i = out + "(?:.*/)?", i + 3
            elif pattern.startswith("**", i):
                out, i = out + ".*", i + 2
            elif pattern[i] == "*":
                out, i = out + "[^/]*", i + 1
            elif pattern[i] == "?":
                out, i = out + "[^/]", i + 1
            else:
                out, i = out + re.escape(pattern[i]), i + 1
        return out + r"\Z"

    def excludes(self, path):
        parts = [p for p in path.strip("/").split("/") if p not in ("", ".")]
        excluded = False
        for keep, rule in self.rules:
            if any(rule.match("/".join(parts[:n])) for n in range(1, len(parts) + 1)):
                excluded = not keep
        return excluded

    @classmethod
    def of_context(cls, context):
        path = os.path.join(context, ".dockerignore")
        return cls(open(path, encoding="utf-8").read() if os.path.exists(path) else "")
