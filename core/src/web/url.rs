//! A small parser for absolute URLs as the browser serialises them (`URL.href`), origin
//! comparison, and scrubbing of URLs before they are recorded.
//!
//! The `url` crate would add its IDNA tables to the wasm module; the browser has already
//! resolved, lower-cased and punycoded the URLs this sees, so splitting is all that is needed.

use crate::prelude::*;
use crate::text::{after, upto};
/// What replaces scrubbed values (OpenTelemetry semantic conventions use `REDACTED`).
pub const REDACTED: &str = "REDACTED";

/// The parts of an absolute URL, borrowed from the input.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Url<'a> {
    /// Scheme without `:` (e.g. `https`).
    pub scheme: &'a str,
    /// `user:password` before `@`, if present.
    pub userinfo: Option<&'a str>,
    /// Host as written (IPv6 literals keep their brackets); empty for opaque URLs.
    pub host: &'a str,
    /// Explicit port, if any.
    pub port: Option<u16>,
    /// Path (may be empty).
    pub path: &'a str,
    /// Query without `?`, if present.
    pub query: Option<&'a str>,
    /// Fragment without `#`, if present.
    pub fragment: Option<&'a str>,
}

impl<'a> Url<'a> {
    /// Parses an absolute URL; `None` if there is no valid scheme or the port is invalid.
    pub fn parse(input: &'a str) -> Option<Self> {
        let colon = input.find(':')?;
        let scheme = upto(input, colon);
        let mut chars = scheme.chars();
        if !chars.next().is_some_and(|c| c.is_ascii_alphabetic())
            || !chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
        {
            return None;
        }
        let rest = after(input, colon + 1);
        let (before_fragment, fragment) = split_once_opt(rest, '#');
        let (hier, query) = split_once_opt(before_fragment, '?');
        let (authority, path) = match hier.strip_prefix("//") {
            Some(rest_of) => match rest_of.find('/') {
                Some(i) => (upto(rest_of, i), after(rest_of, i)),
                None => (rest_of, ""),
            },
            None => ("", hier),
        };
        let (userinfo, hostport) = match authority.rfind('@') {
            Some(i) => (Some(upto(authority, i)), after(authority, i + 1)),
            None => (None, authority),
        };
        let (host, port_str) = if hostport.starts_with('[') {
            let end = hostport.find(']')?;
            let tail = after(hostport, end + 1);
            match tail.strip_prefix(':') {
                Some(p) => (upto(hostport, end + 1), Some(p)),
                None if tail.is_empty() => (upto(hostport, end + 1), None),
                None => return None,
            }
        } else {
            match hostport.rfind(':') {
                Some(i) => (upto(hostport, i), Some(after(hostport, i + 1))),
                None => (hostport, None),
            }
        };
        let port = match port_str {
            None | Some("") => None,
            Some(p) if p.bytes().all(|b| b.is_ascii_digit()) => Some(p.parse::<u16>().ok()?),
            Some(_) => return None,
        };
        Some(Self {
            scheme,
            userinfo,
            host,
            port,
            path,
            query,
            fragment,
        })
    }

    /// Whether the scheme is `http` or `https`.
    pub fn is_http(&self) -> bool {
        self.scheme.eq_ignore_ascii_case("http") || self.scheme.eq_ignore_ascii_case("https")
    }

    /// The explicit port, else the scheme's default (80/443 for http(s) and ws(s)).
    pub fn port_or_default(&self) -> Option<u16> {
        self.port.or_else(|| default_port(self.scheme))
    }

    /// The host without IPv6 brackets (`server.address`).
    pub fn host_without_brackets(&self) -> &'a str {
        self.host
            .strip_prefix('[')
            .and_then(|h| h.strip_suffix(']'))
            .unwrap_or(self.host)
    }

    /// Whether `self` and `other` have the same origin (scheme, host, effective port).
    pub fn same_origin(&self, other: &Url<'_>) -> bool {
        !self.host.is_empty()
            && self.scheme.eq_ignore_ascii_case(other.scheme)
            && self.host.eq_ignore_ascii_case(other.host)
            && self.port_or_default() == other.port_or_default()
    }
}

