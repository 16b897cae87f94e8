//! login and logout, and the `--creds` option: reading user names and passwords
//! (stdin, or a terminal prompt without echo); the library checks and stores them.

use super::output::{self, outln};
use super::registry::ConnectArgs;
use super::Ctx;
use crate::error::{Error, Result};
use crate::registry::auth::{self, Credentials, Found, Stored};
use crate::text::escape;
use clap::Args;
use std::io::{BufRead, IsTerminal, Read, Write};
use std::path::PathBuf;

pub const LOGIN_HELP: &str = "\
The credentials are checked first: oix sends GET /v2/ and answers the registry's
challenge with them (Basic, or a token from the registry's token service). Only when
the registry accepts them are they written, as {\"auths\": {KEY: {\"auth\":
base64(USER:PASSWORD)}}}, to --authfile, else $REGISTRY_AUTH_FILE, else
$XDG_RUNTIME_DIR/containers/auth.json, else /run/containers/UID/auth.json (the file
podman and skopeo use; push, pull and apply read it). The file is replaced atomically,
mode 0600; its other entries and keys are kept.

The password is read from standard input with --password-stdin (one line; a final
newline is dropped), or asked for without echo when standard input is a terminal.
Credentials never appear in output, errors or --json.

Exit 1 when the registry refuses the credentials (nothing is written), 2 for bad
arguments or no way to read the password.";

pub const LOGOUT_HELP: &str = "\
Edits the auth file oix login writes (--authfile, else $REGISTRY_AUTH_FILE, else
$XDG_RUNTIME_DIR/containers/auth.json, else /run/containers/UID/auth.json): removes the
auths entry of HOST exactly as it was stored, or with --all every auths entry; other
keys (credHelpers, credsStore, ...) are kept. The file is replaced atomically.

Exit 3 when the file has no entry for HOST (nothing is written).";

#[derive(Debug, Args)]
pub struct LoginArgs {
    /// HOST[:PORT], or HOST[:PORT]/NAMESPACE for credentials used only below that
    /// namespace (a `docker://` prefix is accepted).
    pub host: String,
    /// User name (asked for when standard input is a terminal and it is not given).
    #[arg(long, short = 'u', value_name = "USER")]
    pub username: Option<String>,
    /// Read the password from standard input (one line).
    #[arg(long)]
    pub password_stdin: bool,
    #[command(flatten)]
    pub connect: ConnectArgs,
}

#[derive(Debug, Args)]
pub struct LogoutArgs {
    /// HOST[:PORT] (or HOST[:PORT]/NAMESPACE) whose stored credentials are removed.
    #[arg(required_unless_present = "all")]
    pub host: Option<String>,
    /// Remove every stored credential of the auth file (its other keys are kept).
    #[arg(long, conflicts_with = "host")]
    pub all: bool,
    /// The auth file to edit (default: as for `oix login`).
    #[arg(long, value_name = "FILE")]
    pub authfile: Option<PathBuf>,
}

/// `HOST[:PORT][/NAMESPACE]` (an optional `docker://` prefix): the auth file key and the
/// host to check against.
fn parse_key(input: &str) -> Result<(String, String)> {
    crate::registry::reference::refuse_userinfo(input)?;
    let s = input.strip_prefix("docker://").unwrap_or(input);
    let s = s.trim_end_matches('/');
    let (host, ns) = match s.split_once('/') {
        Some((h, n)) => (h, Some(n)),
        None => (s, None),
    };
    crate::registry::reference::validate_host(host).map_err(|e| {
        Error::usage(format!("{}: {}", escape(input), e.message)).with_hint(
            "give the registry as HOST[:PORT], e.g. registry.example.com or localhost:5000",
        )
    })?;
    if let Some(n) = ns {
        crate::registry::reference::validate_repo(n)
            .map_err(|e| Error::usage(format!("{}: {}", escape(input), e.message)))?;
    }
    Ok((s.to_string(), host.to_string()))
}

/// Read one line from a terminal on stdin with echo off; the prompt goes to stderr.
fn read_hidden(prompt: &str) -> Result<String> {
    use rustix::termios::{tcgetattr, tcsetattr, LocalModes, OptionalActions};
    let stdin = std::io::stdin();
    let orig = tcgetattr(&stdin)
        .map_err(|e| Error::usage(format!("cannot read a password from the terminal: {e}")))?;
    let mut quiet = orig.clone();
    quiet.local_modes.remove(LocalModes::ECHO);
    quiet.local_modes.insert(LocalModes::ECHONL);
    // Echo goes off before the prompt shows, and typed-ahead input is kept (`Now`, not
    // `Flush`), so a password typed right after the prompt is neither shown nor lost.
    tcsetattr(&stdin, OptionalActions::Now, &quiet)
        .map_err(|e| Error::usage(format!("cannot turn off the terminal's echo: {e}")))?;
    let _ = write!(std::io::stderr(), "{prompt}");
    let _ = std::io::stderr().flush();
    let mut line = String::new();
    let r = stdin.lock().read_line(&mut line);
    let _ = tcsetattr(&stdin, OptionalActions::Now, &orig);
    r.map_err(|e| Error::usage(format!("reading the password: {e}")))?;
    Ok(trim_line(line))
}

