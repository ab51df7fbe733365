# SPDX-License-Identifier: GPL-2.0-only
"""cmdscan - the external commands that shell, C, Python and meson files run.

Shell is read by a small lexer (quotes, $(...), `...`, heredocs, comments,
case patterns, [[ ]] and (( ))), and every simple command's first word is
taken, after what runs another command: env, timeout, nsenter, unshare,
taskset, `ip netns exec NS`, `command -v`, bash -c / sh -c / eval / trap
scripts, and the test harness's own sd_run, sd_sh, pc_in, sd_wait_for,
pc_require_cmd and pc_bench_require (every argument a command).  C: the shell
strings given to sh(), system(), popen() and snprintf(cmd, ...).  Python: the
argv lists given to subprocess.  Meson: find_program() names.

scan_file(path) returns (uses, functions): uses is a list of (name, line)
with name a command word as written (a bare name or an absolute path);
functions the shell functions the file defines.  Words that are expansions
($VAR, "$@") are left out: the project's own binaries are called that way.
"""
import ast
import os
import re

NAME_RE = re.compile(r"^(/[A-Za-z0-9_./+-]+|[A-Za-z0-9_][A-Za-z0-9_.+-]*)$")
ASSIGN_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\[[^]]*\])?\+?=")
OPS = ("&&", "||", ";;&", ";;", ";&", "|&", "|", "&", ";", "(", ")")
REDIRS = ("<<<", "<<-", "<<", ">>", "&>>", "&>", "<&", ">&", "<>", ">|", "<", ">")
# Words after which the next word starts a command.
LEAD_KEYWORDS = {"if", "then", "else", "elif", "do", "while", "until", "!", "{", "time"}
END_KEYWORDS = {"fi", "done", "esac", "}"}
# Harness functions: name -> how many arguments to skip before a command.
RUN_WRAPPERS = {"sd_run": 0, "pc_in": 1}
# Harness functions whose argument N is a shell script.
SCRIPT_ARGS = {"sd_sh": 1, "sd_wait_for": 3, "trap": 1}
# Harness functions whose every argument names a command.
COMMAND_LISTS = {"pc_require_cmd": 0, "pc_bench_require": 1}


class Word:
    """A shell word: text (quotes removed, expansions kept as written),
    dynamic (contains an expansion), script (its text as shell source)."""

    def __init__(self, text, dynamic, line):
        self.text, self.dynamic, self.line = text, dynamic, line


