//! The classifier's counts: training, training again either way, the
//! platform's model as the sum of everyone's, pruning.

use model::BlobId;
use store::{GLOBAL_MODEL, Store, TokenCounts, Trained};

use crate::harness::Ctx;

fn blob(n: u8) -> BlobId {
    BlobId::from_hex(&format!("{n:02x}").repeat(32)).unwrap()
}

async fn counts(store: &Store, account: i64, tokens: &[i64]) -> Vec<(i64, i64, i64)> {
    let mut got: Vec<(i64, i64, i64)> = store
        .bayes_tokens(&[account], tokens)
        .await
        .unwrap()
        .into_iter()
        .map(|TokenCounts { token, spam, ham, .. }| (token, spam, ham))
        .collect();
    got.sort_unstable();
    got
}

async fn totals(store: &Store, account: i64) -> (i64, i64) {
    store.bayes_totals(&[account]).await.unwrap().first().map_or((0, 0), |t| (t.1, t.2))
}

pub async fn training_moves_counts_and_never_counts_twice(ctx: Ctx) {
    let store = &ctx.store;
    let (claire, paul) = (11, 12);
    // Negative and large hashes are tokens like any other.
    let a = [-5_i64, 7, i64::MAX];
    assert_eq!(store.bayes_train(claire, &blob(1), true, &a).await.unwrap(), Trained::Added);
    assert_eq!(store.bayes_train(claire, &blob(1), true, &a).await.unwrap(), Trained::Already, "moved twice");
    assert_eq!(store.bayes_train(claire, &blob(2), true, &[7, 9]).await.unwrap(), Trained::Added);
    assert_eq!(store.bayes_train(paul, &blob(3), false, &[7, 8]).await.unwrap(), Trained::Added);
    assert_eq!(store.bayes_trained_as(claire, &blob(1)).await.unwrap(), Some(true));
    assert_eq!(store.bayes_trained_as(paul, &blob(1)).await.unwrap(), None);

    assert_eq!(
        counts(store, claire, &[-5, 7, 8, 9, i64::MAX]).await,
        [(-5, 1, 0), (7, 2, 0), (9, 1, 0), (i64::MAX, 1, 0)]
    );
    assert_eq!(counts(store, paul, &[7, 8]).await, [(7, 0, 1), (8, 0, 1)]);
    // The platform's model is the sum.
    let all = [-5, 7, 8, 9, i64::MAX];
    assert_eq!(
        counts(store, GLOBAL_MODEL, &all).await,
        [(-5, 1, 0), (7, 2, 1), (8, 0, 1), (9, 1, 0), (i64::MAX, 1, 0)]
    );
    assert_eq!((totals(store, claire).await, totals(store, paul).await), ((2, 0), (0, 1)));
    assert_eq!(totals(store, GLOBAL_MODEL).await, (2, 1));

    // Out of Junk: the message's spam counts become good ones.
    assert_eq!(store.bayes_train(claire, &blob(1), false, &a).await.unwrap(), Trained::Moved);
    assert_eq!(counts(store, claire, &all).await, [(-5, 0, 1), (7, 1, 1), (9, 1, 0), (i64::MAX, 0, 1)]);
    assert_eq!(
        counts(store, GLOBAL_MODEL, &all).await,
        [(-5, 0, 1), (7, 1, 2), (8, 0, 1), (9, 1, 0), (i64::MAX, 0, 1)]
    );
    assert_eq!((totals(store, claire).await, totals(store, GLOBAL_MODEL).await), ((1, 1), (1, 2)));
    // And back again.
    assert_eq!(store.bayes_train(claire, &blob(1), true, &a).await.unwrap(), Trained::Moved);
    assert_eq!(counts(store, claire, &all).await, [(-5, 1, 0), (7, 2, 0), (9, 1, 0), (i64::MAX, 1, 0)]);
    assert_eq!(totals(store, GLOBAL_MODEL).await, (2, 1));

    // One lookup for several models.
    let both = store.bayes_tokens(&[claire, paul, GLOBAL_MODEL], &[7]).await.unwrap();
    assert_eq!(both.len(), 3);
    let mut models: Vec<i64> = store.bayes_totals(&[claire, paul, 99]).await.unwrap().iter().map(|t| t.0).collect();
    models.sort_unstable();
    assert_eq!(models, [claire, paul], "an account that never trained has no row");

    let stats = store.bayes_stats().await.unwrap();
    assert_eq!((stats.spam, stats.ham, stats.tokens, stats.accounts), (2, 1, 5, 2));
}

pub async fn many_tokens_train_in_chunks_and_prune(ctx: Ctx) {
    let store = &ctx.store;
    // More tokens than one statement takes.
    let many: Vec<i64> = (0..1_234).map(|i| i * 1_000_003 - 600_000_000).collect();
    store.bayes_train(5, &blob(1), true, &many).await.unwrap();
    store.bayes_train(5, &blob(2), true, &many[..10]).await.unwrap();
    assert_eq!(store.bayes_tokens(&[5, GLOBAL_MODEL], &many).await.unwrap().len(), 2 * many.len());
    // Pruning spares what is recent, then takes tokens seen only once.
    assert_eq!(store.bayes_prune(0).await.unwrap(), 0);
    let future = time_now() + 10;
    assert_eq!(store.bayes_prune(future).await.unwrap(), 2 * (many.len() as u64 - 10));
    let left = store.bayes_tokens(&[5], &many).await.unwrap();
    assert_eq!(left.len(), 10);
    assert!(left.iter().all(|c| c.spam == 2));
}

fn time_now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64
}
