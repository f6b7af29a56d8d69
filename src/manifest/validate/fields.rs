//! The typed readers every section uses: a mapping's known keys (an
//! unknown one is reported with the nearest known key), text, numbers in a
//! range, whole numbers, booleans, times and choices, each reporting a bad
//! value at its place and returning `None` so that validation goes on.

use std::collections::BTreeMap;

use super::Cx;
use crate::manifest::diagnostic::num;
use crate::manifest::raw::{Key, Node, Pos, Value};
use crate::manifest::time::parse_time;

/// The keys of one mapping, after unknown keys were reported.
pub(super) struct Fields<'n> {
    /// What the mapping is called in messages: `release`, `track 2`, ...
    pub(super) name: String,
    pub(super) pos: Pos,
    pub(super) map: BTreeMap<&'n str, (&'n Key, &'n Node)>,
    /// Known keys suggested for misspelt ones: not reported missing again.
    pub(super) suggested: Vec<&'static str>,
}

/// Opens a mapping: reports a non-mapping value and every unknown key.
pub(super) fn fields<'n>(
    cx: &mut Cx,
    node: &'n Node,
    name: &str,
    known: &[&'static str],
) -> Option<Fields<'n>> {
    let Some(entries) = node.as_map() else {
        let what = if name == "the manifest" {
            "the manifest must be a mapping of keys (`glassmaster: 1`, `release:`, `tracks:`, ...)"
                .to_owned()
        } else {
            format!("{} must be a mapping of keys", called(name))
        };
        cx.error(node.pos, format!("{what}, found {}", shown(&node.value)));
        return None;
    };
    let mut map = BTreeMap::new();
    let mut suggested = Vec::new();
    for (key, value) in entries {
        if known.contains(&key.name.as_str()) {
            map.insert(key.name.as_str(), (key, value));
        } else {
            let hint = match suggest_key(&key.name, &value.value, known) {
                Some(s) => {
                    suggested.push(s);
                    format!("; did you mean `{s}`?")
                }
                None => format!("; known keys: {}", known.join(", ")),
            };
            cx.error(
                key.pos,
                format!("unknown key `{}` in {}{hint}", key.name, called(name)),
            );
        }
    }
    Some(Fields {
        name: name.to_owned(),
        pos: node.pos,
        map,
        suggested,
    })
}

/// A value for a message: `text "loud"`, `the number 5`, `a list`.
pub(super) fn shown(v: &Value) -> String {
    match v {
        Value::Str(s) => format!("text \"{s}\""),
        Value::Int(i) => format!("the number {i}"),
        Value::Float(f) => format!("the number {}", num(*f)),
        Value::Bool(b) => format!("`{b}`"),
        other => other.kind().to_owned(),
    }
}

/// The known key nearest to `word` by edit distance, if near enough.
pub fn suggest<'a>(word: &str, known: &[&'a str]) -> Option<&'a str> {
    let w = word.to_ascii_lowercase().replace('-', "_");
    known
        .iter()
        .map(|k| (edit_distance(&w, k), *k))
        .filter(|(d, k)| *d <= 2.max(k.len() / 3))
        .min_by_key(|(d, _)| *d)
        .map(|(_, k)| k)
}

/// A mapping's name in a message: `release`, `mastering`, but "track 5"
/// as the rest of the tool says it.
fn called(name: &str) -> String {
    if name.starts_with("track ") {
        name.to_owned()
    } else {
        format!("`{name}`")
    }
}

/// The units a key's name ends with when it takes a number.
const UNITS: &[&str] = &[
    "_db", "_dbtp", "_dbfs", "_lufs", "_lu", "_s", "_ms", "_hz", "_kbps",
];

/// A numeric key's name without its unit (`gain_db` → `gain`).
fn unit_stem(key: &str) -> Option<&str> {
    UNITS.iter().find_map(|u| key.strip_suffix(u))
}

