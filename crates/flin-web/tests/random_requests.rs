//! Random requests against a real server (issue "Hardening", fuzzing): methods,
//! paths, query strings, headers, cookies and bodies drawn from fixed seeds by
//! `flin_web::fuzzing`. No answer may be a 500 (a client's mistake is a 4xx), and the
//! server keeps answering. `fuzz/fuzz_targets/http.rs` runs the same property under
//! libFuzzer without limit.

// Helpers fail the test by panicking, as assertions do.
#![allow(
    clippy::panic,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)]

mod common;

use std::io::{Read, Write};

use common::*;

fn bytes(seed: u64, n: usize) -> Vec<u8> {
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..n)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 24) as u8
        })
        .collect()
}

#[test]
fn no_random_request_gets_a_500_and_the_server_goes_on() {
    let server = serve(flin_web::fuzzing::APP, flin_web::Options::default());
    let mut answered = 0;
    for seed in 0..1_500u64 {
        // Short inputs reach the structured fields; long ones the bodies.
        let len = 8 + (seed as usize * 37) % 600;
        let raw = flin_web::fuzzing::request_bytes(&bytes(seed, len));
        let mut stream = std::net::TcpStream::connect(server.address).unwrap();
        stream
            .set_read_timeout(Some(std::time::Duration::from_secs(10)))
            .unwrap();
        let _ = stream.write_all(&raw);
        // Headers that never end would hold the connection until header_timeout: say so.
        if !raw.windows(4).any(|w| w == b"\r\n\r\n") {
            let _ = stream.shutdown(std::net::Shutdown::Write);
        }
        let mut answer = Vec::new();
        let _ = stream.read_to_end(&mut answer);
        if let Some(status) = flin_web::fuzzing::status_of(&answer) {
            answered += 1;
            assert!(
                status != 500,
                "seed {seed}: 500 for\n{}\n---\n{}",
                String::from_utf8_lossy(&raw),
                String::from_utf8_lossy(&answer)
            );
        }
    }
    assert!(answered > 1_000, "only {answered} requests were answered");
    assert_eq!(get(&server, "/_flin/health").status, 200);
    assert_eq!(get(&server, "/api/me").status, 200);
}
