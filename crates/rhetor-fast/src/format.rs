//! The model file: a checked container around a manifest and a binary payload.
//!
//! Layout: `RHETORM\0`, format version (u32 LE), manifest length (u32 LE), manifest JSON, payload
//! length (u64 LE), payload (bincode), CRC-32 of everything before it (u32 LE). A truncated or
//! altered file fails the length or checksum test with a message that says what to do.

use serde::{Deserialize, Serialize};

const MAGIC: &[u8; 8] = b"RHETORM\0";

/// Version of the container and payload layout. A file with another version is refused.
pub const FORMAT_VERSION: u32 = 1;

/// What a model file says about itself (readable JSON inside the file, `rhetor model-info` prints it).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
pub struct Manifest {
    /// Model name, e.g. `fast`.
    pub name: String,
    /// The rhetor version that trained it.
    pub rhetor_version: String,
    /// The command that trained it.
    pub trained_with: String,
    /// Articles and label rows it was trained on.
    pub trained_on: String,
    /// Free-form scores (e.g. cross-validated SI/TC/FLC).
    #[serde(default)]
    pub scores: std::collections::BTreeMap<String, f64>,
}

/// Errors reading or writing a model file.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ModelError {
    /// I/O on the file.
    #[error("{0}: {1}")]
    Io(String, std::io::Error),
    /// Not a rhetor model at all.
    #[error("{0}: not a rhetor model file (bad magic bytes)")]
    NotAModel(String),
    /// Another format version.
    #[error("{origin}: model format {found}, this rhetor reads format {FORMAT_VERSION}; retrain it with `rhetor train` or use a matching rhetor")]
    Version {
        /// Where the bytes came from.
        origin: String,
        /// Version in the file.
        found: u32,
    },
    /// Truncated or corrupt.
    #[error("{0}: model file is truncated or corrupt ({1}); copy it again or retrain it with `rhetor train`")]
    Corrupt(String, String),
    /// The payload does not decode.
    #[error("{0}: model payload does not decode ({1}); retrain it with `rhetor train`")]
    Payload(String, String),
}

/// Encodes a manifest and a payload into model-file bytes.
pub fn encode<T: Serialize>(manifest: &Manifest, payload: &T) -> Vec<u8> {
    let man = serde_json::to_vec_pretty(manifest).expect("manifest serialises");
    let body = bincode::serialize(payload).expect("payload serialises");
    let mut out = Vec::with_capacity(32 + man.len() + body.len());
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
    out.extend_from_slice(&(man.len() as u32).to_le_bytes());
    out.extend_from_slice(&man);
    out.extend_from_slice(&(body.len() as u64).to_le_bytes());
    out.extend_from_slice(&body);
    let crc = crc32fast::hash(&out);
    out.extend_from_slice(&crc.to_le_bytes());
    out
}

/// Reads the manifest only (cheap: no payload decoding, no checksum).
pub fn read_manifest(bytes: &[u8], origin: &str) -> Result<Manifest, ModelError> {
    let (man, _) = split(bytes, origin)?;
    serde_json::from_slice(man)
        .map_err(|e| ModelError::Corrupt(origin.into(), format!("manifest: {e}")))
}

/// Checks and decodes model-file bytes.
pub fn decode<T: for<'de> Deserialize<'de>>(
    bytes: &[u8],
    origin: &str,
) -> Result<(Manifest, T), ModelError> {
    let (man, body) = split(bytes, origin)?;
    let n = bytes.len();
    let stored = u32::from_le_bytes(bytes[n - 4..].try_into().expect("4 bytes"));
    if crc32fast::hash(&bytes[..n - 4]) != stored {
        return Err(ModelError::Corrupt(
            origin.into(),
            "checksum mismatch".into(),
        ));
    }
    let manifest = serde_json::from_slice(man)
        .map_err(|e| ModelError::Corrupt(origin.into(), format!("manifest: {e}")))?;
    let payload = bincode::deserialize(body)
        .map_err(|e| ModelError::Payload(origin.into(), e.to_string()))?;
    Ok((manifest, payload))
}

fn split<'a>(bytes: &'a [u8], origin: &str) -> Result<(&'a [u8], &'a [u8]), ModelError> {
    let short = |what: &str| {
        ModelError::Corrupt(
            origin.into(),
            format!("{} bytes, ends inside the {what}", bytes.len()),
        )
    };
    if bytes.len() < 16 || &bytes[..8] != MAGIC {
        return Err(
            if bytes.len() >= 8 && &bytes[..8] != MAGIC || bytes.is_empty() {
                ModelError::NotAModel(origin.into())
            } else {
                short("header")
            },
        );
    }
    let version = u32::from_le_bytes(bytes[8..12].try_into().expect("4 bytes"));
    if version != FORMAT_VERSION {
        return Err(ModelError::Version {
            origin: origin.into(),
            found: version,
        });
    }
    let man_len = u32::from_le_bytes(bytes[12..16].try_into().expect("4 bytes")) as usize;
    let man_end = 16usize
        .checked_add(man_len)
        .filter(|&e| e + 8 <= bytes.len())
        .ok_or_else(|| short("manifest"))?;
    let body_len = u64::from_le_bytes(bytes[man_end..man_end + 8].try_into().expect("8 bytes"));
    let body_start = man_end + 8;
    let expected = (body_start as u64)
        .checked_add(body_len)
        .and_then(|e| e.checked_add(4));
    if expected != Some(bytes.len() as u64) {
        return Err(ModelError::Corrupt(
            origin.into(),
            format!(
                "expected {} bytes, found {}",
                expected.map_or("too many".into(), |e| e.to_string()),
                bytes.len()
            ),
        ));
    }
    Ok((&bytes[16..man_end], &bytes[body_start..bytes.len() - 4]))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn manifest() -> Manifest {
        Manifest {
            name: "t".into(),
            rhetor_version: "0".into(),
            trained_with: "x".into(),
            trained_on: "y".into(),
            scores: Default::default(),
        }
    }

    #[test]
    fn roundtrip_and_every_truncation_is_an_error() {
        let bytes = encode(&manifest(), &vec![1.5f32, 2.0, 3.0]);
        let (m, v): (Manifest, Vec<f32>) = decode(&bytes, "m").unwrap();
        assert_eq!(m, manifest());
        assert_eq!(v, [1.5, 2.0, 3.0]);
        for cut in 0..bytes.len() {
            let e = decode::<Vec<f32>>(&bytes[..cut], "m").unwrap_err();
            assert!(
                matches!(e, ModelError::Corrupt(..) | ModelError::NotAModel(..)),
                "cut {cut}: {e}"
            );
        }
    }

    #[test]
    fn flipped_byte_fails_the_checksum() {
        let mut bytes = encode(&manifest(), &vec![1u8; 100]);
        let i = bytes.len() - 20;
        bytes[i] ^= 0xff;
        let e = decode::<Vec<u8>>(&bytes, "m").unwrap_err().to_string();
        assert!(e.contains("checksum"), "{e}");
        let e = decode::<Vec<u8>>(b"hello world, not a model", "x.bin")
            .unwrap_err()
            .to_string();
        assert!(e.contains("not a rhetor model"), "{e}");
    }
}
