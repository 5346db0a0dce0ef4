//! The centre's signing key is not kept in the clear beside what it signs (issue 11
//! point 7): its 32-byte seed is sealed with XChaCha20-Poly1305 under a key-encryption
//! key (KEK) held outside the database — `ATTEST_SIGNING_KEK` (base64 or hex of 32
//! bytes) or the file `<data>/keys/signing.key`, made on first start (0600 in a 0700
//! folder). A backup of the database alone yields no usable key.
//!
//! Each seal has its own random 24-byte nonce (XChaCha's nonce is long enough to draw
//! at random without fear of a repeat) and binds the centre id and key id as associated
//! data, so a sealed key copied to another centre's row, or to another key id, does not
//! open. Stored as `nonce ‖ ciphertext ‖ tag`, [`SEALED_LEN`] bytes.
use std::io::Write;
use std::path::{Path, PathBuf};

use base64::Engine;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{Key, XChaCha20Poly1305, XNonce};
use uuid::Uuid;
use zeroize::{Zeroize, Zeroizing};

/// The environment variable that holds the KEK; it wins over the key file.
pub(crate) const KEK_ENV: &str = "ATTEST_SIGNING_KEK";
const NONCE_LEN: usize = 24;
const TAG_LEN: usize = 16;
/// A sealed Ed25519 seed: nonce, 32 bytes of ciphertext, tag.
pub(crate) const SEALED_LEN: usize = NONCE_LEN + 32 + TAG_LEN;
/// Names what the associated data is for, so a seal made for something else never
/// passes as a signing key.
const DOMAIN: &[u8] = b"attest centre signing key v1";

#[derive(Debug, thiserror::Error)]
pub enum SealError {
    #[error("the signing key file does not open this database's keys")]
    WrongKek,
    #[error("{KEK_ENV} must be 32 bytes written as base64 or hex")]
    BadEnv,
    #[error("the signing key file {0} must hold exactly 32 bytes")]
    BadFile(PathBuf),
    #[error("the signing key file {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("the signing key file {0} is missing, and this database's signing keys are sealed: restore it or set {KEK_ENV}")]
    Missing(PathBuf),
    #[error("the operating system gave no randomness: {0}")]
    NoRandomness(String),
}

/// The key-encryption key. Zeroed when dropped; never printed.
#[derive(Clone)]
pub struct Kek(Zeroizing<[u8; 32]>);

impl std::fmt::Debug for Kek {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Kek(…)")
    }
}

impl Kek {
    pub fn from_bytes(bytes: [u8; 32]) -> Kek {
        Kek(Zeroizing::new(bytes))
    }

    /// The fixed KEK of tests and tools (`AppState::new`); a server never uses it.
    pub fn for_tests() -> Kek {
        Kek::from_bytes(*b"attest test key-encryption key!!")
    }

    /// A KEK written as base64 (standard or URL-safe, padded or not) or hex.
    pub fn parse(text: &str) -> Result<Kek, SealError> {
        use base64::engine::general_purpose::{
            STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD,
        };
        let text = text.trim();
        // Whichever reading gives 32 bytes (a 44-symbol base64 text may also be hex).
        let readings = [
            hex::decode(text).ok(),
            STANDARD.decode(text).ok(),
            STANDARD_NO_PAD.decode(text).ok(),
            URL_SAFE.decode(text).ok(),
            URL_SAFE_NO_PAD.decode(text).ok(),
        ];
        let bytes: [u8; 32] = readings
            .into_iter()
            .flatten()
            .map(Zeroizing::new)
            .find_map(|b| b.as_slice().try_into().ok())
            .ok_or(SealError::BadEnv)?;
        Ok(Kek::from_bytes(bytes))
    }

    /// The server's KEK: from `ATTEST_SIGNING_KEK` if set, else from
    /// [`key_file`]`(data_dir)`, which is made (random, 0600 in a 0700 folder) only
    /// when `may_create` — the caller says no once the database holds sealed keys,
    /// so a lost file is reported rather than silently replaced.
    pub fn load(data_dir: &Path, may_create: bool) -> Result<Kek, SealError> {
        match std::env::var(KEK_ENV) {
            Ok(text) if !text.trim().is_empty() => return Kek::parse(&text),
            _ => {}
        }
        let path = key_file(data_dir);
        let io = |source| SealError::Io {
            path: path.clone(),
            source,
        };
        match std::fs::read(&path) {
            Ok(bytes) => {
                let bytes = Zeroizing::new(bytes);
                let key: [u8; 32] = bytes
                    .as_slice()
                    .try_into()
                    .map_err(|_| SealError::BadFile(path.clone()))?;
                Ok(Kek::from_bytes(key))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                if !may_create {
                    return Err(SealError::Missing(path));
                }
                let mut key = Zeroizing::new([0u8; 32]);
                getrandom::fill(key.as_mut())
                    .map_err(|e| SealError::NoRandomness(e.to_string()))?;
                write_new(&path, key.as_ref()).map_err(io)?;
                Ok(Kek(key))
            }
            Err(e) => Err(io(e)),
        }
    }

