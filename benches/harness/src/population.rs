//! Sets up what a scenario needs: bench users in the fake AD, one login session per
//! user, rooms with their members, and subscribed sockets (one session mints as many
//! single-use tickets as it needs).

use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;
use std::time::Instant;

use futures_util::{StreamExt, TryStreamExt, stream};
use uuid::Uuid;

use crate::api::{Api, Session};
use crate::report::Counters;
use crate::ws::{self, ConnectOpts, Ws};

#[derive(Debug, Clone)]
pub struct Room {
    pub id: Uuid,
    /// User indices; the first one created the room (owner), the others are editors.
    pub members: Vec<usize>,
}

pub struct Population {
    /// Indexed by user number.
    pub sessions: Vec<Session>,
    pub rooms: Vec<Room>,
}

/// Creates `users` users and logs each in, then the rooms with the given members.
pub async fn build(
    api: &Api,
    users: usize,
    rooms: Vec<Vec<usize>>,
    concurrency: usize,
) -> anyhow::Result<Population> {
    let t = Instant::now();
    stream::iter(0..users)
        .map(|n| api.create_user(n))
        .buffer_unordered(concurrency)
        .try_collect::<Vec<()>>()
        .await?;
    let sessions: Vec<Session> = stream::iter(0..users)
        .map(|n| api.login(n))
        .buffered(concurrency)
        .try_collect()
        .await?;
    eprintln!(
        "setup: {users} users logged in ({:.1} s)",
        t.elapsed().as_secs_f64()
    );

    let t = Instant::now();
    let sessions_ref = &sessions;
    let created: Vec<Room> = stream::iter(rooms.into_iter().enumerate())
        .map(|(i, members)| async move {
            let owner = &sessions_ref[members[0]];
            let id = api.create_room(owner, &format!("Bench room {i}")).await?;
            Ok::<_, anyhow::Error>(Room { id, members })
        })
        .buffered(concurrency)
        .try_collect()
        .await?;
    let adds: Vec<(usize, Uuid, usize)> = created
        .iter()
        .flat_map(|r| r.members[1..].iter().map(move |&u| (r.members[0], r.id, u)))
        .collect();
    let count = adds.len();
    stream::iter(adds)
        .map(|(owner, room, user)| api.add_member(&sessions_ref[owner], room, user))
        .buffer_unordered(concurrency)
        .try_collect::<Vec<()>>()
        .await?;
    eprintln!(
        "setup: {} rooms, {count} members added ({:.1} s)",
        created.len(),
        t.elapsed().as_secs_f64()
    );
    Ok(Population {
        sessions,
        rooms: created,
    })
}

/// `rooms` rooms of `members` members each, drawn from `users` users so that no
/// room has the same user twice (room `r` has users `r·m … r·m+m-1` mod `users`).
pub fn rooms_of(rooms: usize, members: usize, users: usize) -> Vec<Vec<usize>> {
    (0..rooms)
        .map(|r| (0..members).map(|j| (r * members + j) % users).collect())
        .collect()
}

/// One socket to open: who, which room, on which server node, from where.
#[derive(Clone)]
pub struct SocketSpec {
    pub session: Session,
    pub room: Uuid,
    /// Server node (index into [`Api::nodes`]); the ticket comes from node 0.
    pub node: usize,
    pub opts: ConnectOpts,
}

/// Ticket (from node 0) + connect (to the spec's node) + subscribe (live only);
/// returns the socket and the room's head at subscription.
pub async fn open(api: &Api, spec: &SocketSpec) -> anyhow::Result<(Ws, i64)> {
    let ticket = api.ticket(&spec.session).await?;
    let mut ws = ws::connect(&api.ws_url_on(spec.node, &ticket), spec.opts).await?;
    let head = ws::subscribe(&mut ws, spec.room, None).await?;
    Ok((ws, head))
}

/// Opens every socket (in order), `concurrency` at a time; fails on the first error.
/// Each socket comes with its room's head at subscription.
pub async fn open_all(
    api: &Api,
    specs: &[SocketSpec],
    concurrency: usize,
    counters: &Arc<Counters>,
) -> anyhow::Result<Vec<(Ws, i64)>> {
    let t = Instant::now();
    let sockets: Vec<(Ws, i64)> = stream::iter(specs)
        .map(|s| async move {
            let opened = open(api, s).await?;
            counters.connected.fetch_add(1, Relaxed);
            Ok::<_, anyhow::Error>(opened)
        })
        .buffered(concurrency)
        .try_collect()
        .await?;
    eprintln!(
        "setup: {} sockets subscribed over {} node(s) ({:.1} s)",
        sockets.len(),
        api.node_count(),
        t.elapsed().as_secs_f64()
    );
    Ok(sockets)
}
