//! Project slugs: the short name that is both a project's id and its folder.
//!
//! This module owns the naming rule and nothing else; the library decides
//! which folders exist.
//!
//! Rule: a [`Slug`] can only be made through [`Slug::parse`] (deserializing
//! goes through it too), so a value of this type is always safe to use as a
//! single folder name: lowercase ASCII letters, digits and `-`, 1 to 64
//! characters, neither starting nor ending with `-`.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::{Error, ErrorKind, Result};

/// The longest slug allowed, in characters (all ASCII, so also bytes).
pub const MAX_SLUG_LEN: usize = 64;

/// A validated project slug, such as `tam-old-books`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Slug(String);

impl Slug {
    /// Checks `s` against the naming rule.
    ///
    /// The error message quotes `s` and suggests a slug made from it.
    pub fn parse(s: &str) -> Result<Slug> {
        let allowed = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-';
        if s.len() > MAX_SLUG_LEN && s.chars().all(allowed) {
            return Err(Error::new(
                ErrorKind::InvalidSlug,
                format!(
                    "'{s}' is not a valid project slug: it has {} characters, \
                     use at most {MAX_SLUG_LEN}",
                    s.len()
                ),
            ));
        }
        let valid = !s.is_empty()
            && s.len() <= MAX_SLUG_LEN
            && s.chars().all(allowed)
            && !s.starts_with('-')
            && !s.ends_with('-');
        if !valid {
            let example = Slug::suggest(s).map_or_else(|| "my-book".to_owned(), |x| x.0);
            return Err(Error::new(
                ErrorKind::InvalidSlug,
                format!(
                    "'{s}' is not a valid project slug: use lowercase letters, digits \
                     and '-' (for example '{example}')"
                ),
            ));
        }
        Ok(Slug(s.to_owned()))
    }

    /// Makes a valid slug from free text such as a title or a file name.
    ///
    /// ASCII letters are lowercased, every run of other characters becomes one
    /// `-`, and the result is cut to [`MAX_SLUG_LEN`]. Returns `None` when
    /// nothing usable is left (for example a title in Devanagari only).
    pub fn suggest(text: &str) -> Option<Slug> {
        let mut out = String::new();
        for c in text.chars() {
            if c.is_ascii_alphanumeric() {
                out.push(c.to_ascii_lowercase());
            } else if !out.is_empty() && !out.ends_with('-') {
                out.push('-');
            }
        }
        out.truncate(MAX_SLUG_LEN);
        let trimmed = out.trim_end_matches('-');
        if trimmed.is_empty() {
            None
        } else {
            Some(Slug(trimmed.to_owned()))
        }
    }

    /// The slug as text, as it appears in folder names and messages.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Slug {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for Slug {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl FromStr for Slug {
    type Err = Error;

    fn from_str(s: &str) -> Result<Slug> {
        Slug::parse(s)
    }
}

impl Serialize for Slug {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Slug {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Slug, D::Error> {
        let text = String::deserialize(deserializer)?;
        Slug::parse(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_lowercase_digits_and_inner_dashes() {
        for s in ["a", "tam-old-books", "book-2", "1984", "a--b", &"x".repeat(64)] {
            let slug = Slug::parse(s).unwrap();
            assert_eq!(slug.as_str(), s);
            assert_eq!(slug.to_string(), s);
        }
    }

    #[test]
    fn refuses_names_that_break_the_rule() {
        let bad = [
            "",
            "My Book",
            "-book",
            "book-",
            "book_1",
            "Book",
            "a.b",
            "../etc",
            "ब्रह्म",
            &"x".repeat(65),
        ];
        for s in bad {
            let err = Slug::parse(s).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::InvalidSlug, "{s:?}");
            assert!(err.to_string().starts_with(&format!("'{s}' is not a valid")), "{err}");
        }
    }

    #[test]
    fn message_quotes_the_input_and_suggests_a_slug() {
        let err = Slug::parse("My Book").unwrap_err();
        assert_eq!(
            err.to_string(),
            "'My Book' is not a valid project slug: use lowercase letters, digits and '-' \
             (for example 'my-book')"
        );

        let err = Slug::parse("ब्रह्म").unwrap_err();
        assert!(err.to_string().ends_with("(for example 'my-book')"), "{err}");

        let err = Slug::parse(&"x".repeat(65)).unwrap_err();
        assert!(err.to_string().contains("it has 65 characters"), "{err}");
    }

    #[test]
    fn suggest_makes_valid_slugs() {
        assert_eq!(
            Slug::suggest("  The Old Book (1923).pdf").unwrap().as_str(),
            "the-old-book-1923-pdf"
        );
        assert_eq!(Slug::suggest("--x--").unwrap().as_str(), "x");
        assert_eq!(Slug::suggest("ஆ ஈ"), None);

        let long = Slug::suggest(&"ab ".repeat(40)).unwrap();
        assert!(long.as_str().len() <= MAX_SLUG_LEN);
        assert_eq!(Slug::parse(long.as_str()).unwrap(), long);
    }

    #[test]
    fn serde_uses_a_plain_string_and_validates() {
        let slug = Slug::parse("tam-old-books").unwrap();
        let json = serde_json::to_string(&slug).unwrap();
        assert_eq!(json, "\"tam-old-books\"");
        assert_eq!(serde_json::from_str::<Slug>(&json).unwrap(), slug);

        let err = serde_json::from_str::<Slug>("\"My Book\"").unwrap_err();
        assert!(err.to_string().contains("'My Book' is not a valid project slug"), "{err}");
    }
}
