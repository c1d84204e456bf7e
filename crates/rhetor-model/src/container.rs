//! The model file: a checked container around a manifest and a binary payload, shared by every kind
//! of rhetor model.
//!
//! Layout: `RHETORM\0`, format version (u32 LE), manifest length (u32 LE), manifest JSON, payload
//! length (u64 LE), payload (bincode), CRC-32 of everything before it (u32 LE). A truncated or
//! altered file fails the length or checksum test; a file of another format, for another rhetor
//! version or of another kind is refused before its payload is decoded. Every refusal says what to do.

use crate::ModelError;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

const MAGIC: &[u8; 8] = b"RHETORM\0";

/// Version of the container and manifest layout. A file with another version is refused.
pub const FORMAT_VERSION: u32 = 2;

/// What a model is for; decides which tier loads it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum ModelKind {
    /// The fast tier: CRF span tagger and logistic-regression classifier (`.rhm`).
    Fast,
    /// The accurate tier's fine-tuned encoder, ensembled with a fast model (`.rhn`).
    Encoder,
    /// The attribution model (who says what).
    Attribution,
}

impl std::fmt::Display for ModelKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            ModelKind::Fast => "fast",
            ModelKind::Encoder => "encoder",
            ModelKind::Attribution => "attribution",
        })
    }
}

/// What a model file says about itself (readable JSON inside the file; `rhetor model-info` prints it).
/// Written with sorted keys, so the same model gives the same bytes.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Manifest {
    /// Which tier reads it.
    pub kind: ModelKind,
    /// Model name, e.g. `fast` or `accurate`.
    pub name: String,
    /// Container format version (the header's, repeated for readers of the JSON).
    pub format: u32,
    /// The rhetor version that trained it.
    pub rhetor_version: String,
    /// The rhetor release series (`MAJOR.MINOR`) that can read it.
    pub compatible: Vec<String>,
    /// The labels of its outputs, in index order (the 14 techniques for span models).
    pub labels: Vec<String>,
    /// The command that trained it.
    pub trained_with: String,
    /// Articles and label rows it was trained on.
    pub trained_on: String,
    /// Scores, e.g. cross-validated SI/FLC/TC.
    #[serde(default)]
    pub scores: BTreeMap<String, f64>,
    /// The map from raw span scores to calibrated confidences, fitted on held-out predictions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub calibration: Option<crate::Calibration>,
}

/// This rhetor's release series, `MAJOR.MINOR`: models declare the series that can read them.
pub fn rhetor_series() -> String {
    let v = env!("CARGO_PKG_VERSION");
    v.split('.').take(2).collect::<Vec<_>>().join(".")
}

impl Manifest {
    /// A manifest for a model trained now, by this rhetor, readable by its release series.
    pub fn new(kind: ModelKind, name: &str, labels: Vec<String>) -> Manifest {
        Manifest {
            kind,
            name: name.to_string(),
            format: FORMAT_VERSION,
            rhetor_version: env!("CARGO_PKG_VERSION").to_string(),
            compatible: vec![rhetor_series()],
            labels,
            trained_with: String::new(),
            trained_on: String::new(),
            scores: BTreeMap::new(),
            calibration: None,
        }
    }

    /// Refuses a model whose labels differ from `expected`.
    pub fn check_labels(&self, expected: &[String], origin: &str) -> Result<(), ModelError> {
        if self.labels != expected {
            let diff = match self.labels.iter().zip(expected).position(|(a, b)| a != b) {
                Some(i) => format!(
                    "label {i} is {:?}, expected {:?}",
                    self.labels[i], expected[i]
                ),
                None => format!("{} labels, expected {}", self.labels.len(), expected.len()),
            };
            return Err(ModelError::Labels(origin.into(), diff));
        }
        Ok(())
    }

    fn check(&self, origin: &str, kind: Option<ModelKind>) -> Result<(), ModelError> {
        if !self.compatible.contains(&rhetor_series()) {
            return Err(ModelError::Incompatible {
                origin: origin.into(),
                wants: self.compatible.join(", "),
                this: env!("CARGO_PKG_VERSION").into(),
                trained_with: self.trained_with.clone(),
            });
        }
        match kind {
            Some(k) if k != self.kind => Err(ModelError::WrongKind {
                origin: origin.into(),
                found: self.kind,
                expected: k,
            }),
            _ => Ok(()),
        }
    }
}

