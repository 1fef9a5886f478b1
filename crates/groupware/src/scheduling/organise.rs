//! The organiser's side: delivering an event to its attendees (copies,
//! invitation mails, resources' answers), cancelling it for those removed.

use calcard::icalendar::{ICalendar, ICalendarMethod};
use model::Address;
use store::Precondition;

use super::{Meeting, PartStat, Principal, Scheduled, imip, itip, object_name, status};
use crate::{Collection, CollectionKind, DEFAULT_CALENDAR, Groupware, Query, Result, Written, ical};

/// Where an attendee's invitation went.
enum Delivery {
    /// A copy in their calendar (`true` when it is new or changed enough to mail).
    Local { mail: bool },
    /// A resource answered.
    Resource(PartStat),
    /// Mailed outside.
    Outside { mail: bool },
    /// Not delivered, with the SCHEDULE-STATUS saying why.
    Refused(&'static str),
}

impl Groupware {
    /// After the organiser's put: deliver to each attendee, cancel for those
    /// removed, and write SCHEDULE-STATUS and resources' answers back into
    /// the organiser's copy.
    #[allow(clippy::too_many_arguments)]
    pub(super) async fn organise(
        &self,
        who: &Principal,
        c: &Collection,
        name: &str,
        mut cal: ICalendar,
        meeting: &Meeting,
        previous: Option<&Meeting>,
        written: Written,
    ) -> Result<Scheduled> {
        let organizer = meeting.organizer.clone().unwrap_or_default();
        let removed: Vec<String> = previous
            .map(|p| p.attendees.iter().filter(|a| meeting.attendee(&a.address).is_none()).map(|a| a.address.clone()))
            .into_iter()
            .flatten()
            .collect();
        if meeting.cancelled {
            let everyone: Vec<String> = meeting.attendees.iter().map(|a| a.address.clone()).collect();
            if !previous.is_some_and(|p| p.cancelled) {
                self.cancel(who, &cal, meeting, &everyone).await;
            }
            return Ok(Scheduled { written, rewritten: false });
        }
        if !removed.is_empty() {
            self.cancel(who, &cal, meeting, &removed).await;
        }
        let changed = previous.is_none_or(|p| p.sequence < meeting.sequence);
        let mut mail_to: Vec<Address> = Vec::new();
        let mut statuses: Vec<(String, &'static str, Option<PartStat>)> = Vec::new();
        for a in &meeting.attendees {
            if a.client_schedules || a.address.eq_ignore_ascii_case(&organizer) || self.is_own(who, &a.address).await? {
                continue;
            }
            let is_new = previous.is_none_or(|p| p.attendee(&a.address).is_none());
            let delivery = match self.deliver(&organizer, &cal, meeting, &a.address, changed || is_new).await {
                Ok(d) => d,
                Err(e) => {
                    tracing::warn!(error = %e, "scheduling: delivery to a local attendee failed");
                    Delivery::Refused(status::NOT_DELIVERED)
                }
            };
            let (code, answer) = match delivery {
                Delivery::Local { mail } | Delivery::Outside { mail } => {
                    if mail && let Ok(to) = Address::parse(&a.address) {
                        mail_to.push(to);
                    }
                    let local = matches!(delivery, Delivery::Local { .. });
                    (if local { status::DELIVERED } else { status::SENT }, None)
                }
                Delivery::Resource(answer) => (status::DELIVERED, Some(answer)),
                Delivery::Refused(code) => (code, None),
            };
            statuses.push((a.address.clone(), code, answer));
        }
        if !mail_to.is_empty() {
            let mut request = cal.clone();
            itip::strip_server_params(&mut request);
            itip::set_method(&mut request, Some(ICalendarMethod::Request));
            let message = imip::message(who, &mail_to, &request, imip::Kind::Request);
            if !self.post(who, &mail_to, message).await {
                for (address, code, _) in statuses.iter_mut() {
                    if mail_to.iter().any(|t| t.to_string().eq_ignore_ascii_case(address)) && *code == status::SENT {
                        *code = status::NOT_DELIVERED;
                    }
                }
            }
        }
        // SCHEDULE-STATUS and the resources' answers go into the organiser's copy.
        let mut rewritten = false;
        for (address, code, answer) in &statuses {
            let had = meeting.attendee(address);
            if let Some(answer) = answer
                && had.is_some_and(|a| a.partstat != *answer)
            {
                itip::set_partstat(&mut cal, address, *answer);
            }
            itip::set_schedule_status(&mut cal, address, code);
            rewritten = true;
        }
        if !rewritten {
            return Ok(Scheduled { written, rewritten: false });
        }
        let text = itip::write(&cal);
        let etag = written.etag.clone();
        let written = match self.put(c, name, &text, Precondition::Matches(&etag)).await {
            Ok(w) => Written { created: written.created, ..w },
            // The organiser's client wrote again meanwhile: its version stands.
            Err(_) => written,
        };
        Ok(Scheduled { written, rewritten: true })
    }

    /// Puts the organiser's event into `attendee`'s calendar when they are
    /// local; says how it went.
    async fn deliver(
        &self,
        organizer: &str,
        cal: &ICalendar,
        meeting: &Meeting,
        attendee: &str,
        worth_a_mail: bool,
    ) -> Result<Delivery> {
        let Ok(address) = Address::parse(attendee) else { return Ok(Delivery::Refused(status::INVALID_USER)) };
        let Some(account) = self.store.account_by_address(&address).await? else {
            if self.store.is_local_domain(address.domain()).await? {
                return Ok(Delivery::Refused(status::INVALID_USER));
            }
            return Ok(Delivery::Outside { mail: worth_a_mail });
        };
        if !account.status.receives_mail() {
            return Ok(Delivery::Refused(status::INVALID_USER));
        }
        let resource = self.store.resource_kind(account.id).await?.is_some();
        if resource && !self.books_here(organizer, &account).await? {
            // Another académie's room: neither booked nor telling whether it is free.
            return Ok(Delivery::Refused(status::NO_PRIVILEGE));
        }
        let existing = self.store.calendar_objects_by_uid(account.id, &meeting.uid).await?;
        let mut copy = cal.clone();
        itip::set_method(&mut copy, None);
        itip::strip_server_params(&mut copy);
        let (calendar, name, pre, held) = match existing.into_iter().next() {
            Some((calendar_id, object)) => {
                let held = ical::parse(&object.content).ok().and_then(|c| itip::meeting(&c).ok());
                // Someone else's event of that UID is not ours to overwrite.
                if held.as_ref().and_then(|m| m.organizer.as_deref()) != Some(organizer) {
                    return Ok(Delivery::Refused(status::NO_PRIVILEGE));
                }
                let calendar = self.calendar_by_id(account.id, calendar_id).await?;
                (calendar, object.name, Some(object.etag), held)
            }
            None => {
                let calendar = self.collection(account.id, CollectionKind::Calendar, DEFAULT_CALENDAR).await?;
                (calendar, object_name(&meeting.uid), None, None)
            }
        };
        let answer = if resource {
            Some(if self.busy_elsewhere(&calendar, cal, &meeting.uid).await? {
                PartStat::Declined
            } else {
                PartStat::Accepted
            })
        } else {
            // The attendee's own answer stands while the organiser's copy does not know it yet.
            let theirs = held.as_ref().and_then(|m| m.attendee(attendee)).map(|a| a.partstat);
            let organisers = meeting.attendee(attendee).map(|a| a.partstat);
            match (theirs, organisers) {
                (Some(t), Some(PartStat::NeedsAction)) if !worth_a_mail => Some(t),
                _ => None,
            }
        };
        if let Some(answer) = answer {
            itip::set_partstat(&mut copy, attendee, answer);
        }
        let pre = match &pre {
            Some(etag) => Precondition::Matches(etag),
            None => Precondition::Absent,
        };
        if resource && answer == Some(PartStat::Declined) {
            // A room keeps only what it accepted.
            if let Precondition::Matches(etag) = pre {
                let _ = self.delete(&calendar, &name, Some(etag)).await;
            }
            return Ok(Delivery::Resource(PartStat::Declined));
        }
        self.put(&calendar, &name, &itip::write(&copy), pre).await?;
        if !resource && worth_a_mail {
            self.deposit(account.id, &copy, ICalendarMethod::Request).await;
        }
        Ok(match answer {
            Some(a) if resource => Delivery::Resource(a),
            _ => Delivery::Local { mail: worth_a_mail },
        })
    }

    /// Whether `organizer` is an account of the académie of the room `room`
    /// (store::tenants).
    async fn books_here(&self, organizer: &str, room: &store::Account) -> Result<bool> {
        let Ok(address) = Address::parse(organizer) else { return Ok(false) };
        let Some(organiser) = self.store.account_by_address(&address).await? else { return Ok(false) };
        Ok(self.store.same_tenant(&organiser, room).await?)
    }

    /// Whether another opaque, not cancelled, not declined event of
    /// `calendar` overlaps an occurrence of `cal`.
    async fn busy_elsewhere(&self, calendar: &Collection, cal: &ICalendar, uid: &str) -> Result<bool> {
        let text = itip::write(cal);
        let occurrences = ical::occurrences(&text, self.expansion, 1_000);
        let (Some(start), Some(end)) = (occurrences.iter().map(|o| o.0).min(), occurrences.iter().map(|o| o.1).max())
        else {
            return Ok(false);
        };
        let q = Query { component: Some("VEVENT".into()), start: Some(start), end: Some(end) };
        let owner = calendar.account_id;
        for other in self.store.collections(owner).await?.iter().filter(|c| c.kind == CollectionKind::Calendar) {
            for o in self.query(other, &q).await? {
                if o.uid == uid {
                    continue;
                }
                let Ok(theirs) = ical::parse(&o.content) else { continue };
                let Ok(m) = itip::meeting(&theirs) else { continue };
                if m.cancelled || m.transparent {
                    continue;
                }
                let taken = ical::occurrences(&o.content, self.expansion, 1_000);
                if occurrences.iter().any(|(s, e)| taken.iter().any(|(ts, te)| ts < e && s < te)) {
                    return Ok(true);
                }
            }
        }
        Ok(false)
    }

    /// Cancels the event for `addresses`: local copies removed, CANCEL mailed.
    pub(super) async fn cancel(&self, who: &Principal, cal: &ICalendar, meeting: &Meeting, addresses: &[String]) {
        let organizer = meeting.organizer.clone().unwrap_or_default();
        let mut cancel = cal.clone();
        itip::strip_server_params(&mut cancel);
        itip::set_cancelled(&mut cancel);
        let mut mail_to = Vec::new();
        for address in addresses {
            let Ok(parsed) = Address::parse(address) else { continue };
            match self.store.account_by_address(&parsed).await {
                Ok(Some(account)) => {
                    let is_resource = matches!(self.store.resource_kind(account.id).await, Ok(Some(_)));
                    if let Ok(found) = self.store.calendar_objects_by_uid(account.id, &meeting.uid).await {
                        for (calendar_id, object) in found {
                            let held = ical::parse(&object.content).ok().and_then(|c| itip::meeting(&c).ok());
                            if held.and_then(|m| m.organizer) != Some(organizer.clone()) {
                                continue;
                            }
                            if let Ok(calendar) = self.calendar_by_id(account.id, calendar_id).await {
                                let _ = self.delete(&calendar, &object.name, Some(&object.etag)).await;
                            }
                        }
                    }
                    if !is_resource && account.status.receives_mail() && account.id != who.id {
                        self.deposit(account.id, &cancel, ICalendarMethod::Cancel).await;
                        mail_to.push(parsed);
                    }
                }
                Ok(None) => mail_to.push(parsed),
                Err(e) => tracing::warn!(error = %e, "scheduling: attendee look-up failed"),
            }
        }
        if mail_to.is_empty() {
            return;
        }
        itip::set_method(&mut cancel, Some(ICalendarMethod::Cancel));
        let message = imip::message(who, &mail_to, &cancel, imip::Kind::Cancel);
        self.post(who, &mail_to, message).await;
    }
}
