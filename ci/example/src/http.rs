//! Just enough HTTP/1.x for kvstore: read a request head and body, write a
//! response. Every response closes the connection, so there is no
//! keep-alive bookkeeping.

use std::fmt;
use std::io::{self, BufRead, Read, Write};

/// Longest request line or header line accepted, in bytes.
pub const MAX_LINE: usize = 8 * 1024;
/// Most header lines accepted in one request.
pub const MAX_HEADERS: usize = 100;
/// Largest request body accepted, in bytes.
pub const MAX_BODY: usize = 16 * 1024 * 1024;

/// Why a request could not be read.
#[derive(Debug)]
pub enum Error {
    /// The connection failed or timed out: nobody to answer.
    Io(io::Error),
    /// The request is malformed: answer 400 with this message.
    Bad(&'static str),
    /// The body is larger than [`MAX_BODY`]: answer 413.
    TooLarge,
}

impl From<io::Error> for Error {
    fn from(err: io::Error) -> Self {
        Error::Io(err)
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Io(err) => write!(f, "i/o error: {err}"),
            Error::Bad(msg) => f.write_str(msg),
            Error::TooLarge => write!(f, "body larger than {MAX_BODY} bytes"),
        }
    }
}

/// The request line and headers of a request.
#[derive(Debug, PartialEq, Eq)]
pub struct Head {
    pub method: String,
    /// The request target without its query string, e.g. `/photos/cat.jpg`.
    pub path: String,
    pub headers: Vec<(String, String)>,
}

impl Head {
    /// The value of the first header called `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The length of the body that follows the head (0 without Content-Length).
    pub fn content_length(&self) -> Result<usize, Error> {
        if self.header("transfer-encoding").is_some() {
            return Err(Error::Bad(
                "Transfer-Encoding is not supported; send Content-Length",
            ));
        }
        let mut length = None;
        for (_, value) in self
            .headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case("content-length"))
        {
            if value.is_empty() || !value.bytes().all(|b| b.is_ascii_digit()) {
                return Err(Error::Bad("invalid Content-Length"));
            }
            // Only absurdly long digit strings fail to parse: too large.
            let n: usize = value.parse().map_err(|_| Error::TooLarge)?;
            if length.is_some_and(|l| l != n) {
                return Err(Error::Bad("conflicting Content-Length headers"));
            }
            length = Some(n);
        }
        match length.unwrap_or(0) {
            n if n > MAX_BODY => Err(Error::TooLarge),
            n => Ok(n),
        }
    }

    /// Whether the client waits for `100 Continue` before sending the body.
    pub fn expects_continue(&self) -> bool {
        self.header("expect")
            .is_some_and(|v| v.eq_ignore_ascii_case("100-continue"))
    }
}

/// Reads one line ended by LF (CRLF accepted) and returns it without the
/// ending; `None` at end of input.
fn read_line<R: BufRead>(reader: &mut R) -> Result<Option<String>, Error> {
    let mut line = Vec::new();
    reader
        .take(MAX_LINE as u64 + 1)
        .read_until(b'\n', &mut line)?;
    if line.is_empty() {
        return Ok(None);
    }
    if line.pop() != Some(b'\n') {
        return Err(Error::Bad(if line.len() >= MAX_LINE {
            "line too long"
        } else {
            "request ended early"
        }));
    }
    if line.last() == Some(&b'\r') {
        line.pop();
    }
    String::from_utf8(line)
        .map(Some)
        .map_err(|_| Error::Bad("request head is not UTF-8"))
}

/// Reads a request line and headers; `None` if the client closed the
/// connection without sending anything.
pub fn read_head<R: BufRead>(reader: &mut R) -> Result<Option<Head>, Error> {
    let mut line = match read_line(reader)? {
        None => return Ok(None),
        Some(line) => line,
    };
    if line.is_empty() {
        // A stray empty line before the request line is allowed (RFC 9112).
        line = read_line(reader)?.ok_or(Error::Bad("request ended early"))?;
    }
    let mut parts = line.split(' ');
    let (method, target, version) = match (parts.next(), parts.next(), parts.next(), parts.next()) {
        (Some(m), Some(t), Some(v), None) => (m, t, v),
        _ => return Err(Error::Bad("malformed request line")),
    };
    if method.is_empty() || !method.bytes().all(|b| b.is_ascii_uppercase()) {
        return Err(Error::Bad("malformed method"));
    }
    if !target.starts_with('/') {
        return Err(Error::Bad("request target must start with '/'"));
    }
    if !version.starts_with("HTTP/1.") {
        return Err(Error::Bad("unsupported HTTP version"));
    }
    let path = target.split_once('?').map_or(target, |(path, _)| path);

    let mut headers = Vec::new();
    loop {
        let line = read_line(reader)?.ok_or(Error::Bad("request ended early"))?;
        if line.is_empty() {
            break;
        }
        if headers.len() == MAX_HEADERS {
            return Err(Error::Bad("too many headers"));
        }
        let (name, value) = line
            .split_once(':')
            .ok_or(Error::Bad("malformed header line"))?;
        if name.is_empty() || name.bytes().any(|b| b.is_ascii_whitespace()) {
            return Err(Error::Bad("malformed header name"));
        }
        headers.push((name.to_owned(), value.trim().to_owned()));
    }
    Ok(Some(Head {
        method: method.to_owned(),
        path: path.to_owned(),
        headers,
    }))
}

/// Reads exactly `length` body bytes.
pub fn read_body<R: Read>(reader: &mut R, length: usize) -> io::Result<Vec<u8>> {
    let mut body = Vec::new();
    reader.take(length as u64).read_to_end(&mut body)?;
    if body.len() != length {
        return Err(io::Error::new(
            io::ErrorKind::UnexpectedEof,
            "body ended early",
        ));
    }
    Ok(body)
}

