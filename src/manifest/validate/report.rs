//! The `report:` section: the thresholds of the consistency checks, those
//! of the restoration detectors (`restoration`, `max_clicks`, ...) and of
//! the playback translation checks (`translation`, `max_mono_loss_lu`, ...)
//! and of the codec preview (`codec_preview`, `codec_preview_codecs`,
//! `max_codec_overs`).

use super::fields::{choice_value, settings};
use super::Cx;
use crate::manifest::model::ReportThresholds;
use crate::manifest::raw::{Node, Value};
use crate::preview::PreviewCodec;

pub(super) const REPORT_KEYS: &[&str] = &[
    "max_loudness_spread_lu",
    "max_true_peak_dbtp",
    "max_head_silence_s",
    "max_tail_silence_s",
    "max_plr_deviation_db",
    "max_dc_offset_dbfs",
    "min_correlation",
    "max_clipped_samples",
    "max_spectral_deviation_db",
    "restoration",
    "max_clicks",
    "max_clipped_runs",
    "max_hum_db",
    "max_noise_floor_dbfs",
    "max_dropouts",
    "min_dropout_ms",
    "translation",
    "max_mono_loss_lu",
    "min_band_correlation",
    "max_phone_loss_vs_album_lu",
    "max_low_end_share_pct",
    "min_low_end_correlation",
    "min_psr_db",
    "codec_preview",
    "codec_preview_passages",
    "codec_preview_codecs",
    "max_codec_overs",
];

pub(super) fn report_section(cx: &mut Cx, node: &Node) -> ReportThresholds {
    let d = ReportThresholds::default();
    let Some(f) = settings(cx, node, "report", REPORT_KEYS) else {
        return d;
    };
    ReportThresholds {
        max_loudness_spread_lu: f
            .number(cx, "max_loudness_spread_lu", " LU", 0.0, 40.0)
            .unwrap_or(d.max_loudness_spread_lu),
        max_true_peak_dbtp: f
            .number(cx, "max_true_peak_dbtp", " dBTP", -20.0, 3.0)
            .unwrap_or(d.max_true_peak_dbtp),
        max_head_silence_s: f
            .number(cx, "max_head_silence_s", " s", 0.0, 600.0)
            .unwrap_or(d.max_head_silence_s),
        max_tail_silence_s: f
            .number(cx, "max_tail_silence_s", " s", 0.0, 600.0)
            .unwrap_or(d.max_tail_silence_s),
        max_plr_deviation_db: f
            .number(cx, "max_plr_deviation_db", " dB", 0.0, 40.0)
            .unwrap_or(d.max_plr_deviation_db),
        max_dc_offset_dbfs: f
            .number(cx, "max_dc_offset_dbfs", " dBFS", -140.0, 0.0)
            .unwrap_or(d.max_dc_offset_dbfs),
        min_correlation: f
            .number(cx, "min_correlation", "", -1.0, 1.0)
            .unwrap_or(d.min_correlation),
        max_clipped_samples: f
            .integer(cx, "max_clipped_samples", 0, i64::MAX)
            .map_or(d.max_clipped_samples, |v| v as u64),
        max_spectral_deviation_db: f
            .number(cx, "max_spectral_deviation_db", " dB", 0.0, 40.0)
            .unwrap_or(d.max_spectral_deviation_db),
        restoration: f.boolean(cx, "restoration").unwrap_or(d.restoration),
        max_clicks: f
            .integer(cx, "max_clicks", 0, i64::MAX)
            .map_or(d.max_clicks, |v| v as u64),
        max_clipped_runs: f
            .integer(cx, "max_clipped_runs", 0, i64::MAX)
            .map_or(d.max_clipped_runs, |v| v as u64),
        max_hum_db: f
            .number(cx, "max_hum_db", " dB", 0.0, 100.0)
            .unwrap_or(d.max_hum_db),
        max_noise_floor_dbfs: f
            .number(cx, "max_noise_floor_dbfs", " dBFS", -140.0, 0.0)
            .unwrap_or(d.max_noise_floor_dbfs),
        max_dropouts: f
            .integer(cx, "max_dropouts", 0, i64::MAX)
            .map_or(d.max_dropouts, |v| v as u64),
        min_dropout_ms: f
            .number(cx, "min_dropout_ms", " ms", 0.1, 10_000.0)
            .unwrap_or(d.min_dropout_ms),
        translation: f.boolean(cx, "translation").unwrap_or(d.translation),
        max_mono_loss_lu: f
            .number(cx, "max_mono_loss_lu", " LU", 0.0, 70.0)
            .unwrap_or(d.max_mono_loss_lu),
        min_band_correlation: f
            .number(cx, "min_band_correlation", "", -1.0, 1.0)
            .unwrap_or(d.min_band_correlation),
        max_phone_loss_vs_album_lu: f
            .number(cx, "max_phone_loss_vs_album_lu", " LU", 0.0, 40.0)
            .unwrap_or(d.max_phone_loss_vs_album_lu),
        max_low_end_share_pct: f
            .number(cx, "max_low_end_share_pct", " %", 0.0, 100.0)
            .unwrap_or(d.max_low_end_share_pct),
        min_low_end_correlation: f
            .number(cx, "min_low_end_correlation", "", -1.0, 1.0)
            .unwrap_or(d.min_low_end_correlation),
        min_psr_db: f
            .number(cx, "min_psr_db", " dB", -10.0, 40.0)
            .unwrap_or(d.min_psr_db),
        codec_preview: f.boolean(cx, "codec_preview").unwrap_or(d.codec_preview),
        codec_preview_passages: f
            .boolean(cx, "codec_preview_passages")
            .unwrap_or(d.codec_preview_passages),
        codec_preview_codecs: f
            .node("codec_preview_codecs")
            .and_then(|n| preview_codecs(cx, n))
            .unwrap_or(d.codec_preview_codecs),
        max_codec_overs: f
            .integer(cx, "max_codec_overs", 0, 1_000_000_000)
            .map_or(d.max_codec_overs, |v| v as u64),
    }
}

