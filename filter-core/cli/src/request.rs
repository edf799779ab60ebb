//! The request to explain, from `--method`/`--url`/`--header` or from a raw
//! HTTP/1.1 request, reduced to what the engine reads.

use filter_core::Request;

/// A request as the proxy would hand it to the filter.
#[derive(Debug)]
pub struct HttpRequest {
    pub method: String,
    pub scheme: String,
    pub authority: String,
    pub path: String,
    /// Names lowercase, values as bytes, one entry per header line.
    headers: Vec<(String, Vec<u8>)>,
}

/// The header values the engine reads, several lines joined as a proxy joins them.
pub struct EngineHeaders {
    origin: Option<Vec<u8>>,
    request_method: Option<Vec<u8>>,
    request_headers: Option<Vec<u8>>,
    private_network: Option<Vec<u8>>,
    sec_fetch_site: Option<Vec<u8>>,
}

impl HttpRequest {
    /// # Errors
    /// What is wrong with the URL or a header.
    pub fn from_flags(method: &str, url: &str, headers: &[String]) -> Result<HttpRequest, String> {
        let (scheme, rest) = url.split_once("://").ok_or_else(|| {
            format!("--url \"{url}\" is not an absolute URL (scheme://host/path)")
        })?;
        let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
        let (authority, path) = rest.split_at(end);
        if authority.is_empty() {
            return Err(format!("--url \"{url}\" has no host"));
        }
        let path = if path.is_empty() || path.starts_with(['?', '#']) {
            format!("/{path}")
        } else {
            path.to_string()
        };
        let mut parsed = Vec::with_capacity(headers.len());
        for line in headers {
            parsed.push(
                header_line(line.as_bytes())
                    .ok_or_else(|| format!("--header \"{line}\" is not \"Name: value\""))?,
            );
        }
        Ok(HttpRequest {
            method: method.to_string(),
            scheme: scheme.to_ascii_lowercase(),
            authority: authority.to_string(),
            path,
            headers: parsed,
        })
    }

    /// A raw HTTP/1.1 request: request line, header lines, blank line. The
    /// scheme comes from an absolute-form target, or else `scheme`.
    ///
    /// # Errors
    /// What is wrong with the request.
    pub fn from_raw(raw: &[u8], scheme: &str) -> Result<HttpRequest, String> {
        let mut lines = raw
            .split(|&b| b == b'\n')
            .map(|l| l.strip_suffix(b"\r").unwrap_or(l));
        let request_line = lines
            .find(|l| !l.is_empty())
            .ok_or("the request on standard input is empty")?;
        let request_line = String::from_utf8_lossy(request_line).to_string();
        let mut parts = request_line.split_whitespace();
        let (Some(method), Some(target)) = (parts.next(), parts.next()) else {
            return Err(format!(
                "\"{request_line}\" is not a request line (METHOD /path HTTP/1.1)"
            ));
        };
        let mut headers: Vec<(String, Vec<u8>)> = Vec::new();
        for line in lines.take_while(|l| !l.is_empty()) {
            if let (Some(b' ' | b'\t'), Some((_, value))) = (line.first(), headers.last_mut()) {
                value.push(b' ');
                value.extend_from_slice(trim(line));
                continue;
            }
            headers.push(header_line(line).ok_or_else(|| {
                format!(
                    "\"{}\" is not a header line (Name: value)",
                    String::from_utf8_lossy(line)
                )
            })?);
        }
        let (scheme, authority, path) = match target.split_once("://") {
            Some((scheme, rest)) => {
                let end = rest.find('/').unwrap_or(rest.len());
                let path = if end == rest.len() { "/" } else { &rest[end..] };
                (
                    scheme.to_string(),
                    rest[..end].to_string(),
                    path.to_string(),
                )
            }
            None => {
                let host = headers
                    .iter()
                    .find(|(n, _)| n == "host")
                    .map(|(_, v)| String::from_utf8_lossy(v).to_string())
                    .ok_or("the request has no Host header and no absolute URL")?;
                (scheme.to_string(), host, target.to_string())
            }
        };
        Ok(HttpRequest {
            method: method.to_string(),
            scheme: scheme.to_ascii_lowercase(),
            authority,
            path,
            headers,
        })
    }

    /// The value of a header, several lines joined with `, ` (as the Fetch
    /// Standard combines them, and as proxies hand them on).
    fn header(&self, name: &str) -> Option<Vec<u8>> {
        let mut values = self
            .headers
            .iter()
            .filter(|(n, _)| n == name)
            .map(|(_, v)| v);
        let mut joined = values.next()?.clone();
        for value in values {
            joined.extend_from_slice(b", ");
            joined.extend_from_slice(value);
        }
        Some(joined)
    }

    pub fn engine_headers(&self) -> EngineHeaders {
        EngineHeaders {
            origin: self.header("origin"),
            request_method: self.header("access-control-request-method"),
            request_headers: self.header("access-control-request-headers"),
            private_network: self.header("access-control-request-private-network"),
            sec_fetch_site: self.header("sec-fetch-site"),
        }
    }

    pub fn engine_request<'a>(&'a self, headers: &'a EngineHeaders) -> Request<'a> {
        Request {
            method: self.method.as_bytes(),
            scheme: self.scheme.as_bytes(),
            authority: self.authority.as_bytes(),
            origin: headers.origin.as_deref(),
            access_control_request_method: headers.request_method.as_deref(),
            access_control_request_headers: headers.request_headers.as_deref(),
            access_control_request_private_network: headers.private_network.as_deref(),
            sec_fetch_site: headers.sec_fetch_site.as_deref(),
        }
    }

    /// The host without its port, as `match.hosts` compares it.
    pub fn host(&self) -> &str {
        crate::origin::split_host_port(&self.authority).0
    }

    pub fn url(&self) -> String {
        format!("{}://{}{}", self.scheme, self.authority, self.path)
    }
}

fn header_line(line: &[u8]) -> Option<(String, Vec<u8>)> {
    let colon = line.iter().position(|&b| b == b':')?;
    let name = std::str::from_utf8(trim(&line[..colon])).ok()?;
    if name.is_empty() || name.contains([' ', '\t']) {
        return None;
    }
    Some((name.to_ascii_lowercase(), trim(&line[colon + 1..]).to_vec()))
}

fn trim(mut s: &[u8]) -> &[u8] {
    while let [b' ' | b'\t', rest @ ..] = s {
        s = rest;
    }
    while let [rest @ .., b' ' | b'\t'] = s {
        s = rest;
    }
    s
}
