//! Registry credentials and authentication challenges.
//!
//! Credentials come from, in order: `--authfile` (alone, when given); otherwise
//! `REGISTRY_AUTH_FILE` or `${XDG_RUNTIME_DIR}/containers/auth.json`, then
//! `~/.config/containers/auth.json`, then `DOCKER_AUTH_CONFIG` (the file's content in an
//! environment variable), then `$DOCKER_CONFIG/config.json` or `~/.docker/config.json`.
//! The first file that knows the registry wins. In each file a credential helper
//! (`credHelpers[host]`, run as `docker-credential-<name> get`) comes first, then the
//! `auths` entries from the most specific key (`host/ns/repo`) to `host` (URL-form keys
//! such as `https://host/v1/` match by host), then the `credsStore` helper.
//!
//! Secrets never reach output, logs or error messages: [`Credentials`] prints redacted.

mod challenge;
mod files;
mod helper;
mod lookup;

pub use challenge::{parse_challenge, Challenge};
pub use files::{
    default_auth_files, login_file, remove_login, store_login, temp_auth_file, Stored,
};
pub use lookup::{from_config, from_config_with, lookup};

use base64::Engine;
use std::fmt;
use std::time::Duration;

/// Docker Hub's key in docker config files.
const DOCKER_HUB_KEY: &str = "https://index.docker.io/v1/";

#[derive(Clone, PartialEq, Eq)]
pub enum Credentials {
    Basic {
        username: String,
        password: String,
    },
    /// An OAuth2 refresh token (docker's `identitytoken`, a helper's `<token>` user).
    IdentityToken(String),
    /// A bearer token to send as is (docker's `registrytoken`).
    RegistryToken(String),
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Credentials::Basic { username, .. } => {
                write!(
                    f,
                    "Basic {{ username: {username:?}, password: <redacted> }}"
                )
            }
            Credentials::IdentityToken(_) => f.write_str("IdentityToken(<redacted>)"),
            Credentials::RegistryToken(_) => f.write_str("RegistryToken(<redacted>)"),
        }
    }
}

impl Credentials {
    /// The `Authorization` value for Basic auth, when these are a user and password.
    pub fn basic_header(&self) -> Option<String> {
        match self {
            Credentials::Basic { username, password } => Some(format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(format!("{username}:{password}"))
            )),
            _ => None,
        }
    }
}

/// Where credentials were found (a file and key, or a helper), for messages.
#[derive(Debug, Clone)]
pub struct Found {
    pub credentials: Credentials,
    pub origin: String,
    /// The user and password of the same `auths` entry when `credentials` is a token
    /// (an entry may hold both `auth` and `identitytoken`): a Basic challenge is
    /// answered with these, as skopeo and docker do.
    pub basic: Option<Credentials>,
}

impl Found {
    /// Credentials given for this run (`--creds`, `oix login`), with where they came from.
    pub fn given(credentials: Credentials, origin: impl Into<String>) -> Found {
        Found::new(credentials, origin.into())
    }

    fn new(credentials: Credentials, origin: String) -> Found {
        Found {
            credentials,
            origin,
            basic: None,
        }
    }

    /// The `Authorization` value for a Basic challenge, if a user and password are known.
    pub fn basic_header(&self) -> Option<String> {
        self.credentials
            .basic_header()
            .or_else(|| self.basic.as_ref()?.basic_header())
    }
}

