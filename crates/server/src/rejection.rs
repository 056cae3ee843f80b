//! What was wrong with a request the extractors refused, said in the request's terms (a field,
//! a path or query parameter, what it must be), not in the parsers' (``Cannot parse `x` to a
//! `i64` ``, Rust type names, "deserialize"): the `detail` of `invalid_request`.

use axum::extract::path::ErrorKind as PathError;
use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};

/// The detail for a JSON body that was refused (other than for its size or content type).
pub(crate) fn json(r: &JsonRejection) -> String {
    match r {
        JsonRejection::JsonSyntaxError(_) => {
            let text = r.body_text();
            match position(&text) {
                Some(at) => format!("The body is not valid JSON (error at {at})."),
                None => "The body is not valid JSON.".into(),
            }
        }
        JsonRejection::JsonDataError(_) => {
            let text = r.body_text();
            let text = text.split_once(": ").map(|(_, rest)| rest).unwrap_or(&text);
            let text = match text.rfind(" at line ") {
                Some(i) => &text[..i],
                None => text,
            };
            field_problem(text)
        }
        _ => "The body could not be read.".into(),
    }
}

/// The detail for a query string that was refused (its parser does not always name the
/// parameter).
pub(crate) fn query(r: &QueryRejection) -> String {
    let text = r.body_text();
    let text = text.split_once(": ").map(|(_, rest)| rest).unwrap_or(&text);
    field_problem(text)
        .replacen("A number ", "A query parameter ", 1)
        .replacen("A value ", "A query parameter ", 1)
        .replacen("The field ", "The query parameter ", 1)
}

/// The detail for path parameters that were refused.
pub(crate) fn path(r: &PathRejection) -> String {
    let PathRejection::FailedToDeserializePathParams(e) = r else {
        return "The URL's path is not valid here.".into();
    };
    match e.kind() {
        PathError::ParseErrorAtKey {
            key, expected_type, ..
        } => format!("`{key}` in the URL must be {}.", kind_of(expected_type)),
        PathError::ParseErrorAtIndex {
            value,
            expected_type,
            ..
        }
        | PathError::ParseError {
            value,
            expected_type,
        } => {
            let value: String = value.chars().take(64).collect();
            format!("`{value}` in the URL is not {}.", kind_of(expected_type))
        }
        PathError::InvalidUtf8InPathParam { key } => {
            format!("`{key}` in the URL is not valid UTF-8 text.")
        }
        PathError::DeserializeError { key, message, .. } => {
            format!("`{key}` in the URL is not valid: {message}.")
        }
        _ => "The URL's path is not valid here.".into(),
    }
}

/// `line 1 column 15` from a parser's message.
fn position(text: &str) -> Option<&str> {
    let i = text.rfind("line ")?;
    Some(text[i..].trim_end_matches('.'))
}

/// A serde message (`field.sub: invalid type: integer `5`, expected a string`, `missing field
/// `otp``) as a sentence about the request.
fn field_problem(text: &str) -> String {
    // serde_path_to_error puts the field's path first, when there is one.
    let (field, msg) = match text.split_once(": ") {
        Some((p, m)) if !p.contains(' ') && !p.is_empty() => (Some(p), m),
        _ => (None, text),
    };
    let named = |f: &str| match field {
        Some(p) => format!("`{p}`"),
        None => f.to_owned(),
    };
    if let Some(rest) = msg.strip_prefix("missing field ") {
        return match field {
            Some(p) => format!("`{p}` lacks the field {rest}."),
            None => format!("The field {rest} is missing."),
        };
    }
    if let Some(rest) = msg.strip_prefix("unknown field ") {
        let name = rest.split(',').next().unwrap_or(rest);
        return format!("The field {name} is not known here.");
    }
    if let Some(rest) = msg.strip_prefix("unknown variant ") {
        let (value, allowed) = rest.split_once(", expected ").unwrap_or((rest, ""));
        let allowed = allowed.trim_start_matches("one of ");
        return format!(
            "{} cannot be {value}; allowed: {allowed}.",
            named("A value")
        );
    }
    if msg.starts_with("invalid type: ") || msg.starts_with("invalid value: ") {
        let expected = msg.rsplit(", expected ").next().unwrap_or("");
        return match field {
            Some(_) => format!("{} must be {}.", named(""), kind_of(expected)),
            None if expected.starts_with("struct ") || expected.starts_with("a map") => {
                "The body must be a JSON object.".into()
            }
            None => format!("A value must be {}.", kind_of(expected)),
        };
    }
    if msg.starts_with("invalid length") {
        // A JSON array where an object was expected (serde reads a struct from a sequence).
        if field.is_none() && msg.contains("expected struct") {
            return "The body must be a JSON object.".into();
        }
        return format!("{} has the wrong number of items.", named("A list"));
    }
    if msg.contains("invalid digit") || msg.contains("number too large") {
        return format!("{} must be a whole number.", named("A number"));
    }
    if msg.contains("provided string was not `true` or `false`") {
        return format!("{} must be true or false.", named("A value"));
    }
    // Our own types' messages (a login ID's rules, …) already speak of the request.
    match field {
        Some(p) => format!("`{p}` is not valid: {msg}."),
        None => format!("The request is not valid: {msg}."),
    }
}

/// What a parser's expected type means to a client.
fn kind_of(expected: &str) -> &'static str {
    let t = expected
        .trim()
        .trim_start_matches("a ")
        .trim_start_matches("an ");
    match t {
        "i8" | "i16" | "i32" | "i64" | "i128" | "isize" | "integer" => "a whole number",
        "u8" | "u16" | "u32" | "u64" | "u128" | "usize" => "a whole number (0 or more)",
        "f32" | "f64" | "float" => "a number",
        "bool" | "boolean" => "true or false",
        "string" | "String" | "str" | "&str" | "char" | "borrowed string" => "text (a string)",
        "sequence" | "tuple" => "a list",
        "map" => "an object",
        _ if t.starts_with("struct ") => "an object",
        _ if t.starts_with("sequence") || t.starts_with("tuple") => "a list",
        _ => "a value of another type",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serde_messages_become_sentences_about_the_request() {
        assert_eq!(
            field_problem("login_id: invalid type: integer `5`, expected a string"),
            "`login_id` must be text (a string)."
        );
        assert_eq!(
            field_problem("limit: invalid value: integer `-1`, expected u32"),
            "`limit` must be a whole number (0 or more)."
        );
        assert_eq!(
            field_problem("missing field `otp`"),
            "The field `otp` is missing."
        );
        assert_eq!(
            field_problem("invalid type: sequence, expected struct LoginBody"),
            "The body must be a JSON object."
        );
        assert_eq!(
            field_problem("invalid length 0, expected struct LoginBody with 2 elements"),
            "The body must be a JSON object."
        );
        assert_eq!(
            field_problem("unknown field `pasword`, expected `login_id` or `password`"),
            "The field `pasword` is not known here."
        );
        assert_eq!(
            field_problem("invalid digit found in string"),
            "A number must be a whole number."
        );
        for t in ["i64", "u32", "String", "bool", "struct X"] {
            assert!(!kind_of(t).contains(t), "{t}");
        }
    }
}
