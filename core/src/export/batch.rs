//! The batch span processor's policy: a bounded queue of finished spans, when to export,
//! which batches are in flight, and when a `flush()` is done. No timers or I/O here: the
//! glue passes the time in and arms one timer for [`BatchQueue::next_due`].
//!
//! - [`push`](BatchQueue::push) queues a span (or drops it, counted, when the queue is
//!   full) and tells the glue when the next export is due.
//! - [`take`](BatchQueue::take) hands out the next batch when one is due: the queue holds a
//!   full batch, the scheduled delay passed, a flush is waiting for queued spans, or the page
//!   is being hidden. At most `max_concurrent_exports` batches are in flight, counting those
//!   waiting for a retry; the page-hide path ignores that bound (the glue bounds keepalive
//!   requests itself).
//! - A batch that failed for a retryable reason is kept and tried again, however many
//!   attempts it takes, while the queue has room: the spans it holds count against
//!   `maxQueueSize` until it is acknowledged. While it fails, it is the channel's probe:
//!   only it is retried (with backoff), later batches stay queued, and the other batches
//!   that fail meanwhile are held ([`ExportOutcome::Held`]). Once the endpoint answers,
//!   the held batches go again, oldest first, then the queue in order.
//! - A 429 under Rollbar's retry policy pauses the queue: nothing is handed out, and
//!   [`push`](BatchQueue::push) drops items, until the pause is over.
//! - [`finish`](BatchQueue::finish) ends a batch (acknowledged or given up);
//!   [`flush`](BatchQueue::flush) and [`flush_result`](BatchQueue::flush_result) tell when
//!   everything queued before a flush has been acknowledged.

use crate::prelude::*;
use alloc::collections::VecDeque;

use crate::export::retry::{ExportOutcome, FailReason, RetryConfig, classify};

/// Default delay between scheduled exports (OpenTelemetry's `scheduledDelayMillis`).
pub const DEFAULT_SCHEDULED_DELAY_MILLIS: u32 = 5000;
/// Default maximum queued spans (`maxQueueSize`); spans beyond it are dropped and counted.
pub const DEFAULT_MAX_QUEUE_SIZE: u32 = 2048;
/// Default maximum spans per export request (`maxExportBatchSize`).
pub const DEFAULT_MAX_EXPORT_BATCH_SIZE: u32 = 512;
/// Default time one export attempt may take before it is aborted (`exportTimeoutMillis`);
/// also how long `flush()` waits.
pub const DEFAULT_EXPORT_TIMEOUT_MILLIS: u32 = 30_000;
/// Default bound on batches in flight at once, retries waiting included.
pub const DEFAULT_MAX_CONCURRENT_EXPORTS: u32 = 2;

/// The `batch` option.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BatchConfig {
    /// `batch.scheduledDelayMillis`.
    pub scheduled_delay_millis: u32,
    /// `batch.maxQueueSize`: spans queued, plus those of batches waiting to be sent again.
    pub max_queue_size: u32,
    /// `batch.maxExportBatchSize`.
    pub max_export_batch_size: u32,
    /// `batch.exportTimeoutMillis`.
    pub export_timeout_millis: u32,
    /// `batch.maxConcurrentExports`.
    pub max_concurrent_exports: u32,
}

impl Default for BatchConfig {
    fn default() -> Self {
        Self {
            scheduled_delay_millis: DEFAULT_SCHEDULED_DELAY_MILLIS,
            max_queue_size: DEFAULT_MAX_QUEUE_SIZE,
            max_export_batch_size: DEFAULT_MAX_EXPORT_BATCH_SIZE,
            export_timeout_millis: DEFAULT_EXPORT_TIMEOUT_MILLIS,
            max_concurrent_exports: DEFAULT_MAX_CONCURRENT_EXPORTS,
        }
    }
}

/// What [`BatchQueue::push`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Push {
    /// Queued; the export timer is already armed (or a batch is in flight and will take it).
    Queued,
    /// Queued; arm the export timer to fire in this many milliseconds.
    Arm(u64),
    /// The queue was full (counting batches waiting to be sent again): the span was dropped.
    Dropped,
    /// Sending is paused after a 429 ([`FailReason::RateLimited`]): the item was dropped.
    Paused,
}

