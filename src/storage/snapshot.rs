//! Snapshots: a shard's committed state as hard links, taken under the commit lock so the set of
//! parts is one that `parts.json` committed.
//!
//! ```text
//! <data>/snapshots/<name>/strata.json
//! <data>/snapshots/<name>/shard-NNN/indexdb/parts.json          copy of the index's commit point
//! <data>/snapshots/<name>/shard-NNN/indexdb/<part>/*            hard links (immutable files)
//! <data>/snapshots/<name>/shard-NNN/data/YYYY_MM.parts.json   copies of the commit points
//! <data>/snapshots/<name>/shard-NNN/data/{small,big}/YYYY_MM/<part>/*   hard links
//! ```
//! A snapshot is a valid data dir: `strata restore` copies it into place.

use std::io;
use std::path::Path;

use super::fs;
use super::partition::part_name;
use super::table::Storage;

impl Storage {
    /// Flushes, then links this shard's committed parts and series logs under `target` (the shard's
    /// directory inside the snapshot).
    pub async fn snapshot(&self, target: &Path) -> io::Result<()> {
        self.flush().await?;
        let Ok(_permit) = self.commit_lock.acquire_permit(1).await else {
            return Err(io::Error::other("storage is closing"));
        };
        let indexdb = self.dir.join("indexdb");
        let target_indexdb = target.join("indexdb");
        fs::create_dir_all(&target_indexdb).await?;
        // The flush above made the index durable up to now; its committed parts are immutable.
        let index_parts = self.index.table().hold_committed_parts();
        let parts_json = crate::index::mergeset::Table::parts_json(&index_parts)?;
        std::fs::write(
            target_indexdb.join(crate::index::mergeset::table::PARTS_FILE),
            parts_json,
        )
        .map_err(|e| fs::with_path(e, "write", &target_indexdb))?;
        for part in &index_parts {
            let name = format!("{:016x}", part.id);
            let from = indexdb.join(&name);
            let to = target_indexdb.join(&name);
            fs::create_dir_all(&to).await?;
            for file in fs::list_dir(&from).await? {
                link(&from.join(&file), &to.join(&file))?;
            }
        }
        let data = self.dir.join("data");
        let target_data = target.join("data");
        fs::create_dir_all(&target_data.join("small")).await?;
        fs::create_dir_all(&target_data.join("big")).await?;
        let partitions = self.partitions.borrow().clone();
        for (key, partition) in &partitions {
            let list = format!("{key}.parts.json");
            std::fs::copy(data.join(&list), target_data.join(&list))
                .map_err(|e| fs::with_path(e, "copy", &data.join(&list)))?;
            for live in &partition.parts {
                let kind = if live.big { "big" } else { "small" };
                let name = part_name(live.id);
                let from = data.join(kind).join(key.to_string()).join(&name);
                let to = target_data.join(kind).join(key.to_string()).join(&name);
                fs::create_dir_all(&to).await?;
                for file in fs::list_dir(&from).await? {
                    link(&from.join(&file), &to.join(&file))?;
                }
            }
        }
        Ok(())
    }
}

fn link(from: &Path, to: &Path) -> io::Result<()> {
    std::fs::hard_link(from, to).map_err(|e| fs::with_path(e, "hard-link", from))
}

/// Copies a snapshot into an empty (or missing) data dir: the `strata restore` subcommand.
pub fn restore(snapshot: &Path, data_dir: &Path) -> Result<(), String> {
    if !snapshot.join("strata.json").is_file() {
        return Err(format!(
            "{} is not a snapshot (no strata.json); pass a directory under <data>/snapshots/",
            snapshot.display()
        ));
    }
    if data_dir.exists()
        && std::fs::read_dir(data_dir)
            .map(|mut d| d.next().is_some())
            .unwrap_or(true)
    {
        return Err(format!(
            "--data-dir {} is not empty; restore into a new directory",
            data_dir.display()
        ));
    }
    copy_tree(snapshot, data_dir).map_err(|e| format!("restore failed: {e}"))?;
    Ok(())
}

fn copy_tree(from: &Path, to: &Path) -> io::Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_tree(&entry.path(), &target)?;
        } else {
            std::fs::copy(entry.path(), &target)?;
            std::fs::File::open(&target)?.sync_all()?;
        }
    }
    std::fs::File::open(to)?.sync_all()
}

/// Whether `name` is a safe snapshot name (it becomes a directory name).
pub fn valid_snapshot_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 128
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.')
        && !name.starts_with('.')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snapshot_names() {
        assert!(valid_snapshot_name("20261123T140000-abc"));
        for bad in ["", "..", "../x", "a/b", ".hidden", "a b"] {
            assert!(!valid_snapshot_name(bad), "{bad}");
        }
    }
}
