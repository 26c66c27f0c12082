//! TSID: the id a series is stored under, ordered so a metric's series and one target's series sit together.

/// A series' storage id. Sorting by it keeps one metric's series together, and within
/// a metric one job's and one instance's, which is what queries scan.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Tsid {
    /// Hash of `__name__`.
    pub metric_group_id: u64,
    /// Hash of `job`, truncated.
    pub job_id: u32,
    /// Hash of `instance`, truncated.
    pub instance_id: u32,
    /// Unique within the shard; never reused.
    pub metric_id: u64,
}

/// Encoded size of a TSID.
pub const TSID_SIZE: usize = 24;

impl Tsid {
    /// Builds the TSID of a new series from its labels and its fresh metric id.
    pub fn new(labels: &crate::model::Labels, metric_id: u64) -> Self {
        let hash = |s: &str| xxhash_rust::xxh3::xxh3_64(s.as_bytes());
        Tsid {
            metric_group_id: hash(labels.metric_name()),
            job_id: hash(labels.get("job")) as u32,
            instance_id: hash(labels.get("instance")) as u32,
            metric_id,
        }
    }

    /// Appends the big-endian encoding (byte order = sort order).
    pub fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.metric_group_id.to_be_bytes());
        out.extend_from_slice(&self.job_id.to_be_bytes());
        out.extend_from_slice(&self.instance_id.to_be_bytes());
        out.extend_from_slice(&self.metric_id.to_be_bytes());
    }

    /// Decodes a TSID; returns it and the unread tail.
    pub fn decode(src: &[u8]) -> Option<(Self, &[u8])> {
        if src.len() < TSID_SIZE {
            return None;
        }
        let (head, rest) = src.split_at(TSID_SIZE);
        let u64_at = |i: usize| {
            head.get(i..i + 8)
                .and_then(|b| b.try_into().ok())
                .map(u64::from_be_bytes)
        };
        let u32_at = |i: usize| {
            head.get(i..i + 4)
                .and_then(|b| b.try_into().ok())
                .map(u32::from_be_bytes)
        };
        Some((
            Tsid {
                metric_group_id: u64_at(0)?,
                job_id: u32_at(8)?,
                instance_id: u32_at(12)?,
                metric_id: u64_at(16)?,
            },
            rest,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encoding_is_sized_and_ordered() {
        let a = Tsid {
            metric_group_id: 1,
            job_id: 2,
            instance_id: 3,
            metric_id: 4,
        };
        let b = Tsid { metric_id: 5, ..a };
        let (mut ea, mut eb) = (Vec::new(), Vec::new());
        a.encode(&mut ea);
        b.encode(&mut eb);
        assert_eq!(ea.len(), TSID_SIZE);
        assert!(ea < eb);
        assert_eq!(Tsid::decode(&ea), Some((a, &[][..])));
        assert_eq!(Tsid::decode(&ea[..10]), None);
    }
}
