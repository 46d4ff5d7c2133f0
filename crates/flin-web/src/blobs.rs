//! Where the bytes of uploaded files live (services.md §2): blobs named by the SHA-256
//! of their content, each stored once. [`BlobStore`] is the whole interface the rest of
//! the server uses, so an object store (S3 through `object_store`, `storage.url`) can
//! take the place of [`LocalBlobs`], the folder `.flindb/blobs/`.
//!
//! Invariant: a blob store knows hashes and bytes only: not names, types, rows or who
//! may read what. Callers give it well-formed hashes ([`is_hash`]); it checks again,
//! since a hash becomes a path.

use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

/// Content-addressed storage of uploaded files.
pub trait BlobStore: Send + Sync {
    /// Takes the finished upload at `temp` (a file on this machine, fully written and
    /// synced) as the blob `hash`. When the blob is there already, the temp file goes.
    fn put(&self, temp: &Path, hash: &str) -> std::io::Result<()>;
    /// The size of blob `hash`, `None` when there is no such blob.
    fn size(&self, hash: &str) -> std::io::Result<Option<u64>>;
    /// A reader of `len` bytes of blob `hash` from byte `start`.
    fn open(&self, hash: &str, start: u64, len: u64) -> std::io::Result<Box<dyn Read + Send>>;
    /// Deletes blob `hash` (no error when it is gone already).
    fn delete(&self, hash: &str) -> std::io::Result<()>;
    /// The hashes of every blob stored.
    fn list(&self) -> std::io::Result<Vec<String>>;
    /// When blob `hash` was stored, if known.
    fn stored_at(&self, hash: &str) -> Option<std::time::SystemTime>;
}

/// Whether `text` is a blob name: 64 lower-case hex digits.
pub fn is_hash(text: &str) -> bool {
    text.len() == 64 && text.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// Blobs as files of one folder, named by their hash.
pub struct LocalBlobs {
    dir: PathBuf,
}

impl LocalBlobs {
    /// The store in `dir`, created when missing.
    pub fn open(dir: PathBuf) -> std::io::Result<LocalBlobs> {
        std::fs::create_dir_all(&dir)?;
        Ok(LocalBlobs { dir })
    }

    fn path(&self, hash: &str) -> std::io::Result<PathBuf> {
        if !is_hash(hash) {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                "not a blob hash",
            ));
        }
        Ok(self.dir.join(hash))
    }
}

impl BlobStore for LocalBlobs {
    fn put(&self, temp: &Path, hash: &str) -> std::io::Result<()> {
        let path = self.path(hash)?;
        // Same hash, same bytes: a rename over it changes nothing a reader could see
        // (rename is atomic), and leaves no temp file behind.
        match std::fs::rename(temp, &path) {
            // A folder on another file system (`uploads.storage_url`, shared by several
            // servers): copied beside the blob, synced, then renamed into place.
            Err(err) if err.kind() == std::io::ErrorKind::CrossesDevices => {
                let partial = self.dir.join(format!(".{hash}.{}", std::process::id()));
                std::fs::copy(temp, &partial)?;
                std::fs::File::open(&partial)?.sync_all()?;
                std::fs::rename(&partial, &path)?;
                std::fs::remove_file(temp)
            }
            other => other,
        }
    }

    fn stored_at(&self, hash: &str) -> Option<std::time::SystemTime> {
        std::fs::metadata(self.path(hash).ok()?)
            .ok()?
            .modified()
            .ok()
    }

    fn size(&self, hash: &str) -> std::io::Result<Option<u64>> {
        match std::fs::metadata(self.path(hash)?) {
            Ok(meta) => Ok(Some(meta.len())),
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(err) => Err(err),
        }
    }

    fn open(&self, hash: &str, start: u64, len: u64) -> std::io::Result<Box<dyn Read + Send>> {
        let mut file = std::fs::File::open(self.path(hash)?)?;
        file.seek(SeekFrom::Start(start))?;
        Ok(Box::new(file.take(len)))
    }

    fn delete(&self, hash: &str) -> std::io::Result<()> {
        match std::fs::remove_file(self.path(hash)?) {
            Err(err) if err.kind() != std::io::ErrorKind::NotFound => Err(err),
            _ => Ok(()),
        }
    }

    fn list(&self) -> std::io::Result<Vec<String>> {
        let mut hashes = Vec::new();
        // No folder (removed, or never made): no blobs.
        let entries = match std::fs::read_dir(&self.dir) {
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(hashes),
            other => other?,
        };
        for entry in entries {
            let name = entry?.file_name();
            if let Some(name) = name.to_str().filter(|n| is_hash(n)) {
                hashes.push(name.to_string());
            }
        }
        Ok(hashes)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn a_blob_is_put_read_in_part_listed_and_deleted() {
        let dir = tempfile::tempdir().unwrap();
        let blobs = LocalBlobs::open(dir.path().join("blobs")).unwrap();
        let hash = "ab".repeat(32);
        let temp = dir.path().join("upload");
        std::fs::write(&temp, b"hello world").unwrap();
        blobs.put(&temp, &hash).unwrap();
        assert!(!temp.exists());
        assert_eq!(blobs.size(&hash).unwrap(), Some(11));
        let mut part = String::new();
        blobs
            .open(&hash, 6, 3)
            .unwrap()
            .read_to_string(&mut part)
            .unwrap();
        assert_eq!(part, "wor");
        assert_eq!(blobs.list().unwrap(), vec![hash.clone()]);
        blobs.delete(&hash).unwrap();
        blobs.delete(&hash).unwrap();
        assert_eq!(blobs.size(&hash).unwrap(), None);
        assert!(blobs.size("../secret").is_err());
    }
}
