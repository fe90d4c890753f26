//! Frozen samples of your own schema versions, so that a change that would log users out fails
//! your tests instead of your deploy. Needs the `testing` feature:
//!
//! ```toml
//! [dev-dependencies]
//! session-runtime = { version = "0.1", features = ["testing"] }
//! ```
//!
//! A sample is one value of one schema version, sealed into cookies with a fixed test key and
//! written once to a file under your tests folder: `v1.session`, `v2.session`, …, one per
//! version. Check the files in. From then on a sample is frozen: nothing rewrites it, so it keeps
//! showing the bytes that version wrote, the way the cookies in your users' browsers do.
//!
//! Two checks run on them:
//!
//! - [`Samples::freeze`] writes the samples that are missing, and checks that each frozen one
//!   still reads, as exactly its own type, into the value you gave. A struct changed without a
//!   version bump (a field added, removed, reordered or retyped, enum variants reordered) fails
//!   here, whichever version it is.
//! - [`assert_samples_open`] checks that every frozen sample opens into your *current* schema,
//!   migrating through the `previous` chain as the middleware does: a version dropped from the
//!   chain, or a migration that fails, fails here.
//!
//! Both want a sample of every version of the chain ([`CookieSession::SCHEMA`]): a version
//! without one is a failure that names it, since its cookies would be checked by nothing.
//!
//! ```no_run
//! use serde::{Deserialize, Serialize};
//! use session_runtime::CookieSession;
//! use session_runtime::testing::{Samples, assert_samples_open};
//!
//! #[derive(CookieSession, Serialize, Deserialize, Debug, PartialEq)]
//! #[session(version = 1)]
//! struct CartV1 { user_id: u64 }
//!
//! #[derive(CookieSession, Serialize, Deserialize, Debug, PartialEq)]
//! #[session(version = 2, previous = CartV1)]
//! struct Cart { user_id: u64, items: Vec<u32> }
//!
//! impl From<CartV1> for Cart {
//!     fn from(old: CartV1) -> Self { Cart { user_id: old.user_id, items: Vec::new() } }
//! }
//!
//! // tests/sessions.rs
//! #[test]
//! fn sessions_written_by_every_version_still_open() {
//!     Samples::new("tests/golden-sessions")
//!         .sample(&CartV1 { user_id: 7 })
//!         .sample(&Cart { user_id: 7, items: vec![1, 2, 3] })
//!         .freeze();
//!     assert_samples_open::<Cart>("tests/golden-sessions");
//! }
//! ```
//!
//! Relative paths are resolved from the current directory, which `cargo test` sets to the
//! package's root. When the environment variable `CI` is set (to anything but `0` or `false`),
//! a missing sample is an error instead of being written: a sample frozen on a CI machine and
//! thrown away with it would freeze nothing.
//!
//! When a version bump is intended, add a `.sample(..)` of the new version; the old samples
//! stay as they are. Delete a sample file only with the version it freezes, once no browser can
//! still hold such a cookie.

use std::fmt::{self, Debug};
use std::path::{Path, PathBuf};

use crate::codec::Codec;
use crate::envelope::{SessionId, SessionMeta};
use crate::error::{OpenError, SchemaError};
use crate::key::Key;
use crate::layer::SessionLayer;
use crate::schema::{CookieSession, SchemaVersion};

// Users' frozen samples are sealed with these settings: changing any of them breaks every sample
// already checked in, so they are as frozen as the wire format.

/// The key every sample is sealed with. Public by design: it must never seal anything else.
const TEST_KEY: &[u8; 32] = b"session-runtime frozen samples!!";
/// When every sample was sealed, and when it is opened: nothing expires in between.
const SEALED_AT: u32 = 1_763_800_000;
const SAMPLE_ID: [u8; 16] = *b"frozen-sample-id";
const COOKIE_NAME: &str = "session";
const EXTENSION: &str = "session";
const HEADER: &str = "\
# A frozen session sample: never edit or regenerate it. session_runtime::testing wrote it once;
# Samples::freeze and assert_samples_open check that it keeps opening.
";

/// Samples of schema versions, to freeze under a folder: see the [module docs](self).
#[derive(Debug)]
pub struct Samples {
    dir: PathBuf,
    samples: Vec<Sample>,
}

/// Checks a frozen file against a sample: `Err` says why it fails.
type Check = dyn Fn(&Frozen) -> Result<(), String>;

