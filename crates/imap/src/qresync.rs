//! QRESYNC (RFC 7162): quick resynchronisation of a mailbox a client has
//! cached. SELECT with `(QRESYNC (uidvalidity modseq [known-uids]))`
//! answers with `VANISHED (EARLIER)` for what was expunged since and FETCH
//! for what changed since, both read from the store's change log; once
//! enabled, expunges are reported as `VANISHED` instead of `EXPUNGE`.

use mailstore::ChangeKind;
use tokio::io::{AsyncRead, AsyncWrite};

use crate::command::Qresync;
use crate::reply::{Done, failed};
use crate::selected::Selected;
use crate::seqset::SeqSet;
use crate::session::Conn;
use crate::untagged::Untagged;

impl<S: AsyncRead + AsyncWrite + Unpin + Send> Conn<'_, S> {
    /// A CONDSTORE enabling command (RFC 7162 section 3.1: ENABLE
    /// CONDSTORE, FETCH or SEARCH with MODSEQ, FETCH CHANGEDSINCE, STORE
    /// UNCHANGEDSINCE) turns CONDSTORE on; the first one issued with a
    /// mailbox selected reports that mailbox's HIGHESTMODSEQ, which the
    /// client did not get when it selected the mailbox without CONDSTORE.
    pub(crate) fn condstore_on(&mut self, sel: Option<&Selected>) {
        if self.enabled.condstore {
            return;
        }
        self.enabled.condstore = true;
        if let Some(sel) = sel {
            self.say(Untagged::Ok(crate::untagged::Code::HighestModseq(sel.modseq)));
        }
    }

    /// UIDs of `set` (all when `None`) expunged from the selected mailbox
    /// after `modseq`, by increasing UID.
    pub(crate) async fn vanished_since(
        &self,
        sel: &Selected,
        modseq: u64,
        set: Option<&SeqSet>,
    ) -> Result<Vec<i64>, Done> {
        let changes = self.mailstore.changes_since(sel.mailbox.id, modseq as i64).await.map_err(failed)?;
        let largest = (sel.mailbox.uid_next - 1).max(changes.iter().map(|c| c.uid).max().unwrap_or(0)) as u32;
        let mut gone: Vec<i64> = changes
            .iter()
            .filter(|c| c.kind == ChangeKind::Expunge && c.uid > 0)
            .map(|c| c.uid)
            .filter(|u| sel.seq_of(*u as u32).is_none())
            .filter(|u| set.is_none_or(|s| s.contains(*u as u32, largest)))
            .collect();
        gone.sort_unstable();
        gone.dedup();
        Ok(gone)
    }

    /// `* VANISHED [(EARLIER)] uids` when there are any.
    pub(crate) fn vanished_line(&mut self, earlier: bool, uids: &[i64]) {
        if !uids.is_empty() {
            self.say(Untagged::Vanished { earlier, uids });
        }
    }

    /// After SELECT with QRESYNC opened `sel`: what the client missed.
    pub(crate) async fn qresync_select(&mut self, sel: &Selected, q: &Qresync) -> Result<(), Done> {
        if sel.mailbox.uid_validity as u64 != q.uid_validity {
            // The client's cache is void: it will refetch everything.
            return Ok(());
        }
        let gone = self.vanished_since(sel, q.modseq, q.known_uids.as_ref()).await?;
        self.vanished_line(true, &gone);
        let rows = self.mailstore.messages(sel.mailbox.id).await.map_err(failed)?;
        for row in rows.iter().filter(|r| r.modseq as u64 > q.modseq) {
            let Some(seq) = sel.seq_of(row.uid as u32) else { continue };
            let (flags, keywords, modseq) = (row.flags, &row.keywords, Some(row.modseq));
            let recent = sel.recent.contains(&(row.uid as u32));
            self.say(Untagged::Flags { seq, uid: Some(row.uid), flags, recent, keywords, modseq });
        }
        Ok(())
    }
}