/// How [`BatchQueue::take`] was called.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TakeMode {
    /// From the export timer, or after a batch finished: only due batches, within the
    /// in-flight bound.
    Due,
    /// The page is being hidden: everything, ignoring the schedule and the in-flight bound.
    Hidden,
}

/// A batch handed out for export.
#[derive(Debug)]
pub struct Batch<T> {
    /// Identifies the batch in [`BatchQueue::finish`] and [`BatchQueue::split`].
    pub id: u32,
    /// The spans, oldest first.
    pub items: Vec<T>,
}

/// Where an in-flight batch stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    /// An attempt is being made (or the glue holds it to send at once).
    Sending,
    /// It failed and is the probe: the glue's timer sends it again.
    Waiting,
    /// It failed while another batch probes the endpoint: sent again once it answers.
    Held,
}

#[derive(Clone, Copy, Debug)]
struct InFlight {
    id: u32,
    first_seq: u64,
    len: u64,
    /// The attempt being made, or the last one made (1-based).
    attempt: u32,
    state: State,
    /// Whether an attempt failed: its items count in `retained`.
    retrying: bool,
}

#[derive(Clone, Copy, Debug)]
struct FlushWaiter {
    token: u32,
    /// Sequence number after the last span queued before the flush.
    target: u64,
    ok: bool,
}

/// The queue of finished spans and the batches in flight.
#[derive(Debug)]
pub struct BatchQueue<T> {
    config: BatchConfig,
    queue: VecDeque<T>,
    /// Sequence number of the span at the front of the queue.
    head_seq: u64,
    in_flight: Vec<InFlight>,
    next_batch_id: u32,
    /// When the scheduled export is due (milliseconds on the glue's clock).
    due_at: Option<u64>,
    waiters: Vec<FlushWaiter>,
    next_token: u32,
    /// Nothing is sent or queued before this time (after a 429 under Rollbar's policy).
    paused_until: u64,
    /// The batch whose retries test the endpoint while it fails; `None` while it answers.
    probe: Option<u32>,
    /// Items of in-flight batches that failed at least once: they count against the queue
    /// bound until they are acknowledged or given up.
    retained: u64,
}

impl<T> BatchQueue<T> {
    /// An empty queue.
    pub fn new(config: BatchConfig) -> Self {
        Self {
            config,
            queue: VecDeque::new(),
            head_seq: 0,
            in_flight: Vec::new(),
            next_batch_id: 1,
            due_at: None,
            waiters: Vec::new(),
            next_token: 1,
            paused_until: 0,
            probe: None,
            retained: 0,
        }
    }

    /// The configuration.
    pub fn config(&self) -> &BatchConfig {
        &self.config
    }

    /// Spans queued, not yet handed out.
    pub fn queued(&self) -> usize {
        self.queue.len()
    }

    /// Batches in flight (sending, or waiting for a retry).
    pub fn in_flight(&self) -> usize {
        self.in_flight.len()
    }

    /// Whether the endpoint is failing: a batch probes it, and nothing new is handed out.
    pub fn probing(&self) -> bool {
        self.probe.is_some()
    }

    /// Queues a finished span at `now` (milliseconds).
    pub fn push(&mut self, item: T, now: u64) -> Push {
        if now < self.paused_until {
            return Push::Paused;
        }
        if self.queue.len() as u64 + self.retained >= u64::from(self.config.max_queue_size) {
            return Push::Dropped;
        }
        self.queue.push_back(item);
        if self.due_at.is_none() {
            self.due_at = Some(now + u64::from(self.config.scheduled_delay_millis));
            return Push::Arm(u64::from(self.config.scheduled_delay_millis));
        }
        if self.queue.len() == self.config.max_export_batch_size as usize && self.has_slot() {
            return Push::Arm(0);
        }
        Push::Queued
    }

    fn has_slot(&self) -> bool {
        self.in_flight.len() < self.config.max_concurrent_exports as usize
    }

    fn tail_seq(&self) -> u64 {
        self.head_seq + self.queue.len() as u64
    }

    /// Whether a flush waits for a span still in the queue.
    fn flush_waits_on_queue(&self) -> bool {
        !self.queue.is_empty() && self.waiters.iter().any(|w| w.target > self.head_seq)
    }

