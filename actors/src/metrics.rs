//! The real-time meters, through the `metrics` facade like every other metric.
//!
//! The handles are registered once, on a recorder chosen when the application is
//! built, and then bumped from any thread: a `Counter` keeps the recorder it was
//! registered on. In production that is the process-wide Prometheus recorder.
//! Integration tests run many applications in one process at once, so one global
//! recorder would mix their numbers; each test app also gets its own
//! [`MetricsProbe`], and [`RealtimeMetrics::register`] registers every handle on
//! both (a [`Tee`]): `/metrics` shows the series and the test reads its own app's.
//! (A thread-local recorder would not do: the app's actors and HTTP workers run on
//! threads the test does not start.)

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use metrics::{
    Counter, CounterFn, Gauge, GaugeFn, Histogram, HistogramFn, Key, KeyName, Metadata, Recorder,
    SharedString, Unit, counter, gauge,
};
use metrics_util::registry::{AtomicStorage, Registry};

/// Sockets closed with 4008, whichever part noticed the slow consumer.
pub const SLOW_CONSUMER_CLOSES: &str = "andon_slow_consumer_closes_total";
/// Typing, presence and read frames dropped under back-pressure.
pub const EPHEMERAL_DROPPED: &str = "andon_ephemeral_dropped_total";
pub const OPEN_SOCKETS: &str = "andon_open_sockets";
pub const SUBSCRIPTIONS: &str = "andon_subscriptions";
/// The longest outbound queue any socket reached, in frames.
pub const QUEUE_FRAMES_MAX: &str = "andon_socket_queue_frames_max";
/// The most bytes any socket's outbound queue held.
pub const QUEUE_BYTES_MAX: &str = "andon_socket_queue_bytes_max";
/// The most bytes of replay events any socket held read ahead.
pub const REPLAY_READ_AHEAD_MAX: &str = "andon_replay_read_ahead_bytes_max";
/// The most bytes read from one upload body (uploads stop at their limit).
pub const UPLOAD_READ_MAX: &str = "andon_upload_read_bytes_max";

/// The meters of sockets and rooms (and upload reads). Cheap to clone; clones share the handles.
#[derive(Clone)]
pub struct RealtimeMetrics(Arc<Meters>);

struct Meters {
    slow_consumer_closes: Counter,
    ephemeral_dropped: Counter,
    open_sockets: Gauge,
    subscriptions: Gauge,
    queue_frames: HighWater,
    queue_bytes: HighWater,
    replay_read_ahead: HighWater,
    upload_read: HighWater,
}

impl RealtimeMetrics {
    /// Registers on the process recorder and, when given, on `probe` too.
    pub fn register(probe: Option<&MetricsProbe>) -> Self {
        metrics::with_recorder(|global| match probe {
            Some(probe) => Self::register_on(&Tee(global, probe)),
            None => Self::register_on(global),
        })
    }

    fn register_on(recorder: &dyn Recorder) -> Self {
        metrics::with_local_recorder(recorder, || {
            Self(Arc::new(Meters {
                slow_consumer_closes: counter!(SLOW_CONSUMER_CLOSES),
                ephemeral_dropped: counter!(EPHEMERAL_DROPPED),
                open_sockets: gauge!(OPEN_SOCKETS),
                subscriptions: gauge!(SUBSCRIPTIONS),
                queue_frames: HighWater::new(gauge!(QUEUE_FRAMES_MAX)),
                queue_bytes: HighWater::new(gauge!(QUEUE_BYTES_MAX)),
                replay_read_ahead: HighWater::new(gauge!(REPLAY_READ_AHEAD_MAX)),
                upload_read: HighWater::new(gauge!(UPLOAD_READ_MAX)),
            }))
        })
    }

    /// A socket is closed with 4008: count it once, where the close is decided.
    pub fn slow_consumer_close(&self) {
        self.0.slow_consumer_closes.increment(1);
    }

    pub fn ephemeral_dropped(&self, frames: u64) {
        if frames > 0 {
            self.0.ephemeral_dropped.increment(frames);
        }
    }

    pub fn socket_opened(&self) {
        self.0.open_sockets.increment(1.0);
    }

    pub fn socket_closed(&self) {
        self.0.open_sockets.decrement(1.0);
    }

    /// Room subscriptions over all sockets changed by `delta`.
    pub fn subscriptions_changed(&self, delta: i64) {
        self.0.subscriptions.increment(delta as f64);
    }

    /// One socket's outbound queue now holds `frames` frames of `bytes` bytes.
    pub fn queue_len(&self, frames: usize, bytes: usize) {
        self.0.queue_frames.note(frames as u64);
        self.0.queue_bytes.note(bytes as u64);
    }

