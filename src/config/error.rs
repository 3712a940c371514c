//! Errors of the configuration.

use std::path::PathBuf;

/// A configuration that cannot be used. Every variant names the file, and the key where one is at fault.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    #[error("cannot read the configuration {}: {source}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// Malformed TOML, an unknown or misspelt key, a missing key or a value of the wrong type; the message
    /// is the TOML parser's, with the line, the column and a caret.
    #[error("{}: {message}", path.display())]
    Parse { path: PathBuf, message: String },
    /// A key whose value is not acceptable.
    #[error("{}: [{section}] {key}: {message}", path.display())]
    Invalid { path: PathBuf, section: &'static str, key: String, message: String },
}