/// One sample: its file's contents, and the check its frozen file must pass.
struct Sample {
    /// Its version, linked to the ones it reads.
    schema: SchemaVersion,
    debug: String,
    cookie: String,
    /// Opens a frozen file's cookie as the sample's own type and compares it with the value.
    check: Box<Check>,
}

impl Debug for Sample {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sample")
            .field("version", &self.schema.version)
            .field("type_name", &self.schema.name)
            .finish_non_exhaustive()
    }
}

impl Samples {
    /// Samples to be frozen under `dir` (created when missing).
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Samples {
            dir: dir.into(),
            samples: Vec::new(),
        }
    }

    /// Adds a sample of `value`'s schema version, frozen as `v{VERSION}.session`.
    ///
    /// Give each version a value that uses what it can hold (some items, the enum variants
    /// that matter, non-default numbers): a change is caught where the sample has data.
    ///
    /// # Panics
    /// When a sample of this version was already added, or the value cannot be sealed (it
    /// breaks a `max_len` bound).
    pub fn sample<S: CookieSession + PartialEq + Debug>(mut self, value: &S) -> Self {
        if let Some(other) = self.samples.iter().find(|s| s.schema.version == S::VERSION) {
            panic!(
                "two samples of version {}: `{}` and `{}`; give each version one sample",
                S::VERSION,
                other.schema.name,
                S::NAME
            );
        }
        let cookie = codec::<S>()
            .seal(value, &sample_meta())
            .unwrap_or_else(|e| panic!("the sample of `{}` cannot be sealed: {e}", S::NAME))
            .cookie_header();
        let expected = format!("{value:?}");
        let value = decode_exact::<S>(&cookie)
            .unwrap_or_else(|e| panic!("the sample of `{}` does not open: {e}", S::NAME));
        self.samples.push(Sample {
            schema: S::SCHEMA,
            debug: expected,
            cookie,
            check: Box::new(move |frozen| {
                let now = decode_exact::<S>(&frozen.cookie).map_err(|e| {
                    format!(
                        "it no longer opens as `{}` version {}: {e}\n{}",
                        S::NAME,
                        S::VERSION,
                        advice(&e)
                    )
                })?;
                if now != value {
                    return Err(format!(
                        "it opens as `{name}` version {version}, but not into the value given to `.sample(..)`:\n\
                         \x20 the file reads as: {now:?}\n\
                         \x20 the sample is:     {value:?}\n\
                         \x20 when frozen:       {frozen_value}\n\
                         \x20 `{name}` changed without a version bump (fields or enum variants reordered or \
                         retyped): restore it, and make the change a new version whose `previous` is the \
                         restored type; or, if the value given to `.sample(..)` was edited, restore that",
                        name = S::NAME,
                        version = S::VERSION,
                        frozen_value = frozen.value.as_deref().unwrap_or("?"),
                    ));
                }
                Ok(())
            }),
        });
        self
    }

    /// Writes each sample whose file is missing, and checks each sample whose file exists: the
    /// frozen cookie must still open as exactly its own type, into a value equal to the one
    /// given. Existing files are never rewritten.
    ///
    /// # Panics
    /// When a frozen sample fails its check (the message names the file and why), a version
    /// that a sample's schema reads through `previous` has no sample, a file cannot be read or
    /// written, or a sample is missing while `CI` is set.
    pub fn freeze(self) {
        self.freeze_where(on_ci());
    }

    /// [`freeze`](Self::freeze), told whether this is a CI run rather than reading `CI`.
    fn freeze_where(self, ci: bool) {
        if let Err(e) = std::fs::create_dir_all(&self.dir) {
            panic!("cannot create {}: {e}", self.dir.display());
        }
        let mut failures = Vec::new();
        let mut unsampled: Vec<(&SchemaVersion, &str)> = Vec::new();
        for sample in &self.samples {
            for older in sample.schema.chain().skip(1) {
                if !self
                    .samples
                    .iter()
                    .any(|s| s.schema.version == older.version)
                    && !unsampled.iter().any(|(v, _)| v.version == older.version)
                {
                    unsampled.push((older, sample.schema.name));
                }
            }
        }
        for (older, reader) in unsampled {
            failures.push(format!(
                "{}: no sample of `{name}` version {version}, which `{reader}` reads through \
                 `previous`: add `.sample(&{name} {{ .. }})`",
                self.dir.display(),
                name = older.name,
                version = older.version,
            ));
        }
        for sample in &self.samples {
            let path = self
                .dir
                .join(format!("v{}.{EXTENSION}", sample.schema.version));
            if path.exists() {
                let frozen = read_sample(&path);
                if let Err(why) = (sample.check)(&frozen) {
                    failures.push(format!("{}: {why}", path.display()));
                }
            } else if ci {
                failures.push(format!(
                    "{}: missing, and CI is set: run the tests locally to write it, and check it in",
                    path.display()
                ));
            } else {
                let text = format!(
                    "{HEADER}schema = {}\nversion = {}\nvalue = {}\ncookie = {}\n",
                    sample.schema.name,
                    sample.schema.version,
                    one_line(&sample.debug),
                    sample.cookie
                );
                if let Err(e) = std::fs::write(&path, text) {
                    panic!("cannot write {}: {e}", path.display());
                }
                eprintln!("froze a new session sample: {}", path.display());
            }
        }
        if !failures.is_empty() {
            panic!("frozen session samples changed:\n{}", failures.join("\n"));
        }
    }
}

