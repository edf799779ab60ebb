//! A recording upstream on 127.0.0.1: the origin server behind the proxy.
//!
//! It records every request it receives and answers `200` with a small body.
//! A test steers it through two request headers that the proxy forwards
//! untouched:
//! - `x-e2e-id`: names the request, so the test can ask whether it arrived
//!   ([`Upstream::saw`]); a request answered at the edge never does;
//! - `x-e2e-upstream`: hex of the header lines to answer with
//!   ([`instructions`]), so a case can have the upstream send its own CORS
//!   or `Vary` headers.
//!
//! HTTP/1.1 with keep-alive (the proxy pools connections), closing after a
//! request that says `Connection: close` (as the raw [`client`](crate::client)
//! does). Request bodies are read by `Content-Length` only, which is all a
//! proxy sends for these tests.

use crate::client;
use crate::vectors::Header;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;

/// The header naming a request.
pub const ID_HEADER: &str = "x-e2e-id";
/// The header carrying the response header lines, hex-encoded.
pub const ANSWER_HEADER: &str = "x-e2e-upstream";
/// The body of every response.
pub const BODY: &[u8] = b"upstream ok\n";

/// A request as the upstream received it.
#[derive(Debug, Clone)]
pub struct Recorded {
    /// The method.
    pub method: Vec<u8>,
    /// The request target.
    pub path: Vec<u8>,
    /// Every header line, in order, names as received.
    pub headers: Vec<Header>,
}

impl Recorded {
    /// The value of the first line named `name` (ASCII case-insensitive).
    pub fn header(&self, name: &str) -> Option<&[u8]> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name.as_bytes()))
            .map(|(_, v)| v.as_slice())
    }
}

/// The running upstream; stops accepting on drop.
pub struct Upstream {
    addr: SocketAddr,
    recorded: Arc<Mutex<Vec<Recorded>>>,
    stopping: Arc<AtomicBool>,
}

impl Upstream {
    /// Listens on a free port of 127.0.0.1.
    ///
    /// # Panics
    /// When no port can be bound.
    pub fn start() -> Upstream {
        Upstream::listen(true)
    }

    /// Like [`start`](Upstream::start), but records nothing: for floods of
    /// requests, whose record would only grow the test's memory.
    /// [`saw`](Upstream::saw) is then always false.
    pub fn start_unrecorded() -> Upstream {
        Upstream::listen(false)
    }

    fn listen(record: bool) -> Upstream {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the upstream");
        let addr = listener.local_addr().expect("upstream address");
        let recorded = Arc::new(Mutex::new(Vec::new()));
        let stopping = Arc::new(AtomicBool::new(false));
        let (log, stop) = (Arc::clone(&recorded), Arc::clone(&stopping));
        thread::spawn(move || {
            for stream in listener.incoming() {
                if stop.load(Ordering::Relaxed) {
                    break;
                }
                if let Ok(stream) = stream {
                    let log = Arc::clone(&log);
                    thread::spawn(move || serve(stream, &log, record));
                }
            }
        });
        Upstream {
            addr,
            recorded,
            stopping,
        }
    }

    /// Where it listens.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Every request received so far.
    pub fn requests(&self) -> Vec<Recorded> {
        self.recorded.lock().map(|r| r.clone()).unwrap_or_default()
    }

    /// Whether a request with `x-e2e-id: <id>` arrived.
    pub fn saw(&self, id: &str) -> bool {
        self.recorded.lock().is_ok_and(|requests| {
            requests
                .iter()
                .any(|r| r.header(ID_HEADER) == Some(id.as_bytes()))
        })
    }
}

impl Drop for Upstream {
    fn drop(&mut self) {
        self.stopping.store(true, Ordering::Relaxed);
        // Wake the accept loop so it sees the flag.
        let _ = TcpStream::connect(self.addr);
    }
}

