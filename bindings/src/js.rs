//! The boundary to JavaScript, without wasm-bindgen (issue 14): a JS value is a handle, an
//! index into a table the package's `wasm.js` keeps, and about thirty imports over numbers
//! read and build values. Exports take handles and return one ([`exports!`]); `wasm.js`
//! wraps each by its number of parameters. Both wasm modules of the package use it.
//!
//! Handles 0 to 4 are fixed (`undefined`, `null`, `true`, `false`, `globalThis`): they are
//! never freed, so the constants below cost no import. Any other handle is owned by one
//! [`JsValue`], which frees it when dropped.

use alloc::string::String;
use alloc::vec::Vec;

/// The imports `wasm.js` gives each module (module `et`). Every one is guarded there: a
/// getter, a proxy or a callback that throws gives `undefined` (or the result documented
/// here), never an exception through wasm.
#[cfg(target_arch = "wasm32")]
mod sys {
    #[link(wasm_import_module = "et")]
    unsafe extern "C" {
        /// Frees a handle.
        pub fn drop(h: u32);
        /// A second handle to the same value.
        pub fn clone(h: u32) -> u32;
        /// What the value is: the `Kind` numbers below.
        pub fn kind(h: u32) -> u32;
        /// The number (NaN when the value is not a number).
        pub fn number(h: u32) -> f64;
        /// A number as a value.
        pub fn from_number(n: f64) -> u32;
        /// UTF-8 text at `ptr` as a string.
        pub fn from_str(ptr: *const u8, len: usize) -> u32;
        /// The length in UTF-8 of a string (kept for `str_copy`), or -1 for another value.
        pub fn str_len(h: u32) -> i32;
        /// Copies the string `str_len` measured to `ptr`.
        pub fn str_copy(ptr: *mut u8);
        /// `o[k]` (`undefined` when `o` is not an object or the read threw).
        pub fn get(o: u32, k: u32) -> u32;
        /// `o[i]`.
        pub fn get_index(o: u32, i: u32) -> u32;
        /// `o[k] = v`; 0 when it threw.
        pub fn set(o: u32, k: u32, v: u32) -> u32;
        /// `{}`.
        pub fn object() -> u32;
        /// `[]`.
        pub fn array() -> u32;
        /// `a.push(v)`.
        pub fn push(a: u32, v: u32);
        /// An array's `length` (-1: not an array, or the read threw).
        pub fn length(a: u32) -> f64;
        /// `Object.keys(o)` (`undefined` when it threw).
        pub fn keys(o: u32) -> u32;
        /// `Reflect.apply(f, undefined, args)`; `u32::MAX` when it threw.
        pub fn apply(f: u32, args: u32) -> u32;
        /// `RegExp.prototype.test` from index 0: 1 matched, 0 not, 2 threw.
        pub fn regexp_test(re: u32, s: u32) -> u32;
        /// `headers.set(k, v)` on a `Headers`; 0 when it threw.
        pub fn header_set(headers: u32, k: u32, v: u32) -> u32;
        /// `new URL(url, base)` (base `undefined`: none)'s `href`, or `undefined`.
        pub fn url(url: u32, base: u32) -> u32;
        /// `Date.prototype.getTime` on the value (NaN when not a Date).
        pub fn date_time(h: u32) -> f64;
        /// `String(n)`.
        pub fn number_string(n: f64) -> u32;
        /// `JSON.stringify(v)` (`undefined` when it threw).
        pub fn json(h: u32) -> u32;
        /// A `Uint8Array` copy of the bytes at `ptr`.
        pub fn bytes(ptr: *const u8, len: usize) -> u32;
        /// The stack of the caller (`new Error().stack` without the import's own frame).
        pub fn stack() -> u32;
        /// `performance.now()`.
        pub fn now() -> f64;
        /// `performance.timeOrigin`.
        pub fn time_origin() -> f64;
        /// `crypto.getRandomValues` into `ptr`; 0 when there is no Web Crypto.
        pub fn random_fill(ptr: *mut u8, len: usize) -> u32;
        /// `Math.random()`.
        pub fn math_random() -> f64;
        /// `console.debug` of UTF-8 text.
        pub fn debug(ptr: *const u8, len: usize);
        /// `sessionStorage.setItem(k, v)`, failures ignored.
        pub fn session_set(k: u32, v: u32);
    }
}

