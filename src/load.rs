//! How busy this server is with requests, so that work nobody waits for gives way to
//! work somebody does. A middleware around every request keeps the tally; the
//! background walks (ranking or reading a whole centre's items again, `jobs::walk`)
//! take their next item only while the server is quiet.
//!
//! Why: at 100,000 enrolments the walk that ranks 1.1 million items by meaning, once,
//! after the model arrives, takes days of spare time. Its threads run only in time
//! requests leave (`embedding`), yet beside a full load of ticks it still took a fifth of
//! the cores in the gaps between requests, and the ticks' throughput fell by about a
//! seventh while it ran (the caches and the cores' shared parts it uses are the
//! requests' too). The walk now waits out busy spells instead, and catches up when the
//! centre is quiet.
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;

/// Busy means requests were in flight, on average, at least this much of the time
/// (0.5: half the time one was; 32 when 32 always were).
const BUSY: f64 = 0.5;
/// How long a waiting walk looks at the load before it looks again.
const LOOK: Duration = Duration::from_millis(500);

/// The requests in flight over time: the time-integral of their number, exact at every
/// start and end, so that any span's average is one subtraction.
#[derive(Debug, Clone, Copy)]
struct Tally {
    /// When the number last changed.
    at: Instant,
    in_flight: u32,
    /// Requests' time in flight, summed, up to `at`.
    integral: Duration,
    /// Walks waiting for a quiet spell now.
    waiting: u32,
    /// Requests started since the tally began.
    started: u64,
}

/// A point of the tally: its integral at an instant.
#[derive(Debug, Clone, Copy)]
pub struct Mark {
    at: Instant,
    integral: Duration,
}

impl Tally {
    fn new(at: Instant) -> Tally {
        Tally {
            at,
            in_flight: 0,
            integral: Duration::ZERO,
            waiting: 0,
            started: 0,
        }
    }

    /// Moves the tally to `now` (never back) with the number in flight so far.
    fn advance(&mut self, now: Instant) {
        let now = now.max(self.at);
        self.integral += (now - self.at) * self.in_flight;
        self.at = now;
    }

    fn start(&mut self, now: Instant) {
        self.advance(now);
        self.in_flight += 1;
        self.started += 1;
    }

    fn end(&mut self, now: Instant) {
        self.advance(now);
        self.in_flight = self.in_flight.saturating_sub(1);
    }

    fn mark(&mut self, now: Instant) -> Mark {
        self.advance(now);
        Mark {
            at: self.at,
            integral: self.integral,
        }
    }

    fn in_flight(&self) -> u32 {
        self.in_flight
    }
}

impl Mark {
    /// The average number of requests in flight from `earlier` to this mark; over an
    /// empty span, the number in flight at its end.
    fn average_since(&self, earlier: &Mark, in_flight: u32) -> f64 {
        let span = self.at.saturating_duration_since(earlier.at);
        if span.is_zero() {
            return f64::from(in_flight);
        }
        self.integral.saturating_sub(earlier.integral).as_secs_f64() / span.as_secs_f64()
    }
}

/// Whether a span with this average load and this many requests in flight at its end is
/// quiet enough for a walk's next item.
fn quiet(average: f64, in_flight_now: u32) -> bool {
    average < BUSY && in_flight_now == 0
}

/// The server's tally, shared by its requests and its worker.
#[derive(Debug, Clone)]
pub struct Load(Arc<Mutex<Tally>>);

impl Default for Load {
    fn default() -> Self {
        Load(Arc::new(Mutex::new(Tally::new(Instant::now()))))
    }
}

/// A walk waiting for a quiet spell: counted until dropped (also when the walk is
/// cancelled mid-wait, as a worker's shutdown does).
struct Waiting(Load);

impl Drop for Waiting {
    fn drop(&mut self) {
        let mut tally = self.0.tally();
        tally.waiting = tally.waiting.saturating_sub(1);
    }
}

/// A request in flight: counted until dropped.
#[must_use]
pub struct InFlight(Load);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.tally().end(Instant::now());
    }
}

/// Counts every request in `load` while its handler runs (the body's streaming aside).
pub async fn counted(State(load): State<Load>, request: Request, next: Next) -> Response {
    let _in_flight = load.start();
    next.run(request).await
}

