//! The `ddex:` section: the sender and recipients of the DDEX ERN 4.3
//! NewReleaseMessage (each a DDEX Party ID with its check character and a
//! name), its message id, and its deals (commercial models, use types and
//! territories in DDEX's allowed values, from a start date); and the
//! bundles that opt in with `ddex: true`. A bundle asking for a message
//! without a section, a section without a sender, a deal without
//! territories, and a release the message cannot describe (no UPC, genre
//! or date) are each reported at their line.

use super::fields::{child, fields, suggest, Fields};
use super::Cx;
use crate::manifest::codes::check_dpid;
use crate::manifest::model::{Ddex, DdexDeal, DdexParty, Release};
use crate::manifest::raw::{Node, Pos, Value};

pub(super) const DDEX_KEYS: &[&str] = &["sender", "recipients", "message_id", "deal"];
const PARTY_KEYS: &[&str] = &["party_id", "name"];
const DEAL_KEYS: &[&str] = &[
    "commercial_models",
    "use_types",
    "territories",
    "start_date",
];

/// DDEX's CommercialModelType values a release deal may name.
pub const COMMERCIAL_MODELS: &[&str] = &[
    "AdvertisementSupportedModel",
    "DeviceFeeModel",
    "FreeOfChargeModel",
    "PayAsYouGoModel",
    "PerformanceRoyaltiesModel",
    "RightsClaimModel",
    "SubscriptionModel",
];

/// DDEX's UseType values (ERN allowed-value set) a release deal may name.
pub const USE_TYPES: &[&str] = &[
    "Broadcast",
    "Cable",
    "ConditionalDownload",
    "ContentInfluencedStream",
    "Display",
    "Download",
    "Dub",
    "DubForOnDemandStreaming",
    "ExtractForInternet",
    "KioskDownload",
    "Narrowcast",
    "NonInteractiveStream",
    "OnDemandStream",
    "Perform",
    "PermanentDownload",
    "Playback",
    "PlayInPublic",
    "Podcast",
    "PrivateCopy",
    "PurchaseAsPhysicalProduct",
    "Rent",
    "Simulcast",
    "Stream",
    "TetheredDownload",
    "TimeInfluencedStream",
    "Use",
    "UseAsRingbackTone",
    "UseAsRingtone",
    "UseForIdentification",
    "UserMakeAvailableLabelProvided",
    "UserMakeAvailableUserProvided",
    "Webcast",
];

/// The ISO 3166-1 codes DDEX's CurrentTerritoryCode set holds (besides
/// `Worldwide`).
const TERRITORIES: &str = concat!(
    "AD AE AF AG AI AL AM AN AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN ",
    "BO BQ BR BS BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CS CU CV CW CX CY CZ ",
    "DE DJ DK DM DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM ",
    "GN GP GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP ",
    "KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH ",
    "MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM ",
    "PA PE PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ ",
    "SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA ",
    "UG UM US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW 12 20 24 28 31 32 36 40 44 48 ",
    "50 51 52 56 64 68 70 72 76 84 90 96 XK ",
);

/// The bundles of `streaming:` that ask for a message (`ddex: true`): their
/// folder name (`name`, else `profile`) and the place of their `ddex` key.
pub(super) fn opted_in(cx: &mut Cx, streaming: &Node) -> Vec<(String, Pos)> {
    let Value::Seq(items) = &streaming.value else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for item in items {
        let Some(node) = child(item, "ddex") else {
            continue;
        };
        match node.value {
            Value::Bool(true) => {}
            Value::Bool(false) | Value::Null => continue,
            ref other => {
                cx.error(
                    node.pos,
                    format!(
                        "`ddex` must be true or false, found {}",
                        super::fields::shown(other)
                    ),
                );
                continue;
            }
        }
        let name =
            ["name", "profile"]
                .iter()
                .find_map(|k| match child(item, k).map(|n| &n.value) {
                    Some(Value::Str(s)) => Some(s.clone()),
                    _ => None,
                });
        if let Some(name) = name {
            out.push((name, node.pos));
        }
    }
    out
}

