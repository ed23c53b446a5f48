//! The apply lock: one `billing apply` at a time per environment on this machine.
//!
//! Two applies that plan from the same state send the same idempotency keys and cannot
//! duplicate anything; but one that plans while another is half-way could create what the
//! other is about to. The lock is a file under `.billing/locks/` beside billing.toml, held
//! with the operating system's file lock for the whole apply, so a killed process never
//! leaves it behind. Checkouts on other machines are serialised by the apply lease held in
//! the account (`lease.rs`).

use std::fs::File;
use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

/// A held lock; released when dropped (or when the process ends, however it ends).
pub(crate) struct ApplyLock {
    _file: File,
}

/// A duration written as `90`, `90s`, `5m` or `1h`.
pub(crate) fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let (number, unit) = match text.find(|c: char| !c.is_ascii_digit()) {
        Some(i) => text.split_at(i),
        None => (text, "s"),
    };
    let n: u64 = number
        .parse()
        .map_err(|_| format!("`{text}` is not a duration such as 30s, 5m or 1h"))?;
    let seconds = match unit {
        "s" => n,
        "m" => n.saturating_mul(60),
        "h" => n.saturating_mul(3600),
        _ => return Err(format!("`{text}` is not a duration such as 30s, 5m or 1h")),
    };
    // Longer than anyone waits is forever: saturate instead of overflowing a deadline.
    Ok(Duration::from_secs(seconds.min(MAX_WAIT_SECONDS)))
}

/// The longest wait a duration flag means (a century).
const MAX_WAIT_SECONDS: u64 = 100 * 365 * 86_400;

/// The lock file of `environment` for the catalog at `catalog`.
fn path(catalog: &Path, environment: &str) -> PathBuf {
    let dir = catalog
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name: String = environment
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    dir.join(".billing")
        .join("locks")
        .join(format!("{name}.lock"))
}

/// What the holder of a lock wrote in it: `pid 123, since 2026-01-01T00:00:00Z`, or nothing.
fn holder(file: &mut File) -> String {
    let mut holder = String::new();
    let _ = file.rewind();
    let _ = file.read_to_string(&mut holder);
    holder.trim().to_owned()
}

/// A wait as `--lock-timeout` writes it: `90s`, `5m`, `1h`.
pub(super) fn describe(wait: Duration) -> String {
    let seconds = wait.as_secs();
    if seconds >= 3600 && seconds.is_multiple_of(3600) {
        format!("{}h", seconds / 3600)
    } else if seconds >= 60 && seconds.is_multiple_of(60) {
        format!("{}m", seconds / 60)
    } else {
        format!("{seconds}s")
    }
}

/// Takes the apply lock of `environment`, waiting up to `wait` for another apply to finish.
pub(crate) fn acquire(catalog: &Path, environment: &str, wait: Duration) -> Result<ApplyLock> {
    let path = path(catalog, environment);
    if let Some(dir) = path.parent() {
        crate::files::create_dirs(dir)
            .with_context(|| format!("cannot make the apply lock {}", path.display()))?;
        if let Some(billing) = dir.parent() {
            crate::files::ignore_in_git(billing);
        }
    }
    // Never through a link, a FIFO or a hard link: the file is rewritten in place below.
    let mut file = crate::files::open_in_place(&path)
        .with_context(|| format!("cannot open the apply lock {}", path.display()))?;
    let deadline = Instant::now() + wait;
    let mut told = false;
    loop {
        match file.try_lock() {
            Ok(()) => break,
            Err(std::fs::TryLockError::WouldBlock) if Instant::now() < deadline => {
                if !told {
                    told = true;
                    let holder = holder(&mut file);
                    let by = if holder.is_empty() {
                        String::new()
                    } else {
                        format!(" held by {holder}")
                    };
                    let _ = writeln!(
                        super::style::chatter(),
                        "Waiting up to {} for the apply lock of {}{by}; Ctrl-C to stop (nothing is sent meanwhile).",
                        describe(wait),
                        crate::catalog::called(environment)
                    );
                }
                std::thread::sleep(Duration::from_millis(100));
            }
            Err(std::fs::TryLockError::WouldBlock) => {
                let holder = holder(&mut file);
                let who = if holder.is_empty() {
                    String::new()
                } else {
                    format!(" ({holder})")
                };
                bail!(
                    "another `billing apply` is running for {}{who}: nothing was sent to Stripe; wait for it, or pass --lock-timeout 5m to wait here",
                    crate::catalog::called(environment)
                );
            }
            Err(std::fs::TryLockError::Error(e)) => {
                return Err(e).with_context(|| format!("cannot lock {}", path.display()));
            }
        }
    }
    // Who holds it, for the message another apply prints.
    let _ = file.set_len(0);
    let _ = file.rewind();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let _ = write!(
        file,
        "pid {}, since {}",
        std::process::id(),
        crate::timestamp::format_timestamp(i64::try_from(now).unwrap_or(0))
    );
    let _ = file.flush();
    Ok(ApplyLock { _file: file })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("90"), Ok(Duration::from_secs(90)));
        let forever = parse_duration("18446744073709551615h").unwrap();
        assert_eq!(forever, Duration::from_secs(MAX_WAIT_SECONDS));
        assert!(std::time::Instant::now().checked_add(forever).is_some());
        assert_eq!(parse_duration("30s"), Ok(Duration::from_secs(30)));
        assert_eq!(parse_duration("5m"), Ok(Duration::from_secs(300)));
        assert_eq!(parse_duration("1h"), Ok(Duration::from_secs(3600)));
        assert!(parse_duration("5 minutes").is_err());
        assert!(parse_duration("").is_err());
    }

    #[test]
    fn a_second_holder_is_refused_and_told_who_holds_it() {
        let dir = tempfile::tempdir().unwrap();
        let catalog = dir.path().join("billing.toml");
        let held = acquire(&catalog, "http://127.0.0.1:9", Duration::ZERO).unwrap();
        let refused = acquire(&catalog, "http://127.0.0.1:9", Duration::from_millis(200))
            .err()
            .unwrap()
            .to_string();
        assert!(
            refused.contains("another `billing apply` is running"),
            "{refused}"
        );
        assert!(
            refused.contains(&format!("pid {}", std::process::id())),
            "{refused}"
        );
        // Another environment has its own lock.
        assert!(acquire(&catalog, "live", Duration::ZERO).is_ok());
        drop(held);
        assert!(acquire(&catalog, "http://127.0.0.1:9", Duration::ZERO).is_ok());
    }
}
