// SPDX-License-Identifier: GPL-2.0

//! notif-stress: many threads trapping into a user-notification supervisor
//! at once, with the sandbox killed mid-wait, the listener closed mid-wait,
//! or every request answered; checks that nothing hangs and that the
//! filters are freed afterwards.
//!
//! Each round forks a sandbox that stacks `FILTERS` filters (the last one
//! with a listener trapping `getppid`), passes the listener to the
//! supervisor (this process) and starts `THREADS` threads calling
//! `getppid` in a loop.  The supervisor answers with `MAGIC`, and ends the
//! round one of three ways.  Every process arms an alarm, so a hang fails
//! the run instead of blocking it.  After all rounds the filters must all
//! be freed (`seccomp_stress::leak`): the Rust kernel's count of live
//! filters must be back at its level after a warm-up round, the C kernel's
//! unreclaimable slab memory near it.
//!
//! Usage: `notif-stress [rounds]`; prints `notif-stress: PASS` on success.

use std::io;

use libc::{seccomp_notif_resp, SECCOMP_IOCTL_NOTIF_RECV, SECCOMP_IOCTL_NOTIF_SEND};
use seccomp_samples::empty_notif;
use seccomp_stress::leak::Meter;

const THREADS: usize = 16;
const FILTERS: usize = 64;
const MAGIC: i64 = 4242;
const AUDIT_ARCH_X86_64: u32 = 0xc000_003e;
const TIMEOUT_SECONDS: u32 = 120;

#[derive(Clone, Copy, Debug)]
enum Ending {
    /// Kill the sandbox while threads wait for answers.
    KillMidWait,
    /// Close the listener while threads wait: they get ENOSYS.
    CloseMidWait,
    /// Answer until every thread finished its calls.
    AnswerAll,
}

fn fail(what: &str) -> ! {
    println!("notif-stress: FAIL: {what}: {}", io::Error::last_os_error());
    std::process::exit(1);
}

