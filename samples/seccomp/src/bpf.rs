// SPDX-License-Identifier: GPL-2.0

//! A tiny builder for seccomp filters in classic BPF, with symbolic labels.
//!
//! Classic BPF jumps are relative offsets counted in instructions, which
//! makes hand-written filters fragile: inserting one instruction silently
//! retargets every jump across it.  [`ProgramBuilder`] lets a filter name
//! its jump targets instead, the way the kernel's C `bpf-helper.h` does:
//!
//! ```
//! use seccomp_samples::bpf::{ProgramBuilder, AUDIT_ARCH_X86_64};
//!
//! let mut b = ProgramBuilder::new();
//! b.load_arch()
//!     .jne(AUDIT_ARCH_X86_64, "kill")
//!     .load_syscall_nr()
//!     .on_syscall(libc::SYS_getpid, "allow")
//!     .errno(libc::EPERM)
//!     .label("allow")
//!     .allow()
//!     .label("kill")
//!     .kill();
//! let program = b.resolve().expect("labels resolve");
//! assert_eq!(program.len(), 7);
//! ```
//!
//! A label names the instruction that follows it; it takes no space in
//! the program.  Conditional jumps go to their label when the condition
//! holds and fall through to the next instruction otherwise (`jne` and
//! friends the other way round).  [`ProgramBuilder::resolve`] turns the
//! labels into offsets and reports, as a [`BuildError`] rather than a
//! panic, what classic BPF cannot express: undefined or duplicate labels,
//! backward jumps, conditional jumps further than 255 instructions, and
//! programs that are empty, too long or do not end in a return.

use std::fmt;
use std::io;

/// `AUDIT_ARCH_X86_64`, the `arch` of native x86_64 system calls.
pub const AUDIT_ARCH_X86_64: u32 = 0xc000_003e;
/// `AUDIT_ARCH_I386`, the `arch` of 32-bit x86 system calls.
pub const AUDIT_ARCH_I386: u32 = 0x4000_0003;
/// Most instructions a classic BPF program may have.
pub const BPF_MAXINSNS: usize = libc::BPF_MAXINSNS as usize;
/// Longest conditional jump: `jt` and `jf` are 8-bit offsets.
pub const MAX_COND_JUMP: usize = 255;

/// Offsets into `struct seccomp_data { int nr; __u32 arch; __u64
/// instruction_pointer; __u64 args[6]; }`.
const NR_OFFSET: u32 = 0;
const ARCH_OFFSET: u32 = 4;
const ARGS_OFFSET: u32 = 16;

/// A jump comparison against the constant `k`, as classic BPF has them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cmp {
    /// `A == k`
    Eq,
    /// `A > k` (unsigned)
    Gt,
    /// `A >= k` (unsigned)
    Ge,
    /// `A & k != 0`
    Set,
}

impl Cmp {
    fn code(self) -> u16 {
        let op = match self {
            Cmp::Eq => libc::BPF_JEQ,
            Cmp::Gt => libc::BPF_JGT,
            Cmp::Ge => libc::BPF_JGE,
            Cmp::Set => libc::BPF_JSET,
        };
        (libc::BPF_JMP | op | libc::BPF_K) as u16
    }
}

/// Where a jump goes: the next instruction, or a label.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Target {
    Next,
    Label(String),
}

impl Target {
    fn from(label: Option<&str>) -> Self {
        label.map_or(Target::Next, |l| Target::Label(l.to_owned()))
    }
}

/// An instruction whose jumps may still name labels.
#[derive(Clone, Debug)]
enum Insn {
    Plain { code: u16, k: u32 },
    Cond { code: u16, k: u32, jt: Target, jf: Target },
    Goto(String),
}

