//! The process's memory: what it peaked at, and how the system allocator is asked to give
//! back what a large catalog's loading freed.
//!
//! With glibc, every thread that allocates gets its own arena (up to eight per core), and an
//! arena keeps what is freed in it. `billing plan` loads billing.toml on the main thread and
//! reads the account on the runtime's worker threads, so the memory parsing freed stayed with
//! the main thread's arena while the account's objects filled new ones: at 100,000 prices the
//! process held both. One arena lets the account's objects reuse what loading freed, and
//! trimming after loading returns the free pages to the system. Other allocators (musl's,
//! macOS's, Windows') are left as they are.

/// Blocks from this size on are mapped on their own, so that growing one (a list of 100,000
/// prices) moves no bytes and freeing one gives its memory back at once. Setting it also stops
/// glibc from raising it as large blocks are freed, which it otherwise does up to 32 MB.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
const MMAP_THRESHOLD: libc::c_int = 256 * 1024;

/// Called once, first thing: one allocator arena for every thread, large blocks mapped.
pub(crate) fn configure() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only changes a setting of glibc's allocator; it is called before any
    // other thread is started.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 1);
        libc::mallopt(libc::M_MMAP_THRESHOLD, MMAP_THRESHOLD);
    }
}

/// Returns free memory to the system: called when a large structure (the parsed catalog) has
/// just been dropped.
pub(crate) fn release_free() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only releases pages glibc's allocator holds free.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// The process's peak resident memory so far, in MB, where the system tells it (Linux's
/// `VmHWM`, which covers this program only, not the process it was started from).
pub(crate) fn peak_mb() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let kib = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())?;
    Some(kib as f64 / 1024.0)
}
