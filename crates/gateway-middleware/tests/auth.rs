//! The auth middleware, request by request, through the test client.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use gateway_core::testing::{Client, TestResponse};
use gateway_core::{
    App, Body, Environ, Error, FromFn, Middleware, Next, Stack, StartResponse, middleware_fn,
};
use gateway_middleware::auth::{
    AuthError, AuthScheme, BasicAuth, BearerAuth, Credentials, StaticTokens,
};

const BASIC_CHALLENGE: &str = r#"Basic realm="test", charset="UTF-8""#;

/// Answers `REMOTE_USER|AUTH_TYPE|HTTP_AUTHORIZATION`.
fn whoami(environ: Environ, sr: StartResponse) -> Result<Body, Error> {
    let text = format!(
        "{}|{}|{}",
        environ.get("REMOTE_USER").as_deref().unwrap_or("-"),
        environ.get("AUTH_TYPE").as_deref().unwrap_or("-"),
        environ.get("HTTP_AUTHORIZATION").unwrap_or_default(),
    );
    sr.start("200 OK", [("Content-Type", "text/plain")])?;
    Ok(Body::from(text))
}

fn basic(user_pass: &[u8]) -> String {
    format!("Basic {}", STANDARD.encode(user_pass))
}

fn basic_client() -> Client<impl App> {
    let creds = Credentials::new([("alice", "wonder:land"), ("bob", "builder")]).unwrap();
    Client::new(BasicAuth::new("test", creds).unwrap().wrap(whoami))
}

fn get(client: &Client<impl App>, uri: &str, authorization: Option<&str>) -> TestResponse {
    let request = client.get(uri);
    match authorization {
        Some(a) => request.header("Authorization", a).send(),
        None => request.send(),
    }
}

#[test]
fn basic_good_credentials_pass_and_identify_the_user() {
    let r = get(&basic_client(), "/", Some(&basic(b"bob:builder")));
    assert_eq!(r.status, 200);
    assert!(r.text().starts_with("bob|Basic|Basic "), "{}", r.text());
}

#[test]
fn basic_scheme_is_case_insensitive_and_password_may_hold_colons() {
    let client = basic_client();
    let token = STANDARD.encode("alice:wonder:land");
    for scheme in ["Basic", "basic", "BASIC", "bAsIc"] {
        let r = get(&client, "/", Some(&format!("{scheme} {token}")));
        assert_eq!(r.status, 200, "{scheme}");
        assert!(r.text().starts_with("alice|Basic|"), "{scheme}");
    }
}

#[test]
fn basic_every_failure_looks_the_same() {
    let client = basic_client();
    let failures: &[Option<&str>] = &[
        None,
        Some(&basic(b"carol:builder")),   // wrong user
        Some(&basic(b"bob:wrong")),       // wrong password
        Some(&basic(b"bob:builde")),      // a prefix of the password
        Some(&basic(b"bob:builder ")),    // an extension of it
        Some(&basic(b"BOB:builder")),     // user-ids are case-sensitive
        Some(&basic(b"alice:wonder")),    // split at the first ':' only
        Some("Bearer Ym9iOmJ1aWxkZXI="),  // wrong scheme
        Some("Basic Ym9iOmJ1aWxkZXI"),    // padding missing
        Some("Basic Ym9iOmJ1aWxkZXI=x"),  // trailing garbage
        Some("Basic Ym9iOmJ1a WxkZXI="),  // whitespace inside
        Some("Basic Ym9iOmJ1aWxkZXI-"),   // URL-safe alphabet
        Some("Basic !!!"),                // not base64
        Some("Basic"),                    // no credentials
        Some(&basic(b"bobbuilder")),      // no colon
        Some(&basic(b"bob\xff:builder")), // not UTF-8
        Some(&basic(b":builder")),        // empty user-id
        Some(&basic(b"bob:build\ner")),   // control character
    ];
    for authorization in failures {
        let r = get(&client, "/", *authorization);
        assert_eq!(r.status, 401, "{authorization:?}");
        assert_eq!(
            r.header("www-authenticate"),
            Some(BASIC_CHALLENGE),
            "{authorization:?}"
        );
        assert_eq!(r.header("content-type"), Some("text/plain; charset=utf-8"));
        assert_eq!(r.text(), "Unauthorized\n", "{authorization:?}");
    }
}