fn split_once_opt(s: &str, sep: char) -> (&str, Option<&str>) {
    match s.split_once(sep) {
        Some((a, b)) => (a, Some(b)),
        None => (s, None),
    }
}

/// The default port of a scheme, if it has one.
pub fn default_port(scheme: &str) -> Option<u16> {
    match scheme.to_ascii_lowercase().as_str() {
        "http" | "ws" => Some(80),
        "https" | "wss" => Some(443),
        _ => None,
    }
}

/// Scrubs a URL before it is recorded: credentials become `REDACTED:REDACTED`, every query
/// value becomes `REDACTED` (keys are kept), and the fragment is removed. Works on relative
/// URLs too.
pub fn scrub_url(url: &str) -> String {
    scrub_parsed(url, Url::parse(url).as_ref())
}

/// [`scrub_url`] of `url` already parsed (`parsed`: `Url::parse(url)`).
pub fn scrub_parsed(url: &str, parsed: Option<&Url<'_>>) -> String {
    let mut out = String::with_capacity(url.len() + 16);
    let without_fragment = url.split('#').next().unwrap_or("");
    let (base, query) = split_once_opt(without_fragment, '?');
    // The user info is in the authority, before any `?` or `#`: the same in `base` and `url`.
    match parsed.and_then(|u| u.userinfo.map(|ui| (u, ui))) {
        Some((u, userinfo)) => {
            // scheme://user:pass@rest -> scheme://REDACTED:REDACTED@rest
            let at = u.scheme.len() + 3 + userinfo.len();
            out.push_str(upto(base, u.scheme.len() + 3));
            out.push_str(REDACTED);
            out.push(':');
            out.push_str(REDACTED);
            out.push_str(after(base, at));
        }
        None => out.push_str(base),
    }
    if let Some(query) = query {
        out.push('?');
        scrub_query_into(&mut out, query);
    }
    out
}

/// Writes `query` with every value replaced by `REDACTED`.
pub fn scrub_query_into(out: &mut String, query: &str) {
    for (i, pair) in query.split('&').enumerate() {
        if i > 0 {
            out.push('&');
        }
        match pair.split_once('=') {
            Some((key, _)) => {
                out.push_str(key);
                out.push('=');
                out.push_str(REDACTED);
            }
            None => out.push_str(pair),
        }
    }
}

/// Scrubs the query of every URL in `text` (a stack trace, a message): each query value
/// becomes `REDACTED`, keys stay. A URL runs from its `scheme://` to whitespace, `)`, a quote
/// or the end; a trailing `:line:column` (or `:line`) position is kept as it is.
pub fn scrub_urls_in_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = crate::text::find_str(rest, "://") {
        let tail = after(rest, i + 3);
        let end = tail
            .find(|c: char| c.is_whitespace() || matches!(c, ')' | '"' | '\'' | '<' | '>'))
            .unwrap_or(tail.len());
        let url_rest = upto(tail, end);
        out.push_str(upto(rest, i + 3));
        match url_rest.find('?') {
            Some(q) => {
                out.push_str(upto(url_rest, q + 1));
                let query = after(url_rest, q + 1);
                let (query, tail) = split_position(query);
                let (query, fragment) = match query.find('#') {
                    Some(h) => (upto(query, h), after(query, h)),
                    None => (query, ""),
                };
                scrub_query_into(&mut out, query);
                out.push_str(fragment);
                out.push_str(tail);
            }
            None => out.push_str(url_rest),
        }
        rest = after(tail, end);
    }
    out.push_str(rest);
    out
}

