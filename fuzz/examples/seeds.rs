//! Writes the seed corpora under `fuzz/corpus/<target>/` from the golden cookies in
//! `tests/golden/`: `cargo run --manifest-path fuzz/Cargo.toml --example seeds`. Existing files
//! are overwritten with the same bytes; files the fuzzer added are left alone.

use std::path::{Path, PathBuf};

use aes_gcm_siv::aead::AeadInOut;
use aes_gcm_siv::{Aes256GcmSiv, KeyInit, Nonce, Tag};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use session_fuzz::{CartV3, big_cart};
use session_tests::{AppV1, AppV2, Item};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).to_path_buf()
}

fn write(target: &str, name: &str, bytes: &[u8]) {
    let dir = root().join("corpus").join(target);
    std::fs::create_dir_all(&dir).expect("create corpus dir");
    std::fs::write(dir.join(name), bytes).expect("write seed");
}

/// The golden `Cookie` headers, by file stem.
fn goldens() -> Vec<(String, String)> {
    let dir = root().join("../tests/golden");
    let mut out: Vec<(String, String)> = std::fs::read_dir(&dir)
        .expect("tests/golden")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "cookie"))
        .map(|p| {
            let stem = p.file_stem().expect("stem").to_string_lossy().into_owned();
            let text = std::fs::read_to_string(&p).expect("read golden");
            (stem, text.trim_end().to_owned())
        })
        .collect();
    out.sort();
    out
}

/// The envelope carried by a golden header: the chunk values joined and base64-decoded.
fn envelope_of(header: &str) -> Vec<u8> {
    let joined: String = header
        .split("; ")
        .map(|pair| pair.split_once('=').expect("name=value").1)
        .collect();
    URL_SAFE_NO_PAD.decode(joined).expect("base64url")
}

/// Opens a golden envelope with the golden key, as docs/FORMAT.md specifies.
fn plaintext_of(envelope: &[u8], cookie_name: &str) -> Vec<u8> {
    let master: Vec<u8> = (0u8..32).map(|b| b ^ 0x5a).collect();
    let hk = hkdf::Hkdf::<sha2::Sha256>::new(None, &master);
    let mut seal_key = [0u8; 32];
    hk.expand(
        b"session-runtime v1 AES-256-GCM-SIV seal key",
        &mut seal_key,
    )
    .expect("hkdf");
    let cipher = Aes256GcmSiv::new_from_slice(&seal_key).expect("key");
    let mut ad = envelope[..3].to_vec();
    ad.extend_from_slice(cookie_name.as_bytes());
    let mut body = envelope[15..envelope.len() - 16].to_vec();
    let nonce = Nonce::try_from(&envelope[3..15]).expect("nonce");
    let tag = Tag::try_from(&envelope[envelope.len() - 16..]).expect("tag");
    cipher
        .decrypt_inout_detached(&nonce, &ad, body.as_mut_slice().into(), &tag)
        .expect("golden cookies are authentic");
    body
}

fn main() {
    for (stem, header) in goldens() {
        let name = header.split_once('=').expect("name=value").0;
        let envelope = envelope_of(&header);
        let count = envelope[2];
        let plain = plaintext_of(
            &envelope,
            name.trim_end_matches(|c: char| c == '.' || c.is_ascii_digit()),
        );

        // (a) the header itself.
        write("cookie_header", &stem, header.as_bytes());
        // (b) odd mode byte: the plaintext, re-sealed by the target; even: the raw envelope.
        if name == "session" {
            let mode = |sealed: u8| sealed | ((count - 1) << 1);
            write(
                "envelope",
                &format!("{stem}-plain"),
                &[&[mode(1)], &plain[..]].concat(),
            );
            write(
                "envelope",
                &format!("{stem}-raw"),
                &[&[mode(0)], &envelope[3..]].concat(),
            );
        }
        // (c) the postcard payload after the 27-byte sealed header, padding cut off.
        let mut payload = &plain[27..];
        if plain[2] & 1 == 1 {
            let n = payload.len();
            let pad = usize::from(u16::from_le_bytes([payload[n - 2], payload[n - 1]]));
            payload = &payload[..n - pad];
        }
        write("payload", &stem, payload);
        // (d) the flash cookie's value, and the session beside it.
        if name == "session_flash" {
            let value = header.split_once('=').expect("name=value").1;
            write("flash", &stem, value.as_bytes());
        }
        // (e) the header on several routes, under both policies.
        for (selector, route) in [(0u8, "read"), (1, "update"), (4, "flashes"), (0x89, "grow")] {
            let mut input = vec![selector];
            input.extend_from_slice(format!("cookie: {header}\nuser-agent: fuzz").as_bytes());
            write("service", &format!("{stem}-{route}"), &input);
        }
    }

    let goldens = goldens();
    let golden = |stem: &str| {
        goldens
            .iter()
            .find(|(s, _)| s == stem)
            .map(|(_, h)| h.clone())
            .expect("golden file")
    };
    let flash_value = golden("flash-v1");
    let flash_value = flash_value.split_once('=').expect("name=value").1;
    let three = golden("cart-v3-three-cookies");

    // Several headers and foreign cookies around ours, reordered chunks.
    let mut reordered: Vec<&str> = three.split("; ").collect();
    reordered.reverse();
    write(
        "cookie_header",
        "three-reordered",
        reordered.join("; ").as_bytes(),
    );
    write(
        "cookie_header",
        "two-headers",
        format!("pref=1; {}\n{}", golden("cart-v3"), "theme=dark").as_bytes(),
    );
    write(
        "flash",
        "flash-and-session",
        format!("{flash_value}; {}", golden("cart-v3")).as_bytes(),
    );
    write(
        "service",
        "flash-and-session-flashes",
        &[
            &[4u8][..],
            format!("cookie: session_flash={flash_value}; {}", golden("cart-v2")).as_bytes(),
        ]
        .concat(),
    );
    write(
        "service",
        "two-cookie-headers-login",
        &[
            &[2u8][..],
            format!("cookie: a=b\ncookie: {three}\nhost: example.invalid").as_bytes(),
        ]
        .concat(),
    );

    // Payloads of the test app's schemas and a large cart.
    let v1 = AppV1 {
        user: "ada".into(),
        items: vec![1, 2, 3],
    };
    let v2 = AppV2 {
        user: "ada".into(),
        items: vec![Item { sku: 7, qty: 2 }],
        visits: 3,
    };
    write(
        "payload",
        "app-v1",
        &postcard::to_allocvec(&v1).expect("encode"),
    );
    write(
        "payload",
        "app-v2",
        &postcard::to_allocvec(&v2).expect("encode"),
    );
    let big: CartV3 = big_cart();
    write(
        "payload",
        "big-cart",
        &postcard::to_allocvec(&big).expect("encode"),
    );
}
