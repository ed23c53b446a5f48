//! The sandbox's state and its persistence: in memory, or one JSON file shared safely between
//! processes.
//!
//! With a file, every request runs as a transaction: take an exclusive lock on the sibling
//! `<file>.lock`, reload the file if its bytes differ from what this process last read or
//! wrote (so writes by another process are never lost), apply the request, write the file
//! atomically (temporary file in the same directory, then rename) if the request changed
//! anything, and unlock.

use std::collections::{BTreeMap, BTreeSet};
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};

use serde::{Deserialize, Serialize};

use super::SandboxError;
use super::account::AccountRecord;
use super::idempotency::IdempotencyRecord;
use super::prices::Price;
use super::products::Product;

/// The state file format this build reads and writes.
const FORMAT: u32 = 1;

/// Everything the sandbox knows: one Stripe account.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct State {
    pub format: u32,
    /// Incremented on every write (informational).
    pub generation: u64,
    pub account: AccountRecord,
    /// Creation sequence: orders objects created within the same second.
    pub next_seq: u64,
    #[serde(default)]
    pub products: BTreeMap<String, Product>,
    /// Ids of deleted products: never reused (stricter reading, see `products.rs`).
    #[serde(default)]
    pub deleted_products: BTreeSet<String>,
    #[serde(default)]
    pub prices: BTreeMap<String, Price>,
    #[serde(default)]
    pub idempotency: BTreeMap<String, IdempotencyRecord>,
}

impl State {
    pub(crate) fn fresh() -> State {
        State {
            format: FORMAT,
            generation: 0,
            account: AccountRecord::generate(),
            next_seq: 1,
            products: BTreeMap::new(),
            deleted_products: BTreeSet::new(),
            prices: BTreeMap::new(),
            idempotency: BTreeMap::new(),
        }
    }

    /// The next creation sequence number.
    pub(crate) fn take_seq(&mut self) -> u64 {
        let seq = self.next_seq;
        self.next_seq += 1;
        seq
    }
}

/// One request's access to the state; records whether it wrote anything.
pub(crate) struct Tx<'a> {
    state: &'a mut State,
    dirty: bool,
}

impl Tx<'_> {
    pub(crate) fn state(&self) -> &State {
        self.state
    }

    /// Mutable access; the transaction will be written back.
    pub(crate) fn state_mut(&mut self) -> &mut State {
        self.dirty = true;
        self.state
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

/// The state, behind a mutex (and a file lock when persisted).
pub(crate) struct Store {
    inner: Mutex<Inner>,
}

/// Unlocks the lock file when dropped.
struct FileLock<'a>(&'a File);

impl Drop for FileLock<'_> {
    fn drop(&mut self) {
        let _ = self.0.unlock();
    }
}

fn lock<'a>(file: &'a File, lock_path: &Path) -> Result<FileLock<'a>, SandboxError> {
    file.lock().map_err(|source| SandboxError::Lock {
        path: lock_path.to_path_buf(),
        source,
    })?;
    Ok(FileLock(file))
}

fn parse(path: &Path, bytes: &[u8]) -> Result<State, SandboxError> {
    let state: State = serde_json::from_slice(bytes).map_err(|e| SandboxError::StateCorrupt {
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
    Ok(state)
}

fn io_error(path: &Path) -> impl FnOnce(io::Error) -> SandboxError + '_ {
    move |source| SandboxError::StateIo {
        path: path.to_path_buf(),
        source,
    }
}

impl Backing {
    /// Writes `state` atomically and remembers the bytes written.
    fn write(&mut self, state: &State) -> Result<(), SandboxError> {
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
            let lock_file = backing
                .lock
                .try_clone()
                .map_err(|source| SandboxError::Lock {
                    path: backing.lock_path.clone(),
                    source,
                })?;
            let _guard = lock(&lock_file, &backing.lock_path)?;
            backing.refresh(&mut state)?;
        }
        Ok(Store {
            inner: Mutex::new(Inner {
                state,
                file: Some(backing),
            }),
        })
    }

    /// Runs `f` as one transaction (see the module docs).
    pub(crate) fn transaction<R>(
        &self,
        f: impl FnOnce(&mut Tx<'_>) -> R,
    ) -> Result<R, SandboxError> {
        let mut guard = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        let Inner { state, file } = &mut *guard;
        let Some(backing) = file else {
            let mut tx = Tx {
                state,
                dirty: false,
            };
            let result = f(&mut tx);
            if tx.dirty {
                state.generation += 1;
            }
            return Ok(result);
        };
        let lock_file = backing
            .lock
            .try_clone()
            .map_err(|source| SandboxError::Lock {
                path: backing.lock_path.clone(),
                source,
            })?;
        let _lock = lock(&lock_file, &backing.lock_path)?;
        if let Err(e) = backing.refresh(state) {
            // Force a full reload next time rather than trusting a half-read state.
            backing.seen = None;
            return Err(e);
        }
        let mut tx = Tx {
            state,
            dirty: false,
        };
        let result = f(&mut tx);
        if tx.dirty {
            state.generation += 1;
            if let Err(e) = backing.write(state) {
                // The change is not on disk: drop it from memory too at the next refresh.
                backing.seen = None;
                return Err(e);
            }
        }
        Ok(result)
    }
}
