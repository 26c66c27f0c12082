//! Puts a script's `load` data where the engine reads it. Kept apart from the
//! runner so the in-memory source can later be swapped for real shard storage.

use strata::query::eval::MemorySource;

use super::script::LoadedSeries;

/// The storage the scripts run against.
#[derive(Default)]
pub struct TestStorage {
    source: MemorySource,
}

impl TestStorage {
    /// Adds every float sample of a `load` block.
    pub fn load(&mut self, series: &[LoadedSeries]) {
        for s in series {
            for &(t, v) in &s.samples {
                self.source.add_sample(&s.labels, t, v);
            }
        }
    }

    /// Drops everything (`clear`).
    pub fn clear(&mut self) {
        self.source.clear();
    }

    /// The source queries read from.
    pub fn source(&self) -> &MemorySource {
        &self.source
    }
}