impl Load {
    fn tally(&self) -> MutexGuard<'_, Tally> {
        // The tally is a few numbers always left whole: a panic elsewhere cannot spoil it.
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Counts a request in flight until the answer is dropped.
    pub fn start(&self) -> InFlight {
        self.tally().start(Instant::now());
        InFlight(self.clone())
    }

    /// Where the tally is now, to measure a span from.
    pub fn mark(&self) -> Mark {
        self.tally().mark(Instant::now())
    }

    /// Requests started since the server did.
    pub fn requests(&self) -> u64 {
        self.tally().started
    }

    /// Walks waiting for a quiet spell now.
    pub fn walks_waiting(&self) -> u32 {
        self.tally().waiting
    }

    /// Returns once the server has been quiet since `since` (at once when it was), looking
    /// again every half second while it is busy, with the time it waited; `since` moves
    /// to now.
    pub async fn quiet_since(&self, since: &mut Mark) -> Duration {
        let began = Instant::now();
        let mut waiting = None;
        loop {
            let (now, in_flight) = {
                let mut tally = self.tally();
                (tally.mark(Instant::now()), tally.in_flight())
            };
            let calm = quiet(now.average_since(since, in_flight), in_flight);
            *since = now;
            if calm {
                drop(waiting);
                return began.elapsed();
            }
            if waiting.is_none() {
                self.tally().waiting += 1;
                waiting = Some(Waiting(self.clone()));
            }
            tokio::time::sleep(LOOK).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn at(start: Instant, ms: u64) -> Instant {
        start + Duration::from_millis(ms)
    }

    #[test]
    fn the_average_is_the_requests_time_over_the_span() {
        let t0 = Instant::now();
        let mut tally = Tally::new(t0);
        let begin = tally.mark(t0);
        tally.start(at(t0, 0));
        tally.start(at(t0, 100));
        tally.end(at(t0, 300));
        let end = tally.mark(at(t0, 400));
        // 400 ms and 200 ms in flight over 400 ms: one and a half on average.
        assert!((end.average_since(&begin, tally.in_flight()) - 1.5).abs() < 1e-9);
        assert_eq!(tally.in_flight(), 1);
    }

    #[test]
    fn an_empty_span_counts_what_is_in_flight() {
        let t0 = Instant::now();
        let mut tally = Tally::new(t0);
        tally.start(t0);
        let a = tally.mark(t0);
        assert_eq!(a.average_since(&a, tally.in_flight()), 1.0);
        assert!(!quiet(0.0, 1), "a request in flight is not quiet");
        assert!(quiet(0.0, 0));
        assert!(!quiet(0.6, 0), "a busy spell just ended is not quiet");
    }

    #[tokio::test]
    async fn a_walk_cancelled_while_it_waits_is_no_longer_counted_as_waiting() {
        let load = Load::default();
        let _in_flight = load.start();
        let walk = {
            let load = load.clone();
            tokio::spawn(async move { load.quiet_since(&mut load.mark()).await })
        };
        while load.walks_waiting() == 0 {
            tokio::task::yield_now().await;
        }
        walk.abort();
        assert!(walk.await.is_err_and(|e| e.is_cancelled()));
        assert_eq!(load.walks_waiting(), 0);
    }

    proptest! {
        /// Whatever the requests, the integral over the whole span is the sum of their
        /// times in flight (those still in flight counted to the end).
        #[test]
        fn the_integral_is_the_sum_of_the_requests_times(
            spans in proptest::collection::vec((0u64..1_000, 1u64..1_000), 0..40),
            end in 1_000u64..3_000,
        ) {
            let t0 = Instant::now();
            let mut events: Vec<(u64, bool)> = Vec::new();
            let mut expected = 0u64;
            for (start, length) in &spans {
                events.push((*start, true));
                if start + length < end {
                    events.push((start + length, false));
                    expected += length;
                } else {
                    expected += end - start;
                }
            }
            // Ends before starts at one instant: the number never goes below zero.
            events.sort_by_key(|(ms, starts)| (*ms, *starts));
            let mut tally = Tally::new(t0);
            let first = tally.mark(t0);
            for (ms, starts) in events {
                if starts { tally.start(at(t0, ms)) } else { tally.end(at(t0, ms)) }
            }
            let last = tally.mark(at(t0, end));
            let average = last.average_since(&first, tally.in_flight());
            prop_assert!((average * end as f64 - expected as f64).abs() < 1e-6 * end as f64);
        }
    }
}
