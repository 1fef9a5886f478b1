//! COMPRESS=DEFLATE (RFC 4978): raw deflate both ways after the tagged OK,
//! applied at the session's two byte boundaries (what it feeds the reader,
//! what it flushes) rather than by wrapping the stream, so a session keeps
//! its type and state. Every flush ends with a sync flush, so the client
//! can decode each response as soon as it arrives.

use flate2::{Compress, Compression, Decompress, FlushCompress, FlushDecompress, Status};

/// Decompressed bytes produced per step: input that inflates enormously is
/// handed to the reader (and its length caps) in pieces of this size.
const STEP: usize = 64 * 1024;

/// Both directions of a compressed connection.
pub struct Deflate {
    inflate: Decompress,
    deflate: Compress,
}

impl Default for Deflate {
    fn default() -> Self {
        Deflate { inflate: Decompress::new(false), deflate: Compress::new(Compression::fast(), false) }
    }
}

impl Deflate {
    /// Decompresses client bytes, giving the plain text in pieces to `sink`.
    /// `Err` on corrupt input (the connection must close).
    pub fn inflate(&mut self, mut input: &[u8], mut sink: impl FnMut(&[u8])) -> Result<(), ()> {
        let mut out = Vec::with_capacity(STEP);
        loop {
            out.clear();
            let before = self.inflate.total_in();
            let status = self.inflate.decompress_vec(input, &mut out, FlushDecompress::Sync).map_err(|_| ())?;
            let used = (self.inflate.total_in() - before) as usize;
            input = &input[used..];
            if !out.is_empty() {
                sink(&out);
            }
            if status == Status::StreamEnd || (input.is_empty() && out.len() < STEP) || (used == 0 && out.is_empty()) {
                return Ok(());
            }
        }
    }

    /// Compresses server output, ending with a sync flush.
    pub fn deflate(&mut self, mut input: &[u8]) -> Vec<u8> {
        let mut out = Vec::with_capacity(input.len() / 2 + 64);
        loop {
            if out.capacity() - out.len() < 64 {
                out.reserve(out.capacity().max(STEP));
            }
            let before = self.deflate.total_in();
            let _ = self.deflate.compress_vec(input, &mut out, FlushCompress::Sync);
            input = &input[(self.deflate.total_in() - before) as usize..];
            // Done when all input is taken and the flush had room to finish.
            if input.is_empty() && out.capacity() - out.len() >= 64 {
                return out;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Deflate;

    #[test]
    fn round_trips_in_pieces() {
        let (mut server, mut client) = (Deflate::default(), Deflate::default());
        let text = "a1 FETCH 1:* (FLAGS)\r\n".repeat(10_000);
        let packed = client.deflate(text.as_bytes());
        assert!(packed.len() < text.len() / 10);
        let mut got = Vec::new();
        for chunk in packed.chunks(1000) {
            server.inflate(chunk, |b| got.extend_from_slice(b)).unwrap();
        }
        assert_eq!(got, text.as_bytes());
        assert!(server.inflate(b"\xff\xff\xff garbage", |_| {}).is_err());
    }
}
