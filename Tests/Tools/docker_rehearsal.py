#!/usr/bin/env python3
"""Rehearse docker/Dockerfile and docker/compose.yaml on a machine with no Docker engine.

Usage (as root): docker_rehearsal.py REPO_ROOT WORK_DIR

Each stage of the Dockerfile is carried out for real in a Debian bookworm root made by
`debootstrap --variant=minbase` (what debian:bookworm-slim is made from), entered with chroot:

- FROM swift:X.Y-bookworm: the root gets the packages the official swift image installs
  (swiftlang/swift-docker, X.Y/debian/12/Dockerfile) and this machine's toolchain, which must be
  Swift X.Y, mounted at /opt/swift. Package dependencies resolve from this machine's package mirror,
  as every build here does.
- FROM debian:bookworm-slim: the root as debootstrap made it.
- RUN, COPY (from the build context, less what .dockerignore leaves out, or --from an earlier
  stage), WORKDIR and USER are carried out as Docker would; ENTRYPOINT and CMD are kept for the
  services. Any other instruction stops the rehearsal (one it cannot follow is a gap, not
  something to skip).

Then the compose file is played in the last stage's root: the `init` service's command, then every
node service (the image's ENTRYPOINT with the service's command, as the image's USER), each in a
network namespace of its own with its own address on a bridge, the services' host names resolving
to those addresses as Docker's DNS would resolve them. Once every service's health check passes
(run in its own namespace), the image's own `cinnabar`, from a client namespace, seeds the demo
data through the notary's API, deposits an exhibit, looks its code up at the court with the file,
fetches its offline bundle from the bureau and checks it against the consortium's policy with no
network. The nodes are then stopped and each one's store is audited (all four the same size).

Prints one line per step with its time; exits 1 at the first failure. The roots stay in WORK_DIR
(the debootstrap result is cached there as a tarball for the next run). With --compose-only, the
image's root from the last run is used again, its volume as it was left: `docker compose up` a
second time, on the data of the first.
"""
import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import time

import yaml

import dockerfile as docker_file

# swiftlang/swift-docker 6.3/debian/12/Dockerfile: what the swift:6.3-bookworm image installs
# besides the toolchain (which this rehearsal mounts from the machine).
SWIFT_IMAGE_PACKAGES = ["binutils", "libicu-dev", "libcurl4-openssl-dev", "libedit-dev", "libsqlite3-dev",
                        "libncurses-dev", "libpython3-dev", "libxml2-dev", "pkg-config", "uuid-dev", "tzdata",
                        "git", "gcc", "libstdc++-12-dev"]
SUITE, MIRROR = "bookworm", "http://deb.debian.org/debian"
DOCKER_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
TOOLCHAIN = "/opt/swift"
MIRROR_DIR = "/opt/swift-packages"

started = time.monotonic()


def step(message):
    print(f"[{time.monotonic() - started:6.1f} s] {message}", flush=True)


def fail(message):
    print(f"rehearsal failed: {message}", flush=True)
    sys.exit(1)


def run(command, **kwargs):
    """The command's stdout; a failure stops the rehearsal with its output."""
    result = subprocess.run(command, capture_output=True, text=True, **kwargs)
    if result.returncode != 0:
        fail(f"{shlex.join(command)} exited {result.returncode}:\n{result.stdout[-3000:]}{result.stderr[-3000:]}")
    return result.stdout


