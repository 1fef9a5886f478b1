//! Allowances counted in the store (schema 35): the sliding estimate, the
//! refusal that counts nothing, and two handles racing for the last units.

use store::{Allowance, Over};

use crate::harness::Ctx;

const HOUR: Allowance = Allowance { window: 3600, events: 3, weight: 10 };

pub async fn allowances_slide_and_refuse_without_counting(ctx: Ctx) {
    let store = &ctx.store;
    let t0 = 1_700_000_000 - 1_700_000_000 % 3600;
    for _ in 0..3 {
        assert_eq!(store.take_allowance("envoi", "1", t0 + 10, 2, HOUR).await.unwrap(), Ok(()));
    }
    assert_eq!(store.take_allowance("envoi", "1", t0 + 20, 1, HOUR).await.unwrap(), Err(Over::Events));
    assert_eq!(store.take_allowance("envoi", "2", t0 + 20, 11, HOUR).await.unwrap(), Err(Over::Weight));
    assert_eq!(store.take_allowance("envoi", "2", t0 + 20, 10, HOUR).await.unwrap(), Ok(()));
    assert_eq!(store.take_allowance("envoi", "2", t0 + 30, 1, HOUR).await.unwrap(), Err(Over::Weight));
    // Another scope counts apart.
    assert_eq!(store.take_allowance("autre", "1", t0 + 20, 1, HOUR).await.unwrap(), Ok(()));
    // Early in the next window, most of the previous one still counts...
    assert_eq!(store.take_allowance("envoi", "1", t0 + 3600 + 60, 1, HOUR).await.unwrap(), Err(Over::Events));
    // ...and once it has slid out, nothing of it.
    assert_eq!(store.take_allowance("envoi", "1", t0 + 2 * 3600 - 1, 1, HOUR).await.unwrap(), Ok(()));
    // Two windows later the oldest rows are gone: still three per window.
    for _ in 0..3 {
        assert_eq!(store.take_allowance("envoi", "1", t0 + 4 * 3600, 1, HOUR).await.unwrap(), Ok(()));
    }
    assert_eq!(store.take_allowance("envoi", "1", t0 + 4 * 3600, 1, HOUR).await.unwrap(), Err(Over::Events));
}

pub async fn two_handles_racing_share_one_allowance(ctx: Ctx) {
    let other = ctx.reopen().await;
    let allowance = Allowance { window: 3600, events: 20, weight: 1000 };
    let now = 1_700_000_000 - 1_700_000_000 % 3600 + 5;
    let mut tasks = Vec::new();
    for store in [ctx.store.clone(), other] {
        tasks.push(tokio::spawn(async move {
            let mut granted = 0;
            for _ in 0..15 {
                if store.take_allowance("envoi", "7", now, 1, allowance).await.unwrap().is_ok() {
                    granted += 1;
                }
            }
            granted
        }));
    }
    let mut granted = 0;
    for task in tasks {
        granted += task.await.unwrap();
    }
    assert_eq!(granted, 20, "30 attempts from two handles, 20 allowed");
}
