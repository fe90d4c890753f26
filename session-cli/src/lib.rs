//! `session-tool`: generate a key, read what a sealed session cookie says about itself, see
//! how close each schema comes to its cookie budget, log a subject out everywhere, and keep
//! key-set files.
//!
//! ```text
//! session-tool keygen
//! session-tool inspect [--cookie HEADER] [--name NAME] [--key-env VAR] [--show-id]
//! session-tool sizes [--name NAME] [--max-cookies N]
//! session-tool revoke SUBJECT [--key-env VAR] [--timeout SECONDS]
//! session-tool keys new FILE
//! session-tool keys rotate FILE [-o PATH] [--drop-oldest | --keep N]
//! session-tool keys add FILE [-o PATH]
//! session-tool keys promote FILE [-o PATH] [--drop-oldest | --keep N]
//! session-tool keys prune FILE [-o PATH] (--drop-oldest | --keep N)
//! session-tool completions SHELL
//! session-tool help [COMMAND]
//! ```
//!
//! `inspect` reads the key from an environment variable (`SESSION_KEY` unless `--key-env`
//! names another, fallbacks from the same name with `_OLD` appended, as
//! [`Keys::from_env_named`](session_runtime::Keys::from_env_named) reads them), never from the
//! command line, where it would land in the shell history and the process list. It prints key
//! ids, never keys, and shortens the session id unless `--show-id` asks for all of it.
//!
//! `revoke` ends every session of a subject (what the application passed to
//! `Session::set_subject`), as [`SessionLayer::revoke_all`](session_runtime::SessionLayer::revoke_all)
//! does, reading the application's own settings: the keys from `SESSION_KEY` and
//! `SESSION_KEY_OLD`, the store and lifetime from `SESSION_STORE`, `SESSION_STORE_PREFIX`,
//! `SESSION_IDLE_TIMEOUT` and `SESSION_ABSOLUTE_TIMEOUT`, through
//! [`StoreSettings::from_env`](session_runtime::StoreSettings::from_env), as an application
//! built with [`with_store_settings`](session_runtime::SessionLayerBuilder::with_store_settings)
//! does. With `SESSION_STORE=cookie` (or unset) it is an error: revocation needs a store.
//!
//! `keys` writes key-set files: one base64 key a line, `#` comments and blank lines ignored,
//! the primary first, then the fallbacks. `rotate` puts a fresh key first and keeps the old
//! primary as the first fallback; `add`, `promote` and `prune` are the three steps of a
//! rotation across instances that deploy one after another (`session-tool keys --help`).
//! Files are replaced atomically, with mode 0600 on Unix; `-` stands for standard input and
//! output.
//!
//! The installed binary knows no schema: it shows the sealed header and the payload's size. To
//! see the payload itself and the sizes of your own schema, add a small binary to your crate:
//!
//! ```no_run
//! # use serde::{Deserialize, Serialize};
//! # use session_runtime::CookieSession;
//! # #[derive(CookieSession, Serialize, Deserialize, Debug, Default)]
//! # #[session(version = 1)]
//! # struct Cart { user_id: u64 }
//! // src/bin/session-tool.rs
//! fn main() -> std::process::ExitCode {
//!     session_cli::run::<Cart>(std::env::args())
//! }
//! ```
//!
//! Exit codes: 0 on success; 1 when the cookie does not open (or holds no session), or the
//! store or a file write failed; 2 for a usage or configuration error (an unknown option, a
//! missing or invalid key, a store that cannot be used). Errors are one line on standard
//! error, except clap's usage errors, which show the usage too.

mod args;
mod inspect;
mod keys;
mod payload;
mod revoke;
mod sizes;
mod time;

use std::fmt::Debug;
use std::io::{Read, Write};
use std::process::ExitCode;

use session_runtime::{CookieSession, Key, SchemaVersion};

use clap::{CommandFactory, Parser};

use crate::args::{Cli, Command};

/// Runs the tool for schema `T`: `inspect` also opens the payload into `T` (migrating an older
/// version) and prints it with `{:?}`, and `sizes` reports `T`'s worst case against its budget.
///
/// `args` are the process arguments, program name first, as [`std::env::args`] gives them.
/// Prints to standard output and errors to standard error; returns the exit code.
///
/// # Warning
/// The payload is printed in full: whatever the session holds, this shows. Run it where its
/// output is not logged.
pub fn run<T: CookieSession + Debug>(args: impl IntoIterator<Item = String>) -> ExitCode {
    exit(execute(
        args,
        Some(&Schema::of::<T>()),
        &mut std::io::stdin().lock(),
    ))
}

/// Runs the tool without a schema, as the `session-tool` binary does: `inspect` shows the sealed
/// header and the payload's size, `sizes` what fits in how many cookies.
pub fn run_without_schema(args: impl IntoIterator<Item = String>) -> ExitCode {
    exit(execute(args, None, &mut std::io::stdin().lock()))
}

/// What the commands know about the user's schema.
struct Schema {
    name: &'static str,
    current: u16,
    /// Every version of the `previous` chain, newest first.
    versions: Vec<SchemaVersion>,
    /// Opens a cookie header into the schema and formats the value with `{:?}`.
    open: fn(&session_runtime::Codec, &str) -> Result<Option<String>, session_runtime::OpenError>,
}

impl Schema {
    fn of<T: CookieSession + Debug>() -> Self {
        Schema {
            name: T::NAME,
            current: T::VERSION,
            versions: T::SCHEMA.chain().copied().collect(),
            open: open_debug::<T>,
        }
    }
}

