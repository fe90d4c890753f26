//! The `session-tool` binary as a user runs it: a real process, keys in its environment,
//! cookies sealed here by the runtime with the same keys.

use std::io::Write as _;
use std::process::{Command, Output, Stdio};

use serde::{Deserialize, Serialize};
use session_runtime::{CookieSession, Key, SessionId, SessionLayer, SessionMeta};

#[derive(CookieSession, Serialize, Deserialize, Debug, Default)]
#[session(version = 3)]
struct Notes {
    text: String,
}

const SEALED_AT: u32 = 1_763_800_000;
const ID: [u8; 16] = *b"fedcba9876543210";

/// `session-tool` with `args`, a clean environment for keys, `env` added, and `stdin` piped in.
fn tool(args: &[&str], env: &[(&str, String)], stdin: Option<&str>) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_session-tool"));
    command
        .args(args)
        .env_remove("SESSION_KEY")
        .env_remove("SESSION_KEY_OLD")
        .env_remove("SESSION_STORE")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (name, value) in env {
        command.env(name, value);
    }
    let mut child = command.spawn().expect("session-tool starts");
    let mut pipe = child.stdin.take().expect("stdin");
    if let Some(text) = stdin {
        pipe.write_all(text.as_bytes()).expect("write stdin");
    }
    drop(pipe);
    child.wait_with_output().expect("session-tool runs")
}

fn stdout(output: &Output) -> String {
    String::from_utf8(output.stdout.clone()).expect("UTF-8 output")
}

fn stderr(output: &Output) -> String {
    String::from_utf8(output.stderr.clone()).expect("UTF-8 errors")
}

/// A `Cookie` header holding `notes` sealed under `key` for the cookie `name`.
fn sealed(key: &Key, name: &str, notes: &str) -> String {
    let codec = SessionLayer::<Notes>::builder(key.clone())
        .with_cookie_name(name)
        .with_max_cookies(4)
        .build_codec()
        .expect("settings");
    let meta = SessionMeta {
        id: SessionId(ID),
        issued_at: SEALED_AT,
        last_access: SEALED_AT + 60,
    };
    let notes = Notes {
        text: notes.to_owned(),
    };
    codec.seal(&notes, &meta).expect("seal").cookie_header()
}

/// A key whose id differs from `other`'s, so that opening fails with "unknown key" every time.
fn key_unlike(other: &Key) -> Key {
    loop {
        let key = Key::generate();
        if key.id() != other.id() {
            return key;
        }
    }
}

#[test]
fn keygen_prints_a_fresh_valid_key() {
    let first = tool(&["keygen"], &[], None);
    let second = tool(&["keygen"], &[], None);
    assert!(first.status.success() && second.status.success());
    let (a, b) = (stdout(&first), stdout(&second));
    let key = Key::from_base64(&a).expect("keygen prints a key the runtime accepts");
    assert_eq!(a.trim().len(), 43, "32 bytes of unpadded base64: {a}");
    assert_ne!(a, b, "two runs, two keys");
    assert_eq!(key.to_base64(), a.trim());
}

#[test]
fn inspect_shows_the_sealed_header_and_never_the_key() {
    let key = Key::generate();
    let header = sealed(&key, "session", "hello");
    let out = tool(
        &["inspect", "--cookie", &header],
        &[("SESSION_KEY", key.to_base64())],
        None,
    );
    let text = stdout(&out);
    assert!(out.status.success(), "{text}{}", stderr(&out));
    for expected in [
        "cookie       session, 1 chunk\n".to_owned(),
        "format       1\n".to_owned(),
        format!("key id       {}, the primary key (SESSION_KEY)\n", key.id()),
        "schema       version 3\n".to_owned(),
        // "fedc" in hex, and no more of it.
        "session id   66656463…".to_owned(),
        "issued at    1763800000  2025-11-22T08:26:40Z  (".to_owned(),
        "last access  1763800060  2025-11-22T08:27:40Z  (".to_owned(),
        // A one-byte length and five bytes.
        "payload      6 bytes\n".to_owned(),
    ] {
        assert!(text.contains(&expected), "missing {expected:?} in\n{text}");
    }
    assert!(!text.contains(&SessionId(ID).to_hex()), "{text}");
    assert!(!text.contains(&key.to_base64()), "{text}");
    assert!(!stderr(&out).contains(&key.to_base64()));

    let full = tool(
        &["inspect", "--cookie", &header, "--show-id"],
        &[("SESSION_KEY", key.to_base64())],
        None,
    );
    assert!(stdout(&full).contains(&format!("session id   {}\n", SessionId(ID).to_hex())));
}

