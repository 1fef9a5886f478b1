//! QRESYNC (RFC 7162): quick resynchronisation of a mailbox a client has
//! cached. SELECT with `(QRESYNC (uidvalidity modseq [known-uids]))`
//! answers with `VANISHED (EARLIER)` for what was expunged since and FETCH
//! for what changed since, both read from the store's change log; once
//! enabled, expunges are reported as `VANISHED` instead of `EXPUNGE`.

use mailstore::ChangeKind;
use tokio::io::{AsyncRead, AsyncWrite};

use crate::command::Qresync;
use crate::messages::compact_set;
use crate::reply::{Done, failed};
use crate::selected::flag_list;
use crate::seqset::SeqSet;
use crate::session::Session;

impl<S: AsyncRead + AsyncWrite + Unpin + Send> Session<'_, S> {
    /// UIDs of `set` (all when `None`) expunged from the selected mailbox
    /// after `modseq`, by increasing UID.
    pub(crate) async fn vanished_since(&self, modseq: u64, set: Option<&SeqSet>) -> Result<Vec<i64>, Done> {
        let Some(sel) = self.selected.as_ref() else { return Ok(Vec::new()) };
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
            let line = format!("VANISHED {}{}", if earlier { "(EARLIER) " } else { "" }, compact_set(uids));
            self.untagged(&line);
        }
    }

    /// After a successful SELECT with QRESYNC: what the client missed.
    pub(crate) async fn qresync_select(&mut self, q: &Qresync) -> Result<(), Done> {
        let Some(sel) = self.selected.clone() else { return Ok(()) };
        if sel.mailbox.uid_validity as u64 != q.uid_validity {
            // The client's cache is void: it will refetch everything.
            return Ok(());
        }
        let gone = self.vanished_since(q.modseq, q.known_uids.as_ref()).await?;
        self.vanished_line(true, &gone);
        let rows = self.mailstore.messages(sel.mailbox.id).await.map_err(failed)?;
        for row in rows.iter().filter(|r| r.modseq as u64 > q.modseq) {
            let Some(seq) = sel.seq_of(row.uid as u32) else { continue };
            let flags = flag_list(row.flags, &row.keywords);
            let line = format!("{seq} FETCH (UID {} FLAGS {flags} MODSEQ ({}))", row.uid, row.modseq);
            self.untagged(&line);
        }
        Ok(())
    }
}
