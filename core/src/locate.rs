//! Where things are in JSON text: JSON pointers ↔ line and column.
//!
//! The checker reports problems by JSON pointer (it works on the parsed form);
//! designers need `file:line:col`. This is a small tolerant scanner over the
//! source text: it never recurses (forms nested thousands deep are fine), stops
//! quietly at malformed input, and visits each value once, so resolving 10,000
//! pointers in a 50 MB file is one pass.

use crate::collections::{Map, Set};

/// A 1-based line and column; the column counts characters, not bytes, as editors do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Position {
    pub line: usize,
    pub column: usize,
}

/// Escape one reference token of a JSON pointer (`~` → `~0`, `/` → `~1`).
pub fn escape_token(token: &str) -> String {
    if token.contains(['~', '/']) {
        token.replace('~', "~0").replace('/', "~1")
    } else {
        token.to_owned()
    }
}

/// Byte offset where the value at each of `pointers` starts; pointers not found are absent.
pub fn value_offsets(text: &str, pointers: &Set<&str>) -> Map<String, usize> {
    let mut found = Map::with_capacity_and_hasher(pointers.len(), Default::default());
    if pointers.is_empty() {
        return found;
    }
    scan(text, None, |pointer, offset| {
        if pointers.contains(pointer) {
            found.insert(pointer.to_owned(), offset);
        }
        found.len() < pointers.len()
    });
    found
}

/// The pointer of the innermost value (or object member) being read at byte `offset`.
pub fn pointer_at(text: &str, offset: usize) -> String {
    scan(text, Some(offset), |_, _| true).unwrap_or_default()
}

