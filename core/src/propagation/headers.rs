//! [`HeaderList`]: HTTP headers as an ordered list of pairs, for carrying trace headers in and
//! out of the propagators when no HTTP library type is at hand (tests, raw header pairs).

use crate::prelude::*;
/// Headers as received or to be sent: names may repeat and match case-insensitively;
/// [`HeaderList::get_all`] returns every value in order (what W3C Trace Context needs to see
/// duplicated `traceparent` and split `tracestate` headers).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HeaderList(Vec<(String, String)>);

impl HeaderList {
    /// Headers from `(name, value)` pairs, in order.
    pub fn new(pairs: &[(&str, &str)]) -> Self {
        Self(
            pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
        )
    }

    /// Every value of `name`, in order (empty if absent).
    pub fn values(&self, name: &str) -> Vec<&str> {
        self.0
            .iter()
            .filter(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
            .collect()
    }

    /// The `(name, value)` pairs, in order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// Number of header lines.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there are no headers.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl HeaderList {
    /// The first value of `key`.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v.as_str())
    }

    /// The header names, in order.
    pub fn keys(&self) -> Vec<&str> {
        self.0.iter().map(|(k, _)| k.as_str()).collect()
    }

    /// Every value of `key` in order; `None` when there is none.
    pub fn get_all(&self, key: &str) -> Option<Vec<&str>> {
        let all = self.values(key);
        (!all.is_empty()).then_some(all)
    }

    /// Sets `key`, replacing every earlier value of it.
    pub fn set(&mut self, key: &str, value: String) {
        self.0.retain(|(k, _)| !k.eq_ignore_ascii_case(key));
        self.0.push((key.to_owned(), value));
    }
}

#[cfg(feature = "otel")]
impl opentelemetry::propagation::Extractor for HeaderList {
    fn get(&self, key: &str) -> Option<&str> {
        HeaderList::get(self, key)
    }

    fn keys(&self) -> Vec<&str> {
        HeaderList::keys(self)
    }

    fn get_all(&self, key: &str) -> Option<Vec<&str>> {
        HeaderList::get_all(self, key)
    }
}

#[cfg(feature = "otel")]
impl opentelemetry::propagation::Injector for HeaderList {
    fn set(&mut self, key: &str, value: String) {
        HeaderList::set(self, key, value)
    }
}

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use super::*;

    #[test]
    fn repeated_names_are_all_returned_in_order() {
        let h = HeaderList::new(&[("TraceState", "a=1"), ("x", "y"), ("tracestate", "b=2")]);
        assert_eq!(h.get_all("tracestate"), Some(vec!["a=1", "b=2"]));
        assert_eq!(h.get("TRACESTATE"), Some("a=1"));
        assert_eq!(h.get_all("missing"), None);
        assert_eq!(h.keys(), vec!["TraceState", "x", "tracestate"]);
    }

    #[test]
    fn injecting_replaces_earlier_values() {
        let mut h = HeaderList::new(&[("traceparent", "old"), ("Traceparent", "older")]);
        h.set("traceparent", "new".into());
        assert_eq!(h.values("traceparent"), vec!["new"]);
        assert_eq!(h.len(), 1);
    }
}