/// The imports on other targets: the crates build natively for lints and docs only.
#[cfg(not(target_arch = "wasm32"))]
#[allow(clippy::missing_safety_doc, missing_docs)]
mod sys {
    pub unsafe fn drop(_: u32) {}
    pub unsafe fn clone(h: u32) -> u32 {
        h
    }
    pub unsafe fn kind(_: u32) -> u32 {
        0
    }
    pub unsafe fn number(_: u32) -> f64 {
        f64::NAN
    }
    pub unsafe fn from_number(_: f64) -> u32 {
        0
    }
    pub unsafe fn from_str(_: *const u8, _: usize) -> u32 {
        0
    }
    pub unsafe fn str_len(_: u32) -> i32 {
        -1
    }
    pub unsafe fn str_copy(_: *mut u8) {}
    pub unsafe fn get(_: u32, _: u32) -> u32 {
        0
    }
    pub unsafe fn get_index(_: u32, _: u32) -> u32 {
        0
    }
    pub unsafe fn set(_: u32, _: u32, _: u32) -> u32 {
        0
    }
    pub unsafe fn object() -> u32 {
        0
    }
    pub unsafe fn array() -> u32 {
        0
    }
    pub unsafe fn push(_: u32, _: u32) {}
    pub unsafe fn length(_: u32) -> f64 {
        -1.0
    }
    pub unsafe fn keys(_: u32) -> u32 {
        0
    }
    pub unsafe fn apply(_: u32, _: u32) -> u32 {
        u32::MAX
    }
    pub unsafe fn regexp_test(_: u32, _: u32) -> u32 {
        2
    }
    pub unsafe fn header_set(_: u32, _: u32, _: u32) -> u32 {
        0
    }
    pub unsafe fn url(_: u32, _: u32) -> u32 {
        0
    }
    pub unsafe fn date_time(_: u32) -> f64 {
        f64::NAN
    }
    pub unsafe fn number_string(_: f64) -> u32 {
        0
    }
    pub unsafe fn json(_: u32) -> u32 {
        0
    }
    pub unsafe fn bytes(_: *const u8, _: usize) -> u32 {
        0
    }
    pub unsafe fn stack() -> u32 {
        0
    }
    pub unsafe fn now() -> f64 {
        0.0
    }
    pub unsafe fn time_origin() -> f64 {
        0.0
    }
    pub unsafe fn random_fill(_: *mut u8, _: usize) -> u32 {
        0
    }
    pub unsafe fn math_random() -> f64 {
        0.0
    }
    pub unsafe fn debug(_: *const u8, _: usize) {}
    pub unsafe fn session_set(_: u32, _: u32) {}
}

/// What `kind` answers (`wasm.js` writes the same numbers).
mod kind {
    pub const NUMBER: u32 = 3;
    pub const STRING: u32 = 4;
    pub const FUNCTION: u32 = 5;
    pub const ARRAY: u32 = 6;
    pub const REGEXP: u32 = 7;
    pub const HEADERS: u32 = 8;
    pub const ERROR: u32 = 9;
    // 10: any other object (functions, arrays, RegExps, Headers and errors are objects too).
}

/// Handles below this are the fixed values and are never freed.
const FIXED: u32 = 5;

/// A JS exception, caught by `wasm.js` (what was thrown is not kept).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Threw;

/// A JS value the module holds (its handle).
#[repr(transparent)]
pub struct JsValue(u32);

impl core::fmt::Debug for JsValue {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("JsValue")
    }
}

impl Drop for JsValue {
    fn drop(&mut self) {
        if self.0 >= FIXED {
            // SAFETY: a handle this value owns.
            unsafe { sys::drop(self.0) }
        }
    }
}

impl Clone for JsValue {
    fn clone(&self) -> Self {
        if self.0 < FIXED {
            return Self(self.0);
        }
        // SAFETY: plain number in, number out.
        Self(unsafe { sys::clone(self.0) })
    }
}

impl JsValue {
    pub const UNDEFINED: Self = Self(0);
    pub const NULL: Self = Self(1);
    pub const TRUE: Self = Self(2);
    pub const FALSE: Self = Self(3);

    /// Takes ownership of a handle JS passed in.
    pub fn from_raw(h: u32) -> Self {
        Self(h)
    }

    /// Gives the handle to JS (which frees it).
    pub fn into_raw(self) -> u32 {
        let h = self.0;
        core::mem::forget(self);
        h
    }

