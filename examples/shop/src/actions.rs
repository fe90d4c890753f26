//! What each of the shop's routes does with the session, written once for both frameworks: the
//! axum routes in this crate and the actix-web shop (`examples/shop-actix`) take the same
//! `Session<Shop>` and call these, then answer in their framework's words.

use session_runtime::{Clock, KeySource, Level, Session, SessionError, SessionMeta};

use crate::schema::{self, Line, Shop, ShopV1};
use crate::{page, settings};

/// `GET /`: the page, with the flash messages of earlier responses (taken, so shown once).
pub fn home(session: &mut Session<Shop>) -> String {
    let flashes = session.take_flashes();
    page::render(&session.get(), &flashes, session.chunk_count())
}

/// `POST /login`: a new session id, then the user's name (trimmed, at most 16 characters).
pub fn login(session: &mut Session<Shop>, name: &str) -> Result<(), SessionError> {
    let name: String = name.trim().chars().take(schema::NAME_MAX_CHARS).collect();
    if name.is_empty() {
        session.flash(Level::Warning, "Enter a name to log in.");
        return Ok(());
    }
    // A new session id at login, so an id planted before cannot ride along.
    session.regenerate()?;
    session.update(|shop| shop.user = name.clone())?;
    session.flash(Level::Success, format!("Welcome, {name}."));
    Ok(())
}

/// `POST /logout`: ends the session (every cookie expired), with a flash that survives it.
pub fn logout(session: &mut Session<Shop>) {
    session.clear();
    session.flash(Level::Info, "Logged out: every session cookie was expired.");
}

/// `POST /cart/add`: `count` lines (1 to 400) from `sku` on. A cart that would no longer fit
/// is left as it was, and the user told why.
pub fn add(session: &mut Session<Shop>, sku: u32, count: u16) {
    let count = count.clamp(1, 400);
    let result = session.update(|shop| {
        for i in 0..u32::from(count) {
            shop.cart.push(Line {
                sku: sku.wrapping_add(i),
                qty: 1 + (i % 9) as u16,
            });
        }
    });
    match result {
        Ok(()) => session.flash(Level::Success, format!("Added {count} item(s).")),
        // The handler sees the overflow; the cart is left as it was, nothing is silently lost.
        Err(e) => session.flash(Level::Error, format!("Not added: {e}")),
    }
}

/// `POST /cart/clear`: empties the cart.
pub fn clear_cart(session: &mut Session<Shop>) -> Result<(), SessionError> {
    session.update(|shop| shop.cart.clear())?;
    session.flash(Level::Info, "Cart emptied.");
    Ok(())
}

/// `POST /legacy`: the Set-Cookie values of a session as the previous deploy (schema version
/// 1) wrote it; the next page load migrates it to version 2 and re-seals it.
pub fn legacy_cookies(keys: KeySource) -> Vec<String> {
    let codec = settings::<ShopV1>(keys)
        .build_codec()
        .expect("valid settings");
    let old = ShopV1 {
        user: Some("legacy user".into()),
        cart: vec![1001, 1002, 1003],
    };
    let meta = SessionMeta::new(Clock::System.now()).expect("random source");
    codec
        .seal(&old, &meta)
        .expect("a small v1 session fits")
        .headers
}