/// Splits a trailing `:digits` or `:digits:digits` off `s`.
fn split_position(s: &str) -> (&str, &str) {
    let mut cut = s.len();
    for _ in 0..2 {
        let head = upto(s, cut);
        match head.rfind(':') {
            Some(c)
                if c + 1 < head.len() && after(head, c + 1).bytes().all(|b| b.is_ascii_digit()) =>
            {
                cut = c
            }
            _ => break,
        }
    }
    (upto(s, cut), after(s, cut))
}

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use super::*;

    #[test]
    fn parses_the_parts() {
        let u = Url::parse("https://u:p@Example.com:8443/a/b?x=1&y#frag").unwrap();
        assert_eq!(u.scheme, "https");
        assert_eq!(u.userinfo, Some("u:p"));
        assert_eq!(u.host, "Example.com");
        assert_eq!(u.port, Some(8443));
        assert_eq!(u.path, "/a/b");
        assert_eq!(u.query, Some("x=1&y"));
        assert_eq!(u.fragment, Some("frag"));
        let v6 = Url::parse("http://[::1]:3000/").unwrap();
        assert_eq!(v6.host, "[::1]");
        assert_eq!(v6.host_without_brackets(), "::1");
        assert_eq!(v6.port, Some(3000));
        let bare = Url::parse("http://h").unwrap();
        assert_eq!(
            (bare.host, bare.path, bare.port_or_default()),
            ("h", "", Some(80))
        );
        let data = Url::parse("data:text/plain,hi").unwrap();
        assert_eq!((data.host, data.is_http()), ("", false));
    }

    #[test]
    fn rejects_what_is_not_an_absolute_url() {
        for bad in [
            "/relative",
            "no-scheme",
            "1http://x",
            "http://h:99999/",
            "http://h:8a/",
            "http://[::1/",
        ] {
            assert_eq!(Url::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn origins() {
        let cases = [
            ("https://a.com/x", "https://a.com:443/y", true),
            ("http://a.com/x", "https://a.com/x", false),
            ("http://a.com:8080/", "http://a.com/", false),
            ("http://A.com/", "http://a.com/", true),
            ("http://a.com.evil.com/", "http://a.com/", false),
            ("data:x", "data:x", false),
        ];
        for (a, b, same) in cases {
            let (a, b) = (Url::parse(a).unwrap(), Url::parse(b).unwrap());
            assert_eq!(a.same_origin(&b), same, "{a:?} {b:?}");
        }
    }

    #[test]
    fn scrubbing() {
        let cases = [
            (
                "https://h/p?a=1&token=s3cr3t&flag#f",
                "https://h/p?a=REDACTED&token=REDACTED&flag",
            ),
            ("https://user:pw@h:1/p", "https://REDACTED:REDACTED@h:1/p"),
            ("/rel?x=1", "/rel?x=REDACTED"),
            ("https://h/p", "https://h/p"),
            ("https://h/p?", "https://h/p?"),
            ("https://h/p?a==b", "https://h/p?a=REDACTED"),
        ];
        for (input, want) in cases {
            assert_eq!(scrub_url(input), want, "{input}");
        }
    }

    #[test]
    fn urls_in_stack_text_lose_their_query_values() {
        let cases = [
            (
                "Error: x\n    at f (https://a.example/app.js?token=abc&v=2:10:5)\n    at https://a.example/page.html?token=abc:3:1",
                "Error: x\n    at f (https://a.example/app.js?token=REDACTED&v=REDACTED:10:5)\n    at https://a.example/page.html?token=REDACTED:3:1",
            ),
            ("g@http://h/p.js?k=v:1:2", "g@http://h/p.js?k=REDACTED:1:2"),
            ("at https://h/a.js:1:2", "at https://h/a.js:1:2"),
            (
                "see https://h/x?q=1#frag now",
                "see https://h/x?q=REDACTED#frag now",
            ),
            ("https://h/x?flag", "https://h/x?flag"),
            ("no url here: 1:2", "no url here: 1:2"),
            ("://?a=b", "://?a=REDACTED"),
            ("", ""),
        ];
        for (input, expected) in cases {
            assert_eq!(scrub_urls_in_text(input), expected, "{input}");
        }
    }
}