/// Why a program could not be resolved.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BuildError {
    /// The program has no instructions.
    Empty,
    /// The program has more than [`BPF_MAXINSNS`] instructions.
    TooLong(usize),
    /// The last instruction is not a return, which the kernel requires.
    NoFinalReturn,
    /// `load_arg_*` was asked for an argument other than 0..=5.
    BadArgument(usize),
    /// A jump names a label that is never defined.
    UndefinedLabel(String),
    /// A label is defined more than once.
    DuplicateLabel(String),
    /// The jump at instruction `at` goes to a label at or before it.
    BackwardJump { label: String, at: usize },
    /// The conditional jump at `at` would skip `offset` > 255 instructions.
    JumpTooFar { label: String, at: usize, offset: usize },
    /// The label ends the program: there is no instruction to jump to.
    PastEnd { label: String, at: usize },
}

impl fmt::Display for BuildError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BuildError::Empty => write!(f, "empty program"),
            BuildError::TooLong(n) => write!(f, "{n} instructions, more than the {BPF_MAXINSNS} allowed"),
            BuildError::NoFinalReturn => write!(f, "the last instruction is not a return"),
            BuildError::BadArgument(n) => write!(f, "system call argument {n} does not exist (0..=5)"),
            BuildError::UndefinedLabel(l) => write!(f, "undefined label '{l}'"),
            BuildError::DuplicateLabel(l) => write!(f, "duplicate label '{l}'"),
            BuildError::BackwardJump { label, at } => {
                write!(f, "instruction {at}: backward jump to label '{label}' (BPF only jumps forward)")
            }
            BuildError::JumpTooFar { label, at, offset } => write!(
                f,
                "instruction {at}: conditional jump to label '{label}' skips {offset} instructions, \
                 more than {MAX_COND_JUMP}"
            ),
            BuildError::PastEnd { label, at } => {
                write!(f, "instruction {at}: label '{label}' is past the last instruction")
            }
        }
    }
}

impl std::error::Error for BuildError {}

/// Builds a filter instruction by instruction; see the module docs.
///
/// Every method returns the builder so calls chain; mistakes are kept and
/// reported by [`resolve`](Self::resolve).
#[derive(Clone, Debug, Default)]
pub struct ProgramBuilder {
    insns: Vec<Insn>,
    /// (name, index of the instruction it names), in definition order.
    labels: Vec<(String, usize)>,
    /// The first misuse seen while building.
    error: Option<BuildError>,
}

impl ProgramBuilder {
    /// An empty program.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends a raw instruction without jumps (`BPF_STMT`).
    pub fn stmt(&mut self, code: u32, k: u32) -> &mut Self {
        self.insns.push(Insn::Plain { code: code as u16, k });
        self
    }

    fn load(&mut self, offset: u32) -> &mut Self {
        self.stmt(libc::BPF_LD | libc::BPF_W | libc::BPF_ABS, offset)
    }

    /// `A = seccomp_data.arch`, the audit architecture of the call.
    pub fn load_arch(&mut self) -> &mut Self {
        self.load(ARCH_OFFSET)
    }

    /// `A = seccomp_data.nr`, the system call number.
    pub fn load_syscall_nr(&mut self) -> &mut Self {
        self.load(NR_OFFSET)
    }

    fn load_arg(&mut self, n: usize, high: bool) -> &mut Self {
        if n > 5 {
            self.error.get_or_insert(BuildError::BadArgument(n));
            return self;
        }
        // x86_64 is little-endian: the low half of args[n] comes first.
        self.load(ARGS_OFFSET + 8 * n as u32 + if high { 4 } else { 0 })
    }

    /// `A = low 32 bits of argument n` (0..=5).
    pub fn load_arg_low(&mut self, n: usize) -> &mut Self {
        self.load_arg(n, false)
    }

    /// `A = high 32 bits of argument n` (0..=5).
    pub fn load_arg_high(&mut self, n: usize) -> &mut Self {
        self.load_arg(n, true)
    }

    /// The general conditional jump: if `A cmp k` go to `jt`, else to
    /// `jf`; `None` means the next instruction.
    pub fn jump_if(&mut self, cmp: Cmp, k: u32, jt: Option<&str>, jf: Option<&str>) -> &mut Self {
        self.insns.push(Insn::Cond { code: cmp.code(), k, jt: Target::from(jt), jf: Target::from(jf) });
        self
    }

