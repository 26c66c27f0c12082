//! The data directory: its lock, its `strata.json` and the checks made before any shard starts.
//!
//! `strata.json` records the on-disk format version and the shard count. Series
//! are owned by `hash mod shards`, so reopening a data dir with another shard
//! count would put series on the wrong shard: it is refused.

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// The on-disk format this build reads and writes.
pub const FORMAT_VERSION: u32 = 1;

const META_FILE: &str = "strata.json";
const LOCK_FILE: &str = "strata.lock";

/// Contents of `<data>/strata.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DataDirMeta {
    /// On-disk format version.
    pub format_version: u32,
    /// Number of shards the data is split into.
    pub shards: usize,
}

/// An opened, locked data directory. The lock is held until this value is dropped.
#[derive(Debug)]
pub struct DataDir {
    path: PathBuf,
    meta: DataDirMeta,
    /// Holds the `flock`; closing the file releases it.
    _lock: File,
}

impl DataDir {
    /// Creates or opens the data dir at `path` for `shards` shards; every failure is one line naming the problem and the fix.
    pub fn open(path: &Path, shards: usize) -> Result<Self, String> {
        fs::create_dir_all(path).map_err(|e| {
            format!(
                "cannot create data dir {}: {e}; choose another --data-dir or fix its permissions",
                path.display()
            )
        })?;
        let lock = lock_dir(path)?;
        check_writable(path)?;
        let meta_path = path.join(META_FILE);
        let meta = match fs::read(&meta_path) {
            Ok(bytes) => {
                let meta: DataDirMeta = serde_json::from_slice(&bytes).map_err(|e| {
                    format!(
                        "{} is corrupt ({e}); restore it or start with an empty --data-dir",
                        meta_path.display()
                    )
                })?;
                if meta.format_version != FORMAT_VERSION {
                    return Err(format!(
                        "data dir {} has format version {}, this strata reads version {FORMAT_VERSION}; use a strata release that matches it or a new --data-dir",
                        path.display(),
                        meta.format_version
                    ));
                }
                if meta.shards != shards {
                    return Err(format!(
                        "data dir {} was created with --shards {}, not {shards}: series are placed by shard count, so restart with --shards {} or use a new --data-dir",
                        path.display(),
                        meta.shards,
                        meta.shards
                    ));
                }
                meta
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let meta = DataDirMeta {
                    format_version: FORMAT_VERSION,
                    shards,
                };
                let json = serde_json::to_vec_pretty(&meta).map_err(|e| e.to_string())?;
                write_atomic_std(&meta_path, &json).map_err(|e| {
                    format!(
                        "cannot write {}: {e}; check free space and permissions of --data-dir",
                        meta_path.display()
                    )
                })?;
                meta
            }
            Err(e) => {
                return Err(format!(
                    "cannot read {}: {e}; check permissions of --data-dir",
                    meta_path.display()
                ));
            }
        };
        Ok(DataDir {
            path: path.to_path_buf(),
            meta,
            _lock: lock,
        })
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// What `strata.json` says.
    pub fn meta(&self) -> &DataDirMeta {
        &self.meta
    }

    /// The directory of shard `index`.
    pub fn shard_path(&self, index: usize) -> PathBuf {
        shard_path(&self.path, index)
    }
}

/// The directory of shard `index` under a data dir: `shard-NNN`.
pub fn shard_path(data_dir: &Path, index: usize) -> PathBuf {
    data_dir.join(format!("shard-{index:03}"))
}

fn lock_dir(path: &Path) -> Result<File, String> {
    let lock_path = path.join(LOCK_FILE);
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .map_err(|e| {
            format!(
                "cannot open lock file {}: {e}; check permissions of --data-dir",
                lock_path.display()
            )
        })?;
    if !crate::sys::try_lock_exclusive(&file) {
        return Err(format!(
            "data dir {} is in use by another strata process (lock {} is held); stop that process or choose another --data-dir",
            path.display(),
            lock_path.display()
        ));
    }
    Ok(file)
}

fn check_writable(path: &Path) -> Result<(), String> {
    let probe = path.join(".write-probe");
    let result = File::create(&probe).and_then(|mut f| f.write_all(b"probe"));
    let _ = fs::remove_file(&probe);
    result.map_err(|e| {
        format!(
            "data dir {} is not writable: {e}; fix its permissions or choose another --data-dir",
            path.display()
        )
    })
}

/// Writes a small file atomically with std I/O (before the shards and their io_uring exist).
fn write_atomic_std(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let tmp = path.with_extension("json.tmp");
    {
        let mut file = File::create(&tmp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
    }
    fs::rename(&tmp, path)?;
    if let Some(parent) = path.parent() {
        File::open(parent)?.sync_all()?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_dir(name: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("strata-datadir-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        dir
    }

    #[test]
    fn refuses_other_shard_count_and_second_opener() {
        let dir = temp_dir("shards");
        let first = DataDir::open(&dir, 2).unwrap();
        let second = DataDir::open(&dir, 2).unwrap_err();
        assert!(
            second.contains("in use by another strata process"),
            "{second}"
        );
        drop(first);
        let err = DataDir::open(&dir, 3).unwrap_err();
        assert!(err.contains("--shards 2"), "{err}");
        assert!(DataDir::open(&dir, 2).is_ok());
        let _ = fs::remove_dir_all(&dir);
    }

    #[test]
    fn refuses_unknown_format() {
        let dir = temp_dir("format");
        fs::create_dir_all(&dir).unwrap();
        fs::write(dir.join(META_FILE), br#"{"format_version":99,"shards":1}"#).unwrap();
        let err = DataDir::open(&dir, 1).unwrap_err();
        assert!(err.contains("format version 99"), "{err}");
        let _ = fs::remove_dir_all(&dir);
    }
}
