//! The one durable-write path for parts, `parts.json` and the series log, over glommio DMA files.
//!
//! A file is complete once `write_file` returns: glommio's stream writer pads the
//! last block, truncates to the real length and fdatasyncs on close. A rename is
//! durable once the parent directory is fsynced.

use std::io;
use std::path::{Path, PathBuf};

use futures_lite::AsyncWriteExt;
use glommio::io::{Directory, DmaFile, DmaStreamWriterBuilder, OpenOptions};

/// Buffer size of the DMA stream writer: big enough that large parts write at device speed (notes/GLOMMIO.md §4).
const WRITE_BUFFER_BYTES: usize = 512 * 1024;

/// Writes `bytes` to a new file at `path` (replacing it) and fdatasyncs it.
pub async fn write_file(path: &Path, bytes: &[u8]) -> io::Result<()> {
    // `DmaFile::create` is write-only and misleads glommio's iopoll probe (notes/GLOMMIO.md gotcha 3).
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(true)
        .dma_open(path)
        .await
        .map_err(|e| with_path(e.into(), "create", path))?;
    let mut writer = DmaStreamWriterBuilder::new(file)
        .with_buffer_size(WRITE_BUFFER_BYTES.min(bytes.len().next_power_of_two().max(4096)))
        .with_write_behind(2)
        .build();
    writer
        .write_all(bytes)
        .await
        .map_err(|e| with_path(e, "write", path))?;
    writer
        .close()
        .await
        .map_err(|e| with_path(e, "sync", path))?;
    Ok(())
}

/// Writes `bytes` to `path` atomically: a temp file, fdatasync, rename, fsync of the directory.
pub async fn write_file_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let tmp = tmp_sibling(path);
    if let Err(error) = write_file(&tmp, bytes).await {
        // A full disk: give the space back (best effort; start-up removes `*.tmp` too).
        let _ = std::fs::remove_file(&tmp);
        return Err(error);
    }
    rename(&tmp, path).await?;
    sync_parent(path).await
}

/// Renames `from` to `to` (not yet durable: sync the parent afterwards).
pub async fn rename(from: &Path, to: &Path) -> io::Result<()> {
    glommio::io::rename(from, to)
        .await
        .map_err(|e| with_path(e.into(), "rename", from))
}

/// Fsyncs a directory so that renames and new entries in it survive a crash.
pub async fn sync_dir(dir: &Path) -> io::Result<()> {
    let directory = Directory::open(dir)
        .await
        .map_err(|e| with_path(e.into(), "open dir", dir))?;
    directory
        .sync()
        .await
        .map_err(|e| with_path(e.into(), "sync dir", dir))?;
    directory
        .close()
        .await
        .map_err(|e| with_path(e.into(), "close dir", dir))
}

/// Fsyncs the directory holding `path`.
pub async fn sync_parent(path: &Path) -> io::Result<()> {
    match path.parent() {
        Some(parent) => sync_dir(parent).await,
        None => Ok(()),
    }
}

// The metadata helpers below call std directly on the shard's thread. They are small (a mkdir,
// a readdir, five unlinks, a metadata file of a few KiB), and glommio 0.9's `spawn_blocking`
// intermittently never woke the shard again when used right after a restart (both shards stuck
// in io_cqring_wait at start-up, reproduced by tests/storage_crash_merge.rs).

/// Creates `dir` and its parents.
pub async fn create_dir_all(dir: &Path) -> io::Result<()> {
    std::fs::create_dir_all(dir).map_err(|e| with_path(e, "create dir", dir))
}

/// Removes `dir` and everything in it; a missing dir is fine.
pub async fn remove_dir_all(dir: &Path) -> io::Result<()> {
    match std::fs::remove_dir_all(dir) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        other => other.map_err(|e| with_path(e, "remove dir", dir)),
    }
}

/// Reads a whole (small) file; `None` if it does not exist.
pub async fn read_small_file(path: &Path) -> io::Result<Option<Vec<u8>>> {
    match std::fs::read(path) {
        Ok(bytes) => Ok(Some(bytes)),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(with_path(e, "read", path)),
    }
}

/// Lists the entry names of `dir` (empty if missing).
pub async fn list_dir(dir: &Path) -> io::Result<Vec<String>> {
    match std::fs::read_dir(dir) {
        Ok(entries) => entries
            .map(|e| e.map(|e| e.file_name().to_string_lossy().into_owned()))
            .collect::<io::Result<Vec<String>>>()
            .map_err(|e| with_path(e, "list", dir)),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(Vec::new()),
        Err(e) => Err(with_path(e, "list", dir)),
    }
}

/// Works around glommio's polled-I/O probe (notes/GLOMMIO.md gotcha 1): the first DMA open on a
/// device must read a non-empty file, or every later DMA read fails with EOPNOTSUPP.
pub async fn prime_dma_probe(dir: &Path) -> io::Result<()> {
    let probe = dir.join(".dma-probe");
    std::fs::write(&probe, [0u8; 4096]).map_err(|e| with_path(e, "write probe", &probe))?;
    let file = DmaFile::open(&probe)
        .await
        .map_err(|e| with_path(e.into(), "open probe", &probe))?;
    let _ = file.read_at(0, 4096).await;
    let _ = file.close().await;
    std::fs::remove_file(&probe).map_err(|e| with_path(e, "remove probe", &probe))
}

fn tmp_sibling(path: &Path) -> PathBuf {
    let mut name = path
        .file_name()
        .map(|n| n.to_os_string())
        .unwrap_or_default();
    name.push(".tmp");
    path.with_file_name(name)
}

/// Adds the failed step and path to an I/O error, keeping its kind (ENOSPC stays ENOSPC).
pub fn with_path(error: io::Error, step: &str, path: &Path) -> io::Error {
    io::Error::new(error.kind(), format!("{step} {}: {error}", path.display()))
}
