//! Each bundle's DDEX message against report.json and the files it names:
//! the ICPN is the release's UPC, there is one SoundRecording per track in
//! order with the track's ISRC and title, its duration is the delivered
//! file's (to the millisecond, within report.json's rounding), and its
//! file is the bundle's, with the MD5 and size the file has now; the
//! cover's too. (A message changed after the build is also caught by its
//! MD5 in `outputs`; this names the field that changed.)

use std::io::Read;

use super::scope::Scope;
use super::{problem, Problem, Verification};
use crate::deliver::ddex::{read_message, uri_decode};
use crate::deliver::sheet::md5_hex;
use crate::report::model::{BundleReport, Report};

/// The largest message read; a 99-track album's is under 1 MB.
const MAX_MESSAGE_BYTES: u64 = 16 << 20;
/// report.json keeps durations to 10 ms: half of that, and a millisecond
/// for the message's own rounding.
const DURATION_TOLERANCE_MS: f64 = 6.0;

pub(super) fn check(scope: &Scope, report: &Report, v: &mut Verification) {
    for (i, b) in report.bundles.iter().enumerate() {
        if let Some(rel) = &b.ddex {
            let field = format!("bundles[{i}].ddex");
            v.problems.extend(bundle(scope, report, b, rel, &field));
        }
    }
}

fn bundle(
    scope: &Scope,
    report: &Report,
    b: &BundleReport,
    rel: &str,
    field: &str,
) -> Vec<Problem> {
    let shown = format!("streaming/{}/{rel}", b.name);
    let path = match scope.build_file(&shown, field) {
        Ok(p) => p,
        Err(p) => return vec![p],
    };
    let mut bytes = Vec::new();
    let read = std::fs::File::open(&path)
        .and_then(|f| f.take(MAX_MESSAGE_BYTES + 1).read_to_end(&mut bytes));
    if let Err(e) = read {
        return vec![problem(&shown, "file", format!("cannot be read: {e}"))];
    }
    if bytes.len() as u64 > MAX_MESSAGE_BYTES {
        return vec![problem(
            &shown,
            "file",
            "is over 16 MiB: not a message we wrote",
        )];
    }
    let Ok(text) = String::from_utf8(bytes) else {
        return vec![problem(&shown, "file", "is not UTF-8 text")];
    };
    let msg = match read_message(&text) {
        Ok(m) => m,
        Err(e) => return vec![problem(&shown, "xml", e)],
    };
    let mut out = Vec::new();
    differ(
        &mut out,
        &shown,
        "ICPN".into(),
        msg.icpn.as_deref(),
        report.release.upc.as_deref(),
    );
    differ(
        &mut out,
        &shown,
        "SoundRecording count".into(),
        Some(&msg.recordings.len().to_string()),
        Some(&report.tracks.len().to_string()),
    );
    for ((r, t), f) in msg.recordings.iter().zip(&report.tracks).zip(&b.files) {
        let at = |what: &str| format!("SoundRecording {} {what}", r.reference);
        differ(
            &mut out,
            &shown,
            at("ISRC"),
            r.isrc.as_deref(),
            t.isrc.as_deref(),
        );
        differ(
            &mut out,
            &shown,
            at("DisplayTitle"),
            r.title.as_deref(),
            Some(&t.title),
        );
        let recorded_ms = f.duration_s * 1000.0;
        match r.duration_ms {
            Some(ms) if (ms as f64 - recorded_ms).abs() <= DURATION_TOLERANCE_MS => {}
            _ => out.push(problem(
                &shown,
                at("Duration"),
                format!(
                    "is {}, the delivered file {} lasts {:.2} s by report.json",
                    super::quoted(r.duration_text.as_deref()),
                    f.file,
                    f.duration_s
                ),
            )),
        }
        match &r.file {
            None => out.push(problem(&shown, at("File"), "is missing")),
            Some(file) => out.extend(named_file(
                scope,
                &shown,
                &b.name,
                &at("File"),
                file,
                &f.file,
            )),
        }
    }
    match (&msg.cover, &b.cover) {
        (Some(file), Some(c)) => out.extend(named_file(
            scope,
            &shown,
            &b.name,
            "Image File",
            file,
            &c.file,
        )),
        (None, None) => {}
        (Some(_), None) => out.push(problem(
            &shown,
            "Image",
            "names a cover, but the bundle has none",
        )),
        (None, Some(_)) => out.push(problem(
            &shown,
            "Image",
            "is missing: the bundle has cover.jpg",
        )),
    }
    out
}

/// A field of the message that must read as report.json's.
fn differ(
    out: &mut Vec<Problem>,
    shown: &str,
    field: String,
    ours: Option<&str>,
    theirs: Option<&str>,
) {
    if ours != theirs {
        out.push(problem(
            shown,
            field,
            format!(
                "is {}, report.json says {}",
                super::quoted(ours),
                super::quoted(theirs)
            ),
        ));
    }
}

/// A File element: its URI is `../NAME` of the bundle's file `want`, and
/// its MD5 and size are that file's now.
fn named_file(
    scope: &Scope,
    shown: &str,
    bundle: &str,
    field: &str,
    file: &crate::deliver::ddex::read::ReadFile,
    want: &str,
) -> Vec<Problem> {
    let name = file.uri.strip_prefix("../").and_then(uri_decode);
    if name.as_deref() != Some(want) {
        return vec![problem(
            shown,
            format!("{field} URI"),
            format!("is {:?}, the bundle's file is ../{want}", file.uri),
        )];
    }
    let path = match scope.build_file(&format!("streaming/{bundle}/{want}"), field) {
        Ok(p) => p,
        Err(p) => return vec![p],
    };
    let mut out = Vec::new();
    match md5_hex(&path) {
        Ok(md5) if Some(&md5) == file.md5.as_ref() => {}
        Ok(md5) => out.push(problem(
            shown,
            format!("{field} HashSum"),
            format!(
                "is {}, {want} has MD5 {md5}",
                super::quoted(file.md5.as_deref())
            ),
        )),
        Err(e) => out.push(problem(
            shown,
            field.to_owned(),
            format!("{want} cannot be read: {e}"),
        )),
    }
    if let (Ok(meta), Some(size)) = (std::fs::metadata(&path), file.size) {
        if meta.len() != size {
            out.push(problem(
                shown,
                format!("{field} FileSize"),
                format!("is {size}, {want} has {} bytes", meta.len()),
            ));
        }
    }
    out
}
