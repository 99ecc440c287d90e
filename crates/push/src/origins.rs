//! The push services the service may post to. A subscription's endpoint is chosen by the
//! device, so without this list any account holder could make the service send requests to
//! any address it can reach (its own loopback, the database, the cloud's metadata service).

use reqwest::Url;

/// The push services of today's browsers: Chrome and other Chromium browsers (Firebase Cloud
/// Messaging), Firefox (Mozilla's autopush), Safari on macOS and iOS (Apple), Edge (Windows
/// Push Notification Services, one host per region).
pub const DEFAULT_PUSH_ORIGINS: [&str; 4] = [
    "https://fcm.googleapis.com",
    "https://updates.push.services.mozilla.com",
    "https://web.push.apple.com",
    "https://*.notify.windows.com",
];

/// An allowed origin could not be read.
#[derive(Debug, thiserror::Error)]
#[error(
    "push origin {0:?} is not an origin such as https://push.example.com or https://*.example.com"
)]
pub struct OriginError(pub String);

#[derive(Debug, Clone, PartialEq, Eq)]
struct Pattern {
    scheme: String,
    /// The host, or with `any_subdomain` the domain whose subdomains match.
    host: String,
    any_subdomain: bool,
    port: u16,
}

/// The origins subscriptions' endpoints must have.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushOrigins {
    patterns: Vec<Pattern>,
}

impl Default for PushOrigins {
    fn default() -> Self {
        PushOrigins::parse(DEFAULT_PUSH_ORIGINS).expect("the default origins are well formed")
    }
}

fn pattern(origin: &str) -> Result<Pattern, OriginError> {
    let invalid = || OriginError(origin.to_owned());
    let (scheme, rest) = origin.split_once("://").ok_or_else(invalid)?;
    let scheme = scheme.to_ascii_lowercase();
    let (any_subdomain, rest) = match rest.strip_prefix("*.") {
        Some(rest) => (true, rest),
        None => (false, rest),
    };
    // The URL parser checks the rest (and normalises the host's case and the default port).
    let url = Url::parse(&format!("{scheme}://{rest}")).map_err(|_| invalid())?;
    let plain = url.path() == "/"
        && url.query().is_none()
        && url.fragment().is_none()
        && url.username().is_empty()
        && url.password().is_none();
    if !matches!(scheme.as_str(), "https" | "http") || !plain || rest.ends_with('/') {
        return Err(invalid());
    }
    Ok(Pattern {
        scheme,
        host: url.host_str().ok_or_else(invalid)?.to_owned(),
        any_subdomain,
        port: url.port_or_known_default().ok_or_else(invalid)?,
    })
}

impl PushOrigins {
    /// From origins such as `https://fcm.googleapis.com`; `https://*.example.com` allows every
    /// subdomain of example.com (not example.com itself). Plain `http` only when written so.
    pub fn parse<S: AsRef<str>>(origins: impl IntoIterator<Item = S>) -> Result<Self, OriginError> {
        let patterns = origins
            .into_iter()
            .map(|origin| pattern(origin.as_ref()))
            .collect::<Result<_, _>>()?;
        Ok(PushOrigins { patterns })
    }

    /// Whether an endpoint is at one of the allowed origins.
    pub fn allow(&self, endpoint: &Url) -> bool {
        let (Some(host), Some(port)) = (endpoint.host_str(), endpoint.port_or_known_default())
        else {
            return false;
        };
        self.patterns.iter().any(|pattern| {
            let host_matches = if pattern.any_subdomain {
                host.strip_suffix(pattern.host.as_str())
                    .is_some_and(|sub| sub.len() > 1 && sub.ends_with('.'))
            } else {
                host == pattern.host
            };
            pattern.scheme == endpoint.scheme() && pattern.port == port && host_matches
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(text: &str) -> Url {
        Url::parse(text).unwrap()
    }

    #[test]
    fn the_default_origins_allow_the_browsers_push_services_and_nothing_else() {
        let origins = PushOrigins::default();
        for allowed in [
            "https://fcm.googleapis.com/fcm/send/abc:def",
            "https://updates.push.services.mozilla.com/wpush/v2/gAAAA",
            "https://web.push.apple.com/QGx",
            "https://wns2-par02p.notify.windows.com/w/?token=BQY",
            "https://FCM.googleapis.com:443/fcm/send/x",
        ] {
            assert!(origins.allow(&url(allowed)), "{allowed}");
        }
        for refused in [
            "http://fcm.googleapis.com/fcm/send/x",
            "https://fcm.googleapis.com:8443/fcm/send/x",
            "https://fcm.googleapis.com.evil.example/x",
            "https://evilfcm.googleapis.com/x",
            "https://notify.windows.com/x",
            "https://evilnotify.windows.com/x",
            "https://127.0.0.1/x",
            "http://169.254.169.254/latest/meta-data",
        ] {
            assert!(!origins.allow(&url(refused)), "{refused}");
        }
    }

    #[test]
    fn wildcards_need_a_whole_label_and_case_does_not_matter() {
        let origins = PushOrigins::parse(["HTTPS://*.Push.Example"]).unwrap();
        assert!(origins.allow(&url("https://eu.push.example/x")));
        assert!(origins.allow(&url("https://A.B.PUSH.example/x")));
        assert!(!origins.allow(&url("https://push.example/x")));
        assert!(!origins.allow(&url("https://evilpush.example/x")));
        // A trailing dot names the same host in DNS but is another host to the URL parser:
        // refused (no push service hands out such endpoints).
        assert!(!origins.allow(&url("https://eu.push.example./x")));
    }

    #[test]
    fn a_plain_http_origin_is_allowed_only_when_written_so() {
        let origins = PushOrigins::parse(["http://127.0.0.1:8089"]).unwrap();
        assert!(origins.allow(&url("http://127.0.0.1:8089/push/1")));
        assert!(!origins.allow(&url("https://127.0.0.1:8089/push/1")));
        assert!(!origins.allow(&url("http://127.0.0.1:8090/push/1")));
    }

    #[test]
    fn malformed_origins_are_refused() {
        for bad in [
            "fcm.googleapis.com",
            "ftp://push.example",
            "https://push.example/path",
            "https://push.example/",
            "https://user@push.example",
            "https://:pw@push.example",
            "https://push.example#x",
            "https://",
        ] {
            assert!(PushOrigins::parse([bad]).is_err(), "{bad}");
        }
    }
}
