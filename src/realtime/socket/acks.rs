//! Sends in flight, by room and client id: one answer for each time the client
//! sent it, whichever comes first of the commit's answer and the sender's own
//! `message.created` event (the ack always goes out before the event).

use std::collections::HashMap;
use std::time::Instant;

use serde_json::Value;
use uuid::Uuid;

/// A send's identity: its room and the client's id for it.
pub type Key = (Uuid, String);

struct Pending {
    since: Instant,
    refs: Vec<Option<Value>>,
}

#[derive(Default)]
pub struct PendingAcks {
    pending: HashMap<Key, Pending>,
}

impl PendingAcks {
    /// Records a send and its `ref`; `true` when it is not already on its way (a
    /// repeat waits for the first one's answer instead of being sent again).
    pub fn add(&mut self, key: Key, reference: Option<Value>) -> bool {
        let mut first = false;
        self.pending
            .entry(key)
            .or_insert_with(|| {
                first = true;
                Pending {
                    since: Instant::now(),
                    refs: Vec::new(),
                }
            })
            .refs
            .push(reference);
        first
    }

    /// The refs to answer, once: `None` when the send was answered already.
    /// Records how long the ack took.
    pub fn answer(&mut self, key: &Key) -> Option<Vec<Option<Value>>> {
        let pending = self.pending.remove(key)?;
        metrics::histogram!("andon_ack_latency_seconds")
            .record(pending.since.elapsed().as_secs_f64());
        Some(pending.refs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_repeated_send_waits_for_the_first_and_both_refs_are_answered_once() {
        let mut acks = PendingAcks::default();
        let key = (Uuid::new_v4(), "c1".to_string());
        assert!(acks.add(key.clone(), Some(json!(1))));
        assert!(!acks.add(key.clone(), Some(json!(2))), "already on its way");
        assert_eq!(
            acks.answer(&key),
            Some(vec![Some(json!(1)), Some(json!(2))])
        );
        assert_eq!(acks.answer(&key), None, "answered once");
        assert!(
            acks.add(key, None),
            "a later send of the same id goes out again"
        );
    }
}
