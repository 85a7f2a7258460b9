//! Whole JSON answers of the routes that scan many tasks (the dashboard,
//! task lists, a unit's roll-up), kept while they cannot differ.
//!
//! An answer depends on the request (path, query string without
//! `min_position`, the token's unit when reads need one), on the read model
//! (its file and applied position) and on the instant flags are judged at.
//! The instant matters only through the flags overdue, due soon and stale,
//! which change at known instants ([`ReadModel::clock_window`]): an answer
//! computed at one instant is the answer at every instant of the same
//! window. So an answer is served again, byte for byte, while the read
//! model stays at its position and the clock stays in its window.
//!
//! One request per answer computes it; the others asking meanwhile do not
//! compute the same thing side by side. An answer computed after a request
//! arrived serves that request too: the read model reached that position
//! while the request was open.
//!
//! While reports arrive, the read model moves on several times a second and
//! each move would make the next request pay the whole computation (at 100
//! districts, 100-200 ms for the dashboard, BENCHMARKS.md). So an answer
//! kept a moment before serves while its successor is computed: a request
//! that finds the kept answer outdated, but computed at most [`MAX_STALE`]
//! ago, of the same read-model file and clock window, and at least at the
//! request's `min_position`, gets it at once; if nobody is computing the
//! next one, that request starts it in the background, for the requests
//! after it. Every answer carries its own `X-Dotpha-Position`, so a client
//! sees how current it is, and a client that must see its own write asks
//! with `min_position` (the page does, after each write and each live
//! position). Only a request that no kept answer serves waits for a
//! computation (one computation per answer, however many wait). So an
//! answer is never older than [`MAX_STALE`] plus one computation, and a
//! reader alone gets the newest answer once the one it was given is
//! [`MAX_STALE`] old.
//!
//! A kept answer is also kept as it is sent: its `ETag` (from its JSON)
//! and its brotli encoding are made once, when it is computed, and a gzip
//! encoding the first time a client that takes no brotli asks, so serving
//! it again costs neither a hash nor a compression of its bytes (a
//! dashboard of 100 districts is 2 MB of JSON).
//!
//! [`ReadModel::clock_window`]: dotpha_views::ReadModel::clock_window

use std::{
    collections::HashMap,
    path::{Path, PathBuf},
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use axum::{
    http::{HeaderMap, HeaderValue, Uri, header},
    response::{IntoResponse, Response},
};
use bytes::Bytes;
use dotpha_views::ReadModel;
use sha2::{Digest, Sha256};

use crate::error::ApiError;

/// At most this many answers are kept.
pub(crate) const MAX_ANSWERS: usize = 512;
/// At most this many bytes of answers are kept.
pub(crate) const MAX_ANSWER_BYTES: usize = 64 * 1024 * 1024;
/// How old a kept answer may be and still serve a request while its
/// successor is computed (see the module's documentation): a person
/// reloading a page cannot tell one second, and it covers the computation
/// of the largest answer (the dashboard at 100 districts, BENCHMARKS.md) on
/// a busy machine.
pub const MAX_STALE: Duration = Duration::from_secs(1);

/// One kept answer.
#[derive(Clone)]
pub(crate) struct Kept {
    file: PathBuf,
    /// The read model's position it reflects.
    pub(crate) position: u64,
    /// The instants `[from, until)` it holds for.
    from: i64,
    until: i64,
    /// The JSON.
    pub(crate) body: Bytes,
    /// Its weak `ETag`, from the JSON: the same for every encoding of it.
    etag: HeaderValue,
    /// The JSON in brotli, when it is long enough to compress.
    br: Option<Bytes>,
    /// The JSON in gzip, made the first time it is asked for.
    gzip: Arc<std::sync::OnceLock<Bytes>>,
    /// When it was computed.
    computed: Instant,
}

/// Answers shorter than this are sent as they are (compressing them gains
/// less than the header it costs).
pub(crate) const MIN_COMPRESSED_BYTES: usize = 1024;
/// The compression quality, brotli's and gzip's alike: brotli's own default
/// is its best, 11, which took hundreds of milliseconds for a 2 MB
/// dashboard; at 4 it takes tens and still shrinks JSON several-fold
/// (BENCHMARKS.md, HTTP API).
pub(crate) const COMPRESSION_QUALITY: u32 = 4;
/// brotli's window, as a power of two (RFC 7932 §9.1, `WBITS`): 256 KiB.
/// brotli's default (22, 4 MiB) made compressing the 2.3 MB dashboard at
/// 100 districts take 15 MB beside it, the largest share of `dotpha up`'s
/// peak after a million events; at 18 it takes 7 MB, as fast, and the
/// answer is 27 KB instead of 17 KB (BENCHMARKS.md, "Resident memory").
pub(crate) const COMPRESSION_WINDOW_BITS: i32 = 18;

/// The encodings a kept answer is sent in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Encoding {
    /// As it is.
    Identity,
    /// gzip (RFC 1952).
    Gzip,
    /// brotli (RFC 7932).
    Br,
}

