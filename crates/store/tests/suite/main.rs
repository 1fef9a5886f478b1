//! The store test suite, run once on SQLite and once on PostgreSQL.

mod admin_scripts;
mod administrators;
mod allowances;
mod annuaire;
mod bayes;
mod changes;
mod collections;
mod credentials;
mod delegation;
mod deleted;
mod delivery;
mod directory;
mod fixtures;
mod folders;
mod forwarding;
mod hardening;
mod harness;
mod imapx;
mod lists;
mod migrated;
mod passkeys;
mod people;
mod preferences;
mod quarantine;
mod queue;
mod quota_requests;
mod reminders;
mod resources;
mod schedule_inbox;
mod search;
mod sieve_scripts;
mod snapshot;
mod sso;
mod storage;
mod tenants;
mod upgrade;
mod vacation;
mod webmail;

on_both_backends!(
    administrators::domain_administrators_hold_the_role_on_its_academie,
    bayes::training_moves_counts_and_never_counts_twice,
    bayes::many_tokens_train_in_chunks_and_prune,
    credentials::password_change_keeps_history_and_activates,
    credentials::totp_steps_are_claimed_once,
    credentials::app_passwords_are_scoped_and_revocable,
    credentials::journal_counts_failures_since_the_last_success,
    credentials::journal_counts_failures_per_device_account_and_identifier,
    credentials::credential_changes_are_numbered_for_the_watcher,
    credentials::web_sessions_and_reset_tokens,
    credentials::password_reminders_are_claimed_once,
    passkeys::passkeys_are_unique_counted_and_claimed_once,
    directory::migrations_are_idempotent,
    directory::domains_and_aliases,
    directory::org_tree_with_uai,
    directory::account_creation_makes_special_mailboxes,
    directory::duplicate_address_is_a_conflict,
    directory::mailbox_hierarchy,
    delivery::deliver_to_one,
    delivery::deliver_to_two_thousand,
    delivery::deliver_is_all_or_nothing,
    delivery::delivery_waits_for_its_blob,
    delivery::threading_via_references,
    delivery::bulk_reads_match_single_reads,
    changes::set_flags_bumps_modseq,
    changes::changes_since_reports_in_order,
    changes::expunge_releases_references,
    changes::released_blobs_after_all_copies_expunged,
    changes::concurrent_writers_all_commit,
    changes::concurrent_flag_updates_are_not_lost,
    delivery::counters_persist_after_reopening,
    delivery::concurrent_deliveries_succeed,
    folders::copy_shares_the_blob_and_keeps_flags,
    forwarding::the_nearest_units_forwarding_policy_applies,
    admin_scripts::the_nearest_units_admin_script_runs,
    admin_scripts::archiving_follows_the_account_then_the_nearest_unit_then_the_default,
    folders::rename_and_delete_mailboxes,
    folders::implied_parents_are_placeholders,
    folders::subscriptions_are_a_set_of_names,
    folders::recent_messages_are_claimed_once,
    people::hr_batch_creates_updates_and_renames,
    people::grants_and_audit_chain,
    queue::one_entry_per_message_with_recipient_status,
    queue::leases_hand_out_each_entry_once,
    queue::concurrent_leases_never_share_an_entry,
    queue::queued_blobs_are_kept_until_dequeued,
    queue::a_queue_page_holds_the_units_asked_for,
    quarantine::the_quarantine_is_walked_newest_first_and_recipients_units_are_read,
    quota_requests::quota_requests_are_one_open_per_account_and_decided_once,
    storage::storage_figures_count_the_units_asked_for,
    imapx::messages_after_and_blob_holding,
    vacation::vacation_answers_each_sender_once_per_interval,
    collections::collections_belong_to_one_account,
    collections::objects_follow_preconditions_and_log_changes,
    resources::resources_never_log_in_and_close_when_deleted,
    delegation::grants_replace_each_other_and_go_with_their_folder,
    delegation::the_delegation_journal_is_newest_first,
    allowances::allowances_slide_and_refuse_without_counting,
    allowances::two_handles_racing_share_one_allowance,
    resources::calendar_objects_are_found_by_uid_in_own_calendars_only,
    reminders::alarms_fire_once_and_reminders_stay_with_their_owner,
    schedule_inbox::inbox_keeps_the_newest_and_is_its_owners,
    collections::shares_reach_accounts_and_units_below,
    search::messages_by_date_and_by_blob,
    webmail::identities_keep_one_default_per_account,
    webmail::directory_search_finds_names_and_addresses,
    webmail::directory_lists_only_staff_of_the_same_domain,
    annuaire::the_directory_shows_active_staff_of_one_academie,
    tenants::accounts_share_a_tenant_only_within_one_academie,
    annuaire::the_directory_feed_records_what_readers_would_see_change,
    annuaire::the_account_search_filters_counts_and_pages_in_the_database,
    webmail::sorted_pages_by_sender_subject_and_size,
    preferences::web_prefs_trusted_senders_and_banner,
    preferences::delayed_sends_are_claimed_or_cancelled_once,
    preferences::notices_show_in_their_window,
    hardening::reset_token_is_spent_once_under_concurrency,
    hardening::status_changes_are_numbered,
    hardening::web_session_expiry_slides,
    sieve_scripts::sieve_scripts_keep_one_active,
    migrated::migrated_messages_are_mapped_per_source_folder,
    migrated::a_migrated_group_is_filed_and_mapped_in_one_transaction,
    migrated::a_migrated_group_with_one_bad_message_files_nothing,
    sso::sso_grants_are_spent_once_and_revoked_by_family,
    lists::lists_share_the_address_space_and_hold_posts,
    lists::quarantine_keeps_refused_messages_until_decided,
    lists::dynamic_lists_read_a_subtree_of_active_staff,
    lists::list_archives_hold_one_blob_reference_per_post,
    snapshot::snapshots_copy_the_database_and_list_held_contents,
    deleted::deleted_messages_are_kept_and_restored,
    deleted::moves_keep_nothing_and_purges_release,
    deleted::deleted_folders_are_restored_by_name_or_to_the_inbox,
    deleted::housekeeping_finds_aged_mail_and_moves_it_in_one_transaction,
    deleted::quota_warnings_are_claimed_once,
);
