//! Retention: whole monthly partitions older than `--retention` are dropped.

use std::io;

use super::fs;
use super::partition::PartitionKey;
use super::table::Storage;

/// Whether a partition holds only samples older than `now - retention`.
pub fn is_expired(key: PartitionKey, now_ms: i64, retention_ms: i64) -> bool {
    key.end_ms() <= now_ms.saturating_sub(retention_ms)
}

impl Storage {
    /// Drops expired partitions: their `parts.json` goes first (the commit point), then their parts
    /// retire and are deleted once no query reads them. Returns how many were dropped.
    pub async fn apply_retention(&self, now_ms: i64) -> io::Result<usize> {
        if !self.options.time_checks {
            return Ok(0);
        }
        let Ok(_permit) = self.commit_lock.acquire_permit(1).await else {
            return Ok(0);
        };
        let expired: Vec<PartitionKey> = self
            .partitions
            .borrow()
            .keys()
            .copied()
            .filter(|&k| is_expired(k, now_ms, self.options.retention_ms))
            .collect();
        for key in &expired {
            let list = self.dir.join("data").join(format!("{key}.parts.json"));
            std::fs::remove_file(&list).map_err(|e| fs::with_path(e, "remove", &list))?;
            fs::sync_parent(&list).await?;
            if let Some(partition) = self.partitions.borrow_mut().remove(key) {
                self.retired
                    .borrow_mut()
                    .extend(partition.parts.into_iter().map(|p| p.part));
            }
            log::info!("retention: dropped partition {key}");
        }
        self.stats.borrow_mut().partitions_dropped += expired.len() as u64;
        drop(_permit);
        self.delete_retired().await;
        self.refresh_part_stats();
        Ok(expired.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expiry_is_by_whole_month() {
        let day = 86_400_000;
        let nov = PartitionKey {
            year: 2026,
            month: 11,
        };
        let oct = PartitionKey {
            year: 2026,
            month: 10,
        };
        let now = nov.start_ms() + 10 * day;
        assert!(
            !is_expired(oct, now, 31 * day),
            "October still has samples within 31 days"
        );
        assert!(is_expired(oct, now, 10 * day));
        assert!(!is_expired(nov, now, day));
    }
}
