//! Measures OCR output against a ground-truth transcription.
//!
//! This module owns the character error rate (CER) the project reports and
//! tests against. Both texts are normalised the same way first, so that
//! differences of encoding, quote style and layout do not count as errors.
//!
//! Rule: a CER is the edit distance over Unicode scalar values (not bytes,
//! not grapheme clusters) divided by the length of the normalised truth.

use unicode_normalization::UnicodeNormalization;

/// The fraction of characters OCR got wrong: the Levenshtein distance
/// between the normalised texts divided by the normalised truth's length
/// (at least 1). 0.0 is perfect; it can exceed 1.0 when OCR adds text.
pub fn character_error_rate(truth: &str, ocr: &str) -> f64 {
    let truth: Vec<char> = normalise(truth).chars().collect();
    let ocr: Vec<char> = normalise(ocr).chars().collect();
    levenshtein(&truth, &ocr) as f64 / truth.len().max(1) as f64
}

/// Normalises a text for comparison: Unicode NFC, no byte-order mark,
/// curly quotes made ASCII, every whitespace run one space, trimmed.
pub fn normalise(text: &str) -> String {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut out = String::with_capacity(text.len());
    let mut pending_space = false;
    for c in text.nfc() {
        if c.is_whitespace() {
            pending_space = true;
            continue;
        }
        if pending_space && !out.is_empty() {
            out.push(' ');
        }
        pending_space = false;
        out.push(match c {
            '\u{2018}' | '\u{2019}' => '\'',
            '\u{201c}' | '\u{201d}' | '\u{201e}' => '"',
            other => other,
        });
    }
    out
}

/// Edit distance (insertions, deletions, substitutions, each costing 1),
/// kept to two rows of the shorter text's length.
fn levenshtein(a: &[char], b: &[char]) -> usize {
    let (long, short) = if a.len() >= b.len() { (a, b) } else { (b, a) };
    let mut previous: Vec<usize> = (0..=short.len()).collect();
    let mut current = vec![0; short.len() + 1];
    for (i, &lc) in long.iter().enumerate() {
        current[0] = i + 1;
        for (j, &sc) in short.iter().enumerate() {
            let substitute = previous[j] + usize::from(lc != sc);
            current[j + 1] = substitute.min(previous[j + 1] + 1).min(current[j] + 1);
        }
        std::mem::swap(&mut previous, &mut current);
    }
    previous[short.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn distance(a: &str, b: &str) -> usize {
        let a: Vec<char> = a.chars().collect();
        let b: Vec<char> = b.chars().collect();
        levenshtein(&a, &b)
    }

    #[test]
    fn levenshtein_counts_edits() {
        assert_eq!(distance("", ""), 0);
        assert_eq!(distance("abc", ""), 3);
        assert_eq!(distance("", "abc"), 3);
        assert_eq!(distance("kitten", "sitting"), 3);
        assert_eq!(distance("sitting", "kitten"), 3);
        assert_eq!(distance("flaw", "lawn"), 2);
    }

    #[test]
    fn normalise_folds_layout_quotes_and_bom() {
        let raw = "\u{feff}  \u{201c}It\u{2019}s\u{201d}\n\n  a\ttest \u{201e}x\u{2018} \n";
        assert_eq!(normalise(raw), "\"It's\" a test \"x'");
    }

    #[test]
    fn normalise_composes_to_nfc() {
        // "é" as e + combining acute, and Devanagari "क़" as क + nukta.
        assert_eq!(normalise("e\u{301}"), "\u{e9}");
        assert_eq!(normalise("\u{915}\u{93c}"), normalise("\u{958}"));
    }

    #[test]
    fn cer_counts_characters_not_bytes() {
        assert_eq!(character_error_rate("abcd", "abcd"), 0.0);
        assert_eq!(character_error_rate("abcd", "abxd"), 0.25);
        // One Tamil letter wrong out of four, though each is 3 bytes.
        assert_eq!(character_error_rate("தமிழ", "தமிட"), 0.25);
        assert_eq!(character_error_rate("a\r\nb", "a b"), 0.0);
    }

    #[test]
    fn cer_of_empty_truth_uses_a_length_of_one() {
        assert_eq!(character_error_rate("", ""), 0.0);
        assert_eq!(character_error_rate("", "xy"), 2.0);
        assert_eq!(character_error_rate("ab", ""), 1.0);
    }
}