/// The request header that makes the upstream answer with `headers`.
pub fn instructions(headers: &[Header]) -> Header {
    let mut lines = Vec::new();
    for (name, value) in headers {
        lines.extend_from_slice(name);
        lines.extend_from_slice(b": ");
        lines.extend_from_slice(value);
        lines.extend_from_slice(b"\r\n");
    }
    (ANSWER_HEADER.into(), hex(&lines).into_bytes())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(text: &[u8]) -> Option<Vec<u8>> {
    text.chunks(2)
        .map(|pair| {
            let pair = std::str::from_utf8(pair).ok()?;
            u8::from_str_radix(pair, 16).ok()
        })
        .collect()
}

/// Answers requests on one connection until the peer closes it.
fn serve(stream: TcpStream, log: &Mutex<Vec<Recorded>>, record: bool) {
    let Ok(mut writer) = stream.try_clone() else {
        return;
    };
    let mut reader = BufReader::new(stream);
    while let Ok(Some(request)) = read_request(&mut reader) {
        let extra = request
            .header(ANSWER_HEADER)
            .and_then(unhex)
            .unwrap_or_default();
        let head_only = request.method == b"HEAD";
        let close = request
            .header("connection")
            .is_some_and(|v| v.eq_ignore_ascii_case(b"close"));
        if record {
            if let Ok(mut log) = log.lock() {
                log.push(request);
            }
        }
        let mut response = b"HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\n".to_vec();
        response.extend_from_slice(&extra);
        response.extend_from_slice(format!("content-length: {}\r\n\r\n", BODY.len()).as_bytes());
        if !head_only {
            response.extend_from_slice(BODY);
        }
        if writer.write_all(&response).is_err() || close {
            return;
        }
    }
}

/// One request, or `None` at a clean end of the connection. The head is
/// read up to its empty line, then parsed with `httparse`.
fn read_request(reader: &mut impl BufRead) -> io::Result<Option<Recorded>> {
    let mut head = Vec::new();
    loop {
        let start = head.len();
        if reader.read_until(b'\n', &mut head)? == 0 {
            return Ok(None);
        }
        if start > 0 && matches!(&head[start..], b"\r\n" | b"\n") {
            break;
        }
    }
    let mut fields = [httparse::EMPTY_HEADER; client::MAX_HEADERS];
    let mut parsed = httparse::Request::new(&mut fields);
    parsed
        .parse(&head)
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
    let request = Recorded {
        method: parsed.method.unwrap_or_default().as_bytes().to_vec(),
        path: parsed.path.unwrap_or_default().as_bytes().to_vec(),
        headers: parsed
            .headers
            .iter()
            .map(|h| (h.name.as_bytes().to_vec(), h.value.trim_ascii().to_vec()))
            .collect(),
    };
    let length = request
        .header("content-length")
        .and_then(|v| std::str::from_utf8(v).ok())
        .and_then(|v| v.parse::<u64>().ok())
        .unwrap_or(0);
    io::copy(&mut reader.take(length), &mut io::sink())?;
    Ok(Some(request))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_requests_and_answers_as_instructed() {
        let upstream = Upstream::start();
        let answer = instructions(&[(b"Vary".to_vec(), b"Accept-Encoding".to_vec())]);
        let response = client::Request::new("GET", "/x")
            .header("Host", "h")
            .header(ID_HEADER, "one")
            .header(answer.0, answer.1)
            .send(upstream.addr())
            .unwrap();
        assert_eq!(response.status, 200);
        assert_eq!(response.header("vary"), Some(&b"Accept-Encoding"[..]));
        assert_eq!(response.body, BODY);
        assert!(upstream.saw("one"));
        assert!(!upstream.saw("two"));
        assert_eq!(upstream.requests()[0].path, b"/x");
    }

    #[test]
    fn hex_round_trips_every_byte() {
        let all: Vec<u8> = (0..=255).collect();
        assert_eq!(unhex(hex(&all).as_bytes()), Some(all));
    }
}
