//! A raw HTTP/1.1 client: sends exactly the header bytes it is given (non-UTF-8,
//! repeated, missing `Host`, anything but CR/LF inside a line), one request per
//! connection (`Connection: close`), and reads the response to EOF.
//!
//! The bytes are written by hand on purpose: the hostile requests and the
//! vectors carry bytes no HTTP library would send. Responses are parsed with
//! `httparse`.

use crate::vectors::{show, Header};
use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

/// How long a response may take; a proxy that hangs fails the test instead.
const TIMEOUT: Duration = Duration::from_secs(20);

/// A request, written as-is: `METHOD TARGET HTTP/1.1`, the header lines in
/// order, then `Connection: close`.
#[derive(Debug, Clone)]
pub struct Request {
    /// The method, as sent.
    pub method: Vec<u8>,
    /// The request target (path and query).
    pub target: Vec<u8>,
    /// Header lines; include `Host` yourself (or leave it out on purpose).
    pub headers: Vec<Header>,
}

impl Request {
    /// A request with no header lines yet.
    pub fn new(method: impl Into<Vec<u8>>, target: impl Into<Vec<u8>>) -> Request {
        Request {
            method: method.into(),
            target: target.into(),
            headers: Vec::new(),
        }
    }

    /// Adds a header line.
    pub fn header(mut self, name: impl Into<Vec<u8>>, value: impl Into<Vec<u8>>) -> Request {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// The bytes on the wire, asking the proxy to close the connection after
    /// its answer, so that the answer ends where the stream does.
    pub fn to_bytes(&self) -> Vec<u8> {
        self.wire_bytes(b"Connection: close\r\n")
    }

    /// The bytes on the wire for a connection that stays open.
    pub fn to_keep_alive_bytes(&self) -> Vec<u8> {
        self.wire_bytes(b"")
    }

    fn wire_bytes(&self, last_line: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        out.extend_from_slice(&self.method);
        out.push(b' ');
        out.extend_from_slice(&self.target);
        out.extend_from_slice(b" HTTP/1.1\r\n");
        for (name, value) in &self.headers {
            out.extend_from_slice(name);
            out.extend_from_slice(b": ");
            out.extend_from_slice(value);
            out.extend_from_slice(b"\r\n");
        }
        out.extend_from_slice(last_line);
        out.extend_from_slice(b"\r\n");
        out
    }

    /// Sends the request to `addr` and reads the response.
    ///
    /// # Errors
    /// Connection failures, timeouts, and responses that are not HTTP/1.x.
    pub fn send(&self, addr: SocketAddr) -> io::Result<Response> {
        send_raw(addr, &self.to_bytes())
    }
}

/// A parsed response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    /// The status code.
    pub status: u16,
    /// Every header line, in order, names as sent.
    pub headers: Vec<Header>,
    /// The body, de-chunked.
    pub body: Vec<u8>,
}

impl Response {
    /// Whether the body comes in chunks (`Transfer-Encoding: chunked`).
    pub fn is_chunked(&self) -> bool {
        self.values("transfer-encoding")
            .any(|v| v.eq_ignore_ascii_case(b"chunked"))
    }

    /// The announced `Content-Length`, if it is a number.
    pub fn content_length(&self) -> Option<u64> {
        self.header("content-length")
            .and_then(|v| std::str::from_utf8(v).ok())
            .and_then(|v| v.parse().ok())
    }

    /// The values of every line named `name` (ASCII case-insensitive).
    pub fn values<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a [u8]> + 'a {
        self.headers
            .iter()
            .filter(move |(n, _)| n.eq_ignore_ascii_case(name.as_bytes()))
            .map(|(_, v)| v.as_slice())
    }

    /// The value of the first line named `name`.
    pub fn header(&self, name: &str) -> Option<&[u8]> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name.as_bytes()))
            .map(|(_, v)| v.as_slice())
    }
}

/// Writes `bytes` to a fresh connection, reads until the server closes it,
/// and parses the response.
///
/// # Errors
/// Connection failures, timeouts, and responses that are not HTTP/1.x.
pub fn send_raw(addr: SocketAddr, bytes: &[u8]) -> io::Result<Response> {
    let mut stream = TcpStream::connect_timeout(&addr, TIMEOUT)?;
    stream.set_read_timeout(Some(TIMEOUT))?;
    stream.set_write_timeout(Some(TIMEOUT))?;
    stream.write_all(bytes)?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw)?;
    parse_response(&raw)
}

