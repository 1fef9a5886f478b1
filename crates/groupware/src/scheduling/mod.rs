//! Scheduling (RFC 6638 implicit scheduling, iTIP RFC 5546, iMIP RFC 6047).
//!
//! When an organiser stores an event with ATTENDEEs ([`Groupware::put_scheduled`]),
//! each local attendee gets a copy in their default calendar (PARTSTAT
//! NEEDS-ACTION) and an invitation mail (`text/calendar; method=REQUEST`);
//! an outside attendee gets the mail only; a resource (a room) answers by
//! itself, ACCEPTED when free and DECLINED on a conflict. The organiser's
//! copy records the outcome of each delivery in SCHEDULE-STATUS and the
//! resources' answers in PARTSTAT. Removing attendees, cancelling or
//! deleting the event cancels their copies (METHOD:CANCEL mails).
//!
//! An attendee's answer, whether stored over CalDAV, given from the webmail
//! ([`Groupware::respond`]) or by deleting their copy, changes only their own
//! PARTSTAT in the organiser's copy (a local organiser) or is mailed as a
//! REPLY (an outside one). An incoming REPLY mail ([`Groupware::receive_imip`])
//! is applied only when its sender is the attendee it speaks for and its UID
//! and SEQUENCE match the organiser's copy.
//!
//! Nobody's object is changed except their own PARTSTAT: a copy is written
//! into an attendee's calendar only where no object of that UID exists or
//! where the one there has the same organiser; answers reach only an
//! organiser's copy that lists the attendee. Copies are written with the
//! plain [`Groupware::put`], so a delivery never schedules again (no loop).
//!
//! Every message delivered to a local account also lands in its scheduling
//! inbox ([`inbox`], RFC 6638 section 2.2) for its CalDAV client, and
//! [`schedule_tag`] gives the Schedule-Tag of a stored object.
//!
//! Mail goes through a [`Postman`] the binary installs ([`Groupware::set_postman`]):
//! this crate builds the message ([`imip`]) and never knows SMTP.

pub mod freebusy;
pub mod imip;
pub mod inbox;
pub mod itip;

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use calcard::icalendar::{ICalendar, ICalendarMethod};
use model::{AccountId, Address};
use store::Precondition;

use crate::{Collection, CollectionKind, DEFAULT_CALENDAR, Error, Groupware, Result, Written, ical};
pub use inbox::INBOX_KEEP;
pub use itip::{MAX_ATTENDEES, Meeting, PartStat};

/// The account that acts, and its address (the one its mail comes from).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub id: AccountId,
    pub address: Address,
    pub display_name: String,
}

/// A mail send, boxed so that [`Postman`] is a trait object.
pub type PostFuture<'a> = Pin<Box<dyn Future<Output = std::result::Result<(), String>> + Send + 'a>>;

/// Sends the mails scheduling writes (invitations, cancellations, replies)
/// as `from`, through the same path as any mail the account sends.
pub trait Postman: Send + Sync {
    fn send<'a>(&'a self, from: &'a Principal, recipients: &'a [Address], message: Vec<u8>) -> PostFuture<'a>;
}

/// What a scheduled put did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scheduled {
    pub written: Written,
    /// The server changed the object after the client's text (SCHEDULE-STATUS,
    /// a room's answer): the client must read it again (no ETag given back).
    pub rewritten: bool,
}

/// What became of an incoming iMIP message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImipOutcome {
    /// The organiser's copy took the attendee's answer.
    Applied,
    /// Nothing to do or not believed (another sender, an unknown UID, an
    /// older SEQUENCE, not a REPLY): the mail is just a mail. The reason
    /// is for the log.
    Ignored(&'static str),
}

/// Status codes of SCHEDULE-STATUS (RFC 6638 section 7.3, RFC 5546 3.6).
mod status {
    pub const SENT: &str = "1.1";
    pub const DELIVERED: &str = "1.2";
    pub const INVALID_USER: &str = "3.7";
    pub const NO_PRIVILEGE: &str = "3.8";
    pub const NOT_DELIVERED: &str = "5.1";
}

impl Groupware {
    /// Installs the mail sender of invitations (once; later calls are ignored).
    pub fn set_postman(&self, postman: Arc<dyn Postman>) {
        let _ = self.postman.set(postman);
    }