/// The known key to suggest for the unknown `word` holding `value`: a key
/// that takes the same kind of value first, so that `gain: -6` suggests
/// `gain_db` (the number's key, its unit left out) and not `chain` (one
/// letter away, but a list of stages); a mapping or a list is never sent
/// to a key with a unit. Else the nearest key by edit distance.
pub fn suggest_key<'a>(word: &str, value: &Value, known: &[&'a str]) -> Option<&'a str> {
    let w = word.to_ascii_lowercase().replace('-', "_");
    match value {
        Value::Int(_) | Value::Float(_) => {
            let near = known
                .iter()
                .filter_map(|k| {
                    let stem = unit_stem(k)?;
                    Some((edit_distance(&w, stem).min(edit_distance(&w, k)), *k))
                })
                .filter(|(d, k)| *d <= 2.max(k.len() / 3))
                .min_by_key(|(d, _)| *d)
                .map(|(_, k)| k);
            near.or_else(|| suggest(word, known))
        }
        Value::Map(_) | Value::Seq(_) => {
            let plain: Vec<&'a str> = known
                .iter()
                .copied()
                .filter(|k| unit_stem(k).is_none())
                .collect();
            suggest(word, &plain)
        }
        _ => suggest(word, known),
    }
}

pub(super) fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for i in 1..=a.len() {
        let mut cur = vec![i; b.len() + 1];
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            cur[j] = (prev[j] + 1).min(cur[j - 1] + 1).min(prev[j - 1] + cost);
        }
        prev = cur;
    }
    prev[b.len()]
}

