//! Keeping the state: in memory, or in a state file shared safely between processes.
//!
//! A state file `<file>` is a **snapshot** of the whole state (JSON) and a **journal** beside it,
//! `<file>.journal`: one line per committed write, holding the parts of the state the write
//! changed (see `changes.rs`), after a first line naming the snapshot it continues. A write
//! appends one line, whatever the size of the state; the journal is **compacted** (folded into
//! a new snapshot, and started afresh) once it outgrows the snapshot, so that a write costs a
//! bounded amount on average, and again when the store closes. The snapshot and the journal
//! are each read with a size cap ([`SandboxConfig::max_state_bytes`](super::SandboxConfig)).
//!
//! Every request runs as a transaction. It first waits its turn among this process's requests,
//! then, with a file, takes an exclusive lock on the sibling `<file>.lock`; both waits share one
//! deadline ([`LOCK_WAIT`]), past which the request is refused (Stripe's 429 `lock_timeout`)
//! rather than queued forever. Under the lock it catches up with what other processes wrote:
//! it reloads everything if the snapshot was replaced (compacted, reset, or edited), else it
//! replays the journal lines it has not seen yet. It then applies the request and, if that
//! changed anything, appends its line to the journal (flushed to disk before the answer), and
//! unlocks.
//!
//! Crash safety: a snapshot is written whole to a temporary file and renamed over the old one
//! (see `safe_fs`: never through a link, never over a FIFO or a device),
//! and the journal only grows by whole lines. A line cut short by a crash (no newline, or not
//! JSON) ends the journal: it is ignored, and cut off before the next write. A journal whose
//! first line names another snapshot (a crash between writing a new snapshot and starting its
//! journal) is ignored: the snapshot already holds it. Removing the state file starts a fresh
//! account.

use std::fs::{self, File, TryLockError};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant, SystemTime};

use serde::{Deserialize, Serialize};

use super::SandboxError;
use super::changes::{self, Commit};
use super::state::{FORMAT, State};
use super::tx::Tx;
use safe_fs::{self as files, Access};

/// The largest state file (snapshot or journal) read by default, in bytes.
pub const DEFAULT_MAX_STATE_BYTES: u64 = 256 << 20;

/// How long a request waits for the state (its turn in this process, then the file lock)
/// before it is answered 429 `lock_timeout`.
pub(crate) const LOCK_WAIT: Duration = Duration::from_secs(2);

/// How long opening a state file waits for its lock.
const OPEN_LOCK_WAIT: Duration = Duration::from_secs(10);

/// How often a locked state file is tried again.
const LOCK_RETRY: Duration = Duration::from_millis(5);

/// The journal is compacted once it is larger than the snapshot and than this.
const COMPACT_AFTER: u64 = 1 << 20;

/// The journal format this build reads and writes.
const JOURNAL_FORMAT: u32 = 1;

/// Why a transaction did not run to completion.
#[derive(Debug)]
pub(crate) enum TxError {
    /// The state stayed locked (by other requests, or another process holding the file lock)
    /// past [`LOCK_WAIT`]. Nothing ran.
    Busy,
    /// The transaction panicked; everything it changed was undone.
    Panicked,
    /// The state file could not be used.
    Failed(SandboxError),
}

/// Lets one request of this process at a time at the state, with a deadline: a stuck request
/// makes the others wait at most until theirs, never forever.
#[derive(Default)]
struct Turn {
    taken: Mutex<bool>,
    released: Condvar,
}

/// Holds the turn; gives it to the next waiter when dropped.
struct TurnGuard<'a>(&'a Turn);

impl Turn {
    fn take(&self, deadline: Instant) -> Option<TurnGuard<'_>> {
        let taken = self.taken.lock().unwrap_or_else(PoisonError::into_inner);
        let wait = deadline.saturating_duration_since(Instant::now());
        let (mut taken, _) = self
            .released
            .wait_timeout_while(taken, wait, |taken| *taken)
            .unwrap_or_else(PoisonError::into_inner);
        if *taken {
            return None;
        }
        *taken = true;
        Some(TurnGuard(self))
    }
}