class Root:
    """A stage's file system, entered with chroot, with /proc and /dev mounted while in use."""

    def __init__(self, path):
        self.path = path
        self.mounts = []
        self.user = None  # (uid, gid) after USER
        self.workdir = "/"
        self.env = {"PATH": DOCKER_PATH, "HOME": "/root"}  # Docker's, no more (no LANG)

    def host(self, inside):
        return os.path.join(self.path, inside.lstrip("/"))

    def mount(self, source, target, bind=True, readonly=False):
        """Mounts and records at once, so that whatever fails next, `unmount_all` undoes it."""
        path = self.host(target)
        if os.path.islink(path) or not os.path.realpath(path).startswith(os.path.realpath(self.path) + "/"):
            fail(f"mount target {target} leads outside the root")
        if os.path.isdir(source) or not bind:
            os.makedirs(path, exist_ok=True)
        elif not os.path.exists(path):
            open(path, "a").close()
        if bind:
            run(["mount", "--bind", source, path])
            self.mounts.append(path)
            if readonly:
                run(["mount", "-o", "remount,bind,ro", path])
        else:
            run(["mount", "-t", source, source, path])
            self.mounts.append(path)

    def mount_container_filesystems(self):
        """What a container sees: its own /proc, and a small /dev (a tmpfs with the usual
        devices bound in, and /dev/shm), never the host's /dev itself."""
        self.mount("proc", "/proc", bind=False)
        self.mount("tmpfs", "/dev", bind=False)
        for device in ("null", "zero", "full", "random", "urandom", "tty"):
            self.mount(f"/dev/{device}", f"/dev/{device}")
        self.mount("tmpfs", "/dev/shm", bind=False)

    def unmount_all(self):
        for target in reversed(self.mounts):
            subprocess.run(["umount", "-l", target], capture_output=True)
        self.mounts = []

    def command(self, argv, user=None, workdir=None, netns=None):
        """argv run in this root as a container runs it: as USER, in WORKDIR, with Docker's
        environment, and in the network namespace `netns` when given."""
        who = user if user is not None else self.user
        spec = [f"--userspec={who[0]}:{who[1]}"] if who else []
        env = ["env", "-i"] + [f"{k}={v}" for k, v in self.env.items()]
        inner = ["/bin/sh", "-c", f'cd {shlex.quote(workdir or self.workdir)} && exec "$@"', "sh"] + argv
        network = ["ip", "netns", "exec", netns] if netns else []
        return network + ["chroot"] + spec + [self.path] + env + inner

    def run(self, argv, **kwargs):
        return run(self.command(argv, **kwargs))

    def set_user(self, name):
        """USER: later commands run as that user, with HOME its home, as Docker sets it."""
        for line in open(self.host("/etc/passwd"), encoding="utf-8"):
            fields = line.split(":")
            if fields[0] == name or fields[2] == name:
                self.user = (int(fields[2]), int(fields[3]))
                self.env["HOME"] = fields[5]
                return
        fail(f"USER {name}: no such user in the image")

    def write(self, inside, data):
        """Writes a file in the root as its user would, from inside (a symlink in a volume the
        user can write cannot lead the write onto the host)."""
        run(self.command(["/bin/sh", "-c", 'cat > "$0"', inside]), input=data)


class Network:
    """The compose project's network: one namespace per container, each with its own address on
    a bridge, its loopback up, and its name resolving to that address (as Docker's DNS does)."""

    def __init__(self, names):
        tag = str(os.getpid() % 100000)
        subnet = 1 + os.getpid() % 250
        self.bridge = f"rb{tag}"
        self.namespaces = {name: f"rn{tag}-{i}" for i, name in enumerate(names)}
        self.addresses = {name: f"10.79.{subnet}.{i + 1}" for i, name in enumerate(names)}
        self.made = []  # what to delete, in order made: a failure halfway leaves nothing behind
        try:
            self.ip(["link", "add", self.bridge, "type", "bridge"])
            self.made.append(("link", self.bridge))
            self.ip(["addr", "add", f"10.79.{subnet}.254/24", "dev", self.bridge])
            self.ip(["link", "set", self.bridge, "up"])
            for i, name in enumerate(names):
                ns, inside, outside = self.namespaces[name], f"rc{tag}{i}", f"rh{tag}{i}"
                self.ip(["netns", "add", ns])
                self.made.append(("netns", ns))
                self.ip(["link", "add", inside, "type", "veth", "peer", "name", outside])
                self.made.append(("link", outside))  # deleting one end deletes the pair
                self.ip(["link", "set", inside, "netns", ns])
                self.ip(["link", "set", outside, "master", self.bridge, "up"])
                self.ip(["-n", ns, "addr", "add", f"{self.addresses[name]}/24", "dev", inside])
                self.ip(["-n", ns, "link", "set", inside, "up"])
                self.ip(["-n", ns, "link", "set", "lo", "up"])
        except BaseException:
            self.close()
            raise

    @staticmethod
    def ip(arguments):
        run(["ip"] + arguments)

    def hosts_lines(self):
        return "".join(f"{address} {name}\n" for name, address in self.addresses.items())

    def close(self):
        for kind, name in reversed(self.made):
            subprocess.run(["ip", kind, "del", name], capture_output=True)  # a pair already gone is fine
        self.made = []