    /// Milliseconds from `now` until [`take`](Self::take) or [`resume`](Self::resume) in
    /// [`TakeMode::Due`] would hand out a batch; `None` when nothing is queued, every
    /// in-flight slot is taken, or a probe is out (a finishing batch is then the next
    /// trigger).
    pub fn next_due(&self, now: u64) -> Option<u64> {
        if self.probe.is_some() {
            return None;
        }
        if self.in_flight.iter().any(|b| b.state == State::Held) {
            return Some(0);
        }
        if self.queue.is_empty() || !self.has_slot() {
            return None;
        }
        if now < self.paused_until {
            return Some(self.paused_until - now);
        }
        if self.flush_waits_on_queue()
            || self.queue.len() >= self.config.max_export_batch_size as usize
        {
            return Some(0);
        }
        Some(self.due_at.map_or(0, |d| d.saturating_sub(now)))
    }

    /// The next batch to export, if one is due (see [`TakeMode`]).
    pub fn take(&mut self, now: u64, mode: TakeMode) -> Option<Batch<T>> {
        let due = match mode {
            TakeMode::Hidden => {
                // The glue sends every batch it holds now, held ones and the probe included.
                for b in &mut self.in_flight {
                    if b.state == State::Held {
                        b.attempt += 1;
                    }
                    b.state = State::Sending;
                }
                !self.queue.is_empty() && now >= self.paused_until
            }
            TakeMode::Due => {
                self.probe.is_none()
                    && self.has_slot()
                    && !self.in_flight.iter().any(|b| b.state == State::Held)
                    && self.next_due(now) == Some(0)
            }
        };
        if !due {
            return None;
        }
        let n = self
            .queue
            .len()
            .min(self.config.max_export_batch_size as usize);
        let items: Vec<T> = self.queue.drain(..n).collect();
        let id = self.next_batch_id;
        self.next_batch_id = self.next_batch_id.wrapping_add(1).max(1);
        self.in_flight.push(InFlight {
            id,
            first_seq: self.head_seq,
            len: n as u64,
            attempt: 1,
            state: State::Sending,
            retrying: false,
        });
        self.head_seq += n as u64;
        // The next scheduled export is a full delay away.
        self.due_at =
            (!self.queue.is_empty()).then(|| now + u64::from(self.config.scheduled_delay_millis));
        Some(Batch { id, items })
    }

    /// The oldest held batch, to send again now that the endpoint answers (its id and size);
    /// `None` while a probe is out or nothing is held.
    pub fn resume(&mut self) -> Option<(u32, u64)> {
        if self.probe.is_some() {
            return None;
        }
        let b = self
            .in_flight
            .iter_mut()
            .filter(|b| b.state == State::Held)
            .min_by_key(|b| b.first_seq)?;
        b.state = State::Sending;
        b.attempt += 1;
        Some((b.id, b.len))
    }

    /// Splits in-flight batch `id` into parts of `counts` spans (in order; they must add up
    /// to the batch's size), each finished on its own. Returns the parts' ids, or `None`
    /// (nothing changed) for an unknown id or counts that do not add up.
    pub fn split(&mut self, id: u32, counts: &[u32]) -> Option<Vec<u32>> {
        let pos = self.in_flight.iter().position(|b| b.id == id)?;
        let batch = self.in_flight[pos];
        if counts.iter().map(|&c| u64::from(c)).sum::<u64>() != batch.len || counts.contains(&0) {
            return None;
        }
        self.in_flight.remove(pos);
        let mut seq = batch.first_seq;
        let mut ids = Vec::with_capacity(counts.len());
        for (i, &c) in counts.iter().enumerate() {
            let part_id = if i == 0 {
                id
            } else {
                let n = self.next_batch_id;
                self.next_batch_id = self.next_batch_id.wrapping_add(1).max(1);
                n
            };
            self.in_flight.push(InFlight {
                id: part_id,
                first_seq: seq,
                len: u64::from(c),
                ..batch
            });
            ids.push(part_id);
            seq += u64::from(c);
        }
        Some(ids)
    }

