//! The command line, as clap's derive API reads it: the help, the errors and the shell
//! completions come from these types.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};
use clap_complete::Shell;

/// The environment the commands read, shown at the end of `session-tool --help`.
const ENVIRONMENT: &str = "\
Environment (read as the application reads it, never taken on the command line):
  SESSION_KEY               the primary key, base64 (inspect, revoke; --key-env names another)
  SESSION_KEY_OLD           fallback keys, separated by commas or spaces (VAR_OLD for --key-env VAR)
  SESSION_STORE             cookie (default), memory, memcached://host:port,...,
                            redis://[user:password@]host[:port][/db] or redis-cluster://host:port,...
  SESSION_STORE_PREFIX      the key prefix in memcached or Redis (default: the store's, session:)
  SESSION_IDLE_TIMEOUT      seconds a session may go unused, or none (default 1800)
  SESSION_ABSOLUTE_TIMEOUT  seconds a session may last at most, or none (default 43200)

Exit codes: 0 done; 1 the cookie did not open, or the store failed; 2 a usage or configuration
error (an unknown option, a missing or invalid key, a store that cannot be used).";

/// The parsed command line.
#[derive(Debug, Parser)]
#[command(
    name = "session-tool",
    version,
    about = "Keys, sealed session cookies, schema sizes and revocation for session-runtime",
    after_help = "Run `session-tool help <command>` for a command's options.",
    after_long_help = ENVIRONMENT
)]
pub(crate) struct Cli {
    /// What to do; none prints this help.
    #[command(subcommand)]
    pub(crate) command: Option<Command>,
}

/// The commands.
#[derive(Debug, PartialEq, Eq, Subcommand)]
pub(crate) enum Command {
    /// Print a fresh random master key (32 bytes, base64) for SESSION_KEY.
    Keygen,
    /// Open a sealed session and print its header.
    ///
    /// Prints format, key id, chunk count, schema version, session id and timestamps (and the
    /// payload, for a tool built for a schema). The cookie header is read from --cookie or
    /// standard input: a Cookie header, or the response's `Set-Cookie: ...` lines (removals
    /// are skipped). The key is read from the environment variable VAR (default SESSION_KEY),
    /// fallback keys from VAR_OLD; keys are never taken on the command line.
    Inspect {
        #[command(flatten)]
        options: InspectOptions,
        /// Refused: a key on the command line stays in the shell history and the process list.
        /// Takes a value starting with `-` too: one URL-safe base64 key in 64 does, and it must
        /// get this refusal, not "unexpected argument".
        #[arg(
            long,
            hide = true,
            value_name = "KEY",
            num_args = 0..=1,
            default_missing_value = "",
            allow_hyphen_values = true
        )]
        key: Option<String>,
    },
    /// Print each schema version's worst case against its budget.
    ///
    /// With a schema: the worst case of each version against its budget and the cookies it
    /// takes. Without one (the installed binary): the largest payload that fits in 1 to N
    /// cookies.
    Sizes(SizesOptions),
    /// Log a subject out everywhere, through the application's store.
    ///
    /// Ends every session named for SUBJECT (with `Session::set_subject`) and issued before
    /// now, in every instance of the application, as `SessionLayer::revoke_all` does: for an
    /// operator answering a stolen-account report. Sessions started afterwards are not
    /// affected.
    ///
    /// Reads the application's own settings: its keys from SESSION_KEY and SESSION_KEY_OLD (the
    /// records are keyed under each key of the set, so the keys must be the application's), its
    /// store from SESSION_STORE and SESSION_STORE_PREFIX, and its timeouts from
    /// SESSION_IDLE_TIMEOUT and SESSION_ABSOLUTE_TIMEOUT (how long the record is kept). Works
    /// whether the application keeps its sessions in the store (with_store), only the large
    /// ones (with_overflow_store), or only a revocation list there (with_revocation). With
    /// SESSION_STORE=cookie (or unset) there is nothing to revoke through: an error.
    #[command(after_long_help = ENVIRONMENT)]
    Revoke(RevokeOptions),
    /// Create and rotate key-set files.
    ///
    /// A key-set file holds one base64 key a line (URL-safe or standard, padded or not); lines
    /// starting with `#` and blank lines are ignored. The first key is the primary, which
    /// seals (SESSION_KEY); the others are fallbacks, which only open (SESSION_KEY_OLD, in
    /// order). Files are written whole to a temporary file in the same directory, then
    /// renamed over the old one, with mode 0600 on Unix; FILE `-` reads standard input and
    /// writes standard output. Keys are printed nowhere else.
    #[command(subcommand, after_long_help = ROTATION)]
    Keys(KeysCommand),
    /// Print a shell completion script.
    ///
    /// For bash: `session-tool completions bash > ~/.local/share/bash-completion/completions/session-tool`;
    /// for zsh, a file `_session-tool` in a directory of your $fpath.
    Completions {
        /// The shell: bash, elvish, fish, powershell or zsh.
        shell: Shell,
    },
}

