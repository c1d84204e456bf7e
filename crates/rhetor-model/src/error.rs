use crate::container::{ModelKind, FORMAT_VERSION};

/// Errors reading, checking or writing a model file. Each message names the file and says what to do.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ModelError {
    /// I/O on the file.
    #[error("{0}: {1}")]
    Io(String, std::io::Error),
    /// Not a rhetor model at all.
    #[error("{0}: not a rhetor model file (bad magic bytes)")]
    NotAModel(String),
    /// Another container format version.
    #[error("{origin}: model format {found}, this rhetor reads format {FORMAT_VERSION}; retrain it with `rhetor train` or use the rhetor that wrote it")]
    Version {
        /// Where the bytes came from.
        origin: String,
        /// Version in the file.
        found: u32,
    },
    /// Written for rhetor versions this one is not.
    #[error("{origin}: a model for rhetor {wants}, and this is rhetor {this}; retrain it with this rhetor (it was trained with `{trained_with}`) or use a matching rhetor")]
    Incompatible {
        /// Where the bytes came from.
        origin: String,
        /// The release series the model declares it works with.
        wants: String,
        /// This rhetor's version.
        this: String,
        /// The manifest's training command.
        trained_with: String,
    },
    /// A model of another kind than the caller needs.
    #[error(
        "{origin}: this is a model of kind `{found}`, where one of kind `{expected}` is needed"
    )]
    WrongKind {
        /// Where the bytes came from.
        origin: String,
        /// The manifest's kind.
        found: ModelKind,
        /// The kind asked for.
        expected: ModelKind,
    },
    /// The model's labels are not the ones this rhetor uses.
    #[error(
        "{0}: the model's labels do not match this rhetor's ({1}); retrain it with this rhetor"
    )]
    Labels(String, String),
    /// Truncated or corrupt.
    #[error("{0}: model file is truncated or corrupt ({1}); copy it again or retrain it with `rhetor train`")]
    Corrupt(String, String),
    /// The payload does not decode.
    #[error("{0}: model payload does not decode ({1}); retrain it with `rhetor train`")]
    Payload(String, String),
}
