//! The request to explain, from `--method`/`--url`/`--header` or from a raw
//! HTTP/1.1 request, reduced to what the engine reads.

use filter_core::Request;
use http::Uri;

/// A request as the proxy would hand it to the filter.
#[derive(Debug)]
pub struct HttpRequest {
    pub method: String,
    pub scheme: String,
    pub authority: String,
    pub path: String,
    /// The values of the [`ENGINE_HEADERS`], in that order.
    engine_headers: [Option<Vec<u8>>; 5],
}

/// The request headers the engine reads.
const ENGINE_HEADERS: [&str; 5] = [
    "origin",
    "access-control-request-method",
    "access-control-request-headers",
    "access-control-request-private-network",
    "sec-fetch-site",
];

/// The values of the [`ENGINE_HEADERS`] among `headers` (names lowercase,
/// one entry per line), several lines joined with `, ` as the Fetch
/// Standard combines them, and as proxies hand them on.
fn engine_headers(headers: &[(String, Vec<u8>)]) -> [Option<Vec<u8>>; 5] {
    ENGINE_HEADERS.map(|name| {
        let values: Vec<&[u8]> = (headers.iter())
            .filter(|(n, _)| n == name)
            .map(|(_, v)| v.as_slice())
            .collect();
        (!values.is_empty()).then(|| values.join(&b", "[..]))
    })
}

impl HttpRequest {
    /// # Errors
    /// What is wrong with the URL or a header.
    pub fn from_flags(method: &str, url: &str, headers: &[String]) -> Result<HttpRequest, String> {
        let uri: Uri = url.parse().map_err(|e| format!("--url \"{url}\": {e}"))?;
        let (Some(scheme), Some(authority)) = (uri.scheme_str(), uri.authority()) else {
            return Err(format!(
                "--url \"{url}\" is not an absolute URL (scheme://host/path)"
            ));
        };
        let mut parsed = Vec::with_capacity(headers.len());
        for line in headers {
            let (name, value) = (line.split_once(':'))
                .filter(|(name, _)| !name.is_empty() && !name.contains([' ', '\t']))
                .ok_or_else(|| format!("--header \"{line}\" is not \"Name: value\""))?;
            parsed.push((name.to_ascii_lowercase(), value.trim().as_bytes().to_vec()));
        }
        Ok(HttpRequest {
            method: method.to_string(),
            scheme: scheme.to_ascii_lowercase(),
            authority: authority.to_string(),
            path: uri.path_and_query().map_or("/", |p| p.as_str()).to_string(),
            engine_headers: engine_headers(&parsed),
        })
    }

    /// A raw HTTP/1.1 request: request line, header lines, blank line. The
    /// scheme comes from an absolute-form target, or else `scheme`.
    ///
    /// # Errors
    /// What is wrong with the request.
    pub fn from_raw(raw: &[u8], scheme: &str) -> Result<HttpRequest, String> {
        // A pasted request often lacks the blank line that ends its headers.
        let mut text = raw.trim_ascii().to_vec();
        text.extend_from_slice(b"\r\n\r\n");
        let mut lines = [httparse::EMPTY_HEADER; 100];
        let mut request = httparse::Request::new(&mut lines);
        request
            .parse(&text)
            .map_err(|e| format!("the request on standard input is not HTTP/1.1: {e}"))?;
        let (Some(method), Some(target)) = (request.method, request.path) else {
            return Err("the request on standard input is not HTTP/1.1".into());
        };
        let headers: Vec<(String, Vec<u8>)> = (request.headers.iter())
            .map(|h| (h.name.to_ascii_lowercase(), h.value.to_vec()))
            .collect();
        let uri: Uri = target
            .parse()
            .map_err(|e| format!("request target \"{target}\": {e}"))?;
        let (scheme, authority) = match (uri.scheme_str(), uri.authority()) {
            (Some(scheme), Some(authority)) => (scheme, authority.to_string()),
            _ => match headers.iter().find(|(name, _)| name == "host") {
                Some((_, host)) => (scheme, String::from_utf8_lossy(host).into_owned()),
                None => return Err("the request has no Host header and no absolute URL".into()),
            },
        };
        Ok(HttpRequest {
            method: method.to_string(),
            scheme: scheme.to_ascii_lowercase(),
            authority,
            path: uri.path_and_query().map_or("/", |p| p.as_str()).to_string(),
            engine_headers: engine_headers(&headers),
        })
    }

    /// The request as the engine reads it.
    pub fn engine_request(&self) -> Request<'_> {
        let [origin, method, names, private_network, site] = &self.engine_headers;
        Request {
            method: self.method.as_bytes(),
            scheme: self.scheme.as_bytes(),
            authority: self.authority.as_bytes(),
            origin: origin.as_deref(),
            access_control_request_method: method.as_deref(),
            access_control_request_headers: names.as_deref(),
            access_control_request_private_network: private_network.as_deref(),
            sec_fetch_site: site.as_deref(),
        }
    }

    /// The host without its port, as `match.hosts` compares it.
    pub fn host(&self) -> &str {
        match self.authority.rsplit_once(':') {
            Some((host, port)) if !port.contains(']') => host,
            _ => &self.authority,
        }
    }

    pub fn url(&self) -> String {
        format!("{}://{}{}", self.scheme, self.authority, self.path)
    }
}