impl Encoding {
    /// The encoding a request's `Accept-Encoding` (RFC 9110 §12.5.3) prefers
    /// among brotli, gzip and none: brotli when acceptable, else gzip, else
    /// none; a coding with `q=0` is not acceptable, and `*` stands for any
    /// coding not named.
    pub(crate) fn preferred(headers: &HeaderMap) -> Encoding {
        let q = |name: &str| -> Option<f32> {
            let mut star = None;
            for value in headers.get_all(header::ACCEPT_ENCODING) {
                let Ok(value) = value.to_str() else { continue };
                for item in value.split(',') {
                    let mut parts = item.split(';');
                    let coding = parts.next().unwrap_or("").trim();
                    let weight = parts
                        .filter_map(|p| p.trim().strip_prefix("q="))
                        .filter_map(|w| w.trim().parse::<f32>().ok())
                        .next()
                        .unwrap_or(1.0);
                    if coding.eq_ignore_ascii_case(name) {
                        return Some(weight);
                    }
                    if coding == "*" {
                        star = Some(weight);
                    }
                }
            }
            star
        };
        let (br, gzip) = (q("br").unwrap_or(0.0), q("gzip").unwrap_or(0.0));
        if br > 0.0 && br >= gzip {
            Encoding::Br
        } else if gzip > 0.0 {
            Encoding::Gzip
        } else {
            Encoding::Identity
        }
    }
}

impl Kept {
    /// The kept form of `body`, at `position` of `file`, holding for the
    /// instants `[from, until)`: its `ETag` and brotli encoding made now.
    pub(crate) fn new(file: &Path, position: u64, (from, until): (i64, i64), body: Bytes) -> Kept {
        let etag = weak_etag(&body);
        let br = (body.len() >= MIN_COMPRESSED_BYTES).then(|| compress_br(&body));
        Kept {
            file: file.to_owned(),
            position,
            from,
            until,
            body,
            etag,
            br,
            gzip: Arc::default(),
            computed: Instant::now(),
        }
    }

    /// The bytes it holds: the JSON and its brotli encoding (a gzip
    /// encoding made later is not counted).
    fn size(&self) -> usize {
        self.body.len() + self.br.as_ref().map_or(0, Bytes::len)
    }

    /// Whether it answers a request that found the read model `file` at
    /// `position`, at instant `now`.
    pub(crate) fn serves(&self, file: &Path, position: u64, now: i64) -> bool {
        self.file == file && self.position >= position && self.from <= now && now < self.until
    }

    /// The response for a request that takes `encoding`, with
    /// `X-Dotpha-Position` (`position_header`) and the answer's `ETag`.
    pub(crate) fn response(&self, encoding: Encoding, position_header: &'static str) -> Response {
        let (body, coding) = match (encoding, &self.br) {
            (Encoding::Br, Some(br)) => (br.clone(), Some("br")),
            (Encoding::Gzip, Some(_)) => (
                self.gzip.get_or_init(|| compress_gzip(&self.body)).clone(),
                Some("gzip"),
            ),
            _ => (self.body.clone(), None),
        };
        let mut response = (
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            )],
            body,
        )
            .into_response();
        let headers = response.headers_mut();
        headers.insert(position_header, HeaderValue::from(self.position));
        headers.insert(header::ETAG, self.etag.clone());
        if self.br.is_some() {
            headers.append(header::VARY, HeaderValue::from_static("accept-encoding"));
        }
        if let Some(coding) = coding {
            headers.insert(header::CONTENT_ENCODING, HeaderValue::from_static(coding));
        }
        response
    }

    /// Whether it may answer, while its successor is being computed, a
    /// request at instant `now` that needs at least position `min`: same
    /// file and clock window, computed at most [`MAX_STALE`] ago.
    pub(crate) fn serves_meanwhile(&self, file: &Path, min: u64, now: i64) -> bool {
        self.serves(file, min, now) && self.computed.elapsed() <= MAX_STALE
    }
}

/// The weak `ETag` of a JSON answer: `W/"` and the first 12 bytes of its
/// SHA-256 in hex, as `layers::validators` tags every other answer.
pub(crate) fn weak_etag(body: &[u8]) -> HeaderValue {
    let digest = Sha256::digest(body);
    HeaderValue::from_str(&format!("W/\"{}\"", hex::encode(&digest[..12])))
        .unwrap_or_else(|_| HeaderValue::from_static("W/\"\""))
}

