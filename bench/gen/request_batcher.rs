//! Cuts a round's samples into remote_write requests of at most N series,
//! encodes each once (protobuf, then snappy block format) and appends it to
//! the workload file, counting the totals on the way.

use std::io::{Seek, Write};

use strata::ingest::remote_write::proto::{Sample, TimeSeries, WriteRequest};

use super::catalog::HostSeries;
use super::fleet::RoundSink;
use crate::workload_file::WorkloadWriter;
use crate::workload_header::{WorkloadHeader, WorkloadTotals};

/// Builds and writes requests; one sample per series per request, as Prometheus sends them.
pub struct RequestBatcher<W: Write + Seek> {
    writer: WorkloadWriter<W>,
    max_series: usize,
    pending: WriteRequest,
    protobuf: Vec<u8>,
    compressed: Vec<u8>,
    snappy: snap::raw::Encoder,
    totals: WorkloadTotals,
    label_bytes: u64,
    /// The first write error; later samples are dropped and `finish` reports it.
    error: Option<std::io::Error>,
}

impl<W: Write + Seek> RequestBatcher<W> {
    /// A batcher writing requests of at most `max_series` series into `writer`.
    pub fn new(writer: WorkloadWriter<W>, max_series: usize) -> Self {
        assert!(max_series > 0, "a request needs room for one series");
        RequestBatcher {
            writer,
            max_series,
            pending: WriteRequest::default(),
            protobuf: Vec::new(),
            compressed: Vec::new(),
            snappy: snap::raw::Encoder::new(),
            totals: WorkloadTotals {
                min_timestamp_ms: i64::MAX,
                max_timestamp_ms: i64::MIN,
                ..WorkloadTotals::default()
            },
            label_bytes: 0,
            error: None,
        }
    }

    /// Encodes and writes the pending request, if any.
    pub fn flush(&mut self) {
        if self.pending.timeseries.is_empty() || self.error.is_some() {
            return;
        }
        if let Err(e) = self.write_pending() {
            self.error = Some(e);
        }
        self.pending.timeseries.clear();
    }

    fn write_pending(&mut self) -> std::io::Result<()> {
        use prost::Message;
        self.protobuf.clear();
        self.pending
            .encode(&mut self.protobuf)
            .map_err(std::io::Error::other)?;
        self.compressed
            .resize(snap::raw::max_compress_len(self.protobuf.len()), 0);
        let len = self
            .snappy
            .compress(&self.protobuf, &mut self.compressed)
            .map_err(std::io::Error::other)?;
        let body = self.compressed.get(..len).unwrap_or_default();
        let samples = self.pending.timeseries.len() as u32;
        self.writer.append(body, samples)?;
        self.totals.requests += 1;
        self.totals.protobuf_bytes += self.protobuf.len() as u64;
        self.totals.compressed_bytes += len as u64;
        Ok(())
    }

    /// Flushes and fills in the header's totals (`series` is set by the caller).
    pub fn finish(mut self, mut header: WorkloadHeader) -> std::io::Result<(W, WorkloadHeader)> {
        self.flush();
        if let Some(e) = self.error {
            return Err(e);
        }
        let samples = self.totals.samples.max(1);
        self.totals.label_bytes_per_sample =
            (self.label_bytes as f64 / samples as f64 * 100.0).round() / 100.0;
        let series = header.totals.series;
        header.totals = self.totals;
        header.totals.series = series;
        let out = self.writer.finish(&header)?;
        Ok((out, header))
    }
}

impl<W: Write + Seek> RoundSink for RequestBatcher<W> {
    fn sample(&mut self, series: &HostSeries, timestamp_ms: i64, value: f64) {
        self.pending.timeseries.push(TimeSeries {
            labels: series.labels.clone(),
            samples: vec![Sample {
                value,
                timestamp: timestamp_ms,
            }],
            exemplars: Vec::new(),
            histograms: Vec::new(),
        });
        self.totals.samples += 1;
        if value.to_bits() == strata::model::STALE_NAN_BITS {
            self.totals.stale_markers += 1;
        }
        self.label_bytes += series.label_bytes;
        self.totals.min_timestamp_ms = self.totals.min_timestamp_ms.min(timestamp_ms);
        self.totals.max_timestamp_ms = self.totals.max_timestamp_ms.max(timestamp_ms);
        if self.pending.timeseries.len() >= self.max_series {
            self.flush();
        }
    }
}