    /// One subscription holds `bytes` of replay events read ahead of the queue.
    pub fn replay_read_ahead(&self, bytes: usize) {
        self.0.replay_read_ahead.note(bytes as u64);
    }

    /// One upload body has been read up to `bytes`. (Not real-time, but the only
    /// other meter tests read: it shares these handles rather than a second set.)
    pub fn upload_read(&self, bytes: u64) {
        self.0.upload_read.note(bytes);
    }
}

impl Default for RealtimeMetrics {
    /// On the process recorder only (a no-op one when none is installed).
    fn default() -> Self {
        Self::register(None)
    }
}

impl std::fmt::Debug for RealtimeMetrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RealtimeMetrics")
    }
}

/// A gauge that only rises: the largest value noted since start.
pub struct HighWater {
    /// Read without the lock, so values under the mark cost one atomic load.
    max: AtomicU64,
    /// Taken only to raise the mark, so the gauge is set in rising order.
    raise: Mutex<()>,
    gauge: Gauge,
}

impl HighWater {
    pub fn new(gauge: Gauge) -> Self {
        Self {
            max: AtomicU64::new(0),
            raise: Mutex::new(()),
            gauge,
        }
    }

    pub fn note(&self, value: u64) {
        if value <= self.max.load(Ordering::Relaxed) {
            return;
        }
        let _raising = self.raise.lock().unwrap_or_else(PoisonError::into_inner);
        if value > self.max.load(Ordering::Relaxed) {
            self.max.store(value, Ordering::Relaxed);
            self.gauge.set(value as f64);
        }
    }
}

/// One application's own metrics, readable at any time. (metrics-util's
/// `DebuggingRecorder` keeps the same registry, but its snapshots reset counters
/// and gauges to zero, and tests poll.)
#[derive(Clone)]
pub struct MetricsProbe(Arc<Registry<Key, AtomicStorage>>);

impl MetricsProbe {
    pub fn new() -> Self {
        Self(Arc::new(Registry::atomic()))
    }

    /// A counter's value; 0 when never registered.
    pub fn counter(&self, name: &'static str) -> u64 {
        self.0
            .get_counter(&Key::from_static_name(name))
            .map_or(0, |c| c.load(Ordering::Acquire))
    }

    /// A gauge's value; 0 when never registered.
    pub fn gauge(&self, name: &'static str) -> f64 {
        self.0
            .get_gauge(&Key::from_static_name(name))
            .map_or(0.0, |g| f64::from_bits(g.load(Ordering::Acquire)))
    }
}

impl Default for MetricsProbe {
    fn default() -> Self {
        Self::new()
    }
}