    /// If `A == k`, go to `label`.
    pub fn jeq(&mut self, k: u32, label: &str) -> &mut Self {
        self.jump_if(Cmp::Eq, k, Some(label), None)
    }

    /// If `A != k`, go to `label`.
    pub fn jne(&mut self, k: u32, label: &str) -> &mut Self {
        self.jump_if(Cmp::Eq, k, None, Some(label))
    }

    /// If `A > k` (unsigned), go to `label`.
    pub fn jgt(&mut self, k: u32, label: &str) -> &mut Self {
        self.jump_if(Cmp::Gt, k, Some(label), None)
    }

    /// If `A >= k` (unsigned), go to `label`.
    pub fn jge(&mut self, k: u32, label: &str) -> &mut Self {
        self.jump_if(Cmp::Ge, k, Some(label), None)
    }

    /// If `A < k` (unsigned), go to `label`.
    pub fn jlt(&mut self, k: u32, label: &str) -> &mut Self {
        self.jump_if(Cmp::Ge, k, None, Some(label))
    }

    /// If `A <= k` (unsigned), go to `label`.
    pub fn jle(&mut self, k: u32, label: &str) -> &mut Self {
        self.jump_if(Cmp::Gt, k, None, Some(label))
    }

    /// If `A & mask != 0`, go to `label`.
    pub fn jset(&mut self, mask: u32, label: &str) -> &mut Self {
        self.jump_if(Cmp::Set, mask, Some(label), None)
    }

    /// After `load_syscall_nr`: if the call is `nr`, go to `label`.
    pub fn on_syscall(&mut self, nr: libc::c_long, label: &str) -> &mut Self {
        self.jeq(nr as u32, label)
    }

    /// Always go to `label` (`BPF_JA`, whose 32-bit offset has no 255 limit).
    pub fn goto(&mut self, label: &str) -> &mut Self {
        self.insns.push(Insn::Goto(label.to_owned()));
        self
    }

    /// Names the next instruction `name`.
    pub fn label(&mut self, name: &str) -> &mut Self {
        self.labels.push((name.to_owned(), self.insns.len()));
        self
    }

    /// Returns the seccomp action `action` (a `SECCOMP_RET_*` value).
    pub fn ret(&mut self, action: u32) -> &mut Self {
        self.stmt(libc::BPF_RET | libc::BPF_K, action)
    }

    /// Lets the system call run.
    pub fn allow(&mut self) -> &mut Self {
        self.ret(libc::SECCOMP_RET_ALLOW)
    }

    /// Fails the system call with `errno` without running it.
    pub fn errno(&mut self, errno: i32) -> &mut Self {
        self.ret(libc::SECCOMP_RET_ERRNO | (errno as u32 & libc::SECCOMP_RET_DATA))
    }

    /// Raises `SIGSYS` instead of the call; `data` reaches the handler in
    /// `si_errno`.
    pub fn trap(&mut self, data: u16) -> &mut Self {
        self.ret(libc::SECCOMP_RET_TRAP | data as u32)
    }

    /// Kills the whole process (`SECCOMP_RET_KILL_PROCESS`).
    pub fn kill(&mut self) -> &mut Self {
        self.ret(libc::SECCOMP_RET_KILL_PROCESS)
    }

    /// Kills only the calling thread (`SECCOMP_RET_KILL_THREAD`).
    pub fn kill_thread(&mut self) -> &mut Self {
        self.ret(libc::SECCOMP_RET_KILL_THREAD)
    }

