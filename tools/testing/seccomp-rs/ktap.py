#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Turn kselftest TAP output into per-case results and judge them.

  ktap.py parse LOG OUT.tsv            cases of one run -> "name<TAB>status"
  ktap.py check IMPL RESULTS.tsv [RATCHET]
        c:    every case must pass (a skip is a failure);
        rust: every case listed in RATCHET must pass.
  ktap.py compare C.tsv RUST.tsv RATCHET
        side-by-side table; fails if a case passing on C fails on Rust while
        the ratchet expects it to pass.

Statuses: pass, fail, skip, xfail, missing (the case never reported).
"""
import re
import sys

TAP = re.compile(r'^(not ok|ok) (\d+) (\S+)(?:\s+#\s*(SKIP|XFAIL|TODO)\b.*)?$', re.I)
PLAN = re.compile(r'^1\.\.(\d+)$')
NAME = re.compile(r'^#\s+RUN\s+(\S+) \.\.\.$')


def parse(log_path):
    """Returns (cases: dict name -> status, in order, planned count)."""
    cases, planned, announced = {}, None, []
    with open(log_path, errors='replace') as log:
        for line in log:
            line = line.rstrip('\n')
            m = PLAN.match(line)
            if m and planned is None:
                planned = int(m.group(1))
                continue
            m = NAME.match(line)
            if m:
                announced.append(m.group(1))
                continue
            m = TAP.match(line)
            if not m:
                continue
            verdict, _, name, directive = m.groups()
            if directive and directive.upper() == 'SKIP':
                status = 'skip'
            elif directive and directive.upper() == 'XFAIL':
                status = 'xfail'
            else:
                status = 'pass' if verdict == 'ok' else 'fail'
            cases[name] = status
    # A case that started but never reported (the guest died, timed out or
    # the harness was killed) is a failure, not a silence.
    for name in announced:
        cases.setdefault(name, 'missing')
    return cases, planned


def read_tsv(path):
    out = {}
    with open(path) as f:
        for line in f:
            if line.strip():
                name, status = line.rstrip('\n').split('\t')
                out[name] = status
    return out


def read_ratchet(path):
    with open(path) as f:
        return [l.split('#', 1)[0].strip() for l in f if l.split('#', 1)[0].strip()]


def ok(status):
    # A skipped case proves nothing: only a pass counts.
    return status == 'pass'


def cmd_parse(log_path, out_path):
    cases, planned = parse(log_path)
    with open(out_path, 'w') as out:
        for name, status in cases.items():
            out.write(f'{name}\t{status}\n')
    counts = {s: sum(1 for v in cases.values() if v == s)
              for s in ('pass', 'fail', 'skip', 'xfail', 'missing')}
    print(f'{len(cases)} cases (plan: {planned}): ' +
          ', '.join(f'{n} {s}' for s, n in counts.items() if n))
    if planned is None or not cases:
        print('error: no TAP output found', file=sys.stderr)
        return 1
    if len(cases) < planned:
        print(f'error: {planned - len(cases)} planned cases never ran', file=sys.stderr)
        return 1
    return 0


def cmd_check(impl, results_path, ratchet_path=None):
    results = read_tsv(results_path)
    if impl == 'c':
        must = list(results)
    else:
        must = read_ratchet(ratchet_path)
    bad = [n for n in must if not ok(results.get(n, 'missing'))]
    passed = [n for n in must if ok(results.get(n, 'missing'))]
    for n in bad:
        print(f'FAIL {impl}: {n} ({results.get(n, "missing")})')
    extra = [n for n, s in results.items() if n not in must and s == 'pass']
    if extra:
        print(f'note: {len(extra)} case(s) pass on {impl} but are not in the ratchet '
              f'yet: {" ".join(extra)}')
    expected_fail = [n for n, s in results.items() if n not in must and not ok(s)]
    print(f'seccomp_bpf on {impl}: {len(passed)} required passed, {len(bad)} required failed'
          + (f', {len(expected_fail)} not yet expected (ratchet)' if impl == 'rust' else ''))
    return 1 if bad else 0


def cmd_compare(c_path, rust_path, ratchet_path):
    c, rust = read_tsv(c_path), read_tsv(rust_path)
    ratchet = set(read_ratchet(ratchet_path))
    names = list(c) + [n for n in rust if n not in c]
    width = max(len(n) for n in names)
    print(f'{"case":<{width}}  {"C":<7}  {"Rust":<7}  ratchet')
    regressions = []
    for n in names:
        cs, rs = c.get(n, 'missing'), rust.get(n, 'missing')
        mark = 'must pass' if n in ratchet else 'not yet'
        if ok(cs) and not ok(rs) and n in ratchet:
            regressions.append(n)
            mark += '  <-- REGRESSION'
        print(f'{n:<{width}}  {cs:<7}  {rs:<7}  {mark}')
    both = sum(1 for n in names if ok(c.get(n, '')) and ok(rust.get(n, '')))
    print(f'\nC: {sum(ok(s) for s in c.values())}/{len(c)} pass; '
          f'Rust: {sum(ok(s) for s in rust.values())}/{len(rust)} pass; '
          f'both: {both}; ratchet: {len(ratchet)} must pass on Rust')
    for n in regressions:
        print(f'REGRESSION: {n} passes on C, fails on Rust, and the ratchet requires it')
    return 1 if regressions else 0


def main(argv):
    cmds = {'parse': (cmd_parse, 2), 'check': (cmd_check, (2, 3)), 'compare': (cmd_compare, 3)}
    if len(argv) < 2 or argv[1] not in cmds:
        print(__doc__, file=sys.stderr)
        return 2
    fn, nargs = cmds[argv[1]]
    args = argv[2:]
    if len(args) not in (nargs if isinstance(nargs, tuple) else (nargs,)):
        print(__doc__, file=sys.stderr)
        return 2
    return fn(*args)


if __name__ == '__main__':
    sys.exit(main(sys.argv))
