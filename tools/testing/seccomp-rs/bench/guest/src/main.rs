// SPDX-License-Identifier: GPL-2.0

//! seccomp-bench: per-syscall seccomp filter overhead, attach cost and
//! kernel memory per filter, for one kernel configuration.  Run in the
//! QEMU guest by `make bench` (tools/testing/seccomp-rs/bench/bench.sh).
//!
//! Usage:
//!   seccomp-bench --config NAME --profile NAME=FILE... [--iterations N] [--bpf-jit 0|1] [--trace]
//!
//! `--config` names the configuration in the output (c_jit, c_interp,
//! rust); `--bpf-jit` writes /proc/sys/net/core/bpf_jit_enable first and
//! reports what it reads back.  Each `--profile` is a realistic profile as
//! raw BPF (libseccomp's `seccomp_export_bpf()`, bench/profiles.c): its
//! name says which probes it gets (`container`, `renderer*`, `service*`).
//! `--trace` measures nothing: it makes each probe of each workload under
//! a debugger's eye (`measure::trace_probes`) for the instruction
//! breakdown, and prints `@bench CONFIG traced` at the end.
//!
//! Output, one result a line, fields separated by spaces:
//!   @bench CONFIG jit requested=V|none effective=V|absent
//!   @bench CONFIG filter SHAPE INSTRUCTIONS
//!   @bench CONFIG syscall WORKLOAD PROBE NS_PER_CALL
//!   @bench CONFIG attach SHAPE NS_PER_ATTACH FILTERS
//!   @bench CONFIG memory SHAPE FILTERS SLAB_B VMALLOC_B PERCPU_B MEMFREE_B
//!   @bench CONFIG op OPERATION NS_PER_OP COUNT
//!   @bench CONFIG done
//! A failed measurement prints "@bench CONFIG error ..." on stderr and the
//! program exits 1 after the others.

mod filters;
mod measure;

use std::process::ExitCode;

use filters::{allow_all, binary_tree_allow_list, from_raw_bpf, linear_allow_list, max_stacked, worst_case};
use libc::sock_filter;
use measure::{attach_cost, op_cost, syscall_costs, trace_probes, Operation, Probe};

const BPF_JIT_ENABLE: &str = "/proc/sys/net/core/bpf_jit_enable";
const DEFAULT_ITERATIONS: u64 = 20_000;
/// At most this many copies of a filter are stacked to measure attach cost
/// and memory (fewer when the kernel's instruction limit allows fewer).
const MAX_FILTERS_ATTACHED: usize = 64;

/// Calls a measuring child makes once its first filter is attached (more
/// filters, pipes, the clock, exit; see measure.rs): every allow-list
/// starts with them.
const HARNESS_SYSCALLS: [libc::c_long; 6] =
    [libc::SYS_seccomp, libc::SYS_read, libc::SYS_write, libc::SYS_clock_gettime, libc::SYS_exit_group, libc::SYS_exit];

/// An allow-list of `len` syscall numbers: the harness's, then the lowest
/// other x86-64 numbers, then getppid last (so a linear filter runs every
/// compare to allow it).  acct, the denied probe, is never in it.
fn allow_list(len: usize) -> Vec<u32> {
    let harness: Vec<u32> = HARNESS_SYSCALLS.iter().map(|&nr| nr as u32).collect();
    let excluded = [libc::SYS_getppid as u32, libc::SYS_acct as u32];
    let fillers = (0..=334u32).chain(424..=462).filter(|nr| !harness.contains(nr) && !excluded.contains(nr));
    let mut list: Vec<u32> = harness.iter().copied().chain(fillers).take(len - 1).collect();
    list.push(libc::SYS_getppid as u32);
    assert_eq!(list.len(), len, "not enough syscall numbers");
    list
}

/// One measurement: the filters a fresh child attaches (in order) and the
/// syscalls it then times.
struct Workload {
    name: String,
    filters: Vec<Vec<sock_filter>>,
    probes: Vec<Probe>,
}