/// Encodes a manifest and a payload into model-file bytes.
pub fn encode<T: Serialize>(manifest: &Manifest, payload: &T) -> Vec<u8> {
    let body = bincode::serialize(payload).expect("payload serialises");
    encode_raw(manifest, &body)
}

/// Encodes a manifest and payload bytes already serialised.
pub fn encode_raw(manifest: &Manifest, body: &[u8]) -> Vec<u8> {
    // Through `Value`, whose maps are sorted: deterministic bytes for the same manifest.
    let value = serde_json::to_value(manifest).expect("manifest serialises");
    let man = serde_json::to_vec_pretty(&value).expect("manifest serialises");
    let mut out = Vec::with_capacity(32 + man.len() + body.len());
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
    out.extend_from_slice(&(man.len() as u32).to_le_bytes());
    out.extend_from_slice(&man);
    out.extend_from_slice(&(body.len() as u64).to_le_bytes());
    out.extend_from_slice(body);
    let crc = crc32fast::hash(&out);
    out.extend_from_slice(&crc.to_le_bytes());
    out
}

/// Reads and checks the manifest only (cheap: no payload decoding, no checksum), for choosing the
/// tier that loads a file.
pub fn read_manifest(bytes: &[u8], origin: &str) -> Result<Manifest, ModelError> {
    let (man, _) = split(bytes, origin)?;
    let m = parse_manifest(man, origin)?;
    m.check(origin, None)?;
    Ok(m)
}

/// Checks and decodes model-file bytes of the given kind.
pub fn decode<T: for<'de> Deserialize<'de>>(
    bytes: &[u8],
    origin: &str,
    kind: ModelKind,
) -> Result<(Manifest, T), ModelError> {
    let (man, body) = split(bytes, origin)?;
    check_crc(bytes, origin)?;
    let manifest = parse_manifest(man, origin)?;
    manifest.check(origin, Some(kind))?;
    let payload = bincode::deserialize(body)
        .map_err(|e| ModelError::Payload(origin.into(), e.to_string()))?;
    Ok((manifest, payload))
}

/// [`decode`] with the caller's payload reader in place of serde's (the payload bytes are checked
/// first, as for `decode`). For payloads whose large arrays a reader of their own copies whole,
/// where serde would read them one number at a time.
pub fn decode_with<T>(
    bytes: &[u8],
    origin: &str,
    kind: ModelKind,
    read: impl FnOnce(&[u8]) -> Result<T, String>,
) -> Result<(Manifest, T), ModelError> {
    let (man, body) = split(bytes, origin)?;
    check_crc(bytes, origin)?;
    let manifest = parse_manifest(man, origin)?;
    manifest.check(origin, Some(kind))?;
    let payload = read(body).map_err(|e| ModelError::Payload(origin.into(), e))?;
    Ok((manifest, payload))
}

/// The CRC-32 in the last 4 bytes must match everything before them (`split` checked the length).
fn check_crc(bytes: &[u8], origin: &str) -> Result<(), ModelError> {
    let n = bytes.len();
    let stored = u32::from_le_bytes(bytes[n - 4..].try_into().expect("4 bytes"));
    if crc32fast::hash(&bytes[..n - 4]) != stored {
        return Err(ModelError::Corrupt(
            origin.into(),
            "checksum mismatch".into(),
        ));
    }
    Ok(())
}

fn parse_manifest(man: &[u8], origin: &str) -> Result<Manifest, ModelError> {
    serde_json::from_slice(man)
        .map_err(|e| ModelError::Corrupt(origin.into(), format!("manifest: {e}")))
}

/// The manifest and payload bytes of a well-formed container of format `version`.
fn split<'a>(bytes: &'a [u8], origin: &str) -> Result<(&'a [u8], &'a [u8]), ModelError> {
    split_version(bytes, origin, FORMAT_VERSION)
}

