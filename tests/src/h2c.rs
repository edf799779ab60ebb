//! An HTTP/2 client over plain TCP with prior knowledge (h2c), one request per
//! connection, for running the same requests through Envoy over HTTP/2 that
//! [`client`](crate::client) sends over HTTP/1.1. Browsers speak HTTP/2 to
//! edges; Envoy's HTTP/2 codec hands the filter headers of its own making.
//!
//! A [`Request`] is turned into HTTP/2 the way a browser's would be: `Host`
//! becomes `:authority`, names are lowercased, repeated lines stay separate
//! fields. What HTTP/2 cannot carry ([`to_http2`] says which) is refused
//! with the reason, never sent in some altered form.

use crate::client::{Request, Response};
use bytes::Bytes;
use std::io;
use std::net::SocketAddr;
use std::time::Duration;

/// How long an exchange may take; a proxy that hangs fails the test instead.
const TIMEOUT: Duration = Duration::from_secs(20);

/// Header fields RFC 9113 section 8.2.2 forbids: they describe an HTTP/1.1
/// connection, which HTTP/2 has none of.
const CONNECTION_SPECIFIC: [&str; 5] = [
    "connection",
    "keep-alive",
    "proxy-connection",
    "transfer-encoding",
    "upgrade",
];

/// The request as HTTP/2 carries it.
///
/// # Errors
/// Why HTTP/2 cannot express it: a method, authority or target the
/// pseudo-headers cannot hold, a header name or value HTTP/2 forbids, or a
/// connection-specific header.
pub fn to_http2(request: &Request) -> Result<http::Request<()>, String> {
    let show = crate::vectors::show;
    let method = http::Method::from_bytes(&request.method)
        .map_err(|_| format!("method {} is no HTTP/2 :method", show(&request.method)))?;
    let hosts: Vec<&[u8]> = request
        .headers
        .iter()
        .filter(|(name, _)| name.eq_ignore_ascii_case(b"host"))
        .map(|(_, value)| value.as_slice())
        .collect();
    let mut uri = http::Uri::builder();
    // RFC 9113 8.3.1: a client sends :authority, without userinfo.
    match hosts.as_slice() {
        [] => return Err("no Host: an HTTP/2 client always sends :authority".into()),
        [host] if host.contains(&b'@') => {
            return Err(format!(
                "Host {}: :authority never holds userinfo",
                show(host)
            ))
        }
        [host] => {
            let authority = http::uri::Authority::try_from(*host)
                .map_err(|_| format!("Host {} is no HTTP/2 :authority", show(host)))?;
            uri = uri.scheme("http").authority(authority);
        }
        _ => return Err("several Host lines: HTTP/2 has one :authority".into()),
    }
    let uri = uri
        .path_and_query(request.target.as_slice())
        .build()
        .map_err(|_| {
            format!(
                "target {} is no HTTP/2 :path (RFC 9113 8.3.1: a URI path, where a raw \
                 byte above 0x7F has no place)",
                show(&request.target)
            )
        })?;
    let mut builder = http::Request::builder().method(method).uri(uri);
    for (name, value) in &request.headers {
        if name.eq_ignore_ascii_case(b"host") {
            continue;
        }
        let lower = name.to_ascii_lowercase();
        if CONNECTION_SPECIFIC.iter().any(|n| n.as_bytes() == lower) {
            return Err(format!("{} is connection-specific", show(name)));
        }
        let name = http::HeaderName::from_bytes(name)
            .map_err(|_| format!("header name {} is not a token", show(name)))?;
        // RFC 9113 8.2.1 forbids NUL, CR and LF; this client refuses every
        // control character but tab, as browsers do.
        let value = http::HeaderValue::from_bytes(value)
            .map_err(|_| format!("{name}: {} holds a control character", show(value)))?;
        builder = builder.header(name, value);
    }
    builder.body(()).map_err(|e| e.to_string())
}

/// Sends `request` over a new h2c connection to `addr` and reads the answer.
///
/// # Errors
/// The request cannot be expressed over HTTP/2 ([`to_http2`]), the
/// connection failed, the stream was reset, or the answer took too long.
pub fn send(addr: SocketAddr, request: &Request) -> io::Result<Response> {
    let request = to_http2(request).map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .enable_time()
        .build()?;
    runtime.block_on(async {
        tokio::time::timeout(TIMEOUT, exchange(addr, request))
            .await
            .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "no HTTP/2 answer in time"))?
    })
}

async fn exchange(addr: SocketAddr, request: http::Request<()>) -> io::Result<Response> {
    let tcp = tokio::net::TcpStream::connect(addr).await?;
    let (client, connection) = h2::client::handshake(tcp).await.map_err(broken)?;
    tokio::spawn(async move {
        // Ends when the client is dropped; its errors reach the stream too.
        let _ = connection.await;
    });
    let mut client: h2::client::SendRequest<Bytes> = client.ready().await.map_err(broken)?;
    let (response, _) = client.send_request(request, true).map_err(broken)?;
    let response = response.await.map_err(broken)?;
    let status = response.status().as_u16();
    let headers = response
        .headers()
        .iter()
        .map(|(name, value)| (name.as_str().as_bytes().to_vec(), value.as_bytes().to_vec()))
        .collect();
    let mut body = response.into_body();
    let mut bytes = Vec::new();
    while let Some(chunk) = body.data().await {
        let chunk = chunk.map_err(broken)?;
        let _ = body.flow_control().release_capacity(chunk.len());
        bytes.extend_from_slice(&chunk);
    }
    Ok(Response {
        status,
        headers,
        body: bytes,
    })
}

fn broken(error: h2::Error) -> io::Error {
    io::Error::other(format!("HTTP/2: {error}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_becomes_the_authority_and_names_are_lowercased() {
        let request = Request::new("OPTIONS", "/a?b")
            .header("Host", "api.example.com")
            .header("Origin", "https://app.example.com")
            .header("X-Two", "1")
            .header("x-two", "2");
        let http = to_http2(&request).unwrap();
        assert_eq!(http.uri().to_string(), "http://api.example.com/a?b");
        assert_eq!(
            http.headers().get("origin").unwrap(),
            "https://app.example.com"
        );
        assert_eq!(http.headers().get_all("x-two").iter().count(), 2);
        assert!(http.headers().get("host").is_none());
    }

    #[test]
    fn refuses_what_http2_cannot_carry() {
        let refused = |request: Request| to_http2(&request).unwrap_err();
        let with_host = || Request::new("GET", "/").header("Host", "h");
        assert!(refused(with_host().header("Connection", "close")).contains("connection-specific"));
        assert!(refused(with_host().header("X", b"a\x01".to_vec())).contains("control character"));
        assert!(refused(Request::new("GET", "/")).contains("no Host"));
        assert!(refused(Request::new("GET", "/").header("Host", "u@h")).contains("userinfo"));
        assert!(refused(
            Request::new("GET", "/")
                .header("Host", "a")
                .header("Host", "b")
        )
        .contains("several Host"));
    }
}
