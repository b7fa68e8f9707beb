#!/usr/bin/env python3
"""Check docker/Dockerfile and docker/compose.yaml against what this machine builds and runs.

Usage: check_docker.py REPO_ROOT CINNABAR_BINARY

No Docker engine runs here, so the images are not built; what can go wrong in them is checked
against the real binary, the real dpkg database (this machine is Debian 12, the images' base) and
the real `cinnabar dev init`:

1. The build stage uses the Swift toolchain the tests ran with (major.minor of `swift --version`),
   on bookworm, and installs every apt package Package.swift names as a system-library provider.
   It copies every folder Package.swift declares targets in (Sources/, and Tests/: SwiftPM refuses
   the package without its test targets' folders even when building one product), and each thing
   a stage copies from the build context exists and is not left out by .dockerignore.
2. The runtime stage (debian:bookworm-slim) provides every Debian library the binary loads: each
   library in the binary's `ldd` closure that dpkg owns must come from a package the stage installs,
   from those packages' dependencies, or from the slim base (Essential or Priority: required). The
   Swift runtime libraries are exempt: the image links them statically (--static-swift-stdlib),
   but their own Debian dependencies (libcurl for FoundationNetworking) are not.
3. The verification page's resource bundle the stage copies exists beside the binary.
4. The compose file: the init service's `cinnabar dev init` command, run for real, lays out node
   directories whose names, API ports and peer hosts are the node services' --dir, published ports,
   health checks and host names.

Prints one line per problem and 'N checks, M problems'; exits 1 if any.
"""
import os
import re
import shlex
import subprocess
import sys
import tempfile

import yaml

import dockerfile as docker_file

problems = []
checks = 0


def check(condition, message):
    global checks
    checks += 1
    if not condition:
        problems.append(message)


def dpkg_database():
    """{installed package: [its Depends and Pre-Depends, one installed alternative per clause]}."""
    out = subprocess.run(["dpkg-query", "-W", "-f=${Package}\t${Depends}, ${Pre-Depends}\n"], capture_output=True, text=True,
                         check=True).stdout
    raw = dict(line.split("\t", 1) for line in out.splitlines() if "\t" in line)
    database = {}
    for package, depends in raw.items():
        names = []
        for clause in depends.split(","):
            alternatives = [a.strip().split(" ")[0].split(":")[0] for a in clause.split("|") if a.strip()]
            installed = [a for a in alternatives if a in raw]
            names += installed[:1] or alternatives[:1]
        database[package] = names
    return database


DPKG = dpkg_database()


def installed_depends(package):
    return DPKG.get(package)


def closure(packages):
    seen, todo = set(), list(packages)
    while todo:
        p = todo.pop()
        if p in seen:
            continue
        seen.add(p)
        todo += installed_depends(p) or []
    return seen


def slim_base():
    out = subprocess.run(["dpkg-query", "-W", "-f=${Package} ${Essential} ${Priority}\n"], capture_output=True, text=True).stdout
    return {line.split()[0] for line in out.splitlines()
            if len(line.split()) >= 3 and (line.split()[1] == "yes" or line.split()[2] == "required")}


def owners(paths):
    """{library path: the dpkg package that owns it (under its own or its /lib, /usr/lib name)}."""
    candidates = {}
    for path in paths:
        real = os.path.realpath(path)
        candidates[path] = [path, real, real.replace("/usr/lib/", "/lib/", 1), real.replace("/lib/", "/usr/lib/", 1)]
    out = subprocess.run(["dpkg-query", "-S"] + sorted({c for cs in candidates.values() for c in cs}),
                         capture_output=True, text=True).stdout
    owned = {}
    for line in out.splitlines():
        package, _, path = line.partition(": ")
        owned[path.strip()] = package.split(":")[0].strip()
    return {path: next((owned[c] for c in cs if c in owned), None) for path, cs in candidates.items()}


