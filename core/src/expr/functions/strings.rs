//! The string functions: XPath's (`concat`, `substring`, `translate`…), ODK's
//! (`join`, `substr`, `uuid`, `digest`, `base64-decode`).

use base64::Engine as _;

use crate::expr::value::{format_number, trim_xml, Value};
use crate::expr::{ErrorKind, ExprError};

use super::args::{err, num, text, Args};
use super::numbers::xpath_round;

/// `string()`: its argument's string value, or the focus node's without one.
pub(super) fn string(a: &mut Args<'_, '_, '_>) -> Result<Value, ExprError> {
    Ok(match a.len() {
        0 => text(
            a.focus
                .node
                .map(|n| a.ev.ctx.value(n).into_owned())
                .unwrap_or_default(),
        ),
        _ => text(a.string(0)?),
    })
}

pub(super) fn concat(a: &mut Args<'_, '_, '_>) -> Result<Value, ExprError> {
    let mut out = String::new();
    for v in a.values.iter().flatten() {
        match v {
            Value::Nodes(nodes) => {
                for &n in nodes {
                    out.push_str(&a.ev.ctx.value(n));
                }
            }
            other => out.push_str(&other.to_string_value(a.ev.ctx)),
        }
    }
    Ok(text(out))
}

pub(super) fn join(a: &mut Args<'_, '_, '_>) -> Result<Value, ExprError> {
    let sep = a.string(0)?;
    let mut parts = Vec::new();
    for i in 1..a.len() {
        a.strings_of(i, &mut parts)?;
    }
    Ok(text(parts.join(&sep)))
}

/// ODK's `substr(s, start, end)`: zero-based, negative positions count from the end.
pub(super) fn substr(a: &mut Args<'_, '_, '_>) -> Result<Value, ExprError> {
    let s = a.string(0)?;
    let chars: Vec<char> = s.chars().collect();
    let len = chars.len() as f64;
    let clamp = |v: f64| -> usize {
        let v = if v < 0.0 {
            (len + v).max(0.0)
        } else {
            v.min(len)
        };
        if v.is_nan() {
            0
        } else {
            v as usize
        }
    };
    let start = clamp(a.number(1)?.trunc());
    let end = if a.len() > 2 {
        clamp(a.number(2)?.trunc())
    } else {
        chars.len()
    };
    Ok(text(if start < end {
        chars[start..end].iter().collect::<String>()
    } else {
        String::new()
    }))
}

/// XPath's `substring(s, start, length)`: one-based, positions rounded.
pub(super) fn substring(a: &mut Args<'_, '_, '_>) -> Result<Value, ExprError> {
    let s = a.string(0)?;
    let start = xpath_round(a.number(1)?);
    let end = if a.len() > 2 {
        start + xpath_round(a.number(2)?)
    } else {
        f64::INFINITY
    };
    Ok(text(
        s.chars()
            .enumerate()
            .filter(|&(i, _)| {
                let p = (i + 1) as f64;
                p >= start && p < end
            })
            .map(|(_, c)| c)
            .collect::<String>(),
    ))
}

pub(super) fn substring_before(a: &mut Args<'_, '_, '_>) -> Result<Value, ExprError> {
    let (s, t) = (a.str(0), a.str(1));
    Ok(text(match s.find(&*t) {
        Some(i) if !t.is_empty() => &s[..i],
        _ => "",
    }))
}

pub(super) fn substring_after(a: &mut Args<'_, '_, '_>) -> Result<Value, ExprError> {
    let (s, t) = (a.str(0), a.str(1));
    Ok(text(match s.find(&*t) {
        Some(i) => &s[i + t.len()..],
        None => "",
    }))
}

pub(super) fn translate(a: &mut Args<'_, '_, '_>) -> Result<Value, ExprError> {
    let s = a.string(0)?;
    let from: Vec<char> = a.string(1)?.chars().collect();
    let to: Vec<char> = a.string(2)?.chars().collect();
    Ok(text(
        s.chars()
            .filter_map(|c| match from.iter().position(|&f| f == c) {
                Some(i) => to.get(i).copied(),
                None => Some(c),
            })
            .collect::<String>(),
    ))
}

pub(super) fn string_length(a: &mut Args<'_, '_, '_>) -> Result<Value, ExprError> {
    Ok(num(a.str(0).chars().count() as f64))
}