def mounted_under(path):
    """Mount points at or under `path` (/proc/mounts writes a space as \\040, and so on)."""
    real = os.path.realpath(path)
    points = [re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), line.split()[1])
              for line in open("/proc/mounts", encoding="utf-8")]
    return [p for p in points if p == real or p.startswith(real + "/")]


def remove_tree(path):
    """rmtree, refused while anything is mounted under `path` (a bound /dev, say)."""
    if mounted_under(path):
        fail(f"{path} still has mounts under it ({mounted_under(path)[0]}); unmount them first")
    shutil.rmtree(path)


def fresh_root(work, name):
    """A new bookworm minbase root at WORK/name, from the cached debootstrap tarball."""
    path = os.path.join(work, name)
    if os.path.exists(path):
        remove_tree(path)
    tarball = os.path.join(work, f"{SUITE}-minbase.tar")
    if not os.path.exists(tarball):
        step(f"debootstrap --variant=minbase {SUITE} (once; cached as {tarball})")
        scratch = os.path.join(work, "debootstrap")
        if os.path.exists(scratch):
            remove_tree(scratch)
        run(["debootstrap", "--variant=minbase", SUITE, scratch, MIRROR])
        run(["tar", "-C", scratch, "-cf", tarball + ".part", "."])
        os.rename(tarball + ".part", tarball)
        remove_tree(scratch)
    os.makedirs(path)
    run(["tar", "-C", path, "-xf", tarball])
    shutil.copy("/etc/resolv.conf", os.path.join(path, "etc/resolv.conf"))
    return Root(path)


def base_image(stage, work, name, roots):
    """The stage's starting root, added to `roots` before anything is mounted in it."""
    root = fresh_root(work, name)
    roots.append(root)
    root.mount_container_filesystems()
    if stage.image == f"debian:{SUITE}-slim":
        return root
    if stage.image.startswith("swift:") and stage.image.endswith(f"-{SUITE}"):
        wanted = stage.image[len("swift:"):-len(f"-{SUITE}")]
        have = docker_file.toolchain_version(os.path.join(TOOLCHAIN, "usr/bin/swift"))
        if wanted != have:
            fail(f"FROM {stage.image}: this machine's toolchain is Swift {have}")
        step(f"{name}: the swift:{wanted}-{SUITE} image's packages")
        root.run(["apt-get", "update", "-qq"])
        root.run(["env", "DEBIAN_FRONTEND=noninteractive", "apt-get", "install", "-y", "-qq"] + SWIFT_IMAGE_PACKAGES)
        root.mount(TOOLCHAIN, TOOLCHAIN, readonly=True)
        root.env["PATH"] = f"{TOOLCHAIN}/usr/bin:" + DOCKER_PATH
        if os.path.isdir(MIRROR_DIR):
            root.mount(MIRROR_DIR, MIRROR_DIR, readonly=True)
            shutil.copy("/etc/gitconfig", root.host("/etc/gitconfig"))
        return root
    fail(f"FROM {stage.image}: the rehearsal knows swift:X.Y-{SUITE} and debian:{SUITE}-slim only")


def copy(source, target, skip):
    """COPY's rule for one source: a directory's contents go into the target directory; a file
    goes into it when the target ends in '/', else becomes it. Paths `skip` names stay behind."""
    if os.path.isdir(source):
        shutil.copytree(source, target, symlinks=True, dirs_exist_ok=True,
                        ignore=lambda folder, names: [n for n in names if skip(os.path.join(folder, n))])
    else:
        os.makedirs(target if target.endswith("/") else os.path.dirname(target), exist_ok=True)
        shutil.copy2(source, target)


