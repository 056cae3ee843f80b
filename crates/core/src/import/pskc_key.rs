//! One key package of a PSKC file (RFC 6030 `KeyPackage`, or a draft's `Device`) read into a
//! token, or refused with the reason. The drafts named the same things differently
//! (`KeyAlgorithm`, `KeyId`, `Usage/ResponseFormat`, `Data Name="SECRET"` with `Value`); each
//! lookup below tries RFC 6030's name first.

use super::pskc::{b64, shown, Keys, Layout};
use super::xml::Element;
use super::{
    check_params, check_secret, normalize_token_id, parse_bounded, ImportedToken, ParseOptions,
    MAX_COUNTER, MAX_DRIFT_STEPS, MAX_PERIOD,
};
use crate::otp::{Algorithm, OtpKind, OtpParams, DEFAULT_PERIOD, MAX_DIGITS};
use crate::Timestamp;

/// What every package of one file is read with.
pub(super) struct Context<'a> {
    pub keys: Option<&'a Keys>,
    pub layout: Layout,
    pub options: ParseOptions,
}

/// An entry's refusal: its token ID if known, and why.
pub(super) type Refusal = (Option<String>, String);

/// The most transactions a policy may allow (far beyond any token's life, inside `i64`).
const MAX_TRANSACTIONS: u64 = 1 << 48;

fn attr<'a>(e: &'a Element, names: &[&str]) -> Option<&'a str> {
    names.iter().find_map(|n| e.attr(n))
}

fn is_pin_key(key: &Element) -> bool {
    attr(key, &["Algorithm", "KeyAlgorithm"])
        .is_some_and(|a| a.trim().to_ascii_lowercase().ends_with("pin"))
}

/// Reads one key package into a token (its location is filled in by the caller).
pub(super) fn read_package(package: &Element, ctx: &Context<'_>) -> Result<ImportedToken, Refusal> {
    let all: Vec<&Element> = package
        .children
        .iter()
        .filter(|c| c.name == "Key" || (ctx.layout == Layout::Draft && c.name == "Secret"))
        .collect();
    // The drafts put a token's PIN key in the same Device as its OTP key; the PIN is checked
    // by the device (or not at all), so only the OTP key matters here.
    let keys: Vec<&Element> = if all.len() > 1 {
        all.iter().copied().filter(|k| !is_pin_key(k)).collect()
    } else {
        all
    };
    let key = match keys.as_slice() {
        [] => return Err((None, "no Key in the KeyPackage".to_owned())),
        [key] => *key,
        _ => return Err((None, "more than one Key in one KeyPackage".into())),
    };
    let info = package
        .child("DeviceInfo")
        .or_else(|| package.child("DeviceId"));
    let raw_id = info
        .and_then(|i| i.child("SerialNo"))
        .map(|s| s.text.as_str())
        .filter(|s| !s.is_empty())
        .or_else(|| attr(key, &["Id", "KeyId", "SecretId"]))
        .unwrap_or_default();
    let token_id = normalize_token_id(raw_id).ok_or_else(|| {
        (
            None,
            format!(
                "token ID {:?} is not 1 to 64 letters, digits or - _ . :",
                shown(raw_id)
            ),
        )
    })?;
    let fail = |reason: String| (Some(token_id.clone()), reason);
    read_key(key, info, ctx)
        .map_err(fail)
        .map(|t| ImportedToken {
            token_id: token_id.clone(),
            ..t
        })
}

/// The algorithm: RFC 6030 registers `urn:ietf:params:xml:ns:keyprov:pskc:hotp`; TOTP files use
/// `:totp` or the algorithm-profiles draft's `#totp`; draft-hoyer wrote a bare `HOTP`.
fn kind(key: &Element) -> Result<OtpKind, String> {
    let alg = attr(key, &["Algorithm", "KeyAlgorithm", "SecretAlgorithm"])
        .unwrap_or_default()
        .trim();
    let profile = alg.rsplit([':', '#']).next().unwrap_or_default();
    if profile.eq_ignore_ascii_case("hotp") {
        Ok(OtpKind::Hotp)
    } else if profile.eq_ignore_ascii_case("totp") {
        Ok(OtpKind::Totp)
    } else {
        Err(format!("unsupported algorithm {:?}", shown(alg)))
    }
}

