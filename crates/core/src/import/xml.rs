//! A small, bounded XML tree for seed files. quick-xml reads the events; this keeps only element
//! local names, attributes and text, refuses DOCTYPE (so no entity can be declared, let alone
//! expanded: an undeclared `&name;` is an error), and stops at fixed depth and element limits
//! so a hostile file costs at most a bounded amount of memory and time.

use super::ImportError;
use quick_xml::events::{BytesRef, BytesStart, Event};
use quick_xml::Reader;

/// Deeper than any PSKC file (a KeyContainer's deepest values sit at about 8 levels).
pub(super) const MAX_DEPTH: usize = 32;
/// More elements than a file of [`super::MAX_ENTRIES`] KeyPackages of ordinary size has.
pub(super) const MAX_ELEMENTS: usize = 400_000;

/// An element: local name (namespace prefix dropped), attributes by local name, text content
/// (trimmed, concatenated), child elements.
#[derive(Debug, Default)]
pub(super) struct Element {
    pub name: String,
    pub attrs: Vec<(String, String)>,
    pub text: String,
    pub children: Vec<Element>,
}

impl Element {
    /// The first child with this local name.
    pub fn child(&self, name: &str) -> Option<&Element> {
        self.children.iter().find(|c| c.name == name)
    }

    /// All children with this local name.
    pub fn children_named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Element> {
        self.children.iter().filter(move |c| c.name == name)
    }

    /// Follows a path of child names.
    pub fn path(&self, names: &[&str]) -> Option<&Element> {
        names.iter().try_fold(self, |e, n| e.child(n))
    }

