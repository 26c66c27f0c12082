//! Label sets and their one canonical byte encoding.
//!
//! A series is identified by its labels sorted by name with unique names. The
//! canonical encoding is used for hashing (shard ownership), the index and the
//! wire between shards:
//!
//! ```text
//! label*  where label = uvarint(name.len) name uvarint(value.len) value
//! ```
//!
//! Labels with an empty value are not part of a series (Prometheus drops them),
//! so they never appear in the encoding.

use std::fmt;

use crate::encoding::varint;

/// One label: a name and a value.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Label {
    /// The label name, e.g. `__name__` or `instance`.
    pub name: String,
    /// The label value; never empty inside a stored series.
    pub value: String,
}

/// A series' labels, sorted by name, names unique, no empty values.
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Labels(Vec<Label>);

/// Why bytes are not a canonical label encoding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CanonicalDecodeError;

impl fmt::Display for CanonicalDecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("corrupt canonical label encoding")
    }
}

impl std::error::Error for CanonicalDecodeError {}

impl Labels {
    /// Builds a label set from pairs in any order; empty values are dropped, the
    /// last of duplicate names wins.
    pub fn from_pairs<N: Into<String>, V: Into<String>>(
        pairs: impl IntoIterator<Item = (N, V)>,
    ) -> Self {
        let mut labels: Vec<Label> = pairs
            .into_iter()
            .map(|(n, v)| Label {
                name: n.into(),
                value: v.into(),
            })
            .filter(|l| !l.value.is_empty())
            .collect();
        labels.sort_by(|a, b| a.name.cmp(&b.name));
        // Keep the last occurrence of a duplicated name.
        let mut deduped: Vec<Label> = Vec::with_capacity(labels.len());
        for label in labels {
            match deduped.last_mut() {
                Some(last) if last.name == label.name => *last = label,
                _ => deduped.push(label),
            }
        }
        Labels(deduped)
    }

    /// The labels in name order.
    pub fn iter(&self) -> std::slice::Iter<'_, Label> {
        self.0.iter()
    }

    /// Number of labels.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there are no labels.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The value of `name`, or `""` when absent (Prometheus treats the two alike).
    pub fn get(&self, name: &str) -> &str {
        self.0
            .binary_search_by(|l| l.name.as_str().cmp(name))
            .ok()
            .and_then(|i| self.0.get(i))
            .map_or("", |l| l.value.as_str())
    }

    /// The metric name (`__name__`), or `""`.
    pub fn metric_name(&self) -> &str {
        self.get(super::METRIC_NAME_LABEL)
    }

    /// Sets `name` to `value` (removes it when `value` is empty), keeping order.
    pub fn set(&mut self, name: &str, value: &str) {
        match self.0.binary_search_by(|l| l.name.as_str().cmp(name)) {
            Ok(i) if value.is_empty() => {
                self.0.remove(i);
            }
            Ok(i) => {
                if let Some(l) = self.0.get_mut(i) {
                    l.value = value.to_string();
                }
            }
            Err(_) if value.is_empty() => {}
            Err(i) => self.0.insert(
                i,
                Label {
                    name: name.to_string(),
                    value: value.to_string(),
                },
            ),
        }
    }

    /// Removes `name` if present.
    pub fn remove(&mut self, name: &str) {
        self.set(name, "");
    }

    /// Keeps only the labels for which `keep` is true.
    pub fn retain(&mut self, keep: impl FnMut(&Label) -> bool) {
        self.0.retain(keep);
    }

    /// Appends the canonical encoding to `out`.
    pub fn encode_canonical(&self, out: &mut Vec<u8>) {
        for label in &self.0 {
            encode_canonical_label(label.name.as_bytes(), label.value.as_bytes(), out);
        }
    }

    /// The canonical encoding as a new buffer.
    pub fn to_canonical(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(
            self.0
                .iter()
                .map(|l| l.name.len() + l.value.len() + 2)
                .sum(),
        );
        self.encode_canonical(&mut out);
        out
    }

    /// Decodes a canonical encoding (as written by [`encode_canonical`](Self::encode_canonical)).
    pub fn decode_canonical(mut src: &[u8]) -> Result<Self, CanonicalDecodeError> {
        let mut labels = Vec::new();
        while !src.is_empty() {
            let (name, rest) = take_string(src)?;
            let (value, rest) = take_string(rest)?;
            labels.push(Label {
                name: name.to_string(),
                value: value.to_string(),
            });
            src = rest;
        }
        Ok(Labels(labels))
    }

    /// The 64-bit hash that decides which shard owns the series.
    pub fn hash(&self) -> u64 {
        xxhash_rust::xxh3::xxh3_64(&self.to_canonical())
    }
}

