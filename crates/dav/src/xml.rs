//! XML in and out: a bounded reader into a small namespaced tree, and the
//! multistatus writer.

pub mod read;
pub mod write;

pub use read::{Element, XmlError, parse};
pub use write::{Multistatus, PropName, Status};

/// The namespaces DAV speaks.
pub const DAV: &str = "DAV:";
pub const CALDAV: &str = "urn:ietf:params:xml:ns:caldav";
pub const CARDDAV: &str = "urn:ietf:params:xml:ns:carddav";
/// CalendarServer's extensions (getctag).
pub const CS: &str = "http://calendarserver.org/ns/";
/// Apple's iCal extensions (calendar-color).
pub const ICAL: &str = "http://apple.com/ns/ical/";