/// How long a credential helper may run when no timeout is given.
pub const DEFAULT_HELPER_TIMEOUT: Duration = Duration::from_secs(60);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Kind;

    #[test]
    fn login_entries_are_stored_and_removed_keeping_the_rest() {
        use std::os::unix::fs::PermissionsExt;
        let t = tempfile::tempdir().unwrap();
        let p = t.path().join("sub/auth.json");
        assert_eq!(
            store_login(&p, "r.example:5000", "u", "p:w").unwrap(),
            Stored::Created
        );
        assert_eq!(
            std::fs::metadata(&p).unwrap().permissions().mode() & 0o777,
            0o600
        );
        assert_eq!(
            std::fs::metadata(p.parent().unwrap())
                .unwrap()
                .permissions()
                .mode()
                & 0o777,
            0o700
        );
        let found = from_config(&std::fs::read(&p).unwrap(), "f", "r.example:5000", "a/b")
            .unwrap()
            .unwrap();
        assert_eq!(
            found.credentials,
            Credentials::Basic {
                username: "u".into(),
                password: "p:w".into()
            }
        );
        // Other keys and entries keep their order and values; an old token is replaced.
        std::fs::write(
            &p,
            r#"{"zz":1.5,"auths":{"b.example":{"auth":"eDp5","email":"e"},"r.example:5000":{"identitytoken":"T"}},"aa":[1,2]}"#,
        )
        .unwrap();
        assert_eq!(
            store_login(&p, "r.example:5000", "u", "pw").unwrap(),
            Stored::Updated
        );
        let v: serde_json::Value = serde_json::from_slice(&std::fs::read(&p).unwrap()).unwrap();
        let keys: Vec<&String> = v.as_object().unwrap().keys().collect();
        assert_eq!(keys, ["zz", "auths", "aa"]);
        assert_eq!(v["zz"], 1.5);
        assert_eq!(v["auths"]["b.example"]["email"], "e");
        assert!(v["auths"]["r.example:5000"].get("identitytoken").is_none());
        let before = std::fs::read(&p).unwrap();
        assert_eq!(
            store_login(&p, "r.example:5000", "u", "pw").unwrap(),
            Stored::Unchanged
        );
        assert_eq!(std::fs::read(&p).unwrap(), before);
        assert_eq!(
            remove_login(&p, Some("r.example:5000")).unwrap(),
            ["r.example:5000"]
        );
        let e = remove_login(&p, Some("r.example:5000")).unwrap_err();
        assert_eq!(e.kind, Kind::NoMatch);
        assert_eq!(remove_login(&p, None).unwrap(), ["b.example"]);
        let v: serde_json::Value = serde_json::from_slice(&std::fs::read(&p).unwrap()).unwrap();
        assert_eq!(v["auths"], serde_json::json!({}));
        assert_eq!(v["aa"], serde_json::json!([1, 2]));
    }

    #[test]
    fn login_refuses_unreadable_files_and_helper_hosts() {
        let t = tempfile::tempdir().unwrap();
        let p = t.path().join("auth.json");
        std::fs::write(&p, "{not json").unwrap();
        let e = store_login(&p, "h", "u", "secret-pw").unwrap_err();
        assert_eq!(e.kind, Kind::Corrupt);
        assert!(!format!("{e:?}").contains("secret-pw"));
        assert_eq!(std::fs::read_to_string(&p).unwrap(), "{not json");
        std::fs::write(&p, r#"{"auths":[]}"#).unwrap();
        assert_eq!(
            store_login(&p, "h", "u", "p").unwrap_err().kind,
            Kind::Corrupt
        );
        std::fs::write(&p, r#"{"credHelpers":{"h":"pass"}}"#).unwrap();
        let e = store_login(&p, "h", "u", "p").unwrap_err();
        assert!(e.message.contains("docker-credential-pass"), "{e:?}");
        assert_eq!(
            std::fs::read_to_string(&p).unwrap(),
            r#"{"credHelpers":{"h":"pass"}}"#
        );
    }

    #[test]
    fn parses_challenges() {
        let c = parse_challenge(
            r#"Bearer realm="https://auth.example.com/token",service="registry.example.com",scope="repository:a/b:pull,push""#,
        )
        .unwrap();
        assert_eq!(c.scheme, "bearer");
        assert_eq!(c.param("realm"), Some("https://auth.example.com/token"));
        assert_eq!(c.param("scope"), Some("repository:a/b:pull,push"));
        let c = parse_challenge(r#"Basic realm="Registry Realm""#).unwrap();
        assert_eq!(
            (c.scheme.as_str(), c.param("realm")),
            ("basic", Some("Registry Realm"))
        );
        assert!(parse_challenge("").is_none());
    }

    #[test]
    fn reads_auths_and_redacts() {
        let cfg = br#"{"auths":{
            "reg.io/team/app":{"auth":"dXNlcjE6cGFzczE="},
            "reg.io":{"auth":"dXNlcjI6cDpzcw=="},
            "https://index.docker.io/v1/":{"identitytoken":"tok"},
            "https://other.io/v1/":{"username":"u","password":"p"}}}"#;
        let get = |h: &str, r: &str| from_config(cfg, "f", h, r).unwrap().map(|f| f.credentials);
        assert_eq!(
            get("reg.io", "team/app/sub"),
            Some(Credentials::Basic {
                username: "user1".into(),
                password: "pass1".into()
            })
        );
        assert_eq!(
            get("reg.io", "other"),
            Some(Credentials::Basic {
                username: "user2".into(),
                password: "p:ss".into()
            })
        );
        assert_eq!(
            get("docker.io", "library/x"),
            Some(Credentials::IdentityToken("tok".into()))
        );
        assert!(matches!(
            get("other.io", "x"),
            Some(Credentials::Basic { .. })
        ));
        assert_eq!(get("nowhere.io", "x"), None);
        let dbg = format!("{:?}", get("reg.io", "x").unwrap());
        assert!(!dbg.contains("p:ss"), "{dbg}");
        assert!(from_config(br#"{"auths":{"reg.io":{"auth":"!!"}}}"#, "f", "reg.io", "x").is_err());
    }

    #[test]
    fn a_token_beside_the_password_keeps_the_password_for_basic() {
        // auth = base64("user2:p:ss")
        let cfg = br#"{"auths":{"reg.io":{"auth":"dXNlcjI6cDpzcw==","identitytoken":"tok"}}}"#;
        let f = from_config(cfg, "f", "reg.io", "x").unwrap().unwrap();
        assert_eq!(f.credentials, Credentials::IdentityToken("tok".into()));
        assert_eq!(
            f.basic_header(),
            Credentials::Basic {
                username: "user2".into(),
                password: "p:ss".into()
            }
            .basic_header()
        );
        let only = from_config(
            br#"{"auths":{"reg.io":{"identitytoken":"tok"}}}"#,
            "f",
            "reg.io",
            "x",
        )
        .unwrap()
        .unwrap();
        assert_eq!(only.basic_header(), None);
    }
}