const ALLOWED_AND_DENIED: &[Probe] = &[Probe::ALLOWED, Probe::DENIED];
const CONTAINER_PROBES: &[Probe] = &[Probe::ALLOWED, Probe::DENIED, Probe::ARGCHECK];
/// The renderer-like policy: calls through each kind of argument check,
/// and calls refused after them.
const RENDERER_PROBES: &[Probe] = &[
    Probe::ALLOWED,
    Probe::DENIED,
    Probe::FCNTL,
    Probe::FUTEX,
    Probe::MPROTECT,
    Probe::PRCTL,
    Probe::SOCKET,
    Probe::FCNTL_DENIED,
    Probe::SOCKET_DENIED,
];
/// The service-like policy: RestrictAddressFamilies answers EAFNOSUPPORT.
const SERVICE_PROBES: &[Probe] = &[
    Probe::ALLOWED,
    Probe::DENIED,
    Probe::ARGCHECK,
    Probe::MPROTECT,
    Probe::SOCKET,
    Probe::SOCKET_DENIED.denied(libc::EAFNOSUPPORT),
];

/// The probes of a shape.
fn probes_of(shape: &str) -> &'static [Probe] {
    if shape == "trivial" {
        &[Probe::ALLOWED]
    } else if shape.starts_with("container") {
        CONTAINER_PROBES
    } else if shape.starts_with("renderer") {
        RENDERER_PROBES
    } else if shape.starts_with("service") {
        SERVICE_PROBES
    } else {
        ALLOWED_AND_DENIED
    }
}

/// The single-filter shapes, by name: the synthetic ones, then the profiles.
fn shapes(profiles: &[(String, Vec<sock_filter>)]) -> Vec<(String, Vec<sock_filter>)> {
    let mut shapes = vec![("trivial".to_string(), allow_all())];
    for len in [10, 100, 300] {
        shapes.push((format!("linear-{len}"), linear_allow_list(&allow_list(len))));
    }
    for len in [10, 100, 300] {
        shapes.push((format!("tree-{len}"), binary_tree_allow_list(&allow_list(len))));
    }
    shapes.extend(profiles.iter().cloned());
    shapes.push(("worst-4096".to_string(), worst_case(libc::SYS_acct as u32)));
    shapes
}

fn workloads(shapes: &[(String, Vec<sock_filter>)]) -> Vec<Workload> {
    // The baseline makes every probe any workload makes, unfiltered.
    let mut every_probe: Vec<Probe> = Vec::new();
    for (name, _) in shapes {
        for probe in probes_of(name) {
            if !every_probe.iter().any(|p| p.name == probe.name) {
                every_probe.push(*probe);
            }
        }
    }
    let mut workloads = vec![Workload { name: "baseline".into(), filters: vec![], probes: every_probe }];
    for (name, filter) in shapes {
        workloads.push(Workload {
            name: name.clone(),
            filters: vec![filter.clone()],
            probes: probes_of(name).to_vec(),
        });
    }
    // Chains: copies of the 10-syscall linear allow-list.
    let link = linear_allow_list(&allow_list(10));
    for count in [1, 4, 16] {
        workloads.push(Workload {
            name: format!("chain-{count}"),
            filters: vec![link.clone(); count],
            probes: ALLOWED_AND_DENIED.to_vec(),
        });
    }
    workloads
}

/// Writes `requested` to bpf_jit_enable and reports what it then reads.
fn set_bpf_jit(config: &str, requested: &str) {
    let effective = match std::fs::write(BPF_JIT_ENABLE, requested) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => "absent".to_string(),
        result => {
            let value = std::fs::read_to_string(BPF_JIT_ENABLE).unwrap_or_default().trim().to_string();
            match result {
                Ok(()) => value,
                Err(e) => format!("{value}(write-failed:errno-{})", e.raw_os_error().unwrap_or(0)),
            }
        }
    };
    println!("@bench {config} jit requested={requested} effective={effective}");
}

struct Options {
    config: String,
    /// (name, file) of each `--profile`.
    profiles: Vec<(String, String)>,
    iterations: u64,
    bpf_jit: Option<String>,
    trace: bool,
}