fn read_key(
    key: &Element,
    info: Option<&Element>,
    ctx: &Context<'_>,
) -> Result<ImportedToken, String> {
    let kind = kind(key)?;
    let mut params = OtpParams {
        algorithm: Algorithm::Sha1,
        digits: 6,
        period: DEFAULT_PERIOD,
    };
    let alg_params = key.child("AlgorithmParameters");
    if let Some(suite) = alg_params.and_then(|p| p.child("Suite")) {
        let name = suite.text.trim();
        let name = name
            .get(..5)
            .filter(|p| p.eq_ignore_ascii_case("HMAC-"))
            .and_then(|_| name.get(5..))
            .unwrap_or(name);
        params.algorithm = Algorithm::parse(name)
            .ok_or_else(|| format!("unsupported Suite {:?}", shown(&suite.text)))?;
    }
    let format = alg_params
        .and_then(|p| p.child("ResponseFormat"))
        .or_else(|| key.path(&["Usage", "ResponseFormat"]));
    if let Some(format) = format {
        if let Some(enc) = attr(format, &["Encoding", "Format", "format"]) {
            if !enc.trim().eq_ignore_ascii_case("DECIMAL") {
                return Err(format!("response encoding {} is not DECIMAL", shown(enc)));
            }
        }
        let len = attr(format, &["Length", "length"])
            .ok_or_else(|| "ResponseFormat has no Length".to_owned())?;
        params.digits = parse_bounded(len, "ResponseFormat Length", u64::from(MAX_DIGITS))? as u32;
    }
    let policy = read_policy(key, info)?;

    let values = Values { key, ctx };
    let counter = values.number("Counter", MAX_COUNTER)?.unwrap_or(0);
    if let Some(period) = values.number("TimeInterval", u64::from(MAX_PERIOD))? {
        params.period = period as u32;
    }
    if values.number("Time", u64::MAX)?.is_some_and(|t| t != 0) {
        return Err("a TOTP time origin other than 0 is not supported".into());
    }
    let drift = values.drift()?.unwrap_or(0);
    check_params(kind, params)?;

    let secret = values.secret()?;
    check_secret(&secret, ctx.options)?;
    let totp = kind == OtpKind::Totp;
    Ok(ImportedToken {
        counter: if totp { 0 } else { counter },
        drift: if totp { drift } else { 0 },
        valid_from: policy.start,
        valid_until: policy.expiry,
        max_transactions: policy.transactions,
        ..ImportedToken::new(String::new(), kind, params, secret)
    })
}

/// What a key's `<Policy>` asks that Sekisho keeps.
struct Policy {
    start: Option<Timestamp>,
    expiry: Option<Timestamp>,
    transactions: Option<u64>,
}

/// `xs:dateTime`; RFC 6030 asks for UTC with `Z`, some vendors leave the zone out.
fn date(e: &Element) -> Result<Timestamp, String> {
    let t = e.text.trim();
    Timestamp::parse_rfc3339(t)
        .or_else(|| Timestamp::parse_rfc3339(&format!("{t}Z")))
        .ok_or_else(|| format!("{} {} is not a date and time", e.name, shown(t)))
}