fn compress_br(body: &[u8]) -> Bytes {
    let mut out = Vec::with_capacity(body.len() / 4);
    let params = brotli::enc::BrotliEncoderParams {
        quality: COMPRESSION_QUALITY as i32,
        lgwin: COMPRESSION_WINDOW_BITS,
        size_hint: body.len(),
        ..Default::default()
    };
    // Writing into a Vec cannot fail.
    let _ = brotli::BrotliCompress(&mut &body[..], &mut out, &params);
    out.into()
}

fn compress_gzip(body: &[u8]) -> Bytes {
    use std::io::Write;
    let mut encoder = flate2::write::GzEncoder::new(
        Vec::with_capacity(body.len() / 4),
        flate2::Compression::new(COMPRESSION_QUALITY),
    );
    // Writing into a Vec cannot fail.
    let _ = encoder.write_all(body);
    encoder.finish().unwrap_or_default().into()
}

/// The slot of one answer: the answer kept, and a lock whoever computes
/// the next one holds.
#[derive(Default)]
pub(crate) struct SlotInner {
    pub(crate) computing: Arc<tokio::sync::Mutex<()>>,
    kept: Mutex<Option<Kept>>,
}

impl SlotInner {
    /// The answer kept (its body shared, not copied).
    pub(crate) fn kept(&self) -> Option<Kept> {
        self.kept.lock().ok().and_then(|k| k.clone())
    }
}

/// A shared slot.
pub(crate) type Slot = Arc<SlotInner>;

struct Window {
    file: PathBuf,
    position: u64,
    from: i64,
    until: i64,
}

/// The kept answers.
#[derive(Default)]
pub(crate) struct Answers {
    slots: Mutex<Slots>,
    /// The clock window last computed: the same for every answer at one
    /// position, so one scan of the tasks serves them all.
    window: Mutex<Option<Window>>,
}

#[derive(Default)]
struct Slots {
    by_key: HashMap<String, Slot>,
    bytes: usize,
}

/// The key of a request: the token's unit (when reads need one), the path
/// and the query string without `min_position`, which only makes the
/// request wait.
pub(crate) fn key(uri: &Uri, unit: Option<&str>) -> String {
    let mut key = format!("{}|{}", unit.unwrap_or(""), uri.path());
    if let Some(query) = uri.query() {
        let mut first = true;
        for pair in query
            .split('&')
            .filter(|p| !p.is_empty() && !p.starts_with("min_position="))
            .filter(|p| *p != "min_position")
        {
            key.push(if first { '?' } else { '&' });
            key.push_str(pair);
            first = false;
        }
    }
    key
}

impl Answers {
    /// The slot for `key`.
    pub(crate) fn slot(&self, key: String) -> Slot {
        let Ok(mut slots) = self.slots.lock() else {
            return Slot::default();
        };
        if !slots.by_key.contains_key(&key) && slots.by_key.len() >= MAX_ANSWERS {
            // Full: start over rather than track which to drop.
            *slots = Slots::default();
        }
        slots.by_key.entry(key).or_default().clone()
    }

    /// Keeps `kept` in `slot` (whose `computing` lock the caller holds).
    pub(crate) fn keep(&self, slot: &SlotInner, kept: Kept) {
        let new = kept.size();
        let old = match slot.kept.lock() {
            Ok(mut held) => held.replace(kept).map_or(0, |k| k.size()),
            Err(_) => 0,
        };
        if let Ok(mut slots) = self.slots.lock() {
            slots.bytes = (slots.bytes + new).saturating_sub(old);
            if slots.bytes > MAX_ANSWER_BYTES {
                *slots = Slots::default();
            }
        }
    }

    /// An answer to keep: `body` at the read model's `position` in `file`,
    /// holding for the clock window around `now`. Runs inside the read
    /// model's snapshot that computed `body`.
    pub(crate) fn kept(
        &self,
        rm: &ReadModel,
        file: &Path,
        position: u64,
        now: i64,
        body: Bytes,
    ) -> Result<Kept, ApiError> {
        let (from, until) = self.window(rm, file, position, now)?;
        Ok(Kept::new(file, position, (from, until), body))
    }