#[test]
fn inspect_reads_set_cookie_lines_from_stdin_across_chunks() {
    let key = Key::generate();
    let text = "n".repeat(5000);
    // Full chunks, under attributes that leave less room in each than the tool's own.
    let codec = SessionLayer::<Notes>::builder(key.clone())
        .with_cookie_name("notes")
        .with_max_cookies(12)
        .with_domain("shop.example")
        .with_persistent(std::time::Duration::from_secs(86_400))
        .build_codec()
        .expect("settings");
    let meta = SessionMeta::new(SEALED_AT).expect("random");
    let set_cookies = codec.seal(&Notes { text }, &meta).expect("seal");
    assert_eq!(set_cookies.chunks, 2);
    let stdin: String = set_cookies
        .headers
        .iter()
        .map(|line| format!("Set-Cookie: {line}\n"))
        .collect();
    let out = tool(
        &["inspect", "--name", "notes", "--key-env", "NOTES_KEY"],
        &[("NOTES_KEY", key.to_base64())],
        Some(&stdin),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.contains("cookie       notes, 2 chunks"), "{text}");
    assert!(text.contains("the primary key (NOTES_KEY)"), "{text}");
}

#[test]
fn inspect_opens_with_a_fallback_and_says_so() {
    let old = Key::generate();
    let header = sealed(&old, "session", "x");
    let out = tool(
        &["inspect"],
        &[
            ("SESSION_KEY", key_unlike(&old).to_base64()),
            ("SESSION_KEY_OLD", old.to_base64()),
        ],
        Some(&header),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.contains(&format!(
            "key id       {}, a fallback key (SESSION_KEY_OLD)",
            old.id()
        )),
        "{text}"
    );
}

