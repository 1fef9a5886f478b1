//! `ardoise`: the one program an académie installs. This crate is the edge: it
//! reads the configuration, opens the store, wires the domain services to the
//! protocol adapters and offers the command line (serve, demo, admin, config).
//! `anyhow` is used here and nowhere below.

mod admin;
mod backup;
mod certificates;
mod cli;
mod dav_import;
mod demo;
mod demo_agenda;
mod demo_mail;
mod directory;
mod dns_cli;
mod healthcheck;
mod http;
mod imip;
mod learning;
mod metrics;
mod migrate_cli;
mod mx;
mod outbound;
mod outbox;
mod password;
mod queue_cli;
mod quickstart;
mod reminders;
mod screen;
mod search_cli;
mod serve;
mod vacation_cli;

use std::process::ExitCode;

use clap::Parser;

/// jemalloc gives memory back to the system after a burst (see the workspace's
/// Cargo.toml); glibc's malloc kept it for the life of the process.
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

fn main() -> ExitCode {
    // Background threads purge freed pages on their decay timer even while the
    // server sits idle (otherwise only the next allocations would); where they
    // cannot start, memory is still returned, later.
    let _ = tikv_jemalloc_ctl::background_thread::write(true);
    // Every connection is a descriptor: the usual soft limit (1,024) is far
    // below what a server needs, while the hard limit is what the system
    // allows us. The listeners size their caps from the result.
    serve::raise_descriptor_limit();
    let args = cli::Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("ardoise: impossible de démarrer le runtime : {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(cli::run(args)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("ardoise: erreur : {e:#}");
            ExitCode::FAILURE
        }
    }
}
