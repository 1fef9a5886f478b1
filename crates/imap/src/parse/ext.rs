//! Parsing of the extension commands: QUOTA (RFC 9208), ACL (RFC 4314),
//! SORT and THREAD (RFC 5256).

use super::{Cursor, R};
use crate::command::*;

impl Cursor<'_> {
    /// An extension command by name, `None` when unknown.
    pub(super) fn ext_command(&mut self, name: &str) -> R<Option<Body>> {
        Ok(Some(match name {
            "GETQUOTA" => {
                self.sp()?;
                Body::GetQuota(self.text_astring()?)
            }
            "GETQUOTAROOT" => {
                self.sp()?;
                Body::GetQuotaRoot(self.mailbox()?)
            }
            "SETQUOTA" => {
                // Refused whatever the arguments: skip them.
                self.i = self.s.len() - if self.s.ends_with(b"\r\n") { 2 } else { 1 };
                Body::SetQuota
            }
            "SETACL" => {
                self.sp()?;
                let mailbox = self.mailbox()?;
                self.sp()?;
                let identifier = self.text_astring()?;
                self.sp()?;
                Body::SetAcl { mailbox, identifier, rights: self.text_astring()? }
            }
            "DELETEACL" => {
                self.sp()?;
                let mailbox = self.mailbox()?;
                self.sp()?;
                Body::DeleteAcl { mailbox, identifier: self.text_astring()? }
            }
            "MYRIGHTS" | "GETACL" => {
                self.sp()?;
                let mailbox = self.mailbox()?;
                if name == "MYRIGHTS" { Body::MyRights(mailbox) } else { Body::GetAcl(mailbox) }
            }
            "LISTRIGHTS" => {
                self.sp()?;
                let mailbox = self.mailbox()?;
                self.sp()?;
                Body::ListRights { mailbox, identifier: self.text_astring()? }
            }
            "SORT" | "THREAD" => self.sort_or_thread(name, false)?,
            "COMPRESS" => {
                self.sp()?;
                Body::Compress(self.word()?)
            }
            _ => return Ok(None),
        }))
    }

    /// `(uidvalidity modseq [known-uids [(seqs uids)]])` after `QRESYNC`.
    pub(super) fn qresync_param(&mut self) -> R<Qresync> {
        self.sp()?;
        self.expect(b'(', "'('")?;
        let uid_validity = self.number()?;
        self.sp()?;
        let modseq = self.number()?;
        let mut known_uids = None;
        if self.eat(b' ') {
            if self.peek() != Some(b'(') {
                known_uids = Some(self.seqset()?);
                let _ = self.eat(b' ');
            }
            // The sequence match data only saves work: parsed and ignored.
            if self.eat(b'(') {
                self.seqset()?;
                self.sp()?;
                self.seqset()?;
                self.expect(b')', "')'")?;
            }
        }
        self.expect(b')', "')'")?;
        if uid_validity == 0 || modseq == 0 {
            return Err("QRESYNC needs a non-zero UIDVALIDITY and MODSEQ".into());
        }
        Ok(Qresync { uid_validity, modseq, known_uids })
    }

    pub(super) fn sort_or_thread(&mut self, name: &str, uid: bool) -> R<Body> {
        self.sp()?;
        if name == "THREAD" {
            let references = match self.word()?.as_str() {
                "REFERENCES" => true,
                "ORDEREDSUBJECT" => false,
                other => return Err(format!("Unsupported THREAD algorithm {other}")),
            };
            self.sp()?;
            return Ok(Body::Thread { uid, references, key: self.search_program(true)? });
        }
        let esort = self.return_options()?;
        self.expect(b'(', "'('")?;
        let mut criteria = Vec::new();
        let mut reverse = false;
        loop {
            let by = match self.word()?.as_str() {
                "REVERSE" => {
                    reverse = true;
                    self.sp()?;
                    continue;
                }
                "ARRIVAL" => SortBy::Arrival,
                "CC" => SortBy::Cc,
                "DATE" => SortBy::Date,
                "FROM" => SortBy::From,
                "SIZE" => SortBy::Size,
                "SUBJECT" => SortBy::Subject,
                "TO" => SortBy::To,
                "DISPLAYFROM" => SortBy::DisplayFrom,
                "DISPLAYTO" => SortBy::DisplayTo,
                other => return Err(format!("Unknown sort criterion {other}")),
            };
            criteria.push(SortKey { reverse, by });
            reverse = false;
            if self.eat(b')') {
                break;
            }
            self.sp()?;
        }
        self.sp()?;
        Ok(Body::Sort { uid, criteria, key: self.search_program(true)?, esort })
    }
}
