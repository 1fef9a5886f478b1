//! What one client knows and checks while it runs: its view of the selected
//! mailbox (message count, messages it marked `\Deleted`) and, shared by all
//! clients of an account, the facts learnt about each UID (size, body
//! fingerprint), which never change for a given UID.

use std::collections::HashMap;
use std::sync::Mutex;

use crate::conn::Reply;
use crate::message::fingerprint;
use crate::resp::{Response, Value};

/// One account under load, shared by its clients.
pub struct Account {
    pub login: String,
    pub number: u32,
    known: Mutex<Known>,
}

#[derive(Default)]
struct Known {
    uidvalidity: Option<u64>,
    facts: HashMap<u64, Facts>,
}

#[derive(Default, Clone, Copy)]
struct Facts {
    size: Option<u64>,
    body: Option<u64>,
}

impl Account {
    pub fn new(login: String, number: u32) -> Account {
        Account { login, number, known: Mutex::new(Known::default()) }
    }

    /// Records the UIDVALIDITY seen at SELECT or in APPENDUID; it must not change.
    pub fn uidvalidity(&self, v: u64) -> Result<(), String> {
        let mut k = self.known.lock().expect("no panics while locked");
        match k.uidvalidity.replace(v) {
            Some(old) if old != v => Err(format!("{}: UIDVALIDITY changed from {old} to {v}", self.login)),
            _ => Ok(()),
        }
    }

    /// A message this client appended and the server numbered `uid`.
    pub fn appended(&self, uid: u64, data: &[u8]) {
        let mut k = self.known.lock().expect("no panics while locked");
        let f = Facts { size: Some(data.len() as u64), body: Some(fingerprint(data)) };
        k.facts.insert(uid, f);
    }

    /// Checks the attributes of one FETCH response against what is known of
    /// its UID (and learns what was not known yet).
    pub fn fetched(&self, items: &[(String, Value)]) -> Vec<String> {
        let get = |name: &str| items.iter().find(|(n, _)| n == name).map(|(_, v)| v);
        let Some(uid) = get("UID").and_then(Value::number) else { return Vec::new() };
        let size = get("RFC822.SIZE").and_then(Value::number);
        let body = match get("BODY[]") {
            Some(Value::Str(b)) => Some(b.as_slice()),
            _ => None,
        };
        let mut errs = Vec::new();
        let mut k = self.known.lock().expect("no panics while locked");
        let f = k.facts.entry(uid).or_default();
        if let Some(size) = size {
            match f.size {
                Some(s) if s != size => errs.push(format!("{} UID {uid}: RFC822.SIZE {size}, was {s}", self.login)),
                _ => f.size = Some(size),
            }
        }
        if let Some(body) = body {
            let (len, fp) = (body.len() as u64, fingerprint(body));
            match (f.size, f.body) {
                (Some(s), _) if s != len => {
                    errs.push(format!("{} UID {uid}: BODY[] has {len} bytes, size is {s}", self.login))
                }
                (_, Some(b)) if b != fp => errs
                    .push(format!("{} UID {uid}: BODY[] differs from what was appended or fetched before", self.login)),
                _ => {
                    f.size = Some(len);
                    f.body = Some(fp);
                }
            }
        }
        errs
    }
}

/// A client's view of its selected mailbox.
#[derive(Debug, Default)]
pub struct View {
    pub count: u32,
    /// Sequence numbers this client marked `\Deleted`, kept up to date
    /// through EXPUNGE responses; EXPUNGE must empty it.
    pub deleted: Vec<u32>,
    /// Whether an EXISTS came during the current command.
    pub exists_seen: bool,
}

impl View {
    pub fn exists(&mut self, n: u32) -> Result<(), String> {
        self.exists_seen = true;
        let before = std::mem::replace(&mut self.count, n);
        if n < before { Err(format!("EXISTS went down from {before} to {n} without EXPUNGE")) } else { Ok(()) }
    }

    pub fn expunge(&mut self, n: u32) -> Result<(), String> {
        if n == 0 || n > self.count {
            return Err(format!("EXPUNGE {n} with {} messages", self.count));
        }
        self.count -= 1;
        self.deleted.retain(|&s| s != n);
        for s in &mut self.deleted {
            if *s > n {
                *s -= 1;
            }
        }
        Ok(())
    }

    pub fn fetch(&self, n: u32) -> Result<(), String> {
        if n == 0 || n > self.count { Err(format!("FETCH {n} with {} messages", self.count)) } else { Ok(()) }
    }

    pub fn mark_deleted(&mut self, seqs: &[u32]) {
        for &s in seqs {
            if !self.deleted.contains(&s) {
                self.deleted.push(s);
            }
        }
    }
}

/// Whether a FLAGS value holds `flag` (case-insensitive).
pub fn has_flag(flags: &Value, flag: &str) -> bool {
    matches!(flags, Value::List(l) if l.iter().any(|f| matches!(f, Value::Atom(a) if a.eq_ignore_ascii_case(flag))))
}

pub fn is_inbox(v: &Value) -> bool {
    matches!(v, Value::Atom(a) if a.eq_ignore_ascii_case("INBOX"))
        || matches!(v, Value::Str(s) if s.eq_ignore_ascii_case(b"INBOX"))
}

