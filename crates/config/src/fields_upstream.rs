//! The `[upstream]` keys: the web login delegated to the académie's own
//! identity providers (issue 27, item 2). The providers are kept in the
//! store (`ardoise admin upstream`), several of them, changed without a
//! restart; only the web's policy is here.

use crate::fields::{Field, boolean};

pub(crate) static UPSTREAM: &[Field] = &[Field {
    section: "upstream",
    key: "only",
    default: "false",
    doc: "La connexion web passe uniquement par les fournisseurs d'identité de l'académie (ardoise admin upstream) : le formulaire de mot de passe est masqué et refusé sur le web (IMAP et SMTP gardent le mot de passe). Sans effet tant qu'aucun fournisseur n'est configuré.\nThe web login goes through the académie's identity providers only (ardoise admin upstream): the password form is hidden and refused on the web (IMAP and SMTP keep the password). No effect while no provider is configured.",
    apply: |c, v| {
        c.upstream.only = boolean(v)?;
        Ok(())
    },
}];
