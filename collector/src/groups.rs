//! Groups: named X-Ray filter expressions over the stored traces.
//!
//! A group (`--group NAME=EXPRESSION`) lists the traces its expression matches, as an X-Ray
//! group does. The expressions are the part of X-Ray's filter expression language a local
//! collector needs, with X-Ray's meaning:
//!
//! ```text
//! expr      = term *( "OR" term )
//! term      = factor *( "AND" factor )
//! factor    = [ "!" ] ( "(" expr ")" / predicate )
//! predicate = "service(" string ")"            ; a span of the trace is from that service
//!           / "error" / "fault" / "throttle" / "ok"
//!           / key op value
//! key       = "http.status" / "http.method" / "http.url" / "responsetime" / "duration"
//!           / "annotation." name
//! op        = "=" / "!=" / "<" / "<=" / ">" / ">=" / "CONTAINS" / "BEGINSWITH" / "ENDSWITH"
//! value     = number / "string" / true / false
//! ```
//!
//! Keywords and operators are matched without regard to case. `error` is a 4xx anywhere in the
//! trace (X-Ray's "client error"), `throttle` a 429, `fault` a 5xx or a span with an error
//! status; `ok` is none of them. `http.*` and `responsetime` (seconds) are the entry point's:
//! the trace's earliest SERVER span (its first span when it has none); `duration` is the
//! whole trace's, in seconds. `annotation.NAME` matches a span attribute `annotation.NAME`
//! (an X-Ray segment's annotation) or, for OpenTelemetry spans, the attribute `NAME`.

use edge_telemetry_core::web::http::xray_status_flags;
use serde_json::Value;

/// A parsed filter expression.
#[derive(Clone, Debug, PartialEq)]
pub enum Expr {
    /// Both.
    And(Box<Expr>, Box<Expr>),
    /// Either.
    Or(Box<Expr>, Box<Expr>),
    /// Not.
    Not(Box<Expr>),
    /// `service("name")`.
    Service(String),
    /// `error`, `fault`, `throttle`, `ok`.
    Flag(Flag),
    /// `key op value`.
    Compare(Key, Op, Literal),
}

/// The trace-level booleans.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flag {
    /// A 4xx.
    Error,
    /// A 5xx or an error status.
    Fault,
    /// A 429.
    Throttle,
    /// None of them.
    Ok,
}

/// What a comparison reads.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Key {
    /// The entry point's `http.response.status_code`.
    HttpStatus,
    /// The entry point's `http.request.method`.
    HttpMethod,
    /// The entry point's `url.full` (or `url.path`).
    HttpUrl,
    /// The entry point's duration, seconds.
    ResponseTime,
    /// The whole trace's duration, seconds.
    Duration,
    /// `annotation.NAME`.
    Annotation(String),
}

/// A comparison operator.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Contains,
    BeginsWith,
    EndsWith,
}

/// A value on the right of an operator.
#[derive(Clone, Debug, PartialEq)]
pub enum Literal {
    Number(f64),
    Text(String),
    Bool(bool),
}

/// A named group.
#[derive(Clone, Debug, PartialEq)]
pub struct Group {
    /// Its name.
    pub name: String,
    /// The expression as written.
    pub filter_expression: String,
    /// Parsed.
    pub expr: Expr,
}

impl Group {
    /// `NAME=EXPRESSION` (the `--group` argument).
    pub fn parse_arg(arg: &str) -> Result<Self, String> {
        let (name, expression) = arg
            .split_once('=')
            .ok_or_else(|| format!("`{arg}` is not NAME=EXPRESSION"))?;
        let name = name.trim();
        if name.is_empty()
            || name.len() > 32
            || !name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.')
        {
            return Err(format!(
                "group name `{name}`: 1 to 32 letters, digits, `-`, `_` or `.`"
            ));
        }
        let expr = parse(expression).map_err(|e| format!("group `{name}`: {e}"))?;
        Ok(Self {
            name: name.to_owned(),
            filter_expression: expression.trim().to_owned(),
            expr,
        })
    }
}

#[derive(Clone, Debug, PartialEq)]
enum Token {
    LParen,
    RParen,
    Not,
    Op(Op),
    Word(String),
    Text(String),
    Number(f64),
}