fn parse_options() -> Result<Options, String> {
    let mut args = std::env::args().skip(1);
    let (mut config, mut profiles, mut iterations, mut bpf_jit) = (None, Vec::new(), DEFAULT_ITERATIONS, None);
    let mut trace = false;
    while let Some(arg) = args.next() {
        let mut value = || args.next().ok_or(format!("{arg} needs a value"));
        match arg.as_str() {
            "--config" => config = Some(value()?),
            "--profile" => {
                let spec = value()?;
                let (name, file) = spec.split_once('=').ok_or(format!("--profile {spec}: NAME=FILE expected"))?;
                profiles.push((name.to_string(), file.to_string()));
            }
            "--iterations" => {
                iterations = value()?.parse().map_err(|e| format!("--iterations: {e}"))?;
                if iterations == 0 {
                    return Err("--iterations must be positive".into());
                }
            }
            "--bpf-jit" => bpf_jit = Some(value()?),
            "--trace" => trace = true,
            _ => return Err(format!("unknown argument {arg}")),
        }
    }
    Ok(Options { config: config.ok_or("--config is required")?, profiles, iterations, bpf_jit, trace })
}

fn main() -> ExitCode {
    let options = match parse_options() {
        Ok(options) => options,
        Err(e) => {
            eprintln!("seccomp-bench: {e}");
            return ExitCode::from(2);
        }
    };
    let config = options.config.as_str();
    let mut profiles = Vec::new();
    for (name, file) in &options.profiles {
        match std::fs::read(file).map_err(|e| e.to_string()).and_then(|bytes| from_raw_bpf(&bytes)) {
            Ok(filter) => profiles.push((name.clone(), filter)),
            Err(e) => {
                eprintln!("seccomp-bench: {file}: {e}");
                return ExitCode::from(2);
            }
        }
    }
    match &options.bpf_jit {
        Some(requested) => set_bpf_jit(config, requested),
        None => {
            let value = std::fs::read_to_string(BPF_JIT_ENABLE);
            let value = value.as_deref().map(str::trim).unwrap_or("absent");
            println!("@bench {config} jit requested=none effective={value}");
        }
    }

    let shapes = shapes(&profiles);
    for (name, filter) in &shapes {
        println!("@bench {config} filter {name} {}", filter.len());
    }
    let mut failures = 0;
    let mut report_error = |e: String| {
        eprintln!("@bench {config} error {e}");
        failures += 1;
    };

    if options.trace {
        for workload in workloads(&shapes).iter().filter(|w| !w.filters.is_empty()) {
            if let Err(e) = trace_probes(&workload.name, &workload.filters, &workload.probes) {
                report_error(e);
            }
        }
        if failures > 0 {
            return ExitCode::from(1);
        }
        println!("@bench {config} traced");
        return ExitCode::SUCCESS;
    }

    for workload in workloads(&shapes) {
        let what = format!("{config} {}", workload.name);
        match syscall_costs(&workload.filters, &workload.probes, options.iterations, &what) {
            Ok(costs) => {
                for cost in costs {
                    println!("@bench {config} syscall {} {} {:.2}", workload.name, cost.probe.name, cost.ns_per_call);
                }
            }
            Err(e) => report_error(e),
        }
    }

    for (name, filter) in &shapes {
        let total = max_stacked(filter.len()).min(MAX_FILTERS_ATTACHED);
        let first = (total / 4).max(1);
        match attach_cost(filter, first, total, &format!("{config} attach {name}")) {
            Ok(cost) => {
                println!("@bench {config} attach {name} {:.0} {}", cost.ns_per_attach, cost.attached);
                let bytes = cost.bytes_per_filter;
                println!(
                    "@bench {config} memory {name} {} {} {} {} {}",
                    cost.filters_in_slope, bytes.slab, bytes.vmalloc_used, bytes.percpu, bytes.mem_free
                );
            }
            Err(e) => report_error(e),
        }
    }

    // Operations: fewer of the slower ones.
    let operations = [
        (Operation::Notification { sync: false }, 2000),
        (Operation::Notification { sync: true }, 2000),
        (Operation::ForkExit { filters: 0 }, 200),
        (Operation::ForkExit { filters: 16 }, 200),
        (Operation::Tsync { threads: 8 }, 64),
    ];
    for (operation, count) in operations {
        let name = operation.name();
        match op_cost(operation, count, &format!("{config} op {name}")) {
            Ok(ns) => println!("@bench {config} op {name} {ns:.0} {count}"),
            Err(e) => report_error(e),
        }
    }

    if failures > 0 {
        return ExitCode::from(1);
    }
    println!("@bench {config} done");
    ExitCode::SUCCESS
}
