//! Pages kept for a repeated view. A person who opens their home, an agreement, a catalogue
//! search or a document's public check page again is given the page set for them the last
//! time, as long as nothing it could show has changed since.
//!
//! "Nothing has changed" is the audit record's head: every state change appends its event in
//! the change's own transaction (`audit::append`), so while `audit_head.seq` stands where it
//! stood when the page was set, every table the page read holds what it held then. The head is
//! read from the database on every view, so a change made through another instance, the
//! scheduler or the command line is seen at once, like one made through this one. A page is
//! kept under everything else it was set from: the address (with its query), whether htmx
//! asked for a fragment, the signed-in user as their session names them (id, organisation,
//! role, name, e-mail, language), the page language, the browser's form token (which the
//! page's forms carry; a visitor who has none yet is handed one and the page is not kept),
//! and the quarter-hour of the service's clock (every time zone's offset is a whole number of
//! quarter-hours, so no page's "today" turns within one). A kept page is also never older than
//! `app.page_cache_seconds`, which bounds what the few inputs kept apart from the record (the
//! catalogue's filter choices, `app.catalogue_cache_seconds`) can make it lag.
//!
//! The pages live in memory, at most `app.page_cache_kilobytes` of them; past that the oldest
//! kept go first. Each key holds one page: a page set for a newer head replaces the older.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use actix_web::web::Bytes;

/// The longest key a page is kept under (its address with the query, and the visitor): a
/// page asked for by a longer address is set every time.
pub const MAX_KEY_BYTES: usize = 2048;

/// The pages kept, bounded in bytes and age.
pub struct KeptPages {
    capacity: usize,
    max_age: Duration,
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    pages: HashMap<String, Kept>,
    /// Keys in the order their pages were kept, each with the number of the keeping, so an
    /// entry replaced since is recognised and skipped when the oldest go.
    order: VecDeque<(String, u64)>,
    bytes: usize,
    keepings: u64,
}

struct Kept {
    stamp: i64,
    body: Bytes,
    at: Instant,
    keeping: u64,
}

/// Where a page that may be kept stands: its key, and the record's head when its data was read.
#[derive(Debug, Clone)]
pub struct Keep {
    pub key: String,
    pub stamp: i64,
}

impl KeptPages {
    /// At most `capacity` bytes of pages (0: none kept), none older than `max_age`.
    pub fn new(capacity: usize, max_age: Duration) -> KeptPages {
        KeptPages {
            capacity,
            max_age,
            inner: Mutex::new(Inner::default()),
        }
    }

    /// Whether any page is kept at all.
    pub fn enabled(&self) -> bool {
        self.capacity > 0 && !self.max_age.is_zero()
    }

    /// The page kept under `key` for the record's head `stamp`, if it is still young enough.
    pub fn get(&self, key: &str, stamp: i64) -> Option<Bytes> {
        let inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        inner
            .pages
            .get(key)
            .filter(|k| k.stamp == stamp && k.at.elapsed() < self.max_age)
            .map(|k| k.body.clone())
    }

    /// What a page takes: its body, and its key twice (the map's and the queue's).
    fn size(key: &str, body: &Bytes) -> usize {
        body.len() + 2 * key.len()
    }

    /// Keeps `body` as the page of `keep`, unless a page for a newer head is kept already
    /// (set by a slower view that read before it) and still young enough to be given.
    pub fn put(&self, keep: Keep, body: Bytes) {
        let size = Self::size(&keep.key, &body);
        if !self.enabled() || keep.key.len() > MAX_KEY_BYTES || size > self.capacity {
            return;
        }
        let mut inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        let inner = &mut *inner;
        if let Some(old) = inner.pages.get(&keep.key) {
            if old.stamp > keep.stamp && old.at.elapsed() < self.max_age {
                return;
            }
        }
        inner.keepings += 1;
        let keeping = inner.keepings;
        if let Some(old) = inner.pages.insert(
            keep.key.clone(),
            Kept {
                stamp: keep.stamp,
                body,
                at: Instant::now(),
                keeping,
            },
        ) {
            inner.bytes -= Self::size(&keep.key, &old.body);
        }
        inner.bytes += size;
        inner.order.push_back((keep.key, keeping));
        while inner.bytes > self.capacity {
            let Some((key, keeping)) = inner.order.pop_front() else {
                break;
            };
            if inner.pages.get(&key).is_some_and(|k| k.keeping == keeping) {
                if let Some(gone) = inner.pages.remove(&key) {
                    inner.bytes -= Self::size(&key, &gone.body);
                }
            }
        }
        // Replaced entries leave their old places (and their keys' copies) behind; drop them
        // before they pile up.
        if inner.order.len() > inner.pages.len() + 64 {
            let pages = &inner.pages;
            inner
                .order
                .retain(|(key, keeping)| pages.get(key).is_some_and(|k| k.keeping == *keeping));
        }
    }