/// Parses a whole HTTP/1.x response: status line, header lines, and a body
/// framed by `Transfer-Encoding: chunked`, `Content-Length`, or EOF.
///
/// # Errors
/// Input that is not an HTTP/1.x response.
pub fn parse_response(raw: &[u8]) -> io::Result<Response> {
    let (length, response) = parse_head(raw)?.ok_or_else(|| {
        bad(format!(
            "no end of headers in {} bytes: {}",
            raw.len(),
            show(&raw[..raw.len().min(200)])
        ))
    })?;
    let rest = &raw[length..];
    let body = if response.is_chunked() {
        dechunk(rest).ok_or_else(|| bad("bad chunked body".into()))?
    } else if let Some(length) = response.content_length() {
        let length = usize::try_from(length).unwrap_or(usize::MAX);
        // A response to HEAD announces a length but has no body.
        rest[..length.min(rest.len())].to_vec()
    } else {
        rest.to_vec()
    };
    Ok(Response { body, ..response })
}

/// Parses the status line and header lines at the start of `raw` with
/// `httparse`: `None` while they are incomplete, else their length and the
/// response without its body.
///
/// # Errors
/// Input that is not an HTTP/1.x response head.
pub fn parse_head(raw: &[u8]) -> io::Result<Option<(usize, Response)>> {
    let mut fields = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut head = httparse::Response::new(&mut fields);
    let length = match head.parse(raw) {
        Ok(httparse::Status::Complete(length)) => length,
        Ok(httparse::Status::Partial) => return Ok(None),
        Err(e) => {
            let start = &raw[..raw.len().min(200)];
            return Err(bad(format!(
                "not an HTTP/1.x response ({e}): {}",
                show(start)
            )));
        }
    };
    let response = Response {
        status: head.code.unwrap_or_default(),
        headers: head
            .headers
            .iter()
            .map(|h| (h.name.as_bytes().to_vec(), h.value.trim_ascii().to_vec()))
            .collect(),
        body: Vec::new(),
    };
    Ok(Some((length, response)))
}

/// More header lines than any answer here carries (the hostile requests
/// repeat a line up to 50 times).
pub const MAX_HEADERS: usize = 256;

fn bad(what: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, what)
}

/// Decodes a chunked body; trailers are ignored. Empty input (a response to
/// HEAD) is an empty body.
fn dechunk(mut data: &[u8]) -> Option<Vec<u8>> {
    let mut body = Vec::new();
    while !data.is_empty() {
        let httparse::Status::Complete((start, size)) = httparse::parse_chunk_size(data).ok()?
        else {
            return None;
        };
        let size = usize::try_from(size).ok()?;
        data = &data[start..];
        if size == 0 {
            break;
        }
        body.extend_from_slice(data.get(..size)?);
        data = data.get(size + 2..)?;
    }
    Some(body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_content_length_body_and_repeated_headers() {
        let raw = b"HTTP/1.1 200 OK\r\nVary: a\r\nvary:  b \r\nContent-Length: 2\r\n\r\nhi";
        let response = parse_response(raw).unwrap();
        assert_eq!(response.status, 200);
        assert_eq!(response.values("VARY").collect::<Vec<_>>(), [b"a", b"b"]);
        assert_eq!(response.body, b"hi");
    }

    #[test]
    fn parses_chunked_body() {
        let raw = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2;x=y\r\nde\r\n0\r\n\r\n";
        assert_eq!(parse_response(raw).unwrap().body, b"abcde");
    }

    #[test]
    fn keeps_non_utf8_header_bytes() {
        let raw = b"HTTP/1.1 403 Forbidden\r\nX-Odd: \xff\xfe\r\ncontent-length: 0\r\n\r\n";
        let response = parse_response(raw).unwrap();
        assert_eq!(response.status, 403);
        assert_eq!(response.header("x-odd"), Some(&b"\xff\xfe"[..]));
    }

    #[test]
    fn writes_header_bytes_verbatim() {
        let request = Request::new("GET", "/a").header("Origin", b"\xff".to_vec());
        assert_eq!(
            request.to_bytes(),
            b"GET /a HTTP/1.1\r\nOrigin: \xff\r\nConnection: close\r\n\r\n"
        );
    }

    #[test]
    fn refuses_what_is_not_http() {
        assert!(parse_response(b"garbage").is_err());
        assert!(parse_response(b"SSH-2.0\r\n\r\n").is_err());
    }
}
