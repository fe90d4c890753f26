//! Hostile cookies: tampering, truncation, chunk games, wrong names and keys, expiry.

use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use session_runtime::{
    Codec, Expiry, Keys, OpenError, Padding, SessionError, SessionLayer, SessionMeta, SetCookies,
};
use session_tests::{
    CartV3, Item, NOW, big_cart, chunk_pairs, codec, cookie_header, golden_key, key, meta, settings,
};

fn open(codec: &Codec, cookies: &str) -> Result<Option<CartV3>, OpenError> {
    codec
        .open::<CartV3>(cookies, NOW + 1)
        .map(|o| o.map(|o| o.value))
}

fn three_chunks() -> (Codec, SetCookies) {
    let codec = codec("session", 4);
    let sealed = codec.seal(&big_cart(), &meta()).expect("seals");
    assert_eq!(sealed.chunks, 3, "the big cart spreads over three cookies");
    (codec, sealed)
}

#[test]
fn three_chunks_round_trip_with_other_cookies_around() {
    let (codec, sealed) = three_chunks();
    let mut pairs = chunk_pairs(&sealed);
    pairs.insert(1, ("theme".into(), "dark".into()));
    pairs.reverse();
    assert_eq!(open(&codec, &cookie_header(&pairs)), Ok(Some(big_cart())));
    // Removal of the unused fourth name rides along.
    assert_eq!(sealed.headers.len(), 4);
    assert!(sealed.headers[3].starts_with("session.3=; Max-Age=0; Path=/"));
    for h in &sealed.headers {
        assert!(h.len() <= 4096, "Set-Cookie of {} bytes", h.len());
    }
}

#[test]
fn every_single_bit_flip_is_rejected() {
    let (codec, sealed) = three_chunks();
    let pairs = chunk_pairs(&sealed);
    let lens: Vec<usize> = pairs.iter().map(|(_, v)| v.len()).collect();
    let joined: String = pairs.iter().map(|(_, v)| v.as_str()).collect();
    let envelope = URL_SAFE_NO_PAD.decode(&joined).expect("base64");
    let mut flipped = envelope.clone();
    let mut rejected = 0;
    for bit in 0..envelope.len() * 8 {
        flipped[bit / 8] ^= 1 << (bit % 8);
        let text = URL_SAFE_NO_PAD.encode(&flipped);
        let mut rest = text.as_str();
        let mut tampered = Vec::new();
        for ((name, _), len) in pairs.iter().zip(&lens) {
            let (chunk, tail) = rest.split_at(*len);
            tampered.push((name.clone(), chunk.to_owned()));
            rest = tail;
        }
        let result = open(&codec, &cookie_header(&tampered));
        assert!(result.is_err(), "bit {bit} flipped and still opened");
        rejected += 1;
        flipped[bit / 8] ^= 1 << (bit % 8);
    }
    assert_eq!(rejected, envelope.len() * 8);
    assert!(envelope.len() > 6000);
}

#[test]
fn text_level_damage_is_rejected() {
    let (codec, sealed) = three_chunks();
    let pairs = chunk_pairs(&sealed);
    let expect_err = |pairs: &[(String, String)], why: &str| {
        let result = open(&codec, &cookie_header(pairs));
        assert!(result.is_err(), "{why}: opened");
        result.expect_err("error")
    };

    // Truncated: the last chunk short by one quantum, or by one character.
    let mut t = pairs.clone();
    let short = t[2].1.len() - 4;
    t[2].1.truncate(short);
    expect_err(&t, "last chunk truncated by 4");
    let mut t = pairs.clone();
    t[2].1.pop();
    expect_err(&t, "last chunk truncated by 1");
    let mut t = pairs.clone();
    t[0].1.truncate(3);
    assert_eq!(
        expect_err(&t, "first chunk truncated"),
        OpenError::Malformed
    );

    // Reordered: chunk values swapped between names.
    let mut t = pairs.clone();
    let (a, b) = (t[1].1.clone(), t[2].1.clone());
    t[1].1 = b;
    t[2].1 = a;
    expect_err(&t, "chunks 1 and 2 swapped");

    // Duplicated chunk, same or different value.
    let mut t = pairs.clone();
    t.push(t[1].clone());
    assert_eq!(
        expect_err(&t, "duplicate"),
        OpenError::DuplicateChunk {
            name: "session.1".into()
        }
    );
    let mut t = pairs.clone();
    t.push(("session".into(), t[0].1.clone()));
    assert_eq!(
        expect_err(&t, "duplicate first"),
        OpenError::DuplicateChunk {
            name: "session".into()
        }
    );

    // Missing chunk.
    let mut t = pairs.clone();
    t.remove(1);
    assert_eq!(
        expect_err(&t, "missing"),
        OpenError::MissingChunk { index: 1, count: 3 }
    );
    let mut t = pairs.clone();
    t.remove(0);
    assert_eq!(expect_err(&t, "missing first"), OpenError::MissingFirst);

    // Surplus chunk: a stale `session.3` from an earlier, larger write.
    let mut t = pairs.clone();
    t.push(("session.3".into(), "AAAA".into()));
    assert_eq!(
        expect_err(&t, "surplus"),
        OpenError::SurplusChunk {
            name: "session.3".into(),
            count: 3
        }
    );

    // Non-base64 and quoted values.
    let mut t = pairs.clone();
    t[1].1.replace_range(0..1, "*");
    assert_eq!(expect_err(&t, "bad base64"), OpenError::Malformed);
    let mut t = pairs.clone();
    t[2].1 = format!("\"{}\"", t[2].1);
    expect_err(&t, "quoted");
}