/// Checks that every sample frozen under `dir` opens into `T`, the current schema, migrating
/// older versions through its `previous` chain as the middleware does, and that every version
/// of the chain ([`CookieSession::SCHEMA`]) has a sample.
///
/// # Panics
/// Naming each file that does not open and its [`OpenError`], when `dir` holds no sample, or
/// naming each version of the chain without a sample.
pub fn assert_samples_open<T: CookieSession>(dir: impl AsRef<Path>) {
    let dir = dir.as_ref();
    let mut files: Vec<PathBuf> = match std::fs::read_dir(dir) {
        Ok(entries) => entries
            .filter_map(|entry| entry.ok().map(|e| e.path()))
            .filter(|path| path.extension().is_some_and(|ext| ext == EXTENSION))
            .collect(),
        Err(e) => panic!(
            "cannot read the session samples in {}: {e}; freeze some with Samples::freeze",
            dir.display()
        ),
    };
    files.sort();
    if files.is_empty() {
        panic!(
            "no session samples in {}: freeze some with Samples::freeze",
            dir.display()
        );
    }
    let codec = codec::<T>();
    let mut failures = Vec::new();
    let mut sampled = Vec::new();
    for path in &files {
        let frozen = read_sample(path);
        sampled.extend(frozen.version);
        match codec.open::<T>(&frozen.cookie, SEALED_AT) {
            Ok(Some(_)) => {}
            Ok(None) => failures.push(format!("{}: holds no session cookie", path.display())),
            Err(e) => failures.push(format!(
                "{}: the frozen sample of `{}` no longer opens into `{}` version {}: {e}\n{}",
                path.display(),
                frozen.type_name.as_deref().unwrap_or("?"),
                T::NAME,
                T::VERSION,
                advice(&e)
            )),
        }
    }
    for version in T::SCHEMA.chain().filter(|v| !sampled.contains(&v.version)) {
        let which = if version.version == T::VERSION {
            "the current one".to_owned()
        } else {
            format!("which `{}` still reads through `previous`", T::NAME)
        };
        failures.push(format!(
            "{}: no sample of `{name}` version {}, {which}: add `.sample(&{name} {{ .. }})` to \
             the Samples that freeze this folder",
            dir.display(),
            version.version,
            name = version.name,
        ));
    }
    if !failures.is_empty() {
        panic!(
            "sessions sealed by earlier versions would not open:\n{}",
            failures.join("\n")
        );
    }
}

/// What to do about an error, in the words of a schema change.
fn advice(err: &OpenError) -> &'static str {
    match err {
        OpenError::Schema(SchemaError::Decode { .. }) => {
            "  a schema changed without a version bump: restore it, and make the change a new \
             version with `previous = <the old type>`"
        }
        OpenError::Schema(SchemaError::UnknownVersion { .. }) => {
            "  its version is no longer in the `previous` chain (or is newer than the current \
             one): keep every version users may still hold in the chain"
        }
        OpenError::Bounds(_) => {
            "  a max_len bound was tightened without a migration that trims older sessions"
        }
        _ => "  the sample file was edited or damaged: restore it from version control",
    }
}

/// A sample file's fields.
struct Frozen {
    type_name: Option<String>,
    version: Option<u16>,
    /// The value's `Debug` when it was frozen.
    value: Option<String>,
    cookie: String,
}

fn read_sample(path: &Path) -> Frozen {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let field = |name: &str| {
        text.lines()
            .filter(|line| !line.starts_with('#'))
            .find_map(|line| line.strip_prefix(name)?.trim_start().strip_prefix('='))
            .map(str::trim)
    };
    let Some(cookie) = field("cookie") else {
        panic!(
            "{}: no `cookie = …` line; restore the file from version control",
            path.display()
        );
    };
    Frozen {
        type_name: field("schema").map(str::to_owned),
        version: field("version").and_then(|v| v.parse().ok()),
        value: field("value").map(str::to_owned),
        cookie: cookie.to_owned(),
    }
}