    /// Turns the labels into jump offsets and checks the result.
    pub fn resolve(&self) -> Result<Program, BuildError> {
        if let Some(e) = &self.error {
            return Err(e.clone());
        }
        let len = self.insns.len();
        if len == 0 {
            return Err(BuildError::Empty);
        }
        if len > BPF_MAXINSNS {
            return Err(BuildError::TooLong(len));
        }
        for (i, (name, _)) in self.labels.iter().enumerate() {
            if self.labels[..i].iter().any(|(other, _)| other == name) {
                return Err(BuildError::DuplicateLabel(name.clone()));
            }
        }
        // Offset from instruction `at` to `target`, counted from the next
        // instruction, as BPF does.
        let offset = |at: usize, target: &Target| -> Result<usize, BuildError> {
            let Target::Label(label) = target else { return Ok(0) };
            let &(_, to) = self
                .labels
                .iter()
                .find(|(name, _)| name == label)
                .ok_or_else(|| BuildError::UndefinedLabel(label.clone()))?;
            if to <= at {
                Err(BuildError::BackwardJump { label: label.clone(), at })
            } else if to >= len {
                Err(BuildError::PastEnd { label: label.clone(), at })
            } else {
                Ok(to - at - 1)
            }
        };
        let short = |at: usize, target: &Target| -> Result<u8, BuildError> {
            let off = offset(at, target)?;
            u8::try_from(off).map_err(|_| {
                // Only a label can be far: falling through is offset 0.
                let label = match target {
                    Target::Label(label) => label.clone(),
                    Target::Next => String::new(),
                };
                BuildError::JumpTooFar { label, at, offset: off }
            })
        };
        let mut out = Vec::with_capacity(len);
        for (at, insn) in self.insns.iter().enumerate() {
            out.push(match insn {
                Insn::Plain { code, k } => libc::sock_filter { code: *code, jt: 0, jf: 0, k: *k },
                Insn::Cond { code, k, jt, jf } => {
                    libc::sock_filter { code: *code, jt: short(at, jt)?, jf: short(at, jf)?, k: *k }
                }
                Insn::Goto(label) => libc::sock_filter {
                    code: (libc::BPF_JMP | libc::BPF_JA) as u16,
                    jt: 0,
                    jf: 0,
                    // Fits: `len` is at most BPF_MAXINSNS.
                    k: offset(at, &Target::Label(label.clone()))? as u32,
                },
            });
        }
        if out[len - 1].code & 0x07 != libc::BPF_RET as u16 {
            return Err(BuildError::NoFinalReturn);
        }
        Ok(Program { insns: out, labels: self.labels.len() })
    }
}

/// A resolved filter, ready to install.
#[derive(Clone)]
pub struct Program {
    insns: Vec<libc::sock_filter>,
    labels: usize,
}

impl Program {
    /// The instructions, jumps resolved.
    pub fn instructions(&self) -> &[libc::sock_filter] {
        &self.insns
    }

    /// Number of instructions.
    pub fn len(&self) -> usize {
        self.insns.len()
    }

    /// Always false: [`ProgramBuilder::resolve`] rejects empty programs.
    pub fn is_empty(&self) -> bool {
        self.insns.is_empty()
    }

    /// Number of labels that were resolved.
    pub fn labels(&self) -> usize {
        self.labels
    }

    /// Installs the filter on the calling thread with
    /// `seccomp(SECCOMP_SET_MODE_FILTER, flags, &prog)`.  Unless the caller
    /// has `CAP_SYS_ADMIN`, call [`set_no_new_privs`] first.
    pub fn install(&self, flags: libc::c_uint) -> io::Result<libc::c_long> {
        let prog = libc::sock_fprog { len: self.insns.len() as u16, filter: self.insns.as_ptr() as *mut _ };
        // SAFETY: `prog` points to `self.insns`, which outlives the call;
        // the kernel copies the program.
        let ret = unsafe { libc::syscall(libc::SYS_seccomp, libc::SECCOMP_SET_MODE_FILTER, flags, &prog) };
        crate::check(ret)
    }
}

/// One instruction per line, `{ code=0x.., jt=.., jf=.., k=0x.. }`.
impl fmt::Display for Program {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, insn) in self.insns.iter().enumerate() {
            writeln!(f, "{i:4}: {{ code=0x{:02x}, jt={}, jf={}, k=0x{:x} }}", insn.code, insn.jt, insn.jf, insn.k)?;
        }
        Ok(())
    }
}