#[test]
fn a_chunk_from_another_session_is_rejected() {
    let (codec, sealed) = three_chunks();
    let other = codec.seal(&big_cart(), &meta()).expect("seals");
    let mut mixed = chunk_pairs(&sealed);
    mixed[1] = chunk_pairs(&other)[1].clone();
    assert_eq!(
        open(&codec, &cookie_header(&mixed)),
        Err(OpenError::Tampered)
    );
}

#[test]
fn cookie_sealed_for_one_name_is_refused_under_another() {
    let a = codec("a", 4);
    let b = codec("b", 4);
    let sealed = a.seal(&big_cart(), &meta()).expect("seals");
    let renamed: Vec<(String, String)> = chunk_pairs(&sealed)
        .into_iter()
        .map(|(n, v)| (n.replacen('a', "b", 1), v))
        .collect();
    assert_eq!(open(&b, &cookie_header(&renamed)), Err(OpenError::Tampered));
    assert_eq!(
        open(&a, &cookie_header(&chunk_pairs(&sealed))),
        Ok(Some(big_cart()))
    );
}

#[test]
fn wrong_key_is_refused_and_fallback_key_is_flagged() {
    let old = codec("session", 4);
    let sealed = old.seal(&big_cart(), &meta()).expect("seals");
    let cookie = cookie_header(&chunk_pairs(&sealed));

    let stranger = SessionLayer::<CartV3>::builder(key(1))
        .with_max_cookies(4)
        .build_codec()
        .expect("settings");
    let err = stranger
        .open::<CartV3>(&cookie, NOW)
        .expect_err("wrong key");
    assert!(
        matches!(err, OpenError::UnknownKey { .. } | OpenError::Tampered),
        "{err:?}"
    );

    let rotated = SessionLayer::<CartV3>::builder(Keys::new(key(1)).with_fallback(golden_key()))
        .with_max_cookies(4)
        .build_codec()
        .expect("settings");
    let opened = rotated
        .open::<CartV3>(&cookie, NOW)
        .expect("fallback opens")
        .expect("session");
    assert_eq!(opened.value, big_cart());
    assert!(opened.reseal.fallback_key);
    assert!(opened.reseal.needed());

    // Re-sealed with the primary, it opens without the flag, and the old key alone refuses it.
    let resealed = rotated.seal(&opened.value, &opened.meta).expect("reseal");
    let cookie = cookie_header(&chunk_pairs(&resealed));
    let again = rotated
        .open::<CartV3>(&cookie, NOW)
        .expect("opens")
        .expect("session");
    assert!(!again.reseal.needed());
    assert_eq!(again.meta, opened.meta);
    assert!(old.open::<CartV3>(&cookie, NOW).is_err());
}

#[test]
fn expiry_comes_from_sealed_timestamps() {
    let codec = settings("s", 4)
        .with_idle_timeout(Some(Duration::from_secs(600)))
        .with_absolute_timeout(Some(Duration::from_secs(3600)))
        .build_codec()
        .expect("settings");
    let seal = |m: &SessionMeta| {
        codec
            .seal(&CartV3::default(), m)
            .expect("seal")
            .cookie_header()
    };
    let opens_at = |cookie: &str, now: u32| codec.open::<CartV3>(cookie, now).map(|o| o.is_some());
    let mut m = meta();
    let cookie = seal(&m);
    assert_eq!(opens_at(&cookie, NOW + 600), Ok(true), "fresh");
    assert_eq!(
        opens_at(&cookie, NOW + 601),
        Err(OpenError::Expired(Expiry::Idle))
    );
    // Refreshed last-access keeps it alive, up to the absolute limit.
    m.last_access = NOW + 3000;
    let cookie = seal(&m);
    assert_eq!(opens_at(&cookie, NOW + 3600), Ok(true), "alive");
    assert_eq!(
        opens_at(&cookie, NOW + 3601),
        Err(OpenError::Expired(Expiry::Absolute))
    );
}

#[test]
fn too_large_is_an_error_not_a_dropped_cookie() {
    let codec = codec("session", 2);
    let err = codec
        .seal(&big_cart(), &meta())
        .expect_err("needs 3 cookies");
    match err {
        SessionError::TooLarge { size, budget } => {
            assert!(size > budget);
            assert_eq!(budget, codec.capacity_total());
        }
        other => panic!("unexpected {other:?}"),
    }
    let mut over = big_cart();
    over.items.push(Item::default());
    let err = codec.seal(&over, &meta()).expect_err("max_len broken");
    assert!(
        matches!(err, SessionError::Bounds(ref b) if b.field == "items" && b.len == 301 && b.max == 300),
        "{err:?}"
    );
}

#[test]
fn schema_worst_case_is_checked_against_real_capacity() {
    assert!(settings("session", 3).build().is_ok());
    let err = settings("session", 2)
        .build()
        .expect_err("worst case needs 3");
    assert!(err.to_string().contains("CartV3"), "{err}");
}

#[test]
fn padding_hides_the_length_within_a_bucket() {
    let codec = settings("s", 4)
        .with_padding(Padding::Bucket(256))
        .build_codec()
        .expect("settings");
    let mut lens = Vec::new();
    for n in [0usize, 10, 40, 80] {
        let cart = CartV3 {
            note: "x".repeat(n),
            ..CartV3::default()
        };
        let sealed = codec.seal(&cart, &meta()).expect("seal");
        let cookie = sealed.cookie_header();
        let value = cookie.split_once('=').expect("pair").1;
        assert_eq!(value.len() % 256, 0, "padded to the bucket");
        lens.push(value.len());
        let opened = codec
            .open::<CartV3>(&cookie, NOW)
            .expect("opens")
            .expect("some");
        assert_eq!(opened.value, cart);
    }
    assert!(lens.windows(2).all(|w| w[0] == w[1]), "{lens:?}");
}