    /// Records how an attempt to send batch `id` ended at `now` (HTTP `status`, 0 for no
    /// response; the `Retry-After` header) and decides, with [`classify`], what follows: the
    /// batch is finished on success or failure, or kept in flight: retried after a delay when
    /// it is (or becomes) the probe, held behind the probe otherwise. Any answer from the
    /// endpoint but a retryable one ends the probing. Returns the outcome and the number of
    /// spans in the batch; `None` for an unknown id.
    pub fn attempt_ended(
        &mut self,
        id: u32,
        status: u16,
        retry_after: Option<&str>,
        now: u64,
        retry: &RetryConfig,
        unit_random: f64,
    ) -> Option<(ExportOutcome, u64)> {
        let b = self.in_flight.iter_mut().find(|b| b.id == id)?;
        let mut outcome = classify(status, retry_after, b.attempt, now, retry, unit_random);
        let len = b.len;
        match outcome {
            ExportOutcome::Retry { .. } | ExportOutcome::Held => {
                if !core::mem::replace(&mut b.retrying, true) {
                    self.retained += b.len;
                }
                if self.probe.is_none_or(|p| p == id) {
                    self.probe = Some(id);
                    b.state = State::Waiting;
                    b.attempt += 1;
                } else {
                    b.state = State::Held;
                    outcome = ExportOutcome::Held;
                }
            }
            ExportOutcome::Success => {
                self.probe = None;
                self.finish(id, true);
            }
            ExportOutcome::Failed(reason) => {
                if let FailReason::RateLimited { pause_millis } = reason {
                    self.paused_until = now.saturating_add(pause_millis);
                }
                // The endpoint answered: whatever is held may go.
                self.probe = None;
                self.finish(id, false);
            }
        }
        Some((outcome, len))
    }

    /// Ends in-flight batch `id`: `acknowledged` by the endpoint, or given up (dropped).
    /// Returns the number of spans it held (0 for an unknown id).
    pub fn finish(&mut self, id: u32, acknowledged: bool) -> u64 {
        let Some(pos) = self.in_flight.iter().position(|b| b.id == id) else {
            return 0;
        };
        let batch = self.in_flight.remove(pos);
        if batch.retrying {
            self.retained -= batch.len;
        }
        if self.probe == Some(id) {
            self.probe = None;
        }
        if !acknowledged {
            for w in &mut self.waiters {
                if batch.first_seq < w.target {
                    w.ok = false;
                }
            }
        }
        batch.len
    }

    /// Starts a flush of everything queued or in flight now; poll it with
    /// [`flush_result`](Self::flush_result).
    pub fn flush(&mut self) -> u32 {
        let token = self.next_token;
        self.next_token = self.next_token.wrapping_add(1).max(1);
        self.waiters.push(FlushWaiter {
            token,
            target: self.tail_seq(),
            ok: true,
        });
        token
    }

