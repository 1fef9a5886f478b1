//! The store test suite, run once on SQLite and once on PostgreSQL.

mod changes;
mod delivery;
mod directory;
mod fixtures;
mod folders;
mod harness;

on_both_backends!(
    directory::migrations_are_idempotent,
    directory::domains_and_aliases,
    directory::org_tree_with_uai,
    directory::account_creation_makes_special_mailboxes,
    directory::duplicate_address_is_a_conflict,
    directory::mailbox_hierarchy,
    delivery::deliver_to_one,
    delivery::deliver_to_two_thousand,
    delivery::deliver_is_all_or_nothing,
    delivery::threading_via_references,
    changes::set_flags_bumps_modseq,
    changes::changes_since_reports_in_order,
    changes::expunge_releases_references,
    changes::released_blobs_after_all_copies_expunged,
    delivery::counters_persist_after_reopening,
    delivery::concurrent_deliveries_succeed,
    folders::copy_shares_the_blob_and_keeps_flags,
    folders::rename_and_delete_mailboxes,
);
