//! Cuts a body that arrives in pieces into lines, holding at most one partial line.
//!
//! The caller feeds chunks of any size; complete lines are handed out borrowed
//! from the chunk when possible, and only a line cut by a chunk boundary is
//! copied into the carry-over buffer. A line longer than the limit is dropped
//! while it streams by (the carry never grows past the limit) and reported once
//! its end arrives, so memory stays bounded for any body size.
//!
//! Lines end at `\n`; a trailing `\r` is removed. Line numbers are 1-based.

#![deny(clippy::indexing_slicing)]

/// One line as handed to the callback.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Line<'a> {
    /// A complete line, without its `\n` or trailing `\r`.
    Text(&'a [u8]),
    /// A line longer than the limit; its bytes were dropped.
    TooLong {
        /// How long it was in bytes.
        size_bytes: u64,
    },
}

/// Splits streamed bytes into lines with bounded memory.
#[derive(Debug)]
pub struct LineSplitter {
    /// The start of a line cut by the end of the previous chunk; never longer than `max_line_bytes`.
    carry: Vec<u8>,
    /// Number of the next line to hand out.
    next_line: u64,
    /// Longest accepted line in bytes.
    max_line_bytes: usize,
    /// Length of the over-long line currently being skipped, if any.
    skipping_bytes: Option<u64>,
}

impl LineSplitter {
    /// A splitter that rejects lines longer than `max_line_bytes`.
    pub fn new(max_line_bytes: usize) -> Self {
        LineSplitter {
            carry: Vec::new(),
            next_line: 1,
            max_line_bytes,
            skipping_bytes: None,
        }
    }

    /// Feeds the next piece of the body, calling `on_line(line_number, line)` for each completed line.
    pub fn feed(&mut self, mut chunk: &[u8], mut on_line: impl FnMut(u64, Line<'_>)) {
        while let Some(newline) = chunk.iter().position(|&b| b == b'\n') {
            let (head, rest) = chunk.split_at(newline);
            chunk = rest.get(1..).unwrap_or_default();
            let number = self.next_line;
            self.next_line += 1;
            if let Some(size) = self.skipping_bytes.take() {
                let size_bytes = size + head.len() as u64;
                on_line(number, Line::TooLong { size_bytes });
            } else if self.carry.is_empty() {
                self.emit(number, head, &mut on_line);
            } else if self.carry.len() + head.len() > self.max_line_bytes {
                let size_bytes = (self.carry.len() + head.len()) as u64;
                self.carry.clear();
                on_line(number, Line::TooLong { size_bytes });
            } else {
                let mut carry = std::mem::take(&mut self.carry);
                carry.extend_from_slice(head);
                self.emit(number, &carry, &mut on_line);
                carry.clear();
                self.carry = carry;
            }
        }
        self.keep_partial(chunk);
    }

    /// Ends the body: a last line without `\n` is handed out.
    pub fn finish(&mut self, mut on_line: impl FnMut(u64, Line<'_>)) {
        let number = self.next_line;
        if let Some(size_bytes) = self.skipping_bytes.take() {
            self.next_line += 1;
            on_line(number, Line::TooLong { size_bytes });
        } else if !self.carry.is_empty() {
            self.next_line += 1;
            let carry = std::mem::take(&mut self.carry);
            self.emit(number, &carry, &mut on_line);
        }
    }

    fn emit(&self, number: u64, line: &[u8], on_line: &mut impl FnMut(u64, Line<'_>)) {
        if line.len() > self.max_line_bytes {
            let size_bytes = line.len() as u64;
            on_line(number, Line::TooLong { size_bytes });
            return;
        }
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        on_line(number, Line::Text(line));
    }

    fn keep_partial(&mut self, tail: &[u8]) {
        if tail.is_empty() {
            return;
        }
        if let Some(size) = self.skipping_bytes.as_mut() {
            *size += tail.len() as u64;
        } else if self.carry.len() + tail.len() > self.max_line_bytes {
            self.skipping_bytes = Some((self.carry.len() + tail.len()) as u64);
            self.carry.clear();
        } else {
            self.carry.extend_from_slice(tail);
        }
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn split(chunks: &[&[u8]], max: usize) -> Vec<(u64, Result<String, u64>)> {
        let mut out = Vec::new();
        let mut splitter = LineSplitter::new(max);
        let mut collect = |n: u64, line: Line<'_>| {
            out.push((
                n,
                match line {
                    Line::Text(t) => Ok(String::from_utf8_lossy(t).into_owned()),
                    Line::TooLong { size_bytes } => Err(size_bytes),
                },
            ))
        };
        for chunk in chunks {
            splitter.feed(chunk, &mut collect);
        }
        splitter.finish(&mut collect);
        out
    }

    #[test]
    fn joins_lines_across_chunks() {
        let got = split(&[b"ab", b"c\r\nd", b"", b"e\nf"], 10);
        assert_eq!(
            got,
            vec![
                (1, Ok("abc".into())),
                (2, Ok("de".into())),
                (3, Ok("f".into()))
            ]
        );
    }

    #[test]
    fn every_split_point_gives_the_same_lines() {
        let body = b"one\ntwo two\n\nthree\n";
        let whole = split(&[body], 100);
        for cut in 0..body.len() {
            let (a, b) = body.split_at(cut);
            assert_eq!(split(&[a, b], 100), whole, "cut at {cut}");
        }
    }

    #[test]
    fn long_lines_are_reported_and_memory_stays_bounded() {
        let mut splitter = LineSplitter::new(4);
        let mut got = Vec::new();
        for _ in 0..100 {
            splitter.feed(b"xxxxxxxxxx", |n, l| got.push((n, l.to_owned_line())));
            assert!(splitter.carry.capacity() <= 16);
        }
        splitter.feed(b"\nok\n12345", |n, l| got.push((n, l.to_owned_line())));
        splitter.finish(|n, l| got.push((n, l.to_owned_line())));
        assert_eq!(got, vec![(1, Err(1000)), (2, Ok("ok".into())), (3, Err(5))]);
    }

    proptest::proptest! {
        #[test]
        fn matches_a_plain_split(
            body in proptest::collection::vec(any::<u8>().prop_map(|b| if b % 4 == 0 { b'\n' } else { b }), 0..200),
            cut_a in 0usize..200,
            cut_b in 0usize..200,
            max in 0usize..20,
        ) {
            let (cut_a, cut_b) = (cut_a.min(body.len()), cut_b.min(body.len()));
            let (first, rest) = body.split_at(cut_a.min(cut_b));
            let (second, third) = rest.split_at(cut_a.max(cut_b) - cut_a.min(cut_b));
            let got = split(&[first, second, third], max);
            let mut pieces: Vec<&[u8]> = body.split(|&b| b == b'\n').collect();
            if pieces.last().is_some_and(|p| p.is_empty()) {
                pieces.pop();
            }
            let want: Vec<(u64, Result<String, u64>)> = pieces
                .iter()
                .enumerate()
                .map(|(i, p)| {
                    let line = if p.len() > max { Err(p.len() as u64) } else {
                        Ok(String::from_utf8_lossy(p.strip_suffix(b"\r").unwrap_or(p)).into_owned())
                    };
                    (i as u64 + 1, line)
                })
                .collect();
            proptest::prop_assert_eq!(got, want);
        }
    }

    impl Line<'_> {
        fn to_owned_line(self) -> Result<String, u64> {
            match self {
                Line::Text(t) => Ok(String::from_utf8_lossy(t).into_owned()),
                Line::TooLong { size_bytes } => Err(size_bytes),
            }
        }
    }
}
