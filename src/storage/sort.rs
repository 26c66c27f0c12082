//! A stable sort that yields to the scheduler: sealing sorts up to a second of ingest (hundreds of
//! thousands of rows) on the ingest core, and `slice::sort` would hold the core for tens of ms,
//! which every request waiting on that shard would pay as latency.
//!
//! Bottom-up merge sort: runs of `RUN_LEN` are sorted with `slice::sort_by_key`, then merged pairwise
//! into a scratch vector; the scheduler is offered the core every `RUN_LEN` elements.

/// Elements sorted or merged between two scheduler checks: about 0.5 ms of work.
const RUN_LEN: usize = 16 * 1024;

/// Sorts `items` by `key`, stably (equal keys keep their order), yielding while it works.
pub async fn sort_by_key_yielding<T: Copy, K: Ord>(items: &mut Vec<T>, key: impl Fn(&T) -> K) {
    if items.len() <= RUN_LEN {
        items.sort_by_key(&key);
        return;
    }
    for run in items.chunks_mut(RUN_LEN) {
        run.sort_by_key(&key);
        glommio::yield_if_needed().await;
    }
    let mut scratch: Vec<T> = Vec::with_capacity(items.len());
    let mut width = RUN_LEN;
    while width < items.len() {
        scratch.clear();
        let mut done = 0usize;
        for pair in items.chunks(2 * width) {
            let (left, right) = pair.split_at(width.min(pair.len()));
            let (mut left, mut right) = (left.iter().peekable(), right.iter().peekable());
            loop {
                // Ties take the left element: that keeps the sort stable.
                let take_left = match (left.peek(), right.peek()) {
                    (Some(l), Some(r)) => key(l) <= key(r),
                    (Some(_), None) => true,
                    (None, Some(_)) => false,
                    (None, None) => break,
                };
                let next = if take_left { left.next() } else { right.next() };
                if let Some(&item) = next {
                    scratch.push(item);
                }
                done += 1;
                if done % RUN_LEN == 0 {
                    glommio::yield_if_needed().await;
                }
            }
        }
        std::mem::swap(items, &mut scratch);
        width *= 2;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(len: usize, modulus: u64) {
        // (key, arrival): a stable sort keeps arrival ascending among equal keys.
        let mut state = 0x9e37_79b9_7f4a_7c15u64 ^ len as u64;
        let mut items: Vec<(u64, usize)> = (0..len)
            .map(|i| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                (state % modulus, i)
            })
            .collect();
        let mut want = items.clone();
        want.sort_by_key(|x| x.0);
        glommio::LocalExecutorBuilder::new(glommio::Placement::Unbound)
            .io_memory(1 << 20)
            .spawn(move || async move {
                sort_by_key_yielding(&mut items, |x| x.0).await;
                assert_eq!(items, want, "len {len} modulus {modulus}");
            })
            .expect("spawn executor")
            .join()
            .expect("sort test panicked");
    }

    #[test]
    fn sorts_stably_at_every_size() {
        for len in [
            0,
            1,
            2,
            RUN_LEN - 1,
            RUN_LEN,
            RUN_LEN + 1,
            3 * RUN_LEN + 17,
            9 * RUN_LEN,
        ] {
            for modulus in [1, 7, 1_000, u64::MAX] {
                check(len, modulus);
            }
        }
    }
}
