//! `ardoise search reindex`: rebuilds the full-text index (IMAP SEARCH
//! TEXT/BODY) from the store and the message files. The server must be
//! stopped; a running server catches up by itself after a crash, so this is
//! for a lost or damaged index directory.

use std::process::ExitCode;

use anyhow::Context;
use clap::Subcommand;

use crate::serve;

#[derive(Subcommand)]
pub enum SearchCommand {
    /// Reconstruit l'index de recherche (serveur arrêté) / rebuild the search index (server stopped).
    Reindex,
}

pub async fn run(cfg: &config::Config, command: SearchCommand) -> anyhow::Result<ExitCode> {
    match command {
        SearchCommand::Reindex => {
            let ms = serve::open(cfg).await?.mailstore;
            let n = ms
                .rebuild_search(&cfg.server.data_dir.join("search"))
                .await
                .context("index de recherche (le serveur est-il arrêté ?) / search index (is the server stopped?)")?;
            println!("{n} message(s) indexé(s) / indexed");
        }
    }
    Ok(ExitCode::SUCCESS)
}
