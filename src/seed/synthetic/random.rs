//! The run's reproducible randomness: seeds mixed from the run's seed, weighted picks, and
//! ids that are UUIDv7 at a drawn moment with random bits from the draws, so the same seed on
//! the same database makes the same rows.

use super::*;

pub(super) fn splitmix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = x;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

pub(super) fn pick_weighted(cum: &[f64], rng: &mut StdRng) -> usize {
    let total = cum.last().copied().unwrap_or(0.0);
    let u = rng.gen::<f64>() * total;
    cum.partition_point(|&c| c <= u)
        .min(cum.len().saturating_sub(1))
}

pub(super) fn cumulative(weights: impl Iterator<Item = f64>) -> Vec<f64> {
    let mut sum = 0.0;
    weights
        .map(|w| {
            sum += w;
            sum
        })
        .collect()
}

/// A UUIDv7 at `at` whose random bits come from the run's draws (reproducible, time-ordered).
pub(super) fn uuid_at(at: NaiveDateTime, rng: &mut StdRng) -> String {
    let ms = at.and_utc().timestamp_millis().max(0) as u64;
    let bytes: [u8; 10] = rng.gen();
    uuid::Builder::from_unix_timestamp_millis(ms, &bytes)
        .into_uuid()
        .to_string()
}