    fn cipher(&self) -> XChaCha20Poly1305 {
        XChaCha20Poly1305::new(&Key::from(*self.0))
    }

    /// The seed sealed for this centre's key `key_id`, with a fresh nonce.
    pub fn seal(
        &self,
        centre_id: Uuid,
        key_id: &str,
        seed: &[u8; 32],
    ) -> Result<Vec<u8>, SealError> {
        let mut nonce = [0u8; NONCE_LEN];
        getrandom::fill(&mut nonce).map_err(|e| SealError::NoRandomness(e.to_string()))?;
        let aad = associated_data(centre_id, key_id);
        let sealed = self
            .cipher()
            .encrypt(
                &XNonce::from(nonce),
                Payload {
                    msg: seed,
                    aad: &aad,
                },
            )
            // Only a message or data too long for the cipher fails; ours are tiny.
            .map_err(|_| SealError::WrongKek)?;
        let mut out = Vec::with_capacity(SEALED_LEN);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&sealed);
        Ok(out)
    }

    /// The seed, if this KEK sealed it for this centre and key id.
    pub fn open(
        &self,
        centre_id: Uuid,
        key_id: &str,
        sealed: &[u8],
    ) -> Result<Zeroizing<[u8; 32]>, SealError> {
        if sealed.len() != SEALED_LEN {
            return Err(SealError::WrongKek);
        }
        let (nonce, ciphertext) = sealed.split_at(NONCE_LEN);
        let nonce: [u8; NONCE_LEN] = nonce.try_into().map_err(|_| SealError::WrongKek)?;
        let aad = associated_data(centre_id, key_id);
        let mut plain = self
            .cipher()
            .decrypt(
                &XNonce::from(nonce),
                Payload {
                    msg: ciphertext,
                    aad: &aad,
                },
            )
            .map_err(|_| SealError::WrongKek)?;
        let seed: Result<[u8; 32], _> = plain.as_slice().try_into();
        plain.zeroize();
        seed.map(Zeroizing::new).map_err(|_| SealError::WrongKek)
    }
}

/// Where the server keeps its KEK when the environment does not give one.
pub(crate) fn key_file(data_dir: &Path) -> PathBuf {
    data_dir.join("keys").join("signing.key")
}

fn associated_data(centre_id: Uuid, key_id: &str) -> Vec<u8> {
    let mut aad = Vec::with_capacity(DOMAIN.len() + 16 + key_id.len());
    aad.extend_from_slice(DOMAIN);
    aad.extend_from_slice(centre_id.as_bytes());
    aad.extend_from_slice(key_id.as_bytes());
    aad
}

/// Writes a new key file, readable by its owner only, in a folder only its owner can
/// enter; never over an existing file.
fn write_new(path: &Path, key: &[u8]) -> std::io::Result<()> {
    use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
    if let Some(dir) = path.parent() {
        if let Some(parent) = dir.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)?;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
    }
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    file.write_all(key)?;
    file.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_seal_opens_only_with_its_kek_centre_and_key_id() {
        let (kek, centre, other) = (Kek::for_tests(), Uuid::new_v4(), Uuid::new_v4());
        let seed = [7u8; 32];
        let sealed = kek.seal(centre, "key-1", &seed).unwrap();
        assert_eq!(sealed.len(), SEALED_LEN);
        assert!(
            !sealed.windows(32).any(|w| w == seed),
            "no seed in the clear"
        );
        assert_eq!(*kek.open(centre, "key-1", &sealed).unwrap(), seed);
        let wrong = Kek::from_bytes([1; 32]);
        assert!(matches!(
            wrong.open(centre, "key-1", &sealed),
            Err(SealError::WrongKek)
        ));
        assert!(kek.open(other, "key-1", &sealed).is_err());
        assert!(kek.open(centre, "key-2", &sealed).is_err());
        // A fresh nonce each time.
        assert_ne!(kek.seal(centre, "key-1", &seed).unwrap(), sealed);
    }

    #[test]
    fn a_kek_is_read_as_hex_or_base64_of_32_bytes() {
        let hex = "00".repeat(31) + "ff";
        assert_eq!(Kek::parse(&hex).unwrap().0[31], 0xff);
        let b64 = base64::engine::general_purpose::STANDARD.encode([9u8; 32]);
        assert_eq!(*Kek::parse(&b64).unwrap().0, [9u8; 32]);
        assert!(Kek::parse("short").is_err());
        assert!(Kek::parse(&"00".repeat(31)).is_err());
    }

    #[test]
    fn the_key_file_is_made_once_private_and_read_back() {
        use std::os::unix::fs::PermissionsExt;
        let dir = std::env::temp_dir().join(format!("attest-kek-{}", Uuid::new_v4()));
        let made = Kek::load(&dir, true).unwrap();
        let file = key_file(&dir);
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&file), 0o600);
        assert_eq!(mode(file.parent().unwrap()), 0o700);
        assert_eq!(*Kek::load(&dir, false).unwrap().0, *made.0);
        std::fs::remove_file(&file).unwrap();
        assert!(matches!(Kek::load(&dir, false), Err(SealError::Missing(_))));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
