//! The PostgreSQL stores behind the actors' traits. Their SQL lives under `db`
//! with the rest; they are named here too, beside the engine that uses them.

pub use crate::db::batch::PgBatchWriter;
pub use crate::db::event_log::PgEventLog;
