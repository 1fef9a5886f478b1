//! Error classification shared by every protocol adapter.
//!
//! Domain errors carry a [`Transience`]; the adapter turns it into the wire reply
//! (SMTP 4xx for temporary, 5xx for permanent) in exactly one place.

/// Whether retrying later may succeed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transience {
    Temporary,
    Permanent,
}

/// Implemented by domain errors so adapters can pick the reply class.
pub trait ErrorKind {
    fn transience(&self) -> Transience;
}