fn filter(listener: bool) -> Vec<libc::sock_filter> {
    use libc::*;
    let s = |code: u32, k: u32| sock_filter { code: code as u16, jt: 0, jf: 0, k };
    let j = |code: u32, k: u32, jt: u8, jf: u8| sock_filter { code: code as u16, jt, jf, k };
    let trapped = if listener { SECCOMP_RET_USER_NOTIF } else { SECCOMP_RET_ALLOW };
    vec![
        s(BPF_LD | BPF_W | BPF_ABS, 4),
        j(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
        s(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
        s(BPF_LD | BPF_W | BPF_ABS, 0),
        j(BPF_JMP | BPF_JEQ | BPF_K, SYS_getppid as u32, 0, 1),
        s(BPF_RET | BPF_K, trapped),
        s(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    ]
}

fn install(listener: bool) -> libc::c_long {
    let insns = filter(listener);
    let prog = libc::sock_fprog { len: insns.len() as u16, filter: insns.as_ptr() as *mut _ };
    let flags = if listener { libc::SECCOMP_FILTER_FLAG_NEW_LISTENER } else { 0 };
    // SAFETY: `prog` outlives the call.
    unsafe { libc::syscall(libc::SYS_seccomp, libc::SECCOMP_SET_MODE_FILTER, flags, &prog) }
}

fn send_fd(sock: libc::c_int, fd: libc::c_int) {
    if seccomp_samples::send_fd(sock, fd).is_err() {
        fail("sendmsg");
    }
}

fn recv_fd(sock: libc::c_int) -> libc::c_int {
    seccomp_samples::recv_fd(sock).unwrap_or_else(|_| fail("recvmsg"))
}

/// The sandbox: stack the filters, hand over the listener, run the
/// threads.  Exits 0 if every answer was MAGIC or ENOSYS (listener gone).
fn sandbox(sock: libc::c_int, calls: usize) -> ! {
    // SAFETY: Plain prctl/alarm calls.
    unsafe {
        libc::alarm(TIMEOUT_SECONDS);
        if libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 {
            fail("no_new_privs");
        }
    }
    for _ in 1..FILTERS {
        if install(false) != 0 {
            fail("stacking filters");
        }
    }
    let listener = install(true);
    if listener < 0 {
        fail("NEW_LISTENER");
    }
    send_fd(sock, listener as libc::c_int);
    // SAFETY: Closing our copy.
    unsafe { libc::close(listener as libc::c_int) };
    let threads: Vec<_> = (0..THREADS)
        .map(|_| {
            std::thread::spawn(move || {
                for _ in 0..calls {
                    // SAFETY: getppid takes no arguments.
                    let r = unsafe { libc::syscall(libc::SYS_getppid) };
                    if r == -1 && io::Error::last_os_error().raw_os_error() == Some(libc::ENOSYS) {
                        return true;
                    }
                    if r != MAGIC {
                        return false;
                    }
                }
                true
            })
        })
        .collect();
    let ok = threads.into_iter().all(|t| t.join().unwrap_or(false));
    // SAFETY: Leaving the sandbox process.
    unsafe { libc::_exit(if ok { 0 } else { 3 }) }
}

/// One round; returns whether it ended as expected.
fn round(ending: Ending) -> bool {
    let calls = 50;
    let mut socks = [0; 2];
    // SAFETY: socketpair with a valid array.
    if unsafe { libc::socketpair(libc::AF_UNIX, libc::SOCK_STREAM, 0, socks.as_mut_ptr()) } != 0 {
        fail("socketpair");
    }
    // SAFETY: fork in a single-threaded supervisor.
    let pid = unsafe { libc::fork() };
    if pid < 0 {
        fail("fork");
    }
    if pid == 0 {
        sandbox(socks[1], calls);
    }
    let listener = recv_fd(socks[0]);
    let mut answered = 0usize;
    let stop_after = match ending {
        Ending::AnswerAll => usize::MAX,
        _ => THREADS * calls / 4,
    };
    loop {
        let mut pfd = libc::pollfd { fd: listener, events: libc::POLLIN, revents: 0 };
        // SAFETY: One valid pollfd.
        let n = unsafe { libc::poll(&mut pfd, 1, 1000) };
        if n < 0 {
            fail("poll");
        }
        if pfd.revents & libc::POLLHUP != 0 {
            break; // no task uses the filter any more
        }
        if pfd.revents & libc::POLLIN == 0 {
            continue;
        }
        let mut req = empty_notif();
        // SAFETY: `req` is a zeroed struct seccomp_notif.
        if unsafe { libc::ioctl(listener, SECCOMP_IOCTL_NOTIF_RECV, &mut req) } != 0 {
            continue; // ENOENT: the thread went away meanwhile
        }
        let mut resp = seccomp_notif_resp { id: req.id, val: MAGIC, error: 0, flags: 0 };
        // SAFETY: `resp` is a struct seccomp_notif_resp.
        unsafe { libc::ioctl(listener, SECCOMP_IOCTL_NOTIF_SEND, &mut resp) };
        answered += 1;
        if answered == stop_after {
            match ending {
                // SAFETY: Signalling our own child.
                Ending::KillMidWait => unsafe {
                    libc::kill(pid, libc::SIGKILL);
                },
                Ending::CloseMidWait => break,
                Ending::AnswerAll => {}
            }
        }
    }
    // SAFETY: Closing our fds.
    unsafe {
        libc::close(listener);
        libc::close(socks[0]);
        libc::close(socks[1]);
    }
    let mut status = 0;
    // SAFETY: Waiting for our child.
    unsafe { libc::waitpid(pid, &mut status, 0) };
    match ending {
        Ending::KillMidWait => libc::WIFSIGNALED(status) && libc::WTERMSIG(status) == libc::SIGKILL,
        _ => libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
    }
}

fn main() {
    let rounds: usize = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(12);
    // SAFETY: Arms our own alarm.
    unsafe { libc::alarm(TIMEOUT_SECONDS * 4) };
    let endings = [Ending::KillMidWait, Ending::CloseMidWait, Ending::AnswerAll];
    let meter = Meter::detect();
    // Warm-up: fill the slab caches this workload uses.
    for ending in endings {
        if !round(ending) {
            println!("notif-stress: FAIL: warm-up round {ending:?}");
            std::process::exit(1);
        }
    }
    let before = meter.baseline();
    for i in 0..rounds {
        let ending = endings[i % endings.len()];
        if !round(ending) {
            println!("notif-stress: FAIL: round {i} ({ending:?}) ended unexpectedly");
            std::process::exit(1);
        }
    }
    let verdict = meter.check(before, (rounds * FILTERS) as u64);
    println!("notif-stress: {rounds} rounds x {THREADS} threads x {FILTERS} filters; {verdict}");
    if !verdict.ok {
        println!("notif-stress: FAIL: filters leaked");
        std::process::exit(1);
    }
    println!("notif-stress: PASS");
}