class Lexer:
    """Tokens of one shell source: Word, or (op, line) tuples; "\\n" is an op."""

    def __init__(self, src, line=1):
        self.s, self.i, self.line = src, 0, line
        self.heredocs = []   # delimiters waiting for the next newline
        self.inner = []      # (source, line) of $(...), `...`, <(...)

    def peek(self, k=0):
        j = self.i + k
        return self.s[j] if j < len(self.s) else ""

    def tokens(self):
        out = []
        while True:
            t = self.next_token()
            if t is None:
                return out
            out.append(t)
            if isinstance(t, tuple) and t[0] in ("<<", "<<-"):
                w = self.next_token()
                if isinstance(w, Word):
                    self.heredocs.append((w.text, t[0] == "<<-"))
                    out.append(w)

    def next_token(self):
        while True:
            c = self.peek()
            if c == "":
                return None
            if c in " \t":
                self.i += 1
            elif c == "\\" and self.peek(1) == "\n":
                self.i += 2
                self.line += 1
            elif c == "#":
                while self.peek() not in ("", "\n"):
                    self.i += 1
            elif c == "\n":
                self.i += 1
                self.line += 1
                self.skip_heredocs()
                return ("\n", self.line - 1)
            else:
                break
        if c == "(" and self.peek(1) == "(":
            return self.arith()
        m = re.match(r"\d+(?=[<>])", self.s[self.i:self.i + 8])
        if m:   # 2>&1: the fd number belongs to the redirection
            self.i += m.end()
        if c in "<>" and self.peek(1) == "(":
            self.i += 1
            self.inner.append((self.balanced("(", ")"), self.line))
            return Word("$proc", True, self.line)
        for op in REDIRS:
            if self.s.startswith(op, self.i):
                self.i += len(op)
                return (op, self.line)
        for op in OPS:
            if self.s.startswith(op, self.i):
                self.i += len(op)
                return (op, self.line)
        return self.word()

    def skip_heredocs(self):
        for delim, strip in self.heredocs:
            while self.i < len(self.s):
                end = self.s.find("\n", self.i)
                end = len(self.s) if end < 0 else end
                body = self.s[self.i:end]
                self.i = min(end + 1, len(self.s))
                self.line += 1
                if (body.lstrip("\t") if strip else body) == delim:
                    break
        self.heredocs = []

    def arith(self):
        line = self.line
        self.i += 2
        depth = 0
        while self.i < len(self.s):
            if self.s.startswith("))", self.i) and depth == 0:
                self.i += 2
                break
            c = self.s[self.i]
            depth += {"(": 1, ")": -1}.get(c, 0)
            self.line += c == "\n"
            self.i += 1
        return Word("$((", True, line)

    def balanced(self, open_, close):
        """At the opening char: the source up to the matching close (past it)."""
        start, depth = self.i + 1, 0
        self.i += 1
        while self.i < len(self.s):
            c = self.s[self.i]
            if c == "\\":
                self.i += 2
                continue
            if c == "'" and open_ == "(":
                self.i = self.s.find("'", self.i + 1) + 1 or len(self.s)
                continue
            if c == '"' and open_ == "(":
                self.dquote([])
                continue
            if c == "\n":
                self.line += 1
            if c == open_:
                depth += 1
            elif c == close:
                if depth == 0:
                    self.i += 1
                    return self.s[start:self.i - 1]
                depth -= 1
            self.i += 1
        return self.s[start:]

    def dollar(self, text):
        """At a '$': append what stands for it; True when it expands."""
        nxt = self.peek(1)
        if nxt == "(" and self.peek(2) == "(":
            self.i += 1
            self.arith()
            text.append("$((...))")
        elif nxt == "(":
            self.i += 1
            line = self.line
            src = self.balanced("(", ")")
            self.inner.append((src, line))
            text.append("$(" + src + ")")
        elif nxt == "{":
            self.i += 1
            text.append("${" + self.balanced("{", "}") + "}")
        elif nxt and (nxt.isalnum() or nxt in "_@*#?$!-"):
            j = self.i + 1
            if nxt.isalpha() or nxt == "_":
                while j < len(self.s) and (self.s[j].isalnum() or self.s[j] == "_"):
                    j += 1
            else:
                j += 1
            text.append(self.s[self.i:j])
            self.i = j
        elif nxt == "'":   # $'...'
            self.i += 1
            text.append(self.squote())
            return False
        else:
            self.i += 1
            text.append("$")
            return False
        return True

    def squote(self):
        end = self.s.find("'", self.i + 1)
        end = len(self.s) if end < 0 else end
        body = self.s[self.i + 1:end]
        self.line += body.count("\n")
        self.i = end + 1
        return body

    def backtick(self, text):
        end = self.i + 1
        while end < len(self.s) and self.s[end] != "`":
            end += 2 if self.s[end] == "\\" else 1
        src = self.s[self.i + 1:end]
        self.inner.append((src, self.line))
        self.line += src.count("\n")
        self.i = end + 1
        text.append("$(" + src + ")")

    def expansion(self, c, text):
        """At a '$' or '`': append it to text; True when it expands."""
        if c == "$":
            return self.dollar(text)
        self.backtick(text)
        return True

    def dquote(self, text):
        """Past a '"': the string's text into text; True when it expands."""
        dyn = False
        self.i += 1
        while self.i < len(self.s) and self.s[self.i] != '"':
            c = self.s[self.i]
            if c == "\\" and self.peek(1) in '"\\$`\n':
                if self.peek(1) != "\n":
                    text.append(self.peek(1))
                self.i += 2
            elif c in "$`":
                dyn |= self.expansion(c, text)
            else:
                self.line += c == "\n"
                text.append(c)
                self.i += 1
        self.i += 1
        return dyn

    def word(self):
        line, text, dyn = self.line, [], False
        while self.i < len(self.s):
            c = self.s[self.i]
            if c == "(" and text and text[-1].endswith("=") and ASSIGN_RE.match("".join(text)):
                text.append("(" + self.balanced("(", ")") + ")")   # NAME=(array)
                continue
            if c in " \t\n;&|()<>":
                break
            if c == "\\":
                if self.peek(1) == "\n":
                    self.line += 1
                else:
                    text.append(self.peek(1))
                self.i += 2
            elif c == "'":
                text.append(self.squote())
            elif c == '"':
                dyn |= self.dquote(text)
            elif c in "$`":
                dyn |= self.expansion(c, text)
            else:
                text.append(c)
                self.i += 1
        return Word("".join(text), dyn, line)


