//! Status and header validation: whatever an app hands `start_response`,
//! the check returns, and a head it accepts cannot split a response.
#![no_main]

use gateway_core::{Head, is_hop_by_hop};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: (String, Vec<(String, String)>)| {
    let (status, headers) = input;
    let pairs: Vec<(&str, &str)> = headers
        .iter()
        .map(|(n, v)| (n.as_str(), v.as_str()))
        .collect();
    if let Ok(head) = Head::parse(status.as_str(), pairs) {
        assert!(!head.reason().contains(['\r', '\n', '\0']));
        let _ = head.status_line();
        for (name, value) in &head.headers {
            assert!(!is_hop_by_hop(name));
            assert!(
                value
                    .as_bytes()
                    .iter()
                    .all(|&b| b == b'\t' || (b >= 0x20 && b != 0x7f))
            );
        }
    }
});
