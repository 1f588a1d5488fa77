//! Event frame encoding: a `message.created` event serialized to its wire frame,
//! once per event (the room actor shares the bytes with every subscriber).

use std::hint::black_box;

use andon_actors::realtime::messages::EventMeta;
use andon_actors::realtime::{EventKind, StoredEvent};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use serde_json::json;
use uuid::Uuid;

fn message_created() -> StoredEvent {
    let room = Uuid::new_v4();
    StoredEvent {
        room_id: room,
        seq: 4711,
        kind: EventKind::MessageCreated.into(),
        at: chrono::Utc::now(),
        actor: "operator@plant.example".into(),
        data: json!({
            "id": Uuid::new_v4(), "room_id": room, "seq": 4711,
            "sender": "operator@plant.example", "sender_name": "Line Operator",
            "message_type": "text",
            "content": "Press 4 hydraulic pressure dropped to 80 bar, stopping the line",
            "metadata": {}, "client_id": "c-1732761600-42",
            "created_at": "2026-11-28T02:00:00.123456Z", "edited_at": null,
            "deleted": false, "reactions": [], "file": null,
        }),
    }
}

fn encode(c: &mut Criterion) {
    let event = message_created();
    let mut g = c.benchmark_group("event_frame");
    g.throughput(Throughput::Elements(1));
    g.bench_function("to_frame_text", |b| {
        b.iter(|| black_box(&event).to_frame_text())
    });
    g.bench_function("event_meta", |b| {
        b.iter(|| EventMeta::of(black_box(&event)))
    });
    g.finish();
}

criterion_group!(benches, encode);
criterion_main!(benches);