#[test]
fn a_wrong_key_is_a_clear_failure() {
    let key = Key::generate();
    let wrong = key_unlike(&key);
    let header = sealed(&key, "session", "secret notes");
    let out = tool(
        &["inspect", "--cookie", &header],
        &[("SESSION_KEY", wrong.to_base64())],
        None,
    );
    assert_eq!(out.status.code(), Some(1));
    let (text, err) = (stdout(&out), stderr(&out));
    assert!(err.contains("did not open"), "{err}");
    assert!(
        err.contains(&format!("key id {}", key.id()))
            && err.contains(&format!("SESSION_KEY has id {}", wrong.id())),
        "{err}"
    );
    // What the cookie claims is shown, marked as such; the payload is not.
    assert!(text.contains("unverified"), "{text}");
    assert!(
        text.contains(&format!("key id       {} (not the primary", key.id())),
        "{text}"
    );
    assert!(!text.contains("payload"), "{text}");

    // The right key under the wrong name: the name is bound, one opaque error.
    let renamed = header.replacen("session=", "other=", 1);
    let out = tool(
        &["inspect", "--cookie", &renamed, "--name", "other"],
        &[("SESSION_KEY", key.to_base64())],
        None,
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("failed authentication"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn inspect_refuses_to_guess() {
    let key = Key::generate();
    let header = sealed(&key, "session", "x");
    let env = [("SESSION_KEY", key.to_base64())];

    let missing_key = tool(&["inspect", "--cookie", &header], &[], None);
    assert_eq!(missing_key.status.code(), Some(2));
    assert!(stderr(&missing_key).contains("`SESSION_KEY` is not set"));

    // Refused with the same advice whatever the key looks like: one key in 64 starts with `-`
    // in URL-safe base64, which an option parser would take for an option.
    let dashed = Key::from_bytes(&std::array::from_fn::<u8, 32, _>(|i| {
        0xf8 ^ (i as u8).wrapping_mul(37)
    }))
    .expect("a valid key");
    assert!(dashed.to_base64().starts_with('-'));
    for pasted in [key.to_base64(), dashed.to_base64()] {
        let on_command_line = tool(&["inspect", "--key", &pasted], &env, None);
        assert_eq!(on_command_line.status.code(), Some(2));
        assert!(
            stderr(&on_command_line).contains("--key-env"),
            "{}",
            stderr(&on_command_line)
        );
    }

    let other_name = tool(
        &["inspect", "--cookie", &header, "--name", "cart"],
        &env,
        None,
    );
    assert_eq!(other_name.status.code(), Some(1));
    assert!(
        stderr(&other_name).contains("no cookie named `cart` in the header (found: session)"),
        "{}",
        stderr(&other_name)
    );

    let nothing = tool(&["inspect"], &env, Some(""));
    assert_eq!(nothing.status.code(), Some(2));
}

#[test]
fn sizes_match_what_the_runtime_seals() {
    let out = tool(
        &["sizes", "--name", "notes", "--max-cookies", "3"],
        &[],
        None,
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    let rows: Vec<Vec<&str>> = text
        .lines()
        .skip_while(|l| !l.starts_with("cookies"))
        .skip(1)
        .map(|l| l.split_whitespace().collect())
        .collect();
    assert_eq!(rows.len(), 3, "{text}");

    let codec = SessionLayer::<Notes>::builder(Key::generate())
        .with_cookie_name("notes")
        .with_max_cookies(3)
        .build_codec()
        .expect("settings");
    let meta = SessionMeta::new(SEALED_AT).expect("random");
    for (cookies, row) in (1u8..).zip(&rows) {
        assert_eq!(row[0], cookies.to_string(), "{text}");
        // The largest payload leaves room for a subject and its generation (24 bytes), which
        // every budget counts: a payload 24 bytes larger, without a subject, fills the cookies
        // exactly.
        let largest: usize = row[2].parse::<usize>().expect("a byte count") + 24;
        // A String of n bytes is a varint length and the bytes: find the text that makes a
        // payload of exactly `largest` bytes, then one byte more.
        let text_len = |payload: usize| {
            (0..payload)
                .rev()
                .find(|n| n + postcard_varint_len(*n) == payload)
                .expect("a text length")
        };
        let fits = codec
            .seal(
                &Notes {
                    text: "x".repeat(text_len(largest)),
                },
                &meta,
            )
            .expect("the largest payload fits");
        assert_eq!(fits.chunks, cookies);
        let over = codec.seal(
            &Notes {
                text: "x".repeat(text_len(largest) + 1),
            },
            &meta,
        );
        match over {
            Ok(sealed) => assert_eq!(sealed.chunks, cookies + 1, "one byte more spills"),
            Err(err) => assert!(cookies == 3, "only the last row may overflow: {err}"),
        }
    }
}

fn postcard_varint_len(n: usize) -> usize {
    let bits = usize::BITS - n.leading_zeros();
    bits.div_ceil(7).max(1) as usize
}

#[test]
fn help_lists_every_command_and_the_environment() {
    for args in [&["--help"][..], &["help"], &[]] {
        let out = tool(args, &[], None);
        assert_eq!(out.status.code(), Some(0), "{args:?}");
        let text = stdout(&out);
        for command in [
            "keygen",
            "inspect",
            "sizes",
            "revoke",
            "keys",
            "completions",
        ] {
            assert!(
                text.contains(&format!("\n  {command} ")),
                "{command} in\n{text}"
            );
        }
        for variable in [
            "SESSION_STORE ",
            "SESSION_STORE_PREFIX",
            "SESSION_IDLE_TIMEOUT",
            "SESSION_ABSOLUTE_TIMEOUT",
        ] {
            assert!(text.contains(variable), "{variable} in\n{text}");
        }
    }
    let out = tool(&["help", "revoke"], &[], None);
    assert!(stdout(&out).contains("Usage: session-tool revoke [OPTIONS] <SUBJECT>"));
    let out = tool(&["keys", "--help"], &[], None);
    let text = stdout(&out);
    assert!(
        text.contains("Rotating keys without logging anyone out")
            && text.contains("one absolute timeout"),
        "{text}"
    );
}

#[test]
fn a_bad_argument_is_a_usage_error_with_a_hint() {
    let out = tool(&["inspect", "--show-idd"], &[], None);
    assert_eq!(out.status.code(), Some(2));
    assert!(stdout(&out).is_empty());
    let err = stderr(&out);
    assert!(
        err.contains("error: unexpected argument '--show-idd' found"),
        "{err}"
    );
    assert!(
        err.contains("a similar argument exists: '--show-id'"),
        "{err}"
    );
    assert!(err.contains("Usage: session-tool inspect"), "{err}");

    let out = tool(&["sizes", "--max-cookies", "40"], &[], None);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("--max-cookies takes 1 to 16, not `40`"));

    let out = tool(&["frobnicate"], &[], None);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("unrecognized subcommand 'frobnicate'"));
}

#[test]
fn completions_for_bash_are_a_script() {
    let out = tool(&["completions", "bash"], &[], None);
    assert!(out.status.success(), "{}", stderr(&out));
    let script = stdout(&out);
    assert!(script.contains("_session__tool() {"), "{script}");
    assert!(
        script.contains("complete -F _session__tool ") && script.contains(" session-tool\n"),
        "{script}"
    );
    for word in ["revoke", "rotate", "--max-cookies", "--drop-oldest"] {
        assert!(script.contains(word), "{word}");
    }
    // bash itself parses it (`-n`: read, do not run).
    let mut bash = Command::new("bash")
        .arg("-n")
        .stdin(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("bash runs");
    bash.stdin
        .take()
        .expect("stdin")
        .write_all(script.as_bytes())
        .expect("write the script");
    let checked = bash.wait_with_output().expect("bash -n");
    assert!(checked.status.success(), "{}", stderr(&checked));
    let out = tool(&["completions", "tcsh"], &[], None);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("invalid value 'tcsh'"),
        "{}",
        stderr(&out)
    );
}

/// A directory of its own under the temporary directory, removed on drop.
struct Scratch(std::path::PathBuf);

impl Scratch {
    fn new(label: &str) -> Self {
        let path = std::env::temp_dir().join(format!(
            "session-tool-{label}-{}-{:?}",
            std::process::id(),
            std::thread::current().id()
        ));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).expect("scratch directory");
        Scratch(path)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The keys of a key-set file's text, in order.
fn keys_in(text: &str) -> Vec<Key> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| Key::from_base64(l).expect("a key"))
        .collect()
}

#[cfg(unix)]
fn mode(path: &std::path::Path) -> u32 {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::metadata(path)
        .expect("metadata")
        .permissions()
        .mode()
        & 0o777
}

#[test]
fn keys_new_then_rotate_keeps_the_order_and_drops_the_oldest() {
    let dir = Scratch::new("keys");
    let file = dir.0.join("keys.txt");
    let path = file.to_str().expect("UTF-8 path");

    let out = tool(&["keys", "new", path], &[], None);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = std::fs::read_to_string(&file).expect("written");
    let first = keys_in(&text);
    assert_eq!(first.len(), 1, "{text}");
    assert!(
        text.starts_with("# "),
        "a comment says what the file is: {text}"
    );
    assert!(!stdout(&out).contains(&first[0].to_base64()));
    assert!(stdout(&out).contains(&format!("primary key id {}", first[0].id())));
    #[cfg(unix)]
    assert_eq!(mode(&file), 0o600);

    // Never over an existing set.
    let out = tool(&["keys", "new", path], &[], None);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("exists"), "{}", stderr(&out));
    assert_eq!(
        keys_in(&std::fs::read_to_string(&file).expect("kept")),
        first
    );

    // A file written by hand: comments, blank lines, the standard alphabet with padding.
    let old = Key::generate();
    let standard = format!("{}=", old.to_base64().replace('-', "+").replace('_', "/"));
    std::fs::write(
        &file,
        format!(
            "# the shop's keys\n\n{}\n  # rotated in March\n{standard}\n\n",
            first[0].to_base64()
        ),
    )
    .expect("write");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    }
    let out = tool(&["keys", "rotate", path], &[], None);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = std::fs::read_to_string(&file).expect("rotated");
    let rotated = keys_in(&text);
    assert_eq!(rotated.len(), 3, "{text}");
    assert_eq!(rotated[1..], [first[0].clone(), old.clone()], "{text}");
    assert!(!first.contains(&rotated[0]) && rotated[0] != old);
    assert!(text.starts_with("# the shop's keys\n"), "{text}");
    assert!(!stdout(&out).contains(&rotated[0].to_base64()));
    #[cfg(unix)]
    assert_eq!(
        mode(&file),
        0o600,
        "replaced by a file of the owner's alone"
    );

    let out = tool(&["keys", "rotate", path, "--drop-oldest"], &[], None);
    assert!(out.status.success(), "{}", stderr(&out));
    let dropped = keys_in(&std::fs::read_to_string(&file).expect("rotated"));
    assert_eq!(
        dropped[1..],
        rotated[..2],
        "the new primary, then all but the oldest"
    );

    let out = tool(&["keys", "rotate", path, "--keep", "1"], &[], None);
    assert!(out.status.success(), "{}", stderr(&out));
    let kept = keys_in(&std::fs::read_to_string(&file).expect("rotated"));
    assert_eq!(kept[1..], dropped[..1]);

    // The three steps of a rolling rotation.
    for step in [&["keys", "add", path][..], &["keys", "promote", path]] {
        let out = tool(step, &[], None);
        assert!(out.status.success(), "{step:?}: {}", stderr(&out));
    }
    let promoted = keys_in(&std::fs::read_to_string(&file).expect("promoted"));
    assert_eq!(promoted.len(), 3);
    assert_eq!(
        promoted[1..],
        kept[..],
        "the old primary first among the fallbacks"
    );
    let out = tool(&["keys", "prune", path, "--keep", "0"], &[], None);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        keys_in(&std::fs::read_to_string(&file).expect("pruned")),
        promoted[..1]
    );

    // No temporary file is left beside it.
    let names: Vec<_> = std::fs::read_dir(&dir.0)
        .expect("list")
        .map(|e| e.expect("entry").file_name())
        .collect();
    assert_eq!(names, ["keys.txt"]);
}

