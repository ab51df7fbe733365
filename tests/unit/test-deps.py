#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""test-deps.py SRCDIR - scripts/deps.sh installs what the tests need.

Every external command that the tests (tests/), scripts/run-tests,
scripts/demo, the scripts they run and the build (meson's find_program) call
(found by tests/lib/cmdscan.py) must be installed, and the package that owns
it (dpkg -S, on the path, its /usr-merge spelling and each link on the way to
the real file) must be one that scripts/deps.sh installs: in PC_DEB_PACKAGES,
or pulled in by one of them (Depends, Pre-Depends), or on every Debian 12
system (Essential, priority required, and what they pull in).  Every package
of PC_DEB_PACKAGES must be installed.  The benchmarks' commands (scripts/bench-*
and the scripts they run) must come from there too, or be named in
PC_BENCH_COMMANDS with a package of PC_BENCH_PACKAGES.  No root needed.
"""
import glob
import os
import shutil
import subprocess
import sys

SRC = os.path.realpath(sys.argv[1] if len(sys.argv) > 1 else ".")
sys.path.insert(0, os.path.join(SRC, "tests", "lib"))
import cmdscan  # noqa: E402

# What the tests and run-tests run, besides the files under tests/.
MAIN_SCRIPTS = ["scripts/run-tests", "scripts/demo", "scripts/deps.sh", "scripts/install-config.sh",
                "scripts/fuzz-config", "scripts/fuzz-packet", "scripts/classbench-trace",
                "scripts/gen-mixed",
                "systemd/pktclassd-reload.in"]
# The benchmarks and what they run.
BENCH_SCRIPTS = ["scripts/bench-classify", "scripts/bench-hops", "scripts/bench-peers",
                 "scripts/bench-reload", "scripts/ab-classify", "scripts/check-classbench-full",
                 "scripts/check-mixed-full",
                 "scripts/classbench2yaml", "scripts/peers/cbpeers", "scripts/peers/cbrules.py",
                 "scripts/peers/reload-bench", "scripts/peers/report", "scripts/bench-sets",
                 "scripts/peers/setgen", "scripts/peers/jitprof"]
# The project's own programs (tests run them from the build or the install).
PROJECT = {"pktclassd", "pktclassctl", "pktclassd-reload"}
# root's PATH on Debian: what a fresh machine runs (a developer's own PATH may
# put other copies first, e.g. a python3 of pyenv).
SEARCH_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

failures = []


def fail(msg):
    failures.append(msg)
    print("FAIL: " + msg, file=sys.stderr)


def deps_lists():
    """PC_DEB_PACKAGES, PC_BENCH_PACKAGES and PC_BENCH_COMMANDS of scripts/deps.sh."""
    out = subprocess.run(["bash", "-c", '. scripts/deps.sh || exit 1\n'
                          'printf "%s\\n" "${PC_DEB_PACKAGES[@]}" --\n'
                          'printf "%s\\n" "${PC_BENCH_PACKAGES[@]}" --\n'
                          'for c in "${!PC_BENCH_COMMANDS[@]}"; do echo "$c=${PC_BENCH_COMMANDS[$c]}"; done'],
                         cwd=SRC, check=True, stdout=subprocess.PIPE, text=True).stdout
    deb, bench, cmds = out.split("--\n")
    return deb.split(), bench.split(), dict(line.split("=", 1) for line in cmds.split())


def shell_names():
    """Builtins and keywords: not commands to install."""
    out = subprocess.run(["bash", "-c", "compgen -b; compgen -k"], check=True,
                         stdout=subprocess.PIPE, text=True).stdout
    return set(out.split())


def scan(paths):
    """name -> [where used], and the shell functions defined."""
    uses, funcs = {}, set()
    for p in paths:
        u, f = cmdscan.scan_file(p)
        funcs |= f
        for name, line in u:
            uses.setdefault(name, []).append("%s:%d" % (os.path.relpath(p, SRC), line))
    return uses, funcs


def files(patterns):
    out = []
    for pat in patterns:
        hits = sorted(glob.glob(os.path.join(SRC, pat), recursive=True))
        if not hits and not any(c in pat for c in "*?["):
            fail("%s: no such file (tests/unit/test-deps.py lists it)" % pat)
        out += [h for h in hits if os.path.isfile(h)]
    return out


# ---- the dpkg database -------------------------------------------------------------------

def parse_deps(field):
    """'a (>= 1) | b, c:any' -> [['a', 'b'], ['c']]"""
    groups = []
    for group in field.split(","):
        alts = [a.split("(")[0].split(":")[0].strip() for a in group.split("|")]
        alts = [a for a in alts if a]
        if alts:
            groups.append(alts)
    return groups


class Dpkg:
    def __init__(self):
        fmt = "${Package}\t${db:Status-Abbrev}\t${Essential}\t${Priority}\t${Provides}\t${Pre-Depends}, ${Depends}\n"
        out = subprocess.run(["dpkg-query", "-W", "-f=" + fmt], check=True,
                             stdout=subprocess.PIPE, text=True).stdout
        self.installed, self.base, self.deps, self.providers = set(), set(), {}, {}
        for line in out.splitlines():
            name, status, essential, prio, provides, deps = line.split("\t")
            if not status.startswith("ii"):
                continue
            self.installed.add(name)
            self.deps.setdefault(name, []).extend(parse_deps(deps))
            for alts in parse_deps(provides):
                self.providers.setdefault(alts[0], set()).add(name)
            if essential == "yes" or prio == "required":
                self.base.add(name)

    def choose(self, alts):
        """The package apt would have picked for a dependency: the first
        alternative that is installed, itself or through a Provides."""
        for a in alts:
            if a in self.installed:
                return a
            if self.providers.get(a):
                return sorted(self.providers[a])[0]
        return None

    def closure(self, roots):
        seen, todo = set(), [r for r in roots if r in self.installed]
        while todo:
            p = todo.pop()
            if p in seen:
                continue
            seen.add(p)
            for alts in self.deps.get(p, []):
                c = self.choose(alts)
                if c and c not in seen:
                    todo.append(c)
        return seen


def spellings(path):
    """path and its other spelling under /usr-merge (/bin/x and /usr/bin/x)."""
    out = [path]
    for top in ("/bin/", "/sbin/", "/lib/"):
        if path.startswith(top):
            out.append("/usr" + path)
        elif path.startswith("/usr" + top):
            out.append(path[4:])
    return out


def candidates(path):
    """path, each link on the way to the real file, and the real file."""
    seen, p = [], path
    for _ in range(16):
        seen += spellings(p)
        if not os.path.islink(p):
            break
        p = os.path.normpath(os.path.join(os.path.dirname(p), os.readlink(p)))
    seen += spellings(os.path.realpath(path))
    return list(dict.fromkeys(seen))


def owners(paths):
    """path -> owning packages, for the paths dpkg knows."""
    r = subprocess.run(["dpkg", "-S"] + paths, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                       text=True)
    out = {}
    for line in r.stdout.splitlines():
        if line.startswith("diversion ") or ": " not in line:
            continue
        pkgs, path = line.split(": ", 1)
        out.setdefault(path, set()).update(p.strip().split(":")[0] for p in pkgs.split(","))
    return out


def locate(name):
    return name if name.startswith("/") and os.path.exists(name) else shutil.which(name, path=SEARCH_PATH)


# The scanner on the constructs the tree uses: what it must find, and what
# it must not take for a command (heredoc bodies, case patterns, array
# elements, loop words, [[ ]] operands, python -c code, comments).
SELFTEST_SHELL = r"""
a=$(grep x f) b=(one two)   # comment: notcmd
case $1 in --x) cut -d: -f1 ;; y|z) : ;; esac
nsenter --net=/run/netns/n -- tc qdisc show
timeout -k 5 10 env -i PATH=/bin sed q 2>&1
cat <<'END'
notcmd here
END
[[ -n $x && -f y ]] && RX="ip netns exec n"
$RX nft list ruleset
for f in alpha beta; do wc -l "$f"; done
sd_sh 'sort -u'
x() { uniq; }
"$CTL" check | head -n 1
python3 -c 'import os
os.system("notcmd")'
"""
SELFTEST_C = r'''static int sh(const char *fmt, ...);
int f(void) { return sh("ip -n %s link show && " "tr a b <<END\nnotcmd\nEND\n", ns); }
'''


def selftest():
    sc = cmdscan.Scanner()
    sc.shell(SELFTEST_SHELL)
    got = {n for n, _ in sc.uses} - sc.funcs
    want = {"grep", "cut", "nsenter", "tc", "timeout", "env", "sed", "cat", "ip", "nft", "wc",
            "sort", "uniq", "head", "python3"}
    if got != want:
        fail("cmdscan on the self-test: missing %s, extra %s" % (sorted(want - got), sorted(got - want)))
    sc = cmdscan.Scanner()
    cmdscan.c_commands(sc, SELFTEST_C)
    if {n for n, _ in sc.uses} != {"ip", "tr"}:
        fail("cmdscan on C: %s" % sorted(n for n, _ in sc.uses))


def main():
    selftest()
    deb, bench_pkgs, bench_cmds = deps_lists()
    db = Dpkg()
    for p in deb:
        if p not in db.installed:
            fail("%s (PC_DEB_PACKAGES) is not installed: run scripts/deps.sh" % p)
    listed = db.closure(deb)
    base = db.closure(db.base)
    skip = shell_names() | PROJECT

    unknown_scripts = [p for p in files(["scripts/*", "scripts/peers/*"])
                       if os.path.relpath(p, SRC) not in MAIN_SCRIPTS + BENCH_SCRIPTS
                       and not p.endswith((".md", ".c"))]
    for p in unknown_scripts:
        fail("%s: neither a test's script nor a benchmark's: add it to MAIN_SCRIPTS or BENCH_SCRIPTS"
             % os.path.relpath(p, SRC))

    main_files = files(["tests/**/*.sh", "tests/**/*.c", "tests/**/*.py", "tests/**/meson.build",
                        "meson.build", "bpf/meson.build", "daemon/**/meson.build",
                        "systemd/meson.build", "conf/meson.build"] + MAIN_SCRIPTS)
    uses, funcs = scan(main_files)
    bench_uses, bench_funcs = scan(files(BENCH_SCRIPTS))
    skip |= funcs | bench_funcs
    if len(uses) < 30:
        fail("only %d commands found in %d files: the scan is broken" % (len(uses), len(main_files)))

    todo = [(n, uses[n], False) for n in sorted(uses) if n not in skip] + \
           [(n, bench_uses[n], True) for n in sorted(set(bench_uses) - set(uses)) if n not in skip]
    paths = {n: locate(n) for n, _, _ in todo}
    found = owners(sorted({c for p in paths.values() if p for c in candidates(p)}))

    def check(name, where, bench):
        path = paths[name]
        if bench and name in bench_cmds:
            pkg = bench_cmds[name]
            if pkg not in bench_pkgs + deb:
                fail("%s: PC_BENCH_COMMANDS says package %s, which is in no list" % (name, pkg))
            print("ok: %-22s benchmark tool, package %s" % (name, pkg))
            return
        if not path:
            fail("%s (used at %s): not installed; a package of %s must provide it"
                 % (name, ", ".join(where[:3]), "PC_BENCH_COMMANDS" if bench else "PC_DEB_PACKAGES"))
            return
        pkgs = set().union(*(found.get(c, set()) for c in candidates(path)))
        why = [("%s, listed" % p) for p in sorted(pkgs & set(deb))] or \
              [("%s, in every Debian" % p) for p in sorted(pkgs & base)] or \
              [("%s, pulled in by PC_DEB_PACKAGES" % p) for p in sorted(pkgs & listed)]
        if why:
            print("ok: %-22s %s (%s)" % (name, path, why[0]))
        elif not pkgs:
            fail("%s (used at %s): %s belongs to no package" % (name, ", ".join(where[:3]), path))
        else:
            fail("%s (used at %s): %s is from %s, which %s does not install"
                 % (name, ", ".join(where[:3]), path, ", ".join(sorted(pkgs)),
                    "PC_BENCH_COMMANDS" if bench else "scripts/deps.sh (PC_DEB_PACKAGES)"))

    for name, where, bench in todo:
        check(name, where, bench)
    n = len(todo)
    for pkg in bench_pkgs:
        if pkg not in bench_cmds.values():
            fail("%s (PC_BENCH_PACKAGES) provides no command of PC_BENCH_COMMANDS" % pkg)
    if failures:
        print("test-deps: %d failures (%d commands)" % (len(failures), n), file=sys.stderr)
        return 1
    print("test-deps: ok (%d commands)" % n)
    return 0


if __name__ == "__main__":
    sys.exit(main())