/// `codec_preview_codecs`: one codec's word or a list of them, each once.
fn preview_codecs(cx: &mut Cx, node: &Node) -> Option<Vec<PreviewCodec>> {
    const KEY: &str = "codec_preview_codecs";
    let options: Vec<(&str, PreviewCodec)> =
        PreviewCodec::ALL.iter().map(|&c| (c.id(), c)).collect();
    let items = match &node.value {
        Value::Seq(items) if items.is_empty() => {
            cx.error(
                node.pos,
                format!("`{KEY}` lists no codec; to preview none, write `codec_preview: false`"),
            );
            return None;
        }
        Value::Seq(items) => items.iter().collect(),
        _ => vec![node],
    };
    let mut out = Vec::new();
    for item in items {
        let c = choice_value(cx, item, KEY, &options)?;
        if out.contains(&c) {
            cx.error(item.pos, format!("`{KEY}` lists {} twice", c.id()));
            return None;
        }
        out.push(c);
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;

    fn codecs(yaml: &str) -> (Vec<PreviewCodec>, Vec<String>) {
        let root = crate::manifest::raw::parse(yaml).unwrap();
        let mut cx = Cx {
            file: PathBuf::from("a.yaml"),
            diags: Vec::new(),
            lengths_unsure: false,
        };
        let node = super::super::fields::child(&root, "report").unwrap();
        let r = report_section(&mut cx, node);
        let errors = cx.diags.iter().map(|d| d.message.clone()).collect();
        (r.codec_preview_codecs, errors)
    }

    #[test]
    fn preview_codecs_a_word_or_a_list_each_once() {
        use PreviewCodec::*;
        assert_eq!(
            codecs("report: {max_codec_overs: 0}\n").0,
            PreviewCodec::ALL
        );
        assert_eq!(
            codecs("report: {codec_preview_codecs: opus}\n"),
            (vec![Opus], vec![])
        );
        assert_eq!(
            codecs("report: {codec_preview_codecs: [vorbis, mp3]}\n"),
            (vec![Vorbis, Mp3], vec![])
        );
        let (got, errors) = codecs("report: {codec_preview_codecs: [aac, aac]}\n");
        assert_eq!(got, PreviewCodec::ALL);
        assert_eq!(errors, ["`codec_preview_codecs` lists aac twice"]);
        let (_, errors) = codecs("report: {codec_preview_codecs: [flac]}\n");
        assert!(
            errors[0].contains("one of mp3, vorbis, opus, aac"),
            "{errors:?}"
        );
    }
}
