//! A list of log positions held in a few bytes each.
//!
//! A writer's state keeps, for every task, the positions of its progress
//! reports (to read them again when one arrives late). A task's reports
//! lie near one another in the log, so each position is kept as its
//! distance from the one before, in LEB128 (7 bits a byte, high bit set
//! while more follow) after a zigzag map of the signed distance: two bytes
//! for a distance under 8,192 instead of a `u64`'s eight. At a million
//! reports that was 8 MB of a writer's heap (BENCHMARKS.md, "Resident
//! memory").

/// Log positions in the order pushed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Positions {
    /// Each position's zigzag distance from the one before (the first from
    /// 0), in LEB128.
    bytes: Vec<u8>,
    len: usize,
    last: u64,
}

impl Positions {
    /// No position.
    pub fn new() -> Positions {
        Positions::default()
    }

    /// Adds `position` at the end.
    pub fn push(&mut self, position: u64) {
        let distance = position.wrapping_sub(self.last) as i64;
        // Zigzag: small distances either way take few bits.
        let mut rest = ((distance << 1) ^ (distance >> 63)) as u64;
        loop {
            let low = (rest & 0x7f) as u8;
            rest >>= 7;
            if rest == 0 {
                self.bytes.push(low);
                break;
            }
            self.bytes.push(low | 0x80);
        }
        self.last = position;
        self.len += 1;
    }

    /// How many positions it holds.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether it holds none.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The positions, in the order pushed.
    pub fn iter(&self) -> impl Iterator<Item = u64> + '_ {
        let mut bytes = self.bytes.iter();
        let mut last = 0u64;
        std::iter::from_fn(move || {
            let (mut zigzag, mut shift) = (0u64, 0u32);
            loop {
                let byte = *bytes.next()?;
                zigzag |= u64::from(byte & 0x7f).checked_shl(shift).unwrap_or(0);
                shift += 7;
                if byte & 0x80 == 0 {
                    break;
                }
            }
            let distance = ((zigzag >> 1) as i64) ^ -((zigzag & 1) as i64);
            last = last.wrapping_add(distance as u64);
            Some(last)
        })
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        /// Any positions, ascending or not, near or far apart, come back
        /// as they were pushed.
        #[test]
        fn positions_come_back_as_pushed(
            positions in prop::collection::vec(
                prop_oneof![any::<u64>(), 0u64..100_000, Just(u64::MAX), Just(0)],
                0..200,
            ),
        ) {
            let mut kept = Positions::new();
            for p in &positions {
                kept.push(*p);
            }
            prop_assert_eq!(kept.len(), positions.len());
            prop_assert_eq!(kept.is_empty(), positions.is_empty());
            prop_assert_eq!(kept.iter().collect::<Vec<_>>(), positions);
        }
    }

    #[test]
    fn near_positions_take_two_bytes_each() {
        let mut kept = Positions::new();
        for p in (1_000_000u64..).step_by(1_000).take(1_000) {
            kept.push(p);
        }
        // The first takes three bytes; each later one two.
        assert_eq!(kept.bytes.len(), 3 + 999 * 2);
    }
}