    /// [`Groupware::put`], then the scheduling the object asks for: as its
    /// organiser, invitations to its attendees; as an attendee, the answer
    /// to its organiser.
    pub async fn put_scheduled(
        &self,
        who: &Principal,
        c: &Collection,
        name: &str,
        text: &str,
        pre: Precondition<'_>,
    ) -> Result<Scheduled> {
        let plain = |written| Scheduled { written, rewritten: false };
        let Some((cal, meeting)) = self.scheduling_view(c, text)? else {
            return Ok(plain(self.put(c, name, text, pre).await?));
        };
        let previous = match self.get(c, name).await {
            Ok(o) => self.scheduling_view(c, &o.content).ok().flatten().map(|(_, m)| m),
            Err(_) => None,
        };
        let Some(organizer) = meeting.organizer.clone() else {
            return Ok(plain(self.put(c, name, text, pre).await?));
        };
        if self.is_own(who, &organizer).await? {
            let written = self.put(c, name, text, pre).await?;
            return self.organise(who, c, name, cal, &meeting, previous.as_ref(), written).await;
        }
        let mine = self.own_attendance(who, &meeting).await?;
        let written = self.put(c, name, text, pre).await?;
        if let Some(me) = mine {
            let before = previous.as_ref().and_then(|p| p.attendee(&me)).map(|a| a.partstat);
            let now = meeting.attendee(&me).map_or(PartStat::NeedsAction, |a| a.partstat);
            if before != Some(now) && now != PartStat::NeedsAction {
                self.answer_organizer(who, &me, &cal, &organizer).await;
            }
        }
        Ok(plain(written))
    }

    /// [`Groupware::delete`], then: an organiser's deletion cancels the
    /// attendees' copies; an attendee's deletion declines.
    pub async fn delete_scheduled(
        &self,
        who: &Principal,
        c: &Collection,
        name: &str,
        if_match: Option<&str>,
    ) -> Result<()> {
        let before = self.get(c, name).await.ok();
        self.delete(c, name, if_match).await?;
        let Some(before) = before else { return Ok(()) };
        let Ok(Some((mut cal, meeting))) = self.scheduling_view(c, &before.content) else { return Ok(()) };
        let Some(organizer) = meeting.organizer.clone() else { return Ok(()) };
        if self.is_own(who, &organizer).await? {
            let everyone: Vec<String> = meeting.attendees.iter().map(|a| a.address.clone()).collect();
            self.cancel(who, &cal, &meeting, &everyone).await;
        } else if let Some(me) = self.own_attendance(who, &meeting).await?
            && meeting.attendee(&me).is_some_and(|a| a.partstat != PartStat::Declined)
            && !meeting.cancelled
        {
            itip::set_partstat(&mut cal, &me, PartStat::Declined);
            self.answer_organizer(who, &me, &cal, &organizer).await;
        }
        Ok(())
    }

    /// The webmail's « Accepter / Provisoire / Refuser » on an invitation
    /// (the REQUEST text of a mail): the event goes into `who`'s calendar
    /// (or their copy is updated) with their answer, and the organiser is
    /// answered. `Err(Invalid)` when `who` is not invited or the text is no
    /// invitation.
    pub async fn respond(&self, who: &Principal, request: &str, answer: PartStat) -> Result<()> {
        if request.len() > self.settings.max_object_bytes {
            return Err(Error::TooLarge(self.settings.max_object_bytes));
        }
        let cal = ical::parse(request).map_err(Error::Invalid)?;
        let meeting = itip::meeting(&cal).map_err(Error::Invalid)?;
        if meeting.method.as_deref().is_some_and(|m| m != "REQUEST") {
            return Err(Error::Invalid("ce n'est pas une invitation (METHOD:REQUEST)".into()));
        }
        let Some(organizer) = meeting.organizer.clone() else {
            return Err(Error::Invalid("invitation sans organisateur".into()));
        };
        let Some(me) = self.own_attendance(who, &meeting).await? else {
            return Err(Error::Invalid("vous ne figurez pas parmi les participants".into()));
        };
        if self.is_own(who, &organizer).await? {
            return Err(Error::Invalid("vous organisez cette réunion".into()));
        }
        let existing = self.store.calendar_objects_by_uid(who.id, &meeting.uid).await?;
        let (calendar, name, pre, mut copy) = match existing.into_iter().next() {
            Some((calendar_id, object)) => {
                let held = ical::parse(&object.content).map_err(Error::Invalid)?;
                let held_meeting = itip::meeting(&held).map_err(Error::Invalid)?;
                if held_meeting.organizer.as_deref() != Some(organizer.as_str()) {
                    return Err(Error::Invalid("un autre événement de votre agenda porte déjà cet UID".into()));
                }
                let calendar = self.calendar_by_id(who.id, calendar_id).await?;
                // The newer of the two versions is kept: an old mail never undoes an update.
                let copy = if held_meeting.sequence >= meeting.sequence { held } else { cal.clone() };
                (calendar, object.name, Some(object.etag), copy)
            }
            None => {
                let calendar = self.collection(who.id, CollectionKind::Calendar, DEFAULT_CALENDAR).await?;
                (calendar, object_name(&meeting.uid), None, cal.clone())
            }
        };
        itip::set_method(&mut copy, None);
        itip::strip_server_params(&mut copy);
        itip::set_partstat(&mut copy, &me, answer);
        let pre = match &pre {
            Some(etag) => Precondition::Matches(etag),
            None => Precondition::Absent,
        };
        self.put(&calendar, &name, &itip::write(&copy), pre).await?;
        self.answer_organizer(who, &me, &copy, &organizer).await;
        Ok(())
    }