impl Schema {
    /// The versions it reads, newest first: `3, 2, 1`.
    fn reads(&self) -> String {
        let versions: Vec<String> = self
            .versions
            .iter()
            .map(|v| v.version.to_string())
            .collect();
        versions.join(", ")
    }
}

fn open_debug<T: CookieSession + Debug>(
    codec: &session_runtime::Codec,
    header: &str,
) -> Result<Option<String>, session_runtime::OpenError> {
    Ok(codec
        .open::<T>(header, u32::MAX)?
        .map(|opened| format!("{:?}", opened.value)))
}

/// The result of a command: text for standard output, or a failure.
type Outcome = Result<String, Failure>;

/// Why a command failed, and the exit code that says so.
#[derive(Debug, PartialEq, Eq)]
enum Failure {
    /// The cookie did not open, or there was none: exit code 1.
    NotOpened {
        /// What could still be read, for standard output.
        shown: String,
        /// Why, for standard error.
        reason: String,
    },
    /// A usage or configuration error: exit code 2.
    Usage(String),
    /// A command line clap refused, already formatted with its usage: exit code 2.
    Parse(String),
    /// The store or a file write failed: exit code 1.
    Failed(String),
}

fn exit(outcome: Outcome) -> ExitCode {
    let (out, err, code) = match outcome {
        Ok(out) => (out, None, 0),
        Err(Failure::NotOpened { shown, reason }) => (shown, Some(reason), 1),
        Err(Failure::Usage(message)) => (String::new(), Some(message), 2),
        Err(Failure::Failed(message)) => (String::new(), Some(message), 1),
        Err(Failure::Parse(message)) => {
            let _ = std::io::stderr().lock().write_all(message.as_bytes());
            (String::new(), None, 2)
        }
    };
    // A closed pipe (`session-tool inspect | head`) is not worth a panic.
    let _ = std::io::stdout().lock().write_all(out.as_bytes());
    if let Some(err) = err {
        let _ = writeln!(std::io::stderr().lock(), "session-tool: {err}");
    }
    ExitCode::from(code)
}

fn execute(
    args: impl IntoIterator<Item = String>,
    schema: Option<&Schema>,
    stdin: &mut dyn Read,
) -> Outcome {
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        // `--help`, `help`, `--version`: asked for, so on standard output.
        Err(e) if e.exit_code() == 0 => return Ok(e.render().to_string()),
        Err(e) => return Err(Failure::Parse(e.render().to_string())),
    };
    match cli.command {
        None => Ok(Cli::command().render_long_help().to_string()),
        Some(Command::Keygen) => {
            let key = Key::try_generate().map_err(|e| Failure::Usage(e.to_string()))?;
            Ok(format!("{}\n", key.to_base64()))
        }
        Some(Command::Inspect { key: Some(_), .. }) => Err(Failure::Usage(
            "keys are not taken on the command line (they would stay in the shell history and \
             the process list): put the key in an environment variable and pass --key-env VAR"
                .into(),
        )),
        Some(Command::Inspect { options, key: None }) => {
            let keys = session_runtime::Keys::from_env_named(
                &options.key_env,
                &format!("{}_OLD", options.key_env),
            )
            .map_err(|e| Failure::Usage(e.to_string()))?;
            let header = match options.cookie.clone() {
                Some(cookie) => cookie,
                None => read_header(stdin)?,
            };
            inspect::inspect(&keys, &options, &header, schema)
        }
        Some(Command::Sizes(options)) => sizes::sizes(&options, schema),
        Some(Command::Revoke(options)) => revoke::revoke(&options),
        Some(Command::Keys(command)) => keys::keys(&command, stdin),
        Some(Command::Completions { shell }) => {
            let mut script = Vec::new();
            clap_complete::generate(shell, &mut Cli::command(), "session-tool", &mut script);
            String::from_utf8(script).map_err(|e| Failure::Failed(e.to_string()))
        }
    }
}

/// The cookie header from standard input: a `Cookie` header (with or without its name), or a
/// response's `Set-Cookie:` lines, of which only what a browser would send back is kept: each
/// line's first `name=value`, removals (empty values) skipped.
fn read_header(stdin: &mut dyn Read) -> Result<String, Failure> {
    let mut text = String::new();
    stdin
        .read_to_string(&mut text)
        .map_err(|e| Failure::Usage(format!("cannot read the cookie header from stdin: {e}")))?;
    let mut pairs = Vec::new();
    for line in text.lines().map(str::trim) {
        let (name, rest) = line.split_once(':').unwrap_or(("", line));
        if name.eq_ignore_ascii_case("set-cookie") {
            let cookie = rest.split(';').next().unwrap_or_default().trim();
            if cookie
                .split_once('=')
                .is_some_and(|(_, value)| !value.trim().is_empty())
            {
                pairs.push(cookie);
            }
        } else {
            let cookies = if name.eq_ignore_ascii_case("cookie") {
                rest
            } else {
                line
            };
            pairs.extend(cookies.split(';').map(str::trim).filter(|c| !c.is_empty()));
        }
    }
    if pairs.is_empty() {
        return Err(Failure::Usage(
            "no cookie header: pass --cookie 'session=…' or pipe the header into stdin".into(),
        ));
    }
    Ok(pairs.join("; "))
}

#[cfg(test)]
mod tests;
