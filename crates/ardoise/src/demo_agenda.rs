//! The demo's calendars and address books (issue 21): each named staff
//! account gets recurring events in its « Agenda » (« Conseil de classe »,
//! « Réunion parents-professeurs ») and a few contacts; the secrétariat of
//! the Collège Jules Ferry keeps the établissement's own calendar, shared
//! read-only with the collège's staff (0541234A); Claire shares her
//! free/busy time with Paul. Dates follow the day the demo is seeded, so the agenda is never empty. Written
//! through the groupware domain like any CalDAV client's.

use groupware::event::{Date, EventDraft, Frequency, Moment, Recurrence, Until};
use groupware::{CollectionKind, Groupware, NewProps, Precondition, Right};
use model::Address;

use crate::demo::DOMAIN;

/// The named accounts that get a calendar and contacts (not the student).
const PEOPLE: &[&str] = &["claire.martin", "paul.durand", "secretariat.0541234a", "admin"];

/// The établissement calendar's segment in the secrétariat's calendar home.
pub const SCHOOL_CALENDAR: &str = "college-jules-ferry";

fn timed(
    summary: &str,
    location: &str,
    day: Date,
    (h, m): (u8, u8),
    minutes: u16,
    rec: Option<Recurrence>,
) -> EventDraft {
    let end_min = u32::from(h) * 60 + u32::from(m) + u32::from(minutes);
    EventDraft {
        summary: summary.into(),
        location: location.into(),
        description: String::new(),
        start: Moment { date: day, time: Some((h, m)) },
        end: Moment { date: day, time: Some(((end_min / 60).min(23) as u8, (end_min % 60) as u8)) },
        zone: "Europe/Paris".into(),
        recurrence: rec,
        alarm: groupware::event::AlarmChoice::Default,
    }
}

fn whole_day(summary: &str, day: Date) -> EventDraft {
    EventDraft {
        summary: summary.into(),
        location: "Collège Jules Ferry".into(),
        description: String::new(),
        start: Moment { date: day, time: None },
        end: Moment { date: day.add_days(1), time: None },
        zone: "Europe/Paris".into(),
        recurrence: None,
        alarm: groupware::event::AlarmChoice::Default,
    }
}

/// The personal events, around the Monday of the week the demo is seeded in.
fn personal(monday: Date) -> Vec<EventDraft> {
    vec![
        timed(
            "Conseil de classe",
            "Salle du conseil",
            monday.add_days(3),
            (17, 0),
            90,
            Some(Recurrence { frequency: Frequency::Weekly(vec![3]), until: Until::Count(6) }),
        ),
        timed(
            "Réunion parents-professeurs",
            "Préau",
            monday.add_days(8),
            (18, 0),
            120,
            Some(Recurrence { frequency: Frequency::Monthly, until: Until::Count(4) }),
        ),
        timed(
            "Permanence",
            "CDI",
            monday,
            (12, 30),
            60,
            Some(Recurrence { frequency: Frequency::Weekly(vec![0, 2]), until: Until::Never }),
        ),
    ]
}

const CONTACTS: &[(&str, &str, &str, &str)] = &[
    ("demo-contact-1", "Martine Leroy", "martine.leroy@exemple.fr", "Parent d'élève (3e B)"),
    ("demo-contact-2", "Bernard Petit", "b.petit@mairie-nancy.example", "Mairie de Nancy, service scolaire"),
    ("demo-contact-3", "Centre d'information et d'orientation", "cio.nancy@ac-demo.fr", "CIO de Nancy"),
];

fn vcard(uid: &str, name: &str, email: &str, note: &str) -> String {
    let esc = groupware::event::escape;
    format!(
        "BEGIN:VCARD\r\nVERSION:4.0\r\nUID:{uid}\r\nFN:{}\r\nEMAIL:{email}\r\nNOTE:{}\r\nEND:VCARD\r\n",
        esc(name),
        esc(note)
    )
}

/// Seeds every named account's calendar and contacts and the établissement's
/// calendar; `today` is the seeding day (UTC days since 1970).
pub async fn seed(store: &store::Store, today: i64) -> anyhow::Result<()> {
    let gw = Groupware::new(store.clone(), groupware::Settings::default()).map_err(|e| anyhow::anyhow!("{e}"))?;
    let day = Date::from_days(today);
    let monday = day.add_days(-i64::from(day.weekday()));
    let now = today * 86_400;
    let mut secretariat = None;
    for local in PEOPLE {
        let Some(acc) = store.account_by_address(&Address::parse(&format!("{local}@{DOMAIN}"))?).await? else {
            continue;
        };
        let calendar = gw.collection(acc.id, CollectionKind::Calendar, groupware::DEFAULT_CALENDAR).await?;
        for draft in personal(monday) {
            gw.create_event(&calendar, &draft, now).await?;
        }
        let book = gw.collection(acc.id, CollectionKind::AddressBook, groupware::DEFAULT_ADDRESS_BOOK).await?;
        for (uid, name, email, note) in CONTACTS {
            gw.put(&book, &format!("{uid}.vcf"), &vcard(uid, name, email, note), Precondition::Absent).await?;
        }
        if *local == "secretariat.0541234a" {
            secretariat = Some(acc);
        }
    }
    if let Some(acc) = secretariat {
        let props = NewProps {
            display_name: Some("Collège Jules Ferry — vie de l'établissement".into()),
            colour: Some("#18753C".into()),
            description: Some("Calendrier partagé avec les personnels du collège (0541234A).".into()),
            components: vec!["VEVENT".into()],
        };
        let school = gw.create_collection(acc.id, CollectionKind::Calendar, SCHOOL_CALENDAR, &props).await?;
        for draft in [
            whole_day("Journée portes ouvertes", monday.add_days(12)),
            timed("Conseil pédagogique", "Salle du conseil", monday.add_days(9), (17, 30), 90, None),
            timed(
                "Conseil d'administration",
                "Salle du conseil",
                monday.add_days(15),
                (18, 0),
                120,
                Some(Recurrence { frequency: Frequency::Monthly, until: Until::Count(3) }),
            ),
        ] {
            gw.create_event(&school, &draft, now).await?;
        }
        // Every member of staff of the collège reads it.
        gw.share(&school, "0541234A", Right::Read).await?;
    }
    // Claire lets Paul see when she is busy.
    if let Some(claire) = store.account_by_address(&Address::parse(&format!("claire.martin@{DOMAIN}"))?).await? {
        let agenda = gw.collection(claire.id, CollectionKind::Calendar, groupware::DEFAULT_CALENDAR).await?;
        gw.share(&agenda, &format!("paul.durand@{DOMAIN}"), Right::FreeBusy).await?;
    }
    Ok(())
}