/// The rotation procedure, shown by `session-tool keys --help`.
const ROTATION: &str = "\
Rotating keys without logging anyone out:
  1. session-tool keys add FILE       a fresh key as the first fallback. Deploy FILE to every
                                      instance: all of them now open cookies sealed with it.
  2. session-tool keys promote FILE   the fresh key becomes the primary, the old primary its
                                      first fallback. Deploy: new sessions are sealed with it,
                                      the old ones still open.
  3. Once every session sealed with the old key has expired (one absolute timeout,
     SESSION_ABSOLUTE_TIMEOUT, 12 hours by default, after step 2):
     session-tool keys prune --drop-oldest FILE, and deploy.
`session-tool keys rotate FILE` does steps 1 and 2 at once: right when every instance reads
the new file before any serves a cookie sealed with the new key (one instance, or all
restarted together).";

/// `inspect`'s options.
#[derive(Debug, PartialEq, Eq, Args)]
pub(crate) struct InspectOptions {
    /// The cookie header; read from standard input when absent.
    #[arg(long, value_name = "HEADER")]
    pub(crate) cookie: Option<String>,
    /// The session cookie's name.
    #[arg(long, value_name = "NAME", default_value = DEFAULT_NAME)]
    pub(crate) name: String,
    /// The variable holding the primary key; fallbacks are read from VAR_OLD.
    #[arg(long, value_name = "VAR", default_value = DEFAULT_KEY_ENV)]
    pub(crate) key_env: String,
    /// Print the whole session id (default: its first 8 hex digits).
    #[arg(long)]
    pub(crate) show_id: bool,
}

/// `sizes`' options.
#[derive(Debug, PartialEq, Eq, Args)]
pub(crate) struct SizesOptions {
    /// The layer's cookie name.
    #[arg(long, value_name = "NAME", default_value = DEFAULT_NAME)]
    pub(crate) name: String,
    /// The layer's max_cookies, 1 to 16.
    #[arg(long, value_name = "N", default_value_t = DEFAULT_MAX_COOKIES, value_parser = max_cookies)]
    pub(crate) max_cookies: u8,
}

/// `revoke`'s options.
#[derive(Debug, PartialEq, Eq, Args)]
pub(crate) struct RevokeOptions {
    /// The subject to log out: what the application passes to `Session::set_subject`.
    #[arg(value_name = "SUBJECT")]
    pub(crate) subject: String,
    /// The variable holding the primary key; fallbacks are read from VAR_OLD.
    #[arg(long, value_name = "VAR", default_value = DEFAULT_KEY_ENV)]
    pub(crate) key_env: String,
    /// How long to wait for the store, in seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 5, value_parser = clap::value_parser!(u64).range(1..=600))]
    pub(crate) timeout: u64,
}

/// `keys`' commands.
#[derive(Debug, PartialEq, Eq, Subcommand)]
pub(crate) enum KeysCommand {
    /// Create a key set of one fresh key; refuses to replace an existing file.
    New {
        /// The file to create, or `-` for standard output.
        #[arg(value_name = "FILE")]
        file: PathBuf,
    },
    /// A fresh key as the primary, the current primary as the first fallback.
    ///
    /// The other fallbacks are kept, unless --drop-oldest or --keep says otherwise; the primary
    /// just demoted is always kept, as the sessions it sealed are still open.
    Rotate {
        #[command(flatten)]
        file: KeyFile,
        #[command(flatten)]
        prune: Prune,
    },
    /// Step 1 of a rolling rotation: a fresh key as the first fallback.
    Add {
        #[command(flatten)]
        file: KeyFile,
    },
    /// Step 2 of a rolling rotation: the first fallback becomes the primary, the primary the
    /// first fallback.
    Promote {
        #[command(flatten)]
        file: KeyFile,
        #[command(flatten)]
        prune: Prune,
    },
    /// Step 3: drop fallbacks, oldest first, once the sessions they sealed have expired.
    Prune {
        #[command(flatten)]
        file: KeyFile,
        #[command(flatten)]
        prune: PruneRequired,
    },
}

/// The key-set file a `keys` command reads, and where it writes.
#[derive(Debug, PartialEq, Eq, Args)]
pub(crate) struct KeyFile {
    /// The key-set file, or `-` for standard input.
    #[arg(value_name = "FILE")]
    pub(crate) file: PathBuf,
    /// Where to write the new set (default: FILE itself); `-` for standard output.
    #[arg(short, long, value_name = "PATH")]
    pub(crate) output: Option<PathBuf>,
}

/// Old fallbacks to drop after a rotation.
#[derive(Debug, Default, PartialEq, Eq, Args)]
pub(crate) struct Prune {
    /// Drop the oldest fallback (the last line), if older than the primary just demoted.
    #[arg(long, conflicts_with = "keep")]
    pub(crate) drop_oldest: bool,
    /// Keep at most N fallbacks (at least 1: the primary just demoted), dropping the oldest.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
    pub(crate) keep: Option<u16>,
}