    /// The handle, for a call that borrows the value.
    pub fn raw(&self) -> u32 {
        self.0
    }

    /// `globalThis`.
    pub fn global() -> Self {
        Self(4)
    }

    /// A string (named as wasm-bindgen names it; not `FromStr`, which cannot fail here).
    #[allow(clippy::should_implement_trait)]
    pub fn from_str(s: &str) -> Self {
        // SAFETY: the text is valid for the call.
        Self(unsafe { sys::from_str(s.as_ptr(), s.len()) })
    }

    pub fn from_f64(n: f64) -> Self {
        // SAFETY: plain number in, number out.
        Self(unsafe { sys::from_number(n) })
    }

    pub fn from_bool(b: bool) -> Self {
        if b { Self::TRUE } else { Self::FALSE }
    }

    fn kind(&self) -> u32 {
        match self.0 {
            0 => 0,
            1 => 1,
            2 | 3 => 2,
            // SAFETY: plain number in, number out.
            h => unsafe { sys::kind(h) },
        }
    }

    pub fn is_undefined(&self) -> bool {
        self.0 == 0
    }

    pub fn is_null(&self) -> bool {
        self.0 == 1
    }

    pub fn as_bool(&self) -> Option<bool> {
        match self.0 {
            2 => Some(true),
            3 => Some(false),
            _ => None,
        }
    }

    pub fn as_f64(&self) -> Option<f64> {
        (self.kind() == kind::NUMBER).then(|| {
            // SAFETY: plain number in, number out.
            unsafe { sys::number(self.0) }
        })
    }

    pub fn is_string(&self) -> bool {
        self.kind() == kind::STRING
    }

    pub fn as_string(&self) -> Option<String> {
        if self.0 < FIXED {
            return None;
        }
        // SAFETY: `str_copy` writes exactly the `n` bytes `str_len` measured, valid UTF-8
        // (TextEncoder's output, lone surrogates as U+FFFD).
        unsafe {
            let n = usize::try_from(sys::str_len(self.0)).ok()?;
            let mut v = Vec::with_capacity(n);
            sys::str_copy(v.as_mut_ptr());
            v.set_len(n);
            Some(String::from_utf8_unchecked(v))
        }
    }

    /// An object (functions, arrays and other objects), not `null`.
    pub fn is_object(&self) -> bool {
        self.kind() >= kind::FUNCTION
    }

    pub fn is_function(&self) -> bool {
        self.kind() == kind::FUNCTION
    }

    pub fn is_array(&self) -> bool {
        self.kind() == kind::ARRAY
    }

    pub fn is_regexp(&self) -> bool {
        self.kind() == kind::REGEXP
    }

    pub fn is_headers(&self) -> bool {
        self.kind() == kind::HEADERS
    }

    pub fn is_error(&self) -> bool {
        self.kind() == kind::ERROR
    }
}

impl From<&str> for JsValue {
    fn from(s: &str) -> Self {
        Self::from_str(s)
    }
}

impl From<f64> for JsValue {
    fn from(n: f64) -> Self {
        Self::from_f64(n)
    }
}

impl From<u8> for JsValue {
    fn from(n: u8) -> Self {
        Self::from_f64(f64::from(n))
    }
}

impl From<u32> for JsValue {
    fn from(n: u32) -> Self {
        Self::from_f64(f64::from(n))
    }
}

impl From<bool> for JsValue {
    fn from(b: bool) -> Self {
        Self::from_bool(b)
    }
}

/// `o[key]` (`undefined` for a non-object, or when the read threw).
pub fn get(o: &JsValue, key: &str) -> JsValue {
    // `undefined`, `null`, `true` and `false` have no properties worth a call.
    if o.0 < 4 {
        return JsValue::UNDEFINED;
    }
    get_value(o, &JsValue::from_str(key))
}

/// `o[key]` with a key that is a value.
pub fn get_value(o: &JsValue, key: &JsValue) -> JsValue {
    // SAFETY: plain numbers in, a handle out.
    JsValue(unsafe { sys::get(o.0, key.0) })
}

/// `o[i]`.
pub fn get_index(o: &JsValue, i: u32) -> JsValue {
    // SAFETY: plain numbers in, a handle out.
    JsValue(unsafe { sys::get_index(o.0, i) })
}