    /// `who`'s answer to the invitation `uid`, if they hold a copy of it.
    pub async fn answer_of(&self, who: &Principal, uid: &str) -> Result<Option<PartStat>> {
        for (_, object) in self.store.calendar_objects_by_uid(who.id, uid).await? {
            let Ok(cal) = ical::parse(&object.content) else { continue };
            let Ok(meeting) = itip::meeting(&cal) else { continue };
            if let Some(me) = self.own_attendance(who, &meeting).await? {
                return Ok(meeting.attendee(&me).map(|a| a.partstat));
            }
        }
        Ok(None)
    }

    /// An iMIP mail received by `who` from `sender` (the envelope or From
    /// address the MX verified): a REPLY updates `who`'s organiser copy.
    pub async fn receive_imip(&self, who: &Principal, sender: &str, text: &str) -> Result<ImipOutcome> {
        if text.len() > self.settings.max_object_bytes {
            return Ok(ImipOutcome::Ignored("too large"));
        }
        let Ok(reply) = ical::parse(text) else { return Ok(ImipOutcome::Ignored("not iCalendar")) };
        let Ok(meeting) = itip::meeting(&reply) else { return Ok(ImipOutcome::Ignored("not a meeting")) };
        let sender = sender.trim().to_ascii_lowercase();
        // One attendee speaks, and only for themselves.
        let [attendee] = meeting.attendees.as_slice() else {
            return Ok(ImipOutcome::Ignored("not exactly one attendee"));
        };
        if meeting.method.as_deref() != Some("REPLY") {
            return Ok(ImipOutcome::Ignored("not a REPLY"));
        }
        if attendee.address != sender {
            return Ok(ImipOutcome::Ignored("the attendee is not the sender"));
        }
        if attendee.partstat == PartStat::NeedsAction {
            return Ok(ImipOutcome::Ignored("no answer"));
        }
        let applied = self.apply_answer(who, &meeting.uid, &sender, attendee.partstat, Some(meeting.sequence)).await?;
        Ok(if applied {
            self.deposit(who.id, &reply, ICalendarMethod::Reply).await;
            ImipOutcome::Applied
        } else {
            ImipOutcome::Ignored("no such meeting organised here, or an older SEQUENCE")
        })
    }

    /// [`Groupware::receive_imip`] for the account `account` (a delivery's recipient).
    pub async fn receive_imip_for(&self, account: AccountId, sender: &str, text: &str) -> Result<ImipOutcome> {
        let Some(a) = self.store.account(account).await? else { return Ok(ImipOutcome::Ignored("no such account")) };
        let who = Principal { id: a.id, address: a.address, display_name: a.display_name };
        self.receive_imip(&who, sender, text).await
    }

    /// The calendar and meeting of `text` when it is a calendar object that
    /// schedules (an ORGANIZER or ATTENDEEs); `Err` for too many attendees
    /// or no UID; `None` otherwise (the plain put then judges the text).
    fn scheduling_view(&self, c: &Collection, text: &str) -> Result<Option<(ICalendar, Meeting)>> {
        if c.kind != CollectionKind::Calendar || text.len() > self.settings.max_object_bytes {
            return Ok(None);
        }
        let Ok(cal) = ical::parse(text) else { return Ok(None) };
        match itip::meeting(&cal) {
            Ok(m) if m.attendees.is_empty() => Ok(None),
            Ok(m) => Ok(Some((cal, m))),
            Err(why) if why.contains("participants") => Err(Error::Invalid(why)),
            Err(_) => Ok(None),
        }
    }

    /// Whether `address` is `who`'s (their address or one of their aliases).
    async fn is_own(&self, who: &Principal, address: &str) -> Result<bool> {
        if who.address.to_string().eq_ignore_ascii_case(address) {
            return Ok(true);
        }
        let Ok(parsed) = Address::parse(address) else { return Ok(false) };
        Ok(self.store.account_by_address(&parsed).await?.is_some_and(|a| a.id == who.id))
    }

    /// The address under which `who` attends `meeting`, if they do.
    async fn own_attendance(&self, who: &Principal, meeting: &Meeting) -> Result<Option<String>> {
        for a in &meeting.attendees {
            if self.is_own(who, &a.address).await? {
                return Ok(Some(a.address.clone()));
            }
        }
        Ok(None)
    }