#[test]
fn keys_go_to_standard_output_only_when_asked() {
    let dir = Scratch::new("stdout");
    let file = dir.0.join("keys.txt");
    let path = file.to_str().expect("UTF-8 path");
    let primary = Key::generate();
    std::fs::write(&file, format!("{}\n", primary.to_base64())).expect("write");

    let out = tool(&["keys", "rotate", path, "-o", "-"], &[], None);
    assert!(out.status.success(), "{}", stderr(&out));
    let printed = keys_in(&stdout(&out));
    assert_eq!(printed.len(), 2);
    assert_eq!(printed[1], primary);
    assert!(!stderr(&out).contains(&printed[0].to_base64()));
    assert_eq!(
        keys_in(&std::fs::read_to_string(&file).expect("untouched")),
        std::slice::from_ref(&primary)
    );

    let out = tool(
        &["keys", "rotate", "-"],
        &[],
        Some(&format!("# from stdin\n{}\n", primary.to_base64())),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.starts_with("# from stdin\n"), "{text}");
    assert_eq!(keys_in(&text)[1..], [primary]);

    let out = tool(&["keys", "new", "-"], &[], None);
    assert!(out.status.success());
    assert_eq!(keys_in(&stdout(&out)).len(), 1);

    // A refused line is named by its number, never shown.
    let out = tool(&["keys", "rotate", "-"], &[], Some("# x\nnot-a-key\n"));
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("-, line 2: "), "{}", stderr(&out));
    assert!(!stderr(&out).contains("not-a-key"), "{}", stderr(&out));
}