#[test]
fn basic_two_authorization_headers_are_refused() {
    let client = basic_client();
    let good = basic(b"bob:builder");
    let r = client
        .get("/")
        .header("Authorization", &good)
        .header("Authorization", &good)
        .send();
    assert_eq!(r.status, 401);
}

#[test]
fn the_inner_app_is_not_called_on_failure() {
    let calls = Arc::new(AtomicUsize::new(0));
    let seen = calls.clone();
    let app = move |environ: Environ, sr: StartResponse| {
        seen.fetch_add(1, Ordering::SeqCst);
        whoami(environ, sr)
    };
    let client = Client::new(
        BasicAuth::new("t", |_: &str, p: &str| p == "ok")
            .unwrap()
            .wrap(app),
    );
    assert_eq!(get(&client, "/", Some(&basic(b"u:no"))).status, 401);
    assert_eq!(get(&client, "/", None).status, 401);
    assert_eq!(calls.load(Ordering::SeqCst), 0);
    assert_eq!(get(&client, "/", Some(&basic(b"u:ok"))).status, 200);
    assert_eq!(calls.load(Ordering::SeqCst), 1);
}

#[test]
fn head_gets_the_challenge_without_a_body() {
    let r = basic_client().head("/").send();
    assert_eq!(r.status, 401);
    assert_eq!(r.header("www-authenticate"), Some(BASIC_CHALLENGE));
    assert!(r.body.is_empty());
}

/// An outer layer that says who the user is.
fn outer_user() -> FromFn<
    impl Fn(Environ, StartResponse, Next<'_>) -> Result<Body, Error> + Clone + Send + Sync + 'static,
> {
    middleware_fn(|mut environ: Environ, sr: StartResponse, next: Next<'_>| {
        environ.set_var("REMOTE_USER", "outer")?;
        environ.set_var("AUTH_TYPE", "Negotiate")?;
        next.call(environ, sr)
    })
}

#[test]
fn remote_user_from_an_outer_layer_is_kept_unless_asked() {
    let creds = || Credentials::new([("bob", "builder")]).unwrap();
    let inner = whoami as fn(Environ, StartResponse) -> Result<Body, Error>;
    let keep = Stack::new()
        .with(outer_user())
        .with(BasicAuth::new("t", creds()).unwrap());
    let r = get(
        &Client::new(keep.wrap(inner)),
        "/",
        Some(&basic(b"bob:builder")),
    );
    assert!(r.text().starts_with("outer|Negotiate|"), "{}", r.text());
    // The credentials are still checked.
    let r = get(
        &Client::new(keep.wrap(inner)),
        "/",
        Some(&basic(b"bob:nope")),
    );
    assert_eq!(r.status, 401);

    let replace = Stack::new().with(outer_user()).with(
        BasicAuth::new("t", creds())
            .unwrap()
            .overwrite_remote_user(true),
    );
    let r = get(
        &Client::new(replace.wrap(inner)),
        "/",
        Some(&basic(b"bob:builder")),
    );
    assert!(r.text().starts_with("bob|Basic|"), "{}", r.text());
}

#[test]
fn authorization_is_passed_on_unless_stripped() {
    let good = basic(b"bob:builder");
    let r = get(&basic_client(), "/", Some(&good));
    assert!(r.text().ends_with(&format!("|{good}")), "{}", r.text());
    let creds = Credentials::new([("bob", "builder")]).unwrap();
    let strip = BasicAuth::new("t", creds)
        .unwrap()
        .strip_authorization(true);
    let r = get(&Client::new(strip.wrap(whoami)), "/", Some(&good));
    assert_eq!(r.text(), "bob|Basic|");
}

// ----- Bearer -----

fn bearer_client() -> Client<impl App> {
    let tokens = StaticTokens::new([("mF_9.B5f-4.1JqM", "robot"), ("abc==", "other")]).unwrap();
    Client::new(BearerAuth::new("api", tokens).unwrap().wrap(whoami))
}