/// `prctl(PR_SET_NO_NEW_PRIVS, 1)`: promise never to gain privileges
/// (through set-user-ID programs, say), which lets an unprivileged task
/// install filters.
pub fn set_no_new_privs() -> io::Result<()> {
    // SAFETY: prctl with integer arguments.
    crate::check(unsafe { libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) } as libc::c_long).map(drop)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(p: &Program) -> Vec<(u16, u8, u8, u32)> {
        p.instructions().iter().map(|i| (i.code, i.jt, i.jf, i.k)).collect()
    }

    const JEQ: u16 = (libc::BPF_JMP | libc::BPF_JEQ | libc::BPF_K) as u16;
    const JGE: u16 = (libc::BPF_JMP | libc::BPF_JGE | libc::BPF_K) as u16;
    const JA: u16 = (libc::BPF_JMP | libc::BPF_JA) as u16;
    const LD: u16 = (libc::BPF_LD | libc::BPF_W | libc::BPF_ABS) as u16;
    const RET: u16 = (libc::BPF_RET | libc::BPF_K) as u16;

    #[test]
    fn forward_jumps_resolve() {
        let mut b = ProgramBuilder::new();
        b.load_syscall_nr() // 0
            .jeq(1, "a") // 1 -> 4
            .jne(2, "b") // 2 -> 5 when !=
            .goto("b") // 3 -> 5
            .label("a")
            .allow() // 4
            .label("b")
            .kill(); // 5
        let p = b.resolve().unwrap();
        assert_eq!(
            raw(&p),
            vec![
                (LD, 0, 0, 0),
                (JEQ, 2, 0, 1),
                (JEQ, 0, 2, 2),
                (JA, 0, 0, 1),
                (RET, 0, 0, libc::SECCOMP_RET_ALLOW),
                (RET, 0, 0, libc::SECCOMP_RET_KILL_PROCESS),
            ]
        );
        assert_eq!((p.len(), p.labels()), (6, 2));
    }

    #[test]
    fn both_branches_and_comparisons() {
        let mut b = ProgramBuilder::new();
        b.load_arg_low(2)
            .jump_if(Cmp::Eq, 7, Some("x"), Some("y"))
            .jlt(10, "y")
            .label("x")
            .errno(libc::EPERM)
            .label("y")
            .trap(0x42);
        assert_eq!(
            raw(&b.resolve().unwrap()),
            vec![
                (LD, 0, 0, 16 + 16),
                (JEQ, 1, 2, 7),
                (JGE, 0, 1, 10),
                (RET, 0, 0, libc::SECCOMP_RET_ERRNO | libc::EPERM as u32),
                (RET, 0, 0, libc::SECCOMP_RET_TRAP | 0x42),
            ]
        );
    }

    #[test]
    fn argument_halves() {
        let mut b = ProgramBuilder::new();
        b.load_arch().load_arg_low(0).load_arg_high(0).load_arg_high(5).allow();
        let ks: Vec<u32> = b.resolve().unwrap().instructions().iter().map(|i| i.k).collect();
        assert_eq!(ks, vec![4, 16, 20, 60, libc::SECCOMP_RET_ALLOW]);
        let mut b = ProgramBuilder::new();
        b.load_arg_low(6).allow();
        assert_eq!(b.resolve().err(), Some(BuildError::BadArgument(6)));
    }

    #[test]
    fn undefined_label() {
        let mut b = ProgramBuilder::new();
        b.load_syscall_nr().jeq(1, "nowhere").allow();
        let e = b.resolve().err().unwrap();
        assert_eq!(e, BuildError::UndefinedLabel("nowhere".into()));
        assert_eq!(e.to_string(), "undefined label 'nowhere'");
    }

    #[test]
    fn duplicate_label() {
        let mut b = ProgramBuilder::new();
        b.load_syscall_nr().jeq(1, "x").label("x").allow().label("x").kill();
        assert_eq!(b.resolve().err(), Some(BuildError::DuplicateLabel("x".into())));
    }

    #[test]
    fn backward_jumps_are_rejected() {
        let mut b = ProgramBuilder::new();
        b.label("top").load_syscall_nr().jeq(1, "top").allow();
        assert_eq!(b.resolve().err(), Some(BuildError::BackwardJump { label: "top".into(), at: 1 }));
        // A jump to itself would loop forever: also backward.
        let mut b = ProgramBuilder::new();
        b.load_syscall_nr().label("self").goto("self").allow();
        let e = b.resolve().err().unwrap();
        assert_eq!(e, BuildError::BackwardJump { label: "self".into(), at: 1 });
        assert!(e.to_string().contains("backward jump to label 'self'"));
    }

    /// A jump over `gap` filler instructions to a label.
    fn jump_over(gap: usize, conditional: bool) -> Result<Program, BuildError> {
        let mut b = ProgramBuilder::new();
        b.load_syscall_nr();
        if conditional {
            b.jeq(1, "far");
        } else {
            b.goto("far");
        }
        for _ in 0..gap {
            b.load_arch();
        }
        b.allow().label("far").kill();
        b.resolve()
    }

    #[test]
    fn conditional_jump_limit() {
        // Skipping `gap` loads and one return: offset gap + 1.
        let p = jump_over(254, true).unwrap();
        assert_eq!(p.instructions()[1].jt, 255);
        let e = jump_over(255, true).err().unwrap();
        assert_eq!(e, BuildError::JumpTooFar { label: "far".into(), at: 1, offset: 256 });
        assert!(e.to_string().contains("skips 256 instructions, more than 255"));
        // BPF_JA has a 32-bit offset.
        assert_eq!(jump_over(1000, false).unwrap().instructions()[1].k, 1001);
    }

    #[test]
    fn label_at_the_end() {
        let mut b = ProgramBuilder::new();
        b.load_syscall_nr().jeq(1, "end").allow().label("end");
        assert_eq!(b.resolve().err(), Some(BuildError::PastEnd { label: "end".into(), at: 1 }));
    }

    #[test]
    fn program_shape() {
        assert_eq!(ProgramBuilder::new().resolve().err(), Some(BuildError::Empty));
        let mut b = ProgramBuilder::new();
        b.load_syscall_nr();
        assert_eq!(b.resolve().err(), Some(BuildError::NoFinalReturn));
        let mut b = ProgramBuilder::new();
        for _ in 0..BPF_MAXINSNS {
            b.allow();
        }
        assert!(b.resolve().is_ok());
        b.allow();
        assert_eq!(b.resolve().err(), Some(BuildError::TooLong(BPF_MAXINSNS + 1)));
    }

    #[test]
    fn unused_labels_are_fine() {
        let mut b = ProgramBuilder::new();
        b.label("start").load_syscall_nr().label("unused").allow();
        assert_eq!(b.resolve().unwrap().labels(), 2);
    }

    /// The kernel accepts what the resolver produces, and runs it: a child
    /// installs a filter failing `getppid` with a chosen errno.
    #[test]
    fn kernel_accepts_and_runs_it() {
        let mut b = ProgramBuilder::new();
        b.load_arch()
            .jne(AUDIT_ARCH_X86_64, "kill")
            .load_syscall_nr()
            .on_syscall(libc::SYS_getppid, "deny")
            .goto("allow")
            .label("deny")
            .errno(123)
            .label("allow")
            .allow()
            .label("kill")
            .kill();
        let p = b.resolve().unwrap();
        // SAFETY: The child only makes raw system calls (no allocation or
        // locks, which other test threads may hold) and leaves with _exit.
        unsafe {
            let pid = libc::fork();
            assert!(pid >= 0);
            if pid == 0 {
                let ok = set_no_new_privs().is_ok()
                    && p.install(0).is_ok()
                    && libc::syscall(libc::SYS_getppid) == -1
                    && *libc::__errno_location() == 123;
                libc::_exit(if ok { 0 } else { 1 });
            }
            let mut status = 0;
            assert_eq!(libc::waitpid(pid, &mut status, 0), pid);
            assert!(libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0, "status {status:#x}");
        }
    }
}
