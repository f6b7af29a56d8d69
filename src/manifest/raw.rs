//! The manifest as written: a YAML tree in which every node and every key
//! keeps its line and column.
//!
//! serde-saphyr parses the text (rejecting duplicate keys, and bounding
//! nesting, node count and size through its budget); each node arrives as a
//! [`serde_saphyr::Spanned`] value, so that [`super::validate`] can report
//! *every* problem of a manifest at once, each at its place, instead of
//! stopping at the first one as a derived `Deserialize` would.

use std::fmt;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_saphyr::Spanned;

/// Largest manifest accepted, in bytes. A real one is a few kilobytes.
pub const MAX_MANIFEST_BYTES: usize = 1 << 20;

/// A 1-based line and column in the manifest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct Pos {
    pub line: u32,
    pub column: u32,
}

impl Pos {
    fn from_location(loc: serde_saphyr::Location) -> Pos {
        Pos {
            line: loc.line() as u32,
            column: loc.column() as u32,
        }
    }
}

/// A scalar, sequence or mapping as the YAML parser typed it.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    Seq(Vec<Node>),
    Map(Vec<(Key, Node)>),
}

/// A value with its place in the file.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub pos: Pos,
    pub value: Value,
}

/// A mapping key with its place in the file.
#[derive(Debug, Clone, PartialEq)]
pub struct Key {
    pub pos: Pos,
    pub name: String,
}

impl Value {
    /// What the value is, for "expected a number, found a list" messages.
    pub fn kind(&self) -> &'static str {
        match self {
            Value::Null => "nothing (null)",
            Value::Bool(_) => "true/false",
            Value::Int(_) => "a whole number",
            Value::Float(_) => "a number",
            Value::Str(_) => "text",
            Value::Seq(_) => "a list",
            Value::Map(_) => "a mapping",
        }
    }
}

impl Node {
    /// The entries of a mapping node, or `None`.
    pub fn as_map(&self) -> Option<&[(Key, Node)]> {
        match &self.value {
            Value::Map(m) => Some(m),
            _ => None,
        }
    }
}

/// Why the text is not YAML at all (or is too large), with its place when known.
#[derive(Debug, Clone, PartialEq)]
pub struct SyntaxError {
    pub pos: Option<Pos>,
    pub message: String,
}

/// Parses manifest text into a spanned tree. An empty document is `Null`.
pub fn parse(text: &str) -> Result<Node, SyntaxError> {
    if text.len() > MAX_MANIFEST_BYTES {
        return Err(SyntaxError {
            pos: None,
            message: format!(
                "the manifest is {} bytes; the largest accepted is {} bytes",
                text.len(),
                MAX_MANIFEST_BYTES
            ),
        });
    }
    if text.trim().is_empty() {
        return Ok(Node {
            pos: Pos { line: 1, column: 1 },
            value: Value::Null,
        });
    }
    let options = serde_saphyr::options! {
        budget: serde_saphyr::budget! {
            max_depth: 32,
            max_nodes: 100_000,
            max_events: 200_000,
            max_aliases: 1_000,
            max_anchors: 1_000,
            max_total_scalar_bytes: 4 << 20,
            max_recorded_anchor_events: 100_000,
            max_documents: 1,
        },
        with_snippet: false,
    };
    let root: Result<Spanned<Value>, _> = serde_saphyr::from_str_with_options(text, options);
    match root {
        Ok(s) => Ok(Node {
            pos: Pos::from_location(s.referenced),
            value: s.value,
        }),
        Err(e) => {
            let pos = e
                .location()
                .filter(|l| l.line() > 0)
                .map(Pos::from_location);
            Err(SyntaxError {
                pos,
                message: clean_message(&e.without_snippet().to_string()),
            })
        }
    }
}

/// serde-saphyr's message, without a trailing " at line X column Y" that the
/// diagnostic already carries.
fn clean_message(msg: &str) -> String {
    let first = msg.lines().next().unwrap_or(msg).trim();
    let cut = first
        .find(" at line ")
        .map(|i| &first[..i])
        .unwrap_or(first);
    // Drop advice meant for programmers ("set DuplicateKeyPolicy in Options").
    let cut = cut.find(", set ").map(|i| &cut[..i]).unwrap_or(cut);
    if cut.contains("budget breached") || cut.contains("recursion limit") {
        return format!(
            "refused: the YAML nests or expands past the limits of a release manifest \
             (depth 32, 100000 nodes, 1000 anchors and aliases; budget: {})",
            cut.trim_start_matches("budget breached: ")
        );
    }
    if let Some(key) = cut.strip_prefix("duplicate mapping key: ") {
        return format!("the key `{key}` is given twice in the same mapping");
    }
    format!("invalid YAML: {}", cut.trim_end_matches(['.', ':']))
}

