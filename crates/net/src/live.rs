//! Open connections as metrics: [`Live`] is held by a connection's task from
//! admission to its end, so `ardoise_connections{protocol}` is what is open
//! now and `ardoise_connections_total{protocol}` what was ever admitted.

/// One admitted connection, counted until dropped.
#[must_use = "the connection is counted only while this is held"]
pub struct Live {
    protocol: &'static str,
}

impl Live {
    /// Counts a connection of `protocol` ("smtp", "submission", "imap", "http", …).
    pub fn open(protocol: &'static str) -> Live {
        metrics::counter!("ardoise_connections_total", "protocol" => protocol).increment(1);
        metrics::gauge!("ardoise_connections", "protocol" => protocol).increment(1.0);
        Live { protocol }
    }
}

impl Drop for Live {
    fn drop(&mut self) {
        metrics::gauge!("ardoise_connections", "protocol" => self.protocol).decrement(1.0);
    }
}