impl<'n> Fields<'n> {
    pub(super) fn node(&self, key: &str) -> Option<&'n Node> {
        self.map
            .get(key)
            .map(|(_, n)| *n)
            .filter(|n| n.value != Value::Null)
    }

    pub(super) fn key_pos(&self, key: &str) -> Pos {
        self.map.get(key).map(|(k, _)| k.pos).unwrap_or(self.pos)
    }

    pub(super) fn missing(&self, cx: &mut Cx, key: &str) {
        if self.suggested.contains(&key) {
            return;
        }
        cx.error(
            self.pos,
            format!("{} needs `{key}`, which is missing", called(&self.name)),
        );
    }

    /// A text value; numbers and booleans written unquoted count as text.
    pub(super) fn text(&self, cx: &mut Cx, key: &str) -> Option<String> {
        let node = self.node(key)?;
        match &node.value {
            Value::Str(s) if s.trim().is_empty() => {
                cx.error(node.pos, format!("`{key}` is empty"));
                None
            }
            Value::Str(s) => {
                if let Some(why) = control_char(key, s) {
                    cx.error(node.pos, why);
                    return None;
                }
                Some(s.clone())
            }
            Value::Int(i) => Some(i.to_string()),
            Value::Float(f) => Some(num(*f)),
            Value::Bool(b) => Some(b.to_string()),
            other => {
                cx.error(
                    node.pos,
                    format!("`{key}` must be text, found {}", shown(other)),
                );
                None
            }
        }
    }

    pub(super) fn required_text(&self, cx: &mut Cx, key: &str) -> Option<String> {
        if self.node(key).is_none() {
            self.missing(cx, key);
            return None;
        }
        self.text(cx, key)
    }

    pub(super) fn number(
        &self,
        cx: &mut Cx,
        key: &str,
        unit: &str,
        lo: f64,
        hi: f64,
    ) -> Option<f64> {
        let node = self.node(key)?;
        let v = match &node.value {
            Value::Int(i) => *i as f64,
            Value::Float(f) => *f,
            other => {
                cx.error(
                    node.pos,
                    format!("`{key}` must be a number, found {}", shown(other)),
                );
                return None;
            }
        };
        if !v.is_finite() || v < lo || v > hi {
            cx.error(
                node.pos,
                format!(
                    "`{key}` is {}{unit}; it must be between {} and {}{unit}",
                    num(v),
                    num(lo),
                    num(hi)
                ),
            );
            return None;
        }
        Some(v)
    }

    pub(super) fn integer(&self, cx: &mut Cx, key: &str, lo: i64, hi: i64) -> Option<i64> {
        let node = self.node(key)?;
        match &node.value {
            Value::Int(i) if (lo..=hi).contains(i) => Some(*i),
            Value::Int(i) => {
                cx.error(
                    node.pos,
                    format!("`{key}` is {i}; it must be between {lo} and {hi}"),
                );
                None
            }
            other => {
                cx.error(
                    node.pos,
                    format!("`{key}` must be a whole number, found {}", shown(other)),
                );
                None
            }
        }
    }

    pub(super) fn boolean(&self, cx: &mut Cx, key: &str) -> Option<bool> {
        let node = self.node(key)?;
        match &node.value {
            Value::Bool(b) => Some(*b),
            other => {
                cx.error(
                    node.pos,
                    format!("`{key}` must be true or false, found {}", shown(other)),
                );
                None
            }
        }
    }

    /// A time in any of the three notations, in seconds.
    pub(super) fn time(&self, cx: &mut Cx, key: &str) -> Option<f64> {
        let node = self.node(key)?;
        time_value(cx, node, key)
    }

    /// One of a fixed set of words.
    pub(super) fn choice<T: Copy>(
        &self,
        cx: &mut Cx,
        key: &str,
        options: &[(&str, T)],
    ) -> Option<T> {
        let node = self.node(key)?;
        choice_value(cx, node, key, options)
    }

    pub(super) fn text_list(&self, cx: &mut Cx, key: &str) -> Vec<String> {
        let Some(node) = self.node(key) else {
            return Vec::new();
        };
        match &node.value {
            Value::Str(s) => match control_char(key, s) {
                Some(why) => {
                    cx.error(node.pos, why);
                    Vec::new()
                }
                None => vec![s.clone()],
            },
            Value::Seq(items) => items
                .iter()
                .filter_map(|item| match &item.value {
                    Value::Str(s) => match control_char(key, s) {
                        Some(why) => {
                            cx.error(item.pos, why);
                            None
                        }
                        None => Some(s.clone()),
                    },
                    other => {
                        cx.error(
                            item.pos,
                            format!("`{key}` must list text, found {}", other.kind()),
                        );
                        None
                    }
                })
                .collect(),
            other => {
                cx.error(
                    node.pos,
                    format!("`{key}` must be a list of names, found {}", other.kind()),
                );
                Vec::new()
            }
        }
    }
}

/// The value of `key` in the mapping `node`, as written.
pub(super) fn child<'n>(node: &'n Node, key: &str) -> Option<&'n Node> {
    node.as_map()?
        .iter()
        .find(|(k, _)| k.name == key)
        .map(|(_, v)| v)
}

/// Text fields that may hold several lines: newline and tab are allowed
/// there, and only there.
const MULTI_LINE_KEYS: &[&str] = &["lyrics"];

/// Why `text` cannot be the value of `key`: a control character (C0, DEL
/// or C1; newline and tab only in [`MULTI_LINE_KEYS`]), which would cut a
/// tag at a NUL or break a CUE, TOC or CD-Text line.
pub(super) fn control_char(key: &str, text: &str) -> Option<String> {
    let multi = MULTI_LINE_KEYS.contains(&key);
    let (at, c) = text
        .chars()
        .enumerate()
        .find(|(_, c)| c.is_control() && !(multi && matches!(c, '\n' | '\t')))?;
    let allowed = if multi {
        "only line breaks and tabs are allowed here"
    } else {
        "text fields cannot hold them (only `lyrics` may have line breaks and tabs)"
    };
    Some(format!(
        "`{key}` has the control character U+{:04X} at character {}; {allowed}",
        u32::from(c),
        at + 1
    ))
}

