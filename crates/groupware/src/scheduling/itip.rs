//! iTIP (RFC 5546) on calcard's model: who organises a calendar object and
//! who attends, and the changes scheduling makes to it (an attendee's
//! PARTSTAT, SCHEDULE-STATUS, METHOD, a REPLY cut down to one attendee).
//! Pure functions: no store, no mail.

use calcard::icalendar::{
    ICalendar, ICalendarComponentType, ICalendarEntry, ICalendarMethod, ICalendarParameter, ICalendarParameterName,
    ICalendarParameterValue, ICalendarParticipationStatus, ICalendarProperty, ICalendarScheduleAgentValue,
    ICalendarStatus, ICalendarTransparency, ICalendarUserTypes, ICalendarValue,
};

/// Most attendees an object may name; more is refused with a clear error
/// (a circular to the whole académie goes to a list, not to 40,000 ATTENDEEs).
pub const MAX_ATTENDEES: usize = 500;

/// An attendee's answer (RFC 5545 section 3.2.12, the values of a VEVENT).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PartStat {
    NeedsAction,
    Accepted,
    Tentative,
    Declined,
    Delegated,
}

impl PartStat {
    pub fn as_str(self) -> &'static str {
        match self {
            PartStat::NeedsAction => "NEEDS-ACTION",
            PartStat::Accepted => "ACCEPTED",
            PartStat::Tentative => "TENTATIVE",
            PartStat::Declined => "DECLINED",
            PartStat::Delegated => "DELEGATED",
        }
    }

    /// The answers a person may give (not NEEDS-ACTION or DELEGATED).
    pub fn parse_answer(s: &str) -> Option<PartStat> {
        match s.to_ascii_uppercase().as_str() {
            "ACCEPTED" => Some(PartStat::Accepted),
            "TENTATIVE" => Some(PartStat::Tentative),
            "DECLINED" => Some(PartStat::Declined),
            _ => None,
        }
    }

    fn from_calcard(p: &ICalendarParticipationStatus) -> PartStat {
        match p {
            ICalendarParticipationStatus::Accepted => PartStat::Accepted,
            ICalendarParticipationStatus::Tentative => PartStat::Tentative,
            ICalendarParticipationStatus::Declined => PartStat::Declined,
            ICalendarParticipationStatus::Delegated => PartStat::Delegated,
            _ => PartStat::NeedsAction,
        }
    }

    fn to_calcard(self) -> ICalendarParticipationStatus {
        match self {
            PartStat::NeedsAction => ICalendarParticipationStatus::NeedsAction,
            PartStat::Accepted => ICalendarParticipationStatus::Accepted,
            PartStat::Tentative => ICalendarParticipationStatus::Tentative,
            PartStat::Declined => ICalendarParticipationStatus::Declined,
            PartStat::Delegated => ICalendarParticipationStatus::Delegated,
        }
    }
}

/// One ATTENDEE of an object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attendee {
    /// The address, lower-case, without `mailto:`.
    pub address: String,
    pub partstat: PartStat,
    /// `CUTYPE=ROOM` or `RESOURCE`.
    pub resource: bool,
    /// `SCHEDULE-AGENT=CLIENT` or `NONE`: the server does not deliver to it.
    pub client_schedules: bool,
}

/// What scheduling needs to know of an object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Meeting {
    pub uid: String,
    pub method: Option<String>,
    /// The organiser's address, lower-case, without `mailto:`.
    pub organizer: Option<String>,
    /// Each address once, in the order of the object.
    pub attendees: Vec<Attendee>,
    pub sequence: i64,
    pub summary: String,
    /// STATUS:CANCELLED.
    pub cancelled: bool,
    /// TRANSP:TRANSPARENT: its time is not busy.
    pub transparent: bool,
}

impl Meeting {
    pub fn attendee(&self, address: &str) -> Option<&Attendee> {
        self.attendees.iter().find(|a| a.address.eq_ignore_ascii_case(address))
    }
}

/// The components scheduling looks at.
fn scheduled(t: &ICalendarComponentType) -> bool {
    matches!(t, ICalendarComponentType::VEvent | ICalendarComponentType::VTodo)
}

/// A calendar user's address: `mailto:` dropped, lower-case; `None` when it
/// is not a mail address.
pub fn address_of(entry: &ICalendarEntry) -> Option<String> {
    let value = entry.values.first()?.as_text()?.trim();
    let bare = match value.get(..7) {
        Some(p) if p.eq_ignore_ascii_case("mailto:") => &value[7..],
        _ => value,
    };
    let bare = bare.trim().to_ascii_lowercase();
    (bare.contains('@') && bare.len() <= 254 && !bare.chars().any(|c| c.is_whitespace() || c.is_control()))
        .then_some(bare)
}

