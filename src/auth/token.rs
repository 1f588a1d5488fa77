//! Session tokens: 256 random bits for the client, only their SHA-256 stored.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// A new token (43 URL-safe characters) and its hash.
pub fn generate() -> anyhow::Result<(String, [u8; 32])> {
    let mut bytes = [0u8; 32];
    openssl::rand::rand_bytes(&mut bytes)?;
    let token = URL_SAFE_NO_PAD.encode(bytes);
    let hash = hash(&token);
    Ok((token, hash))
}

pub fn hash(token: &str) -> [u8; 32] {
    openssl::sha::sha256(token.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_long_random_and_hashed() {
        let (a, ha) = generate().unwrap();
        let (b, _) = generate().unwrap();
        assert_ne!(a, b);
        assert_eq!(URL_SAFE_NO_PAD.decode(&a).unwrap().len(), 32, "256 bits");
        assert_eq!(ha, hash(&a));
        assert_ne!(&ha[..], a.as_bytes());
    }
}
