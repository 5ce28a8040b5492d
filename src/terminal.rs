//! Terminal safety: text from the web (titles, snippets, whole documents) never reaches a
//! terminal with the power to drive it.

/// Removes control characters and escape sequences so untrusted text cannot drive a terminal.
pub fn strip_controls(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\u{1b}' => {
                // Skip a CSI/OSC sequence: ESC [ … final byte, or ESC ] … BEL/ST.
                match chars.peek() {
                    Some('[') => {
                        chars.next();
                        for c in chars.by_ref() {
                            if ('@'..='~').contains(&c) {
                                break;
                            }
                        }
                    }
                    Some(']') => {
                        chars.next();
                        while let Some(c) = chars.next() {
                            if c == '\u{7}' || (c == '\u{1b}' && chars.peek() == Some(&'\\')) {
                                break;
                            }
                        }
                    }
                    _ => {}
                }
            }
            '\n' | '\t' => out.push(c),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn controls_are_stripped() {
        assert_eq!(
            strip_controls("a\u{1b}[31mred\u{1b}[0m\u{7} \u{1b}]0;title\u{7}b\r"),
            "ared b"
        );
    }
}
