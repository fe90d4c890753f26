//! Replays every checked-in corpus file and every regression through its target's body, on a
//! plain `cargo test` build: a quick check, without the fuzzer, that nothing found so far has
//! come back. `scripts/fuzz-short` runs it before fuzzing.

use std::path::Path;

/// A target's name (its corpus directory) and body.
type Target = (&'static str, fn(&[u8]));

const TARGETS: [Target; 5] = [
    ("cookie_header", session_fuzz::cookie_header),
    ("envelope", session_fuzz::envelope),
    ("payload", session_fuzz::payload),
    ("flash", session_fuzz::flash),
    ("service", session_fuzz::service),
];

fn replay(kind: &str) -> usize {
    let mut count = 0;
    for (target, run) in TARGETS {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join(kind)
            .join(target);
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries {
            let path = entry.expect("dir entry").path();
            if path.is_file() {
                let input = std::fs::read(&path).expect("read input");
                eprintln!("{target}: {}", path.display());
                run(&input);
                count += 1;
            }
        }
    }
    count
}

#[test]
fn corpora_replay() {
    assert!(replay("corpus") >= 5, "the seed corpora are missing");
}

#[test]
fn regressions_replay() {
    replay("regressions");
}

/// The envelope target's sealing follows the documented format: a golden session's plaintext,
/// re-sealed by the harness, opens through the real codec to the golden value. Without this
/// the target would only ever exercise the authentication failure.
#[test]
fn the_envelope_target_reaches_the_payload() {
    use base64::Engine as _;
    use session_fuzz::CartV3;

    let seed = std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus/envelope/cart-v3-three-cookies-plain"),
    )
    .expect("seed");
    assert_eq!(seed[0], 1 | (2 << 1), "sealed mode, three cookies");
    let envelope = session_fuzz::seal_plaintext(&seed[1..], 3, "session");
    let value = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&envelope);
    let header = session_fuzz::split_into_cookies("session", &value, 3);
    let codec = session_fuzz::golden_settings()
        .build_codec()
        .expect("codec");
    let opened = codec
        .open::<CartV3>(&header, session_fuzz::NOW)
        .expect("opens")
        .expect("a session");
    assert_eq!(opened.value, session_fuzz::big_cart());
    assert_eq!(opened.chunks, 3);
}