/// Line and column of a byte offset (clamped to the text, and to a character boundary).
pub fn position_of(text: &str, offset: usize) -> Position {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &text[..offset];
    let line = before.bytes().filter(|&b| b == b'\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before[line_start..].chars().count() + 1;
    Position { line, column }
}

/// Line/column of many offsets at once, in one pass over the text.
pub fn positions_of(text: &str, offsets: &[usize]) -> Vec<Position> {
    let mut order: Vec<usize> = (0..offsets.len()).collect();
    order.sort_by_key(|&i| offsets[i]);
    let mut out = vec![Position { line: 1, column: 1 }; offsets.len()];
    let (mut line, mut line_start, mut cursor) = (1usize, 0usize, 0usize);
    for i in order {
        let mut target = offsets[i].min(text.len());
        while !text.is_char_boundary(target) {
            target -= 1;
        }
        for (j, b) in text.as_bytes()[cursor..target].iter().enumerate() {
            if *b == b'\n' {
                line += 1;
                line_start = cursor + j + 1;
            }
        }
        cursor = target.max(cursor);
        let column = text[line_start..target.max(line_start)].chars().count() + 1;
        out[i] = Position { line, column };
    }
    out
}

/// Byte offset in `text` of byte `decoded_offset` of the string value that starts at
/// `value_offset` (its opening quote), accounting for escapes like `\"` and `\u00e9`.
///
/// Used to place an expression error (a span inside the decoded string) in the file.
pub fn string_offset(text: &str, value_offset: usize, decoded_offset: usize) -> usize {
    let bytes = text.as_bytes();
    if bytes.get(value_offset) != Some(&b'"') {
        return value_offset;
    }
    let mut raw = value_offset + 1;
    let mut decoded = 0usize;
    while raw < bytes.len() && decoded < decoded_offset {
        match bytes[raw] {
            b'"' => break,
            b'\\' => {
                let escape = bytes.get(raw + 1).copied().unwrap_or(b'\\');
                if escape == b'u' {
                    let code = text
                        .get(raw + 2..raw + 6)
                        .and_then(|h| u32::from_str_radix(h, 16).ok())
                        .unwrap_or(0);
                    // A surrogate pair is two escapes for one 4-byte character.
                    if (0xD800..0xDC00).contains(&code) {
                        raw += 12;
                        decoded += 4;
                    } else {
                        raw += 6;
                        decoded += char::from_u32(code).map_or(3, char::len_utf8);
                    }
                } else {
                    raw += 2;
                    decoded += 1;
                }
            }
            b => {
                let width = utf8_width(b);
                raw += width;
                decoded += width;
            }
        }
    }
    raw.min(text.len())
}

fn utf8_width(first: u8) -> usize {
    match first {
        0x00..=0x7F => 1,
        0xC0..=0xDF => 2,
        0xE0..=0xEF => 3,
        _ => 4,
    }
}

enum Frame {
    /// Inside an object; `pointer_len` is the pointer length without the member's token.
    Object { pointer_len: usize },
    Array {
        pointer_len: usize,
        next_index: usize,
    },
}

#[derive(Clone, Copy, PartialEq)]
enum Expect {
    Value,
    /// After a value: `,` or the container's close.
    AfterValue,
    /// After `{` or `,` in an object: a key (or `}` right after `{`).
    Key,
    /// After `[`: a value or `]`.
    FirstElement,
}

/// Walk the text, calling `visit(pointer, offset)` at the start of every value until it
/// returns false. With `stop_at`, returns the pointer being read when reaching that offset.
fn scan(
    text: &str,
    stop_at: Option<usize>,
    mut visit: impl FnMut(&str, usize) -> bool,
) -> Option<String> {
    let bytes = text.as_bytes();
    let mut stack: Vec<Frame> = Vec::new();
    let mut pointer = String::new();
    let mut expect = Expect::Value;
    let mut i = 0usize;
    loop {
        while i < bytes.len() && bytes[i].is_ascii_whitespace() {
            i += 1;
        }
        if let Some(stop) = stop_at {
            if i >= stop || i >= bytes.len() {
                // Between array elements, the array itself is being read.
                if let (Expect::AfterValue, Some(Frame::Array { pointer_len, .. })) =
                    (expect, stack.last())
                {
                    pointer.truncate(*pointer_len);
                }
                return Some(pointer);
            }
        }
        let &b = bytes.get(i)?;
        match expect {
            Expect::Key => {
                if b == b'}' {
                    i += 1;
                    close(&mut stack, &mut pointer);
                    expect = Expect::AfterValue;
                    continue;
                }
                if b != b'"' {
                    return stop_at.map(|_| pointer);
                }
                let end = string_end(bytes, i);
                let key: String = serde_json::from_str(&text[i..end]).unwrap_or_default();
                pointer.push('/');
                pointer.push_str(&escape_token(&key));
                i = end;
                while i < bytes.len() && bytes[i].is_ascii_whitespace() {
                    i += 1;
                }
                if bytes.get(i) != Some(&b':') {
                    return stop_at.map(|_| pointer);
                }
                i += 1;
                expect = Expect::Value;
            }
            Expect::FirstElement if b == b']' => {
                i += 1;
                close(&mut stack, &mut pointer);
                expect = Expect::AfterValue;
            }
            Expect::Value | Expect::FirstElement => {
                if expect == Expect::FirstElement {
                    pointer.push_str("/0");
                }
                if !visit(&pointer, i) {
                    return None;
                }
                match b {
                    b'{' => {
                        stack.push(Frame::Object {
                            pointer_len: pointer.len(),
                        });
                        i += 1;
                        expect = Expect::Key;
                    }
                    b'[' => {
                        stack.push(Frame::Array {
                            pointer_len: pointer.len(),
                            next_index: 1,
                        });
                        i += 1;
                        expect = Expect::FirstElement;
                    }
                    b'"' => {
                        i = string_end(bytes, i);
                        end_value(&stack, &mut pointer);
                        expect = Expect::AfterValue;
                    }
                    _ => {
                        while i < bytes.len()
                            && !matches!(bytes[i], b',' | b'}' | b']')
                            && !bytes[i].is_ascii_whitespace()
                        {
                            i += 1;
                        }
                        end_value(&stack, &mut pointer);
                        expect = Expect::AfterValue;
                    }
                }
            }
            Expect::AfterValue => match (b, stack.last_mut()) {
                (b',', Some(Frame::Object { .. })) => {
                    i += 1;
                    expect = Expect::Key;
                }
                (
                    b',',
                    Some(Frame::Array {
                        pointer_len,
                        next_index,
                    }),
                ) => {
                    pointer.truncate(*pointer_len);
                    pointer.push('/');
                    pointer.push_str(&next_index.to_string());
                    *next_index += 1;
                    i += 1;
                    expect = Expect::Value;
                }
                (b'}', Some(Frame::Object { .. })) | (b']', Some(Frame::Array { .. })) => {
                    i += 1;
                    close(&mut stack, &mut pointer);
                    expect = Expect::AfterValue;
                }
                _ => return stop_at.map(|_| pointer),
            },
        }
    }
}

/// A scalar value ended: drop its token if it was an object member.
fn end_value(stack: &[Frame], pointer: &mut String) {
    if let Some(Frame::Object { pointer_len }) = stack.last() {
        pointer.truncate(*pointer_len);
    }
}

/// A container closed: back to the container's own pointer, then end it as a value.
fn close(stack: &mut Vec<Frame>, pointer: &mut String) {
    if let Some(Frame::Object { pointer_len } | Frame::Array { pointer_len, .. }) = stack.pop() {
        pointer.truncate(pointer_len);
    }
    end_value(stack, pointer);
}

/// Offset just past the closing quote of the string starting at `start`.
fn string_end(bytes: &[u8], start: usize) -> usize {
    let mut i = start + 1;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 2,
            b'"' => return i + 1,
            _ => i += 1,
        }
    }
    bytes.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOC: &str = "{\n  \"id\": \"f\",\n  \"body\": [\n    {\"type\": \"text\", \"name\": \"a/b\"},\n    {\"type\": \"group\", \"body\": [ {\"name\": \"x\"} ]}\n  ],\n  \"e\": [], \"o\": {}\n}";

    fn at(pointer: &str) -> Option<Position> {
        let set = Set::from_iter([pointer]);
        value_offsets(DOC, &set)
            .get(pointer)
            .map(|&o| position_of(DOC, o))
    }

    #[test]
    fn pointers_resolve_to_the_start_of_their_value() {
        let cases = [
            ("", Some((1, 1))),
            ("/id", Some((2, 9))),
            ("/body", Some((3, 11))),
            ("/body/0", Some((4, 5))),
            ("/body/0/name", Some((4, 30))),
            ("/body/1/body/0/name", Some((5, 42))),
            ("/e", Some((7, 8))),
            ("/o", Some((7, 17))),
            ("/body/2", None),
            ("/missing", None),
        ];
        for (pointer, expected) in cases {
            let got = at(pointer).map(|p| (p.line, p.column));
            assert_eq!(got, expected, "{pointer}");
        }
    }

    #[test]
    fn offsets_map_back_to_pointers() {
        let offset = DOC.find("\"a/b\"").unwrap();
        assert_eq!(pointer_at(DOC, offset), "/body/0/name");
        let offset = DOC.find("\"x\"").unwrap();
        assert_eq!(pointer_at(DOC, offset), "/body/1/body/0/name");
        let offset = DOC.find("]}\n  ],").unwrap();
        assert_eq!(pointer_at(DOC, offset), "/body/1/body");
    }

    #[test]
    fn escaped_keys_use_pointer_escapes() {
        let doc = r#"{"a/b": {"c~d": 1}}"#;
        let set = Set::from_iter(["/a~1b/c~0d"]);
        assert_eq!(value_offsets(doc, &set)["/a~1b/c~0d"], 16);
    }

    #[test]
    fn columns_count_characters_and_escapes_inside_strings() {
        let doc = "{\"label\": \"é\\\"x ${q}\"}";
        let set = Set::from_iter(["/label"]);
        let start = value_offsets(doc, &set)["/label"];
        // decoded: é (2 bytes) " x space → `$` is decoded byte 5
        let raw = string_offset(doc, start, 5);
        assert_eq!(&doc[raw..raw + 1], "$");
        assert_eq!(position_of(doc, raw).column, 17);
        let unicode = "{\"e\": \"\\u00e9${q}\"}";
        let start = value_offsets(unicode, &Set::from_iter(["/e"]))["/e"];
        let raw = string_offset(unicode, start, 2);
        assert_eq!(&unicode[raw..raw + 1], "$");
    }

    #[test]
    fn deep_nesting_does_not_recurse() {
        let depth = 5_000;
        let doc = format!("{}1{}", "[".repeat(depth), "]".repeat(depth));
        let pointer = "/0".repeat(depth - 1);
        let set = Set::from_iter([pointer.as_str()]);
        assert_eq!(value_offsets(&doc, &set)[&pointer], depth - 1);
    }

    #[test]
    fn malformed_text_stops_quietly() {
        for doc in [
            "",
            "{",
            "{\"a\"",
            "{\"a\": [1,",
            "[}",
            "{\"a\" 1}",
            "\"unterminated",
        ] {
            let set = Set::from_iter(["/a/0", ""]);
            let _ = value_offsets(doc, &set);
            let _ = pointer_at(doc, doc.len());
        }
    }

    #[test]
    fn many_positions_in_one_pass_match_single_lookups() {
        let offsets: Vec<usize> = (0..DOC.len()).rev().step_by(3).collect();
        let many = positions_of(DOC, &offsets);
        for (offset, pos) in offsets.iter().zip(many) {
            assert_eq!(position_of(DOC, *offset), pos, "offset {offset}");
        }
    }
}
