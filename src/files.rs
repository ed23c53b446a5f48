//! Reading the files billing is given, within a size limit.

use std::io::{self, Read};
use std::path::Path;

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
    let mut bytes = Vec::new();
    file.take(limit.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(ReadError::Io)?;
    if bytes.len() as u64 > limit {
        return Err(ReadError::TooLarge);
    }
    Ok(bytes)
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
}