#[test]
fn bearer_good_token_passes_and_identifies() {
    let client = bearer_client();
    for authorization in [
        "Bearer mF_9.B5f-4.1JqM",
        "bearer mF_9.B5f-4.1JqM",
        "BEARER  mF_9.B5f-4.1JqM ",
    ] {
        let r = get(&client, "/", Some(authorization));
        assert_eq!(r.status, 200, "{authorization}");
        assert!(r.text().starts_with("robot|Bearer|"), "{}", r.text());
    }
    assert!(
        get(&client, "/", Some("Bearer abc=="))
            .text()
            .starts_with("other|")
    );
}

#[test]
fn bearer_missing_or_other_scheme_gets_a_bare_challenge() {
    let client = bearer_client();
    for authorization in [None, Some("Basic Ym9iOmJ1aWxkZXI="), Some("Bearerx abc")] {
        let r = get(&client, "/", authorization);
        assert_eq!(r.status, 401, "{authorization:?}");
        assert_eq!(r.header("www-authenticate"), Some(r#"Bearer realm="api""#));
        assert_eq!(r.text(), "Unauthorized\n");
    }
}

#[test]
fn bearer_rejected_token_is_invalid_token() {
    let client = bearer_client();
    for token in [
        "guess",
        "mF_9.B5f-4.1Jq",
        "mF_9.B5f-4.1JqMM",
        "MF_9.B5F-4.1JQM",
        "abc=",
    ] {
        let r = get(&client, "/", Some(&format!("Bearer {token}")));
        assert_eq!(r.status, 401, "{token}");
        assert_eq!(
            r.header("www-authenticate"),
            Some(r#"Bearer realm="api", error="invalid_token""#)
        );
        assert_eq!(r.text(), "Unauthorized\n");
    }
}

#[test]
fn bearer_malformed_request_is_invalid_request() {
    let client = bearer_client();
    for authorization in [
        "Bearer",
        "Bearer ",
        "Bearer a b",
        "Bearer a=b",
        "Bearer a,b",
        "Bearer \"x\"",
        "Bearer\tx",
    ] {
        let r = get(&client, "/", Some(authorization));
        assert_eq!(r.status, 400, "{authorization:?}");
        assert_eq!(
            r.header("www-authenticate"),
            Some(r#"Bearer realm="api", error="invalid_request""#)
        );
        assert_eq!(r.text(), "Bad Request\n");
    }
    let r = client
        .get("/")
        .header("Authorization", "Bearer mF_9.B5f-4.1JqM")
        .header("Authorization", "Bearer mF_9.B5f-4.1JqM")
        .send();
    assert_eq!(r.status, 400);
}

#[test]
fn bearer_closure_verifier() {
    let verify = |token: &str| (token == "let-me-in").then(|| "closure".to_owned());
    let client = Client::new(BearerAuth::new("api", verify).unwrap().wrap(whoami));
    assert!(
        get(&client, "/", Some("Bearer let-me-in"))
            .text()
            .starts_with("closure|Bearer|")
    );
    assert_eq!(get(&client, "/", Some("Bearer nope")).status, 401);
}

// ----- configuration -----

#[test]
fn debug_shows_no_secret() {
    let creds = Credentials::new([("alice", "hunter2")]).unwrap();
    let tokens = StaticTokens::new([("t0k3n", "robot")]).unwrap();
    let basic = BasicAuth::new("realm", creds)
        .unwrap()
        .exempt("/health")
        .unwrap();
    let bearer = BearerAuth::new("realm", tokens)
        .unwrap()
        .only_under("/api/")
        .unwrap();
    let out = format!(
        "{basic:?} {basic:#?} {bearer:?} {bearer:#?} {:?} {:?}",
        basic.clone().wrap(whoami),
        bearer.clone().wrap(whoami)
    );
    for secret in ["alice", "hunter2", "t0k3n", "robot"] {
        assert!(!out.contains(secret), "{secret} in {out}");
    }
    assert!(out.contains("/health") && out.contains("/api"), "{out}");
}

#[test]
fn constructors_refuse_bad_input() {
    let v = |_: &str, _: &str| true;
    let t = |_: &str| None::<String>;
    for realm in ["a\r\nX-Evil: 1", "nul\0", "tab\t", "del\u{7f}"] {
        assert!(
            matches!(BasicAuth::new(realm, v), Err(AuthError::InvalidRealm)),
            "{realm:?}"
        );
        assert!(
            matches!(BearerAuth::new(realm, t), Err(AuthError::InvalidRealm)),
            "{realm:?}"
        );
    }
    for path in ["health", "", "/a/../b", "/a\nb"] {
        assert!(matches!(
            BasicAuth::new("r", v).unwrap().exempt(path),
            Err(AuthError::InvalidPath { .. })
        ));
        assert!(BearerAuth::new("r", t).unwrap().only_under(path).is_err());
        assert!(BearerAuth::new("r", t).unwrap().exempt_under(path).is_err());
    }
    assert!(matches!(
        Credentials::new([("", "p")]),
        Err(AuthError::EmptyUser)
    ));
    assert!(matches!(
        Credentials::new([("a:b", "p")]),
        Err(AuthError::ColonInUser)
    ));
    assert!(matches!(
        StaticTokens::new([("", "x")]),
        Err(AuthError::EmptyToken)
    ));
    assert!(matches!(
        StaticTokens::new([("a b", "x")]),
        Err(AuthError::InvalidToken)
    ));
    // No message leaks what was given, but for paths (not secret).
    let msg = Credentials::new([("sec:ret", "p")])
        .unwrap_err()
        .to_string();
    assert!(!msg.contains("sec"), "{msg}");
}

#[test]
fn realm_is_escaped_in_the_challenge() {
    let client = Client::new(
        BasicAuth::new(r#"a "q" \ b"#, |_: &str, _: &str| false)
            .unwrap()
            .wrap(whoami),
    );
    let r = client.get("/").send();
    assert_eq!(
        r.header("www-authenticate"),
        Some(r#"Basic realm="a \"q\" \\ b", charset="UTF-8""#)
    );
}

// ----- paths -----

#[test]
fn exempt_path_tricks() {
    let creds = Credentials::new([("bob", "builder")]).unwrap();
    let client = Client::new(
        BasicAuth::new("t", creds)
            .unwrap()
            .exempt("/health")
            .unwrap()
            .wrap(whoami),
    );
    // (raw request target, needs credentials)
    let table = [
        ("/health", false),
        ("//health", false),
        ("/./health", false),
        ("/%2e/health", false),
        ("/health/", false),
        ("/%2Fhealth", false),
        ("/health?x=1", false),
        ("/x/../health", true),
        ("/x/%2e%2e/health", true),
        ("/x/..%2Fhealth", true),
        ("/private/../health", true),
        ("/healthz", true),
        ("/Health", true),
        ("/health/x", true),
        ("/health%00", true),
        ("/", true),
        ("/private/x", true),
    ];
    for (uri, guarded) in table {
        let status = client.get(uri).send().status;
        assert_eq!(status == 401, guarded, "{uri}: {status}");
        if guarded {
            assert_eq!(
                get(&client, uri, Some(&basic(b"bob:builder"))).status,
                200,
                "{uri}"
            );
        }
    }
}

#[test]
fn protected_prefix_tricks() {
    let creds = Credentials::new([("bob", "builder")]).unwrap();
    let auth = BasicAuth::new("t", creds)
        .unwrap()
        .only_under("/private/")
        .unwrap();
    let client = Client::new(auth.wrap(whoami));
    let table = [
        ("/private/", true),
        ("/private", true),
        ("/private/x", true),
        ("//private/x", true),
        ("/./private/x", true),
        ("/%2e/private/x", true),
        ("/%2Fprivate/x", true),
        ("/PRIVATE/x", true),
        ("/public/../private/x", true),
        ("/public/..%2Fprivate/x", true),
        ("/private/..%2Fpublic", true),
        ("/private/../public", true),
        ("/privateer", false),
        ("/public", false),
        ("/", false),
        ("/public/private/", false),
    ];
    for (uri, guarded) in table {
        let r = client.get(uri).send();
        assert_eq!(r.status == 401, guarded, "{uri}: {}", r.status);
        if !guarded {
            assert!(
                r.text().starts_with("-|-|"),
                "{uri}: no identity on unguarded paths"
            );
        }
    }
}

#[test]
fn basic_on_private_and_bearer_on_api_in_one_stack() {
    let creds = Credentials::new([("demo", "demo")]).unwrap();
    let tokens = StaticTokens::new([("s3cr3t", "robot")]).unwrap();
    let stack = Stack::new()
        // Stripping the header happens only where it was verified: Basic
        // leaves the Bearer token alone on /api/.
        .with(
            BasicAuth::new("private", creds)
                .unwrap()
                .only_under("/private/")
                .unwrap()
                .strip_authorization(true),
        )
        .with(
            BearerAuth::new("api", tokens)
                .unwrap()
                .only_under("/api/")
                .unwrap()
                .exempt("/api/health")
                .unwrap(),
        );
    let client = Client::new(stack.wrap(whoami));
    let demo = basic(b"demo:demo");

    assert_eq!(get(&client, "/", None).status, 200);
    assert_eq!(get(&client, "/api/health", None).status, 200);
    assert_eq!(
        get(&client, "/private/x", Some(&demo)).text(),
        "demo|Basic|"
    );
    assert!(
        get(&client, "/api/x", Some("Bearer s3cr3t"))
            .text()
            .starts_with("robot|Bearer|")
    );
    // Each prefix wants its own scheme.
    let r = get(&client, "/api/x", Some(&demo));
    assert_eq!(
        (r.status.as_u16(), r.header("www-authenticate")),
        (401, Some(r#"Bearer realm="api""#))
    );
    let r = get(&client, "/private/x", Some("Bearer s3cr3t"));
    assert_eq!(
        (r.status.as_u16(), r.header("www-authenticate")),
        (401, Some(r#"Basic realm="private", charset="UTF-8""#))
    );
    // A path that climbs out of one prefix into the other needs both... at least the one it may be under.
    assert_eq!(get(&client, "/private/..%2Fapi/x", Some(&demo)).status, 401);
}

#[test]
fn the_user_is_published_to_the_middleware_outside() {
    use gateway_core::RemoteUser;
    use std::sync::{Arc, Mutex};

    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    let outer = middleware_fn(move |environ: Environ, sr: StartResponse, next: Next<'_>| {
        let log = log.clone();
        sr.on_finish(move |outcome| {
            log.lock()
                .unwrap()
                .push(outcome.get::<RemoteUser>().cloned())
        });
        next.call(environ, sr)
    });
    let creds = Credentials::new([("bob", "builder")]).unwrap();
    let client = Client::new(
        Stack::new()
            .with(outer)
            .with(BasicAuth::new("t", creds).unwrap())
            .wrap(whoami),
    );
    assert_eq!(get(&client, "/", Some(&basic(b"bob:builder"))).status, 200);
    assert_eq!(get(&client, "/", Some(&basic(b"bob:nope"))).status, 401);
    assert_eq!(
        *seen.lock().unwrap(),
        [
            Some(RemoteUser::new("bob", AuthScheme::Basic.as_str())),
            None
        ]
    );
}

#[test]
fn paths_include_script_name() {
    // An outer layer mounts the app at /app: SCRIPT_NAME=/app, PATH_INFO=the rest.
    let mount = middleware_fn(|mut environ: Environ, sr: StartResponse, next: Next<'_>| {
        let path = environ.path_info().to_vec();
        if let Some(rest) = path.strip_prefix(b"/app") {
            environ.set_script_name("/app");
            environ.set_path_info(rest);
        }
        next.call(environ, sr)
    });
    let auth = BasicAuth::new("t", |_: &str, _: &str| false)
        .unwrap()
        .only_under("/app/")
        .unwrap()
        .exempt("/app/health")
        .unwrap();
    let client = Client::new(Stack::new().with(mount).with(auth).wrap(whoami));
    assert_eq!(client.get("/app/health").send().status, 200);
    assert_eq!(client.get("/app/x").send().status, 401);
    assert_eq!(client.get("/app//health").send().status, 200);
    assert_eq!(client.get("/other").send().status, 200);
}