/// Reads who organises and attends `cal`. `Err` with a short French reason
/// when it has no UID or too many attendees.
pub fn meeting(cal: &ICalendar) -> Result<Meeting, String> {
    let method = cal.components.first().and_then(|top| top.property(&ICalendarProperty::Method)).and_then(|e| match e
        .values
        .first()
    {
        Some(ICalendarValue::Method(m)) => Some(method_name(m).to_owned()),
        Some(v) => v.as_text().map(|t| t.to_ascii_uppercase()),
        None => None,
    });
    let mut m = Meeting {
        uid: String::new(),
        method,
        organizer: None,
        attendees: Vec::new(),
        sequence: 0,
        summary: String::new(),
        cancelled: false,
        transparent: false,
    };
    let mut first = true;
    for c in cal.components.iter().filter(|c| scheduled(&c.component_type)) {
        let uid = c.uid().unwrap_or("").trim();
        if uid.is_empty() {
            return Err("invitation sans UID".into());
        }
        if m.uid.is_empty() {
            m.uid = uid.to_owned();
        }
        for e in &c.entries {
            match &e.name {
                ICalendarProperty::Organizer if m.organizer.is_none() => m.organizer = address_of(e),
                ICalendarProperty::Attendee => {
                    let Some(address) = address_of(e) else { continue };
                    if m.attendee(&address).is_some() {
                        continue;
                    }
                    if m.attendees.len() == MAX_ATTENDEES {
                        return Err(format!("plus de {MAX_ATTENDEES} participants : utilisez une liste de diffusion"));
                    }
                    let partstat = match e.parameter(&ICalendarParameterName::Partstat) {
                        Some(ICalendarParameterValue::Partstat(p)) => PartStat::from_calcard(p),
                        _ => PartStat::NeedsAction,
                    };
                    let resource = matches!(
                        e.parameter(&ICalendarParameterName::Cutype),
                        Some(ICalendarParameterValue::Cutype(ICalendarUserTypes::Room | ICalendarUserTypes::Resource))
                    );
                    let client_schedules = matches!(
                        e.parameter(&ICalendarParameterName::ScheduleAgent),
                        Some(ICalendarParameterValue::ScheduleAgent(
                            ICalendarScheduleAgentValue::Client | ICalendarScheduleAgentValue::None
                        ))
                    );
                    m.attendees.push(Attendee { address, partstat, resource, client_schedules });
                }
                ICalendarProperty::Sequence if first => {
                    m.sequence = e.values.first().and_then(|v| v.as_integer()).unwrap_or(0);
                }
                ICalendarProperty::Summary if first => {
                    m.summary = e.values.first().and_then(|v| v.as_text()).unwrap_or("").chars().take(200).collect();
                }
                ICalendarProperty::Status if first => {
                    m.cancelled = matches!(e.values.first(), Some(ICalendarValue::Status(ICalendarStatus::Cancelled)));
                }
                ICalendarProperty::Transp if first => {
                    m.transparent = matches!(
                        e.values.first(),
                        Some(ICalendarValue::Transparency(ICalendarTransparency::Transparent))
                    );
                }
                _ => {}
            }
        }
        first = false;
    }
    if m.uid.is_empty() {
        return Err("aucun VEVENT ni VTODO".into());
    }
    Ok(m)
}

fn method_name(m: &ICalendarMethod) -> &'static str {
    match m {
        ICalendarMethod::Publish => "PUBLISH",
        ICalendarMethod::Request => "REQUEST",
        ICalendarMethod::Reply => "REPLY",
        ICalendarMethod::Add => "ADD",
        ICalendarMethod::Cancel => "CANCEL",
        ICalendarMethod::Refresh => "REFRESH",
        ICalendarMethod::Counter => "COUNTER",
        ICalendarMethod::Declinecounter => "DECLINECOUNTER",
    }
}

/// The ATTENDEE entries of `address` in every scheduled component.
fn attendee_entries<'a>(cal: &'a mut ICalendar, address: &'a str) -> impl Iterator<Item = &'a mut ICalendarEntry> {
    cal.components.iter_mut().filter(|c| scheduled(&c.component_type)).flat_map(move |c| {
        c.entries.iter_mut().filter(move |e| {
            e.name == ICalendarProperty::Attendee && address_of(e).is_some_and(|a| a.eq_ignore_ascii_case(address))
        })
    })
}

fn replace_param(e: &mut ICalendarEntry, name: ICalendarParameterName, value: Option<ICalendarParameterValue>) {
    e.params.retain(|p| p.name != name);
    if let Some(value) = value {
        e.params.push(ICalendarParameter::new(name, value));
    }
}

/// Sets `address`'s PARTSTAT; `false` when it is not an attendee.
pub fn set_partstat(cal: &mut ICalendar, address: &str, partstat: PartStat) -> bool {
    let mut found = false;
    for e in attendee_entries(cal, address) {
        replace_param(
            e,
            ICalendarParameterName::Partstat,
            Some(ICalendarParameterValue::Partstat(partstat.to_calcard())),
        );
        // RSVP asked for an answer, which this is.
        replace_param(e, ICalendarParameterName::Rsvp, None);
        found = true;
    }
    found
}