    fn window(
        &self,
        rm: &ReadModel,
        file: &Path,
        position: u64,
        now: i64,
    ) -> Result<(i64, i64), ApiError> {
        if let Ok(window) = self.window.lock()
            && let Some(w) = window.as_ref()
            && w.file == file
            && w.position == position
            && w.from <= now
            && now < w.until
        {
            return Ok((w.from, w.until));
        }
        let (from, until) = rm.clock_window(now)?;
        if let Ok(mut window) = self.window.lock() {
            *window = Some(Window {
                file: file.to_owned(),
                position,
                from,
                until,
            });
        }
        Ok((from, until))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_key_leaves_out_min_position_only() {
        let uri: Uri = "/api/v1/tasks?cycle=2021&min_position=7&q=hop"
            .parse()
            .unwrap();
        assert_eq!(key(&uri, None), "|/api/v1/tasks?cycle=2021&q=hop");
        let uri: Uri = "/api/v1/dashboard?min_position=7".parse().unwrap();
        assert_eq!(key(&uri, Some("hop-thanh")), "hop-thanh|/api/v1/dashboard");
        let uri: Uri = "/api/v1/tasks?min_positions=7".parse().unwrap();
        assert_eq!(key(&uri, None), "|/api/v1/tasks?min_positions=7");
    }

    #[test]
    fn a_kept_answer_serves_its_file_position_and_window_only() {
        let kept = Kept::new(
            Path::new("read.1.sqlite"),
            10,
            (100, 200),
            Bytes::from_static(b"{}"),
        );
        let file = Path::new("read.1.sqlite");
        assert!(kept.serves(file, 10, 100));
        assert!(kept.serves(file, 9, 199), "computed after the request came");
        assert!(!kept.serves(file, 11, 150), "the read model moved on");
        assert!(!kept.serves(file, 10, 200), "the clock left the window");
        assert!(!kept.serves(file, 10, 99));
        assert!(!kept.serves(Path::new("read.2.sqlite"), 10, 150));
    }

    #[test]
    fn a_kept_answer_serves_meanwhile_only_while_recent_and_new_enough() {
        let mut kept = Kept::new(
            Path::new("read.1.sqlite"),
            10,
            (100, 200),
            Bytes::from_static(b"{}"),
        );
        let file = Path::new("read.1.sqlite");
        assert!(kept.serves_meanwhile(file, 0, 150));
        assert!(kept.serves_meanwhile(file, 10, 150));
        assert!(!kept.serves_meanwhile(file, 11, 150), "below min_position");
        assert!(
            !kept.serves_meanwhile(file, 0, 200),
            "the clock left the window"
        );
        assert!(!kept.serves_meanwhile(Path::new("read.2.sqlite"), 0, 150));
        if let Some(old) = Instant::now().checked_sub(MAX_STALE + Duration::from_millis(1)) {
            kept.computed = old;
            assert!(!kept.serves_meanwhile(file, 0, 150), "too old");
        }
    }

    fn accepting(value: &str) -> Encoding {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::ACCEPT_ENCODING,
            HeaderValue::from_str(value).unwrap(),
        );
        Encoding::preferred(&headers)
    }

    #[test]
    fn the_encoding_is_the_one_accept_encoding_prefers() {
        assert_eq!(Encoding::preferred(&HeaderMap::new()), Encoding::Identity);
        assert_eq!(accepting("gzip, deflate, br"), Encoding::Br);
        assert_eq!(accepting("gzip, deflate"), Encoding::Gzip);
        assert_eq!(accepting("br;q=0, gzip"), Encoding::Gzip);
        assert_eq!(accepting("br;q=0.5, gzip;q=0.9"), Encoding::Gzip);
        assert_eq!(accepting("*"), Encoding::Br);
        assert_eq!(accepting("*;q=0"), Encoding::Identity);
        assert_eq!(accepting("identity"), Encoding::Identity);
        assert_eq!(accepting("GZIP"), Encoding::Gzip);
    }

    #[test]
    fn every_encoding_of_a_kept_answer_decodes_to_its_json() {
        use std::io::Read;
        let json: Vec<u8> = serde_json::to_vec(&serde_json::json!({
            "tasks": (0..200).map(|i| format!("Nhiệm vụ đột phá số {i}")).collect::<Vec<_>>()
        }))
        .unwrap();
        let kept = Kept::new(Path::new("read.1.sqlite"), 7, (0, 1), json.clone().into());
        for (encoding, coding) in [
            (Encoding::Identity, None),
            (Encoding::Gzip, Some("gzip")),
            (Encoding::Br, Some("br")),
        ] {
            let response = kept.response(encoding, "x-dotpha-position");
            let headers = response.headers().clone();
            assert_eq!(
                headers
                    .get(header::CONTENT_ENCODING)
                    .and_then(|v| v.to_str().ok()),
                coding
            );
            assert_eq!(headers[header::ETAG], weak_etag(&json));
            assert_eq!(headers["x-dotpha-position"], "7");
            let body =
                futures::executor::block_on(axum::body::to_bytes(response.into_body(), usize::MAX))
                    .unwrap();
            let mut plain = Vec::new();
            match encoding {
                Encoding::Identity => plain.extend_from_slice(&body),
                Encoding::Gzip => {
                    flate2::read::GzDecoder::new(&body[..])
                        .read_to_end(&mut plain)
                        .unwrap();
                }
                Encoding::Br => {
                    brotli::Decompressor::new(&body[..], 4096)
                        .read_to_end(&mut plain)
                        .unwrap();
                }
            }
            assert_eq!(plain, json, "{encoding:?}");
        }
    }
}
