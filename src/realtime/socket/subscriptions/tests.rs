//! The subscription machine driven by scripted events.

use andon_actors::permissions::Role;

use super::*;

fn standing(role: Option<Role>) -> Standing {
    Standing {
        role,
        archived: false,
    }
}

fn meta(seq: i64) -> Arc<EventMeta> {
    Arc::new(EventMeta::from_json(seq, "message.created", "a@x", "{}"))
}

fn live(seq: i64) -> LiveEvent {
    (ByteString::from(format!("live {seq}")), meta(seq))
}

fn replayed(seq: i64) -> ReplayEvent {
    ReplayEvent {
        seq,
        frame: ByteString::from(format!("replayed {seq}")),
        meta: meta(seq),
    }
}

/// Plays the socket's part: delivers what the machine says, reads pages from
/// `log` when asked; returns the seqs delivered, in order.
struct Socket {
    subs: Subscriptions<()>,
    delivered: Vec<i64>,
    room: Uuid,
}

impl Socket {
    fn new() -> Self {
        Self {
            subs: Subscriptions::new(10, 100),
            delivered: Vec::new(),
            room: Uuid::new_v4(),
        }
    }

    fn live(&mut self, seq: i64) {
        let event = live(seq);
        if self.subs.live(&self.room, &event) == LiveStep::Deliver {
            self.delivered.push(seq);
        }
    }

    fn went_live(&mut self, buffered: Vec<LiveEvent>) {
        for event in buffered {
            if self.subs.live(&self.room, &event) == LiveStep::Deliver {
                self.delivered.push(event.1.seq);
            }
        }
    }

    /// Reads and queues pages until the replay is done, with `between` run
    /// after every page is read (live events racing the replay).
    fn replay(&mut self, page_len: usize, mut between: impl FnMut(&mut Self)) {
        loop {
            loop {
                match self.subs.next_replayed(&self.room, |_| true) {
                    ReplayStep::Event(e) => self.delivered.push(e.seq),
                    ReplayStep::WentLive(buffered) => return self.went_live(buffered),
                    ReplayStep::Wait => break,
                }
            }
            let fetch = self.subs.next_fetch(page_len).expect("a page to read");
            let page = (fetch.after + 1..=fetch.after + fetch.limit)
                .map(replayed)
                .collect();
            between(self);
            self.subs.page_read(&fetch, page);
        }
    }
}

#[test]
fn replay_and_live_hand_over_without_gap_or_duplicate() {
    let mut s = Socket::new();
    s.subs.begin(s.room, standing(Some(Role::Editor)), ());
    // Live events while the room actor's answer is on its way.
    s.live(11);
    s.live(12);
    assert!(
        s.subs.subscribed(&s.room, 12, Some(5)).is_empty(),
        "replaying"
    );
    let mut next = 13;
    s.replay(3, |s| {
        s.live(next);
        next += 1;
    });
    assert!(s.subs.is_live(&s.room));
    s.live(14); // the room delivers again what the buffer held
    s.live(next);
    assert_eq!(s.delivered, (6..=next).collect::<Vec<_>>());
}

#[test]
fn without_after_seq_the_subscription_is_live_at_the_head() {
    let mut s = Socket::new();
    s.subs.begin(s.room, standing(None), ());
    s.live(8);
    let buffered = s.subs.subscribed(&s.room, 7, None);
    s.went_live(buffered);
    s.live(8);
    s.live(9);
    assert_eq!(s.delivered, [8, 9]);
}

#[test]
fn a_replay_waits_for_room_in_the_queue() {
    let mut s = Socket::new();
    s.subs.begin(s.room, standing(None), ());
    s.subs.subscribed(&s.room, 2, Some(0));
    let fetch = s.subs.next_fetch(10).unwrap();
    s.subs.page_read(&fetch, vec![replayed(1), replayed(2)]);
    assert!(matches!(
        s.subs.next_replayed(&s.room, |_| false),
        ReplayStep::Wait
    ));
    assert!(matches!(s.subs.next_replayed(&s.room, |_| true), ReplayStep::Event(e) if e.seq == 1));
}

#[test]
fn one_page_is_read_ahead_for_the_whole_socket() {
    let mut subs: Subscriptions<()> = Subscriptions::new(10, 100);
    let (a, b) = (Uuid::new_v4(), Uuid::new_v4());
    for room in [a, b] {
        subs.begin(room, standing(None), ());
        subs.subscribed(&room, 100, Some(0));
    }
    let first = subs.next_fetch(10).unwrap();
    assert_eq!(subs.next_fetch(10), None, "a page is being read");
    subs.page_read(&first, (1..=10).map(replayed).collect());
    assert_eq!(subs.next_fetch(10), None, "a page waits to be queued");
    while let ReplayStep::Event(_) = subs.next_replayed(&first.room, |_| true) {}
    assert!(
        subs.next_fetch(10).is_some(),
        "queued: the next page may be read"
    );
}

#[test]
fn a_late_page_of_a_replaced_subscription_is_ignored() {
    let mut subs: Subscriptions<()> = Subscriptions::new(10, 100);
    let room = Uuid::new_v4();
    subs.begin(room, standing(None), ());
    subs.subscribed(&room, 5, Some(0));
    let fetch = subs.next_fetch(10).unwrap();
    subs.begin(room, standing(None), ());
    assert_eq!(subs.page_read(&fetch, vec![replayed(1)]), None);
}

#[test]
fn a_buffer_over_its_bound_is_an_overflow() {
    let mut subs: Subscriptions<()> = Subscriptions::new(10, 2);
    let room = Uuid::new_v4();
    subs.begin(room, standing(None), ());
    assert_eq!(subs.live(&room, &live(1)), LiveStep::Buffered);
    assert_eq!(subs.live(&room, &live(2)), LiveStep::Buffered);
    assert_eq!(subs.live(&room, &live(3)), LiveStep::Overflow);
}

#[test]
fn subscriptions_are_bounded_but_a_room_may_be_subscribed_again() {
    let mut subs: Subscriptions<()> = Subscriptions::new(1, 10);
    let (a, b) = (Uuid::new_v4(), Uuid::new_v4());
    subs.begin(a, standing(None), ());
    assert_eq!(subs.room_for_one_more(&b), Err(1));
    assert_eq!(subs.room_for_one_more(&a), Ok(()));
}