/// Sets `address`'s SCHEDULE-STATUS (RFC 6638 section 7.3: `1.2` delivered,
/// `3.7` invalid user, `5.3` no scheduling support...).
pub fn set_schedule_status(cal: &mut ICalendar, address: &str, status: &str) {
    for e in attendee_entries(cal, address) {
        let value = ICalendarParameterValue::Text(status.to_owned());
        replace_param(e, ICalendarParameterName::ScheduleStatus, Some(value));
    }
}

/// Takes out the parameters only the organiser's server may set
/// (SCHEDULE-STATUS, SCHEDULE-FORCE-SEND), for a copy sent or delivered.
pub fn strip_server_params(cal: &mut ICalendar) {
    for c in cal.components.iter_mut().filter(|c| scheduled(&c.component_type)) {
        for e in c
            .entries
            .iter_mut()
            .filter(|e| matches!(e.name, ICalendarProperty::Attendee | ICalendarProperty::Organizer))
        {
            replace_param(e, ICalendarParameterName::ScheduleStatus, None);
            replace_param(e, ICalendarParameterName::ScheduleForceSend, None);
        }
    }
}

/// Sets (or, with `None`, removes) the calendar's METHOD.
pub fn set_method(cal: &mut ICalendar, method: Option<ICalendarMethod>) {
    let Some(top) = cal.components.first_mut() else { return };
    top.entries.retain(|e| e.name != ICalendarProperty::Method);
    if let Some(m) = method {
        let at = top.entries.iter().position(|e| e.name == ICalendarProperty::Version).map_or(0, |i| i + 1);
        top.entries.insert(at, ICalendarEntry::new(ICalendarProperty::Method).with_value(ICalendarValue::Method(m)));
    }
}

/// Marks every scheduled component STATUS:CANCELLED (a CANCEL's content).
pub fn set_cancelled(cal: &mut ICalendar) {
    for c in cal.components.iter_mut().filter(|c| scheduled(&c.component_type)) {
        c.entries.retain(|e| e.name != ICalendarProperty::Status);
        c.entries.push(
            ICalendarEntry::new(ICalendarProperty::Status)
                .with_value(ICalendarValue::Status(ICalendarStatus::Cancelled)),
        );
    }
}

/// The REPLY of `address` (RFC 5546 section 3.2.3): the object with only
/// that attendee's ATTENDEE line, METHOD:REPLY, alarms dropped.
pub fn reply(cal: &ICalendar, address: &str) -> ICalendar {
    let mut out = cal.clone();
    strip_server_params(&mut out);
    for c in out.components.iter_mut().filter(|c| scheduled(&c.component_type)) {
        c.entries.retain(|e| {
            e.name != ICalendarProperty::Attendee || address_of(e).is_some_and(|a| a.eq_ignore_ascii_case(address))
        });
    }
    let alarms: Vec<u32> = out
        .components
        .iter()
        .enumerate()
        .filter(|(_, c)| c.component_type == ICalendarComponentType::VAlarm)
        .filter_map(|(i, _)| u32::try_from(i).ok())
        .collect();
    out.remove_component_ids(&alarms);
    set_method(&mut out, Some(ICalendarMethod::Reply));
    out
}

/// `address`'s PARTSTAT in `cal`, if they attend.
pub fn partstat_of(cal: &ICalendar, address: &str) -> Option<PartStat> {
    meeting(cal).ok()?.attendee(address).map(|a| a.partstat)
}

/// The Schedule-Tag of a scheduling object (RFC 6638 section 3.2.10), `None`
/// when `cal` has no ORGANIZER. It is a hash of the object without what
/// answers change (each ATTENDEE's PARTSTAT and RSVP) and without what the
/// server writes (SCHEDULE-STATUS, SCHEDULE-FORCE-SEND), all written by
/// calcard: an organiser's change delivered to a copy changes it; an
/// answer written into a copy (the attendee's own, the webmail's, a reply
/// reaching the organiser's copy) does not.
pub fn schedule_tag(cal: &ICalendar) -> Option<String> {
    meeting(cal).ok()?.organizer?;
    let mut bare = cal.clone();
    strip_server_params(&mut bare);
    for c in bare.components.iter_mut().filter(|c| scheduled(&c.component_type)) {
        for e in c.entries.iter_mut().filter(|e| e.name == ICalendarProperty::Attendee) {
            replace_param(e, ICalendarParameterName::Partstat, None);
            replace_param(e, ICalendarParameterName::Rsvp, None);
        }
    }
    Some(crate::etag_of(&write(&bare)))
}

/// The text of a calendar, lines ending in CRLF and folded by calcard.
pub fn write(cal: &ICalendar) -> String {
    cal.to_string()
}

#[cfg(test)]
mod tests;
