//! Progress bars on the terminal (indicatif): one overall, one per account
//! or file in flight. Nothing is drawn when standard error is not a terminal
//! (cron, CI, a redirected run): the report says it all.

use std::io::IsTerminal;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

/// The bars of one run.
#[derive(Clone)]
pub struct Bars {
    multi: MultiProgress,
    overall: ProgressBar,
}

impl Bars {
    pub fn new() -> Bars {
        let target =
            if std::io::stderr().is_terminal() { ProgressDrawTarget::stderr() } else { ProgressDrawTarget::hidden() };
        let multi = MultiProgress::with_draw_target(target);
        let overall = multi.add(ProgressBar::new(0));
        overall.set_style(style());
        overall.set_message("total");
        Bars { multi, overall }
    }

    /// A bar for one account or file, removed when dropped.
    pub fn item(&self, name: &str) -> ItemBar {
        let bar = self.multi.add(ProgressBar::new(0));
        bar.set_style(style());
        bar.set_message(name.to_owned());
        ItemBar { bar, overall: self.overall.clone(), multi: self.multi.clone() }
    }

    pub fn finish(&self) {
        self.overall.finish();
    }
}

impl Default for Bars {
    fn default() -> Self {
        Bars::new()
    }
}

fn style() -> ProgressStyle {
    ProgressStyle::with_template("{msg:30!} [{bar:30}] {pos}/{len} {per_sec}")
        .unwrap_or_else(|_| ProgressStyle::default_bar())
}

/// One account's (or file's) bar, which also moves the overall one.
pub struct ItemBar {
    bar: ProgressBar,
    overall: ProgressBar,
    multi: MultiProgress,
}

impl ItemBar {
    /// More messages to copy became known.
    pub fn more(&self, n: u64) {
        self.bar.inc_length(n);
        self.overall.inc_length(n);
    }

    /// One message done (copied or failed).
    pub fn done(&self) {
        self.bar.inc(1);
        self.overall.inc(1);
    }
}

impl Drop for ItemBar {
    fn drop(&mut self) {
        self.bar.finish();
        self.multi.remove(&self.bar);
    }
}
