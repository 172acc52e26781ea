# SPDX-License-Identifier: GPL-2.0
#
# breakdown.py: gdb script (`gdb -batch -nx -x breakdown.py`) for `make
# bench`'s instruction breakdown.  Attached to a QEMU guest started with
# its gdb stub and halted (-S), it stops wherever the guest program runs
# seccomp_bench_trace_mark() (measure.rs: the next system call is a probe)
# and, at the next __secure_computing() of that process, single-steps the
# kernel until that call returns, attributing every executed instruction to
# the function (System.map) it belongs to; addresses outside every symbol
# are the BPF JIT's images.  Writes {label: {"total": N, "functions":
# {name: count}}} as JSON when the guest powers off.
#
# Environment: BREAKDOWN_PORT (gdb stub TCP port), BREAKDOWN_SYSTEM_MAP,
# BREAKDOWN_MARK (address of seccomp_bench_trace_mark, hex),
# BREAKDOWN_OUT (JSON file to write); BREAKDOWN_PCS=1 adds each call's
# executed addresses ("pcs"), for reading the path against a disassembly;
# BREAKDOWN_FUNCTION counts another kernel function than
# __secure_computing (__x64_sys_seccomp with the WORKLOAD/attach marks:
# the last filter's attach), BREAKDOWN_ONLY only the labels it names
# (comma-separated).

import bisect
import json
import os
import time

import gdb

JIT = "[BPF JIT image]"
MAX_STEPS = 200000


def load_symbols(path):
    """Text symbols of System.map, sorted: (addresses, names)."""
    symbols = []
    with open(path) as f:
        for line in f:
            fields = line.split()
            if len(fields) == 3 and fields[1] in "tTwW":
                symbols.append((int(fields[0], 16), fields[2]))
    symbols.sort()
    return [a for a, _ in symbols], [n for _, n in symbols]


def main():
    addresses, names = load_symbols(os.environ["BREAKDOWN_SYSTEM_MAP"])
    text_end = addresses[-1]
    entry = addresses[names.index(os.environ.get("BREAKDOWN_FUNCTION", "__secure_computing"))]
    only = set(filter(None, os.environ.get("BREAKDOWN_ONLY", "").split(",")))
    mark = int(os.environ["BREAKDOWN_MARK"], 16)
    keep_pcs = os.environ.get("BREAKDOWN_PCS") == "1"

    def function(pc):
        i = bisect.bisect_right(addresses, pc) - 1
        if i < 0 or pc >= text_end:
            return JIT
        return names[i]

    def register(name):
        return int(gdb.parse_and_eval("$" + name)) & (1 << 64) - 1

    gdb.execute("set pagination off")
    gdb.execute("set confirm off")
    gdb.execute("set architecture i386:x86-64")
    for attempt in range(60):
        try:
            gdb.execute("target remote :" + os.environ["BREAKDOWN_PORT"])
            break
        except gdb.error:
            if attempt == 59:
                raise
            time.sleep(1)
    # Only the stopped vCPU moves while stepping.
    gdb.execute("set scheduler-locking step")
    gdb.execute("break *%#x" % mark)
    gdb.execute("break *%#x" % entry)
    inferior = gdb.selected_inferior()
    results = {}
    label = None
    while True:
        try:
            gdb.execute("continue", to_string=True)
            pc = register("rip")
        except gdb.error:
            break  # the guest powered off
        if pc == mark:
            raw = bytes(inferior.read_memory(register("rdi"), 128))
            label = raw.split(b"\0", 1)[0].decode()
            if only and label not in only:
                label = None
            continue
        if pc != entry or label is None:
            continue
        # The probe's system call: step until __secure_computing returns.
        ret = int.from_bytes(bytes(inferior.read_memory(register("rsp"), 8)), "little")
        counts = {}
        total = 0
        pcs = []
        while pc != ret and total < MAX_STEPS:
            if keep_pcs:
                pcs.append("%#x" % pc)
            name = function(pc)
            counts[name] = counts.get(name, 0) + 1
            total += 1
            gdb.execute("stepi", to_string=True)
            pc = register("rip")
        results[label] = {"total": total, "functions": counts}
        if keep_pcs:
            results[label]["pcs"] = pcs
        label = None
    with open(os.environ["BREAKDOWN_OUT"], "w") as f:
        json.dump(results, f, indent=1, sort_keys=True)


main()