    /// The bytes kept now (pages and their keys).
    pub fn bytes(&self) -> usize {
        self.inner.lock().unwrap_or_else(|e| e.into_inner()).bytes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keep(key: &str, stamp: i64) -> Keep {
        Keep {
            key: key.to_string(),
            stamp,
        }
    }

    #[test]
    fn a_page_is_given_back_only_for_the_head_it_was_set_at() {
        let kept = KeptPages::new(1 << 20, Duration::from_secs(60));
        kept.put(keep("/home|u1", 7), Bytes::from_static(b"home at 7"));
        assert_eq!(kept.get("/home|u1", 7).as_deref(), Some(&b"home at 7"[..]));
        assert_eq!(kept.get("/home|u1", 8), None, "the record moved on");
        assert_eq!(kept.get("/home|u2", 7), None, "another visitor");
        kept.put(keep("/home|u1", 8), Bytes::from_static(b"home at 8"));
        assert_eq!(kept.get("/home|u1", 8).as_deref(), Some(&b"home at 8"[..]));
        assert_eq!(kept.get("/home|u1", 7), None, "one page per key");
        // A slow view that read before the change does not put the older page back.
        kept.put(keep("/home|u1", 7), Bytes::from_static(b"home at 7"));
        assert_eq!(kept.get("/home|u1", 8).as_deref(), Some(&b"home at 8"[..]));
        assert_eq!(kept.bytes(), 2 * "/home|u1".len() + "home at 8".len());
        // Unless that newer page is too old to be given.
        let brief = KeptPages::new(1 << 20, Duration::from_millis(30));
        brief.put(keep("k", 9), Bytes::from_static(b"at 9"));
        std::thread::sleep(Duration::from_millis(40));
        brief.put(keep("k", 8), Bytes::from_static(b"at 8"));
        assert_eq!(brief.get("k", 8).as_deref(), Some(&b"at 8"[..]));
    }

    #[test]
    fn the_oldest_pages_go_first_past_the_capacity() {
        let page = Bytes::from(vec![b'x'; 100]);
        let kept = KeptPages::new(310, Duration::from_secs(60));
        for (i, key) in ["a", "b", "c"].into_iter().enumerate() {
            kept.put(keep(key, i as i64), page.clone());
        }
        assert!(kept.get("a", 0).is_some());
        kept.put(keep("d", 3), page.clone());
        assert_eq!(kept.get("a", 0), None, "the oldest went");
        assert!(kept.get("b", 1).is_some() && kept.get("d", 3).is_some());
        assert!(kept.bytes() <= 310);
        // Replacing a page many times keeps the bookkeeping bounded and the bytes exact.
        for stamp in 4..1000 {
            kept.put(keep("d", stamp), page.clone());
        }
        assert!(kept.get("d", 999).is_some());
        assert_eq!(kept.bytes(), 3 * 102);
        assert!(kept.inner.lock().unwrap().order.len() <= 3 + 64 + 1);
        // A page larger than the whole cache is never kept, and leaves the others be.
        kept.put(keep("big", 1000), Bytes::from(vec![b'y'; 309]));
        assert_eq!(kept.get("big", 1000), None);
        assert!(kept.get("d", 999).is_some());
        // Nor is a page under a key longer than the longest kept.
        let roomy = KeptPages::new(1 << 20, Duration::from_secs(60));
        let long = "k".repeat(MAX_KEY_BYTES + 1);
        roomy.put(keep(&long, 1), page.clone());
        assert_eq!((roomy.get(&long, 1), roomy.bytes()), (None, 0));
    }

    #[test]
    fn nothing_is_kept_when_turned_off_or_past_its_age() {
        let off = KeptPages::new(0, Duration::from_secs(60));
        off.put(keep("a", 1), Bytes::from_static(b"page"));
        assert!(!off.enabled() && off.get("a", 1).is_none());
        let brief = KeptPages::new(1 << 20, Duration::from_millis(30));
        brief.put(keep("a", 1), Bytes::from_static(b"page"));
        assert!(brief.get("a", 1).is_some());
        std::thread::sleep(Duration::from_millis(40));
        assert_eq!(brief.get("a", 1), None, "too old");
    }
}