fn tokenize(input: &str) -> Result<Vec<(usize, Token)>, String> {
    let chars: Vec<char> = input.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let at = i;
        match c {
            c if c.is_whitespace() => {
                i += 1;
                continue;
            }
            '(' => out.push((at, Token::LParen)),
            ')' => out.push((at, Token::RParen)),
            '!' if chars.get(i + 1) == Some(&'=') => {
                out.push((at, Token::Op(Op::Ne)));
                i += 1;
            }
            '!' => out.push((at, Token::Not)),
            '=' => out.push((at, Token::Op(Op::Eq))),
            '<' | '>' => {
                let eq = chars.get(i + 1) == Some(&'=');
                let op = match (c, eq) {
                    ('<', false) => Op::Lt,
                    ('<', true) => Op::Le,
                    ('>', false) => Op::Gt,
                    _ => Op::Ge,
                };
                if eq {
                    i += 1;
                }
                out.push((at, Token::Op(op)));
            }
            '"' => {
                let mut text = String::new();
                i += 1;
                loop {
                    match chars.get(i) {
                        None => return Err(format!("unterminated string at {at}")),
                        Some('"') => break,
                        Some('\\') if i + 1 < chars.len() => {
                            text.push(chars[i + 1]);
                            i += 2;
                        }
                        Some(&ch) => {
                            text.push(ch);
                            i += 1;
                        }
                    }
                }
                out.push((at, Token::Text(text)));
            }
            c if c.is_ascii_digit()
                || (c == '-' && chars.get(i + 1).is_some_and(char::is_ascii_digit)) =>
            {
                let start = i;
                i += 1;
                while i < chars.len() && (chars[i].is_ascii_digit() || chars[i] == '.') {
                    i += 1;
                }
                let text: String = chars[start..i].iter().collect();
                let n = text
                    .parse::<f64>()
                    .map_err(|_| format!("`{text}` at {start} is not a number"))?;
                out.push((at, Token::Number(n)));
                continue;
            }
            c if c.is_alphanumeric() || c == '_' => {
                let start = i;
                while i < chars.len()
                    && (chars[i].is_alphanumeric() || matches!(chars[i], '_' | '.' | '-' | ':'))
                {
                    i += 1;
                }
                out.push((at, Token::Word(chars[start..i].iter().collect())));
                continue;
            }
            other => return Err(format!("unexpected `{other}` at {at}")),
        }
        i += 1;
    }
    Ok(out)
}

