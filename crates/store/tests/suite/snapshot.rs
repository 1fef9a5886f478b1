//! What a backup reads: the contents still referenced, and (SQLite) a
//! consistent copy of the database taken through a live handle.

use store::{Backend, Error, Store};

use crate::fixtures::*;
use crate::harness::Ctx;

pub async fn snapshots_copy_the_database_and_list_held_contents(ctx: Ctx) {
    let store = &ctx.store;
    let claire = account(store, "claire.martin").await;
    let ci = inbox(store, &claire).await;
    let kept = message(1, 1000);
    let gone = message(2, 50);
    store.deliver(&kept, &[target(&ci)]).await.unwrap();
    let d = store.deliver(&gone, &[target(&ci)]).await.unwrap();
    store.expunge(ci.id, &[d[0].uid]).await.unwrap();

    let held = store.held_blobs().await.unwrap();
    assert_eq!(held.len(), 1, "an expunged content is no longer held: {held:?}");
    assert_eq!((&held[0].id, held[0].size), (&kept.blob, 1000));

    let dir = tempfile::tempdir().unwrap();
    let copy = dir.path().join("copie.db");
    match store.backend() {
        Backend::Postgres => {
            assert!(matches!(store.snapshot_into(&copy).await, Err(Error::Invalid(_))));
        }
        Backend::Sqlite => {
            store.snapshot_into(&copy).await.unwrap();
            // Later writes do not reach the copy.
            store.deliver(&message(3, 70), &[target(&ci)]).await.unwrap();
            let snap = Store::open(&format!("sqlite://{}", copy.display())).await.unwrap();
            assert_eq!(snap.held_blobs().await.unwrap(), held);
            let m = snap.messages(ci.id).await.unwrap();
            assert_eq!(m.len(), 1);
            assert_eq!(m[0].blob_hash, kept.blob);
            snap.close().await;
            // The destination must not exist: nothing is overwritten.
            assert!(store.snapshot_into(&copy).await.is_err());
        }
    }
}
