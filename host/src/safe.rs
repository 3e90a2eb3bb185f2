//! Text from plugins and reports made harmless for a terminal: [`Safe`] and [`safe_text`], the
//! one escaping used wherever human output shows text the host did not write itself (a plugin's
//! name, description, method names, results and errors, what it prints, a report's contents).
//!
//! A terminal acts on control characters instead of showing them: ESC starts a sequence that can
//! set the window title, clear the screen, write the clipboard (OSC 52) or forge a hyperlink
//! (OSC 8); CR and BS move the cursor back over what was written; a newline starts a line the
//! text did not own. So every character a terminal may act on is shown as its Rust escape
//! (`\u{1b}`, `\r`, `\n`, `\t`, `\u{7f}`, `\u{9b}`, `\u{202e}`) instead:
//!
//! - the C0 controls U+0000..U+001F, tab and newline included (text shown by the host fills one
//!   line or one cell, so a newline inside it must not forge a row, and a tab would shift the
//!   columns), and DEL, U+007F;
//! - the C1 controls U+0080..U+009F (U+009B alone starts a CSI sequence on many terminals);
//! - the bidirectional formatting characters (U+061C, U+200E, U+200F, U+202A..U+202E,
//!   U+2066..U+2069), which reorder what is shown after them, and the line and paragraph
//!   separators U+2028 and U+2029.
//!
//! Everything else, backslashes included, is shown as it is. JSON output never goes through
//! here: it is written byte for byte as the plugin and the report said it.

use std::{
    borrow::Cow,
    fmt::{self, Write as _},
};

/// Whether a terminal may act on `character` rather than show it (see the module docs).
pub fn is_unsafe(character: char) -> bool {
    matches!(character,
        '\u{0}'..='\u{1f}'
        | '\u{7f}'..='\u{9f}'
        | '\u{61c}'
        | '\u{200e}'
        | '\u{200f}'
        | '\u{2028}'..='\u{202e}'
        | '\u{2066}'..='\u{2069}')
}

/// `text` with every character a terminal may act on escaped; borrowed when there is none.
pub fn safe_text(text: &str) -> Cow<'_, str> {
    if !needs_escaping(text) {
        return Cow::Borrowed(text);
    }
    let mut escaped = String::with_capacity(text.len() + 16);
    // Writing to a String cannot fail.
    let _ = Escaper(&mut escaped).write_str(text);
    Cow::Owned(escaped)
}

/// [`safe_text`] for text already owned: returned as it is when nothing needs escaping.
pub fn safe_string(text: String) -> String {
    if needs_escaping(&text) {
        safe_text(&text).into_owned()
    } else {
        text
    }
}

/// Whether `text` has a character a terminal may act on.
fn needs_escaping(text: &str) -> bool {
    // Printable ASCII is by far the common case, and a byte test is enough to know it.
    !text.bytes().all(|byte| (0x20..0x7f).contains(&byte)) && text.chars().any(is_unsafe)
}

/// Shows a value's text (its `Display`) with every character a terminal may act on escaped:
/// `format!("{}", Safe(&plugin_error))`.
#[derive(Debug, Clone, Copy)]
pub struct Safe<T>(pub T);

impl<T: fmt::Display> fmt::Display for Safe<T> {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        if formatter.width().is_none() {
            return write!(Escaper(formatter), "{}", self.0);
        }
        // Padding is counted on what is shown, so escape first, then pad.
        let mut shown = String::new();
        write!(Escaper(&mut shown), "{}", self.0)?;
        formatter.pad(&shown)
    }
}

/// A writer that escapes what passes through it on the way to another.
struct Escaper<W>(W);

impl<W: fmt::Write> fmt::Write for Escaper<W> {
    fn write_str(&mut self, text: &str) -> fmt::Result {
        let mut rest = text;
        while let Some((at, character)) = rest.char_indices().find(|(_, c)| is_unsafe(*c)) {
            self.0.write_str(&rest[..at])?;
            write!(self.0, "{}", character.escape_debug())?;
            rest = &rest[at + character.len_utf8()..];
        }
        self.0.write_str(rest)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terminal_sequences_are_shown_not_obeyed() {
        assert_eq!(
            safe_text("a\u{1b}]0;title\u{7}b\u{1b}[2J\rc\u{8}d"),
            "a\\u{1b}]0;title\\u{7}b\\u{1b}[2J\\rc\\u{8}d"
        );
        assert_eq!(safe_text("one\ntwo\tthree"), "one\\ntwo\\tthree");
        assert_eq!(
            safe_text("\u{9b}31m \u{85} \u{7f} \u{202e}evil \u{2066}"),
            "\\u{9b}31m \\u{85} \\u{7f} \\u{202e}evil \\u{2066}"
        );
    }

    #[test]
    fn ordinary_text_is_kept_as_it_is() {
        for text in [
            "Quack!",
            "[1, 2] -> {\"a\": \"\\n\"}",
            "café 🦆 ünïcödé",
            "",
        ] {
            assert!(matches!(safe_text(text), Cow::Borrowed(_)), "{text}");
            assert_eq!(Safe(text).to_string(), text);
        }
    }

    #[test]
    fn padding_counts_what_is_shown() {
        assert_eq!(format!("{:<8}|", Safe("a\u{1b}")), "a\\u{1b} |");
        assert_eq!(format!("{}", Safe(format_args!("x{}y", '\r'))), "x\\ry");
    }
}
