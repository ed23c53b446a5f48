//! Writing files without being led astray: the one way billing writes every file (plan,
//! outputs, import, lock, `.gitignore`) and the sandbox its state, journal and seed files.
//!
//! - [`replace`] writes a whole file through a temporary file created exclusively (`O_EXCL`,
//!   so never through a link) under an unpredictable name in the target's directory, flushed
//!   to disk, then renamed over the target, and the directory flushed too.
//! - [`create_new`] does the same but leaves anything already at the path alone.
//! - [`open_in_place`] opens a file to be locked or appended to: never through a symbolic
//!   link (`O_NOFOLLOW`), never blocking on a FIFO (`O_NONBLOCK`), never a file with other hard
//!   links (writing to it would change them too).
//!
//! Each refuses a target that is not a regular file (a symbolic link, a FIFO, a device, a
//! socket, a directory) with an error of kind [`io::ErrorKind::InvalidInput`] carrying a
//! [`Refused`], and leaves that target alone. A new file gets the permissions its [`Access`]
//! names (less the umask); a replaced one keeps its own.

use std::ffi::OsString;
use std::fs::{self, File, Metadata, OpenOptions};
use std::io::{self, Write};
use std::path::Path;

/// Who may read a file written anew.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Its owner only (0600): files that may hold anything private.
    Private,
    /// Anyone who can read the directory (0644, less the umask).
    Shared,
}

impl Access {
    /// The Unix permission bits of a new file.
    pub fn mode(self) -> u32 {
        match self {
            Access::Private => 0o600,
            Access::Shared => 0o644,
        }
    }
}

/// What was found at a path instead of a regular file; it was left alone.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("it is {what}, which is never written through or replaced; it was left alone")]
pub struct Refused {
    /// `a symbolic link`, `a FIFO`, `a device`, …
    pub what: &'static str,
}

impl Refused {
    /// The [`Refused`] inside `error`, if that is what it is.
    pub fn of(error: &io::Error) -> Option<&Refused> {
        error.get_ref().and_then(|e| e.downcast_ref::<Refused>())
    }
}

fn refused(what: &'static str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, Refused { what })
}

/// What a file that is not a regular file is, for [`Refused`].
fn describe(metadata: &Metadata) -> &'static str {
    let kind = metadata.file_type();
    if kind.is_symlink() {
        return "a symbolic link";
    }
    if kind.is_dir() {
        return "a directory";
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if kind.is_fifo() {
            return "a FIFO";
        }
        if kind.is_char_device() || kind.is_block_device() {
            return "a device";
        }
        if kind.is_socket() {
            return "a socket";
        }
    }
    "not a regular file"
}

/// What is at `path`, without following a link: `None` when nothing is, its metadata when a
/// regular file is, and a [`Refused`] error for anything else.
pub fn check_target(path: &Path) -> io::Result<Option<Metadata>> {
    match fs::symlink_metadata(path) {
        Ok(metadata) if metadata.is_file() => Ok(Some(metadata)),
        Ok(metadata) => Err(refused(describe(&metadata))),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

/// The directory a file named by `path` is in (`.` for a bare name).
fn directory(path: &Path) -> &Path {
    match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    }
}

/// Writes `bytes` to `path` atomically (see the module docs) and returns the written file.
/// A reader sees the old file or the new one, never half of one.
pub fn replace(path: &Path, bytes: &[u8], access: Access) -> io::Result<File> {
    write_via_temp(path, bytes, access, true)
        .map_err(about_target)?
        .ok_or_else(|| io::Error::other("the file could not be put in place"))
}

/// Writes `bytes` to `path` atomically unless something (a file, a link, even a dangling one)
/// is already there: `false`, and that is left alone.
pub fn create_new(path: &Path, bytes: &[u8], access: Access) -> io::Result<bool> {
    if fs::symlink_metadata(path).is_ok() {
        return Ok(false);
    }
    Ok(write_via_temp(path, bytes, access, false)
        .map_err(about_target)?
        .is_some())
}

/// An error of the temporary file as an error about the target: `tempfile` adds the
/// temporary file's path (`… at path "dir/.plan.json.a8Xk….tmp"`), a name the caller never
/// chose and that no longer exists, so only the cause is kept (the caller names the target).
/// `tempfile` keeps the cause private: its message is all there is to keep.
fn about_target(error: io::Error) -> io::Error {
    if error.get_ref().is_some_and(|inner| inner.is::<Refused>()) {
        return error;
    }
    let message = error.to_string();
    match message.rfind(" at path \"") {
        Some(at) => io::Error::new(error.kind(), &message[..at]),
        None => error,
    }
}

fn write_via_temp(
    path: &Path,
    bytes: &[u8],
    access: Access,
    overwrite: bool,
) -> io::Result<Option<File>> {
    let existing = check_target(path)?;
    let Some(name) = path.file_name() else {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "it does not name a file",
        ));
    };
    let dir = directory(path);
    let mut prefix = OsString::from(".");
    prefix.push(name);
    prefix.push(".");
    let mut builder = tempfile::Builder::new();
    builder.prefix(&prefix).suffix(".tmp").rand_bytes(12);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        builder.permissions(fs::Permissions::from_mode(access.mode()));
    }
    #[cfg(not(unix))]
    let _ = access;
    // Created with O_CREAT | O_EXCL: a link planted at its name makes this fail, never followed.
    let mut tmp = builder.tempfile_in(dir)?;
    // Written to the file itself: `tempfile`'s own writer would name the temporary path.
    tmp.as_file_mut().write_all(bytes)?;
    if let Some(existing) = existing {
        keep_permissions(tmp.as_file(), &existing)?;
    }
    tmp.as_file().sync_all()?;
    // A rename replaces a link or a FIFO planted meanwhile, never what it points to.
    let file = if overwrite {
        tmp.persist(path).map_err(|e| e.error)?
    } else {
        match tmp.persist_noclobber(path) {
            Ok(file) => file,
            Err(e) if e.error.kind() == io::ErrorKind::AlreadyExists => return Ok(None),
            Err(e) => return Err(e.error),
        }
    };
    sync_directory(dir);
    Ok(Some(file))
}

