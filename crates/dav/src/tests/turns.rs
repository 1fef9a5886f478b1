//! The turns of wide requests: a bounded number at once, the rest wait, and
//! narrow requests never wait.

use futures_util::FutureExt;

use crate::Turns;

#[test]
fn wide_requests_wait_for_a_turn_and_narrow_ones_never_do() {
    let turns = Turns::new(2);
    let first = turns.take(true).now_or_never().expect("a free turn is given at once");
    let second = turns.take(true).now_or_never().expect("a second free turn too");
    assert!(first.is_some() && second.is_some());
    let mut third = Box::pin(turns.take(true));
    assert!((&mut third).now_or_never().is_none(), "a third wide request waits");
    assert!(turns.take(false).now_or_never().expect("a narrow one does not wait").is_none());
    assert!((&mut third).now_or_never().is_none(), "still waiting while both turns are held");
    drop(first);
    let given = third.now_or_never().expect("the turn given back goes to the one waiting");
    assert!(given.is_some());
    drop(second);
}
