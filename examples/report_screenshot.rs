//! A PNG of a report page, for the README (examples/demo/report.png):
//! renders report.html from a report.json (or takes a report.html as it
//! is) and has headless Chromium take a 1280 × 2400 screenshot of it.
//!
//! Usage: report_screenshot BUILD/report.json|BUILD/report.html OUT.png
//!        [WIDTH,HEIGHT]

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.len() < 2 || args.len() > 3 {
        eprintln!("usage: report_screenshot REPORT.json|REPORT.html OUT.png [WIDTH,HEIGHT]");
        return ExitCode::from(2);
    }
    match run(
        Path::new(&args[0]),
        Path::new(&args[1]),
        args.get(2).map_or("1280,2400", |s| s),
    ) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(1)
        }
    }
}

fn run(input: &Path, out: &Path, size: &str) -> Result<(), String> {
    let tmp = std::env::temp_dir().join(format!("glassmaster-screenshot-{}", std::process::id()));
    std::fs::create_dir_all(&tmp).map_err(|e| format!("{}: {e}", tmp.display()))?;
    let page: PathBuf = if input.extension().is_some_and(|e| e == "json") {
        let text =
            std::fs::read_to_string(input).map_err(|e| format!("{}: {e}", input.display()))?;
        let report = glassmaster::report::Report::from_json(&text)
            .map_err(|e| format!("{}: not a report.json: {e}", input.display()))?;
        let html = glassmaster::report::render_html(&report).map_err(|e| e.to_string())?;
        let page = tmp.join("report.html");
        std::fs::write(&page, html).map_err(|e| format!("{}: {e}", page.display()))?;
        page
    } else {
        input.to_path_buf()
    };
    let page = std::fs::canonicalize(&page).map_err(|e| format!("{}: {e}", page.display()))?;
    let out_abs = std::env::current_dir()
        .map_err(|e| e.to_string())?
        .join(out);
    let run = Command::new("chromium")
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
        ])
        .arg(format!("--user-data-dir={}", tmp.join("profile").display()))
        .arg(format!("--window-size={size}"))
        .arg(format!("--screenshot={}", out_abs.display()))
        .arg(format!("file://{}", page.display()))
        .output()
        .map_err(|e| format!("cannot run chromium: {e}"))?;
    let _ = std::fs::remove_dir_all(&tmp);
    if !run.status.success() {
        // Chromium's stderr is noisy (D-Bus and the like): only on failure.
        return Err(format!(
            "chromium failed ({}): {}",
            run.status,
            String::from_utf8_lossy(&run.stderr)
        ));
    }
    eprintln!("wrote {}", out.display());
    Ok(())
}
