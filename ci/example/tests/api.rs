//! End-to-end tests: start the real `kvstore` binary on a free port and talk
//! HTTP to it over a raw TcpStream.
//!
//! Cross-testing: for a foreign target, cargo runs this test program through
//! the runner in `CARGO_TARGET_<TRIPLE>_RUNNER` (e.g. `qemu-aarch64`), but the
//! runner wraps only the test program, not the kvstore binary it starts. So
//! set `KVSTORE_TEST_RUNNER` to the same runner command line (split on
//! whitespace, e.g. `qemu-arm -cpu arm1176`) and the binary is started
//! through it too. Unset or empty: the binary is run directly.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, ChildStdout, Command, Stdio};
use std::thread;
use std::time::Duration;

const BIN: &str = env!("CARGO_BIN_EXE_kvstore");

/// A command running the kvstore binary, through `KVSTORE_TEST_RUNNER` if set.
fn kvstore() -> Command {
    let runner = std::env::var("KVSTORE_TEST_RUNNER").unwrap_or_default();
    let mut words = runner.split_whitespace();
    match words.next() {
        Some(program) => {
            let mut command = Command::new(program);
            command.args(words).arg(BIN);
            command
        }
        None => Command::new(BIN),
    }
}

/// A running server, killed when dropped.
struct Server {
    child: Child,
    addr: String,
    // Kept open so the server never writes to a closed pipe.
    _stdout: BufReader<ChildStdout>,
}

impl Server {
    fn start() -> Server {
        let mut child = kvstore()
            .args(["--listen", "127.0.0.1:0"])
            .stdout(Stdio::piped())
            .spawn()
            .expect("start kvstore");
        let mut stdout = BufReader::new(child.stdout.take().expect("piped stdout"));
        let mut line = String::new();
        let _ = stdout.read_line(&mut line);
        let addr = match line.trim_end().strip_prefix("listening on ") {
            Some(addr) => addr.to_owned(),
            None => {
                let _ = child.kill();
                let _ = child.wait();
                panic!("expected `listening on ADDR` from kvstore, got {line:?}");
            }
        };
        Server {
            child,
            addr,
            _stdout: stdout,
        }
    }

    /// Sends raw bytes and returns (status, head, body) of the reply.
    fn raw(&self, request: &[u8]) -> (u16, String, Vec<u8>) {
        let mut stream = TcpStream::connect(&self.addr).expect("connect");
        stream
            .set_read_timeout(Some(Duration::from_secs(60)))
            .unwrap();
        stream.write_all(request).expect("send request");
        let mut reply = Vec::new();
        stream.read_to_end(&mut reply).expect("read reply");
        let split = reply
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .expect("reply has a head");
        let head = String::from_utf8(reply[..split].to_vec()).expect("UTF-8 head");
        let status = head
            .get(9..12)
            .and_then(|s| s.parse().ok())
            .expect("status code");
        (status, head, reply[split + 4..].to_vec())
    }

    fn request(&self, method: &str, path: &str, body: &[u8]) -> (u16, Vec<u8>) {
        let mut request = format!(
            "{method} {path} HTTP/1.1\r\nHost: test\r\nContent-Length: {}\r\n\r\n",
            body.len()
        )
        .into_bytes();
        request.extend_from_slice(body);
        let (status, _, body) = self.raw(&request);
        (status, body)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn put_get_delete() {
    let server = Server::start();
    let value = b"line 1\r\n\r\nline 2\0binary\xff";
    assert_eq!(server.request("GET", "/greeting", b"").0, 404);
    assert_eq!(server.request("PUT", "/greeting", value), (201, Vec::new()));
    assert_eq!(
        server.request("GET", "/greeting", b""),
        (200, value.to_vec())
    );
    assert_eq!(server.request("PUT", "/greeting", b"replaced").0, 200);
    assert_eq!(
        server.request("GET", "/greeting", b""),
        (200, b"replaced".to_vec())
    );
    assert_eq!(
        server.request("DELETE", "/greeting", b""),
        (204, Vec::new())
    );
    assert_eq!(server.request("GET", "/greeting", b"").0, 404);
}

#[test]
fn lists_sorted_keys_with_slashes() {
    let server = Server::start();
    assert_eq!(server.request("GET", "/", b""), (200, Vec::new()));
    for key in ["/photos/b.jpg", "/notes", "/photos/a.jpg"] {
        assert_eq!(server.request("PUT", key, key.as_bytes()).0, 201);
    }
    let (status, list) = server.request("GET", "/", b"");
    assert_eq!(status, 200);
    assert_eq!(
        String::from_utf8(list).unwrap(),
        "notes\nphotos/a.jpg\nphotos/b.jpg\n"
    );
    assert_eq!(
        server.request("GET", "/photos/a.jpg", b""),
        (200, b"/photos/a.jpg".to_vec())
    );
}

#[test]
fn head_and_bad_requests() {
    let server = Server::start();
    server.request("PUT", "/k", b"12345");
    let (status, head, body) = server.raw(b"HEAD /k HTTP/1.1\r\n\r\n");
    assert_eq!(status, 200);
    assert!(head.contains("Content-Length: 5"), "{head}");
    assert!(body.is_empty());
    assert_eq!(server.raw(b"hello\r\n\r\n").0, 400);
    assert_eq!(
        server
            .raw(b"PUT /k HTTP/1.1\r\nContent-Length: many\r\n\r\n")
            .0,
        400
    );
    assert_eq!(server.request("POST", "/k", b"").0, 405);
}

#[test]
fn concurrent_clients() {
    let server = Server::start();
    thread::scope(|scope| {
        for i in 0..8 {
            let server = &server;
            scope.spawn(move || {
                let key = format!("/client/{i}");
                assert_eq!(server.request("PUT", &key, key.as_bytes()).0, 201);
                assert_eq!(server.request("GET", &key, b""), (200, key.into_bytes()));
            });
        }
    });
    let (_, list) = server.request("GET", "/", b"");
    assert_eq!(list.iter().filter(|&&b| b == b'\n').count(), 8);
}

#[test]
fn version_help_and_bad_flags() {
    let out = kvstore().arg("--version").output().expect("run --version");
    assert!(out.status.success());
    let version = String::from_utf8(out.stdout).unwrap();
    assert!(
        version.starts_with("kvstore ") && version.ends_with('\n'),
        "{version:?}"
    );

    let out = kvstore().arg("--help").output().expect("run --help");
    assert!(out.status.success());
    assert!(String::from_utf8(out.stdout).unwrap().contains("--listen"));

    let out = kvstore().arg("--bogus").output().expect("run --bogus");
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    assert!(String::from_utf8(out.stderr).unwrap().contains("--bogus"));
}
