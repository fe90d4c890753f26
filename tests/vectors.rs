//! Known-answer tests for the envelope's AEAD: every 256-bit-key AES-GCM-SIV vector of RFC 8452
//! (Appendix C.2 and the counter-wrap tests of C.3) and of Project Wycheproof's AES-GCM-SIV set,
//! run through the same seal and open primitives the envelope uses. The vector files are in
//! `tests/vectors/` (see the README there for their sources and licences).
//!
//! A valid vector must seal to exactly its ciphertext and tag, and open again to its plaintext;
//! an invalid one must fail to open and leave no plaintext behind. Vectors the primitive cannot
//! take (a key other than 256 bits, a nonce other than 96 bits) are skipped and counted, and the
//! counts are asserted, so a vector file that changes shape cannot silently test less.

use std::path::Path;

use serde_json::Value;

// The envelope's own AEAD entry points (the same cipher calls it seals and opens with).
use session_runtime::__private::aead;

/// One test case, normalised from either file.
struct Case {
    id: String,
    key: Vec<u8>,
    nonce: Vec<u8>,
    ad: Vec<u8>,
    plaintext: Vec<u8>,
    ciphertext: Vec<u8>,
    tag: Vec<u8>,
    valid: bool,
}

/// What running a file's cases did.
#[derive(Debug, Default, PartialEq, Eq)]
struct Tally {
    valid_passed: usize,
    invalid_rejected: usize,
    skipped_key: usize,
    skipped_nonce: usize,
}

fn hex(s: &str) -> Vec<u8> {
    assert!(s.len().is_multiple_of(2), "odd-length hex: {s}");
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap_or_else(|_| panic!("bad hex: {s}")))
        .collect()
}

fn field<'a>(v: &'a Value, name: &str) -> &'a str {
    v[name]
        .as_str()
        .unwrap_or_else(|| panic!("missing string field {name} in {v}"))
}

fn load(name: &str) -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("vectors")
        .join(name);
    let text =
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("parse {}: {e}", path.display()))
}

/// Runs one case, or counts it as skipped when its sizes do not fit the primitive.
fn run(case: &Case, tally: &mut Tally) {
    let Ok(key) = <[u8; 32]>::try_from(case.key.as_slice()) else {
        tally.skipped_key += 1;
        return;
    };
    let Ok(nonce) = <[u8; 12]>::try_from(case.nonce.as_slice()) else {
        tally.skipped_nonce += 1;
        return;
    };
    let tag: [u8; 16] = case
        .tag
        .as_slice()
        .try_into()
        .unwrap_or_else(|_| panic!("{}: tag of {} bytes", case.id, case.tag.len()));

    if case.valid {
        let mut buf = case.plaintext.clone();
        let sealed_tag = aead::seal_detached(&key, &nonce, &case.ad, &mut buf);
        assert_eq!(buf, case.ciphertext, "{}: ciphertext", case.id);
        assert_eq!(sealed_tag, tag, "{}: tag", case.id);
        assert!(
            aead::open_detached(&key, &nonce, &case.ad, &mut buf, &tag),
            "{}: a valid vector did not open",
            case.id
        );
        assert_eq!(buf, case.plaintext, "{}: opened plaintext", case.id);
        tally.valid_passed += 1;
    } else {
        let mut buf = case.ciphertext.clone();
        assert!(
            !aead::open_detached(&key, &nonce, &case.ad, &mut buf, &tag),
            "{}: an invalid vector opened",
            case.id
        );
        // A rejected ciphertext must not be handed back as plaintext.
        if !case.plaintext.is_empty() {
            assert_ne!(
                buf, case.plaintext,
                "{}: plaintext left behind after a failed open",
                case.id
            );
        }
        tally.invalid_rejected += 1;
    }
}

#[test]
fn rfc8452_appendix_c2_and_c3() {
    let file = load("rfc8452_aes256_gcm_siv.json");
    let vectors = file["vectors"].as_array().expect("vectors array");
    let mut tally = Tally::default();
    let mut sections = (0, 0);
    for v in vectors {
        match field(v, "section") {
            "C.2" => sections.0 += 1,
            "C.3" => sections.1 += 1,
            other => panic!("unexpected section {other}"),
        }
        let result = hex(field(v, "result"));
        let plaintext = hex(field(v, "plaintext"));
        let (ciphertext, tag) = result.split_at(plaintext.len());
        let case = Case {
            id: format!("RFC 8452 {} #{}", field(v, "section"), v["tcId"]),
            key: hex(field(v, "key")),
            nonce: hex(field(v, "nonce")),
            ad: hex(field(v, "aad")),
            ciphertext: ciphertext.to_vec(),
            tag: tag.to_vec(),
            plaintext,
            valid: true,
        };
        run(&case, &mut tally);
    }
    // Appendix C.2 has 24 vectors, C.3 two; all are valid, with 256-bit keys and 96-bit nonces.
    assert_eq!(sections, (24, 2));
    assert_eq!(
        tally,
        Tally {
            valid_passed: 26,
            ..Tally::default()
        }
    );
}

#[test]
fn wycheproof_aes_gcm_siv() {
    let file = load("wycheproof_aes_gcm_siv_test.json");
    assert_eq!(file["algorithm"], "AES-GCM-SIV");
    let mut tally = Tally::default();
    let mut total = 0;
    for group in file["testGroups"].as_array().expect("testGroups") {
        assert_eq!(
            group["tagSize"], 128,
            "only 128-bit tags exist in AES-GCM-SIV"
        );
        for t in group["tests"].as_array().expect("tests") {
            total += 1;
            let valid = match field(t, "result") {
                "valid" => true,
                "invalid" => false,
                // Wycheproof's "acceptable" means either answer is right; this set has none.
                other => panic!("tcId {}: unexpected result {other}", t["tcId"]),
            };
            let case = Case {
                id: format!("Wycheproof tcId {} ({})", t["tcId"], field(t, "comment")),
                key: hex(field(t, "key")),
                nonce: hex(field(t, "iv")),
                ad: hex(field(t, "aad")),
                plaintext: hex(field(t, "msg")),
                ciphertext: hex(field(t, "ct")),
                tag: hex(field(t, "tag")),
                valid,
            };
            run(&case, &mut tally);
        }
    }
    assert_eq!(total, file["numberOfTests"]);
    // 202 tests: 103 with a 256-bit key (69 valid, 34 with a modified tag) run here; the 99
    // with a 128-bit key are skipped, as the envelope only ever uses AES-256. Every nonce in
    // the set is 96 bits.
    assert_eq!(
        tally,
        Tally {
            valid_passed: 69,
            invalid_rejected: 34,
            skipped_key: 99,
            skipped_nonce: 0,
        }
    );
}
