//! Conventions of the workspace checked by tests rather than by memory (as
//! rust-analyzer's `tidy` does): the layer diagram of ARCHITECTURE.md lists
//! every crate, every dependency between our crates points down that
//! diagram, adapters never reach the infrastructure (`store`, `blob`,
//! `search`, `config`) but through the domain, internal crates stay at
//! version 0.0.0, and every crate says why it exists in `//!` docs.
//!
//! Nothing here is linked into the server; the checks are in `tests/`.
