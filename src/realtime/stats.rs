//! The socket's old counter fields, kept as a thin shim over [`RealtimeMetrics`]
//! until the socket calls the meters directly: same field and method names, but
//! every number goes through the `metrics` facade. Nothing here is readable; tests
//! read a `MetricsProbe`.

use std::sync::atomic::Ordering;

use andon_actors::metrics::RealtimeMetrics;

#[derive(Debug)]
pub struct Stats {
    meters: RealtimeMetrics,
    pub slow_consumer_closes: Count,
    pub dropped_ephemeral: Count,
    pub open_sockets: Level,
    pub subscriptions: Level,
    pub replay_ready_bytes_high_water: ReadAheadMark,
    pub upload_read_high_water: UploadMark,
}

impl Stats {
    pub fn new(meters: RealtimeMetrics) -> Self {
        Self {
            slow_consumer_closes: Count(meters.clone(), Counted::SlowConsumerClose),
            dropped_ephemeral: Count(meters.clone(), Counted::EphemeralDropped),
            open_sockets: Level(meters.clone(), Leveled::OpenSockets),
            subscriptions: Level(meters.clone(), Leveled::Subscriptions),
            replay_ready_bytes_high_water: ReadAheadMark(meters.clone()),
            upload_read_high_water: UploadMark(meters.clone()),
            meters,
        }
    }

    pub fn note_queue_len(&self, len: usize, bytes: usize) {
        self.meters.queue_len(len, bytes);
    }
}

#[derive(Debug, Clone, Copy)]
enum Counted {
    SlowConsumerClose,
    EphemeralDropped,
}

#[derive(Debug)]
pub struct Count(RealtimeMetrics, Counted);

impl Count {
    pub fn fetch_add(&self, n: u64, _: Ordering) {
        match self.1 {
            Counted::SlowConsumerClose => (0..n).for_each(|_| self.0.slow_consumer_close()),
            Counted::EphemeralDropped => self.0.ephemeral_dropped(n),
        }
    }
}

#[derive(Debug, Clone, Copy)]
enum Leveled {
    OpenSockets,
    Subscriptions,
}

#[derive(Debug)]
pub struct Level(RealtimeMetrics, Leveled);

impl Level {
    pub fn fetch_add(&self, delta: i64, _: Ordering) {
        match self.1 {
            Leveled::OpenSockets if delta > 0 => self.0.socket_opened(),
            Leveled::OpenSockets => self.0.socket_closed(),
            Leveled::Subscriptions => self.0.subscriptions_changed(delta),
        }
    }

    pub fn fetch_sub(&self, delta: i64, order: Ordering) {
        self.fetch_add(-delta, order);
    }
}

#[derive(Debug)]
pub struct ReadAheadMark(RealtimeMetrics);

impl ReadAheadMark {
    pub fn fetch_max(&self, bytes: usize, _: Ordering) {
        self.0.replay_read_ahead(bytes);
    }
}

#[derive(Debug)]
pub struct UploadMark(RealtimeMetrics);

impl UploadMark {
    pub fn fetch_max(&self, bytes: u64, _: Ordering) {
        self.0.upload_read(bytes);
    }
}
