//! Server-rendered HTML, escaped by hand: the page is small enough not to need a template engine.

use std::fmt::Write as _;

use session_runtime::{FlashMessage, Level};

use crate::schema::Shop;

/// Renders the one page of the shop.
pub(crate) fn render(shop: &Shop, flashes: &[FlashMessage], cookies: u8) -> String {
    let mut html = String::from(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Shop</title>\
         <style>body{font-family:sans-serif;max-width:44rem;margin:2rem auto}\
         .flash{padding:.5rem;margin:.3rem 0;border-radius:4px}.success{background:#dfd}\
         .info{background:#def}.warning{background:#ffd}.error{background:#fdd}\
         form{display:inline-block;margin:.2rem}</style></head><body><h1>Shop</h1>",
    );
    for flash in flashes {
        let class = match flash.level {
            Level::Info => "info",
            Level::Success => "success",
            Level::Warning => "warning",
            Level::Error => "error",
        };
        let _ = write!(
            html,
            "<p class=\"flash {class}\" id=\"flash\">{}</p>",
            escape(&flash.text)
        );
    }
    if shop.user.is_empty() {
        html.push_str(
            "<form method=\"post\" action=\"/login\"><input name=\"name\" id=\"name\" placeholder=\"your name\">\
             <button id=\"login\">Log in</button></form>",
        );
    } else {
        let _ = write!(
            html,
            "<p>Logged in as <b id=\"user\">{}</b></p>\
             <form method=\"post\" action=\"/logout\"><button id=\"logout\">Log out</button></form>",
            escape(&shop.user)
        );
    }
    let items: u32 = shop.cart.iter().map(|l| u32::from(l.qty)).sum();
    let _ = write!(
        html,
        "<h2>Cart</h2><p><span id=\"lines\">{}</span> lines, {items} items, carried in \
         <span id=\"cookies\">{cookies}</span> cookie(s).</p>",
        shop.cart.len()
    );
    html.push_str(
        "<form method=\"post\" action=\"/cart/add\"><input type=\"hidden\" name=\"sku\" value=\"1000\">\
         <input type=\"hidden\" name=\"count\" value=\"1\"><button id=\"add1\">Add 1 item</button></form>\
         <form method=\"post\" action=\"/cart/add\"><input type=\"hidden\" name=\"sku\" value=\"5000\">\
         <input type=\"hidden\" name=\"count\" value=\"400\"><button id=\"add400\">Add 400 items</button></form>\
         <form method=\"post\" action=\"/cart/clear\"><button id=\"clear\">Empty cart</button></form>\
         <h2>Schema migration</h2><p>Sets a cookie as version 1 of this app wrote it; this \
         version (2) migrates it on the next request.</p>\
         <form method=\"post\" action=\"/legacy\"><button id=\"legacy\">Use a v1 cookie</button></form>",
    );
    for line in shop.cart.iter().rev().take(10) {
        let _ = write!(
            html,
            "<div class=\"line\">SKU {} × {}</div>",
            line.sku, line.qty
        );
    }
    html.push_str("</body></html>");
    html
}

fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}