/// `o[key] = v`; false when it threw.
pub fn set(o: &JsValue, key: &str, v: &JsValue) -> bool {
    set_value(o, &JsValue::from_str(key), v)
}

/// `o[key] = v` with a key that is a value.
pub fn set_value(o: &JsValue, key: &JsValue, v: &JsValue) -> bool {
    // SAFETY: plain numbers in and out.
    unsafe { sys::set(o.0, key.0, v.0) != 0 }
}

/// `{}`.
pub fn object() -> JsValue {
    // SAFETY: a handle out.
    JsValue(unsafe { sys::object() })
}

/// `[]`.
pub fn array() -> JsValue {
    // SAFETY: a handle out.
    JsValue(unsafe { sys::array() })
}

/// `a.push(v)`.
pub fn push(a: &JsValue, v: &JsValue) {
    // SAFETY: plain numbers in.
    unsafe { sys::push(a.0, v.0) }
}

/// An array's length (`None`: not an array, or the read threw).
pub fn length(a: &JsValue) -> Option<f64> {
    // SAFETY: plain number in and out.
    let n = unsafe { sys::length(a.0) };
    (n >= 0.0).then_some(n)
}

/// `Object.keys(o)`: its own enumerable string keys (`None` when it threw or `o` is not an
/// object).
pub fn keys(o: &JsValue) -> Option<JsValue> {
    if !o.is_object() {
        return None;
    }
    // SAFETY: plain number in, a handle out.
    let keys = JsValue(unsafe { sys::keys(o.0) });
    keys.is_array().then_some(keys)
}

/// `Reflect.apply(f, undefined, args)`; `Err` when it threw.
pub fn apply(f: &JsValue, args: &JsValue) -> Result<JsValue, Threw> {
    // SAFETY: plain numbers in, a handle out.
    match unsafe { sys::apply(f.0, args.0) } {
        u32::MAX => Err(Threw),
        h => Ok(JsValue(h)),
    }
}

/// `re.test(s)` from the start of `s`; `Err` when it threw.
pub fn regexp_test(re: &JsValue, s: &str) -> Result<bool, Threw> {
    let s = JsValue::from_str(s);
    // SAFETY: plain numbers in and out.
    match unsafe { sys::regexp_test(re.0, s.0) } {
        0 => Ok(false),
        1 => Ok(true),
        _ => Err(Threw),
    }
}

/// `headers.set(k, v)` on a `Headers`; false when it threw.
pub fn header_set(headers: &JsValue, k: &str, v: &str) -> bool {
    let (k, v) = (JsValue::from_str(k), JsValue::from_str(v));
    // SAFETY: plain numbers in and out.
    unsafe { sys::header_set(headers.0, k.0, v.0) != 0 }
}

/// `new URL(url, base).href`, or `None` when it does not parse.
pub fn url_href(url: &str, base: Option<&str>) -> Option<String> {
    let url = JsValue::from_str(url);
    let base = base.map_or(JsValue::UNDEFINED, JsValue::from_str);
    // SAFETY: plain numbers in, a handle out.
    JsValue(unsafe { sys::url(url.0, base.0) }).as_string()
}

/// `Date.prototype.getTime` on `v` (`None` when it is not a Date).
pub fn date_time(v: &JsValue) -> Option<f64> {
    if v.0 < FIXED {
        return None;
    }
    // SAFETY: plain number in and out.
    let t = unsafe { sys::date_time(v.0) };
    (!t.is_nan()).then_some(t)
}

/// `String(n)`.
pub fn number_string(n: f64) -> String {
    // SAFETY: plain number in, a handle out.
    JsValue(unsafe { sys::number_string(n) })
        .as_string()
        .unwrap_or_default()
}

/// `JSON.stringify(v)`, or `None` when it threw (a cycle, a `BigInt`) or gave `undefined`.
pub fn json(v: &JsValue) -> Option<String> {
    // SAFETY: plain number in, a handle out.
    JsValue(unsafe { sys::json(v.0) }).as_string()
}

/// A `Uint8Array` holding a copy of `b`.
pub fn bytes(b: &[u8]) -> JsValue {
    // SAFETY: the bytes are valid for the call.
    JsValue(unsafe { sys::bytes(b.as_ptr(), b.len()) })
}

/// The JS stack of the current call.
pub fn stack() -> String {
    // SAFETY: a handle out.
    JsValue(unsafe { sys::stack() })
        .as_string()
        .unwrap_or_default()
}

