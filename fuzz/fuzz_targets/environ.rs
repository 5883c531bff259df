//! The environ from arbitrary request parts: any method, target and headers
//! a client could send (as far as `http` accepts them) give an environ whose
//! every variable reads, with PATH_INFO's bytes round-tripping.
#![no_main]

use arbitrary::Arbitrary;
use gateway_core::{Environ, latin1};
use libfuzzer_sys::fuzz_target;

#[derive(Arbitrary, Debug)]
struct Request<'a> {
    method: &'a [u8],
    target: &'a [u8],
    headers: Vec<(&'a [u8], &'a [u8])>,
    script_name: Option<&'a [u8]>,
}

fuzz_target!(|input: Request<'_>| {
    let Ok(method) = http::Method::from_bytes(input.method) else {
        return;
    };
    let Ok(uri) = http::Uri::try_from(input.target) else {
        return;
    };
    let mut request = http::Request::new(());
    *request.method_mut() = method;
    *request.uri_mut() = uri;
    for (name, value) in input.headers {
        let (Ok(name), Ok(value)) = (
            http::HeaderName::from_bytes(name),
            http::HeaderValue::from_bytes(value),
        ) else {
            continue;
        };
        request.headers_mut().append(name, value);
    }
    let (parts, ()) = request.into_parts();
    let mut environ = Environ::from_parts(parts, Default::default());
    if let Some(script) = input.script_name {
        environ.set_script_name(script);
    }
    for (name, value) in environ.vars() {
        assert_eq!(environ.get(&name).as_deref(), Some(&*value));
    }
    let path = environ.path_info();
    let back: Vec<u8> = latin1(path).chars().map(|c| c as u32 as u8).collect();
    assert_eq!(back, path);
    let _ = environ.quoted_path();
    let _ = environ.server();
});
