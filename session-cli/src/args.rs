//! The command line, parsed by hand: three commands with a few options each do not need a
//! parser crate.

pub(crate) const USAGE: &str = "\
session-tool: keys, sealed session cookies and schema sizes for session-runtime

USAGE:
    session-tool keygen
        Prints a fresh random master key (32 bytes, base64) for SESSION_KEY.

    session-tool inspect [--cookie HEADER] [--name NAME] [--key-env VAR] [--show-id]
        Opens a sealed session and prints its header: format, key id, chunk count, schema
        version, session id and timestamps (and the payload, for a tool built for a schema).
        The cookie header is read from --cookie or standard input: a Cookie header, or the
        response's `Set-Cookie: ...` lines (removals are skipped). The key is read from the environment variable VAR (default
        SESSION_KEY), fallback keys from VAR_OLD; keys are never taken on the command line.
        --name     the session cookie's name (default: session)
        --show-id  print the whole session id (default: its first 8 hex digits)

    session-tool sizes [--name NAME] [--max-cookies N]
        Prints the worst case of each schema version against its budget and the cookies it
        takes, or, without a schema, the largest payload that fits in 1 to N cookies. NAME
        and N are the layer's cookie name and max_cookies (defaults: session, 2).

    session-tool help
";

/// The parsed command line.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Args {
    pub(crate) command: Command,
}

#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Command {
    Help,
    Keygen,
    Inspect(InspectOptions),
    Sizes(SizesOptions),
}

#[derive(Debug, PartialEq, Eq)]
pub(crate) struct InspectOptions {
    pub(crate) cookie: Option<String>,
    pub(crate) name: String,
    pub(crate) key_env: String,
    pub(crate) show_id: bool,
}

#[derive(Debug, PartialEq, Eq)]
pub(crate) struct SizesOptions {
    pub(crate) name: String,
    pub(crate) max_cookies: u8,
}

const DEFAULT_NAME: &str = "session";
const DEFAULT_KEY_ENV: &str = "SESSION_KEY";
/// The layer's own default.
const DEFAULT_MAX_COOKIES: u8 = 2;

impl Args {
    /// Parses the arguments after the program name.
    pub(crate) fn parse(args: impl IntoIterator<Item = String>) -> Result<Args, String> {
        let mut args = args.into_iter();
        let command = match args.next().as_deref() {
            None | Some("help" | "--help" | "-h") => {
                return Ok(Args {
                    command: Command::Help,
                });
            }
            Some("keygen") => {
                if let Some(extra) = args.next() {
                    return Err(unknown(&extra, "keygen"));
                }
                Command::Keygen
            }
            Some("inspect") => {
                let mut options = InspectOptions {
                    cookie: None,
                    name: DEFAULT_NAME.to_owned(),
                    key_env: DEFAULT_KEY_ENV.to_owned(),
                    show_id: false,
                };
                while let Some(arg) = args.next() {
                    match arg.as_str() {
                        "--cookie" => options.cookie = Some(value(&mut args, &arg)?),
                        "--name" => options.name = value(&mut args, &arg)?,
                        "--key-env" => options.key_env = value(&mut args, &arg)?,
                        "--show-id" => options.show_id = true,
                        "--key" => {
                            return Err("keys are not taken on the command line (they would \
                                        stay in the shell history and the process list): put \
                                        the key in an environment variable and pass --key-env VAR"
                                .into());
                        }
                        _ => return Err(unknown(&arg, "inspect")),
                    }
                }
                Command::Inspect(options)
            }
            Some("sizes") => {
                let mut options = SizesOptions {
                    name: DEFAULT_NAME.to_owned(),
                    max_cookies: DEFAULT_MAX_COOKIES,
                };
                while let Some(arg) = args.next() {
                    match arg.as_str() {
                        "--name" => options.name = value(&mut args, &arg)?,
                        "--max-cookies" => {
                            let text = value(&mut args, &arg)?;
                            options.max_cookies = text
                                .parse()
                                .ok()
                                .filter(|n| (1..=16).contains(n))
                                .ok_or_else(|| {
                                    format!("--max-cookies takes 1 to 16, not `{text}`")
                                })?;
                        }
                        _ => return Err(unknown(&arg, "sizes")),
                    }
                }
                Command::Sizes(options)
            }
            Some(other) => {
                return Err(format!(
                    "unknown command `{other}`; the commands are keygen, inspect, sizes and help"
                ));
            }
        };
        Ok(Args { command })
    }
}

fn value(args: &mut impl Iterator<Item = String>, option: &str) -> Result<String, String> {
    args.next().ok_or_else(|| format!("{option} needs a value"))
}

fn unknown(arg: &str, command: &str) -> String {
    format!("unknown argument `{arg}` for `{command}`; see `session-tool help`")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Command, String> {
        Args::parse(args.iter().map(|a| (*a).to_owned())).map(|a| a.command)
    }

    #[test]
    fn commands_and_defaults() {
        assert_eq!(parse(&[]), Ok(Command::Help));
        assert_eq!(parse(&["keygen"]), Ok(Command::Keygen));
        assert_eq!(
            parse(&["inspect"]),
            Ok(Command::Inspect(InspectOptions {
                cookie: None,
                name: "session".into(),
                key_env: "SESSION_KEY".into(),
                show_id: false,
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
            Ok(Command::Inspect(InspectOptions {
                cookie: Some("a=b".into()),
                name: "cart".into(),
                key_env: "K".into(),
                show_id: true,
            }))
        );
        assert_eq!(
            parse(&["sizes", "--max-cookies", "16"]),
            Ok(Command::Sizes(SizesOptions {
                name: "session".into(),
                max_cookies: 16
            }))
        );
    }

    #[test]
    fn mistakes_say_what_to_do() {
        assert!(parse(&["inspect", "--key", "abc"]).is_err_and(|e| e.contains("--key-env")));
        assert!(parse(&["inspect", "--name"]).is_err_and(|e| e.contains("needs a value")));
        assert!(parse(&["sizes", "--max-cookies", "17"]).is_err_and(|e| e.contains("1 to 16")));
        assert!(parse(&["keygen", "extra"]).is_err_and(|e| e.contains("`extra`")));
        assert!(parse(&["frobnicate"]).is_err_and(|e| e.contains("keygen, inspect")));
    }
}