struct Parser {
    tokens: Vec<(usize, Token)>,
    pos: usize,
    len: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.pos).map(|(_, t)| t)
    }

    fn at(&self) -> usize {
        self.tokens.get(self.pos).map_or(self.len, |(at, _)| *at)
    }

    fn next(&mut self) -> Option<Token> {
        let t = self.tokens.get(self.pos).map(|(_, t)| t.clone());
        self.pos += 1;
        t
    }

    fn keyword(&self, word: &str) -> bool {
        matches!(self.peek(), Some(Token::Word(w)) if w.eq_ignore_ascii_case(word))
    }

    fn expr(&mut self) -> Result<Expr, String> {
        let mut left = self.term()?;
        while self.keyword("or") {
            self.pos += 1;
            left = Expr::Or(Box::new(left), Box::new(self.term()?));
        }
        Ok(left)
    }

    fn term(&mut self) -> Result<Expr, String> {
        let mut left = self.factor()?;
        while self.keyword("and") {
            self.pos += 1;
            left = Expr::And(Box::new(left), Box::new(self.factor()?));
        }
        Ok(left)
    }

    fn factor(&mut self) -> Result<Expr, String> {
        let at = self.at();
        match self.next() {
            Some(Token::Not) => Ok(Expr::Not(Box::new(self.factor()?))),
            Some(Token::LParen) => {
                let inner = self.expr()?;
                match self.next() {
                    Some(Token::RParen) => Ok(inner),
                    _ => Err(format!("`)` expected at {}", self.at_prev())),
                }
            }
            Some(Token::Word(w)) => self.predicate(&w, at),
            Some(_) => Err(format!("a condition expected at {at}")),
            None => Err(format!(
                "a condition expected at {at} (the expression ends)"
            )),
        }
    }

    fn at_prev(&self) -> usize {
        self.tokens
            .get(self.pos.saturating_sub(1))
            .map_or(self.len, |(at, _)| *at)
    }

    fn predicate(&mut self, word: &str, at: usize) -> Result<Expr, String> {
        let lower = word.to_ascii_lowercase();
        match lower.as_str() {
            "service" => {
                let name = match (self.next(), self.next(), self.next()) {
                    (Some(Token::LParen), Some(Token::Text(name)), Some(Token::RParen)) => name,
                    _ => return Err(format!("service(\"name\") expected at {at}")),
                };
                return Ok(Expr::Service(name));
            }
            "error" => return Ok(Expr::Flag(Flag::Error)),
            "fault" => return Ok(Expr::Flag(Flag::Fault)),
            "throttle" => return Ok(Expr::Flag(Flag::Throttle)),
            "ok" => return Ok(Expr::Flag(Flag::Ok)),
            _ => {}
        }
        let key = match lower.as_str() {
            "http.status" => Key::HttpStatus,
            "http.method" => Key::HttpMethod,
            "http.url" => Key::HttpUrl,
            "responsetime" => Key::ResponseTime,
            "duration" => Key::Duration,
            _ => match word.get(..11) {
                Some(p) if p.eq_ignore_ascii_case("annotation.") && word.len() > 11 => {
                    Key::Annotation(word[11..].to_owned())
                }
                _ => return Err(format!("unknown keyword `{word}` at {at}")),
            },
        };
        let op_at = self.at();
        let op = match self.next() {
            Some(Token::Op(op)) => op,
            Some(Token::Word(w)) if w.eq_ignore_ascii_case("contains") => Op::Contains,
            Some(Token::Word(w)) if w.eq_ignore_ascii_case("beginswith") => Op::BeginsWith,
            Some(Token::Word(w)) if w.eq_ignore_ascii_case("endswith") => Op::EndsWith,
            _ => return Err(format!("an operator expected after `{word}` at {op_at}")),
        };
        let value_at = self.at();
        let value = match self.next() {
            Some(Token::Number(n)) => Literal::Number(n),
            Some(Token::Text(t)) => Literal::Text(t),
            Some(Token::Word(w)) if w.eq_ignore_ascii_case("true") => Literal::Bool(true),
            Some(Token::Word(w)) if w.eq_ignore_ascii_case("false") => Literal::Bool(false),
            _ => return Err(format!("a value expected at {value_at}")),
        };
        let numeric = matches!(key, Key::HttpStatus | Key::ResponseTime | Key::Duration);
        if numeric && !matches!(value, Literal::Number(_)) {
            return Err(format!("`{word}` compares with a number (at {value_at})"));
        }
        Ok(Expr::Compare(key, op, value))
    }
}

/// Parses a filter expression; the error says what was expected and where (a character
/// offset).
pub fn parse(input: &str) -> Result<Expr, String> {
    let tokens = tokenize(input)?;
    let len = input.chars().count();
    let mut p = Parser {
        tokens,
        pos: 0,
        len,
    };
    let expr = p.expr()?;
    if p.pos < p.tokens.len() {
        return Err(format!("unexpected text at {}", p.at()));
    }
    Ok(expr)
}

/// The facts about one trace an expression reads, from the collector's trace JSON
/// (`Store::trace`).
#[derive(Debug)]
pub struct TraceFacts<'a> {
    spans: &'a [Value],
    entry: Option<&'a Value>,
}

impl<'a> TraceFacts<'a> {
    /// From `{"spans": [...]}`.
    pub fn new(trace: &'a Value) -> Self {
        let spans: &[Value] = trace["spans"].as_array().map_or(&[], Vec::as_slice);
        let start = |s: &&Value| s["start"].as_f64().unwrap_or(f64::MAX);
        let entry = spans
            .iter()
            .filter(|s| s["kind"] == "server")
            .min_by(|a, b| start(a).total_cmp(&start(b)))
            .or_else(|| spans.iter().min_by(|a, b| start(a).total_cmp(&start(b))));
        Self { spans, entry }
    }