def carry_out(stage, root, context, stages_done):
    ignore = docker_file.DockerIgnore.of_context(context)
    for instruction in stage.instructions:
        k, args = instruction.keyword, instruction.arguments
        if k == "RUN":
            step(f"RUN {args[:110]}{'…' if len(args) > 110 else ''}")
            t = time.monotonic()
            root.run(["/bin/sh", "-c", args])
            step(f"    done in {time.monotonic() - t:.0f} s")
        elif k == "WORKDIR":
            os.makedirs(root.host(args), exist_ok=True)
            root.workdir = args
        elif k == "USER":
            root.set_user(args)
        elif k == "COPY":
            words = args.split()
            from_stage = words[0][len("--from="):] if words[0].startswith("--from=") else None
            *sources, target = words[1:] if from_stage else words
            target_in = target if target.startswith("/") else os.path.join(root.workdir, target)
            for source in sources:
                if from_stage:
                    copy(os.path.join(stages_done[from_stage].path, source.lstrip("/")), root.host(target_in), lambda _: False)
                    continue
                # From the build context, as Docker sends it: without what .dockerignore leaves out.
                if not ignore.sends(context, source):
                    fail(f"COPY {source}: not in the build context (missing, or left out by .dockerignore)")
                copy(os.path.join(context, source), root.host(target_in),
                     lambda path: ignore.prunes(context, path))
            step(f"COPY {args}")
        elif k in ("ENTRYPOINT", "CMD", "EXPOSE", "VOLUME", "HEALTHCHECK"):
            pass  # used when the services run
        else:
            fail(f"the rehearsal cannot carry out {k} {args}")


def wait_healthy(root, name, test, deadline, netns):
    argv = test[1:] if test[0] == "CMD" else ["/bin/sh", "-c", test[1]]
    while time.monotonic() < deadline:
        if subprocess.run(root.command(argv, netns=netns), capture_output=True).returncode == 0:
            return
        time.sleep(0.2)
    fail(f"{name}: its health check {test} never passed")


class Running:
    """What the rehearsal has set up and must take down whatever happens: roots with mounts, the
    network, the node processes."""

    def __init__(self):
        self.roots, self.nodes, self.network = [], {}, None

    def close(self):
        for process in self.nodes.values():
            if process.poll() is None:
                process.kill()
        for root in self.roots:
            root.unmount_all()
        if self.network:
            self.network.close()


def image_root(stages, repo, work, running, compose_only):
    """The last stage's root, made by carrying out every stage, or with `compose_only` the one
    the last run left."""
    image = stages[-1]
    if compose_only:
        final = Root(os.path.join(work, image.name or f"stage{len(stages) - 1}"))
        if not os.path.lexists(final.host("/usr/local/bin/cinnabar")):
            fail(f"--compose-only: no image root from an earlier run in {final.path}")
        running.roots.append(final)
        final.mount_container_filesystems()
        if image.last("USER"):
            final.set_user(image.last("USER").arguments)
        final.workdir = image.last("WORKDIR").arguments if image.last("WORKDIR") else "/"
        step(f"compose only, in the image root of the last run ({final.path})")
        return final
    done = {}
    for number, stage in enumerate(stages):
        name = stage.name or f"stage{number}"
        step(f"stage {name}: FROM {stage.image}")
        done[name] = base_image(stage, work, name, running.roots)
        carry_out(stage, done[name], repo, done)
    # A container starts from the image with nothing of the build's mounted.
    for root in running.roots[:-1]:
        root.unmount_all()
    return running.roots[-1]


def start_compose(final, image, services, work, running):
    """`init`, then every node service in its own namespace, until every health check passes.
    Returns each node service's URL as seen from the network, and the client's namespace."""
    nodes = {n: s for n, s in services.items() if n != "init"}
    hostname = {n: s.get("hostname", n) for n, s in nodes.items()}
    # Each container on its own address, plus one more for the client that exercises them.
    running.network = network = Network(list(hostname.values()) + ["client"])
    # Docker writes each container's /etc/hosts (minbase has none): localhost, then the network.
    marker, hosts = "# the rehearsal's compose network\n", final.host("/etc/hosts")
    before = open(hosts, encoding="utf-8").read().split(marker)[0] if os.path.exists(hosts) \
        else "127.0.0.1 localhost\n::1 localhost ip6-localhost ip6-loopback\n"
    with open(hosts, "w", encoding="utf-8") as f:
        f.write(before + marker + network.hosts_lines())
    step("compose: init")
    final.run(services["init"]["entrypoint"] + services["init"]["command"])
    entrypoint = image.last("ENTRYPOINT").exec_form()
    for name, service in nodes.items():
        argv = entrypoint + service["command"]
        log = open(os.path.join(work, f"{name}.log"), "w")
        running.nodes[name] = subprocess.Popen(final.command(argv, netns=network.namespaces[hostname[name]]),
                                               stdout=log, stderr=subprocess.STDOUT)
        step(f"compose: {name} at {network.addresses[hostname[name]]}: {shlex.join(argv)} (log {log.name})")
    deadline = time.monotonic() + 60
    for name, service in nodes.items():
        wait_healthy(final, name, service["healthcheck"]["test"], deadline, network.namespaces[hostname[name]])
    step("compose: all four health checks pass")
    urls = {n: f"http://{hostname[n]}:{str(s['ports'][0]).split(':')[-1]}" for n, s in nodes.items()}
    return urls, network.namespaces["client"]