def simple_commands(tokens):
    """Split tokens into simple commands: lists of Words (assignments and
    redirections removed), plus the functions defined and the assignments
    seen (name -> Word)."""
    cmds, funcs, assigns = [], set(), {}
    cur, i, case_depth, pattern = [], 0, 0, False
    lead = True   # the next word starts a command

    def flush():
        nonlocal cur
        if cur:
            cmds.append(cur)
        cur = []

    while i < len(tokens):
        t = tokens[i]
        i += 1
        if isinstance(t, tuple):
            op = t[0]
            if op in REDIRS:
                i += 1 if i < len(tokens) and isinstance(tokens[i], Word) else 0
                continue
            if pattern:
                if op == ")":
                    pattern, lead = False, True
                continue
            if op == "(" and len(cur) == 1 and i < len(tokens) and \
                    isinstance(tokens[i], tuple) and tokens[i][0] == ")":
                funcs.add(cur[0].text)   # NAME() {
                cur, i = [], i + 1
                continue
            flush()
            lead = True
            if op in (";;", ";&", ";;&") and case_depth:
                pattern = True
            continue
        w = t
        if pattern:
            if w.text == "esac" and not w.dynamic:
                pattern, case_depth = False, case_depth - 1
            continue
        if not cur:
            if not w.dynamic and w.text in LEAD_KEYWORDS | END_KEYWORDS:
                case_depth -= w.text == "esac" and case_depth > 0
                continue
            if not w.dynamic and w.text == "function":
                if i < len(tokens) and isinstance(tokens[i], Word):
                    funcs.add(tokens[i].text)
                    i += 1
                continue
            if ASSIGN_RE.match(w.text):
                assigns[w.text.split("=", 1)[0].rstrip("+")] = w
                continue
            if not w.dynamic and w.text == "[[":
                while i < len(tokens) and not (isinstance(tokens[i], Word) and tokens[i].text == "]]"):
                    i += 1
                i += 1
                continue
            if not w.dynamic and w.text in ("for", "select"):
                while i < len(tokens) and not (isinstance(tokens[i], tuple) and tokens[i][0] in (";", "\n")):
                    i += 1
                continue
            if not w.dynamic and w.text == "case":
                while i < len(tokens) and not (isinstance(tokens[i], Word) and tokens[i].text == "in"):
                    i += 1
                i += 1
                case_depth += 1
                pattern = True
                continue
        cur.append(w)
    flush()
    return cmds, funcs, assigns


def skip_options(argv, with_value=()):
    """argv past leading options ('-x', '--long', '--long=v', and those in
    with_value together with their value); '--' ends them."""
    i = 0
    while i < len(argv):
        a = argv[i].text
        if a == "--":
            return argv[i + 1:]
        if not a.startswith("-") or a == "-":
            break
        i += 2 if a in with_value else 1
    return argv[i:]


