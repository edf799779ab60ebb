//! WebSocket upgrades through the Worker under real workerd, with a real
//! WebSocket server as the upstream (tungstenite) and a real WebSocket
//! client.
//!
//! Inside a policy's scope the upstream's `101 Switching Protocols` must come
//! back as the upstream sent it, its connection included: messages go both
//! ways through the Worker, and the handshake's headers are the upstream's,
//! with no CORS header added or removed (browsers apply no CORS to
//! WebSockets). The policy still decides: with `disallowed: reject`, an
//! upgrade from a disallowed origin is refused at the edge, which is what
//! stops cross-site WebSocket hijacking.
//!
//! Needs workerd (`scripts/setup.sh`) and the built Worker
//! (`scripts/build-wasm.sh worker`); fails, never skips, without them.

use e2e::workerd::{CorsConfig, Workerd};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;
use tungstenite::client::IntoClientRequest;
use tungstenite::handshake::server::{Request, Response};
use tungstenite::http::HeaderValue;
use tungstenite::{Message, WebSocket};

const CONFIG: &str = r#"{"policies": [
  {"name": "chat", "match": {"paths": ["/ws/*"]},
   "allow_origins": ["https://app.example.com"], "allow_credentials": true,
   "disallowed": "reject"}
]}"#;

/// Bounds every read, so a broken pass-through fails instead of hanging.
const PATIENCE: Duration = Duration::from_secs(10);

/// Each handshake the upstream answered: its path and its `Origin`.
type Handshakes = Mutex<Vec<(String, Option<String>)>>;

/// A WebSocket echo server on 127.0.0.1: it answers each text or binary
/// message with `echo: ` and the message, adds `x-upstream: websocket` to its
/// handshake answer, and records each handshake's path and `Origin`.
struct EchoServer {
    addr: SocketAddr,
    handshakes: Arc<Handshakes>,
}

impl EchoServer {
    fn start() -> EchoServer {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the WebSocket server");
        let addr = listener.local_addr().expect("its address");
        let handshakes = Arc::new(Mutex::new(Vec::new()));
        let record = Arc::clone(&handshakes);
        thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let record = Arc::clone(&record);
                thread::spawn(move || echo(stream, &record));
            }
        });
        EchoServer { addr, handshakes }
    }

    fn handshakes(&self) -> Vec<(String, Option<String>)> {
        self.handshakes.lock().unwrap().clone()
    }
}

fn echo(stream: TcpStream, record: &Handshakes) {
    let _ = stream.set_read_timeout(Some(PATIENCE));
    // (The signature is tungstenite's, and so is the size of its error.)
    #[allow(clippy::result_large_err)]
    let callback = |request: &Request, mut response: Response| {
        let origin = request
            .headers()
            .get("origin")
            .and_then(|v| v.to_str().ok())
            .map(String::from);
        record
            .lock()
            .unwrap()
            .push((request.uri().path().to_owned(), origin));
        response
            .headers_mut()
            .insert("x-upstream", HeaderValue::from_static("websocket"));
        Ok(response)
    };
    let Ok(mut socket) = tungstenite::accept_hdr(stream, callback) else {
        return;
    };
    while let Ok(message) = socket.read() {
        let reply = match message {
            Message::Text(text) => Message::text(format!("echo: {text}")),
            Message::Binary(bytes) => Message::binary([b"echo: ".as_slice(), &bytes].concat()),
            Message::Close(_) => break,
            _ => continue,
        };
        if socket.send(reply).is_err() {
            break;
        }
    }
}

fn start_workerd(upstream: SocketAddr) -> Workerd {
    let origin_url = format!("http://{upstream}");
    Workerd::start(CorsConfig::Text(CONFIG), Some(&origin_url)).unwrap_or_else(|failure| {
        panic!(
            "workerd did not start ({:?}):\n{}",
            failure.status, failure.log
        )
    })
}

/// Opens a WebSocket to `path` through the Worker, from a page of `origin`.
fn connect(
    workerd: &Workerd,
    path: &str,
    origin: &str,
) -> Result<
    (
        WebSocket<TcpStream>,
        tungstenite::handshake::client::Response,
    ),
    tungstenite::Error,
> {
    let mut request = format!("ws://api.example.com{path}")
        .into_client_request()
        .expect("a WebSocket request");
    request
        .headers_mut()
        .insert("origin", HeaderValue::from_str(origin).expect("an origin"));
    let stream = TcpStream::connect(workerd.addr()).expect("connect to workerd");
    stream
        .set_read_timeout(Some(PATIENCE))
        .expect("read timeout");
    tungstenite::client(request, stream).map_err(|error| match error {
        tungstenite::HandshakeError::Failure(error) => error,
        tungstenite::HandshakeError::Interrupted(_) => {
            panic!("the handshake was interrupted on a blocking socket")
        }
    })
}

#[test]
fn an_upgrade_in_scope_passes_through_untouched() {
    let upstream = EchoServer::start();
    let workerd = start_workerd(upstream.addr);
    let (mut socket, handshake) =
        connect(&workerd, "/ws/chat?room=1", "https://app.example.com").expect("upgraded");

    assert_eq!(handshake.status(), 101);
    assert_eq!(
        handshake
            .headers()
            .get("x-upstream")
            .map(HeaderValue::as_bytes),
        Some(b"websocket".as_slice()),
        "the handshake answer is not the upstream's: {:?}",
        handshake.headers()
    );
    for name in handshake.headers().keys() {
        assert!(
            !name.as_str().starts_with("access-control-") && name != "vary",
            "the Worker added {name} to the upgrade: {:?}",
            handshake.headers()
        );
    }

    for round in 0..3 {
        socket
            .send(Message::text(format!("hello {round}")))
            .expect("send text");
        assert_eq!(
            socket.read().expect("a text reply"),
            Message::text(format!("echo: hello {round}"))
        );
    }
    socket
        .send(Message::binary(vec![0, 159, 146, 150]))
        .expect("send binary");
    assert_eq!(
        socket.read().expect("a binary reply"),
        Message::binary(b"echo: \x00\x9f\x92\x96".to_vec())
    );
    socket.close(None).expect("close");
    // The close handshake completes through the Worker too.
    while socket.read().is_ok() {}

    assert_eq!(
        upstream.handshakes(),
        [(
            "/ws/chat".to_owned(),
            Some("https://app.example.com".to_owned())
        )]
    );
    assert!(
        workerd.crash_lines().is_empty(),
        "{:?}",
        workerd.crash_lines()
    );
}

#[test]
fn an_upgrade_from_a_disallowed_origin_is_refused_at_the_edge() {
    let upstream = EchoServer::start();
    let workerd = start_workerd(upstream.addr);
    match connect(&workerd, "/ws/chat", "https://evil.example.net") {
        Err(tungstenite::Error::Http(response)) => assert_eq!(response.status(), 403),
        Err(other) => panic!("expected a 403, got {other}"),
        Ok((_, response)) => panic!("upgraded: {response:?}"),
    }
    assert!(upstream.handshakes().is_empty());
    assert_eq!(
        workerd
            .wait_for_denials(1, PATIENCE)
            .first()
            .map(|d| d.outcome.as_str()),
        Some("actual_rejected")
    );
}
