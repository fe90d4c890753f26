//! The commands in process, with a schema: what a user's own tool prints. The binary itself is
//! run by `tests/session_tool.rs`.

use serde::{Deserialize, Serialize};
use session_runtime::{CookieSession, Key, Keys, SessionId, SessionLayer, SessionMeta};

use super::*;
use crate::args::{InspectOptions, SizesOptions};

#[derive(CookieSession, Serialize, Deserialize, Debug, Default, PartialEq)]
#[session(version = 1)]
struct CartV1 {
    user: u32,
}

#[derive(CookieSession, Serialize, Deserialize, Debug, Default, PartialEq)]
#[session(version = 2, previous = CartV1, max_cookies = 1)]
struct Cart {
    user: u64,
    #[session(max_len = 20)]
    items: Vec<u32>,
}

impl From<CartV1> for Cart {
    fn from(old: CartV1) -> Self {
        Cart {
            user: old.user.into(),
            items: vec![7],
        }
    }
}

/// Version 2 as someone changed it without bumping the version.
#[derive(CookieSession, Serialize, Deserialize, Debug, Default)]
#[session(version = 2)]
struct CartChanged {
    user: u64,
    items: Vec<u32>,
    coupon: String,
}

const SEALED_AT: u32 = 1_763_800_000;

fn seal<T: CookieSession>(key: &Key, value: &T) -> String {
    let codec = SessionLayer::<T>::builder(key.clone())
        .build_codec()
        .expect("default settings");
    let meta = SessionMeta {
        id: SessionId(*b"0123456789abcdef"),
        issued_at: SEALED_AT,
        last_access: SEALED_AT + 5,
    };
    codec.seal(value, &meta).expect("seal").cookie_header()
}

fn options() -> InspectOptions {
    InspectOptions {
        cookie: None,
        name: "session".into(),
        key_env: "SESSION_KEY".into(),
        show_id: false,
    }
}

#[test]
fn a_users_tool_shows_the_migrated_payload() {
    let key = Key::generate();
    let header = seal(&key, &CartV1 { user: 42 });
    let out = inspect::inspect(
        &Keys::new(key.clone()),
        &options(),
        &header,
        Some(&Schema::of::<Cart>()),
    )
    .expect("opens");
    assert!(
        out.contains("version 1 (`CartV1`, migrates to `Cart` version 2)"),
        "{out}"
    );
    assert!(
        out.contains("value        Cart { user: 42, items: [7] }"),
        "{out}"
    );
    assert!(
        out.contains("issued at    1763800000  2025-11-22T08:26:40Z"),
        "{out}"
    );
    assert!(
        out.contains("last access  1763800005  2025-11-22T08:26:45Z"),
        "{out}"
    );
    // 30 31 32 33 are "0123": the id is shortened to its first four bytes.
    assert!(out.contains("session id   30313233…"), "{out}");
    assert!(
        !out.contains(&SessionId(*b"0123456789abcdef").to_hex()),
        "{out}"
    );
    assert!(!out.contains(&key.to_base64()), "{out}");
}

#[test]
fn a_payload_that_no_longer_decodes_still_shows_its_header() {
    let key = Key::generate();
    let header = seal(
        &key,
        &Cart {
            user: 1,
            items: vec![1, 2],
        },
    );
    let failure = inspect::inspect(
        &Keys::new(key),
        &options(),
        &header,
        Some(&Schema::of::<CartChanged>()),
    )
    .expect_err("CartChanged cannot read it");
    let Failure::NotOpened { shown, reason } = failure else {
        panic!("not a NotOpened failure: {failure:?}");
    };
    assert!(shown.contains("version 2 (`CartChanged`)"), "{shown}");
    assert!(
        reason.contains("does not open as `CartChanged`") && reason.contains("decode"),
        "{reason}"
    );
}

#[test]
fn sizes_of_a_schema_against_its_budget() {
    let out = sizes::sizes(
        &SizesOptions {
            name: "session".into(),
            max_cookies: 2,
        },
        Some(&Schema::of::<Cart>()),
    )
    .expect("sizes");
    // 10 bytes for the u64, 1 + 20 × 5 for the items.
    let worst = 10 + 1 + 20 * 5;
    assert_eq!(Cart::MAX_ENCODED_LEN, Some(worst));
    // The envelope's 58 bytes, and 24 for a subject and its generation.
    let sealed = ((58 + 24 + worst) * 4).div_ceil(3);
    let row = out
        .lines()
        .find(|l| l.starts_with("2 "))
        .unwrap_or_else(|| panic!("no row for version 2:\n{out}"));
    let cells: Vec<&str> = row
        .split("  ")
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .collect();
    assert_eq!(
        cells,
        [
            "2",
            "Cart",
            &format!("{worst} bytes"),
            &format!("{sealed} chars"),
            "1 cookie (3840 chars)",
            &format!("{}%", (sealed * 100).div_ceil(3840)),
            "1",
        ],
        "{out}"
    );
    assert!(
        out.contains("writes version 2, reads versions 2, 1"),
        "{out}"
    );
    // The previous version is listed too, with no budget of its own.
    let row = out
        .lines()
        .find(|l| l.starts_with("1 "))
        .unwrap_or_else(|| panic!("no row for version 1:\n{out}"));
    assert!(
        row.starts_with("1        CartV1               unbounded      -             none"),
        "{out}"
    );
}