class Scanner:
    def __init__(self):
        self.uses, self.funcs = [], set()

    def shell(self, src, line=1, assigns=None):
        lex = Lexer(src, line)
        tokens = lex.tokens()
        cmds, funcs, found = simple_commands(tokens)
        self.funcs |= funcs
        assigns = dict(assigns or {}, **found)
        for argv in cmds:
            self.argv(argv, assigns)
        for inner, ln in lex.inner:
            self.shell(inner, ln, assigns)

    def use(self, w):
        if not w.dynamic and NAME_RE.match(w.text) and not w.text.startswith(("./", "../")):
            if "/" not in w.text or w.text.startswith(("/usr/", "/bin/", "/sbin/")):
                self.uses.append((w.text, w.line))

    def argv(self, argv, assigns):
        while argv:
            w, rest = argv[0], argv[1:]
            name = w.text
            if w.dynamic:
                # $RX cmd, where RX="ip netns exec $NS": the assigned words lead.
                m = re.fullmatch(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?", name)
                if m and m.group(1) in assigns:
                    value = assigns[m.group(1)].text.split("=", 1)[1]
                    lead = Lexer(value, w.line).tokens()
                    if lead and all(isinstance(t, Word) for t in lead) and not lead[0].dynamic:
                        argv = lead + rest
                        continue
                return
            if name in RUN_WRAPPERS:
                argv = rest[RUN_WRAPPERS[name]:]
                continue
            if name in SCRIPT_ARGS:
                k = SCRIPT_ARGS[name] - 1
                if k < len(rest) and not (name == "trap" and rest[k].text == "-"):
                    self.shell(rest[k].text, rest[k].line, assigns)
                return
            if name in COMMAND_LISTS:
                for a in rest[COMMAND_LISTS[name]:]:
                    self.use(a)
                return
            self.use(w)
            argv = self.wrapped(name, rest, assigns)

    def wrapped(self, name, rest, assigns):
        """The command that NAME runs, as an argv (empty: none)."""
        if name == "command":
            if rest and rest[0].text in ("-v", "-V"):
                for a in rest[1:]:
                    self.use(a)
                return []
            return skip_options(rest)
        if name in ("exec", "nohup", "sudo", "xargs"):
            return skip_options(rest, ("-a", "-u", "-n", "-I", "-P", "-d", "-s"))
        if name == "env":
            rest = skip_options(rest, ("-u", "-C", "-S"))
            while rest and ASSIGN_RE.match(rest[0].text):
                rest = rest[1:]
            return rest
        if name == "timeout":
            return skip_options(rest, ("-k", "-s", "--kill-after", "--signal"))[1:]
        if name == "nsenter":
            return skip_options(rest, ("-t", "--target", "-S", "--setuid", "-G", "--setgid"))
        if name == "unshare":
            return skip_options(rest, ("--propagation", "-S", "--setuid", "-G", "--setgid"))
        if name == "taskset":
            if any(a.text.startswith("-") and "p" in a.text for a in rest):
                return []
            return skip_options(rest)[1:]
        if name == "ip":
            texts = [a.text for a in rest]
            for k in range(len(texts) - 1):
                if texts[k] == "netns" and texts[k + 1] == "exec":
                    return rest[k + 3:]
            return []
        if name in ("bash", "sh", "/bin/bash", "/bin/sh", "/usr/bin/bash"):
            for k, a in enumerate(rest):
                if a.text == "-c" and k + 1 < len(rest):
                    self.shell(rest[k + 1].text, rest[k + 1].line, assigns)
                    break
            return []
        if name == "eval":
            self.shell(" ".join(a.text for a in rest), rest[0].line if rest else 1, assigns)
            return []
        if name == "find":
            for k, a in enumerate(rest):
                if a.text in ("-exec", "-execdir", "-ok"):
                    return rest[k + 1:]
        return []


# ---- C, Python, meson -------------------------------------------------------------------

C_CALL_RE = re.compile(r"\b(?:sh|system|popen)\s*\(|\bsnprintf\s*\(\s*cmd\s*,\s*sizeof\s*\(\s*cmd\s*\)\s*,")
C_STR_RE = re.compile(r'\s*"((?:[^"\\\n]|\\.)*)"')
C_ESCAPES = {"n": "\n", "t": "\t", '"': '"', "\\": "\\", "'": "'"}


def c_commands(sc, src):
    """The shell strings of C's sh(), system(), popen() and snprintf(cmd, ...)."""
    for m in C_CALL_RE.finditer(src):
        j, parts = m.end(), []
        while True:
            s = C_STR_RE.match(src, j)
            if not s:
                break
            parts.append(re.sub(r"\\(.)", lambda e: C_ESCAPES.get(e.group(1), e.group(1)), s.group(1)))
            j = s.end()
        if parts:
            sc.shell("".join(parts), src.count("\n", 0, m.start()) + 1)


def py_word(node):
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return Word(node.value, False, node.lineno)
    if isinstance(node, ast.JoinedStr):
        text = "".join(v.value if isinstance(v, ast.Constant) else "$" for v in node.values)
        return Word(text, True, node.lineno)
    return Word("$expr", True, getattr(node, "lineno", 0))


def py_commands(sc, src):
    """The argv lists given to subprocess.*() and os.system() strings."""
    for node in ast.walk(ast.parse(src)):
        if not isinstance(node, ast.Call) or not node.args:
            continue
        f = node.func
        fname = f.attr if isinstance(f, ast.Attribute) else getattr(f, "id", "")
        arg = node.args[0]
        if fname in ("run", "Popen", "call", "check_call", "check_output") and \
                isinstance(arg, (ast.List, ast.Tuple)):
            sc.argv([py_word(e) for e in arg.elts], {})
        elif fname == "system" and isinstance(arg, ast.Constant):
            sc.shell(arg.value, node.lineno)


MESON_FIND_RE = re.compile(r"find_program\(([^)]*)\)")


def meson_commands(sc, src, folder):
    """find_program() names that are not files of the tree."""
    for m in MESON_FIND_RE.finditer(src):
        for name in re.findall(r"'([^']*)'", m.group(1)):
            if "/" in name or os.path.exists(os.path.join(folder, name)):
                continue
            sc.use(Word(name, False, src.count("\n", 0, m.start()) + 1))


def kind(path):
    base = os.path.basename(path)
    if base == "meson.build":
        return "meson"
    if base.endswith(".c"):
        return "c"
    if base.endswith(".py"):
        return "python"
    if base.endswith((".sh", ".sh.in")) or base in ("pktclassd-reload.in",):
        return "shell"
    with open(path, errors="replace") as f:
        first = f.readline()
    if first.startswith("#!"):
        return "python" if "python" in first else "shell" if "sh" in first else None
    return "shell" if "shellcheck shell=bash" in open(path, errors="replace").read(400) else None


def shebang(sc, src):
    """A script run directly needs its interpreter: #!/usr/bin/env python3
    uses env and python3."""
    if not src.startswith("#!"):
        return
    words = src[2:].split("\n", 1)[0].split()
    for w in words[:2] if words and words[0].endswith("/env") else words[:1]:
        sc.use(Word(w, False, 1))


def scan_file(path):
    sc = Scanner()
    with open(path, errors="replace") as f:
        src = f.read()
    shebang(sc, src)
    k = kind(path)
    if k == "shell":
        sc.shell(src)
    elif k == "c":
        c_commands(sc, src)
    elif k == "python":
        py_commands(sc, src)
    elif k == "meson":
        meson_commands(sc, src, os.path.dirname(path))
    return sc.uses, sc.funcs
