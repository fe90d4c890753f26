use session_runtime::SessionBound;

#[derive(SessionBound)]
union Bits {
    int: u32,
    float: f32,
}

fn main() {}
