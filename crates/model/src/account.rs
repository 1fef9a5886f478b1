//! Account roles, lifecycle statuses and special-use folders.

use std::fmt;
use std::str::FromStr;

macro_rules! string_enum {
    ($(#[$m:meta])* $name:ident { $($variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
        pub enum $name { $($variant),+ }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];
            /// The stable text stored in the database and shown in the CLI.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result { f.write_str(self.as_str()) }
        }

        impl FromStr for $name {
            type Err = String;
            fn from_str(s: &str) -> Result<Self, String> {
                match s {
                    $($text => Ok($name::$variant),)+
                    other => Err(format!(
                        "valeur inconnue « {other} » (attendu : {})",
                        [$($text),+].join(", ")
                    )),
                }
            }
        }
    };
}

string_enum!(
    /// What a person is in the HR directory; drives defaults and permissions.
    Role {
        Teacher = "enseignant",
        Administrative = "administratif",
        Direction = "direction",
        Student = "eleve",
        Functional = "fonctionnel",
        Admin = "admin",
    }
);

string_enum!(
    /// Lifecycle of an account. Mail is accepted for every status but `Closed`.
    AccountStatus {
        Provisional = "provisional",
        Active = "active",
        Suspended = "suspended",
        Closed = "closed",
    }
);

string_enum!(
    /// RFC 6154 special-use attribute of a mailbox.
    SpecialUse {
        Inbox = "inbox",
        Drafts = "drafts",
        Sent = "sent",
        Trash = "trash",
        Junk = "junk",
        Archive = "archive",
    }
);

impl AccountStatus {
    /// Whether incoming mail is accepted for an account in this state.
    pub fn receives_mail(self) -> bool {
        self != AccountStatus::Closed
    }
}

impl SpecialUse {
    /// The folder name created for a new account (French first; IMAP clients
    /// find the role through the special-use attribute, not the name).
    pub fn default_name(self) -> &'static str {
        match self {
            SpecialUse::Inbox => "INBOX",
            SpecialUse::Drafts => "Brouillons",
            SpecialUse::Sent => "Envoyés",
            SpecialUse::Trash => "Corbeille",
            SpecialUse::Junk => "Indésirables",
            SpecialUse::Archive => "Archives",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_text() {
        for r in Role::ALL {
            assert_eq!(r.as_str().parse::<Role>().unwrap(), *r);
        }
        assert!("teacher".parse::<Role>().unwrap_err().contains("enseignant"));
    }
}
