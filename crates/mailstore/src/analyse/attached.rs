//! Messages attached to a message (`message/rfc822`, `message/global`), read
//! as messages of their own.
//!
//! The outer message is never parsed again: its stored analysis says which
//! files are attached messages and where their bytes are. Only when one is
//! opened are those bytes decoded (transfer encoding) and analysed by the
//! same [`super::analyse`] as a delivered message, so an attached message
//! has the same MIME model as any other. Both steps are bounded: the decoded
//! size by [`ATTACHED_MAX`], the nesting by [`ATTACHED_DEPTH`].

use super::view::{File, MessageView};

/// Largest attached message read inline, decoded: a bigger one is only
/// downloaded (its analysis would cost as much as a delivery's).
pub const ATTACHED_MAX: usize = 32 << 20;

/// How many attached messages deep a reader may go (a message attached to a
/// message attached to the message read is depth 2).
pub const ATTACHED_DEPTH: usize = 3;

impl File {
    /// An attached message small enough to be read inline.
    pub fn readable_message(&self) -> bool {
        self.message && self.size <= ATTACHED_MAX
    }
}

impl MessageView {
    /// The message attached as the file `n` of [`MessageView::files`], analysed
    /// now; `None` when that file is not a message or is larger than
    /// [`ATTACHED_MAX`].
    pub fn attached(&self, n: usize) -> Option<MessageView> {
        let file = self.files().into_iter().nth(n)?;
        if !file.readable_message() {
            return None;
        }
        let (_, bytes) = self.file(n)?;
        Some(MessageView::new(bytes, None))
    }

    /// The message reached by following `chain` (file numbers, outermost
    /// first) through attached messages; `None` when the chain is empty,
    /// longer than [`ATTACHED_DEPTH`], or any step is not a readable message.
    pub fn attached_at(&self, chain: &[usize]) -> Option<MessageView> {
        let (&first, rest) = chain.split_first()?;
        if chain.len() > ATTACHED_DEPTH {
            return None;
        }
        rest.iter().try_fold(self.attached(first)?, |inner, &n| inner.attached(n))
    }
}

#[cfg(test)]
mod tests {
    use super::super::view::Body;
    use super::*;
    use crate::display_addresses;

    /// `inner` attached to a message with a text body and a PDF, in base64
    /// when `base64` (as some clients forward), `level` naming the boundary.
    fn forwarding(inner: &str, base64: bool, level: usize) -> String {
        let (encoding, body) = if base64 {
            use base64::Engine;
            ("Content-Transfer-Encoding: base64\r\n", base64::engine::general_purpose::STANDARD.encode(inner))
        } else {
            ("", inner.to_owned())
        };
        format!(
            "From: paul@x.fr\r\nSubject: Fwd: Sortie\r\nContent-Type: multipart/mixed; boundary=lvl{level}x\r\n\r\n\
             --lvl{level}x\r\nContent-Type: text/plain\r\n\r\nVoir ci-joint.\r\n\
             --lvl{level}x\r\nContent-Type: application/pdf; name=a.pdf\r\n\r\n%PDF-1.4\r\n\
             --lvl{level}x\r\nContent-Type: message/rfc822; name=\"sortie.eml\"\r\n{encoding}\r\n{body}\r\n--lvl{level}x--\r\n"
        )
    }

    const INNER: &str = "From: =?utf-8?q?Direction_du_coll=C3=A8ge?= <direction@x.fr>\r\nTo: paul@x.fr\r\n\
        Subject: Sortie au =?utf-8?q?mus=C3=A9e?=\r\nDate: Thu, 19 Nov 2026 10:00:00 +0100\r\n\
        Content-Type: multipart/mixed; boundary=in\r\n\r\n--in\r\nContent-Type: text/html; charset=utf-8\r\n\r\n\
        <p>Départ à 8 h</p><script>alert(1)</script>\r\n--in\r\nContent-Type: text/plain; name=liste.txt\r\n\
        Content-Disposition: attachment\r\n\r\nÉlèves\r\n--in--\r\n";

    #[test]
    fn an_attached_message_reads_as_a_message_of_its_own() {
        for base64 in [false, true] {
            let outer = MessageView::new(forwarding(INNER, base64, 0).into_bytes(), None);
            let files = outer.files();
            assert_eq!(files.len(), 2);
            assert!(!files[0].readable_message() && files[1].readable_message());
            let inner = outer.attached(1).expect("the attached message");
            assert_eq!(inner.subject(), "Sortie au musée");
            assert_eq!(display_addresses(inner.from()), "Direction du collège <direction@x.fr>");
            assert_eq!(display_addresses(inner.to()), "paul@x.fr");
            assert_eq!(inner.sent_date(), Some(1_795_078_800));
            assert_eq!(inner.body(), Some(Body::Html("<p>Départ à 8 h</p><script>alert(1)</script>".into())));
            assert_eq!(inner.files().len(), 1);
            assert_eq!(inner.file(0).unwrap().1, "Élèves".as_bytes());
            // The outer message's body stays its own.
            assert_eq!(outer.body(), Some(Body::Text("Voir ci-joint.".into())));
        }
    }

    #[test]
    fn a_file_that_is_not_a_message_and_a_missing_one_are_not_opened() {
        let outer = MessageView::new(forwarding(INNER, false, 0).into_bytes(), None);
        assert!(outer.attached(0).is_none(), "a PDF is not a message");
        assert!(outer.attached(2).is_none());
        assert!(outer.attached_at(&[]).is_none());
        assert!(outer.attached_at(&[1, 0]).is_none(), "the inner file is text, not a message");
    }

    #[test]
    fn nested_messages_open_down_to_the_depth_cap() {
        let mut raw = INNER.to_owned();
        for level in 0..=ATTACHED_DEPTH {
            raw = forwarding(&raw, false, level);
        }
        let outer = MessageView::new(raw.into_bytes(), None);
        for depth in 1..=ATTACHED_DEPTH {
            let chain = vec![1; depth];
            let inner = outer.attached_at(&chain).expect("within the cap");
            assert_eq!(inner.subject(), "Fwd: Sortie");
        }
        assert!(outer.attached_at(&[1; ATTACHED_DEPTH + 1]).is_none(), "beyond the cap");
    }
}