/// RFC 6030 §5: a policy element the importer does not understand means the key MUST NOT be
/// used, so it refuses the entry rather than importing a key with a limit dropped.
fn read_policy(key: &Element, info: Option<&Element>) -> Result<Policy, String> {
    let mut p = Policy {
        start: None,
        expiry: None,
        transactions: None,
    };
    // The device's own validity bounds the key's too.
    for holder in [info, Some(key)].into_iter().flatten() {
        if let Some(s) = holder.child("StartDate") {
            p.start = p.start.max(Some(date(s)?));
        }
        if let Some(e) = holder.child("ExpiryDate") {
            let e = date(e)?;
            p.expiry = Some(p.expiry.map_or(e, |x| x.min(e)));
        }
    }
    if let Some(policy) = key.child("Policy") {
        let mut usages = Vec::new();
        for c in &policy.children {
            match c.name.as_str() {
                "StartDate" => p.start = p.start.max(Some(date(c)?)),
                "ExpiryDate" => {
                    let e = date(c)?;
                    p.expiry = Some(p.expiry.map_or(e, |x| x.min(e)));
                }
                "NumberOfTransactions" => {
                    p.transactions = Some(parse_bounded(
                        &c.text,
                        "NumberOfTransactions",
                        MAX_TRANSACTIONS,
                    )?)
                }
                "KeyUsage" => usages.push(c.text.trim()),
                "PINPolicy" => {
                    let mode = c.attr("PINUsageMode").unwrap_or_default();
                    if !mode.trim().eq_ignore_ascii_case("Local") {
                        return Err(format!(
                            "PIN policy with PINUsageMode {}: the PIN would have to be \
                             checked with the code, which Sekisho does not do",
                            shown(mode)
                        ));
                    }
                }
                other => {
                    return Err(format!(
                        "the key's Policy has {}, which Sekisho does not understand \
                         (RFC 6030 section 5: such a key must not be used)",
                        shown(other)
                    ))
                }
            }
        }
        if !usages.is_empty() && !usages.iter().any(|u| u.eq_ignore_ascii_case("OTP")) {
            return Err("the key's usage policy does not allow OTP".into());
        }
    }
    if let (Some(s), Some(e)) = (p.start, p.expiry) {
        if e <= s {
            return Err("the key's ExpiryDate is not after its StartDate".into());
        }
    }
    Ok(p)
}

/// The key's data values, plaintext or encrypted, in either generation's layout.
struct Values<'a> {
    key: &'a Element,
    ctx: &'a Context<'a>,
}

/// A value as found: plaintext (base64 or decimal text), or encrypted bytes opened.
enum Raw {
    Text(String),
    Bytes(Vec<u8>),
}

