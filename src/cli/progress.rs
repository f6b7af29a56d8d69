//! Progress bars on a terminal, silence elsewhere.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::Context;

/// A bar counting `total` units (audio frames, files, ...) with `label`;
/// hidden when stderr is not a terminal or with `--quiet`.
pub fn bar(ctx: &Context, total: u64, label: &str) -> ProgressBar {
    if !ctx.progress {
        return ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::hidden());
    }
    let pb = ProgressBar::new(total);
    pb.set_style(
        ProgressStyle::with_template("[{bar:30}] {percent:>3}% eta {eta:>3} {wide_msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    pb.set_message(label.to_owned());
    pb
}
