#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Turn kselftest TAP output into per-case results and judge them.

  ktap.py parse LOG OUT.tsv            cases of one run -> "name<TAB>status"
  ktap.py check LABEL RESULTS.tsv
        every case must pass (a skip is a failure).
  ktap.py compare C.tsv RUST.tsv
        side-by-side table; fails unless every case passes on both.

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


def cmd_check(label, results_path):
    results = read_tsv(results_path)
    bad = [n for n, s in results.items() if not ok(s)]
    for n in bad:
        print(f'FAIL {label}: {n} ({results[n]})')
    print(f'{label}: {len(results) - len(bad)}/{len(results)} passed')
    return 1 if bad or not results else 0


def cmd_compare(c_path, rust_path):
    c, rust = read_tsv(c_path), read_tsv(rust_path)
    names = list(c) + [n for n in rust if n not in c]
    width = max(len(n) for n in names)
    print(f'{"case":<{width}}  {"C":<7}  Rust')
    differ = []
    for n in names:
        cs, rs = c.get(n, 'missing'), rust.get(n, 'missing')
        mark = ''
        if not ok(cs) or not ok(rs):
            differ.append(n)
            mark = '  <-- FAILS'
        print(f'{n:<{width}}  {cs:<7}  {rs}{mark}')
    both = sum(1 for n in names if ok(c.get(n, '')) and ok(rust.get(n, '')))
    print(f'\nC: {sum(ok(s) for s in c.values())}/{len(c)} pass; '
          f'Rust: {sum(ok(s) for s in rust.values())}/{len(rust)} pass; both: {both}/{len(names)}')
    return 1 if differ else 0


def main(argv):
    cmds = {'parse': (cmd_parse, 2), 'check': (cmd_check, 2), 'compare': (cmd_compare, 2)}
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