    fn statuses(&self) -> impl Iterator<Item = i64> + '_ {
        self.spans
            .iter()
            .filter_map(|s| s["attributes"]["http.response.status_code"].as_i64())
    }

    fn flag(&self, flag: Flag) -> bool {
        let error_status = self.spans.iter().any(|s| s["status"]["code"] == "error");
        let any = |f: &dyn Fn(i64) -> bool| self.statuses().any(f);
        let xray = |k: &str| {
            self.spans
                .iter()
                .any(|s| s["attributes"][format!("aws.xray.{k}")] == Value::Bool(true))
        };
        let x = |c: i64| xray_status_flags(u64::try_from(c).unwrap_or(0));
        match flag {
            Flag::Throttle => any(&|c| x(c).throttle) || xray("throttle"),
            Flag::Error => any(&|c| x(c).error) || xray("error"),
            Flag::Fault => any(&|c| x(c).fault) || error_status || xray("fault"),
            Flag::Ok => !self.flag(Flag::Error) && !self.flag(Flag::Fault),
        }
    }

    fn entry_attr(&self, key: &str) -> Option<&'a Value> {
        self.entry
            .map(|e| &e["attributes"][key])
            .filter(|v| !v.is_null())
    }

    fn seconds(span: &Value) -> Option<f64> {
        span["durationMs"].as_f64().map(|ms| ms / 1000.0)
    }

    fn duration(&self) -> Option<f64> {
        let start = self
            .spans
            .iter()
            .filter_map(|s| s["start"].as_f64())
            .fold(f64::MAX, f64::min);
        let end = self
            .spans
            .iter()
            .filter_map(|s| Some(s["start"].as_f64()? + s["durationMs"].as_f64()?))
            .fold(f64::MIN, f64::max);
        (end >= start).then(|| (end - start) / 1000.0)
    }

    /// Whether `expr` matches this trace.
    pub fn matches(&self, expr: &Expr) -> bool {
        match expr {
            Expr::And(a, b) => self.matches(a) && self.matches(b),
            Expr::Or(a, b) => self.matches(a) || self.matches(b),
            Expr::Not(a) => !self.matches(a),
            Expr::Service(name) => self.spans.iter().any(|s| s["service"] == name.as_str()),
            Expr::Flag(f) => self.flag(*f),
            Expr::Compare(key, op, value) => {
                let values: Vec<Value> = match key {
                    Key::HttpStatus => self
                        .entry_attr("http.response.status_code")
                        .cloned()
                        .into_iter()
                        .collect(),
                    Key::HttpMethod => self
                        .entry_attr("http.request.method")
                        .cloned()
                        .into_iter()
                        .collect(),
                    Key::HttpUrl => self
                        .entry_attr("url.full")
                        .or_else(|| self.entry_attr("url.path"))
                        .cloned()
                        .into_iter()
                        .collect(),
                    Key::ResponseTime => self
                        .entry
                        .and_then(Self::seconds)
                        .map(Value::from)
                        .into_iter()
                        .collect(),
                    Key::Duration => self.duration().map(Value::from).into_iter().collect(),
                    Key::Annotation(name) => self
                        .spans
                        .iter()
                        .flat_map(|s| {
                            let a = &s["attributes"];
                            [
                                a[format!("annotation.{name}")].clone(),
                                a[name.as_str()].clone(),
                            ]
                        })
                        .filter(|v| !v.is_null())
                        .collect(),
                };
                values.iter().any(|v| compare(v, *op, value))
            }
        }
    }
}