/// Read one visible line from a terminal on stdin.
fn read_visible(prompt: &str) -> Result<String> {
    let _ = write!(std::io::stderr(), "{prompt}");
    let _ = std::io::stderr().flush();
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .map_err(|e| Error::usage(format!("reading from the terminal: {e}")))?;
    Ok(trim_line(line))
}

fn trim_line(mut s: String) -> String {
    while s.ends_with('\n') || s.ends_with('\r') {
        s.pop();
    }
    s
}

/// A password for `what`: asked for without echo when stdin is a terminal.
fn password_from_terminal(what: &str, hint: &str) -> Result<String> {
    if !std::io::stdin().is_terminal() {
        return Err(Error::usage(format!(
            "{what}: no password given and standard input is not a terminal"
        ))
        .with_hint(hint.to_string()));
    }
    read_hidden("Password: ")
}

/// `--creds USER[:PASSWORD]`: split at the first `:`; USER alone asks for the password
/// on a terminal.
pub(crate) fn parse_creds(s: &str) -> Result<Found> {
    let (user, pass) = match s.split_once(':') {
        Some((u, p)) => (u.to_string(), p.to_string()),
        None => (
            s.to_string(),
            password_from_terminal(
                "--creds",
                "write --creds USER:PASSWORD, or store the credentials once with `oix login HOST -u USER --password-stdin`",
            )?,
        ),
    };
    if user.is_empty() {
        return Err(Error::usage("--creds: the user name is empty")
            .with_hint("write --creds USER[:PASSWORD]"));
    }
    let origin = format!("--creds (user {})", escape(&user));
    Ok(Found::given(
        Credentials::Basic {
            username: user,
            password: pass,
        },
        origin,
    ))
}

pub fn login(ctx: &Ctx, a: LoginArgs) -> Result<i32> {
    let (key, host) = parse_key(&a.host)?;
    let path = auth::login_file(a.connect.authfile.as_deref())?;
    let terminal = std::io::stdin().is_terminal();
    let username = match &a.username {
        Some(u) => u.clone(),
        None if a.password_stdin => {
            return Err(Error::usage("--password-stdin needs --username (-u)")
                .with_hint("oix login HOST -u USER --password-stdin < FILE"))
        }
        None if terminal => read_visible("Username: ")?,
        None => {
            return Err(Error::usage("no user name: give --username (-u)")
                .with_hint("oix login HOST -u USER --password-stdin"))
        }
    };
    if username.is_empty() {
        return Err(Error::usage("the user name is empty"));
    }
    let password = if a.password_stdin {
        let mut buf = String::new();
        std::io::stdin()
            .lock()
            .take(1 << 16)
            .read_to_string(&mut buf)
            .map_err(|e| Error::usage(format!("reading the password from standard input: {e}")))?;
        // One line: the first, without its line end.
        trim_line(buf.lines().next().unwrap_or("").to_string())
    } else {
        password_from_terminal(
            "oix login",
            "pass --password-stdin and write the password to standard input (echo \"$PASSWORD\" | oix login HOST -u USER --password-stdin)",
        )?
    };
    if password.is_empty() {
        return Err(Error::usage("the password is empty")
            .with_hint("write the password to standard input with --password-stdin"));
    }
    let mut t = a.connect.connect().transport()?;
    t.credentials = Some(Found::given(
        Credentials::Basic {
            username: username.clone(),
            password: password.clone(),
        },
        format!("oix login (user {})", escape(&username)),
    ));
    let checked = crate::registry::client::verify_login(&host, &t)?;
    if !checked {
        output::warning(&format!(
            "{} asks for no credentials: they are stored but could not be checked",
            escape(&host)
        ));
    }
    let stored = auth::store_login(&path, &key, &username, &password)?;
    let action = match stored {
        Stored::Created => "created",
        Stored::Updated => "updated",
        Stored::Unchanged => "unchanged",
    };
    if ctx.json {
        output::json(&serde_json::json!({
            "host": key,
            "username": username,
            "authfile": path,
            "action": action,
            "checked": checked,
        }));
    } else {
        outln!(
            "logged in to {} as {} ({} {})",
            escape(&key),
            escape(&username),
            match stored {
                Stored::Unchanged => "already stored in",
                _ => "stored in",
            },
            escape(&path.display().to_string())
        );
    }
    Ok(0)
}

pub fn logout(ctx: &Ctx, a: LogoutArgs) -> Result<i32> {
    let key = match &a.host {
        Some(h) => Some(parse_key(h)?.0),
        None => None,
    };
    let path = auth::login_file(a.authfile.as_deref())?;
    let removed = auth::remove_login(&path, key.as_deref())?;
    if ctx.json {
        output::json(&serde_json::json!({"authfile": path, "removed": removed}));
    } else if removed.is_empty() {
        outln!(
            "no stored credentials in {}",
            escape(&path.display().to_string())
        );
    } else {
        for k in &removed {
            outln!(
                "logged out of {} (removed from {})",
                escape(k),
                escape(&path.display().to_string())
            );
        }
    }
    Ok(0)
}
