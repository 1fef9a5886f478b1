//! The router in process (tower `call`, no socket): discovery, login,
//! objects under preconditions, reports, collections, bad XML, and another
//! account's paths (404 on every method, never the data).

mod annuaire;
mod delegation;
mod fixture;
mod flows;
mod isolation;
mod mailbox;
mod scheduling;
mod sharing;
mod turns;