fn split_version<'a>(
    bytes: &'a [u8],
    origin: &str,
    want: u32,
) -> Result<(&'a [u8], &'a [u8]), ModelError> {
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
    if version != want {
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

/// Rewrites a format-1 file (rhetor 0.1 before the shared container) as format 2 with the same
/// payload bytes, so the model predicts exactly as before. Format 1 manifests said no kind: the
/// caller names it.
pub fn upgrade_v1(
    bytes: &[u8],
    origin: &str,
    kind: ModelKind,
    labels: Vec<String>,
) -> Result<Vec<u8>, ModelError> {
    #[derive(Deserialize)]
    struct V1 {
        name: String,
        rhetor_version: String,
        trained_with: String,
        trained_on: String,
        #[serde(default)]
        scores: BTreeMap<String, f64>,
    }
    let (man, body) = split_version(bytes, origin, 1)?;
    check_crc(bytes, origin)?;
    let v1: V1 = serde_json::from_slice(man)
        .map_err(|e| ModelError::Corrupt(origin.into(), format!("manifest: {e}")))?;
    let manifest = Manifest {
        rhetor_version: v1.rhetor_version,
        trained_with: v1.trained_with,
        trained_on: v1.trained_on,
        scores: v1.scores,
        ..Manifest::new(kind, &v1.name, labels)
    };
    Ok(encode_raw(&manifest, body))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn manifest() -> Manifest {
        Manifest::new(ModelKind::Fast, "t", vec!["A".into(), "B".into()])
    }

    #[test]
    fn roundtrip_and_every_truncation_is_an_error() {
        let bytes = encode(&manifest(), &vec![1.5f32, 2.0, 3.0]);
        let (m, v): (Manifest, Vec<f32>) = decode(&bytes, "m", ModelKind::Fast).unwrap();
        assert_eq!(m, manifest());
        assert_eq!(v, [1.5, 2.0, 3.0]);
        assert_eq!(encode(&m, &v), bytes, "same model, same bytes");
        for cut in 0..bytes.len() {
            let e = decode::<Vec<f32>>(&bytes[..cut], "m", ModelKind::Fast).unwrap_err();
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
        let e = decode::<Vec<u8>>(&bytes, "m", ModelKind::Fast)
            .unwrap_err()
            .to_string();
        assert!(e.contains("checksum"), "{e}");
        let e = decode::<Vec<u8>>(b"hello world, not a model", "x.bin", ModelKind::Fast)
            .unwrap_err()
            .to_string();
        assert!(e.contains("not a rhetor model"), "{e}");
    }

    #[test]
    fn wrong_kind_other_version_and_other_labels_are_refused() {
        let bytes = encode(&manifest(), &0u8);
        let e = decode::<u8>(&bytes, "m.rhm", ModelKind::Encoder).unwrap_err();
        assert_eq!(
            e.to_string(),
            "m.rhm: this is a model of kind `fast`, where one of kind `encoder` is needed"
        );
        let mut old = manifest();
        old.compatible = vec!["0.0".into()];
        old.trained_with = "rhetor train --out m.rhm".into();
        let e = read_manifest(&encode(&old, &0u8), "m.rhm")
            .unwrap_err()
            .to_string();
        assert!(e.contains("a model for rhetor 0.0"), "{e}");
        assert!(e.contains("retrain it with this rhetor"), "{e}");
        assert!(e.contains("rhetor train --out m.rhm"), "{e}");
        let mut v3 = bytes.clone();
        v3[8] = 3;
        let e = read_manifest(&v3, "m").unwrap_err().to_string();
        assert!(
            e.contains("model format 3, this rhetor reads format 2"),
            "{e}"
        );
        let e = manifest()
            .check_labels(&["A".into(), "C".into()], "m")
            .unwrap_err()
            .to_string();
        assert!(e.contains("label 1 is \"B\", expected \"C\""), "{e}");
    }

    #[test]
    fn a_format_1_file_upgrades_with_the_same_payload() {
        // A format-1 file as rhetor 0.1 wrote it.
        let man =
            br#"{"name":"fast","rhetor_version":"0.1.0","trained_with":"x","trained_on":"y"}"#;
        let body = bincode::serialize(&vec![7u32, 8]).unwrap();
        let mut v1 = MAGIC.to_vec();
        v1.extend_from_slice(&1u32.to_le_bytes());
        v1.extend_from_slice(&(man.len() as u32).to_le_bytes());
        v1.extend_from_slice(man);
        v1.extend_from_slice(&(body.len() as u64).to_le_bytes());
        v1.extend_from_slice(&body);
        let crc = crc32fast::hash(&v1);
        v1.extend_from_slice(&crc.to_le_bytes());
        let e = read_manifest(&v1, "old.rhm").unwrap_err().to_string();
        assert!(e.contains("model format 1"), "{e}");
        let v2 = upgrade_v1(&v1, "old.rhm", ModelKind::Fast, vec!["A".into()]).unwrap();
        let (m, p): (Manifest, Vec<u32>) = decode(&v2, "new.rhm", ModelKind::Fast).unwrap();
        assert_eq!(
            (m.kind, m.name.as_str(), m.format),
            (ModelKind::Fast, "fast", 2)
        );
        assert_eq!(p, [7, 8]);
    }
}
