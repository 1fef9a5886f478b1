//! Which secret opened a session, and which sessions a revocation ends.
//!
//! A session remembers the [`Credential`] its login proved; when a secret
//! stops being valid (the account suspended, the password changed, an app
//! password revoked) a [`Revocation`] goes out, and every session whose
//! credential it [covers](Revocation::covers) closes.

/// The secret a session was opened with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Credential {
    /// The account's password (IMAP/SMTP without 2FA, and every web login).
    Password,
    /// One app password, by its id.
    AppPassword(i64),
    /// An access token of the OpenID Connect provider (OAUTHBEARER,
    /// XOAUTH2): it ends with the account's access (suspension, closure),
    /// and lives ten minutes for new logins.
    Token,
}

/// Which of an account's secrets stopped being valid (a revocation of the
/// whole account, suspended or closed, ends every session and needs none).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Revocation {
    /// The password changed: sessions opened with the old one end.
    Password,
    /// One app password was revoked.
    AppPassword(i64),
    /// Every app password of the account was revoked.
    AppPasswords,
}

/// What a session's login proved: the secret, and the number of the last
/// change of account state or secret committed before the login read the
/// account (see `Store::status_sequence`). A revocation numbered at or below
/// it was already in force when the secret was checked: the session was
/// opened with the new secret, and that revocation does not end it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Proof {
    pub credential: Credential,
    pub checked: i64,
}

impl Proof {
    /// Whether a revocation numbered `change` (`None`: published at once
    /// where the change was made, number unknown) ends the session, given
    /// that it revokes the session's secret: any change the login may not
    /// have seen does.
    pub fn predates(self, change: Option<i64>) -> bool {
        change.is_none_or(|n| n > self.checked)
    }
}

impl Revocation {
    /// Whether a session opened with `credential` must end.
    pub fn covers(self, credential: Credential) -> bool {
        match (self, credential) {
            (Revocation::Password, Credential::Password) => true,
            (Revocation::AppPassword(id), Credential::AppPassword(used)) => id == used,
            (Revocation::AppPasswords, Credential::AppPassword(_)) => true,
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_revocation_ends_only_what_it_revokes() {
        let app = Credential::AppPassword(7);
        assert!(Revocation::Password.covers(Credential::Password) && !Revocation::Password.covers(app));
        assert!(Revocation::AppPassword(7).covers(app));
        assert!(!Revocation::AppPassword(8).covers(app));
        assert!(!Revocation::AppPassword(7).covers(Credential::Password));
        assert!(Revocation::AppPasswords.covers(app) && !Revocation::AppPasswords.covers(Credential::Password));
    }

    #[test]
    fn a_change_the_login_saw_does_not_end_the_session() {
        let proof = Proof { credential: Credential::Password, checked: 41 };
        assert!(!proof.predates(Some(40)) && !proof.predates(Some(41)));
        assert!(proof.predates(Some(42)));
        assert!(proof.predates(None), "a change of unknown number is taken as new");
    }
}