/// `performance.now()`.
pub fn now() -> f64 {
    // SAFETY: a number out.
    unsafe { sys::now() }
}

/// `performance.timeOrigin`.
pub fn time_origin() -> f64 {
    // SAFETY: a number out.
    unsafe { sys::time_origin() }
}

/// `crypto.getRandomValues(buf)`; false where there is no Web Crypto.
pub fn random_fill(buf: &mut [u8]) -> bool {
    // SAFETY: the buffer is valid and writable for the call.
    unsafe { sys::random_fill(buf.as_mut_ptr(), buf.len()) != 0 }
}

/// `Math.random()`.
pub fn math_random() -> f64 {
    // SAFETY: a number out.
    unsafe { sys::math_random() }
}

/// `console.debug(text)`.
pub fn debug(text: &str) {
    // SAFETY: the text is valid for the call.
    unsafe { sys::debug(text.as_ptr(), text.len()) }
}

/// `sessionStorage.setItem(k, v)`; failures (quota, no storage) are ignored.
pub fn session_set(k: &str, v: &str) {
    let (k, v) = (JsValue::from_str(k), JsValue::from_str(v));
    // SAFETY: plain numbers in.
    unsafe { sys::session_set(k.0, v.0) }
}

/// An export's argument, from the handle JS passed.
pub trait FromJs {
    fn from_js(v: JsValue) -> Self;
}

/// An export's result, as the handle JS receives.
pub trait IntoJs {
    fn into_js(self) -> JsValue;
}

impl FromJs for JsValue {
    fn from_js(v: JsValue) -> Self {
        v
    }
}

impl FromJs for f64 {
    fn from_js(v: JsValue) -> Self {
        v.as_f64().unwrap_or(f64::NAN)
    }
}

impl FromJs for u32 {
    /// As JS's `>>> 0` would for the numbers the package passes; anything else is 0.
    fn from_js(v: JsValue) -> Self {
        v.as_f64().map_or(0, |n| n as u32)
    }
}

impl FromJs for bool {
    fn from_js(v: JsValue) -> Self {
        v.as_bool().unwrap_or(false)
    }
}

impl FromJs for String {
    fn from_js(v: JsValue) -> Self {
        v.as_string().unwrap_or_default()
    }
}

impl FromJs for Option<String> {
    fn from_js(v: JsValue) -> Self {
        v.as_string()
    }
}

impl IntoJs for JsValue {
    fn into_js(self) -> JsValue {
        self
    }
}

impl IntoJs for () {
    fn into_js(self) -> JsValue {
        JsValue::UNDEFINED
    }
}

impl IntoJs for bool {
    fn into_js(self) -> JsValue {
        JsValue::from_bool(self)
    }
}

impl IntoJs for u32 {
    fn into_js(self) -> JsValue {
        JsValue::from(self)
    }
}

impl IntoJs for f64 {
    fn into_js(self) -> JsValue {
        JsValue::from_f64(self)
    }
}

impl IntoJs for String {
    fn into_js(self) -> JsValue {
        JsValue::from_str(&self)
    }
}

impl IntoJs for Option<String> {
    fn into_js(self) -> JsValue {
        self.map_or(JsValue::UNDEFINED, |s| JsValue::from_str(&s))
    }
}

impl IntoJs for Vec<String> {
    fn into_js(self) -> JsValue {
        let a = array();
        for s in &self {
            push(&a, &JsValue::from_str(s));
        }
        a
    }
}

/// Exports functions to JS under the names given: each parameter and the result cross as
/// handles ([`FromJs`], [`IntoJs`]); `wasm.js` wraps the export by its number of parameters.
///
/// ```ignore
/// exports! {
///     "spanEnd" => api::span_end(handle: u32, end_time: JsValue);
/// }
/// ```
#[macro_export]
macro_rules! exports {
    ($($name:literal => $f:path [$($arg:ident : $ty:ty),* $(,)?];)*) => {$(
        #[cfg(target_arch = "wasm32")]
        const _: () = {
            #[unsafe(export_name = $name)]
            pub extern "C" fn export($($arg: u32),*) -> u32 {
                $crate::js::IntoJs::into_js($f($(
                    <$ty as $crate::js::FromJs>::from_js($crate::js::JsValue::from_raw($arg))
                ),*))
                .into_raw()
            }
        };
    )*};
}
