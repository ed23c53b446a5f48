//! The files billing reads and writes: reading within a size limit, and writing only regular
//! files, never through a link (with `safe_fs`, which the sandbox uses for its state too;
//! README "Where billing writes files").

use std::fs::File;
use std::io::{self, Read};
use std::path::Path;

use anyhow::Context;
use safe_fs::{self as files, Access};

/// Why a bounded read failed.
#[derive(Debug)]
pub(crate) enum ReadError {
    /// Opening or reading failed.
    Io(io::Error),
    /// The file holds more than the limit.
    TooLarge,
}

/// The bytes of the file at `path`, reading at most `limit + 1` of them: a file, a pipe or
/// a device longer than `limit` is refused after that much, whatever its metadata says.
pub(crate) fn read_capped(path: &Path, limit: u64) -> Result<Vec<u8>, ReadError> {
    let file = std::fs::File::open(path).map_err(ReadError::Io)?;
    // A regular file's size sizes the buffer (no doubling past it); a pipe grows it as it goes.
    let expected = file
        .metadata()
        .map_or(0, |m| m.len())
        .min(limit.saturating_add(1));
    let mut bytes = Vec::with_capacity(usize::try_from(expected).unwrap_or(0));
    file.take(limit.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(ReadError::Io)?;
    if bytes.len() as u64 > limit {
        return Err(ReadError::TooLarge);
    }
    Ok(bytes)
}

/// Writes `text` to `path` atomically, readable by others (0644 less the umask, or the
/// permissions of the file it replaces): a temporary file with an unpredictable name, created
/// exclusively in the same directory, flushed, then renamed over `path`, so that a reader
/// never sees half a file. Missing directories on the way are made first, as for every file
/// billing writes (`--out`, `outputs`). A link, FIFO, device or directory at `path` is refused
/// with an error naming it, and left alone. Errors name `path`, never the temporary file.
pub(crate) fn write_atomically(path: &Path, text: &str) -> anyhow::Result<()> {
    make_directory(path)
        .and_then(|()| files::replace(path, text.as_bytes(), Access::Shared).map(drop))
        .with_context(|| format!("cannot write {}", path.display()))
}

/// Makes the missing directories on the way to the file `path`: an error names the first one
/// on the way that is not a directory.
fn make_directory(path: &Path) -> io::Result<()> {
    match path.parent() {
        Some(dir) => create_dirs(dir),
        None => Ok(()),
    }
}

/// Makes the directory `dir` and those missing on the way: an error names the first one on
/// the way that is not a directory (`gen is not a directory`), else the directory and why.
pub(crate) fn create_dirs(dir: &Path) -> io::Result<()> {
    if dir.as_os_str().is_empty() || dir.is_dir() {
        return Ok(());
    }
    std::fs::create_dir_all(dir).map_err(|e| {
        blocked(dir).unwrap_or_else(|| {
            io::Error::new(
                e.kind(),
                format!("cannot create the directory {}: {e}", dir.display()),
            )
        })
    })
}

/// The error that names what stands where the directory `dir`, or one on the way to it,
/// should be.
fn blocked(dir: &Path) -> Option<io::Error> {
    let file = dir
        .ancestors()
        .find(|a| std::fs::metadata(a).is_ok_and(|m| !m.is_dir()))?;
    Some(io::Error::new(
        io::ErrorKind::NotADirectory,
        format!("{} is not a directory", file.display()),
    ))
}

/// Writes `bytes` to `path` atomically, readable by its owner only (0600, even when it
/// replaces a file others could read): for secrets.
pub(crate) fn write_private(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    make_directory(path)?;
    let file = files::replace(path, bytes, Access::Private)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
    }
    drop(file);
    Ok(())
}

/// Whether `path` may be written by [`write_atomically`]: nothing there, or a regular file.
/// The same error it would give, before anything else is done.
pub(crate) fn check_writable(path: &Path) -> anyhow::Result<()> {
    files::check_target(path)
        .map_err(|e| match e.kind() {
            io::ErrorKind::NotADirectory => path.parent().and_then(blocked).unwrap_or(e),
            _ => e,
        })
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}

/// Opens (creating it) a file to lock and rewrite in place: never through a link, never a
/// FIFO or a device, never a file with other hard links.
pub(crate) fn open_in_place(path: &Path) -> io::Result<File> {
    files::open_in_place(path, Some(Access::Shared))
}

