//! One request's record: what the plan says to capture when the request
//! comes in, the response head when it is final, and the interceptor that
//! writes the line when the response is over.

use std::borrow::Cow;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Instant;

use gateway_core::{BodyInfo, Environ, Error, Head, Intercept, Outcome, RemoteUser};
use http::{HeaderValue, Method, Uri, Version};
use time::OffsetDateTime;

use super::app::Shared;
use super::plan::Plan;

/// The client's address.
#[derive(Debug, Clone)]
pub(super) enum Remote {
    None,
    Ip(IpAddr),
    /// `REMOTE_ADDR` as a variable set by the server.
    Var(String),
}

/// What one request captured.
#[derive(Debug)]
pub(super) struct Record {
    pub(super) start: Instant,
    pub(super) head_at: Option<Instant>,
    pub(super) time: Option<OffsetDateTime>,
    pub(super) remote: Remote,
    pub(super) user: Option<String>,
    pub(super) method: Method,
    pub(super) protocol: &'static str,
    pub(super) uri: Option<Uri>,
    pub(super) path: Vec<u8>,
    /// Values of the plan's request headers, by index, in order.
    pub(super) request: Vec<(usize, HeaderValue)>,
    /// Values of the plan's response headers, by index, in order.
    pub(super) response: Vec<(usize, HeaderValue)>,
    pub(super) env: Vec<Option<String>>,
}

impl Record {
    /// Capture what `plan` needs from the request; `time` is when it came.
    pub(super) fn capture(
        plan: &Plan,
        environ: &mut Environ,
        time: Option<OffsetDateTime>,
    ) -> Self {
        let needs = plan.needs;
        // A REMOTE_ADDR variable (a proxy-fixing middleware's) wins over the
        // socket's address, as in `Environ::get`; only it comes borrowed.
        let remote = match environ.get("REMOTE_ADDR") {
            _ if !needs.remote => Remote::None,
            Some(Cow::Borrowed(var)) => Remote::Var(var.to_owned()),
            _ => environ
                .remote_addr()
                .map_or(Remote::None, |addr| Remote::Ip(addr.ip())),
        };
        let mut path = Vec::new();
        if needs.path {
            path.extend_from_slice(environ.script_name());
            path.extend_from_slice(environ.path_info());
        }
        let mut request = Vec::new();
        for (i, name) in plan.format.request_headers.iter().enumerate() {
            if !plan.redacted_request[i] {
                request.extend(
                    environ
                        .headers()
                        .get_all(name)
                        .iter()
                        .map(|v| (i, v.clone())),
                );
            }
        }
        let env = (plan.format.env.iter().zip(&plan.redacted_env))
            .map(|(name, &secret)| {
                if secret {
                    None
                } else {
                    environ.get(name).map(Cow::into_owned)
                }
            })
            .collect();
        Record {
            start: Instant::now(),
            head_at: None,
            time,
            remote,
            user: if needs.user {
                environ.get("REMOTE_USER").map(Cow::into_owned)
            } else {
                None
            },
            method: environ.method().clone(),
            protocol: environ.server_protocol(),
            uri: needs.uri.then(|| request_target(environ)),
            path,
            request,
            response: Vec::new(),
            env,
        }
    }

    /// The head is final.
    fn head(&mut self, plan: &Plan, head: &Head) {
        if plan.needs.head {
            self.head_at = Some(Instant::now());
        }
        for (i, name) in plan.format.response_headers.iter().enumerate() {
            if !plan.redacted_response[i] {
                self.response
                    .extend(head.headers.get_all(name).iter().map(|v| (i, v.clone())));
            }
        }
    }

    /// Take in the user an inner middleware published (auth's
    /// [`RemoteUser`]), for `%u` and `%{REMOTE_USER}e` / `%{AUTH_TYPE}e`.
    pub(super) fn apply_user(&mut self, plan: &Plan, outcome: &Outcome) {
        if !plan.needs.notes {
            return;
        }
        let Some(user) = outcome.get::<RemoteUser>() else {
            return;
        };
        self.user = Some(user.name.clone());
        for (i, var) in plan.format.env.iter().enumerate() {
            if plan.redacted_env[i] {
                continue;
            }
            match &**var {
                "REMOTE_USER" => self.env[i] = Some(user.name.clone()),
                "AUTH_TYPE" => self.env[i] = Some(user.auth_type.clone().into_owned()),
                _ => {}
            }
        }
    }
}

/// The request target as the client sent it: HTTP/2 and HTTP/3 send the
/// scheme and authority apart from the path (`:path`), which is what goes
/// in a request line, as Apache logs it.
fn request_target(environ: &Environ) -> Uri {
    let uri = environ.uri();
    match uri.path_and_query() {
        Some(path) if environ.version() >= Version::HTTP_2 && uri.scheme().is_some() => {
            Uri::from(path.clone())
        }
        _ => uri.clone(),
    }
}

/// The access log's view of one response: writes the line in `finish`.
pub(super) struct LogIntercept {
    pub(super) shared: Arc<Shared>,
    pub(super) record: Record,
}

impl Intercept for LogIntercept {
    fn head(&mut self, head: &mut Head, _: BodyInfo) -> Result<(), Error> {
        self.record.head(&self.shared.plan, head);
        Ok(())
    }

    fn finish(&mut self, outcome: &Outcome) {
        self.shared.log(&mut self.record, outcome);
    }
}
