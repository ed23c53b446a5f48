//! Keeping the state: in memory, or in one JSON file shared safely between processes.
//!
//! Every request runs as a transaction. It first waits its turn among this process's requests,
//! then, with a file, takes an exclusive lock on the sibling `<file>.lock`; both waits share one
//! deadline ([`LOCK_WAIT`]), past which the request is refused (Stripe's 429 `lock_timeout`)
//! rather than queued forever. It then reloads the file if its bytes differ from what this
//! process last read or wrote (so writes by another process are never lost), applies the
//! request, writes the file atomically (temporary file in the same directory, then rename) if
//! the request changed anything, and unlocks.

use std::fs::{self, File, OpenOptions, TryLockError};
use std::io::{self, Write};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use super::SandboxError;
use super::state::{FORMAT, State};
use super::tx::Tx;

/// How long a request waits for the state (its turn in this process, then the file lock)
/// before it is answered 429 `lock_timeout`.
pub(crate) const LOCK_WAIT: Duration = Duration::from_secs(2);

/// How long opening a state file waits for its lock.
const OPEN_LOCK_WAIT: Duration = Duration::from_secs(10);

/// How often a locked state file is tried again.
const LOCK_RETRY: Duration = Duration::from_millis(5);

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

struct Backing {
    path: PathBuf,
    lock_path: PathBuf,
    lock: File,
    /// The file's bytes as this process last read or wrote them (`None`: reload next time).
    seen: Option<Vec<u8>>,
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
    // every process (derived from the account), and written with the next change.
    state.ensure_default_portal();
    Ok(state)
}

fn io_error(path: &Path) -> impl FnOnce(io::Error) -> SandboxError + '_ {
    move |source| SandboxError::StateIo {
        path: path.to_path_buf(),
        source,
    }
}

impl Backing {
    /// Writes `state` atomically and remembers the bytes written (until then, the file is
    /// reloaded at the next refresh, whatever happens here).
    fn write(&mut self, state: &State) -> Result<(), SandboxError> {
        self.seen = None;
        let mut bytes = serde_json::to_vec_pretty(state).map_err(|e| SandboxError::StateIo {
            path: self.path.clone(),
            source: io::Error::other(e),
        })?;
        bytes.push(b'\n');
        let dir = match self.path.parent() {
            Some(dir) if !dir.as_os_str().is_empty() => dir,
            _ => Path::new("."),
        };
        let mut tmp = tempfile::NamedTempFile::new_in(dir).map_err(io_error(&self.path))?;
        tmp.write_all(&bytes).map_err(io_error(&self.path))?;
        tmp.as_file().sync_all().map_err(io_error(&self.path))?;
        tmp.persist(&self.path)
            .map_err(|e| io_error(&self.path)(e.error))?;
        self.seen = Some(bytes);
        Ok(())
    }

    /// Reloads the file if another process changed it since we last saw it.
    fn refresh(&mut self, state: &mut State) -> Result<(), SandboxError> {
        match fs::read(&self.path) {
            Ok(bytes) if self.seen.as_ref() == Some(&bytes) => Ok(()),
            Ok(bytes) => {
                *state = parse(&self.path, &bytes)?;
                self.seen = Some(bytes);
                Ok(())
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                // The file was removed (a reset): start a fresh account and persist it at once,
                // so that its id is stable from now on.
                *state = State::fresh();
                self.write(state)
            }
            Err(e) => Err(io_error(&self.path)(e)),
        }
    }
}

impl Store {
    /// An in-memory store, or the state in `path` (created, with its parent directories, if
    /// missing). A file that cannot be parsed is an error naming the path.
    pub(crate) fn open(path: Option<&Path>) -> Result<Store, SandboxError> {
        let Some(path) = path else {
            return Ok(Store {
                turn: Turn::default(),
                inner: Mutex::new(Inner {
                    state: State::fresh(),
                    file: None,
                }),
            });
        };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            fs::create_dir_all(dir).map_err(io_error(path))?;
        }
        let mut lock_name = path
            .file_name()
            .map(|n| n.to_os_string())
            .unwrap_or_default();
        lock_name.push(".lock");
        let lock_path = path.with_file_name(lock_name);
        let lock_file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .read(true)
            .write(true)
            .open(&lock_path)
            .map_err(|source| SandboxError::Lock {
                path: lock_path.clone(),
                source,
            })?;
        let mut backing = Backing {
            path: path.to_path_buf(),
            lock_path,
            lock: lock_file,
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

    /// An in-memory store starting from a copy of the state file `path`, which is never
    /// written.
    pub(crate) fn copy_of(path: &Path) -> Result<Store, SandboxError> {
        let bytes = fs::read(path).map_err(io_error(path))?;
        Ok(Store {
            turn: Turn::default(),
            inner: Mutex::new(Inner {
                state: parse(path, &bytes)?,
                file: None,
            }),
        })
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
            state.generation += 1;
            // On failure `write` leaves `seen` empty: the change, not on disk, is dropped from
            // memory too at the next refresh.
            backing.write(state).map_err(TxError::Failed)?;
        }
        Ok(result)
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

impl Backing {
    /// Another handle on the lock file (the lock belongs to the open file, shared by both).
    fn clone_lock(&self) -> Result<File, SandboxError> {
        self.lock.try_clone().map_err(|source| SandboxError::Lock {
            path: self.lock_path.clone(),
            source,
        })
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{Map, Value};

    use std::collections::BTreeMap;

    use super::*;
    use crate::products;
    use crate::records::{Coupon, Customer, Product, PromotionCode};

    fn product(tx: &Tx<'_>, name: &str) -> Product {
        let mut p = Map::new();
        p.insert("name".into(), Value::from(name));
        products::build(tx.state(), &p, 0, "").unwrap()
    }

    #[test]
    fn rollback_to_a_savepoint_undoes_later_changes_only() {
        let store = Store::open(None).unwrap();
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
        use crate::records::Restrictions;
        let store = Store::open(None).unwrap();
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
        use crate::records::TaxSettings;
        let store = Store::open(None).unwrap();
        store
            .transaction(|tx| {
                let default = tx.state().portal_configurations.clone();
                assert_eq!(default.len(), 1);
                let savepoint = tx.savepoint();
                tx.put_tax_settings(TaxSettings {
                    tax_behavior: Some("exclusive".into()),
                    ..TaxSettings::default()
                });
                tx.put(crate::records::TaxRate {
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
                tx.put(crate::records::TaxRegistration {
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
        let first = ids(&Store::open(Some(&path)).unwrap());
        let second = ids(&Store::open(Some(&path)).unwrap());
        assert_eq!(first.len(), 1);
        assert_eq!(first, second);
    }

    #[test]
    fn a_panicking_transaction_is_undone() {
        let store = Store::open(None).unwrap();
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
        let store = Store::open(Some(&path)).unwrap();
        let held = File::open(dir.path().join("state.json.lock")).unwrap();
        held.lock().unwrap();
        let started = Instant::now();
        assert!(matches!(store.transaction(|_| ()), Err(TxError::Busy)));
        let waited = started.elapsed();
        assert!(waited >= LOCK_WAIT && waited < LOCK_WAIT * 3, "{waited:?}");
        held.unlock().unwrap();
        assert!(store.transaction(|_| ()).is_ok());
    }
}