    /// An attribute by local name.
    pub fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Namespace prefixes are dropped: PSKC files in the wild bind the PSKC, xmlenc and PKCS#5
/// namespaces to varying prefixes (or none), and nothing here depends on telling two
/// same-named elements of different namespaces apart.
fn local(name: &[u8]) -> String {
    let local = name.rsplit(|&b| b == b':').next().unwrap_or(name);
    String::from_utf8_lossy(local).into_owned()
}

fn element(start: &BytesStart<'_>) -> Result<Element, ImportError> {
    let mut attrs = Vec::new();
    for a in start.attributes() {
        let a = a.map_err(|e| ImportError::Malformed(format!("attribute: {e}")))?;
        let value = a
            .normalized_value(quick_xml::XmlVersion::Implicit1_0)
            .map_err(|e| ImportError::Malformed(format!("attribute value: {e}")))?;
        attrs.push((local(a.key.as_ref()), value.into_owned()));
    }
    Ok(Element {
        name: local(start.name().as_ref()),
        attrs,
        ..Element::default()
    })
}

/// The text a reference in text content stands for: a character reference or one of XML's five
/// predefined entities. Anything else would need a declaration, and DOCTYPE is refused.
fn reference(r: &BytesRef<'_>) -> Result<String, ImportError> {
    if let Some(c) = r
        .resolve_char_ref()
        .map_err(|e| ImportError::Malformed(format!("character reference: {e}")))?
    {
        return Ok(c.to_string());
    }
    let name = r.decode().map_err(|_| ImportError::NotUtf8)?;
    quick_xml::escape::resolve_predefined_entity(&name)
        .map(str::to_owned)
        .ok_or_else(|| ImportError::Malformed(format!("unknown entity &{name};")))
}

/// Adds `s` to the open element's text; outside the root only whitespace may stand.
fn add_text(stack: &mut [Element], s: &str) -> Result<(), ImportError> {
    match stack.last_mut() {
        Some(e) => e.text.push_str(s),
        None if s.trim().is_empty() => {}
        None => {
            return Err(ImportError::Malformed(
                "text outside the root element".into(),
            ))
        }
    }
    Ok(())
}

/// Parses `text` into its root element.
pub(super) fn parse(text: &str) -> Result<Element, ImportError> {
    // Text arrives in pieces (references are events of their own since quick-xml 0.38), so an
    // element's text is trimmed once, when it ends, not piece by piece.
    let mut reader = Reader::from_str(text);
    let mut stack: Vec<Element> = Vec::new();
    let mut root: Option<Element> = None;
    let mut count = 0usize;
    loop {
        let event = reader.read_event().map_err(|e| {
            ImportError::Malformed(format!("XML at byte {}: {e}", reader.buffer_position()))
        })?;
        match event {
            Event::DocType(_) => return Err(ImportError::DoctypeRefused),
            Event::Start(ref s) | Event::Empty(ref s) => {
                count += 1;
                if count > MAX_ELEMENTS {
                    return Err(ImportError::TooManyElements);
                }
                if root.is_some() {
                    return Err(ImportError::Malformed(
                        "content after the root element".into(),
                    ));
                }
                let e = element(s)?;
                if matches!(event, Event::Empty(_)) {
                    match stack.last_mut() {
                        Some(parent) => parent.children.push(e),
                        None => root = Some(e),
                    }
                } else {
                    if stack.len() >= MAX_DEPTH {
                        return Err(ImportError::TooDeep);
                    }
                    stack.push(e);
                }
            }
            Event::End(_) => {
                let Some(mut done) = stack.pop() else {
                    return Err(ImportError::Malformed("unmatched end tag".into()));
                };
                let trimmed = done.text.trim();
                if trimmed.len() != done.text.len() {
                    done.text = trimmed.to_owned();
                }
                match stack.last_mut() {
                    Some(parent) => parent.children.push(done),
                    None => root = Some(done),
                }
            }
            Event::Text(t) => {
                let s = t.decode().map_err(|_| ImportError::NotUtf8)?;
                add_text(&mut stack, &s)?;
            }
            Event::GeneralRef(r) => add_text(&mut stack, &reference(&r)?)?,
            Event::CData(c) => {
                let s = std::str::from_utf8(&c).map_err(|_| ImportError::NotUtf8)?;
                if let Some(e) = stack.last_mut() {
                    e.text.push_str(s);
                }
            }
            Event::Comment(_) | Event::Decl(_) | Event::PI(_) => {}
            Event::Eof => break,
        }
    }
    if !stack.is_empty() {
        return Err(ImportError::Malformed(
            "the file ends inside an element".into(),
        ));
    }
    root.ok_or_else(|| ImportError::Malformed("no root element".into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tree_and_names() {
        let root = parse(
            r#"<?xml version="1.0"?><!-- c --><p:A xmlns:p="urn:x" p:k="v &amp; w"><B>one</B><B> two </B><C/></p:A>"#,
        )
        .unwrap_or_else(|e| unreachable!("{e}"));
        assert_eq!(root.name, "A");
        assert_eq!(root.attr("k"), Some("v & w"));
        let texts: Vec<&str> = root.children_named("B").map(|b| b.text.as_str()).collect();
        assert_eq!(texts, ["one", "two"]);
        // References in text (their own events since quick-xml 0.38) keep their neighbours.
        let refs = parse("<a> x &amp; y &#65;&#x42; </a>").unwrap_or_else(|e| unreachable!("{e}"));
        assert_eq!(refs.text, "x & y AB");
        assert!(root.child("C").is_some());
        assert!(root.path(&["B"]).is_some());
    }

    #[test]
    fn hostile_documents() {
        let laughs = r#"<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>
<lolz>&lol2;</lolz>"#;
        assert_eq!(parse(laughs).err(), Some(ImportError::DoctypeRefused));
        // Without a DOCTYPE an entity reference is simply unknown.
        assert!(matches!(
            parse("<a>&lol;</a>"),
            Err(ImportError::Malformed(_))
        ));
        let deep = "<a>".repeat(100_000) + &"</a>".repeat(100_000);
        assert_eq!(parse(&deep).err(), Some(ImportError::TooDeep));
        let wide = format!("<a>{}</a>", "<b/>".repeat(MAX_ELEMENTS + 1));
        assert_eq!(parse(&wide).err(), Some(ImportError::TooManyElements));
        for bad in [
            "",
            "<a>",
            "<a></b>",
            "</a>",
            "<a/><b/>",
            "text",
            "<a x='1' x='2'/>",
        ] {
            assert!(parse(bad).is_err(), "{bad:?}");
        }
    }
}
