//! Monthly partitions: which month a timestamp belongs to, and one month's live parts.

use std::fmt;
use std::rc::Rc;

use serde::{Deserialize, Serialize};

use super::part::Part;

/// A calendar month (UTC), the unit of partitioning and of retention.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PartitionKey {
    /// Year, e.g. 2026.
    pub year: i32,
    /// Month, 1..=12.
    pub month: u32,
}

const MS_PER_DAY: i64 = 86_400_000;

impl PartitionKey {
    /// The month holding `timestamp_ms`.
    pub fn of(timestamp_ms: i64) -> Self {
        let (year, month, _) = civil_from_days(timestamp_ms.div_euclid(MS_PER_DAY));
        PartitionKey { year, month }
    }

    /// First millisecond of the month.
    pub fn start_ms(&self) -> i64 {
        days_from_civil(self.year, self.month, 1) * MS_PER_DAY
    }

    /// First millisecond of the next month.
    pub fn end_ms(&self) -> i64 {
        let (year, month) = if self.month == 12 {
            (self.year + 1, 1)
        } else {
            (self.year, self.month + 1)
        };
        days_from_civil(year, month, 1) * MS_PER_DAY
    }

    /// Parses the `YYYY_MM` directory name.
    pub fn parse(name: &str) -> Option<Self> {
        let (year, month) = name.split_once('_')?;
        let key = PartitionKey {
            year: year.parse().ok()?,
            month: month.parse().ok()?,
        };
        (1..=12).contains(&key.month).then_some(key)
    }
}

impl fmt::Display for PartitionKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}_{:02}", self.year, self.month)
    }
}

/// `YYYY_MM.parts.json`: the commit point of a partition, listing its live parts by id.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartsList {
    /// Small parts (recent flushes and their merges).
    pub small: Vec<String>,
    /// Big parts.
    pub big: Vec<String>,
}

/// A committed part of a partition.
#[derive(Clone)]
pub struct LivePart {
    /// Its id (unique, growing; a merge's output gets a new one).
    pub id: u64,
    /// Id of the newest flush whose rows it holds. Merges take runs of parts adjacent in this
    /// order, so the live parts' flush ranges never interleave and this orders them by age: a
    /// part with a higher value holds newer writes for equal timestamps.
    pub newest_write: u64,
    /// Whether it lives under `big/`.
    pub big: bool,
    /// The opened part.
    pub part: Rc<Part>,
}

impl LivePart {
    /// A committed part with id `id`.
    pub fn new(id: u64, big: bool, part: Rc<Part>) -> LivePart {
        let newest_write = match part.metadata.newest_write {
            0 => id,
            newest => newest,
        };
        LivePart {
            id,
            newest_write,
            big,
            part,
        }
    }
}

/// One month's live parts, in commit order.
#[derive(Default, Clone)]
pub struct Partition {
    /// Its parts.
    pub parts: Vec<LivePart>,
}

impl Partition {
    /// The parts list to commit for this partition.
    pub fn parts_list(&self) -> PartsList {
        let names = |big: bool| {
            self.parts
                .iter()
                .filter(|p| p.big == big)
                .map(|p| part_name(p.id))
                .collect()
        };
        PartsList {
            small: names(false),
            big: names(true),
        }
    }
}

/// A part's directory name.
pub fn part_name(id: u64) -> String {
    format!("{id:016x}")
}

/// Days since 1970-01-01 → (year, month, day). Howard Hinnant's algorithm.
pub fn civil_from_days(days: i64) -> (i32, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    ((if m <= 2 { y + 1 } else { y }) as i32, m, d)
}

/// (year, month, day) → days since 1970-01-01.
pub fn days_from_civil(year: i32, month: u32, day: u32) -> i64 {
    let y = i64::from(year) - i64::from(month <= 2);
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let m = i64::from(month);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn months() {
        assert_eq!(PartitionKey::of(0).to_string(), "1970_01");
        assert_eq!(PartitionKey::of(-1).to_string(), "1969_12");
        // 2026-11-23T12:00:00Z
        let key = PartitionKey::of(1_795_435_200_000);
        assert_eq!(key.to_string(), "2026_11");
        assert!(key.start_ms() <= 1_795_435_200_000 && 1_795_435_200_000 < key.end_ms());
        assert_eq!(PartitionKey::parse("2026_11"), Some(key));
        assert_eq!(PartitionKey::parse("2026_13"), None);
        for days in [-800_000i64, -1, 0, 59, 60, 365, 10_957, 20_000, 2_000_000] {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
    }
}
