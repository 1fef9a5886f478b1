//! COMPRESS=DEFLATE (RFC 4978): raw deflate both ways after the tagged OK,
//! applied at the session's two byte boundaries (what it feeds the reader,
//! what it flushes) rather than by wrapping the stream, so a session keeps
//! its type and state. Every flush ends with a sync flush, so the client
//! can decode each response as soon as it arrives.

use flate2::{Compress, Compression, Decompress, FlushCompress, FlushDecompress, Status};

/// Decompressed bytes produced per step: input that inflates enormously is
/// handed to the reader (and its length caps) in pieces of this size, and the
/// next piece is inflated only once the reader has dealt with the previous
/// one, so 16 KiB of compressed input that inflates to 16 MiB never sits in
/// memory whole.
const STEP: usize = 64 * 1024;

/// Both directions of a compressed connection.
pub struct Deflate {
    inflate: Decompress,
    deflate: Compress,
    /// Compressed client bytes not inflated yet.
    pending: Vec<u8>,
    /// The last step filled its output: the decompressor may hold more.
    more_out: bool,
    /// The last step could do nothing with `pending`: wait for more input.
    stalled: bool,
}

impl Default for Deflate {
    fn default() -> Self {
        Deflate {
            inflate: Decompress::new(false),
            deflate: Compress::new(Compression::fast(), false),
            pending: Vec::new(),
            more_out: false,
            stalled: false,
        }
    }
}

impl Deflate {
    /// Takes compressed bytes read from the client; [`Deflate::step`]
    /// inflates them.
    pub fn push(&mut self, input: &[u8]) {
        self.pending.extend_from_slice(input);
        self.stalled = false;
    }

    /// Whether [`Deflate::step`] may produce more plain text without more
    /// input from the client.
    pub fn has_pending(&self) -> bool {
        self.more_out || (!self.pending.is_empty() && !self.stalled)
    }

    /// Inflates at most [`STEP`] bytes of plain text and hands them to
    /// `sink`. `Err` on corrupt input (the connection must close).
    pub fn step(&mut self, sink: impl FnOnce(&[u8])) -> Result<(), ()> {
        let mut out = Vec::with_capacity(STEP);
        let before = self.inflate.total_in();
        let status = self.inflate.decompress_vec(&self.pending, &mut out, FlushDecompress::Sync).map_err(|_| ())?;
        let used = (self.inflate.total_in() - before) as usize;
        self.pending.drain(..used);
        if status == Status::StreamEnd {
            // RFC 4978 never ends the stream; anything after an end is ignored.
            self.pending.clear();
        }
        self.more_out = out.len() == STEP && status != Status::StreamEnd;
        self.stalled = used == 0 && out.is_empty();
        if !out.is_empty() {
            sink(&out);
        }
        Ok(())
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
            server.push(chunk);
            while server.has_pending() {
                server.step(|b| got.extend_from_slice(b)).unwrap();
            }
        }
        assert_eq!(got, text.as_bytes());
        server.push(b"\xff\xff\xff garbage");
        assert!(server.step(|_| {}).is_err());
    }

    /// Issue 25, item 18: a few KiB that inflate to megabytes come out one
    /// bounded step at a time, not all at once.
    #[test]
    fn a_compression_bomb_is_inflated_step_by_step() {
        let (mut server, mut client) = (Deflate::default(), Deflate::default());
        let bomb = client.deflate(&vec![b'a'; 16 << 20]);
        assert!(bomb.len() * 100 < 16 << 20, "{}", bomb.len());
        server.push(&bomb);
        let (mut steps, mut total, mut largest) = (0, 0, 0);
        while server.has_pending() {
            server
                .step(|b| {
                    total += b.len();
                    largest = largest.max(b.len());
                })
                .unwrap();
            steps += 1;
        }
        assert_eq!(total, 16 << 20);
        assert!(largest <= super::STEP, "{largest}");
        assert!(steps >= (16 << 20) / super::STEP, "{steps}");
    }
}