/// Reads `ddex:` (or its absence) against the bundles that opted in.
pub(super) fn ddex_section(
    cx: &mut Cx,
    node: Option<&Node>,
    key_pos: Pos,
    release: Option<&Release>,
    bundles: Vec<(String, Pos)>,
) -> Option<Ddex> {
    let Some(node) = node else {
        for (name, pos) in &bundles {
            cx.error(
                *pos,
                format!(
                    "bundle `{name}` asks for a DDEX message, but the manifest has no `ddex:` \
                     section with its `sender` (`ddex: {{ sender: {{ party_id: PADPIDA..., name: ... }}, recipients: [...] }}`)"
                ),
            );
        }
        return None;
    };
    let f = fields(cx, node, "ddex", DDEX_KEYS)?;
    let sender = match f.node("sender") {
        Some(n) => party(cx, n, "ddex.sender"),
        None => {
            f.missing(cx, "sender");
            None
        }
    };
    let recipients = match f.node("recipients") {
        None => {
            f.missing(cx, "recipients");
            None
        }
        Some(n) => match &n.value {
            Value::Seq(items) if !items.is_empty() => {
                let all: Vec<Option<DdexParty>> = items
                    .iter()
                    .enumerate()
                    .map(|(i, item)| party(cx, item, &format!("ddex.recipients[{}]", i + 1)))
                    .collect();
                all.into_iter().collect::<Option<Vec<_>>>()
            }
            Value::Seq(_) => {
                cx.error(
                    n.pos,
                    "`recipients` is empty: a message needs at least one recipient",
                );
                None
            }
            Value::Map(_) => party(cx, n, "ddex.recipients").map(|p| vec![p]),
            other => {
                cx.error(
                    n.pos,
                    format!(
                        "`recipients` must be a list of parties, found {}",
                        other.kind()
                    ),
                );
                None
            }
        },
    };
    let message_id = f.text(cx, "message_id");
    if let (Some(id), Some(n)) = (&message_id, f.node("message_id")) {
        if id.chars().count() > 100 {
            cx.error(n.pos, "`message_id` is longer than 100 characters");
        }
    }
    let release_date = release.and_then(|r| r.release_date.clone());
    let deals = match f.node("deal") {
        None => default_deals(release_date.clone()),
        Some(n) => match &n.value {
            Value::Seq(items) if items.is_empty() => {
                cx.error(n.pos, "`deal` is empty: list at least one deal, or leave `deal` out for worldwide streaming and download");
                None
            }
            Value::Seq(items) => {
                let all: Vec<Option<DdexDeal>> = items
                    .iter()
                    .enumerate()
                    .map(|(i, item)| {
                        deal(cx, item, &format!("ddex.deal[{}]", i + 1), &release_date)
                    })
                    .collect();
                all.into_iter().collect::<Option<Vec<_>>>()
            }
            _ => deal(cx, n, "ddex.deal", &release_date).map(|d| vec![d]),
        },
    };
    if f.node("deal").is_none() && release_date.is_none() && release.is_some() {
        cx.error(
            key_pos,
            "the DDEX deals start on `release.release_date`, which is missing: give it, or a `deal` with `start_date`",
        );
    }
    if let Some(r) = release {
        for (missing, what) in [
            (r.upc.is_none(), "`release.upc` (the message's ICPN)"),
            (r.genre.is_none(), "`release.genre` (the message's Genre)"),
        ] {
            if missing {
                cx.error(
                    key_pos,
                    format!("a DDEX message needs {what}, which is missing"),
                );
            }
        }
    }
    if bundles.is_empty() {
        cx.warn(
            key_pos,
            "no streaming bundle has `ddex: true`: no DDEX message is written",
        );
    }
    Some(Ddex {
        sender: sender?,
        recipients: recipients?,
        message_id,
        deals: deals?,
        bundles: bundles.into_iter().map(|(n, _)| n).collect(),
    })
}

