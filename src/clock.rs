//! The one source of "now". The service reads the system clock; tests and demos use a
//! manual clock they can set and advance, so time-driven behaviour is testable day by day.

use std::sync::{Arc, Mutex};

use chrono::{DateTime, NaiveDate, SubsecRound, Utc};
use chrono_tz::Tz;

/// A clock shared by everything in one running service.
#[derive(Clone, Debug)]
pub struct Clock(Arc<Source>);

#[derive(Debug)]
enum Source {
    System,
    Manual(Mutex<DateTime<Utc>>),
}

impl Clock {
    /// The real time.
    pub fn system() -> Clock {
        Clock(Arc::new(Source::System))
    }

    /// A clock that stands still at `at` until set or advanced.
    pub fn manual(at: DateTime<Utc>) -> Clock {
        Clock(Arc::new(Source::Manual(Mutex::new(at))))
    }

    /// Now, to the microsecond (the precision both databases keep).
    pub fn now(&self) -> DateTime<Utc> {
        let t = match &*self.0 {
            Source::System => Utc::now(),
            Source::Manual(at) => *at.lock().unwrap_or_else(|e| e.into_inner()),
        };
        t.trunc_subsecs(6)
    }

    /// Today's calendar date in `tz`.
    pub fn today(&self, tz: Tz) -> NaiveDate {
        self.now().with_timezone(&tz).date_naive()
    }

    /// Moves a manual clock to `at`; the system clock cannot be moved and ignores this.
    pub fn set(&self, at: DateTime<Utc>) {
        if let Source::Manual(m) = &*self.0 {
            *m.lock().unwrap_or_else(|e| e.into_inner()) = at;
        }
    }

    /// Moves a manual clock forward.
    pub fn advance(&self, by: chrono::Duration) {
        if let Source::Manual(m) = &*self.0 {
            let mut at = m.lock().unwrap_or_else(|e| e.into_inner());
            *at += by;
        }
    }
}

/// Serialises a stored UTC instant as RFC 3339 with `Z` (`2026-03-02T02:00:00.123456Z`).
pub fn utc<S: serde::Serializer>(at: &chrono::NaiveDateTime, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(
        &at.and_utc()
            .to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true),
    )
}

/// [`utc`] for optional instants.
pub fn utc_opt<S: serde::Serializer>(
    at: &Option<chrono::NaiveDateTime>,
    s: S,
) -> Result<S::Ok, S::Error> {
    match at {
        Some(at) => utc(at, s),
        None => s.serialize_none(),
    }
}