pub(super) fn time_value(cx: &mut Cx, node: &Node, key: &str) -> Option<f64> {
    let parsed = match &node.value {
        Value::Int(i) => Ok(*i as f64),
        Value::Float(f) => Ok(*f),
        Value::Str(s) => parse_time(s),
        other => Err(format!("found {}", shown(other))),
    };
    match parsed {
        Ok(t) if t.is_finite() && t >= 0.0 => Some(t),
        Ok(t) if !t.is_finite() => {
            cx.error(
                node.pos,
                format!("`{key}` is {} s; a time must be a finite number", num(t)),
            );
            None
        }
        Ok(t) => {
            cx.error(
                node.pos,
                format!("`{key}` is {} s; a time cannot be negative", num(t)),
            );
            None
        }
        Err(why) => {
            cx.error(
                node.pos,
                format!(
                    "`{key}` is not a time ({why}): write seconds (2.5), minutes and \
                     seconds (\"3:20.250\") or CD frames (\"03:20:18\")"
                ),
            );
            None
        }
    }
}

pub(super) fn choice_value<T: Copy>(
    cx: &mut Cx,
    node: &Node,
    key: &str,
    options: &[(&str, T)],
) -> Option<T> {
    let names: Vec<&str> = options.iter().map(|(n, _)| *n).collect();
    // YAML 1.1 reads a bare `off` as false: take it as the word it was.
    if node.value == Value::Bool(false) {
        if let Some((_, v)) = options.iter().find(|(n, _)| *n == "off") {
            return Some(*v);
        }
    }
    match &node.value {
        Value::Str(s) => {
            if let Some((_, v)) = options.iter().find(|(n, _)| n == s) {
                return Some(*v);
            }
            let hint = suggest(s, &names)
                .map(|n| format!(" (did you mean `{n}`?)"))
                .unwrap_or_default();
            cx.error(
                node.pos,
                format!(
                    "`{key}` is \"{s}\"; it must be one of {}{hint}",
                    names.join(", ")
                ),
            );
            None
        }
        other => {
            cx.error(
                node.pos,
                format!(
                    "`{key}` must be one of {}, found {}",
                    names.join(", "),
                    shown(other)
                ),
            );
            None
        }
    }
}

/// A stage's settings mapping; `limiter:` with nothing after it is an
/// empty mapping (all defaults).
pub(super) fn settings<'n>(
    cx: &mut Cx,
    node: &'n Node,
    name: &str,
    known: &[&'static str],
) -> Option<Fields<'n>> {
    if node.value == Value::Null {
        return Some(Fields {
            name: name.to_owned(),
            pos: node.pos,
            map: BTreeMap::new(),
            suggested: Vec::new(),
        });
    }
    fields(cx, node, name, known)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::validate::mastering::MASTERING_KEYS;
    use crate::manifest::validate::release::RELEASE_KEYS;

    #[test]
    fn suggestions() {
        assert_eq!(
            suggest("true_peak_dbt", MASTERING_KEYS),
            Some("true_peak_dbtp")
        );
        assert_eq!(suggest("titel", RELEASE_KEYS), Some("title"));
        assert_eq!(suggest("zzzzzz", RELEASE_KEYS), None);
        use crate::manifest::validate::tracks::TRACK_KEYS;
        // A number goes to the key that takes one, not to the nearest name.
        assert_eq!(suggest("gain", TRACK_KEYS), Some("chain"));
        assert_eq!(
            suggest_key("gain", &Value::Float(-6.0), TRACK_KEYS),
            Some("gain_db")
        );
        assert_eq!(
            suggest_key("gain", &Value::Int(-6), TRACK_KEYS),
            Some("gain_db")
        );
        assert_eq!(
            suggest_key("target", &Value::Int(-14), MASTERING_KEYS),
            Some("target_lufs")
        );
        assert_eq!(
            suggest_key("chian", &Value::Seq(Vec::new()), TRACK_KEYS),
            Some("chain")
        );
    }
}