impl Recorder for MetricsProbe {
    fn describe_counter(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
    fn describe_gauge(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
    fn describe_histogram(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}

    fn register_counter(&self, key: &Key, _: &Metadata<'_>) -> Counter {
        self.0
            .get_or_create_counter(key, |c| Counter::from_arc(c.clone()))
    }

    fn register_gauge(&self, key: &Key, _: &Metadata<'_>) -> Gauge {
        self.0
            .get_or_create_gauge(key, |g| Gauge::from_arc(g.clone()))
    }

    fn register_histogram(&self, key: &Key, _: &Metadata<'_>) -> Histogram {
        self.0
            .get_or_create_histogram(key, |h| Histogram::from_arc(h.clone()))
    }
}

/// Registers every metric on two recorders; the handles it returns update both.
struct Tee<'a>(&'a dyn Recorder, &'a dyn Recorder);

struct Both<H>(H, H);

impl CounterFn for Both<Counter> {
    fn increment(&self, value: u64) {
        self.0.increment(value);
        self.1.increment(value);
    }

    fn absolute(&self, value: u64) {
        self.0.absolute(value);
        self.1.absolute(value);
    }
}

impl GaugeFn for Both<Gauge> {
    fn increment(&self, value: f64) {
        self.0.increment(value);
        self.1.increment(value);
    }

    fn decrement(&self, value: f64) {
        self.0.decrement(value);
        self.1.decrement(value);
    }

    fn set(&self, value: f64) {
        self.0.set(value);
        self.1.set(value);
    }
}

impl HistogramFn for Both<Histogram> {
    fn record(&self, value: f64) {
        self.0.record(value);
        self.1.record(value);
    }
}

impl Recorder for Tee<'_> {
    fn describe_counter(&self, key: KeyName, unit: Option<Unit>, description: SharedString) {
        self.0
            .describe_counter(key.clone(), unit, description.clone());
        self.1.describe_counter(key, unit, description);
    }

    fn describe_gauge(&self, key: KeyName, unit: Option<Unit>, description: SharedString) {
        self.0
            .describe_gauge(key.clone(), unit, description.clone());
        self.1.describe_gauge(key, unit, description);
    }

    fn describe_histogram(&self, key: KeyName, unit: Option<Unit>, description: SharedString) {
        self.0
            .describe_histogram(key.clone(), unit, description.clone());
        self.1.describe_histogram(key, unit, description);
    }

    fn register_counter(&self, key: &Key, meta: &Metadata<'_>) -> Counter {
        Counter::from_arc(Arc::new(Both(
            self.0.register_counter(key, meta),
            self.1.register_counter(key, meta),
        )))
    }

    fn register_gauge(&self, key: &Key, meta: &Metadata<'_>) -> Gauge {
        Gauge::from_arc(Arc::new(Both(
            self.0.register_gauge(key, meta),
            self.1.register_gauge(key, meta),
        )))
    }

    fn register_histogram(&self, key: &Key, meta: &Metadata<'_>) -> Histogram {
        Histogram::from_arc(Arc::new(Both(
            self.0.register_histogram(key, meta),
            self.1.register_histogram(key, meta),
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_probe_reads_its_own_meters_only() {
        let (a, b) = (MetricsProbe::new(), MetricsProbe::new());
        let (meters_a, meters_b) = (
            RealtimeMetrics::register(Some(&a)),
            RealtimeMetrics::register(Some(&b)),
        );
        meters_a.slow_consumer_close();
        meters_a.ephemeral_dropped(3);
        meters_a.ephemeral_dropped(0);
        meters_b.slow_consumer_close();
        meters_b.slow_consumer_close();
        assert_eq!(a.counter(SLOW_CONSUMER_CLOSES), 1);
        assert_eq!(a.counter(EPHEMERAL_DROPPED), 3);
        assert_eq!(b.counter(SLOW_CONSUMER_CLOSES), 2);
        assert_eq!(b.counter(EPHEMERAL_DROPPED), 0);
        // Reading does not reset.
        assert_eq!(a.counter(SLOW_CONSUMER_CLOSES), 1);
    }

    #[test]
    fn a_tee_registers_on_both_recorders() {
        let (a, b) = (MetricsProbe::new(), MetricsProbe::new());
        let meters = RealtimeMetrics::register_on(&Tee(&a, &b));
        meters.slow_consumer_close();
        meters.queue_len(3, 30);
        meters.socket_opened();
        for probe in [&a, &b] {
            assert_eq!(probe.counter(SLOW_CONSUMER_CLOSES), 1);
            assert_eq!(probe.gauge(QUEUE_BYTES_MAX), 30.0);
            assert_eq!(probe.gauge(OPEN_SOCKETS), 1.0);
        }
    }

    #[test]
    fn gauges_follow_sockets_and_subscriptions() {
        let probe = MetricsProbe::new();
        let meters = RealtimeMetrics::register(Some(&probe));
        meters.socket_opened();
        meters.socket_opened();
        meters.socket_closed();
        meters.subscriptions_changed(5);
        meters.subscriptions_changed(-2);
        assert_eq!(probe.gauge(OPEN_SOCKETS), 1.0);
        assert_eq!(probe.gauge(SUBSCRIPTIONS), 3.0);
    }

    #[test]
    fn high_water_marks_only_rise() {
        let probe = MetricsProbe::new();
        let meters = RealtimeMetrics::register(Some(&probe));
        meters.queue_len(4, 400);
        meters.queue_len(9, 100);
        meters.queue_len(2, 50);
        meters.replay_read_ahead(7);
        meters.replay_read_ahead(3);
        assert_eq!(probe.gauge(QUEUE_FRAMES_MAX), 9.0);
        assert_eq!(probe.gauge(QUEUE_BYTES_MAX), 400.0);
        assert_eq!(probe.gauge(REPLAY_READ_AHEAD_MAX), 7.0);
    }

    #[test]
    fn the_high_water_mark_is_the_maximum_over_threads() {
        let probe = MetricsProbe::new();
        let mark = Arc::new(metrics::with_local_recorder(&probe, || {
            HighWater::new(gauge!(QUEUE_FRAMES_MAX))
        }));
        let threads: Vec<_> = (0..4u64)
            .map(|t| {
                let mark = mark.clone();
                std::thread::spawn(move || (0..1000).for_each(|i| mark.note(i * 4 + t)))
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        assert_eq!(probe.gauge(QUEUE_FRAMES_MAX), 3999.0);
    }
}
