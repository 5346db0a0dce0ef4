//! Multibase base58btc (`z…`) and Multikey (Controlled Identifiers v1.0 §2.2.2), the
//! text forms Data Integrity uses for signatures and public keys. Small enough to
//! write here rather than add two crates.
use ed25519_dalek::VerifyingKey;

const ALPHABET: &[u8; 58] = b"123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
/// The multibase prefix for base58btc.
const BASE58BTC: char = 'z';
/// The multicodec varint for `ed25519-pub` (0xed).
const ED25519_PUB: [u8; 2] = [0xed, 0x01];

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MultibaseError {
    #[error("not base58btc multibase (it must start with 'z')")]
    NotBase58btc,
    #[error("'{0}' is not a base58 character")]
    InvalidCharacter(char),
    #[error("not an Ed25519 public key in Multikey form")]
    NotEd25519Key,
}

/// Multibase base64url without padding (`u…`, RFC 4648 §5), the form a Bitstring
/// Status List's `encodedList` takes.
pub(crate) fn encode_base64url(bytes: &[u8]) -> String {
    const URL_SAFE: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::with_capacity(1 + bytes.len().div_ceil(3) * 4);
    out.push('u');
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, b)| n | u32::from(*b) << (16 - 8 * i));
        for i in 0..=chunk.len() {
            out.push(char::from(URL_SAFE[(n >> (18 - 6 * i) & 63) as usize]));
        }
    }
    out
}

/// Bitcoin's base58: each leading zero byte becomes a '1', the rest a big number in
/// base 58. Quadratic, which is fine for the 34- and 64-byte values we encode.
pub(crate) fn base58_encode(bytes: &[u8]) -> String {
    let zeros = bytes.iter().take_while(|&&b| b == 0).count();
    // Little-endian base-58 digits of the number.
    let mut digits: Vec<u8> = Vec::with_capacity(bytes.len() * 138 / 100 + 1);
    for &byte in &bytes[zeros..] {
        let mut carry = u32::from(byte);
        for d in digits.iter_mut() {
            carry += u32::from(*d) << 8;
            *d = (carry % 58) as u8;
            carry /= 58;
        }
        while carry > 0 {
            digits.push((carry % 58) as u8);
            carry /= 58;
        }
    }
    let ones = std::iter::repeat_n('1', zeros);
    ones.chain(
        digits
            .iter()
            .rev()
            .map(|&d| char::from(ALPHABET[usize::from(d)])),
    )
    .collect()
}

pub(crate) fn base58_decode(text: &str) -> Result<Vec<u8>, MultibaseError> {
    let ones = text.chars().take_while(|&c| c == '1').count();
    // Little-endian base-256 bytes of the number.
    let mut bytes: Vec<u8> = Vec::with_capacity(text.len());
    for c in text.chars().skip(ones) {
        let value = u8::try_from(c)
            .ok()
            .and_then(|b| ALPHABET.iter().position(|&a| a == b))
            .ok_or(MultibaseError::InvalidCharacter(c))?;
        let mut carry = value as u32;
        for b in bytes.iter_mut() {
            carry += u32::from(*b) * 58;
            *b = (carry & 0xff) as u8;
            carry >>= 8;
        }
        while carry > 0 {
            bytes.push((carry & 0xff) as u8);
            carry >>= 8;
        }
    }
    let mut out = vec![0; ones];
    out.extend(bytes.iter().rev());
    Ok(out)
}

/// `z` + base58btc of `bytes`.
pub(crate) fn encode(bytes: &[u8]) -> String {
    format!("{BASE58BTC}{}", base58_encode(bytes))
}

pub fn decode(text: &str) -> Result<Vec<u8>, MultibaseError> {
    let rest = text
        .strip_prefix(BASE58BTC)
        .ok_or(MultibaseError::NotBase58btc)?;
    base58_decode(rest)
}

/// The Multikey `publicKeyMultibase` of an Ed25519 key: `z6Mk…`.
pub(crate) fn public_key_multibase(key: &VerifyingKey) -> String {
    let mut bytes = ED25519_PUB.to_vec();
    bytes.extend_from_slice(key.as_bytes());
    encode(&bytes)
}

pub(crate) fn decode_public_key(text: &str) -> Result<VerifyingKey, MultibaseError> {
    let bytes = decode(text)?;
    let key: &[u8; 32] = bytes
        .strip_prefix(&ED25519_PUB[..])
        .and_then(|k| k.try_into().ok())
        .ok_or(MultibaseError::NotEd25519Key)?;
    VerifyingKey::from_bytes(key).map_err(|_| MultibaseError::NotEd25519Key)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn base58_matches_the_published_examples() {
        // The examples of the IETF base58 draft (draft-msporny-base58).
        assert_eq!(base58_encode(b"Hello World!"), "2NEpo7TZRRrLZSi2U");
        assert_eq!(
            base58_encode(b"The quick brown fox jumps over the lazy dog."),
            "USm3fpXnKG5EUBx2ndxBDMPVciP5hGey2Jh4NDv6gmeo1LkMeiKrLJUUBk6Z"
        );
        assert_eq!(
            base58_encode(&[0x00, 0x00, 0x28, 0x7f, 0xb4, 0xcd]),
            "11233QC4"
        );
        assert_eq!(base58_encode(&[]), "");
        assert_eq!(
            base58_decode("11233QC4").unwrap(),
            [0, 0, 0x28, 0x7f, 0xb4, 0xcd]
        );
    }

    #[test]
    fn characters_outside_the_alphabet_are_refused() {
        for bad in ["0", "O", "I", "l", "+"] {
            assert!(matches!(
                base58_decode(&format!("2NE{bad}")),
                Err(MultibaseError::InvalidCharacter(_))
            ));
        }
        assert_eq!(decode("2NEpo"), Err(MultibaseError::NotBase58btc));
    }

    #[test]
    fn an_ed25519_multikey_starts_z6mk_and_reads_back() {
        let key = ed25519_dalek::SigningKey::from_bytes(&[7; 32]).verifying_key();
        let text = public_key_multibase(&key);
        assert!(text.starts_with("z6Mk"), "{text}");
        assert_eq!(decode_public_key(&text), Ok(key));
        // A 32-byte value without the ed25519-pub prefix is not a Multikey.
        assert_eq!(
            decode_public_key(&encode(key.as_bytes())),
            Err(MultibaseError::NotEd25519Key)
        );
    }

    proptest! {
        #[test]
        fn base58_round_trips(bytes in proptest::collection::vec(any::<u8>(), 0..80)) {
            prop_assert_eq!(base58_decode(&base58_encode(&bytes)).unwrap(), bytes);
        }
    }
}
