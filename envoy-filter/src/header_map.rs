//! A header map read in one host call and parsed in place.
//!
//! Each single-header read is a host call plus a re-entry into the VM to
//! allocate the answer. Under callgrind (Envoy 1.40, V8, a 14-header Chromium
//! request) one read costs about 10,700 instructions, the SDK's whole-map
//! read about 31,700, most of it in building a `String` and a `Vec` per
//! header. This reads Envoy's serialized map once and lends out slices of it.

use std::borrow::Cow;
use std::ptr::null_mut;

pub use proxy_wasm::types::MapType;

#[link(wasm_import_module = "env")]
extern "C" {
    fn proxy_get_header_map_pairs(
        map_type: MapType,
        return_map_data: *mut *mut u8,
        return_map_size: *mut usize,
    ) -> u32;
}

/// One of Envoy's header maps, as the bytes it serializes it to: the number
/// of headers (u32, little-endian), then each header's name and value
/// lengths (u32 each), then each name and value, each followed by a NUL.
pub struct HeaderMap(Vec<u8>);

impl HeaderMap {
    /// Reads the whole map; an error or a missing map reads as empty.
    pub fn read(map: MapType) -> HeaderMap {
        let mut data = null_mut();
        let mut size = 0;
        // SAFETY: the host writes a pointer and a length through pointers to
        // locals; on success the pointer is null or a buffer of that length
        // it allocated with this module's allocator (as the SDK's own
        // `get_map_bytes` takes it over).
        let bytes = unsafe {
            if proxy_get_header_map_pairs(map, &mut data, &mut size) == 0 && !data.is_null() {
                Vec::from_raw_parts(data, size, size)
            } else {
                Vec::new()
            }
        };
        HeaderMap(bytes)
    }

    /// Every header line as `(name, value)`, in Envoy's order. A map that is
    /// cut short ends early rather than panic.
    pub fn pairs(&self) -> impl Iterator<Item = (&[u8], &[u8])> {
        let bytes = self.0.as_slice();
        let u32_at = move |at: usize| -> Option<usize> {
            let word = bytes.get(at..at.checked_add(4)?)?;
            Some(u32::from_le_bytes([word[0], word[1], word[2], word[3]]) as usize)
        };
        let count = u32_at(0).unwrap_or(0);
        let mut lengths = 4;
        let mut data = count.saturating_mul(8).saturating_add(4);
        (0..count).map_while(move |_| {
            let (name_len, value_len) = (u32_at(lengths)?, u32_at(lengths + 4)?);
            let name = bytes.get(data..data.checked_add(name_len)?)?;
            let value_at = data + name_len + 1;
            let value = bytes.get(value_at..value_at.checked_add(value_len)?)?;
            lengths += 8;
            data = value_at + value_len + 1;
            Some((name, value))
        })
    }

    /// The lines parsed once, for looking several headers up.
    pub fn lines(&self) -> Lines<'_> {
        Lines(self.pairs().collect())
    }
}

/// A header map's lines as `(name, value)`.
pub struct Lines<'a>(Vec<(&'a [u8], &'a [u8])>);

impl<'a> Lines<'a> {
    /// The value of the (lower-case) `name`, its lines joined with `,` as
    /// Envoy joins those it stores inline (`Origin`, the
    /// `Access-Control-Request-*` headers); `None` when absent.
    pub fn get(&self, name: &[u8]) -> Option<Cow<'a, [u8]>> {
        let mut lines = self.0.iter().filter(|(n, _)| *n == name).map(|(_, v)| *v);
        let first = lines.next()?;
        Some(lines.fold(Cow::Borrowed(first), |mut joined, line| {
            let joined_mut = joined.to_mut();
            joined_mut.push(b',');
            joined_mut.extend_from_slice(line);
            joined
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::HeaderMap;

    /// Envoy's serialization of `pairs`.
    fn serialize(pairs: &[(&str, &str)]) -> Vec<u8> {
        let mut bytes = (pairs.len() as u32).to_le_bytes().to_vec();
        for (name, value) in pairs {
            bytes.extend_from_slice(&(name.len() as u32).to_le_bytes());
            bytes.extend_from_slice(&(value.len() as u32).to_le_bytes());
        }
        for (name, value) in pairs {
            bytes.extend_from_slice(name.as_bytes());
            bytes.push(0);
            bytes.extend_from_slice(value.as_bytes());
            bytes.push(0);
        }
        bytes
    }

    const PAIRS: &[(&str, &str)] = &[
        (":authority", "api.example.com"),
        ("sec-fetch-site", "same-origin"),
        ("origin", ""),
        ("sec-fetch-site", "cross-site"),
    ];

    #[test]
    fn reads_every_line_in_order() {
        let map = HeaderMap(serialize(PAIRS));
        let got: Vec<_> = map.pairs().collect();
        let want: Vec<_> = PAIRS
            .iter()
            .map(|(n, v)| (n.as_bytes(), v.as_bytes()))
            .collect();
        assert_eq!(got, want);
    }

    #[test]
    fn joins_repeated_lines_with_commas() {
        let map = HeaderMap(serialize(PAIRS));
        let map = map.lines();
        assert_eq!(
            map.get(b"sec-fetch-site").as_deref(),
            Some(&b"same-origin,cross-site"[..])
        );
        assert_eq!(map.get(b"origin").as_deref(), Some(&b""[..]));
        assert_eq!(map.get(b"referer"), None);
    }

    #[test]
    fn a_map_cut_short_yields_the_lines_before_the_cut() {
        let bytes = serialize(PAIRS);
        let whole_map = HeaderMap(bytes.clone());
        let whole: Vec<_> = whole_map.pairs().collect();
        for len in 0..bytes.len() {
            let map = HeaderMap(bytes[..len].to_vec());
            let got: Vec<_> = map.pairs().collect();
            assert_eq!(got, whole[..got.len()], "cut at {len}");
        }
        assert_eq!(HeaderMap(Vec::new()).pairs().count(), 0);
    }
}