impl Drop for TurnGuard<'_> {
    fn drop(&mut self) {
        *self.0.taken.lock().unwrap_or_else(PoisonError::into_inner) = false;
        self.0.released.notify_one();
    }
}

/// The first line of a journal: the snapshot it continues.
#[derive(Debug, Serialize, Deserialize, PartialEq, Eq)]
struct JournalHeader {
    journal: u32,
    snapshot: u64,
}

/// How a snapshot file looked when this process last read or wrote it: another length or
/// modification time means another process replaced it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Stamp {
    len: u64,
    modified: Option<SystemTime>,
}

impl Stamp {
    fn of(metadata: &fs::Metadata) -> Stamp {
        Stamp {
            len: metadata.len(),
            modified: metadata.modified().ok(),
        }
    }
}

/// What this process has of the files: the snapshot it loaded, and how much of its journal
/// it has replayed.
#[derive(Debug, Clone, Copy)]
struct Seen {
    snapshot: Stamp,
    /// The length of the journal's header line (0 with `journal`).
    header: u64,
    /// The bytes of the journal replayed: whole lines, the header included. 0: the journal
    /// is missing or continues another snapshot, and is started afresh at the next write.
    journal: u64,
}

struct Backing {
    path: PathBuf,
    journal_path: PathBuf,
    lock_path: PathBuf,
    lock: File,
    /// The largest snapshot or journal read.
    max_bytes: u64,
    /// `None`: reload everything next time.
    seen: Option<Seen>,
}

struct Inner {
    state: State,
    file: Option<Backing>,
}

/// The state, behind this process's turn (and a file lock when persisted).
pub(crate) struct Store {
    turn: Turn,
    /// Only locked while holding the turn, so never contended.
    inner: Mutex<Inner>,
}

/// Unlocks the lock file when dropped.
struct FileLock<'a>(&'a File);

impl Drop for FileLock<'_> {
    fn drop(&mut self) {
        let _ = self.0.unlock();
    }
}

/// Why the lock file could not be locked.
enum LockError {
    /// Still locked by another process at the deadline.
    TimedOut,
    Failed(SandboxError),
}

/// Locks `file`, trying again every few milliseconds until `deadline` (`flock` has no timed
/// wait).
fn lock_until<'a>(
    file: &'a File,
    lock_path: &Path,
    deadline: Instant,
) -> Result<FileLock<'a>, LockError> {
    loop {
        match file.try_lock() {
            Ok(()) => return Ok(FileLock(file)),
            Err(TryLockError::WouldBlock) => {
                let left = deadline.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    return Err(LockError::TimedOut);
                }
                std::thread::sleep(left.min(LOCK_RETRY));
            }
            Err(TryLockError::Error(source)) => {
                return Err(LockError::Failed(SandboxError::Lock {
                    path: lock_path.to_path_buf(),
                    source,
                }));
            }
        }
    }
}