/// Worldwide streaming (subscription and ad-supported) and download (pay
/// as you go) from the release date.
fn default_deals(start: Option<String>) -> Option<Vec<DdexDeal>> {
    let start = start?;
    let ww = vec!["Worldwide".to_owned()];
    let v = |s: &[&str]| s.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    Some(vec![
        DdexDeal {
            commercial_models: v(&["SubscriptionModel", "AdvertisementSupportedModel"]),
            use_types: v(&["OnDemandStream", "NonInteractiveStream"]),
            territories: ww.clone(),
            start_date: start.clone(),
        },
        DdexDeal {
            commercial_models: v(&["PayAsYouGoModel"]),
            use_types: v(&["PermanentDownload"]),
            territories: ww,
            start_date: start,
        },
    ])
}

fn party(cx: &mut Cx, node: &Node, name: &str) -> Option<DdexParty> {
    let f = fields(cx, node, name, PARTY_KEYS)?;
    let id = f.required_text(cx, "party_id");
    let full = f.required_text(cx, "name");
    let id = id.and_then(|id| match check_dpid(&id) {
        Ok(d) => Some(d),
        Err(e) => {
            cx.error(
                f.node("party_id").map_or(f.pos, |n| n.pos),
                format!("`{name}.party_id`: {e}"),
            );
            None
        }
    });
    Some(DdexParty {
        party_id: id?,
        name: full?,
    })
}

fn deal(cx: &mut Cx, node: &Node, name: &str, release_date: &Option<String>) -> Option<DdexDeal> {
    let f = fields(cx, node, name, DEAL_KEYS)?;
    let models = words(cx, &f, "commercial_models", COMMERCIAL_MODELS);
    let uses = words(cx, &f, "use_types", USE_TYPES);
    let territories = f.text_list(cx, "territories");
    let mut ok = models.is_some() && uses.is_some();
    if f.node("territories").is_none() {
        cx.error(
            f.pos,
            format!("`{name}` has no `territories`: a deal needs `territories: [Worldwide]` or ISO 3166-1 codes like [GB, IE]"),
        );
        ok = false;
    } else if territories.is_empty() {
        cx.error(
            f.key_pos("territories"),
            format!("`{name}.territories` is empty: name at least one territory"),
        );
        ok = false;
    }
    for t in &territories {
        let known = t == "Worldwide" || (t.len() == 2 && TERRITORIES.split(' ').any(|c| c == t));
        if !known {
            cx.error(
                f.node("territories").map_or(f.pos, |n| n.pos),
                format!("`{name}.territories`: \"{t}\" is not `Worldwide` or an ISO 3166-1 alpha-2 code DDEX knows (GB, US, DE, ...)"),
            );
            ok = false;
        }
    }
    let start = match f.text(cx, "start_date") {
        Some(d) => {
            if let Err(e) = super::release::check_date(&d) {
                cx.error(f.key_pos("start_date"), format!("`start_date` \"{d}\" {e}"));
                ok = false;
            }
            Some(d)
        }
        None => release_date.clone(),
    };
    if start.is_none() {
        cx.error(
            f.pos,
            format!("`{name}` needs `start_date`, as `release.release_date` is missing"),
        );
    }
    if !ok {
        return None;
    }
    Some(DdexDeal {
        commercial_models: models?,
        use_types: uses?,
        territories,
        start_date: start?,
    })
}

/// A required, non-empty list of DDEX words from `allowed`.
fn words(cx: &mut Cx, f: &Fields<'_>, key: &str, allowed: &[&str]) -> Option<Vec<String>> {
    let Some(node) = f.node(key) else {
        f.missing(cx, key);
        return None;
    };
    let list = f.text_list(cx, key);
    if list.is_empty() {
        cx.error(node.pos, format!("`{key}` is empty"));
        return None;
    }
    let mut ok = true;
    for w in &list {
        if !allowed.contains(&w.as_str()) {
            let hint = suggest(w, allowed)
                .map(|s| format!("did you mean `{s}`? "))
                .unwrap_or_default();
            cx.error(
                node.pos,
                format!(
                    "`{key}`: \"{w}\" is not a DDEX value; {hint}allowed: {}",
                    allowed.join(", ")
                ),
            );
            ok = false;
        }
    }
    ok.then_some(list)
}