/// Keeps the directory `dir` (`.billing/`) out of version control: writes `dir/.gitignore`
/// holding `*` when nothing is there, and leaves anything that is (a file, or a link, even a
/// dangling one, which is never written through) alone. Best effort: a project-level ignore
/// entry does the same.
pub(crate) fn ignore_in_git(dir: &Path) {
    let _ = files::create_new(&dir.join(".gitignore"), b"*\n", Access::Shared);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_up_to_the_limit_and_refuses_one_byte_more() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        std::fs::write(&path, b"12345").unwrap();
        assert_eq!(read_capped(&path, 5).unwrap(), b"12345");
        assert!(matches!(read_capped(&path, 4), Err(ReadError::TooLarge)));
        assert!(matches!(
            read_capped(&dir.path().join("missing"), 4),
            Err(ReadError::Io(_))
        ));
    }

    #[cfg(unix)]
    #[test]
    fn an_endless_device_is_refused_after_the_limit() {
        let path = Path::new("/dev/zero");
        assert!(matches!(
            read_capped(path, 1 << 20),
            Err(ReadError::TooLarge)
        ));
    }

    /// The names of the entries of `dir`, sorted.
    fn entries(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn writes_and_replaces_leaving_no_temporary_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("plan.json");
        write_atomically(&path, "one").unwrap();
        write_atomically(&path, "two").unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "two");
        assert_eq!(entries(dir.path()), ["plan.json"]);
    }

    #[cfg(unix)]
    #[test]
    fn a_new_file_is_readable_by_others_and_a_replaced_one_keeps_its_permissions() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o7777;
        let new = dir.path().join("new.json");
        write_atomically(&new, "{}").unwrap();
        // 0644 less the umask: never writable by others, always by its owner.
        assert_eq!(mode(&new) & 0o622, 0o600, "{:o}", mode(&new));
        for kept in [0o600, 0o640, 0o755] {
            let path = dir.path().join(format!("kept{kept:o}"));
            std::fs::write(&path, "old").unwrap();
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(kept)).unwrap();
            write_atomically(&path, "new").unwrap();
            assert_eq!(mode(&path), kept, "{kept:o}");
            assert_eq!(std::fs::read_to_string(&path).unwrap(), "new");
        }
    }

    /// A link at the target is refused naming the path; one at the name the writer used to
    /// take for its temporary file (`.NAME.tmpPID`) is not followed either.
    #[cfg(unix)]
    #[test]
    fn a_link_at_the_target_or_at_the_old_temporary_name_is_never_followed() {
        use std::os::unix::fs::symlink;
        let dir = tempfile::tempdir().unwrap();
        let victim = dir.path().join("victim");
        std::fs::write(&victim, "precious").unwrap();
        let path = dir.path().join("out.json");
        symlink(&victim, &path).unwrap();
        let error = format!("{:#}", write_atomically(&path, "x").unwrap_err());
        assert_eq!(
            error,
            format!(
                "cannot write {}: it is a symbolic link, which is never written through or replaced; it was left alone",
                path.display()
            )
        );
        assert!(format!("{:#}", check_writable(&path).unwrap_err()).contains("symbolic link"));
        assert!(std::fs::symlink_metadata(&path).unwrap().is_symlink());

        std::fs::remove_file(&path).unwrap();
        let old_temporary = dir
            .path()
            .join(format!(".out.json.tmp{}", std::process::id()));
        symlink(&victim, &old_temporary).unwrap();
        write_atomically(&path, "written").unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "written");
        assert!(
            std::fs::symlink_metadata(&old_temporary)
                .unwrap()
                .is_symlink()
        );
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious");
    }

    /// A FIFO, a device and a directory are refused at once: the FIFO is never opened (which
    /// would block), the device never replaced.
    #[cfg(unix)]
    #[test]
    fn special_files_are_refused_without_blocking() {
        use std::os::unix::fs::FileTypeExt;
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("fifo.json");
        safe_fs::mkfifo(&fifo);
        let (sent, answer) = std::sync::mpsc::channel();
        let target = fifo.clone();
        std::thread::spawn(move || {
            let _ = sent.send(format!("{:#}", write_atomically(&target, "x").unwrap_err()));
        });
        let error = answer
            .recv_timeout(std::time::Duration::from_secs(10))
            .expect("writing over a FIFO blocked");
        assert!(error.contains("fifo.json: it is a FIFO"), "{error}");
        let lock = open_in_place(&fifo).unwrap_err();
        assert!(lock.to_string().starts_with("it is a FIFO"), "{lock}");

        let error = format!(
            "{:#}",
            write_atomically(Path::new("/dev/null"), "x").unwrap_err()
        );
        assert!(
            error.starts_with("cannot write /dev/null: it is a device"),
            "{error}"
        );
        assert!(
            std::fs::symlink_metadata("/dev/null")
                .unwrap()
                .file_type()
                .is_char_device()
        );

        let error = format!("{:#}", write_atomically(dir.path(), "x").unwrap_err());
        assert!(error.contains("it is a directory"), "{error}");
    }

    #[test]
    fn the_gitignore_is_written_once_and_never_through_a_link() {
        let dir = tempfile::tempdir().unwrap();
        let billing = dir.path().join(".billing");
        std::fs::create_dir(&billing).unwrap();
        ignore_in_git(&billing);
        assert_eq!(
            std::fs::read_to_string(billing.join(".gitignore")).unwrap(),
            "*\n"
        );
        std::fs::write(billing.join(".gitignore"), "mine\n").unwrap();
        ignore_in_git(&billing);
        assert_eq!(
            std::fs::read_to_string(billing.join(".gitignore")).unwrap(),
            "mine\n"
        );
        #[cfg(unix)]
        {
            // A dangling link: nothing is created where it points, outside .billing/.
            std::fs::remove_file(billing.join(".gitignore")).unwrap();
            let outside = dir.path().join("outside");
            std::os::unix::fs::symlink(&outside, billing.join(".gitignore")).unwrap();
            ignore_in_git(&billing);
            assert!(!outside.exists());
            assert_eq!(entries(&billing), [".gitignore"]);
        }
    }
}