/// Opens a sample as exactly `S`'s version: a sample of another version is refused, never
/// migrated.
fn decode_exact<S: CookieSession>(cookie: &str) -> Result<S, OpenError> {
    let opened = codec::<S>()
        .open::<S>(cookie, SEALED_AT)?
        .ok_or(OpenError::Malformed)?;
    match opened.reseal.migrated_from {
        None => Ok(opened.value),
        Some(found) => Err(OpenError::Schema(SchemaError::UnknownVersion {
            found,
            newest: S::VERSION,
        })),
    }
}

fn codec<T: CookieSession>() -> Codec {
    let key = Key::from_bytes(TEST_KEY).expect("the test key is a valid key");
    SessionLayer::<T>::builder(key)
        .with_cookie_name(COOKIE_NAME)
        .with_max_cookies(16)
        .with_idle_timeout(None)
        .with_absolute_timeout(None)
        .build_codec()
        .expect("the sample settings are valid")
}

fn sample_meta() -> SessionMeta {
    SessionMeta {
        id: SessionId(SAMPLE_ID),
        issued_at: SEALED_AT,
        last_access: SEALED_AT,
    }
}

/// `Debug` output on one line, for a `key = value` file.
fn one_line(text: &str) -> String {
    text.replace('\n', "\\n")
}

fn on_ci() -> bool {
    std::env::var_os("CI").is_some_and(|v| !v.is_empty() && v != "0" && v != "false")
}

#[cfg(test)]
mod tests {
    use serde::{Deserialize, Serialize};

    use super::*;

    #[derive(crate::CookieSession, Serialize, Deserialize, Debug, PartialEq)]
    #[session(crate = crate, version = 1)]
    struct CartV1 {
        user_id: u32,
    }

    #[derive(crate::SessionBound, Serialize, Deserialize, Debug, PartialEq, Clone, Copy)]
    #[session(crate = crate)]
    enum Role {
        Customer,
        Admin,
    }

    #[derive(crate::CookieSession, Serialize, Deserialize, Debug, PartialEq)]
    #[session(crate = crate, version = 2, previous = CartV1)]
    struct Cart {
        user_id: u64,
        role: Role,
        items: Vec<u32>,
    }

    impl From<CartV1> for Cart {
        fn from(old: CartV1) -> Self {
            Cart {
                user_id: old.user_id.into(),
                role: Role::Customer,
                items: Vec::new(),
            }
        }
    }

    fn v1() -> CartV1 {
        CartV1 { user_id: 7 }
    }

    fn v2() -> Cart {
        Cart {
            user_id: 7,
            role: Role::Customer,
            items: vec![1, 2, 3],
        }
    }

    /// Schema changes made without a version bump: each stands for `Cart` edited in place.
    mod changed {
        use serde::{Deserialize, Serialize};

        /// A field added.
        #[derive(crate::CookieSession, Serialize, Deserialize, Debug, PartialEq)]
        #[session(crate = crate, version = 2, previous = super::CartV1)]
        pub(super) struct Cart {
            pub(super) user_id: u64,
            pub(super) role: super::Role,
            pub(super) items: Vec<u32>,
            pub(super) coupon: Option<String>,
        }

        impl From<super::CartV1> for Cart {
            fn from(old: super::CartV1) -> Self {
                Cart {
                    user_id: old.user_id.into(),
                    role: super::Role::Customer,
                    items: Vec::new(),
                    coupon: None,
                }
            }
        }

        /// Enum variants reordered: every old cookie still decodes, into the other variant.
        #[derive(crate::SessionBound, Serialize, Deserialize, Debug, PartialEq, Clone, Copy)]
        #[session(crate = crate)]
        pub(super) enum Role {
            Admin,
            Customer,
        }

        #[derive(crate::CookieSession, Serialize, Deserialize, Debug, PartialEq)]
        #[session(crate = crate, version = 2)]
        pub(super) struct Reordered {
            pub(super) user_id: u64,
            pub(super) role: Role,
            pub(super) items: Vec<u32>,
        }
    }

    /// A fresh folder under the system's temporary directory, removed when dropped (also when
    /// a test panics on purpose).
    struct TempDir(PathBuf);

