//! The generated code names nothing the user can shadow: every std item is reached through
//! `::core` or the runtime's private module.
#![deny(warnings)]
#![allow(non_camel_case_types, non_snake_case, dead_code)]

mod schema {
    use serde::{Deserialize, Serialize};
    use session_runtime::{CookieSession, SessionBound};

    type Result = ();
    type Option = ();
    struct Vec;
    struct String;
    struct Ok;
    struct Err;
    fn Some() {}
    fn None() {}
    mod core {}
    mod std {}

    #[derive(SessionBound, Serialize, Deserialize)]
    pub struct Item {
        pub sku: u32,
        #[session(max_len = 4)]
        pub tags: ::std::vec::Vec<u8>,
    }

    #[derive(SessionBound, Serialize, Deserialize)]
    pub enum Kind {
        A,
        B(u8),
    }

    #[derive(CookieSession, Serialize, Deserialize)]
    #[session(version = 1)]
    pub struct CartV1 {
        pub user: u32,
    }

    #[derive(CookieSession, Serialize, Deserialize)]
    #[session(version = 2, previous = CartV1, max_cookies = 1)]
    pub struct Cart {
        pub user: u64,
        #[session(max_len = 8)]
        pub items: ::std::vec::Vec<Item>,
        pub kind: Kind,
    }

    impl From<CartV1> for Cart {
        fn from(old: CartV1) -> Self {
            Cart { user: old.user.into(), items: ::std::vec::Vec::new(), kind: Kind::A }
        }
    }
}

fn main() {
    use session_runtime::CookieSession;
    assert_eq!(schema::Cart::VERSION, 2);
}