fn compare(actual: &Value, op: Op, expected: &Literal) -> bool {
    match expected {
        Literal::Number(n) => {
            let Some(a) = actual
                .as_f64()
                .or_else(|| actual.as_str().and_then(|s| s.parse().ok()))
            else {
                return false;
            };
            match op {
                Op::Eq => a == *n,
                Op::Ne => a != *n,
                Op::Lt => a < *n,
                Op::Le => a <= *n,
                Op::Gt => a > *n,
                Op::Ge => a >= *n,
                _ => false,
            }
        }
        Literal::Bool(b) => match op {
            Op::Eq => actual.as_bool() == Some(*b),
            Op::Ne => actual.as_bool().is_some_and(|a| a != *b),
            _ => false,
        },
        Literal::Text(t) => {
            let a = match actual {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            match op {
                Op::Eq => a == *t,
                Op::Ne => a != *t,
                Op::Contains => a.contains(t.as_str()),
                Op::BeginsWith => a.starts_with(t.as_str()),
                Op::EndsWith => a.ends_with(t.as_str()),
                _ => false,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn trace() -> Value {
        json!({"spans": [
            {"name": "click", "kind": "internal", "service": "web", "start": 1000.0, "durationMs": 900.0,
             "status": {"code": "unset"}, "attributes": {"cart": "gold"}},
            {"name": "GET /api/cart", "kind": "client", "service": "web", "start": 1010.0, "durationMs": 700.0,
             "status": {"code": "unset"}, "attributes": {"http.response.status_code": 503}},
            {"name": "GET /api/cart", "kind": "server", "service": "backend", "start": 1100.0, "durationMs": 500.0,
             "status": {"code": "error"},
             "attributes": {"http.request.method": "GET", "http.response.status_code": 503,
                            "url.full": "http://api/cart?x=REDACTED", "annotation.tier": "gold"}}
        ]})
    }

    fn check(expr: &str) -> bool {
        let t = trace();
        TraceFacts::new(&t).matches(&parse(expr).unwrap_or_else(|e| panic!("{expr}: {e}")))
    }

    #[test]
    fn expression_vectors() {
        for (expr, want) in [
            ("service(\"backend\")", true),
            ("service(\"billing\")", false),
            ("SERVICE(\"web\")", true),
            ("fault", true),
            ("error", false),
            ("throttle", false),
            ("ok", false),
            ("!error", true),
            ("http.status = 503", true),
            ("http.status >= 500 AND http.status < 600", true),
            ("http.status = 200", false),
            ("http.method = \"GET\"", true),
            ("http.url CONTAINS \"/cart\"", true),
            ("http.url BEGINSWITH \"https\"", false),
            ("responsetime > 0.4", true),
            ("responsetime > 0.6", false),
            ("duration >= 0.9", true),
            ("annotation.tier = \"gold\"", true),
            ("annotation.cart = \"gold\"", true),
            ("annotation.tier = \"silver\"", false),
            ("service(\"billing\") OR fault", true),
            (
                "service(\"billing\") or (fault and http.status = 503)",
                true,
            ),
            ("service(\"backend\") AND !fault", false),
            ("error OR throttle OR service(\"billing\")", false),
        ] {
            assert_eq!(check(expr), want, "{expr}");
        }
    }

    #[test]
    fn precedence_and_binds_tighter_than_or() {
        // true OR (false AND false) = true; (true OR false) AND false would be false.
        assert!(check("fault OR error AND throttle"));
        assert_eq!(
            parse("a.x = 1 OR fault AND error").err(),
            Some("unknown keyword `a.x` at 0".to_owned())
        );
    }

    #[test]
    fn bad_expressions_say_where() {
        for (expr, said) in [
            ("", "a condition expected at 0"),
            ("fault AND", "a condition expected at 9"),
            ("service(backend)", "service(\"name\") expected at 0"),
            ("http.status", "an operator expected after `http.status`"),
            ("http.status = \"x\"", "compares with a number"),
            ("(fault", "`)` expected"),
            ("fault error", "unexpected text at 6"),
            ("http.method = \"GET", "unterminated string"),
            ("fault # x", "unexpected `#` at 6"),
            ("bogus", "unknown keyword `bogus`"),
        ] {
            let e = parse(expr).expect_err(expr);
            assert!(e.contains(said), "{expr}: {e}");
        }
        assert!(Group::parse_arg("no-equals").is_err());
        assert!(Group::parse_arg("bad name=fault").is_err());
        let g = Group::parse_arg("backend=service(\"backend\")").unwrap();
        assert_eq!(
            (g.name.as_str(), g.filter_expression.as_str()),
            ("backend", "service(\"backend\")")
        );
        assert!(
            Group::parse_arg("x=fault AND")
                .unwrap_err()
                .starts_with("group `x`:")
        );
    }

    #[test]
    fn an_empty_trace_matches_nothing_positive() {
        let empty = json!({"spans": []});
        let f = TraceFacts::new(&empty);
        for expr in [
            "fault",
            "error",
            "http.status = 200",
            "duration > 0",
            "service(\"a\")",
        ] {
            assert!(!f.matches(&parse(expr).unwrap()), "{expr}");
        }
        assert!(f.matches(&parse("ok").unwrap()));
    }
}