/// Reads `reader` whole, but at most `max` bytes: a larger one (a file, a pipe or a device) is
/// [`SandboxError::StateTooLarge`] naming `path`. Reads `max + 1` bytes at most.
fn read_capped(reader: impl Read, path: &Path, max: u64) -> Result<Vec<u8>, SandboxError> {
    let mut bytes = Vec::new();
    reader
        .take(max.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(io_error(path))?;
    if bytes.len() as u64 > max {
        return Err(SandboxError::StateTooLarge {
            path: path.to_path_buf(),
            limit: max,
        });
    }
    Ok(bytes)
}

fn parse(path: &Path, bytes: &[u8]) -> Result<State, SandboxError> {
    let mut state: State =
        serde_json::from_slice(bytes).map_err(|e| SandboxError::StateCorrupt {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
    if state.format != FORMAT {
        return Err(SandboxError::StateCorrupt {
            path: path.to_path_buf(),
            message: format!(
                "unsupported state format {} (this build reads format {FORMAT})",
                state.format
            ),
        });
    }
    // A file written before portal configurations existed gets its default one, the same in
    // every process (derived from the account), and written with the next snapshot.
    state.ensure_default_portal();
    Ok(state)
}

fn io_error(path: &Path) -> impl FnOnce(io::Error) -> SandboxError + '_ {
    move |source| SandboxError::StateIo {
        path: path.to_path_buf(),
        source,
    }
}

/// `path` with `suffix` added to its file name (`state.json` → `state.json.lock`).
fn beside(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path
        .file_name()
        .map(|n| n.to_os_string())
        .unwrap_or_default();
    name.push(suffix);
    path.with_file_name(name)
}

/// Writes `bytes` to `path` atomically ([`files::replace`]): a temporary file in the same
/// directory, flushed, then renamed over it. Returns the new file's stamp.
fn replace(path: &Path, bytes: &[u8]) -> Result<Stamp, SandboxError> {
    let file = files::replace(path, bytes, Access::Private).map_err(io_error(path))?;
    Ok(Stamp::of(&file.metadata().map_err(io_error(path))?))
}

/// Whether `file` (a journal) still starts with the header this process read from it.
fn same_header(file: &mut File, seen: Seen, state: &State) -> bool {
    let mut first = vec![0; usize::try_from(seen.header).unwrap_or(0)];
    let read = file.seek(SeekFrom::Start(0)).is_ok() && file.read_exact(&mut first).is_ok();
    read && serde_json::from_slice::<JournalHeader>(&first).is_ok_and(|header| {
        header
            == JournalHeader {
                journal: JOURNAL_FORMAT,
                snapshot: state.snapshot,
            }
    })
}

/// The complete lines of a journal's bytes after its header, and where they end: a last line
/// without its newline, or that is not a [`Commit`], is a write cut short and ends the journal.
fn journal_lines(bytes: &[u8]) -> (Vec<Commit>, usize) {
    let mut commits = Vec::new();
    let mut end = 0;
    for line in bytes.split_inclusive(|b| *b == b'\n') {
        if !line.ends_with(b"\n") {
            break;
        }
        match serde_json::from_slice::<Commit>(line) {
            Ok(commit) => commits.push(commit),
            Err(_) => break,
        }
        end += line.len();
    }
    (commits, end)
}

impl Backing {
    /// Catches up with the files (see the module docs): reloads the snapshot if it changed,
    /// else replays the journal lines not seen yet.
    fn refresh(&mut self, state: &mut State) -> Result<(), SandboxError> {
        let stamp = match fs::metadata(&self.path) {
            Ok(metadata) => Stamp::of(&metadata),
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                // The file was removed (a reset): start a fresh account and persist it at once,
                // so that its id is stable from now on.
                *state = State::fresh();
                return self.compact(state);
            }
            Err(e) => return Err(io_error(&self.path)(e)),
        };
        match self.seen {
            Some(seen) if seen.snapshot == stamp => self.replay(state, seen),
            _ => self.reload(state),
        }
    }

    /// Loads the snapshot, then its journal.
    fn reload(&mut self, state: &mut State) -> Result<(), SandboxError> {
        self.seen = None;
        let file = File::open(&self.path).map_err(io_error(&self.path))?;
        let stamp = Stamp::of(&file.metadata().map_err(io_error(&self.path))?);
        let bytes = read_capped(file, &self.path, self.max_bytes)?;
        *state = parse(&self.path, &bytes)?;
        let seen = Seen {
            snapshot: stamp,
            header: 0,
            journal: 0,
        };
        self.replay(state, seen)
    }

    /// Replays the journal from where `seen` ends (its header first when nothing of it was
    /// read yet).
    fn replay(&mut self, state: &mut State, mut seen: Seen) -> Result<(), SandboxError> {
        let path = &self.journal_path;
        let mut file = match File::open(path) {
            Ok(file) => file,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                (seen.header, seen.journal) = (0, 0);
                self.seen = Some(seen);
                return Ok(());
            }
            Err(e) => return Err(io_error(path)(e)),
        };
        let len = file.metadata().map_err(io_error(path))?.len();
        if seen.journal > 0 && (len < seen.journal || !same_header(&mut file, seen, state)) {
            // Not the journal this process was reading: the snapshot was replaced too.
            return self.reload(state);
        }
        file.seek(SeekFrom::Start(seen.journal))
            .map_err(io_error(path))?;
        let budget = self.max_bytes.saturating_sub(seen.journal);
        let bytes = read_capped(file, path, budget).map_err(|_| SandboxError::StateTooLarge {
            path: path.clone(),
            limit: self.max_bytes,
        })?;
        let mut body = &bytes[..];
        if seen.journal == 0 {
            let header_end = body.iter().position(|b| *b == b'\n').map(|i| i + 1);
            let header = header_end
                .and_then(|end| serde_json::from_slice::<JournalHeader>(&body[..end]).ok());
            let expected = JournalHeader {
                journal: JOURNAL_FORMAT,
                snapshot: state.snapshot,
            };
            match (header, header_end) {
                (Some(header), Some(end)) if header == expected && expected.snapshot != 0 => {
                    body = &body[end..];
                    (seen.header, seen.journal) = (end as u64, end as u64);
                }
                // Another snapshot's journal (already folded into this one), or one cut short
                // before its header: ignored, and started afresh at the next write.
                _ => {
                    self.seen = Some(seen);
                    return Ok(());
                }
            }
        }
        let (commits, end) = journal_lines(body);
        for commit in commits {
            changes::apply(state, commit).map_err(|e| SandboxError::StateCorrupt {
                path: path.clone(),
                message: e.to_string(),
            })?;
        }
        seen.journal += end as u64;
        self.seen = Some(seen);
        Ok(())
    }

    /// Appends one committed transaction to the journal (starting it afresh if needed), and
    /// compacts it once it outgrows the snapshot.
    fn append(&mut self, state: &mut State, commit: &Commit) -> Result<(), SandboxError> {
        let Some(mut seen) = self.seen else {
            return self.compact(state);
        };
        if state.snapshot == 0 {
            // A snapshot that no journal continues (written by `seed`, or by an older build):
            // it gets an id first.
            return self.compact(state);
        }
        let path = &self.journal_path;
        let mut line =
            serde_json::to_vec(commit).map_err(|e| io_error(path)(io::Error::other(e)))?;
        line.push(b'\n');
        if seen.journal == 0 {
            let mut bytes = serde_json::to_vec(&JournalHeader {
                journal: JOURNAL_FORMAT,
                snapshot: state.snapshot,
            })
            .map_err(|e| io_error(path)(io::Error::other(e)))?;
            bytes.push(b'\n');
            (seen.header, seen.journal) = (bytes.len() as u64, bytes.len() as u64);
            bytes.extend_from_slice(&line);
            replace(path, &bytes)?;
        } else {
            let mut file = files::open_in_place(path, None).map_err(io_error(path))?;
            // Cut off what a crash left of a write, past the last whole line.
            file.set_len(seen.journal).map_err(io_error(path))?;
            file.seek(SeekFrom::Start(seen.journal))
                .map_err(io_error(path))?;
            file.write_all(&line).map_err(io_error(path))?;
            file.sync_data().map_err(io_error(path))?;
        }
        seen.journal += line.len() as u64;
        self.seen = Some(seen);
        if seen.journal > COMPACT_AFTER.max(seen.snapshot.len) {
            self.compact(state)?;
        }
        Ok(())
    }

    /// Writes `state` as a new snapshot and starts its journal afresh (empty but for its
    /// header).
    fn compact(&mut self, state: &mut State) -> Result<(), SandboxError> {
        self.seen = None;
        state.snapshot = fastrand::u64(1..);
        let mut bytes = serde_json::to_vec_pretty(state)
            .map_err(|e| io_error(&self.path)(io::Error::other(e)))?;
        bytes.push(b'\n');
        let snapshot = replace(&self.path, &bytes)?;
        let mut header = serde_json::to_vec(&JournalHeader {
            journal: JOURNAL_FORMAT,
            snapshot: state.snapshot,
        })
        .map_err(|e| io_error(&self.journal_path)(io::Error::other(e)))?;
        header.push(b'\n');
        replace(&self.journal_path, &header)?;
        self.seen = Some(Seen {
            snapshot,
            header: header.len() as u64,
            journal: header.len() as u64,
        });
        Ok(())
    }

    /// Whether the journal, as last read, holds writes that the snapshot does not.
    fn has_writes(&self) -> bool {
        self.seen.is_some_and(|seen| seen.journal > seen.header)
    }

    /// Another handle on the lock file (the lock belongs to the open file, shared by both).
    fn clone_lock(&self) -> Result<File, SandboxError> {
        self.lock.try_clone().map_err(|source| SandboxError::Lock {
            path: self.lock_path.clone(),
            source,
        })
    }
}