pub(super) fn normalize_space(a: &mut Args<'_, '_, '_>) -> Result<Value, ExprError> {
    let s = a.string(0)?;
    // XML whitespace only: form feeds and other Unicode spaces are content.
    let words: Vec<&str> = s
        .split([' ', '\t', '\r', '\n'])
        .filter(|w| !w.is_empty())
        .collect();
    Ok(text(words.join(" ")))
}

pub(super) fn contains(a: &mut Args<'_, '_, '_>) -> Result<Value, ExprError> {
    Ok(Value::Boolean(a.str(0).contains(&*a.str(1))))
}

pub(super) fn starts_with(a: &mut Args<'_, '_, '_>) -> Result<Value, ExprError> {
    Ok(Value::Boolean(a.str(0).starts_with(&*a.str(1))))
}

pub(super) fn ends_with(a: &mut Args<'_, '_, '_>) -> Result<Value, ExprError> {
    Ok(Value::Boolean(a.str(0).ends_with(&*a.str(1))))
}

/// `uuid()`: a random version-4 UUID; `uuid(n)`: `n` random letters and digits.
/// `enumerator('sex' | 'languages' | 'area')`: the device's enumerator profile, as the
/// shell's environment gives it; `""` when the device has no profile.
pub(super) fn enumerator(a: &mut Args<'_, '_, '_>) -> Result<Value, ExprError> {
    let key = a.string(0)?;
    if !crate::matching::KEYS.contains(&key.as_str()) {
        return Err(err(
            ErrorKind::Value,
            a.expr(0).span,
            format!(
                "`enumerator` reads `sex`, `languages` or `area`, not `{}`",
                key.chars().take(40).collect::<String>()
            ),
        ));
    }
    Ok(text(a.ev.env.enumerator(&key).unwrap_or_default()))
}

pub(super) fn uuid(a: &mut Args<'_, '_, '_>) -> Result<Value, ExprError> {
    if a.len() == 0 {
        let bytes = a.ev.env.random_bytes();
        return Ok(text(
            uuid::Builder::from_random_bytes(bytes)
                .into_uuid()
                .to_string(),
        ));
    }
    let n = a.number(0)?;
    if !(0.0..=10_000.0).contains(&n) {
        return Err(err(
            ErrorKind::Value,
            a.expr(0).span,
            format!(
                "`uuid` length must be between 0 and 10000, not {}",
                format_number(n)
            ),
        ));
    }
    const ALPHABET: &[u8] = b"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
    let mut out = String::with_capacity(n as usize);
    for _ in 0..n as usize {
        let r = a.ev.env.random();
        let i = ((r * ALPHABET.len() as f64) as usize).min(ALPHABET.len() - 1);
        out.push(ALPHABET[i] as char);
    }
    Ok(text(out))
}

pub(super) fn digest(a: &mut Args<'_, '_, '_>) -> Result<Value, ExprError> {
    use sha2::Digest as _;
    let src = a.string(0)?;
    let algorithm = a.string(1)?;
    let encoding = if a.len() > 2 {
        a.string(2)?
    } else {
        "base64".to_owned()
    };
    let bytes = src.as_bytes();
    let hash: Vec<u8> = match algorithm.to_ascii_uppercase().as_str() {
        "MD5" => md5::Md5::digest(bytes).to_vec(),
        "SHA-1" => sha1::Sha1::digest(bytes).to_vec(),
        "SHA-256" => sha2::Sha256::digest(bytes).to_vec(),
        "SHA-384" => sha2::Sha384::digest(bytes).to_vec(),
        "SHA-512" => sha2::Sha512::digest(bytes).to_vec(),
        _ => {
            return Err(err(
                ErrorKind::Value,
                a.expr(1).span,
                format!("`digest` algorithm must be MD5, SHA-1, SHA-256, SHA-384 or SHA-512, not `{algorithm}`"),
            ))
        }
    };
    Ok(text(match encoding.to_ascii_lowercase().as_str() {
        "base64" => base64::engine::general_purpose::STANDARD.encode(hash),
        "hex" => hash.iter().map(|b| format!("{b:02x}")).collect::<String>(),
        _ => {
            return Err(err(
                ErrorKind::Value,
                a.expr(2).span,
                format!("`digest` encoding must be base64 or hex, not `{encoding}`"),
            ))
        }
    }))
}

pub(super) fn base64_decode(a: &mut Args<'_, '_, '_>) -> Result<Value, ExprError> {
    let s = a.string(0)?;
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(trim_xml(&s))
        .ok()
        .and_then(|b| String::from_utf8(b).ok());
    Ok(text(decoded.unwrap_or_default()))
}
