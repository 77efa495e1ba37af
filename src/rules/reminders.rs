//! Which reminder a date calls for: of the configured offsets (days before the date), the most
//! urgent that still applies, so a daily run sends each offset on its day and a run after
//! downtime sends only the one that is still meaningful.

/// The offset to send for `days_left` among `offsets`: the smallest at or above it.
pub fn due_offset(offsets: &[u32], days_left: i64) -> Option<u32> {
    offsets
        .iter()
        .copied()
        .filter(|&d| i64::from(d) >= days_left)
        .min()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_most_urgent_applicable_offset_is_sent() {
        let o = [30, 7, 1];
        assert_eq!(due_offset(&o, 31), None);
        assert_eq!(due_offset(&o, 30), Some(30));
        assert_eq!(
            due_offset(&o, 8),
            Some(30),
            "already sent on day 30: nothing new"
        );
        assert_eq!(due_offset(&o, 7), Some(7));
        assert_eq!(
            due_offset(&o, 5),
            Some(7),
            "after downtime: the 7-day one, not the 30"
        );
        assert_eq!(due_offset(&o, 1), Some(1));
        assert_eq!(due_offset(&o, 0), Some(1));
    }
}