    impl TempDir {
        fn new(name: &str) -> Self {
            let dir = std::env::temp_dir().join(format!(
                "session-runtime-samples-{}-{name}",
                std::process::id()
            ));
            let _ = std::fs::remove_dir_all(&dir);
            TempDir(dir)
        }
    }

    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    fn frozen(name: &str) -> TempDir {
        let dir = TempDir::new(name);
        Samples::new(&dir.0)
            .sample(&v1())
            .sample(&v2())
            .freeze_where(false);
        dir
    }

    #[test]
    fn samples_are_written_once_and_then_frozen() {
        let dir = frozen("written-once");
        let v1_file = dir.0.join("v1.session");
        let before = std::fs::read_to_string(&v1_file).expect("v1 written");
        assert!(before.contains(
            "schema = CartV1\nversion = 1\nvalue = CartV1 { user_id: 7 }\ncookie = session="
        ));
        assert!(dir.0.join("v2.session").exists());

        // Freezing again (a new seal would differ: fresh nonce) leaves the files alone.
        Samples::new(&dir.0)
            .sample(&v1())
            .sample(&v2())
            .freeze_where(false);
        assert_eq!(std::fs::read_to_string(&v1_file).expect("v1"), before);
        assert_samples_open::<Cart>(&dir.0);
    }

    #[test]
    #[should_panic(
        expected = "v2.session: the frozen sample of `Cart` no longer opens into `Cart` version 2: session payload does not decode as `Cart` version 2\n  a schema changed without a version bump"
    )]
    fn a_field_added_without_a_version_bump_fails() {
        let dir = frozen("field-added");
        assert_samples_open::<changed::Cart>(&dir.0);
    }

    #[test]
    #[should_panic(
        expected = "v2.session: it opens as `Reordered` version 2, but not into the value given to `.sample(..)`:\n  \
                               the file reads as: Reordered { user_id: 7, role: Admin, items: [1, 2, 3] }\n  \
                               the sample is:     Reordered { user_id: 7, role: Customer, items: [1, 2, 3] }\n  \
                               when frozen:       Cart { user_id: 7, role: Customer, items: [1, 2, 3] }"
    )]
    fn enum_variants_reordered_without_a_version_bump_fail() {
        let dir = frozen("reordered");
        // Cart froze `Role::Customer` (index 0); the reordered enum reads index 0 as `Admin`.
        // The reordered schema's own test still gives the value it means.
        Samples::new(&dir.0)
            .sample(&changed::Reordered {
                user_id: 7,
                role: changed::Role::Customer,
                items: vec![1, 2, 3],
            })
            .freeze_where(false);
    }

    #[test]
    #[should_panic(expected = "no sample of `Cart` version 2, the current one")]
    fn the_current_version_needs_a_sample() {
        let dir = TempDir::new("no-current");
        Samples::new(&dir.0).sample(&v1()).freeze_where(false);
        assert_samples_open::<Cart>(&dir.0);
    }

    #[test]
    #[should_panic(
        expected = "no sample of `CartV1` version 1, which `Cart` still reads through `previous`: add `.sample(&CartV1 { .. })`"
    )]
    fn every_version_of_the_chain_needs_a_frozen_sample() {
        let dir = frozen("chain");
        std::fs::remove_file(dir.0.join("v1.session")).expect("v1 was frozen");
        assert_samples_open::<Cart>(&dir.0);
    }

    #[test]
    #[should_panic(
        expected = "no sample of `CartV1` version 1, which `Cart` reads through `previous`: add `.sample(&CartV1 { .. })`"
    )]
    fn samples_cover_every_version_of_the_chain() {
        let dir = TempDir::new("chain-samples");
        Samples::new(&dir.0).sample(&v2()).freeze_where(false);
    }

    #[test]
    #[should_panic(
        expected = "v2.session: the frozen sample of `Cart` no longer opens into `CartV1` version 1: session schema version 2 is unknown to this build"
    )]
    fn a_rollback_fails() {
        let dir = frozen("rollback");
        assert_samples_open::<CartV1>(&dir.0);
    }

    #[test]
    #[should_panic(expected = "v2.session: missing, and CI is set: run the tests locally")]
    fn ci_never_writes_a_sample() {
        let dir = frozen("ci");
        let _ = std::fs::remove_file(dir.0.join("v2.session"));
        Samples::new(&dir.0)
            .sample(&v1())
            .sample(&v2())
            .freeze_where(true);
    }

    #[test]
    #[should_panic(expected = "two samples of version 1")]
    fn one_sample_per_version() {
        let _ = Samples::new("unused").sample(&v1()).sample(&v1());
    }
}
