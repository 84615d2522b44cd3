//! The SQLite file's identity, to notice it deleted or replaced under a running process.
//!
//! A process keeps writing to a database file deleted under it: the writes land in a file no
//! path leads to, and are lost when the process ends. The daemon compares the path's device
//! and inode with those it opened every few seconds, and stops when they differ.

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

/// The daemon stopped because its database file was deleted or replaced. The process exits
/// with [`StoreGone::EXIT_CODE`], which the shipped unit does not restart on: starting over on
/// a new, empty database (and raising every figure again) is the operator's call.
#[derive(Debug, thiserror::Error)]
#[error("{0}; figwatch stopped (start it again to begin with a new database)")]
pub struct StoreGone(pub String);

impl StoreGone {
    /// The exit status of a process whose database went away: a service manager restarts it.
    pub const EXIT_CODE: u8 = 3;
}

#[derive(Debug, Clone)]
pub struct FileIdentity {
    path: PathBuf,
    dev: u64,
    ino: u64,
}

impl FileIdentity {
    /// The identity of the file at `path` now (None if it cannot be read).
    pub fn of(path: &Path) -> Option<FileIdentity> {
        let m = std::fs::metadata(path).ok()?;
        Some(FileIdentity {
            path: path.to_path_buf(),
            dev: m.dev(),
            ino: m.ino(),
        })
    }

    /// Why the path no longer leads to the file opened, if it does not.
    pub fn gone(&self) -> Option<String> {
        let shown = self.path.display();
        match std::fs::metadata(&self.path) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Some(format!(
                "the database file {shown} was deleted while figwatch was using it; what was written since is lost when this process ends"
            )),
            Err(_) => None,
            Ok(m) if (m.dev(), m.ino()) != (self.dev, self.ino) => Some(format!(
                "the database file {shown} was replaced by another file while figwatch was using it"
            )),
            Ok(_) => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_deleted_or_replaced_file_is_noticed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("figwatch.db");
        std::fs::write(&path, "a").unwrap();
        let id = FileIdentity::of(&path).unwrap();
        assert_eq!(id.gone(), None);
        std::fs::write(dir.path().join("other"), "b").unwrap();
        std::fs::rename(dir.path().join("other"), &path).unwrap();
        assert!(id.gone().unwrap().contains("replaced"));
        std::fs::remove_file(&path).unwrap();
        assert!(id.gone().unwrap().contains("was deleted"));
    }
}
