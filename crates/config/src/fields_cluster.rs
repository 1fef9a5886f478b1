//! The `[cluster]` keys: several nodes on one PostgreSQL store (issue 28).

use crate::fields::{Field, string};

pub(crate) static CLUSTER: &[Field] = &[Field {
    section: "cluster",
    key: "nats",
    default: "\"\"",
    doc: "Bus entre nœuds : nats://hôte:port (plusieurs séparés par des virgules). Vide : LISTEN/NOTIFY de PostgreSQL si la base est PostgreSQL, sinon aucun (un seul nœud).\nBus between nodes: nats://host:port (several separated by commas). Empty: PostgreSQL LISTEN/NOTIFY when the store is PostgreSQL, else none (one node).",
    apply: |c, v| {
        let url = string(v)?;
        let url = url.trim();
        if !url.is_empty() && !url.split(',').all(|u| u.trim().starts_with("nats://") || u.trim().starts_with("tls://"))
        {
            return Err("adresse nats://hôte:port attendue".into());
        }
        c.cluster.nats = Some(url.to_owned()).filter(|u| !u.is_empty());
        Ok(())
    },
}];
