//! Routing requests to the store, and the accept loop.

use std::io::{self, BufRead, BufReader, BufWriter, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use crate::http::{self, Head, Response};
use crate::store::Store;

/// How long a connection may stay silent before it is dropped.
const READ_TIMEOUT: Duration = Duration::from_secs(30);

/// Answers one request. `path` starts with `/`; the rest is the key, which
/// may itself contain `/`. `GET /` lists the keys.
pub fn route(store: &Store, method: &str, path: &str, body: Vec<u8>) -> Response {
    let key = path.strip_prefix('/').unwrap_or(path);
    match (method, key) {
        ("GET" | "HEAD", "") => {
            let mut list = String::new();
            for k in store.keys() {
                list.push_str(&k);
                list.push('\n');
            }
            Response::with_body(200, "text/plain; charset=utf-8", list.into_bytes())
        }
        (_, "") => Response::text(405, "only GET and HEAD work on /").header("Allow", "GET, HEAD"),
        ("GET" | "HEAD", key) => match store.get(key) {
            Some(value) => Response::with_body(200, "application/octet-stream", value),
            None => Response::text(404, "no such key"),
        },
        ("PUT", key) => Response::empty(if store.put(key, body) { 201 } else { 200 }),
        // Like an object store, deleting an absent key succeeds too.
        ("DELETE", key) => {
            store.delete(key);
            Response::empty(204)
        }
        _ => Response::text(405, "method not allowed").header("Allow", "GET, HEAD, PUT, DELETE"),
    }
}

/// Reads a request head and the length of the body that follows.
fn read_head<R: BufRead>(reader: &mut R) -> Result<Option<(Head, usize)>, http::Error> {
    match http::read_head(reader)? {
        Some(head) => {
            let length = head.content_length()?;
            Ok(Some((head, length)))
        }
        None => Ok(None),
    }
}

/// Reads one request from `reader` and writes the answer to `writer`.
pub fn exchange<R: BufRead, W: Write>(
    reader: &mut R,
    writer: &mut W,
    store: &Store,
) -> io::Result<()> {
    let (head, length) = match read_head(reader) {
        Ok(Some(request)) => request,
        Ok(None) => return Ok(()),
        Err(http::Error::Io(err)) => return Err(err),
        Err(err) => {
            let status = if matches!(err, http::Error::TooLarge) {
                413
            } else {
                400
            };
            return Response::text(status, &err.to_string()).write_to(writer, true);
        }
    };
    if length > 0 && head.expects_continue() {
        writer.write_all(b"HTTP/1.1 100 Continue\r\n\r\n")?;
        writer.flush()?;
    }
    let body = http::read_body(reader, length)?;
    route(store, &head.method, &head.path, body).write_to(writer, head.method != "HEAD")
}

fn handle_connection(stream: TcpStream, store: &Store) -> io::Result<()> {
    stream.set_read_timeout(Some(READ_TIMEOUT))?;
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut writer = BufWriter::new(stream);
    exchange(&mut reader, &mut writer, store)
}

/// Serves connections forever, one thread per connection.
pub fn serve(listener: TcpListener, store: Arc<Store>) {
    for stream in listener.incoming() {
        let stream = match stream {
            Ok(stream) => stream,
            Err(err) => {
                // E.g. out of file descriptors: back off instead of spinning.
                eprintln!("kvstore: accept failed: {err}");
                thread::sleep(Duration::from_millis(100));
                continue;
            }
        };
        let store = Arc::clone(&store);
        let spawned = thread::Builder::new().spawn(move || {
            // Errors here are clients hanging up or timing out: nothing to do.
            let _ = handle_connection(stream, &store);
        });
        if let Err(err) = spawned {
            eprintln!("kvstore: cannot start a connection thread: {err}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(store: &Store, request: &[u8]) -> String {
        let mut out = Vec::new();
        exchange(&mut &request[..], &mut out, store).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn routes_object_operations() {
        let store = Store::new();
        assert_eq!(route(&store, "GET", "/a/b", Vec::new()).status, 404);
        assert_eq!(route(&store, "PUT", "/a/b", b"x".to_vec()).status, 201);
        assert_eq!(route(&store, "PUT", "/a/b", b"y".to_vec()).status, 200);
        assert_eq!(route(&store, "GET", "/a/b", Vec::new()).body, b"y");
        assert_eq!(route(&store, "PUT", "/c", Vec::new()).status, 201);
        assert_eq!(route(&store, "GET", "/", Vec::new()).body, b"a/b\nc\n");
        assert_eq!(route(&store, "DELETE", "/a/b", Vec::new()).status, 204);
        assert_eq!(route(&store, "GET", "/a/b", Vec::new()).status, 404);
        assert_eq!(route(&store, "DELETE", "/a/b", Vec::new()).status, 204);
    }

    #[test]
    fn rejects_unknown_methods() {
        let store = Store::new();
        assert_eq!(route(&store, "POST", "/k", Vec::new()).status, 405);
        assert_eq!(route(&store, "PUT", "/", Vec::new()).status, 405);
        assert_eq!(route(&store, "DELETE", "/", Vec::new()).status, 405);
    }

    #[test]
    fn exchanges_whole_requests() {
        let store = Store::new();
        let put = run(&store, b"PUT /k HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello");
        assert!(put.starts_with("HTTP/1.1 201 Created\r\n"), "{put}");
        let get = run(&store, b"GET /k HTTP/1.1\r\n\r\n");
        assert!(
            get.starts_with("HTTP/1.1 200 OK\r\n") && get.ends_with("\r\n\r\nhello"),
            "{get}"
        );
        let head = run(&store, b"HEAD /k HTTP/1.1\r\n\r\n");
        assert!(
            head.contains("Content-Length: 5\r\n") && head.ends_with("\r\n\r\n"),
            "{head}"
        );
        assert_eq!(run(&store, b""), "");
    }

    #[test]
    fn answers_bad_requests_and_continue() {
        let store = Store::new();
        assert!(run(&store, b"nonsense\r\n\r\n").starts_with("HTTP/1.1 400 "));
        let big = format!(
            "PUT /k HTTP/1.1\r\nContent-Length: {}\r\n\r\n",
            http::MAX_BODY + 1
        );
        assert!(run(&store, big.as_bytes()).starts_with("HTTP/1.1 413 "));
        let put = run(
            &store,
            b"PUT /k HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\nhi",
        );
        assert!(
            put.starts_with("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\n"),
            "{put}"
        );
    }
}