def exercise(final, base, url, client):
    """What a notary, a court and the bureau do, with the image's own cinnabar from the client."""
    def cli(*argv):
        return run(final.command(["cinnabar", *argv], netns=client))
    notary = f"{base}/notary"
    out = cli("dev", "demo", "--dir", notary, "--node", url["notary"])
    step(f"cinnabar dev demo through {url['notary']}: {out.strip().splitlines()[0] if out.strip() else ''}")
    exhibit = "/var/lib/cinnabar/exhibit.pdf"
    final.write(exhibit, f"%PDF-1.4 exhibit for the docker rehearsal {time.time()}")
    receipt = json.loads(cli("deposit", exhibit, "--as", f"{notary}/orgs/notary.key", "--code-key", f"{notary}/codes.key",
                             "--node", url["notary"], "--json"))
    code = receipt["code"]
    step(f"cinnabar deposit through the notary: code {code}, leaf {receipt['leaf_index']}")
    answer = json.loads(cli("verify", code, "--node", url["court"], "--file", exhibit, "--json"))
    if answer.get("result") != "VALID":
        fail(f"the court answers {answer.get('result')} for {code}")
    step(f"cinnabar verify {code} at the court, with the file: {answer['result']}")
    bundle, policy = "/var/lib/cinnabar/exhibit.bundle", "/var/lib/cinnabar/consortium.policy"
    cli("bundle", code, "--node", url["bureau"], "-o", bundle)
    final.write(policy, final.run(["cinnabar", "policy", "--dir", notary]))
    out = final.run(["cinnabar", "verify", "--bundle", bundle, "--policy", policy])
    step(f"the bureau's bundle checked offline: {out.strip().splitlines()[-1]}")


def stop_and_audit(final, base, nodes):
    for process in nodes.values():
        process.send_signal(signal.SIGTERM)
    for process in nodes.values():
        process.wait(timeout=30)
    step("compose: the four nodes stopped")
    sizes = set()
    for name in nodes:
        last = final.run(["cinnabar", "audit", "--dir", f"{base}/{name}"]).strip().splitlines()[-1]
        sizes.add(last.split(" tiles")[0])  # "audit ok: N leaves, M blocks, K" (not the time)
        step(f"cinnabar audit {name}: {last}")
    if len(sizes) != 1:
        fail(f"the four stores differ: {sorted(sizes)}")


def main():
    # A CI timeout or Ctrl-C still unmounts, removes the network and stops the nodes (finally).
    for number in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT):
        signal.signal(number, lambda received, _: fail(f"stopped by signal {received}"))
    repo, work = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    if os.geteuid() != 0:
        fail("run as root (debootstrap, chroot and mount need it)")
    if shutil.which("debootstrap") is None:
        fail("debootstrap is not installed (make docker-rehearsal installs it)")
    os.makedirs(work, exist_ok=True)
    stages = docker_file.parse(open(os.path.join(repo, "docker/Dockerfile"), encoding="utf-8").read())
    services = yaml.safe_load(open(os.path.join(repo, "docker/compose.yaml"), encoding="utf-8"))["services"]
    running = Running()
    try:
        final = image_root(stages, repo, work, running, compose_only="--compose-only" in sys.argv[3:])
        size = run(["du", "-sh", "--exclude=proc", "--exclude=dev", final.path]).split()[0]
        step(f"the image's file system: {size}")
        urls, client = start_compose(final, stages[-1], services, work, running)
        _, base = docker_file.compose_init(services)
        exercise(final, base, urls, client)
        stop_and_audit(final, base, running.nodes)
        step("rehearsal passed")
    finally:
        running.close()


if __name__ == "__main__":
    main()
