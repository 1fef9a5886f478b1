//! Connection caps per client address and per account. The type lives in
//! `net`, since the SMTP listeners (MX and submission) need the same counters.

pub use net::admission::{Admission, Slot};