/// Version 5 of a chain with gaps, read through `previous` from 3 and 1.
mod gaps {
    use serde::{Deserialize, Serialize};
    use session_runtime::CookieSession;

    #[derive(CookieSession, Serialize, Deserialize, Debug)]
    #[session(version = 1)]
    pub(super) struct NoteV1 {
        pub(super) text: String,
    }

    #[derive(CookieSession, Serialize, Deserialize, Debug)]
    #[session(version = 3, previous = NoteV1, budget = 200)]
    pub(super) struct NoteV3 {
        #[session(max_len = 40)]
        pub(super) text: String,
    }

    impl From<NoteV1> for NoteV3 {
        fn from(old: NoteV1) -> Self {
            NoteV3 {
                text: old.text.chars().take(10).collect(),
            }
        }
    }

    #[derive(CookieSession, Serialize, Deserialize, Debug)]
    #[session(version = 5, previous = NoteV3, max_cookies = 1)]
    pub(super) struct Note {
        #[session(max_len = 40)]
        pub(super) text: String,
        pub(super) pinned: bool,
    }

    impl From<NoteV3> for Note {
        fn from(old: NoteV3) -> Self {
            Note {
                text: old.text,
                pinned: false,
            }
        }
    }
}

#[test]
fn sizes_list_every_version_of_the_chain() {
    let out = sizes::sizes(
        &SizesOptions {
            name: "session".into(),
            max_cookies: 1,
        },
        Some(&Schema::of::<gaps::Note>()),
    )
    .expect("sizes");
    assert!(
        out.contains("writes version 5, reads versions 5, 3, 1"),
        "{out}"
    );
    let rows: Vec<Vec<&str>> = out
        .lines()
        .skip_while(|l| !l.starts_with("version "))
        .skip(1)
        .map(|l| l.split_whitespace().take(4).collect())
        .collect();
    // One byte of length and 40 of text, then a byte for the bool.
    assert_eq!(
        rows,
        [
            vec!["5", "Note", "42", "bytes"],
            vec!["3", "NoteV3", "41", "bytes"],
            vec!["1", "NoteV1", "unbounded", "-"],
        ],
        "{out}"
    );
    assert!(out.contains("200 chars"), "{out}");
}

#[test]
fn inspect_names_the_version_a_cookie_was_written_by() {
    let key = Key::generate();
    let schema = Schema::of::<gaps::Note>();
    let inspect =
        |header: &str| inspect::inspect(&Keys::new(key.clone()), &options(), header, Some(&schema));
    let out = inspect(&seal(
        &key,
        &gaps::NoteV3 {
            text: "milk".into(),
        },
    ))
    .expect("opens");
    assert!(
        out.contains("version 3 (`NoteV3`, migrates to `Note` version 5)"),
        "{out}"
    );

    // Version 2 never existed: the tool says which versions the schema reads.
    #[derive(CookieSession, Serialize, Deserialize, Debug)]
    #[session(version = 2)]
    struct Stray {
        text: String,
    }
    let failure = inspect(&seal(&key, &Stray { text: "x".into() })).expect_err("unknown version");
    let Failure::NotOpened { shown, .. } = failure else {
        panic!("not a NotOpened failure: {failure:?}");
    };
    assert!(
        shown.contains("version 2 (`Note` reads versions 5, 3, 1)"),
        "{shown}"
    );
}

#[test]
fn the_envelope_overhead_matches_what_is_sealed() {
    #[derive(CookieSession, Serialize, Deserialize, Debug, Default)]
    #[session(version = 1)]
    struct Blob {
        bytes: Vec<u8>,
    }
    let key = Key::generate();
    for len in [0, 1, 2, 3, 100, 127, 128, 2000] {
        let header = seal(
            &key,
            &Blob {
                bytes: vec![1; len],
            },
        );
        let value = header.strip_prefix("session=").expect("one cookie");
        // A postcard Vec<u8> is its varint length, then the bytes.
        let payload = len + if len < 128 { 1 } else { 2 };
        assert_eq!(value.len(), sizes::sealed_len(payload), "{len}");
    }
}

#[test]
fn headers_from_stdin_in_every_usual_form() {
    let read = |text: &str| read_header(&mut text.as_bytes());
    assert_eq!(read("session=abc\n"), Ok("session=abc".into()));
    assert_eq!(
        read("Cookie: a=1; session=abc"),
        Ok("a=1; session=abc".into())
    );
    assert_eq!(
        read(
            "set-cookie: session=abc; Path=/; Secure\nSet-Cookie: session.1=def; Path=/\n\
             Set-Cookie: session.2=; Max-Age=0; Path=/\n"
        ),
        Ok("session=abc; session.1=def".into())
    );
    assert!(matches!(read(" \n"), Err(Failure::Usage(_))));
}
