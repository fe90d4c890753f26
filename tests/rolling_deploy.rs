//! A rolling deploy of a schema change, as the README describes it, with real instances of both
//! builds serving one client alternately: no request may end in a fresh session.
//!
//! Phase 1 ships the new build (`AppV2`) reading versions 1 and 2 but still writing version 1
//! (`.writing::<AppV1>()`, through `AppV2`'s `#[session(downgrade = ..)]`), beside instances of
//! the old build (`AppV1`). Phase 2, once every
//! instance runs the new build, switches writing to version 2, beside phase-1 instances.

use reqwest::Url;
use session_runtime::{Key, SessionLayer};
use session_tests::{AppV1, AppV2, at, jar_client, key, loopback, start, text};

/// Alternates the client between two instances for a login and a series of changes; every
/// response must show the same, logged-in session.
async fn alternate(a: &Url, b: &Url) {
    let (client, _jar) = jar_client();
    let (status, _, _) = text(&client, "POST", at(a, "login?user=ada")).await;
    assert!(status.is_success());
    for round in 0..6u32 {
        let (here, there) = if round % 2 == 0 { (b, a) } else { (a, b) };
        let items = 3 + round;
        let (status, _, body) =
            text(&client, "POST", at(here, &format!("items?items={items}"))).await;
        assert!(status.is_success(), "round {round}: {status} {body}");
        let (_, _, body) = text(&client, "GET", at(there, "show")).await;
        assert!(
            body.starts_with(&format!("user=ada items={items} new=false")),
            "round {round}: the other instance saw {body}"
        );
    }
}

fn keys() -> Key {
    key(41)
}

#[tokio::test]
async fn phase_one_old_and_new_builds_share_sessions() {
    let (old, _a) = start(loopback::<AppV1>(keys()).build().expect("old build")).await;
    let new: SessionLayer<AppV2> = loopback::<AppV2>(keys())
        .writing::<AppV1>()
        .build()
        .expect("new build, phase 1");
    let (new, _b) = start(new).await;
    alternate(&old, &new).await;
    alternate(&new, &old).await;
}

#[tokio::test]
async fn phase_two_switches_writing_without_logging_anyone_out() {
    let phase_one = loopback::<AppV2>(keys())
        .writing::<AppV1>()
        .build()
        .expect("phase 1");
    let (phase_one, _a) = start(phase_one).await;
    let (phase_two, _b) = start(loopback::<AppV2>(keys()).build().expect("phase 2")).await;
    alternate(&phase_one, &phase_two).await;
    alternate(&phase_two, &phase_one).await;
}

#[tokio::test]
async fn without_phase_one_the_old_build_logs_the_user_out() {
    // What the two phases prevent: the new build writes version 2 at once, and an instance
    // of the old build cannot open it.
    let (old, _a) = start(loopback::<AppV1>(keys()).build().expect("old")).await;
    let (new, _b) = start(loopback::<AppV2>(keys()).build().expect("new")).await;
    let (client, _jar) = jar_client();
    text(&client, "POST", at(&new, "login?user=ada")).await;
    let (_, _, body) = text(&client, "GET", at(&old, "show")).await;
    assert!(body.contains("new=true"), "{body}");
}

/// A schema that does not read `AppV1`, with a hand-written down-migration to it: what it would
/// write, it could not read back. The derive only ever implements `Downgrade<Previous>`; the
/// builder refuses the rest.
#[derive(session_runtime::CookieSession, serde::Serialize, serde::Deserialize, Default)]
#[session(version = 7)]
struct Unrelated {
    user: u64,
}

impl session_runtime::Downgrade<AppV1> for Unrelated {
    fn downgrade(&self) -> AppV1 {
        AppV1::default()
    }
}

#[test]
fn writing_a_version_the_schema_does_not_read_is_refused() {
    let refused = SessionLayer::<Unrelated>::builder(key(9))
        .writing::<AppV1>()
        .build()
        .expect_err("a version the schema cannot read back");
    assert_eq!(
        refused,
        session_runtime::ConfigError::NotPrevious {
            schema: "Unrelated",
            writing: "AppV1",
            version: 1,
            previous: "none".to_owned(),
        }
    );
    assert!(refused.to_string().contains("only its `previous` version"));
}
