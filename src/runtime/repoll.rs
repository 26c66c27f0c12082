//! A guard against lost cross-executor wakeups: the wrapped future is polled again every
//! `period` even if nothing woke it.
//!
//! glommio 0.9's shared-channel handshake checks the peer's state and only then registers its
//! waker; when the peer connects in between, the wakeup is lost and the executor sleeps for
//! ever (8 of 60 concurrent start-ups here hung in `MeshBuilder::join`, both executors parked in
//! io_cqring_wait). Their poll functions re-check the shared state, so polling again recovers.
//! Used for the mesh connects at start-up, opening storage and cross-shard replies.
//!
//! Never around a shared-channel `recv` or `send` that may stay pending for long: glommio pushes
//! a clone of the task's waker into the channel's waiter list on every poll of a pending one
//! (`Reactor::add_shared_channel_waker`) and drains only as many as there are messages or free
//! slots; a task's waker count is an i16, so 32767 polls (164 s at 5 ms) panic with "Waker
//! invariant broken" (seen at 700k series in `tests/index_churn.rs`). For those, the shard's
//! heartbeat (`open_shard`) is the guard: each reactor turn re-checks every channel's state.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use glommio::timer::Timer;

/// The future returned by [`repoll`].
pub struct Repoll<F> {
    inner: Pin<Box<F>>,
    timer: Pin<Box<Timer>>,
    period: Duration,
}

/// Wraps `future` so that it is polled at least every `period` while pending.
pub fn repoll<F: Future>(period: Duration, future: F) -> Repoll<F> {
    Repoll {
        inner: Box::pin(future),
        timer: Box::pin(Timer::new(period)),
        period,
    }
}

impl<F: Future> Future for Repoll<F> {
    type Output = F::Output;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        if let Poll::Ready(value) = self.inner.as_mut().poll(cx) {
            return Poll::Ready(value);
        }
        // Arm (or re-arm) the timer so that this task is woken again after `period`.
        while self.timer.as_mut().poll(cx).is_ready() {
            let period = self.period;
            self.timer = Box::pin(Timer::new(period));
        }
        Poll::Pending
    }
}
