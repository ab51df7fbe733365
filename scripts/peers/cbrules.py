# SPDX-License-Identifier: GPL-2.0-only
"""ClassBench rules for the peer benchmark: parsing, the reference classifier
(first match, pktclassd's semantics), overlap layers, and 100k-rule scaling.

Semantics (same as scripts/classbench2yaml and daemon/classifier/compile.c): a /0 prefix,
a 0 : 65535 port range and protocol 0x00/0x00 match anything; a port range
other than 0 : 65535 only matches TCP, UDP, UDP-Lite and SCTP (so a rule with
ports and another protocol never matches).  Internally a packet without ports
has port -1, and an unconstrained port range is [-1, 65535].

Everything is done on Python integers used as bit sets (bit i = rule i), so no
third-party module is needed: for each field the rules are sorted by their low
and high ends, and cumulative bit sets answer "which rules have lo <= v" and
"which have hi >= v" with one bisect each.
"""
import bisect
import re

PORT_PROTOS = (6, 17, 132, 136)
LINE = re.compile(r"@(\S+)/(\d+)\s+(\S+)/(\d+)\s+(\d+)\s*:\s*(\d+)\s+(\d+)\s*:\s*(\d+)"
                  r"\s+0x([0-9a-fA-F]+)/0x([0-9a-fA-F]+)")


def ip2int(s):
    a, b, c, d = (int(x) for x in s.split("."))
    return (a << 24) | (b << 16) | (c << 8) | d


def int2ip(v):
    return ".".join(str((v >> s) & 255) for s in (24, 16, 8, 0))


class Rule:
    """One ClassBench line.  iv: 5 inclusive intervals (src, dst, sport, dport, proto)."""

    def __init__(self, idx, src, slen, dst, dlen, sp, dp, proto):
        self.idx = idx
        self.slen, self.dlen = slen, dlen
        smask = (0xffffffff << (32 - slen)) & 0xffffffff
        dmask = (0xffffffff << (32 - dlen)) & 0xffffffff
        self.src = ip2int(src) & smask
        self.dst = ip2int(dst) & dmask
        self.sp, self.dp = sp, dp
        self.proto = proto                      # None = any
        self.has_ports = sp != (0, 65535) or dp != (0, 65535)
        self.never = self.has_ports and proto is not None and proto not in PORT_PROTOS
        self.iv = [(self.src, self.src | (~smask & 0xffffffff)),
                   (self.dst, self.dst | (~dmask & 0xffffffff)),
                   (-1, 65535) if sp == (0, 65535) else sp,
                   (-1, 65535) if dp == (0, 65535) else dp,
                   (0, 255) if proto is None else (proto, proto)]
        if self.never:
            self.iv[4] = (1, 0)                 # empty: matches nothing

    def src_str(self):
        return f"{int2ip(self.src)}/{self.slen}"

    def dst_str(self):
        return f"{int2ip(self.dst)}/{self.dlen}"

    def protos(self):
        """Protocols to spell out for a peer: None = any, else a list."""
        if self.proto is not None:
            return [self.proto]
        return list(PORT_PROTOS) if self.has_ports else None


def parse(path, limit=0):
    rules = []
    with open(path) as f:
        for lineno, line in enumerate(f, 1):
            if not line.strip():
                continue
            m = LINE.match(line)
            if not m:
                raise SystemExit(f"{path}:{lineno}: not a ClassBench rule")
            pm = int(m.group(10), 16)
            rules.append(Rule(len(rules), m.group(1), int(m.group(2)), m.group(3),
                              int(m.group(4)), (int(m.group(5)), int(m.group(6))),
                              (int(m.group(7)), int(m.group(8))),
                              int(m.group(9), 16) if pm else None))
            if limit and len(rules) >= limit:
                break
    return rules


def scale(rules, copies):
    """copies x the set: copy k flips bits of the second octet of src
    (of dst where src is /0 or shorter than /16), rule order kept per copy."""
    out = []
    for k in range(copies):
        for r in rules:
            src, slen, dst, dlen = r.src, r.slen, r.dst, r.dlen
            if slen >= 16:
                src ^= k << 16
            elif dlen >= 16:
                dst ^= k << 16
            out.append(Rule(len(out), int2ip(src), slen, int2ip(dst), dlen, r.sp, r.dp,
                            r.proto))
    return out


class _Dim:
    """Cumulative bit sets over one field: rules with lo <= v, rules with hi >= v."""

    def __init__(self, ivs):
        by_lo = sorted(range(len(ivs)), key=lambda i: ivs[i][0])
        by_hi = sorted(range(len(ivs)), key=lambda i: -ivs[i][1])
        self.los = [ivs[i][0] for i in by_lo]
        self.his = [-ivs[i][1] for i in by_hi]
        self.le, acc = [0], 0
        for i in by_lo:
            acc |= 1 << i
            self.le.append(acc)
        self.ge, acc = [0], 0
        for i in by_hi:
            acc |= 1 << i
            self.ge.append(acc)

    def lo_le(self, v):
        return self.le[bisect.bisect_right(self.los, v)]

    def hi_ge(self, v):
        return self.ge[bisect.bisect_right(self.his, -v)]


class Index:
    def __init__(self, rules):
        self.rules = rules
        self.dims = [_Dim([r.iv[d] for r in rules]) for d in range(5)]

    def matching(self, key):
        """Bit set of the rules that match key = (src, dst, sport, dport, proto)."""
        acc = -1
        for d, v in zip(self.dims, key):
            acc &= d.lo_le(v) & d.hi_ge(v)
            if not acc:
                return 0
        return acc

    def classify(self, key):
        """Index of the first matching rule, or -1."""
        m = self.matching(key)
        return (m & -m).bit_length() - 1 if m else -1

    def overlapping(self, r):
        """Bit set of the rules whose box intersects rule r's box."""
        acc = -1
        for d, (lo, hi) in zip(self.dims, r.iv):
            acc &= d.lo_le(hi) & d.hi_ge(lo)
        return acc


def layers(rules):
    """Assign each rule a layer so that rules in one layer never overlap and
    every earlier overlapping rule sits in an earlier layer: evaluating the
    layers in order and taking the (unique) match inside the first layer that
    has one gives the first matching rule.  Returns the list of layers."""
    ix = Index(rules)
    bits = []                                   # bit set of rules per layer
    out = []
    for r in rules:
        if r.never:
            continue
        earlier = ix.overlapping(r) & ((1 << r.idx) - 1)
        lay = 0
        for lv in range(len(bits) - 1, -1, -1):
            if earlier & bits[lv]:
                lay = lv + 1
                break
        if lay == len(bits):
            bits.append(0)
            out.append([])
        bits[lay] |= 1 << r.idx
        out[lay].append(r)
    return out