impl Store {
    /// An in-memory store, or the state in `path` (created, with its parent directories, if
    /// missing), read with files of at most `max_bytes`. A file that cannot be parsed, or is
    /// too large, is an error naming it.
    pub(crate) fn open(path: Option<&Path>, max_bytes: u64) -> Result<Store, SandboxError> {
        let Some(path) = path else {
            return Ok(Store::in_memory(State::fresh()));
        };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            fs::create_dir_all(dir).map_err(io_error(path))?;
        }
        // A state file or journal that is a link, a FIFO or a device is refused before it is
        // read (a FIFO would block) or written.
        let journal_path = beside(path, ".journal");
        for file in [path, &journal_path] {
            files::check_target(file).map_err(io_error(file))?;
        }
        let lock_path = beside(path, ".lock");
        let lock_file =
            files::open_in_place(&lock_path, Some(Access::Private)).map_err(|source| {
                SandboxError::Lock {
                    path: lock_path.clone(),
                    source,
                }
            })?;
        let mut backing = Backing {
            path: path.to_path_buf(),
            journal_path,
            lock_path,
            lock: lock_file,
            max_bytes,
            seen: None,
        };
        let mut state = State::fresh();
        {
            let lock_file = backing.clone_lock()?;
            let deadline = Instant::now() + OPEN_LOCK_WAIT;
            let _guard =
                lock_until(&lock_file, &backing.lock_path, deadline).map_err(|e| match e {
                    LockError::Failed(e) => e,
                    LockError::TimedOut => SandboxError::Lock {
                        path: backing.lock_path.clone(),
                        source: io::Error::new(
                            io::ErrorKind::TimedOut,
                            format!(
                                "another process held the lock for more than {} seconds",
                                OPEN_LOCK_WAIT.as_secs()
                            ),
                        ),
                    },
                })?;
            backing.refresh(&mut state)?;
        }
        Ok(Store {
            turn: Turn::default(),
            inner: Mutex::new(Inner {
                state,
                file: Some(backing),
            }),
        })
    }

    fn in_memory(state: State) -> Store {
        Store {
            turn: Turn::default(),
            inner: Mutex::new(Inner { state, file: None }),
        }
    }

    /// An in-memory store starting from a copy of the state file `path` (its snapshot alone,
    /// of at most `max_bytes`), which is never written.
    pub(crate) fn copy_of(path: &Path, max_bytes: u64) -> Result<Store, SandboxError> {
        let file = File::open(path).map_err(io_error(path))?;
        let bytes = read_capped(file, path, max_bytes)?;
        Ok(Store::in_memory(parse(path, &bytes)?))
    }

    /// Runs `f` as one transaction (see the module docs): [`TxError::Busy`] if the state
    /// stays locked past [`LOCK_WAIT`], [`TxError::Panicked`] (with every change undone) if
    /// `f` panics.
    pub(crate) fn transaction<R>(&self, f: impl FnOnce(&mut Tx<'_>) -> R) -> Result<R, TxError> {
        let deadline = Instant::now() + LOCK_WAIT;
        let _turn = self.turn.take(deadline).ok_or(TxError::Busy)?;
        let mut guard: MutexGuard<'_, Inner> =
            self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        let Inner { state, file } = &mut *guard;
        let Some(backing) = file else {
            let mut tx = Tx::new(state);
            let result = run(&mut tx, f)?;
            if tx.dirty() {
                state.generation += 1;
            }
            return Ok(result);
        };
        let lock_file = backing.clone_lock().map_err(TxError::Failed)?;
        let _lock = lock_until(&lock_file, &backing.lock_path, deadline).map_err(|e| match e {
            LockError::TimedOut => TxError::Busy,
            LockError::Failed(e) => TxError::Failed(e),
        })?;
        if let Err(e) = backing.refresh(state) {
            // Force a full reload next time rather than trusting a half-read state.
            backing.seen = None;
            return Err(TxError::Failed(e));
        }
        let mut tx = Tx::new(state);
        let result = match run(&mut tx, f) {
            Ok(result) => result,
            Err(e) => {
                // Undone in memory; the file is the reference anyway.
                backing.seen = None;
                return Err(e);
            }
        };
        if tx.dirty() {
            let touched = tx.touched();
            state.generation += 1;
            let written = changes::of(state, &touched)
                .map_err(|e| io_error(&backing.journal_path)(io::Error::other(e)))
                .and_then(|changes| {
                    let commit = Commit {
                        generation: state.generation,
                        changes,
                    };
                    backing.append(state, &commit)
                });
            if let Err(e) = written {
                // The change, not on disk, is dropped from memory too at the next refresh.
                backing.seen = None;
                return Err(TxError::Failed(e));
            }
        }
        Ok(result)
    }

    /// Folds the journal into the snapshot, if it holds writes (waiting a little for the file
    /// lock, and giving up quietly if another process holds it: the journal stays valid).
    pub(crate) fn compact(&self) -> Result<(), SandboxError> {
        let Some(_turn) = self.turn.take(Instant::now() + LOCK_WAIT) else {
            return Ok(());
        };
        let mut guard = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        let Inner { state, file } = &mut *guard;
        let Some(backing) = file else {
            return Ok(());
        };
        let lock_file = backing.clone_lock()?;
        let Ok(_lock) = lock_until(&lock_file, &backing.lock_path, Instant::now() + LOCK_WAIT)
        else {
            return Ok(());
        };
        backing.refresh(state)?;
        if backing.has_writes() {
            backing.compact(state)?;
        }
        Ok(())
    }
}

