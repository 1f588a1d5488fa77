//! The actor system of Andon: session actors, the session supervisor, and (later)
//! room actors and socket messages. Actors reach PostgreSQL and the AD API only
//! through the small traits defined here, so they can be tested with in-memory fakes.

pub mod clock;
pub mod escalation;
pub mod metrics;
pub mod permissions;
pub mod realtime;
pub mod session;
