//! `keys`: key-set files, one base64 key a line, the primary first. The keys go to the file
//! written, or to standard output when asked with `-`, and nowhere else: messages name keys
//! by their one-byte ids.

use std::fmt::Write as _;
use std::fs::{self, OpenOptions};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use session_runtime::Key;
use zeroize::Zeroizing;

use crate::args::{KeyFile, KeysCommand, Prune};
use crate::{Failure, Outcome};

/// The comment a new file starts with; a file's own leading comments are kept instead.
const HEADER: &str = "\
# Session keys: one base64 key a line. The first seals (SESSION_KEY); the others only open
# (SESSION_KEY_OLD, in this order), newest first. Written by `session-tool keys`; see
# `session-tool keys --help` for the rotation procedure.";

/// A key set as read from a file: its leading comment lines, then its keys, primary first.
struct KeySet {
    header: Vec<String>,
    keys: Vec<Key>,
}

/// Runs a `keys` command; standard input stands for the file `-`.
pub(crate) fn keys(command: &KeysCommand, stdin: &mut dyn Read) -> Outcome {
    let (target, set, change) = match command {
        KeysCommand::New { file } => {
            if !is_stdio(file) && fs::symlink_metadata(file).is_ok() {
                return Err(Failure::Usage(format!(
                    "{} exists: rotate it with `session-tool keys rotate`, or remove it first",
                    file.display()
                )));
            }
            let set = KeySet {
                header: Vec::new(),
                keys: vec![fresh()?],
            };
            (file.clone(), set, "a new key set".to_owned())
        }
        KeysCommand::Rotate { file, prune } => {
            let mut set = read(file, stdin)?;
            set.keys.insert(0, fresh()?);
            let dropped = drop_old(&mut set.keys, prune, 2);
            (
                target(file),
                set,
                changed("rotated: a new primary", dropped),
            )
        }
        KeysCommand::Add { file } => {
            let mut set = read(file, stdin)?;
            set.keys.insert(1, fresh()?);
            (
                target(file),
                set,
                "a new key added as the first fallback".to_owned(),
            )
        }
        KeysCommand::Promote { file, prune } => {
            let mut set = read(file, stdin)?;
            if set.keys.len() < 2 {
                return Err(Failure::Usage(format!(
                    "{} holds no fallback to promote: add one first with `session-tool keys add`",
                    file.file.display()
                )));
            }
            set.keys.swap(0, 1);
            let dropped = drop_old(&mut set.keys, prune, 2);
            (
                target(file),
                set,
                changed("the first fallback promoted", dropped),
            )
        }
        KeysCommand::Prune { file, prune } => {
            let mut set = read(file, stdin)?;
            let prune = Prune {
                drop_oldest: prune.drop_oldest,
                keep: prune.keep,
            };
            let dropped = drop_old(&mut set.keys, &prune, 1);
            (target(file), set, changed("pruned", dropped))
        }
    };
    let text = render(&set);
    let summary = format!("{change}: {}", describe(&set.keys));
    if is_stdio(&target) {
        // The keys are what standard output was asked for; the summary goes beside them.
        let _ = writeln!(std::io::stderr().lock(), "session-tool: {summary}");
        return Ok(text.to_string());
    }
    write_atomically(&target, text.as_bytes())
        .map_err(|e| Failure::Failed(format!("cannot write {}: {e}", target.display())))?;
    Ok(format!("wrote {}: {summary}\n", target.display()))
}

fn is_stdio(path: &Path) -> bool {
    path.as_os_str() == "-"
}

/// Where a command on `file` writes: `--output`, else the file itself.
fn target(file: &KeyFile) -> PathBuf {
    file.output.clone().unwrap_or_else(|| file.file.clone())
}

fn fresh() -> Result<Key, Failure> {
    Key::try_generate().map_err(|e| Failure::Failed(e.to_string()))
}

fn changed(what: &str, dropped: usize) -> String {
    match dropped {
        0 => what.to_owned(),
        1 => format!("{what}, the oldest fallback dropped"),
        n => format!("{what}, the {n} oldest fallbacks dropped"),
    }
}

/// Drops the oldest fallbacks as `prune` says, never one of the first `kept` keys (the primary,
/// and after a rotation or promotion the primary just demoted). Returns how many were dropped.
fn drop_old(keys: &mut Vec<Key>, prune: &Prune, kept: usize) -> usize {
    let before = keys.len();
    let mut len = before;
    if prune.drop_oldest {
        len = len.saturating_sub(1);
    }
    if let Some(keep) = prune.keep {
        len = len.min(1 + usize::from(keep));
    }
    keys.truncate(len.max(kept.min(before)));
    before - keys.len()
}

/// `primary key id 17; fallbacks 200, 7`: ids only, never keys.
fn describe(keys: &[Key]) -> String {
    let mut out = String::new();
    if let Some(primary) = keys.first() {
        let _ = write!(out, "primary key id {}", primary.id());
    }
    let fallbacks: Vec<String> = keys.iter().skip(1).map(|k| k.id().to_string()).collect();
    if fallbacks.is_empty() {
        out.push_str(", no fallback");
    } else {
        let _ = write!(out, "; fallback ids {}", fallbacks.join(", "));
    }
    out
}