/// A response; Content-Length and `Connection: close` are added on writing.
#[derive(Debug, PartialEq, Eq)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(&'static str, String)>,
    pub body: Vec<u8>,
}

impl Response {
    /// An empty response.
    pub fn empty(status: u16) -> Self {
        Response {
            status,
            headers: Vec::new(),
            body: Vec::new(),
        }
    }

    /// A response with a body of the given content type.
    pub fn with_body(status: u16, content_type: &str, body: Vec<u8>) -> Self {
        Response {
            status,
            headers: vec![("Content-Type", content_type.to_owned())],
            body,
        }
    }

    /// A plain-text response: `message` plus a newline.
    pub fn text(status: u16, message: &str) -> Self {
        Self::with_body(
            status,
            "text/plain; charset=utf-8",
            format!("{message}\n").into_bytes(),
        )
    }

    pub fn header(mut self, name: &'static str, value: &str) -> Self {
        self.headers.push((name, value.to_owned()));
        self
    }

    /// Writes the response; `include_body` is false for HEAD requests, which
    /// get the headers (including Content-Length) of the full response.
    pub fn write_to<W: Write>(&self, writer: &mut W, include_body: bool) -> io::Result<()> {
        write!(
            writer,
            "HTTP/1.1 {} {}\r\n",
            self.status,
            reason(self.status)
        )?;
        for (name, value) in &self.headers {
            write!(writer, "{name}: {value}\r\n")?;
        }
        if self.status != 204 {
            write!(writer, "Content-Length: {}\r\n", self.body.len())?;
        }
        writer.write_all(b"Connection: close\r\n\r\n")?;
        if include_body {
            writer.write_all(&self.body)?;
        }
        writer.flush()
    }
}

fn reason(status: u16) -> &'static str {
    match status {
        100 => "Continue",
        200 => "OK",
        201 => "Created",
        204 => "No Content",
        400 => "Bad Request",
        404 => "Not Found",
        405 => "Method Not Allowed",
        413 => "Content Too Large",
        _ => "",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(raw: &str) -> Result<Option<Head>, Error> {
        read_head(&mut raw.as_bytes())
    }

    #[test]
    fn parses_request_line_and_headers() {
        let head =
            parse("PUT /a/b.txt?x=1 HTTP/1.1\r\nHost: h\r\ncontent-length:  5 \r\n\r\nhello")
                .unwrap()
                .unwrap();
        assert_eq!(head.method, "PUT");
        assert_eq!(head.path, "/a/b.txt");
        assert_eq!(head.header("Content-Length"), Some("5"));
        assert_eq!(head.content_length().unwrap(), 5);
        assert!(!head.expects_continue());
    }

    #[test]
    fn accepts_bare_lf_and_reports_eof() {
        assert!(parse("").unwrap().is_none());
        let head = parse("GET / HTTP/1.0\n\n").unwrap().unwrap();
        assert_eq!((head.method.as_str(), head.path.as_str()), ("GET", "/"));
        assert_eq!(head.content_length().unwrap(), 0);
    }

    #[test]
    fn rejects_malformed_requests() {
        for raw in [
            "garbage\r\n\r\n",
            "GET /\r\n\r\n",
            "get / HTTP/1.1\r\n\r\n",
            "GET a HTTP/1.1\r\n\r\n",
            "GET / HTTP/2\r\n\r\n",
            "GET / HTTP/1.1\r\nno colon\r\n\r\n",
            "GET / HTTP/1.1\r\nHost: h\r\n",
        ] {
            assert!(matches!(parse(raw), Err(Error::Bad(_))), "{raw:?}");
        }
        let long = format!("GET /{} HTTP/1.1\r\n\r\n", "k".repeat(MAX_LINE));
        assert!(matches!(parse(&long), Err(Error::Bad("line too long"))));
    }

    #[test]
    fn checks_content_length() {
        let length = |headers: &str| {
            parse(&format!("PUT /k HTTP/1.1\r\n{headers}\r\n"))
                .unwrap()
                .unwrap()
                .content_length()
        };
        assert!(matches!(
            length("Content-Length: -1\r\n"),
            Err(Error::Bad(_))
        ));
        assert!(matches!(
            length("Content-Length: 1\r\nContent-Length: 2\r\n"),
            Err(Error::Bad(_))
        ));
        assert!(matches!(
            length("Transfer-Encoding: chunked\r\n"),
            Err(Error::Bad(_))
        ));
        let too_big = format!("Content-Length: {}\r\n", MAX_BODY + 1);
        assert!(matches!(length(&too_big), Err(Error::TooLarge)));
        assert!(matches!(
            length("Content-Length: 99999999999999999999999\r\n"),
            Err(Error::TooLarge)
        ));
    }

    #[test]
    fn reads_exact_body() {
        assert_eq!(read_body(&mut &b"abcdef"[..], 3).unwrap(), b"abc");
        assert!(read_body(&mut &b"ab"[..], 3).is_err());
    }

    #[test]
    fn writes_responses() {
        let mut out = Vec::new();
        Response::text(404, "no such key")
            .write_to(&mut out, true)
            .unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "HTTP/1.1 404 Not Found\r\nContent-Type: text/plain; charset=utf-8\r\n\
             Content-Length: 12\r\nConnection: close\r\n\r\nno such key\n"
        );
        let mut out = Vec::new();
        Response::empty(204).write_to(&mut out, false).unwrap();
        assert_eq!(out, b"HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n");
    }
}