/// `[APPENDUID validity uid]` of a tagged OK.
pub fn appenduid(r: &Reply) -> Option<(u64, u64)> {
    let mut w = r.code.as_deref()?.split(' ');
    if !w.next()?.eq_ignore_ascii_case("APPENDUID") {
        return None;
    }
    Some((w.next()?.parse().ok()?, w.next()?.parse().ok()?))
}

/// The MESSAGES count of a STATUS reply, after checking it is coherent.
pub fn check_status(untagged: &[Response]) -> Result<u64, String> {
    let items = untagged
        .iter()
        .find_map(|u| match u {
            Response::Data(n, v) if n == "STATUS" => match v.last() {
                Some(Value::List(items)) => Some(items.clone()),
                _ => None,
            },
            _ => None,
        })
        .ok_or("STATUS without its data")?;
    let get = |k: &str| items.iter().position(|i| matches!(i, Value::Atom(a) if a.eq_ignore_ascii_case(k)));
    let num = |k: &str| get(k).and_then(|i| items.get(i + 1)).and_then(Value::number);
    let messages = num("MESSAGES").ok_or("STATUS without MESSAGES")?;
    match num("UNSEEN") {
        Some(u) if u > messages => Err(format!("STATUS UNSEEN {u} > MESSAGES {messages}")),
        _ => Ok(messages),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resp::Status;

    fn items(uid: u64, extra: Vec<(&str, Value)>) -> Vec<(String, Value)> {
        let mut v = vec![("UID".to_owned(), Value::Atom(uid.to_string()))];
        v.extend(extra.into_iter().map(|(n, x)| (n.to_owned(), x)));
        v
    }

    #[test]
    fn fetched_bodies_must_match_appended_ones() {
        let a = Account::new("agent01@x".into(), 1);
        a.appended(5, b"hello\r\n");
        assert!(a.fetched(&items(5, vec![("BODY[]", Value::Str(b"hello\r\n".to_vec()))])).is_empty());
        assert!(a.fetched(&items(5, vec![("RFC822.SIZE", Value::Atom("7".into()))])).is_empty());
        assert_eq!(a.fetched(&items(5, vec![("RFC822.SIZE", Value::Atom("8".into()))])).len(), 1);
        assert_eq!(a.fetched(&items(5, vec![("BODY[]", Value::Str(b"hellO\r\n".to_vec()))])).len(), 1);
        // Unknown UIDs are learnt on first sight, then held to it.
        assert!(a.fetched(&items(9, vec![("RFC822.SIZE", Value::Atom("30".into()))])).is_empty());
        assert_eq!(a.fetched(&items(9, vec![("BODY[]", Value::Str(vec![b'x'; 29]))])).len(), 1);
        assert!(a.uidvalidity(3).is_ok() && a.uidvalidity(3).is_ok());
        assert!(a.uidvalidity(4).is_err());
    }

    #[test]
    fn view_tracks_counts_and_deleted_messages() {
        let mut v = View { count: 5, ..View::default() };
        v.mark_deleted(&[2, 4]);
        assert!(v.expunge(1).is_ok());
        assert_eq!(v.deleted, vec![1, 3]);
        assert!(v.expunge(3).is_ok() && v.expunge(1).is_ok());
        assert!(v.deleted.is_empty());
        assert_eq!(v.count, 2);
        assert!(v.expunge(3).is_err());
        assert!(v.fetch(2).is_ok() && v.fetch(3).is_err() && v.fetch(0).is_err());
        assert!(v.exists(4).is_ok() && v.exists(3).is_err());
    }

    #[test]
    fn status_and_appenduid() {
        let status = |s: &str| vec![crate::resp::parse(s.as_bytes()).unwrap()];
        assert_eq!(check_status(&status("* STATUS INBOX (MESSAGES 4 UNSEEN 2 RECENT 0)\r\n")), Ok(4));
        assert!(check_status(&status("* STATUS INBOX (MESSAGES 1 UNSEEN 2)\r\n")).is_err());
        assert!(check_status(&status("* STATUS INBOX (UNSEEN 2)\r\n")).is_err());
        assert!(check_status(&[]).is_err());
        let reply = |code: Option<&str>| Reply {
            untagged: vec![],
            status: Status::Ok,
            code: code.map(Into::into),
            text: String::new(),
        };
        assert_eq!(appenduid(&reply(Some("APPENDUID 17 4"))), Some((17, 4)));
        assert_eq!(appenduid(&reply(Some("READ-WRITE"))), None);
        assert_eq!(appenduid(&reply(None)), None);
        assert!(is_inbox(&Value::Atom("inbox".into())) && is_inbox(&Value::Str(b"INBOX".to_vec())));
    }

    #[test]
    fn flags() {
        let f = Value::List(vec![Value::Atom("\\Seen".into()), Value::Atom("$load3".into())]);
        assert!(has_flag(&f, "$Load3") && has_flag(&f, "\\seen") && !has_flag(&f, "\\Deleted"));
        assert!(!has_flag(&Value::Nil, "\\Seen"));
    }
}
