//! AES-256-GCM encryption of credentials at rest (PRODUCT.md A3), with openssl.
//!
//! A sealed value is `nonce (12) || ciphertext || tag (16)` plus the id of the key
//! that sealed it. Key ids are derived from the keys (first 4 bytes of their SHA-256,
//! hex), so rotating is: put the new key in `ANDON_SECRET_KEY` and the old one in
//! `ANDON_OLD_SECRET_KEYS`. Associated data binds a ciphertext to its row and
//! purpose, so a ciphertext copied into another session does not decrypt.

use std::collections::HashMap;

use openssl::symm::{Cipher, decrypt_aead, encrypt_aead};
use secrecy::{ExposeSecret, SecretString};

use crate::config::SecretKey;

const NONCE_LEN: usize = 12;
const TAG_LEN: usize = 16;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CryptoError {
    #[error("no key with id {0} is configured")]
    UnknownKey(String),
    #[error("ciphertext is malformed or was tampered with")]
    Tampered,
    #[error("encryption failed")]
    Failed,
}

/// The current key (encrypts) and earlier keys (still decrypt).
#[derive(Clone)]
pub struct Keyring {
    current_id: String,
    keys: HashMap<String, SecretKey>,
}

impl std::fmt::Debug for Keyring {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Keyring")
            .field("current_id", &self.current_id)
            .field("keys", &self.keys.len())
            .finish()
    }
}

pub fn key_id(key: &SecretKey) -> String {
    let digest = openssl::sha::sha256(key.expose());
    digest[..4].iter().map(|b| format!("{b:02x}")).collect()
}

impl Keyring {
    pub fn new(current: SecretKey, old: Vec<SecretKey>) -> Self {
        let current_id = key_id(&current);
        let mut keys: HashMap<String, SecretKey> =
            old.into_iter().map(|k| (key_id(&k), k)).collect();
        keys.insert(current_id.clone(), current);
        Self { current_id, keys }
    }

    pub fn current_id(&self) -> &str {
        &self.current_id
    }

    /// Encrypts under the current key with a fresh random nonce.
    pub fn seal(&self, plaintext: &[u8], aad: &[u8]) -> Result<(String, Vec<u8>), CryptoError> {
        let key = &self.keys[&self.current_id];
        let mut nonce = [0u8; NONCE_LEN];
        openssl::rand::rand_bytes(&mut nonce).map_err(|_| CryptoError::Failed)?;
        let mut tag = [0u8; TAG_LEN];
        let ciphertext = encrypt_aead(
            Cipher::aes_256_gcm(),
            key.expose(),
            Some(&nonce),
            aad,
            plaintext,
            &mut tag,
        )
        .map_err(|_| CryptoError::Failed)?;
        let mut sealed = Vec::with_capacity(NONCE_LEN + ciphertext.len() + TAG_LEN);
        sealed.extend_from_slice(&nonce);
        sealed.extend_from_slice(&ciphertext);
        sealed.extend_from_slice(&tag);
        Ok((self.current_id.clone(), sealed))
    }

    /// Decrypts and authenticates; a modified byte anywhere gives `Tampered`.
    pub fn open(&self, key_id: &str, sealed: &[u8], aad: &[u8]) -> Result<Vec<u8>, CryptoError> {
        let key = self
            .keys
            .get(key_id)
            .ok_or_else(|| CryptoError::UnknownKey(key_id.to_string()))?;
        if sealed.len() < NONCE_LEN + TAG_LEN {
            return Err(CryptoError::Tampered);
        }
        let (nonce, rest) = sealed.split_at(NONCE_LEN);
        let (ciphertext, tag) = rest.split_at(rest.len() - TAG_LEN);
        decrypt_aead(
            Cipher::aes_256_gcm(),
            key.expose(),
            Some(nonce),
            aad,
            ciphertext,
            tag,
        )
        .map_err(|_| CryptoError::Tampered)
    }

    pub fn seal_str(
        &self,
        secret: &SecretString,
        aad: &[u8],
    ) -> Result<(String, Vec<u8>), CryptoError> {
        self.seal(secret.expose_secret().as_bytes(), aad)
    }

    pub fn open_str(
        &self,
        key_id: &str,
        sealed: &[u8],
        aad: &[u8],
    ) -> Result<SecretString, CryptoError> {
        let bytes = self.open(key_id, sealed, aad)?;
        String::from_utf8(bytes)
            .map(SecretString::from)
            .map_err(|_| CryptoError::Tampered)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(b: u8) -> SecretKey {
        SecretKey::from_bytes([b; 32])
    }

    #[test]
    fn round_trip() {
        let ring = Keyring::new(key(1), vec![]);
        let (id, sealed) = ring.seal(b"hunter2", b"session-1").unwrap();
        assert_eq!(ring.open(&id, &sealed, b"session-1").unwrap(), b"hunter2");
        assert!(!sealed.windows(7).any(|w| w == b"hunter2"));
    }

    #[test]
    fn equal_plaintexts_give_different_ciphertexts() {
        let ring = Keyring::new(key(1), vec![]);
        let (_, a) = ring.seal(b"same", b"x").unwrap();
        let (_, b) = ring.seal(b"same", b"x").unwrap();
        assert_ne!(a, b);
    }

    #[test]
    fn any_flipped_byte_is_detected() {
        let ring = Keyring::new(key(1), vec![]);
        let (id, sealed) = ring.seal(b"secret password", b"aad").unwrap();
        for i in 0..sealed.len() {
            let mut bad = sealed.clone();
            bad[i] ^= 0x01;
            assert_eq!(
                ring.open(&id, &bad, b"aad"),
                Err(CryptoError::Tampered),
                "byte {i}"
            );
        }
        assert_eq!(
            ring.open(&id, &sealed[..20], b"aad"),
            Err(CryptoError::Tampered)
        );
    }

    #[test]
    fn ciphertext_is_bound_to_its_associated_data() {
        let ring = Keyring::new(key(1), vec![]);
        let (id, sealed) = ring.seal(b"pw", b"session-a").unwrap();
        assert_eq!(
            ring.open(&id, &sealed, b"session-b"),
            Err(CryptoError::Tampered)
        );
    }

    #[test]
    fn rotation_keeps_old_ciphertexts_readable_and_seals_with_the_new_key() {
        let old_ring = Keyring::new(key(1), vec![]);
        let (old_id, old_sealed) = old_ring.seal(b"old pw", b"s").unwrap();

        let rotated = Keyring::new(key(2), vec![key(1)]);
        assert_eq!(rotated.open(&old_id, &old_sealed, b"s").unwrap(), b"old pw");
        let (new_id, _) = rotated.seal(b"new pw", b"s").unwrap();
        assert_ne!(new_id, old_id);
        assert_eq!(new_id, rotated.current_id());

        let forgotten = Keyring::new(key(2), vec![]);
        assert_eq!(
            forgotten.open(&old_id, &old_sealed, b"s"),
            Err(CryptoError::UnknownKey(old_id))
        );
    }

    #[test]
    fn debug_shows_no_key_material() {
        let ring = Keyring::new(key(7), vec![]);
        let printed = format!("{ring:?}");
        assert!(printed.contains("current_id"));
        assert!(!printed.contains("7, 7"));
    }
}