    async fn calendar_by_id(&self, owner: AccountId, id: i64) -> Result<Collection> {
        self.store.collections(owner).await?.into_iter().find(|c| c.id == id).ok_or(Error::NotFound)
    }

    /// `who`, an attendee under `me`, answers `organizer` with the PARTSTAT
    /// `cal` gives them: a local organiser's copy is updated, an outside one
    /// gets a REPLY mail. Failures are logged: the attendee's own copy is
    /// already stored.
    async fn answer_organizer(&self, who: &Principal, me: &str, cal: &ICalendar, organizer: &str) {
        let Some(answer) = itip::partstat_of(cal, me) else { return };
        let sequence = itip::meeting(cal).ok().map(|m| m.sequence);
        let uid = itip::meeting(cal).map(|m| m.uid).unwrap_or_default();
        match self.local_account(organizer).await {
            Ok(Some(account)) => match self.apply_answer_local(organizer, &uid, me, answer, sequence).await {
                Ok(true) => self.deposit(account.id, &itip::reply(cal, me), ICalendarMethod::Reply).await,
                Ok(false) => {}
                Err(e) => tracing::warn!(error = %e, "scheduling: the organiser's copy could not take an answer"),
            },
            Ok(None) => {
                let reply = itip::reply(cal, me);
                let Ok(to) = Address::parse(organizer) else { return };
                let message = imip::message(who, std::slice::from_ref(&to), &reply, imip::Kind::Reply(answer));
                self.post(who, &[to], message).await;
            }
            Err(e) => tracing::warn!(error = %e, "scheduling: organiser look-up failed"),
        }
    }

    async fn apply_answer_local(
        &self,
        organizer: &str,
        uid: &str,
        attendee: &str,
        answer: PartStat,
        sequence: Option<i64>,
    ) -> Result<bool> {
        let Some(account) = self.local_account(organizer).await? else { return Ok(false) };
        let owner = Principal { id: account.id, address: account.address.clone(), display_name: account.display_name };
        self.apply_answer(&owner, uid, attendee, answer, sequence).await
    }

    /// Sets `attendee`'s PARTSTAT in the copy `who` organises, if there is
    /// one listing them (and, when given, of the same SEQUENCE or older).
    async fn apply_answer(
        &self,
        who: &Principal,
        uid: &str,
        attendee: &str,
        answer: PartStat,
        sequence: Option<i64>,
    ) -> Result<bool> {
        for (calendar_id, object) in self.store.calendar_objects_by_uid(who.id, uid).await? {
            let Ok(mut cal) = ical::parse(&object.content) else { continue };
            let Ok(meeting) = itip::meeting(&cal) else { continue };
            let Some(organizer) = meeting.organizer.as_deref() else { continue };
            if !self.is_own(who, organizer).await? || meeting.attendee(attendee).is_none() {
                continue;
            }
            if sequence.is_some_and(|s| s < meeting.sequence) {
                return Ok(false);
            }
            if meeting.attendee(attendee).is_some_and(|a| a.partstat == answer) {
                return Ok(true);
            }
            itip::set_partstat(&mut cal, attendee, answer);
            let calendar = self.calendar_by_id(who.id, calendar_id).await?;
            self.put(&calendar, &object.name, &itip::write(&cal), Precondition::Matches(&object.etag)).await?;
            return Ok(true);
        }
        Ok(false)
    }

    /// The active local account of `address`, if it has one.
    async fn local_account(&self, address: &str) -> Result<Option<store::Account>> {
        let Ok(parsed) = Address::parse(address) else { return Ok(None) };
        Ok(self.store.account_by_address(&parsed).await?.filter(|a| a.status.receives_mail()))
    }

    async fn post(&self, from: &Principal, to: &[Address], message: Vec<u8>) -> bool {
        let Some(postman) = self.postman.get() else {
            tracing::debug!("scheduling: no mail sender installed, nothing mailed");
            return false;
        };
        match postman.send(from, to, message).await {
            Ok(()) => true,
            Err(e) => {
                tracing::warn!(error = %e, "scheduling: mail not sent");
                false
            }
        }
    }
}

/// The Schedule-Tag of a stored calendar object (RFC 6638 section 3.2.10),
/// `None` when it is no scheduling object (no ORGANIZER) or unreadable;
/// see [`itip::schedule_tag`] for what changes it.
pub fn schedule_tag(text: &str) -> Option<String> {
    itip::schedule_tag(&ical::parse(text).ok()?)
}

/// The name a delivered copy gets: `<UID>.ics` as clients name their own
/// objects (so a client that stores its answer under that name, such as
/// python-caldav's `accept_invite`, replaces the copy rather than meeting
/// a UID conflict), or a hash of the UID when it is not a safe name.
pub fn object_name(uid: &str) -> String {
    crate::import::object_name(uid, "ics")
}

mod organise;