impl fmt::Display for Labels {
    /// Formats as PromQL does: `name{a="b", c="d"}`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = self.metric_name();
        f.write_str(name)?;
        f.write_str("{")?;
        let mut first = true;
        for label in self.0.iter().filter(|l| l.name != super::METRIC_NAME_LABEL) {
            if !first {
                f.write_str(", ")?;
            }
            first = false;
            write!(f, "{}={:?}", label.name, label.value)?;
        }
        f.write_str("}")
    }
}

impl<'a> IntoIterator for &'a Labels {
    type Item = &'a Label;
    type IntoIter = std::slice::Iter<'a, Label>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

/// Appends one label in the canonical encoding to `out`.
pub fn encode_canonical_label(name: &[u8], value: &[u8], out: &mut Vec<u8>) {
    varint::put_uvarint(out, name.len() as u64);
    out.extend_from_slice(name);
    varint::put_uvarint(out, value.len() as u64);
    out.extend_from_slice(value);
}

/// Iterates over the (name, value) pairs of a canonical encoding without allocating.
pub fn canonical_pairs(src: &[u8]) -> CanonicalPairs<'_> {
    CanonicalPairs { src }
}

/// Iterator returned by [`canonical_pairs`].
pub struct CanonicalPairs<'a> {
    src: &'a [u8],
}

impl<'a> Iterator for CanonicalPairs<'a> {
    type Item = Result<(&'a [u8], &'a [u8]), CanonicalDecodeError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.src.is_empty() {
            return None;
        }
        let result = take_bytes(self.src).and_then(|(name, rest)| {
            let (value, rest) = take_bytes(rest)?;
            Ok((name, value, rest))
        });
        match result {
            Ok((name, value, rest)) => {
                self.src = rest;
                Some(Ok((name, value)))
            }
            Err(e) => {
                self.src = &[];
                Some(Err(e))
            }
        }
    }
}

fn take_bytes(src: &[u8]) -> Result<(&[u8], &[u8]), CanonicalDecodeError> {
    let (len, rest) = varint::get_uvarint(src).ok_or(CanonicalDecodeError)?;
    let len = usize::try_from(len).map_err(|_| CanonicalDecodeError)?;
    if rest.len() < len {
        return Err(CanonicalDecodeError);
    }
    Ok(rest.split_at(len))
}

fn take_string(src: &[u8]) -> Result<(&str, &[u8]), CanonicalDecodeError> {
    let (bytes, rest) = take_bytes(src)?;
    let s = std::str::from_utf8(bytes).map_err(|_| CanonicalDecodeError)?;
    Ok((s, rest))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn from_pairs_sorts_drops_empty_and_dedups() {
        let l = Labels::from_pairs([("b", "2"), ("a", "1"), ("c", ""), ("a", "3")]);
        let pairs: Vec<_> = l
            .iter()
            .map(|l| (l.name.as_str(), l.value.as_str()))
            .collect();
        assert_eq!(pairs, vec![("a", "3"), ("b", "2")]);
    }

    #[test]
    fn canonical_round_trip() {
        let l = Labels::from_pairs([("__name__", "up"), ("job", "node"), ("x", "é\"\n")]);
        let bytes = l.to_canonical();
        assert_eq!(Labels::decode_canonical(&bytes), Ok(l.clone()));
        let pairs: Vec<_> = canonical_pairs(&bytes)
            .collect::<Result<_, _>>()
            .unwrap_or_default();
        assert_eq!(pairs.len(), 3);
    }

    #[test]
    fn truncated_canonical_is_an_error() {
        let bytes = Labels::from_pairs([("a", "b")]).to_canonical();
        for cut in 1..bytes.len() {
            assert!(
                Labels::decode_canonical(&bytes[..cut]).is_err(),
                "cut at {cut}"
            );
        }
    }

    #[test]
    fn display_is_promql_like() {
        let l = Labels::from_pairs([("__name__", "up"), ("job", "a\"b")]);
        assert_eq!(l.to_string(), r#"up{job="a\"b"}"#);
    }

    #[test]
    fn set_and_get() {
        let mut l = Labels::from_pairs([("b", "2")]);
        l.set("a", "1");
        l.set("b", "");
        assert_eq!(l.get("a"), "1");
        assert_eq!(l.get("b"), "");
        assert_eq!(l.len(), 1);
    }
}
