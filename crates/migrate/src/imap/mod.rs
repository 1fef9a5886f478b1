//! The IMAP client side: [`proto`] reads responses without I/O, [`client`]
//! talks to a server. Ours rather than a client crate's: the migration needs
//! five commands, and reading each FETCH response as it arrives (delivered,
//! then recorded, before the next is read) is what makes a killed run resume
//! at the message where it stopped.

pub mod client;
pub mod proto;