/// Gives `file` the permission bits of the file it replaces (not set-id bits).
fn keep_permissions(file: &File, existing: &Metadata) -> io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = existing.permissions().mode() & 0o777;
        file.set_permissions(fs::Permissions::from_mode(mode))
    }
    #[cfg(not(unix))]
    file.set_permissions(existing.permissions())
}

/// Flushes a directory's entries (a rename) to disk, where the system can.
fn sync_directory(dir: &Path) {
    #[cfg(unix)]
    if let Ok(dir) = File::open(dir) {
        let _ = dir.sync_all();
    }
    #[cfg(not(unix))]
    let _ = dir;
}

/// Opens `path` for reading and writing in place (a lock, a journal), creating it with
/// `create`'s permissions when given and missing. Never through a symbolic link, never a FIFO,
/// a device or a directory, never a file with other hard links: those are [`Refused`].
pub fn open_in_place(path: &Path, create: Option<Access>) -> io::Result<File> {
    // Refused before opening, so that a FIFO is never opened at all.
    check_target(path)?;
    let mut options = OpenOptions::new();
    options.read(true).write(true);
    if let Some(access) = create {
        options.create(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(access.mode());
        }
        #[cfg(not(unix))]
        let _ = access;
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        // What was planted between the check and the open: a link is not followed, a FIFO
        // does not block.
        options.custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK);
    }
    let file = options.open(path).map_err(|e| {
        #[cfg(unix)]
        if matches!(e.raw_os_error(), Some(libc::ELOOP | libc::EMLINK)) {
            return refused("a symbolic link");
        }
        e
    })?;
    let metadata = file.metadata()?;
    if !metadata.is_file() {
        return Err(refused(describe(&metadata)));
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        if metadata.nlink() > 1 {
            return Err(refused("a file with other hard links"));
        }
    }
    Ok(file)
}

/// Makes a FIFO at `path` (with the `mkfifo` command), for tests that a writer refuses one
/// without blocking on it.
#[cfg(all(unix, any(test, feature = "test-support")))]
pub fn mkfifo(path: &Path) {
    let made = std::process::Command::new("mkfifo")
        .arg(path)
        .status()
        .expect("mkfifo runs");
    assert!(made.success(), "mkfifo {}", path.display());
}

#[cfg(test)]
mod tests {
    use super::*;

    fn what(error: &io::Error) -> &'static str {
        Refused::of(error).map_or("", |r| r.what)
    }

    #[test]
    fn a_new_file_and_a_replaced_one() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.json");
        replace(&path, b"one", Access::Private).unwrap();
        replace(&path, b"two", Access::Private).unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"two");
        // Nothing but the file is left in the directory.
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
        assert!(!create_new(&path, b"three", Access::Shared).unwrap());
        assert_eq!(fs::read(&path).unwrap(), b"two");
    }

    /// An error while the temporary file is made or written says what happened, never the
    /// temporary file's name.
    #[test]
    fn errors_never_name_the_temporary_file() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("file");
        fs::write(&file, "").unwrap();
        for path in [dir.path().join("missing/plan.json"), file.join("plan.json")] {
            for error in [
                replace(&path, b"x", Access::Shared).unwrap_err(),
                create_new(&path, b"x", Access::Shared).unwrap_err(),
            ] {
                let text = error.to_string();
                assert!(
                    !text.contains(".tmp") && !text.contains("plan.json"),
                    "{text}"
                );
                assert!(text.ends_with(")") && text.contains("(os error "), "{text}");
            }
        }
    }

    #[cfg(unix)]
    #[test]
    fn links_fifos_and_hard_links_are_refused_and_left_alone() {
        use std::os::unix::fs::symlink;
        let dir = tempfile::tempdir().unwrap();
        let victim = dir.path().join("victim");
        fs::write(&victim, "precious").unwrap();
        let link = dir.path().join("state.json");
        symlink(&victim, &link).unwrap();
        assert_eq!(
            what(&replace(&link, b"x", Access::Private).unwrap_err()),
            "a symbolic link"
        );
        assert_eq!(
            what(&open_in_place(&link, Some(Access::Private)).unwrap_err()),
            "a symbolic link"
        );
        // A dangling link is not created through either.
        let dangling = dir.path().join("dangling");
        symlink(dir.path().join("nowhere"), &dangling).unwrap();
        assert!(!create_new(&dangling, b"x", Access::Shared).unwrap());
        assert!(open_in_place(&dangling, Some(Access::Private)).is_err());
        assert!(!dir.path().join("nowhere").exists());

        let hard = dir.path().join("hard");
        fs::hard_link(&victim, &hard).unwrap();
        assert_eq!(
            what(&open_in_place(&hard, None).unwrap_err()),
            "a file with other hard links"
        );
        assert_eq!(fs::read_to_string(&victim).unwrap(), "precious");

        let fifo = dir.path().join("fifo");
        mkfifo(&fifo);
        assert_eq!(
            what(&replace(&fifo, b"x", Access::Private).unwrap_err()),
            "a FIFO"
        );
        assert_eq!(
            what(&open_in_place(&fifo, Some(Access::Private)).unwrap_err()),
            "a FIFO"
        );
        assert_eq!(
            what(&replace(Path::new("/dev/null"), b"x", Access::Private).unwrap_err()),
            "a device"
        );
    }
}