impl Values<'_> {
    /// RFC 6030's `Data/<Name>`, or draft-hoyer's `Data Name="NAME"`.
    fn element(&self, name: &str) -> Option<&Element> {
        self.key
            .child("Data")
            .and_then(|d| d.child(name))
            .or_else(|| {
                self.key.children_named("Data").find(|d| {
                    d.attr("Name")
                        .is_some_and(|n| n.replace('_', "").eq_ignore_ascii_case(name))
                })
            })
    }

    fn raw(&self, name: &str) -> Result<Option<Raw>, String> {
        let Some(elem) = self.element(name) else {
            return Ok(None);
        };
        if let Some(v) = elem.child("PlainValue").or_else(|| elem.child("Value")) {
            return Ok(Some(Raw::Text(v.text.clone())));
        }
        let ev = elem
            .child("EncryptedValue")
            .ok_or_else(|| format!("{name} has neither PlainValue nor EncryptedValue"))?;
        let keys = self
            .ctx
            .keys
            .ok_or_else(|| format!("encrypted {name} without a key"))?;
        let cipher_value = ev
            .path(&["CipherData", "CipherValue"])
            .and_then(|v| b64(&v.text))
            .ok_or_else(|| format!("the encrypted {name} has no valid base64 CipherValue"))?;
        let mac = elem
            .child("ValueMAC")
            .or_else(|| elem.child("ValueDigest"))
            .ok_or_else(|| format!("the encrypted {name} has no ValueMAC"))?;
        let mac = b64(&mac.text).ok_or_else(|| "ValueMAC is not valid base64".to_owned())?;
        let mismatch =
            || format!("ValueMAC mismatch on {name}: the value was altered or the key is wrong");
        // Authenticate before decrypting: a padding error must not be observable on altered
        // data. The drafts computed the MAC over the plaintext instead; that is checked only
        // for their layout, after decryption.
        let over_ciphertext = keys.mac.verify(&keys.mac_key, &cipher_value, &mac);
        if !over_ciphertext && self.ctx.layout == Layout::Rfc6030 {
            return Err(mismatch());
        }
        let plain = keys
            .cipher
            .decrypt(&keys.key, &cipher_value)
            .ok_or_else(|| format!("the {name} cannot be decrypted"))?;
        if !over_ciphertext && !keys.mac.verify(&keys.mac_key, &plain, &mac) {
            return Err(mismatch());
        }
        Ok(Some(Raw::Bytes(plain)))
    }

    fn secret(&self) -> Result<Vec<u8>, String> {
        match self.raw("Secret")? {
            Some(Raw::Text(t)) => b64(&t).ok_or_else(|| "the secret is not valid base64".into()),
            Some(Raw::Bytes(b)) => Ok(b),
            None => Err(
                "no Secret (keys derived from a master key by KeyReference are not supported)"
                    .into(),
            ),
        }
    }

    /// A number as the formats write it: decimal text; or, in the drafts and in encrypted
    /// values, bytes holding ASCII digits or a big-endian integer. Answers the sign, the
    /// magnitude and, for a binary integer, its width in bytes.
    fn signed(&self, name: &str) -> Result<Option<Number>, String> {
        let bytes = match self.raw(name)? {
            None => return Ok(None),
            Some(Raw::Text(t)) => {
                let t = t.trim();
                let (negative, digits) = match t.strip_prefix('-') {
                    Some(d) => (true, d),
                    None => (false, t),
                };
                if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
                    let value = parse_bounded(digits, name, u64::MAX)?;
                    return Ok(Some(Number {
                        negative,
                        value,
                        width: None,
                    }));
                }
                b64(t).ok_or_else(|| format!("{name} is not a number"))?
            }
            Some(Raw::Bytes(b)) => b,
        };
        if !bytes.is_empty() && bytes.iter().all(u8::is_ascii_digit) {
            let text = String::from_utf8_lossy(&bytes).into_owned();
            let value = parse_bounded(&text, name, u64::MAX)?;
            return Ok(Some(Number {
                negative: false,
                value,
                width: None,
            }));
        }
        if bytes.is_empty() || bytes.len() > 8 {
            return Err(format!("{name} is not a number"));
        }
        let value = bytes.iter().fold(0u64, |acc, &b| (acc << 8) | u64::from(b));
        Ok(Some(Number {
            negative: false,
            value,
            width: u32::try_from(bytes.len()).ok(),
        }))
    }

    fn number(&self, name: &str, max: u64) -> Result<Option<u64>, String> {
        match self.signed(name)? {
            None => Ok(None),
            Some(n) if n.negative => Err(format!("{name} is not a number")),
            Some(n) if n.value <= max => Ok(Some(n.value)),
            Some(_) => Err(format!("{name} is larger than {max}")),
        }
    }

    /// `TimeDrift`: steps either way, at most [`MAX_DRIFT_STEPS`]. A binary value is a
    /// two's-complement integer of its own width.
    fn drift(&self) -> Result<Option<i64>, String> {
        let Some(n) = self.signed("TimeDrift")? else {
            return Ok(None);
        };
        let magnitude = i64::try_from(n.value).ok();
        let value = match n.width {
            _ if n.negative => magnitude.map(|m| -m),
            Some(8) => Some(i64::from_be_bytes(n.value.to_be_bytes())),
            Some(w) if n.value >> (w * 8 - 1) == 1 => magnitude.map(|m| m - (1i64 << (w * 8))),
            _ => magnitude,
        };
        match value {
            Some(v) if v.abs() <= MAX_DRIFT_STEPS => Ok(Some(v)),
            _ => Err(format!(
                "TimeDrift is more than {MAX_DRIFT_STEPS} steps either way"
            )),
        }
    }
}

/// A number read from a value.
struct Number {
    negative: bool,
    value: u64,
    width: Option<u32>,
}
