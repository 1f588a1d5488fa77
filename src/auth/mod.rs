//! Authentication (PRODUCT.md §3): the AD client, credential encryption, session
//! tokens, the request extractor and the database side of the session supervisor.

pub mod ad;
pub mod backend;
pub mod crypto;
pub mod extractor;
pub mod rate_limit;
pub mod token;

pub use extractor::AuthUser;

use andon_actors::session::SessionId;

/// Associated data binding a ciphertext to its session and purpose.
pub fn aad(session: SessionId, purpose: &str) -> Vec<u8> {
    format!("andon:v1:session:{session}:{purpose}").into_bytes()
}