/// Reads and parses a key-set file (`-`: standard input).
fn read(file: &KeyFile, stdin: &mut dyn Read) -> Result<KeySet, Failure> {
    let mut text = Zeroizing::new(String::new());
    let name = file.file.display().to_string();
    let read = if is_stdio(&file.file) {
        stdin.read_to_string(&mut text).map(drop)
    } else {
        fs::File::open(&file.file).and_then(|mut f| f.read_to_string(&mut text).map(drop))
    };
    read.map_err(|e| Failure::Usage(format!("cannot read {name}: {e}")))?;
    parse(&text, &name)
}

/// A key-set file's contents: `#` comments and blank lines skipped, each other line a key as
/// [`Key::from_base64`] reads it. A key listed twice is kept once, at its first place.
fn parse(text: &str, name: &str) -> Result<KeySet, Failure> {
    let mut set = KeySet {
        header: Vec::new(),
        keys: Vec::new(),
    };
    for (number, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.starts_with('#') {
            if set.keys.is_empty() {
                set.header.push(line.to_owned());
            }
            continue;
        }
        if line.is_empty() {
            continue;
        }
        // The error says what is wrong with the key, never what it is.
        let key = Key::from_base64(line)
            .map_err(|e| Failure::Usage(format!("{name}, line {}: {e}", number + 1)))?;
        if !set.keys.contains(&key) {
            set.keys.push(key);
        }
    }
    if set.keys.is_empty() {
        return Err(Failure::Usage(format!(
            "{name} holds no key: create a key set with `session-tool keys new`"
        )));
    }
    Ok(set)
}

/// The file's text: the leading comments (or [`HEADER`]), then one key a line.
fn render(set: &KeySet) -> Zeroizing<String> {
    let mut text = Zeroizing::new(String::new());
    if set.header.is_empty() {
        text.push_str(HEADER);
        text.push('\n');
    }
    for line in &set.header {
        text.push_str(line);
        text.push('\n');
    }
    for key in &set.keys {
        text.push_str(&Zeroizing::new(key.to_base64()));
        text.push('\n');
    }
    text
}

/// Writes `contents` to a new file beside `path`, readable by its owner alone, flushes it to
/// disk, and renames it over `path`: a reader sees the old set or the new one, never a part.
fn write_atomically(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    let name = path
        .file_name()
        .ok_or_else(|| std::io::Error::new(std::io::ErrorKind::InvalidInput, "not a file name"))?;
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    let mut temp_name = std::ffi::OsString::from(".");
    temp_name.push(name);
    temp_name.push(format!(".{}.tmp", std::process::id()));
    let temp = dir.join(temp_name);
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let written = (|| {
        let mut file = options.open(&temp)?;
        file.write_all(contents)?;
        file.sync_all()?;
        drop(file);
        fs::rename(&temp, path)
    })();
    if written.is_err() {
        let _ = fs::remove_file(&temp);
    }
    written?;
    // The rename itself, on disk: a directory opens for reading on Unix only.
    #[cfg(unix)]
    if let Ok(dir) = fs::File::open(dir) {
        let _ = dir.sync_all();
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(n: usize) -> Vec<Key> {
        (0..n).map(|_| Key::generate()).collect()
    }

    #[test]
    fn files_read_in_every_base64_form_and_skip_comments() {
        // Bytes whose base64 has `+` and `/` in the standard alphabet, `-` and `_` in the other.
        let bytes: Vec<u8> = (0..32u8)
            .map(|i| if i % 2 == 0 { 0xfb } else { 0xff ^ i })
            .collect();
        let key = Key::from_bytes(&bytes).expect("key");
        let other = Key::generate();
        let url = key.to_base64();
        let standard = format!("{}=", url.replace('-', "+").replace('_', "/"));
        let text = format!(
            "# keys\n# for the shop\n\n  {standard}  \n# old one\n{}\n{url}\n",
            other.to_base64()
        );
        assert!(
            standard.contains('+') && standard.contains('/'),
            "{standard}"
        );
        let set = parse(&text, "k").expect("parses");
        assert_eq!(set.header, ["# keys", "# for the shop"]);
        assert_eq!(set.keys, [key, other], "the duplicate is kept once, first");
    }

    #[test]
    fn errors_name_the_line_and_never_the_key() {
        let text = "# ok\nnot base64 at all!\n";
        let Err(Failure::Usage(message)) = parse(text, "keys.txt") else {
            panic!("refused");
        };
        assert!(message.starts_with("keys.txt, line 2: "), "{message}");
        assert!(!message.contains("not base64 at all"), "{message}");
        assert!(matches!(parse("# none\n\n", "k"), Err(Failure::Usage(m)) if m.contains("no key")));
    }

    #[test]
    fn pruning_never_drops_the_keys_in_use() {
        let prune = |n: usize, drop_oldest: bool, keep: Option<u16>, kept: usize| {
            let mut set = keys(n);
            let all = set.clone();
            let dropped = drop_old(&mut set, &Prune { drop_oldest, keep }, kept);
            assert_eq!(set[..], all[..set.len()], "the oldest go first");
            (set.len(), dropped)
        };
        assert_eq!(prune(4, true, None, 2), (3, 1));
        assert_eq!(prune(2, true, None, 2), (2, 0), "the demoted primary stays");
        assert_eq!(prune(5, false, Some(1), 2), (2, 3));
        assert_eq!(prune(5, false, None, 2), (5, 0));
        assert_eq!(prune(3, false, Some(0), 1), (1, 2));
        assert_eq!(prune(1, true, None, 1), (1, 0), "the primary stays");
    }
}