def main():
    root, binary = sys.argv[1], sys.argv[2]
    dockerfile = open(os.path.join(root, "docker/Dockerfile"), encoding="utf-8").read()
    stages = docker_file.parse(dockerfile)
    build, runtime = stages[:2]
    build_image, build_packages = build.image, build.apt_packages()
    run_image, run_packages = runtime.image, runtime.apt_packages()

    # 1. The build stage.
    version = docker_file.toolchain_version()
    check(version and build_image == f"swift:{version}-bookworm",
          f"build stage FROM {build_image}: the tests ran with Swift {version or '?'}; use swift:{version or 'X.Y'}-bookworm")
    os_release = open("/etc/os-release", encoding="utf-8").read()
    check("VERSION_CODENAME=bookworm" in os_release and run_image == "debian:bookworm-slim",
          f"runtime stage FROM {run_image}: this check compares against a Debian bookworm machine")
    package_swift = open(os.path.join(root, "Package.swift"), encoding="utf-8").read()
    # What a stage copies from the build context must be there, and not left out by .dockerignore.
    ignore = docker_file.DockerIgnore.of_context(root)
    for stage in stages:
        for copy in stage.all("COPY"):
            words = copy.arguments.split()
            if words[0].startswith("--from="):
                continue
            for source in words[:-1]:
                check(ignore.sends(root, source),
                      f"COPY {source}: not in the build context (missing, or left out by .dockerignore)")
    # SwiftPM refuses a package whose declared targets' folders are missing, whatever product is
    # built: the build stage must copy every folder that holds targets.
    copied = {os.path.normpath(source) for copy in build.all("COPY") for source in copy.arguments.split()[:-1]
              if not source.startswith("--")}
    for folder, kinds in (("Sources", (".target(", ".executableTarget(", ".systemLibrary(")), ("Tests", (".testTarget(",))):
        if any(kind in package_swift for kind in kinds):
            check(folder in copied, f"the build stage does not copy {folder}/, where Package.swift declares targets")
    for provider in re.findall(r'\.apt\(\[([^\]]*)\]\)', package_swift):
        for name in re.findall(r'"([^"]+)"', provider):
            check(name in build_packages, f"build stage does not install {name} (a provider in Package.swift)")

    # 2. The runtime libraries.
    provided = closure(run_packages) | slim_base()
    for name in run_packages:
        check(installed_depends(name) is not None,
              f"runtime stage installs {name}, which is not a package of this Debian (misspelt, or another release's name)")
    ldd = subprocess.run(["ldd", binary], capture_output=True, text=True, check=True).stdout
    libraries = [m.groups() for m in (re.match(r"\s*(\S+) => (/\S+)", line) for line in ldd.splitlines()) if m]
    owner = owners([path for _, path in libraries])
    for library, path in libraries:
        package = owner[path]
        if package is None:
            continue  # the Swift runtime (linked statically in the image) or the vDSO
        check(package in provided, f"the binary loads {library} from {package}, which the runtime stage neither installs nor gets as a dependency")

    # 3. The resource bundle copied beside the binary.
    for resource in re.findall(r"\.build/release/(\S+\.resources)", dockerfile):
        check(os.path.isdir(os.path.join(os.path.dirname(binary), resource)), f"the build stage copies {resource}, which the build does not make")
    check("--static-swift-stdlib" in dockerfile, "the build stage must link the Swift runtime statically (the slim image has none)")

    # 4. The compose file against a real `cinnabar dev init`.
    compose = yaml.safe_load(open(os.path.join(root, "docker/compose.yaml"), encoding="utf-8"))
    services = compose["services"]
    init_words, base = docker_file.compose_init(services)
    check(init_words[0] == "cinnabar" and init_words[1:3] == ["dev", "init"] and base,
          f"init service does not run cinnabar dev init --dir …: {shlex.join(init_words)}")
    with tempfile.TemporaryDirectory() as scratch:
        args = [scratch if w == base else w for w in init_words[1:]]
        subprocess.run([binary] + args, capture_output=True, text=True, check=True)
        nodes = sorted(n for n in os.listdir(scratch) if os.path.isfile(os.path.join(scratch, n, "node.json")))
        node_services = {name: s for name, s in services.items() if name != "init"}
        check(sorted(node_services) == nodes, f"compose node services {sorted(node_services)} are not dev init's nodes {nodes}")
        hosts = {s.get("hostname", name) for name, s in node_services.items()} | set(node_services)
        for name, service in node_services.items():
            command = service.get("command", [])
            directory = command[command.index("--dir") + 1] if "--dir" in command else ""
            check(directory == f"{base}/{name}", f"{name}: --dir {directory}, dev init made {base}/{name}")
            config_path = os.path.join(scratch, name, "node.json")
            if not os.path.isfile(config_path):
                continue
            config = yaml.safe_load(open(config_path, encoding="utf-8"))
            port = config["listen"].rsplit(":", 1)[1]
            check(config["listen"].startswith("0.0.0.0:"), f"{name}: the node listens on {config['listen']}, unreachable from outside its container")
            check(any(str(p).split(":")[-1] == port for p in service.get("ports", [])), f"{name}: the API port {port} is not published ({service.get('ports')})")
            check(port in " ".join(service.get("healthcheck", {}).get("test", [])), f"{name}: the health check does not probe port {port}")
            for peer in config.get("peers", []):
                check(peer["address"].rsplit(":", 1)[0] in hosts, f"{name}: peer address {peer['address']} names no compose service")

    for p in problems:
        print(p)
    print(f"{checks} checks, {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
