//! Just enough JSON for the status document: escaped strings.

use alloc::string::String;

/// `s` with JSON escapes, without quotes.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => out.push_str(&alloc::format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out
}

/// `s` as a quoted JSON string.
pub fn string(s: &str) -> String {
    let mut out = String::from("\"");
    out += &escape(s);
    out.push('"');
    out
}