    /// `None` while flush `token` waits; then, once, `Some(true)` when every span queued
    /// before it was acknowledged, `Some(false)` when some were given up. An unknown token
    /// gives `Some(true)`.
    pub fn flush_result(&mut self, token: u32) -> Option<bool> {
        let Some(pos) = self.waiters.iter().position(|w| w.token == token) else {
            return Some(true);
        };
        let w = self.waiters[pos];
        let pending =
            self.head_seq < w.target || self.in_flight.iter().any(|b| b.first_seq < w.target);
        if pending {
            return None;
        }
        self.waiters.remove(pos);
        Some(w.ok)
    }
}

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use super::*;

    fn cfg(batch: u32, queue: u32, concurrent: u32) -> BatchConfig {
        BatchConfig {
            scheduled_delay_millis: 100,
            max_queue_size: queue,
            max_export_batch_size: batch,
            export_timeout_millis: 1000,
            max_concurrent_exports: concurrent,
        }
    }

    #[test]
    fn first_span_arms_the_scheduled_delay_and_a_full_batch_is_due_at_once() {
        let mut q = BatchQueue::new(cfg(3, 10, 1));
        assert_eq!(q.push(1, 1000), Push::Arm(100));
        assert_eq!(q.push(2, 1010), Push::Queued);
        assert_eq!(q.next_due(1050), Some(50));
        assert!(q.take(1050, TakeMode::Due).is_none(), "not due yet");
        assert_eq!(q.push(3, 1020), Push::Arm(0), "a full batch");
        let b = q.take(1020, TakeMode::Due).unwrap();
        assert_eq!(b.items, vec![1, 2, 3]);
        assert_eq!(q.next_due(1020), None, "queue empty");
    }

    #[test]
    fn scheduled_delay_exports_a_partial_batch() {
        let mut q = BatchQueue::new(cfg(10, 10, 1));
        q.push("a", 0);
        q.push("b", 50);
        assert!(q.take(99, TakeMode::Due).is_none());
        assert_eq!(q.take(100, TakeMode::Due).unwrap().items, vec!["a", "b"]);
        // The queue emptied: the next span arms a fresh delay.
        assert_eq!(q.push("c", 200), Push::Arm(100));
    }

    #[test]
    fn full_queue_drops_new_spans() {
        let mut q = BatchQueue::new(cfg(2, 3, 1));
        for i in 0..3 {
            assert_ne!(q.push(i, 0), Push::Dropped);
        }
        assert_eq!(q.push(3, 0), Push::Dropped);
        assert_eq!(q.queued(), 3);
        let b = q.take(0, TakeMode::Due).unwrap();
        assert_eq!(b.items, vec![0, 1], "oldest kept, newest dropped");
        assert_ne!(q.push(4, 0), Push::Dropped, "room again");
    }

    #[test]
    fn in_flight_exports_are_bounded() {
        let mut q = BatchQueue::new(cfg(2, 100, 2));
        for i in 0..10 {
            q.push(i, 0);
        }
        let a = q.take(0, TakeMode::Due).unwrap();
        let b = q.take(0, TakeMode::Due).unwrap();
        assert!(q.take(0, TakeMode::Due).is_none(), "two in flight");
        assert_eq!(q.next_due(1000), None, "finishing a batch is the trigger");
        assert_eq!(q.finish(a.id, true), 2);
        assert_eq!(q.next_due(0), Some(0));
        let c = q.take(0, TakeMode::Due).unwrap();
        assert_eq!(c.items, vec![4, 5]);
        q.finish(b.id, false);
        q.finish(c.id, true);
        assert_eq!(q.finish(c.id, true), 0, "finishing twice is a no-op");
    }

    #[test]
    fn hidden_takes_everything_past_the_bound() {
        let mut q = BatchQueue::new(cfg(2, 100, 1));
        for i in 0..5 {
            q.push(i, 0);
        }
        let _a = q.take(0, TakeMode::Due).unwrap();
        let mut got = Vec::new();
        while let Some(b) = q.take(0, TakeMode::Hidden) {
            assert!(b.items.len() <= 2);
            got.extend(b.items);
        }
        assert_eq!(got, vec![2, 3, 4]);
        assert_eq!(q.in_flight(), 3);
    }

    #[test]
    fn flush_waits_for_queued_and_in_flight_spans_before_it() {
        let mut q = BatchQueue::new(cfg(2, 100, 1));
        q.push(1, 0);
        q.push(2, 0);
        q.push(3, 0);
        let a = q.take(0, TakeMode::Due).unwrap();
        let t = q.flush();
        q.push(4, 0); // after the flush: not waited for
        assert_eq!(q.flush_result(t), None);
        assert_eq!(q.next_due(0), None, "in-flight bound still applies");
        q.finish(a.id, true);
        assert_eq!(q.next_due(0), Some(0), "flush makes the rest due at once");
        let b = q.take(0, TakeMode::Due).unwrap();
        assert_eq!(b.items, vec![3, 4]);
        assert_eq!(q.flush_result(t), None);
        q.finish(b.id, true);
        assert_eq!(q.flush_result(t), Some(true));
        assert_eq!(q.flush_result(t), Some(true), "unknown token");
    }

    #[test]
    fn flush_reports_spans_given_up() {
        let mut q = BatchQueue::new(cfg(5, 100, 1));
        q.push(1, 0);
        let t_empty = q.flush();
        let a = q.take(0, TakeMode::Due).unwrap();
        let t = q.flush();
        q.finish(a.id, false);
        assert_eq!(q.flush_result(t), Some(false));
        assert_eq!(q.flush_result(t_empty), Some(false));
        let t_none = q.flush();
        assert_eq!(q.flush_result(t_none), Some(true), "nothing to wait for");
    }

    fn backoff(initial: u32, max: u32) -> RetryConfig {
        RetryConfig {
            initial_backoff_millis: initial,
            max_backoff_millis: max,
            ..RetryConfig::default()
        }
    }

    #[test]
    fn retryable_failures_back_off_to_the_cap_and_never_give_up() {
        use crate::export::retry::FailReason;
        let retry = backoff(10, 40);
        let mut q = BatchQueue::new(cfg(5, 100, 1));
        q.push(1, 0);
        let b = q.take(100, TakeMode::Hidden).unwrap();
        let t = q.flush();
        let r = |q: &mut BatchQueue<i32>, status, after, now| {
            q.attempt_ended(b.id, status, after, now, &retry, 0.5)
                .map(|(o, _)| o)
        };
        // 10, 15, 22.5, 33.75, then the 40 ms cap for as long as it fails.
        let mut delays = Vec::new();
        for (i, status) in [503, 0, 502, 504, 429, 0, 503, 0].into_iter().enumerate() {
            match r(&mut q, status, None, 110 + i as u64) {
                Some(ExportOutcome::Retry { delay_millis }) => delays.push(delay_millis),
                other => panic!("{status}: {other:?}"),
            }
        }
        assert_eq!(delays, [10, 15, 23, 34, 40, 40, 40, 40]);
        assert_eq!(
            r(&mut q, 429, Some("0"), 130),
            Some(ExportOutcome::Retry { delay_millis: 0 }),
            "Retry-After replaces the backoff"
        );
        assert_eq!(q.in_flight(), 1, "waiting for a retry holds its slot");
        assert_eq!(q.flush_result(t), None, "the flush waits for it");
        assert_eq!(r(&mut q, 200, None, 150), Some(ExportOutcome::Success));
        assert_eq!(q.flush_result(t), Some(true), "nothing was lost");
        assert!(!q.probing());
        assert_eq!(r(&mut q, 200, None, 150), None, "finished");

        q.push(2, 0);
        let b = q.take(0, TakeMode::Hidden).unwrap();
        assert_eq!(
            q.attempt_ended(b.id, 400, None, 1, &retry, 0.5),
            Some((ExportOutcome::Failed(FailReason::NotRetryable(400)), 1))
        );
    }

    #[test]
    fn one_batch_probes_a_failing_endpoint_while_the_rest_wait_in_order() {
        let retry = backoff(10, 40);
        let mut q = BatchQueue::new(cfg(2, 10, 2));
        for i in 0..6 {
            q.push(i, 0);
        }
        let a = q.take(0, TakeMode::Due).unwrap();
        let b = q.take(0, TakeMode::Due).unwrap();
        assert_eq!((a.items.clone(), b.items.clone()), (vec![0, 1], vec![2, 3]));
        // The endpoint goes down: the first failure makes `b` the probe; `a`, failing
        // after it, is held instead of retrying on its own.
        let end = |q: &mut BatchQueue<i32>, id, status| {
            q.attempt_ended(id, status, None, 10, &retry, 0.5)
                .map(|(o, _)| o)
        };
        assert!(matches!(
            end(&mut q, b.id, 0),
            Some(ExportOutcome::Retry { .. })
        ));
        assert!(q.probing());
        assert_eq!(end(&mut q, a.id, 503), Some(ExportOutcome::Held));
        assert_eq!(
            q.next_due(10),
            None,
            "the probe's timer is the only trigger"
        );
        assert!(q.take(10, TakeMode::Due).is_none(), "later batches wait");
        assert_eq!(q.resume(), None, "held until the endpoint answers");
        // Four spans of failed batches and two queued: the queue bound (10) counts them all.
        for i in 6..10 {
            assert_eq!(q.push(i, 20), Push::Queued, "{i}");
        }
        assert_eq!(q.push(10, 20), Push::Dropped, "full: 6 queued + 4 held");
        // The probe keeps failing, alone.
        for _ in 0..5 {
            assert!(matches!(
                end(&mut q, b.id, 502),
                Some(ExportOutcome::Retry { .. })
            ));
        }
        // It gets through: the held batch goes again first, then the queue in order.
        assert_eq!(end(&mut q, b.id, 200), Some(ExportOutcome::Success));
        assert!(!q.probing());
        assert_eq!(q.next_due(30), Some(0));
        assert!(q.take(30, TakeMode::Due).is_none(), "held batches first");
        assert_eq!(q.resume(), Some((a.id, 2)));
        assert_eq!(q.resume(), None);
        let c = q.take(30, TakeMode::Due).unwrap();
        assert_eq!(c.items, vec![4, 5]);
        assert!(q.take(30, TakeMode::Due).is_none(), "two in flight");
        assert_eq!(q.push(10, 30), Push::Queued, "room again: 4 queued, 2 held");
        assert_eq!(end(&mut q, a.id, 200), Some(ExportOutcome::Success));
        assert_eq!(q.take(30, TakeMode::Due).unwrap().items, vec![6, 7]);
        // A probe answered with a status that is not retried ends the probing too.
        let held = q.take(30, TakeMode::Hidden).unwrap();
        assert!(matches!(
            end(&mut q, c.id, 503),
            Some(ExportOutcome::Retry { .. })
        ));
        assert_eq!(end(&mut q, held.id, 503), Some(ExportOutcome::Held));
        assert!(matches!(
            end(&mut q, c.id, 400),
            Some(ExportOutcome::Failed(_))
        ));
        assert!(!q.probing());
        assert_eq!(q.resume(), Some((held.id, held.items.len() as u64)));
    }

    #[test]
    fn the_page_hide_path_sends_held_batches_and_the_probe_at_once() {
        let retry = backoff(10, 40);
        let mut q = BatchQueue::new(cfg(1, 10, 2));
        for i in 0..3 {
            q.push(i, 0);
        }
        let a = q.take(0, TakeMode::Due).unwrap();
        let b = q.take(0, TakeMode::Due).unwrap();
        q.attempt_ended(a.id, 0, None, 1, &retry, 0.5);
        q.attempt_ended(b.id, 0, None, 1, &retry, 0.5);
        let c = q.take(2, TakeMode::Hidden).unwrap();
        assert_eq!(c.items, vec![2]);
        // The glue sent `a` and `b` with it: nothing is handed back to send twice.
        assert_eq!(q.resume(), None);
        assert_eq!(
            q.attempt_ended(c.id, 200, None, 3, &retry, 0.5).unwrap().0,
            ExportOutcome::Success
        );
        assert_eq!(q.resume(), None, "a and b are being sent");
        assert_eq!(
            q.attempt_ended(b.id, 0, None, 4, &retry, 0.5).unwrap().0,
            ExportOutcome::Retry { delay_millis: 15 },
            "b failed again: its second failure, so the second backoff"
        );
    }

    #[test]
    fn split_batches_finish_part_by_part() {
        let mut q = BatchQueue::new(cfg(10, 100, 1));
        for i in 0..6 {
            q.push(i, 0);
        }
        let b = q.take(0, TakeMode::Hidden).unwrap();
        let t = q.flush();
        assert_eq!(q.split(b.id, &[2, 2]), None, "must add up");
        assert_eq!(q.split(b.id, &[6, 0]), None, "no empty part");
        let ids = q.split(b.id, &[1, 2, 3]).unwrap();
        assert_eq!(ids.len(), 3);
        assert_eq!(ids[0], b.id);
        assert_eq!(q.in_flight(), 3);
        assert_eq!(q.finish(ids[2], true), 3);
        assert_eq!(q.finish(ids[0], true), 1);
        assert_eq!(q.flush_result(t), None);
        assert_eq!(q.finish(ids[1], true), 2);
        assert_eq!(q.flush_result(t), Some(true));
    }

    #[test]
    fn a_rate_limit_pauses_taking_and_drops_pushes_until_it_ends() {
        use crate::export::retry::RetryStatuses;
        let retry = RetryConfig {
            statuses: RetryStatuses::Rollbar,
            ..RetryConfig::default()
        };
        let mut q = BatchQueue::new(BatchConfig {
            scheduled_delay_millis: 0,
            max_queue_size: 10,
            max_export_batch_size: 1,
            export_timeout_millis: 1000,
            max_concurrent_exports: 1,
        });
        assert_eq!(q.push("a", 0), Push::Arm(0));
        assert_eq!(q.push("b", 0), Push::Queued);
        let a = q.take(0, TakeMode::Due).unwrap();
        let (outcome, _) = q
            .attempt_ended(a.id, 429, Some("2"), 10, &retry, 0.5)
            .unwrap();
        assert_eq!(
            outcome,
            ExportOutcome::Failed(FailReason::RateLimited { pause_millis: 2000 })
        );
        assert_eq!(q.push("c", 500), Push::Paused, "dropped while paused");
        assert_eq!(q.next_due(500), Some(1510), "b waits for the pause to end");
        assert!(q.take(500, TakeMode::Due).is_none());
        assert!(
            q.take(500, TakeMode::Hidden).is_none(),
            "not even on page hide"
        );
        assert_eq!(q.take(2010, TakeMode::Due).unwrap().items, vec!["b"]);
        assert_eq!(
            q.push("d", 2010),
            Push::Arm(0),
            "queued again after the pause"
        );
    }
}
