//! SIGINT and SIGTERM for the command line: the first asks the running
//! solves to stop (they return their best plan, status `interrupted`) and
//! is passed on to the worker processes started for them; a second one
//! kills those workers, removes their temporary folders and exits at once
//! with [`EXIT_INTERRUPTED`].
//!
//! The signal handler only counts signals; a watcher thread does the rest.

use crate::solve::Progress;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

/// The exit code of a command stopped by SIGINT or SIGTERM (after it wrote
/// what it had): 130, as shells report a command ended by Ctrl-C.
pub const EXIT_INTERRUPTED: u8 = 130;

static SIGNALS: AtomicUsize = AtomicUsize::new(0);
static LAST_SIGNAL: AtomicUsize = AtomicUsize::new(0);

struct State {
    stop: Arc<AtomicBool>,
    children: Mutex<Vec<u32>>,
    temp: Mutex<Vec<PathBuf>>,
    quiet: bool,
}

static STATE: OnceLock<State> = OnceLock::new();

extern "C" fn on_signal(sig: libc::c_int) {
    // Async-signal-safe: atomics only.
    LAST_SIGNAL.store(sig as usize, Ordering::SeqCst);
    SIGNALS.fetch_add(1, Ordering::SeqCst);
}

/// Installs the handlers (once per process) and starts the watcher.
/// `quiet`: print nothing on a signal (worker processes).
pub fn install(quiet: bool) {
    let mut first = false;
    STATE.get_or_init(|| {
        first = true;
        State {
            stop: Arc::new(AtomicBool::new(false)),
            children: Mutex::new(Vec::new()),
            temp: Mutex::new(Vec::new()),
            quiet,
        }
    });
    if !first {
        return;
    }
    // SAFETY: installing a handler that only touches atomics.
    unsafe {
        let mut sa: libc::sigaction = std::mem::zeroed();
        sa.sa_sigaction = on_signal as extern "C" fn(libc::c_int) as usize;
        sa.sa_flags = libc::SA_RESTART;
        libc::sigemptyset(&mut sa.sa_mask);
        libc::sigaction(libc::SIGINT, &sa, std::ptr::null_mut());
        libc::sigaction(libc::SIGTERM, &sa, std::ptr::null_mut());
    }
    std::thread::Builder::new()
        .name("signals".into())
        .spawn(watch)
        .expect("a thread for signals");
}

fn state() -> Option<&'static State> {
    STATE.get()
}

fn watch() {
    let Some(st) = state() else { return };
    let mut seen = 0;
    loop {
        std::thread::sleep(Duration::from_millis(50));
        let n = SIGNALS.load(Ordering::SeqCst);
        if n == seen {
            continue;
        }
        seen = n;
        if n == 1 {
            st.stop.store(true, Ordering::SeqCst);
            if !st.quiet {
                eprintln!(
                    "\ninterrupted: asking the solver to stop and keep its best plan; again to quit at once"
                );
            }
            let sig = LAST_SIGNAL.load(Ordering::SeqCst) as i32;
            for &pid in st.children.lock().unwrap_or_else(|e| e.into_inner()).iter() {
                // SAFETY: signalling a child's process group.
                unsafe {
                    libc::kill(-(pid as i32), sig);
                }
            }
        } else {
            kill_children();
            if !st.quiet {
                eprintln!("interrupted again: quitting");
            }
            std::process::exit(EXIT_INTERRUPTED as i32);
        }
    }
}

/// Kills every registered worker process group and removes every
/// registered temporary folder.
pub fn kill_children() {
    let Some(st) = state() else { return };
    for &pid in st.children.lock().unwrap_or_else(|e| e.into_inner()).iter() {
        // SAFETY: killing a child's process group.
        unsafe {
            libc::kill(-(pid as i32), libc::SIGKILL);
        }
    }
    for d in st.temp.lock().unwrap_or_else(|e| e.into_inner()).iter() {
        let _ = std::fs::remove_dir_all(d);
    }
}

/// Whether a signal asked this process to stop.
pub fn requested() -> bool {
    SIGNALS.load(Ordering::SeqCst) > 0
}

/// The progress handle whose stop flag the first signal sets (a fresh one
/// when [`install`] was not called).
pub fn progress() -> Progress {
    match state() {
        Some(st) => Progress::default().with_stop(st.stop.clone()),
        None => Progress::default(),
    }
}

/// A worker process (leader of its own process group) to pass signals on
/// to, and to kill on a second signal, until [`forget_child`].
pub fn register_child(pid: u32, temp: Option<PathBuf>) {
    if let Some(st) = state() {
        st.children
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(pid);
        if let Some(t) = temp {
            st.temp.lock().unwrap_or_else(|e| e.into_inner()).push(t);
        }
        // A signal that came before the child was known is passed on now.
        if st.stop.load(Ordering::SeqCst) {
            // SAFETY: signalling the child's process group.
            unsafe {
                libc::kill(-(pid as i32), libc::SIGINT);
            }
        }
    }
}

/// Ends what [`register_child`] started.
pub fn forget_child(pid: u32, temp: Option<&std::path::Path>) {
    if let Some(st) = state() {
        st.children
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .retain(|&p| p != pid);
        if let Some(t) = temp {
            st.temp
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .retain(|p| p != t);
        }
    }
}

/// The environment variable through which a parent tells its worker its
/// process id, and the folder the worker must remove if the parent dies.
pub const PARENT_ENV: &str = "EDGESPLIT_PARENT";
/// See [`PARENT_ENV`].
pub const OWNED_DIR_ENV: &str = "EDGESPLIT_OWNED_DIR";

/// In a worker process: when the parent named by [`PARENT_ENV`] is gone
/// (killed with SIGKILL, say, so it could clean up nothing), removes the
/// folder named by [`OWNED_DIR_ENV`] and exits at once. Checked every
/// 100 ms, and once before this returns (the parent may be gone already).
pub fn watch_parent() {
    let Some(parent) = std::env::var(PARENT_ENV)
        .ok()
        .and_then(|p| p.parse::<libc::pid_t>().ok())
    else {
        return;
    };
    let owned = std::env::var_os(OWNED_DIR_ENV).map(PathBuf::from);
    let orphaned = move || {
        // SAFETY: getppid has no preconditions.
        unsafe { libc::getppid() != parent }
    };
    let leave = move |owned: &Option<PathBuf>| {
        if let Some(d) = owned {
            let _ = std::fs::remove_dir_all(d);
        }
        // _exit: no destructors or exit handlers while a native solver
        // may still be running on another thread.
        // SAFETY: ends the process.
        unsafe { libc::_exit(EXIT_INTERRUPTED as i32) }
    };
    if orphaned() {
        leave(&owned);
    }
    std::thread::Builder::new()
        .name("parent".into())
        .spawn(move || loop {
            std::thread::sleep(Duration::from_millis(100));
            if orphaned() {
                leave(&owned);
            }
        })
        .expect("a thread to watch the parent");
}