struct ValueVisitor;

impl<'de> Visitor<'de> for ValueVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any YAML value")
    }
    fn visit_unit<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_none<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        Value::deserialize(d)
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Int(v))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Value, E> {
        Ok(i64::try_from(v)
            .map(Value::Int)
            .unwrap_or(Value::Float(v as f64)))
    }
    fn visit_i128<E: de::Error>(self, v: i128) -> Result<Value, E> {
        Ok(i64::try_from(v)
            .map(Value::Int)
            .unwrap_or(Value::Float(v as f64)))
    }
    fn visit_u128<E: de::Error>(self, v: u128) -> Result<Value, E> {
        Ok(i64::try_from(v)
            .map(Value::Int)
            .unwrap_or(Value::Float(v as f64)))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Value, E> {
        Ok(Value::Float(v))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Value, E> {
        Ok(Value::Str(v.to_owned()))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Value, E> {
        Ok(Value::Str(v))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element::<Spanned<Value>>()? {
            items.push(Node {
                pos: Pos::from_location(item.referenced),
                value: item.value,
            });
        }
        Ok(Value::Seq(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut entries = Vec::new();
        while let Some(key) = map.next_key::<Spanned<Value>>()? {
            let value: Spanned<Value> = map.next_value()?;
            let name = match key.value {
                Value::Str(s) => s,
                Value::Int(i) => i.to_string(),
                Value::Float(f) => f.to_string(),
                Value::Bool(b) => b.to_string(),
                Value::Null => "null".to_owned(),
                Value::Seq(_) | Value::Map(_) => {
                    return Err(de::Error::custom("a mapping key must be a plain word"))
                }
            };
            entries.push((
                Key {
                    pos: Pos::from_location(key.referenced),
                    name,
                },
                Node {
                    pos: Pos::from_location(value.referenced),
                    value: value.value,
                },
            ));
        }
        Ok(Value::Map(entries))
    }
}

impl<'de> Deserialize<'de> for Value {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Value, D::Error> {
        d.deserialize_any(ValueVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_positions_of_nested_nodes() {
        let text = "a: 1\nb:\n  - x\n  - { c: 2.5, d: \"3:20\" }\nrel: 2026-12-04\n";
        let root = parse(text).unwrap();
        let map = root.as_map().unwrap();
        assert_eq!(map[0].0.name, "a");
        assert_eq!(map[0].0.pos, Pos { line: 1, column: 1 });
        assert_eq!(map[0].1.value, Value::Int(1));
        assert_eq!(map[0].1.pos, Pos { line: 1, column: 4 });
        let Value::Seq(items) = &map[1].1.value else {
            panic!("not a seq")
        };
        assert_eq!(items[0].pos, Pos { line: 3, column: 5 });
        let inner = items[1].as_map().unwrap();
        assert_eq!(inner[0].0.name, "c");
        assert_eq!(inner[0].1.value, Value::Float(2.5));
        assert_eq!(inner[1].1.value, Value::Str("3:20".into()));
        assert_eq!(inner[1].1.pos.line, 4);
        assert_eq!(map[2].1.value, Value::Str("2026-12-04".into()));
    }

    #[test]
    fn rejects_duplicate_keys_with_a_place() {
        let err = parse("a: 1\nb: 2\na: 3\n").unwrap_err();
        assert_eq!(err.pos.map(|p| p.line), Some(3), "{err:?}");
        assert!(err.message.contains("given twice"), "{}", err.message);
    }

    #[test]
    fn refuses_a_billion_laughs_quickly() {
        let mut text = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..12 {
            let p = i - 1;
            text.push_str(&format!(
                "a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"
            ));
        }
        let t = std::time::Instant::now();
        let err = parse(&text).unwrap_err();
        assert!(t.elapsed().as_secs_f64() < 2.0);
        assert!(!err.message.is_empty());
    }
}