/// `prune`'s options: one of them is required.
#[derive(Debug, PartialEq, Eq, Args)]
#[group(required = true, multiple = false)]
pub(crate) struct PruneRequired {
    /// Drop the oldest fallback (the last line).
    #[arg(long)]
    pub(crate) drop_oldest: bool,
    /// Keep at most N fallbacks (0: the primary alone), dropping the oldest.
    #[arg(long, value_name = "N")]
    pub(crate) keep: Option<u16>,
}

pub(crate) const DEFAULT_NAME: &str = "session";
pub(crate) const DEFAULT_KEY_ENV: &str = "SESSION_KEY";
/// The layer's own default.
const DEFAULT_MAX_COOKIES: u8 = 2;

fn max_cookies(text: &str) -> Result<u8, String> {
    text.parse()
        .ok()
        .filter(|n| (1..=16).contains(n))
        .ok_or_else(|| format!("--max-cookies takes 1 to 16, not `{text}`"))
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;

    fn parse(args: &[&str]) -> Result<Option<Command>, String> {
        Cli::try_parse_from(std::iter::once("session-tool").chain(args.iter().copied()))
            .map(|cli| cli.command)
            .map_err(|e| e.to_string())
    }

    #[test]
    fn the_command_line_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn commands_and_defaults() {
        assert_eq!(parse(&[]), Ok(None));
        assert_eq!(parse(&["keygen"]), Ok(Some(Command::Keygen)));
        assert_eq!(
            parse(&["inspect"]),
            Ok(Some(Command::Inspect {
                options: InspectOptions {
                    cookie: None,
                    name: "session".into(),
                    key_env: "SESSION_KEY".into(),
                    show_id: false,
                },
                key: None,
            }))
        );
        assert_eq!(
            parse(&[
                "inspect",
                "--name",
                "cart",
                "--key-env",
                "K",
                "--show-id",
                "--cookie",
                "a=b"
            ]),
            Ok(Some(Command::Inspect {
                options: InspectOptions {
                    cookie: Some("a=b".into()),
                    name: "cart".into(),
                    key_env: "K".into(),
                    show_id: true,
                },
                key: None,
            }))
        );
        assert_eq!(
            parse(&["sizes", "--max-cookies", "16"]),
            Ok(Some(Command::Sizes(SizesOptions {
                name: "session".into(),
                max_cookies: 16
            })))
        );
        assert_eq!(
            parse(&["revoke", "alice@example.com"]),
            Ok(Some(Command::Revoke(RevokeOptions {
                subject: "alice@example.com".into(),
                key_env: "SESSION_KEY".into(),
                timeout: 5,
            })))
        );
        assert_eq!(
            parse(&["keys", "rotate", "k.txt", "--keep", "2", "-o", "-"]),
            Ok(Some(Command::Keys(KeysCommand::Rotate {
                file: KeyFile {
                    file: "k.txt".into(),
                    output: Some("-".into()),
                },
                prune: Prune {
                    drop_oldest: false,
                    keep: Some(2),
                },
            })))
        );
    }

    #[test]
    fn a_key_on_the_command_line_is_taken_to_be_refused_even_with_a_leading_dash() {
        for (args, key) in [
            (&["inspect", "--key", "-Nabc"][..], "-Nabc"),
            (&["inspect", "--key=-Nabc"][..], "-Nabc"),
            (&["inspect", "--key"][..], ""),
        ] {
            assert!(
                matches!(parse(args), Ok(Some(Command::Inspect { key: Some(k), .. })) if k == key),
                "{args:?}: {:?}",
                parse(args)
            );
        }
    }

    #[test]
    fn mistakes_say_what_to_do() {
        assert!(parse(&["inspect", "--name"]).is_err_and(|e| e.contains("a value is required")));
        assert!(parse(&["sizes", "--max-cookies", "17"]).is_err_and(|e| e.contains("1 to 16")));
        assert!(parse(&["keygen", "extra"]).is_err_and(|e| e.contains("'extra'")));
        assert!(parse(&["frobnicate"]).is_err_and(|e| e.contains("'frobnicate'")));
        assert!(parse(&["inspct"]).is_err_and(|e| e.contains("'inspect'")));
        assert!(parse(&["revoke"]).is_err_and(|e| e.contains("<SUBJECT>")));
        assert!(parse(&["keys", "prune", "k"]).is_err_and(|e| e.contains("--drop-oldest")));
        assert!(
            parse(&["keys", "rotate", "k", "--keep", "0"]).is_err_and(|e| e.contains("--keep"))
        );
        assert!(
            parse(&["keys", "rotate", "k", "--keep", "1", "--drop-oldest"])
                .is_err_and(|e| e.contains("cannot be used with"))
        );
    }
}
