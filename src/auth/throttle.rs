//! How often one client address may ask something anyone may ask without signing in (the
//! public document check): a count per address in a fixed window of a minute, held in this
//! instance's memory. It must never write the database: the pages it guards answer anyone, so
//! counting in a table would turn every request into a write.
//!
//! An IPv6 client is counted by its /64 network (what one household or host is given), so
//! walking through the addresses of one network gains nothing. With several instances each
//! counts its own requests, so a client behind a balancer that spreads requests evenly gets
//! at most the instances' number times the limit.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;

use chrono::{DateTime, Utc};

/// The window counts are kept for, in seconds.
const WINDOW: i64 = 60;
/// Above this many addresses, windows that have ended are dropped on the next request.
const PRUNE_ABOVE: usize = 10_000;

/// Requests per client address in the current window.
#[derive(Debug, Default)]
pub struct Throttle {
    hits: Mutex<HashMap<IpAddr, (i64, u32)>>,
}

/// The address `client` is counted under: itself, an IPv4-mapped IPv6 address as IPv4, and
/// an IPv6 address as its /64 network.
pub fn key(client: IpAddr) -> IpAddr {
    match client {
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let s = v6.segments();
                IpAddr::V6(std::net::Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
            }
        },
        v4 => v4,
    }
}

impl Throttle {
    /// Counts a request of `client` at `now`: `Err(seconds)` to wait when it already made
    /// `per_minute` requests in its window (the refused request does not count).
    pub fn hit(&self, client: IpAddr, now: DateTime<Utc>, per_minute: u32) -> Result<(), u64> {
        let now = now.timestamp();
        let mut hits = self.hits.lock().unwrap_or_else(|p| p.into_inner());
        if hits.len() > PRUNE_ABOVE {
            hits.retain(|_, (start, _)| now < *start + WINDOW);
        }
        let entry = hits.entry(key(client)).or_insert((now, 0));
        if now >= entry.0 + WINDOW {
            *entry = (now, 0);
        }
        if entry.1 >= per_minute {
            return Err((entry.0 + WINDOW - now).max(1) as u64);
        }
        entry.1 += 1;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn a_client_is_refused_after_the_limit_until_its_window_ends() {
        let t = Throttle::default();
        let at = |s: i64| Utc.timestamp_opt(1_800_000_000 + s, 0).unwrap();
        let a: IpAddr = "203.0.113.7".parse().unwrap();
        let b: IpAddr = "203.0.113.8".parse().unwrap();
        for _ in 0..3 {
            assert_eq!(t.hit(a, at(0), 3), Ok(()));
        }
        assert_eq!(t.hit(a, at(20), 3), Err(40));
        assert_eq!(t.hit(a, at(59), 3), Err(1));
        assert_eq!(t.hit(b, at(20), 3), Ok(()), "another address counts apart");
        assert_eq!(t.hit(a, at(60), 3), Ok(()), "a new window");
    }

    #[test]
    fn one_ipv6_network_counts_as_one_client() {
        let t = Throttle::default();
        let now = Utc::now();
        let a: IpAddr = "2001:db8:1:2::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:ffff::9".parse().unwrap();
        let c: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert_eq!(t.hit(a, now, 1), Ok(()));
        assert!(t.hit(b, now, 1).is_err());
        assert_eq!(t.hit(c, now, 1), Ok(()));
    }
}
