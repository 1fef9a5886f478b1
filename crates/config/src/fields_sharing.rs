//! The `[sharing]` keys: large-file sharing from the webmail (issue 22).

use crate::fields::{Field, duration, size};

pub(crate) static SHARING: &[Field] = &[
    Field {
        section: "sharing",
        key: "max_file_size",
        default: "\"2G\"",
        doc: "Taille maximale d'un fichier partagé (« Partage de fichiers »).\nLargest file one may share.",
        apply: |c, v| {
            c.sharing.max_file_size = size(v)?;
            Ok(())
        },
    },
    Field {
        section: "sharing",
        key: "quota",
        default: "\"10G\"",
        doc: "Place que les fichiers partagés d'un compte peuvent occuper ensemble (téléversements en cours compris).\nSpace the shared files of one account may take together (uploads in progress included).",
        apply: |c, v| {
            c.sharing.quota = size(v)?;
            Ok(())
        },
    },
    Field {
        section: "sharing",
        key: "default_expiry",
        default: "\"10d\"",
        doc: "Durée de vie d'un lien de partage quand son auteur n'en choisit pas.\nHow long a share link lives when its owner chooses nothing.",
        apply: |c, v| {
            c.sharing.default_expiry_secs = duration(v)?;
            Ok(())
        },
    },
    Field {
        section: "sharing",
        key: "max_expiry",
        default: "\"30d\"",
        doc: "Durée de vie maximale d'un lien de partage ; les fichiers expirés sont effacés par le ménage.\nLongest life of a share link; expired files are deleted by the housekeeping.",
        apply: |c, v| {
            c.sharing.max_expiry_secs = duration(v)?;
            Ok(())
        },
    },
];
