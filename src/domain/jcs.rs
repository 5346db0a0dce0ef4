//! JSON Canonicalization Scheme (RFC 8785): the canonical form `eddsa-jcs-2022` signs
//! (credentials) and the form a signature's digest is taken of (`signature`).
//!
//! Our credentials hold only strings, integers, booleans, null, arrays and objects, so
//! this covers exactly those: numbers with a fraction or beyond ±2^53 (where
//! ECMAScript's number formatting, which RFC 8785 uses, would differ from the integer
//! text) are refused rather than canonicalized wrongly.
use serde_json::Value;

/// The largest integer every JSON implementation reads exactly (2^53 - 1).
const MAX_SAFE_INTEGER: u64 = (1 << 53) - 1;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JcsError {
    #[error(
        "the number {0} is not an integer within ±2^53, which this canonicalizer does not handle"
    )]
    UnsupportedNumber(String),
}

/// The canonical text of `value`: no white space, object members sorted by the UTF-16
/// code units of their names, strings escaped as ECMAScript's `JSON.stringify` does.
pub(crate) fn canonicalize(value: &Value) -> Result<String, JcsError> {
    let mut out = String::new();
    write_value(value, &mut out)?;
    Ok(out)
}

fn write_value(value: &Value, out: &mut String) -> Result<(), JcsError> {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => out.push_str(&integer_text(n)?),
        Value::String(s) => write_string(s, out),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_value(item, out)?;
            }
            out.push(']');
        }
        Value::Object(members) => {
            let mut sorted: Vec<(&String, &Value)> = members.iter().collect();
            // RFC 8785 §3.2.3: by UTF-16 code units, which differs from UTF-8 byte order
            // for characters above U+FFFF against U+E000..U+FFFF.
            sorted.sort_by(|a, b| a.0.encode_utf16().cmp(b.0.encode_utf16()));
            out.push('{');
            for (i, (name, item)) in sorted.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_string(name, out);
                out.push(':');
                write_value(item, out)?;
            }
            out.push('}');
        }
    }
    Ok(())
}

fn integer_text(n: &serde_json::Number) -> Result<String, JcsError> {
    let safe = match (n.as_u64(), n.as_i64()) {
        (Some(u), _) => u <= MAX_SAFE_INTEGER,
        (None, Some(i)) => i.unsigned_abs() <= MAX_SAFE_INTEGER,
        _ => false,
    };
    if safe {
        Ok(n.to_string())
    } else {
        Err(JcsError::UnsupportedNumber(n.to_string()))
    }
}

/// RFC 8785 §3.2.2.2: `"` and `\` escaped, the short escapes `\b \t \n \f \r`, other
/// controls as `\u00xx` in lower case, everything else (including `/`, DEL and
/// non-ASCII) as itself.
fn write_string(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{8}' => out.push_str("\\b"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\u{c}' => out.push_str("\\f"),
            '\r' => out.push_str("\\r"),
            c if u32::from(c) < 0x20 => out.push_str(&format!("\\u{:04x}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn canon(text: &str) -> String {
        canonicalize(&serde_json::from_str(text).expect("test JSON")).expect("canonical")
    }

    #[test]
    fn rfc_8785_example_without_its_floating_point_numbers() {
        // RFC 8785 §3.2.2, with the "numbers" member (floating point) left out.
        let input = r#"{
            "string": "\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"\/",
            "literals": [null, true, false]
        }"#;
        assert_eq!(
            canon(input),
            r#"{"literals":[null,true,false],"string":"€$\u000f\nA'B\"\\\\\"/"}"#
        );
    }

    #[test]
    fn rfc_8785_sorting_example_orders_by_utf16_code_units() {
        // RFC 8785 §3.2.3: the emoji (a surrogate pair, D83D…) sorts before U+FB33,
        // although its UTF-8 bytes (F0…) sort after U+FB33's (EF…).
        let input = r#"{
            "\u20ac": "Euro Sign",
            "\r": "Carriage Return",
            "\ufb33": "Hebrew Letter Dalet With Dagesh",
            "1": "One",
            "\ud83d\ude00": "Emoji: Grinning Face",
            "\u0080": "Control",
            "\u00f6": "Latin Small Letter O With Diaeresis"
        }"#;
        let expected = "{\"\\r\":\"Carriage Return\",\"1\":\"One\",\"\u{80}\":\"Control\",\
             \"\u{f6}\":\"Latin Small Letter O With Diaeresis\",\"\u{20ac}\":\"Euro Sign\",\
             \"\u{1f600}\":\"Emoji: Grinning Face\",\"\u{fb33}\":\"Hebrew Letter Dalet With Dagesh\"}";
        assert_eq!(canon(input), expected);
    }

    #[test]
    fn nested_values_lose_white_space_and_keep_array_order() {
        assert_eq!(
            canon(r#"{ "b": [3, {"z": 1, "a": -2}], "a": {} , "c": [] }"#),
            r#"{"a":{},"b":[3,{"a":-2,"z":1}],"c":[]}"#
        );
    }

    #[test]
    fn integers_up_to_two_to_the_53_are_written_plainly_and_others_refused() {
        assert_eq!(
            canon("[9007199254740991, -9007199254740991, 0]"),
            "[9007199254740991,-9007199254740991,0]"
        );
        for v in [
            json!(9007199254740992u64),
            json!(-9007199254740992i64),
            json!(4.5),
        ] {
            assert!(
                matches!(canonicalize(&v), Err(JcsError::UnsupportedNumber(_))),
                "{v}"
            );
        }
    }

    #[test]
    fn every_control_character_is_escaped_like_json_stringify() {
        let all: String = (0u8..0x20).map(char::from).chain(['\u{7f}', '/']).collect();
        let expected = "\"\\u0000\\u0001\\u0002\\u0003\\u0004\\u0005\\u0006\\u0007\\b\\t\\n\\u000b\\f\\r\\u000e\\u000f\
             \\u0010\\u0011\\u0012\\u0013\\u0014\\u0015\\u0016\\u0017\\u0018\\u0019\\u001a\\u001b\\u001c\\u001d\\u001e\\u001f\u{7f}/\"";
        assert_eq!(canonicalize(&Value::String(all)).unwrap(), expected);
    }
}