impl Drop for Store {
    /// A store that closes leaves its state file as one snapshot (see [`Store::compact`]).
    fn drop(&mut self) {
        let _ = self.compact();
    }
}

/// Runs `f` on `tx`, undoing everything it changed if it panics.
fn run<R>(tx: &mut Tx<'_>, f: impl FnOnce(&mut Tx<'_>) -> R) -> Result<R, TxError> {
    match catch_unwind(AssertUnwindSafe(|| f(tx))) {
        Ok(result) => Ok(result),
        Err(_) => {
            tx.rollback_all();
            Err(TxError::Panicked)
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{Map, Value};

    use std::collections::BTreeMap;

    use super::*;
    use crate::resources::coupons::Coupon;
    use crate::resources::customers::Customer;
    use crate::resources::products::{self, Product};
    use crate::resources::promotion_codes::PromotionCode;

    fn product(tx: &Tx<'_>, name: &str) -> Product {
        let mut p = Map::new();
        p.insert("name".into(), Value::from(name));
        products::build(tx.state(), &p, 0, "").unwrap()
    }

    #[test]
    fn rollback_to_a_savepoint_undoes_later_changes_only() {
        let store = Store::open(None, DEFAULT_MAX_STATE_BYTES).unwrap();
        store
            .transaction(|tx| {
                let kept = product(tx, "Kept");
                let kept_id = tx.put_new(kept);
                let savepoint = tx.savepoint();
                let dropped = product(tx, "Dropped");
                tx.put_new(dropped);
                let mut renamed = tx.state().products[&kept_id].clone();
                renamed.name = "Renamed".into();
                tx.put(renamed);
                tx.delete_product(&kept_id);
                tx.rollback_to(savepoint);
                let state = tx.state();
                assert_eq!(state.products.len(), 1);
                assert_eq!(state.products[&kept_id].name, "Kept");
                assert!(state.deleted_products.is_empty());
                assert_eq!(state.next_seq, 2);
            })
            .unwrap();
    }

    fn coupon(id: &str) -> Coupon {
        Coupon {
            id: id.into(),
            seq: 0,
            amount_off: None,
            applies_to: None,
            created: 0,
            currency: None,
            currency_options: BTreeMap::new(),
            duration: "once".into(),
            duration_in_months: None,
            max_redemptions: None,
            metadata: BTreeMap::new(),
            name: None,
            percent_off: Some(10.0),
            redeem_by: None,
            times_redeemed: 0,
        }
    }

    #[test]
    fn rollback_undoes_coupon_promotion_code_customer_and_clock_changes() {
        use crate::resources::promotion_codes::Restrictions;
        let store = Store::open(None, DEFAULT_MAX_STATE_BYTES).unwrap();
        store
            .transaction(|tx| {
                tx.put(coupon("KEEP"));
                let savepoint = tx.savepoint();
                tx.delete_coupon("KEEP");
                tx.put(coupon("NEW"));
                tx.put(PromotionCode {
                    id: "promo_1".into(),
                    seq: 0,
                    active: true,
                    code: "SPRING".into(),
                    coupon: "NEW".into(),
                    created: 0,
                    customer: None,
                    expires_at: None,
                    max_redemptions: None,
                    metadata: BTreeMap::new(),
                    restrictions: Restrictions {
                        currency_options: BTreeMap::new(),
                        first_time_transaction: false,
                        minimum_amount: None,
                        minimum_amount_currency: None,
                    },
                    times_redeemed: 0,
                });
                tx.put(Customer {
                    id: "cus_1".into(),
                    seq: 0,
                    created: 0,
                    description: None,
                    email: None,
                    invoice_prefix: "ABCDEFGH".into(),
                    metadata: BTreeMap::new(),
                    name: None,
                });
                tx.advance_clock(60);
                assert_eq!(tx.state().deleted_coupons.len(), 1);
                tx.rollback_to(savepoint);
                let state = tx.state();
                assert_eq!(state.coupons.keys().collect::<Vec<_>>(), ["KEEP"]);
                assert!(state.deleted_coupons.is_empty());
                assert!(state.promotion_codes.is_empty() && state.customers.is_empty());
                assert_eq!(state.clock_offset, 0);
            })
            .unwrap();
    }

    #[test]
    fn rollback_undoes_tax_and_portal_changes() {
        use crate::resources::tax_settings::TaxSettings;
        let store = Store::open(None, DEFAULT_MAX_STATE_BYTES).unwrap();
        store
            .transaction(|tx| {
                let default = tx.state().portal_configurations.clone();
                assert_eq!(default.len(), 1);
                let savepoint = tx.savepoint();
                tx.put_tax_settings(TaxSettings {
                    tax_behavior: Some("exclusive".into()),
                    ..TaxSettings::default()
                });
                tx.put(crate::resources::tax_rates::TaxRate {
                    id: "txr_1".into(),
                    seq: 0,
                    active: true,
                    country: None,
                    created: 0,
                    description: None,
                    display_name: "VAT".into(),
                    inclusive: false,
                    jurisdiction: None,
                    metadata: BTreeMap::new(),
                    percentage: 19.0,
                    state: None,
                    tax_type: None,
                });
                tx.put(crate::resources::tax_registrations::TaxRegistration {
                    id: "taxreg_1".into(),
                    seq: 0,
                    active_from: 0,
                    country: "DE".into(),
                    options: serde_json::Map::new(),
                    created: 0,
                    expires_at: None,
                });
                let mut changed = default.values().next().unwrap().clone();
                changed.name = Some("Changed".into());
                tx.put(changed);
                tx.rollback_to(savepoint);
                let state = tx.state();
                assert_eq!(state.tax_settings, TaxSettings::default());
                assert!(state.tax_rates.is_empty() && state.tax_registrations.is_empty());
                assert!(
                    state
                        .portal_configurations
                        .values()
                        .all(|c| c.name.is_none())
                );
            })
            .unwrap();
    }

    #[test]
    fn an_older_state_file_gets_the_same_default_portal_configuration_everywhere() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.json");
        let mut old: Value = serde_json::to_value(State::fresh()).unwrap();
        let account = old["account"]["id"].as_str().unwrap().to_string();
        old.as_object_mut().unwrap().remove("portal_configurations");
        std::fs::write(&path, serde_json::to_vec(&old).unwrap()).unwrap();
        let ids = |store: &Store| {
            store
                .transaction(|tx| {
                    let state = tx.state();
                    assert_eq!(state.account.id, account);
                    state
                        .portal_configurations
                        .values()
                        .filter(|c| c.is_default)
                        .map(|c| c.id.clone())
                        .collect::<Vec<_>>()
                })
                .unwrap()
        };
        let first = ids(&Store::open(Some(&path), DEFAULT_MAX_STATE_BYTES).unwrap());
        let second = ids(&Store::open(Some(&path), DEFAULT_MAX_STATE_BYTES).unwrap());
        assert_eq!(first.len(), 1);
        assert_eq!(first, second);
    }

    #[test]
    fn a_panicking_transaction_is_undone() {
        let store = Store::open(None, DEFAULT_MAX_STATE_BYTES).unwrap();
        let outcome = store.transaction(|tx| {
            let p = product(tx, "Half");
            tx.put_new(p);
            panic!("a bug (test)");
        });
        assert!(matches!(outcome, Err(TxError::Panicked)));
        let (count, seq) = store
            .transaction(|tx| (tx.state().products.len(), tx.state().next_seq))
            .unwrap();
        assert_eq!((count, seq), (0, 1));
    }

    #[test]
    fn a_lock_held_elsewhere_is_busy_after_the_deadline() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.json");
        let store = Store::open(Some(&path), DEFAULT_MAX_STATE_BYTES).unwrap();
        let held = File::open(dir.path().join("state.json.lock")).unwrap();
        held.lock().unwrap();
        let started = Instant::now();
        assert!(matches!(store.transaction(|_| ()), Err(TxError::Busy)));
        let waited = started.elapsed();
        assert!(waited >= LOCK_WAIT && waited < LOCK_WAIT * 3, "{waited:?}");
        held.unlock().unwrap();
        assert!(store.transaction(|_| ()).is_ok());
    }

    /// A link planted at the state file, its journal or its lock makes opening the store an
    /// error naming that file, and what the link points to is not touched.
    #[cfg(unix)]
    #[test]
    fn a_planted_link_or_fifo_is_refused_and_its_target_left_alone() {
        for planted in ["state.json", "state.json.journal", "state.json.lock"] {
            let dir = tempfile::tempdir().unwrap();
            let victim = dir.path().join("victim");
            fs::write(&victim, "precious").unwrap();
            std::os::unix::fs::symlink(&victim, dir.path().join(planted)).unwrap();
            let error = Store::open(Some(&dir.path().join("state.json")), 1 << 20)
                .err()
                .unwrap()
                .to_string();
            assert!(error.contains(planted), "{error}");
            assert!(error.contains("it is a symbolic link"), "{error}");
            assert_eq!(fs::read_to_string(&victim).unwrap(), "precious");
        }
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.json");
        safe_fs::mkfifo(&path);
        // Refused at once, not blocked on opening the FIFO.
        let error = Store::open(Some(&path), 1 << 20).err().unwrap().to_string();
        assert!(error.contains("it is a FIFO"), "{error}");
    }

    /// The journal is appended to in place: a link planted there once the store is open is
    /// refused at the next write, and not written through.
    #[cfg(unix)]
    #[test]
    fn a_link_planted_at_the_journal_is_never_appended_through() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.json");
        let store = Store::open(Some(&path), DEFAULT_MAX_STATE_BYTES).unwrap();
        store
            .transaction(|tx| {
                let p = product(tx, "One");
                tx.put_new(p);
            })
            .unwrap();
        // The journal moves elsewhere and a link to it takes its place: reading through it
        // finds the same journal, so the next write would append to it in place.
        let journal = beside(&path, ".journal");
        let victim = dir.path().join("victim");
        fs::rename(&journal, &victim).unwrap();
        std::os::unix::fs::symlink(&victim, &journal).unwrap();
        let before = fs::read(&victim).unwrap();
        let outcome = store.transaction(|tx| {
            let p = product(tx, "Two");
            tx.put_new(p);
        });
        match outcome {
            Err(TxError::Failed(e)) => {
                assert!(e.to_string().contains("it is a symbolic link"), "{e}");
            }
            _ => panic!("the write through the link was not refused"),
        }
        assert_eq!(fs::read(&victim).unwrap(), before);
    }
}
