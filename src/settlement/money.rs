//! Currencies and the parsing of amounts and rates from the decimal strings the API takes.
//! Amounts are written in the currency's major unit ("1500000" VND, "1500.50" USD) and held as
//! integer minor units; a float, an exponent, too many decimals or junk is refused.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// An ISO 4217 currency the platform settles in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Currency {
    pub code: &'static str,
    /// Decimal places of the minor unit (VND 0, CNY/USD/EUR 2).
    pub exponent: u32,
    /// How documents write an amount: the symbol, and whether it follows the number
    /// (`1.500.000 ₫`) or precedes it (`¥1,500.00`).
    pub symbol: &'static str,
    pub symbol_after: bool,
    /// Digit grouping separator in the currency's own convention.
    pub group: char,
}

pub const CURRENCIES: [Currency; 4] = [
    Currency {
        code: "VND",
        exponent: 0,
        symbol: "₫",
        symbol_after: true,
        group: '.',
    },
    Currency {
        code: "CNY",
        exponent: 2,
        symbol: "¥",
        symbol_after: false,
        group: ',',
    },
    Currency {
        code: "USD",
        exponent: 2,
        symbol: "US$",
        symbol_after: false,
        group: ',',
    },
    Currency {
        code: "EUR",
        exponent: 2,
        symbol: "€",
        symbol_after: false,
        group: ',',
    },
];

impl Currency {
    /// A known currency by its code, or `None`.
    pub fn parse(code: &str) -> Option<Currency> {
        CURRENCIES.into_iter().find(|c| c.code == code)
    }

    /// Parses a non-negative amount in major units into minor units.
    pub fn parse_amount(self, text: &str) -> Result<i64, String> {
        let (int, frac) = match text.split_once('.') {
            Some((i, f)) => (i, f),
            None => (text, ""),
        };
        if int.is_empty()
            || !int.bytes().all(|b| b.is_ascii_digit())
            || (text.contains('.') && frac.is_empty())
            || !frac.bytes().all(|b| b.is_ascii_digit())
        {
            return Err(format!(
                "must be a non-negative decimal number written as a string, e.g. \"{}\"",
                self.example()
            ));
        }
        if frac.len() > self.exponent as usize {
            return Err(format!(
                "{} allows at most {} decimal places",
                self.code, self.exponent
            ));
        }
        let scale = 10i64.pow(self.exponent);
        let too_large = || format!("is too large for {}", self.code);
        let int: i64 = int.parse().map_err(|_| too_large())?;
        let mut frac_minor: i64 = if frac.is_empty() {
            0
        } else {
            frac.parse().map_err(|_| too_large())?
        };
        for _ in frac.len()..self.exponent as usize {
            frac_minor *= 10;
        }
        int.checked_mul(scale)
            .and_then(|v| v.checked_add(frac_minor))
            .ok_or_else(too_large)
    }

    /// Writes minor units back in major units, canonically ("1500000", "1500.50").
    pub fn format_amount(self, minor: i64) -> String {
        if self.exponent == 0 {
            return minor.to_string();
        }
        let scale = 10i64.pow(self.exponent);
        let sign = if minor < 0 { "-" } else { "" };
        let abs = minor.unsigned_abs();
        format!(
            "{sign}{}.{:0width$}",
            abs / scale as u64,
            abs % scale as u64,
            width = self.exponent as usize
        )
    }

    fn example(self) -> &'static str {
        if self.exponent == 0 {
            "1500000"
        } else {
            "1500.00"
        }
    }
}

/// Parses a rate or share between 0 and 1 inclusive, e.g. "0.035"; at most 10 decimals.
pub fn parse_rate(text: &str) -> Result<Decimal, String> {
    let ok_shape = !text.is_empty()
        && text.bytes().all(|b| b.is_ascii_digit() || b == b'.')
        && text.matches('.').count() <= 1
        && !text.starts_with('.')
        && !text.ends_with('.');
    if !ok_shape {
        return Err(
            "must be a decimal number between 0 and 1 written as a string, e.g. \"0.035\"".into(),
        );
    }
    let value: Decimal = text
        .parse()
        .map_err(|_| "is not a decimal number".to_string())?;
    if value.scale() > 10 {
        return Err("allows at most 10 decimal places".into());
    }
    if value > Decimal::ONE {
        return Err("must be between 0 and 1".into());
    }
    Ok(value.normalize())
}

/// An amount with its currency, as the API shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MoneyText {
    /// Decimal string in the currency's major unit, e.g. "1500000" (VND) or "1500.00" (USD).
    pub amount: String,
    /// ISO 4217 code: VND, CNY, USD or EUR.
    pub currency: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts() {
        let vnd = Currency::parse("VND").unwrap();
        let usd = Currency::parse("USD").unwrap();
        assert_eq!(vnd.parse_amount("1500000"), Ok(1_500_000));
        assert!(vnd.parse_amount("1500000.5").is_err());
        assert_eq!(usd.parse_amount("1500.5"), Ok(150_050));
        assert_eq!(usd.parse_amount("0.07"), Ok(7));
        for bad in [
            "",
            "-1",
            "1e6",
            "1.",
            ".5",
            "1,5",
            "abc",
            "1.234",
            " 1",
            "99999999999999999999",
        ] {
            assert!(usd.parse_amount(bad).is_err(), "{bad:?}");
        }
        assert_eq!(usd.format_amount(150_050), "1500.50");
        assert_eq!(vnd.format_amount(1_500_000), "1500000");
        assert!(Currency::parse("XYZ").is_none());
    }

    #[test]
    fn rates() {
        assert_eq!(parse_rate("0.035").unwrap().to_string(), "0.035");
        assert_eq!(parse_rate("1").unwrap(), Decimal::ONE);
        for bad in ["", "1.5", "-0.1", "1e-2", "0.1.2", ".5", "0.12345678901"] {
            assert!(parse_rate(bad).is_err(), "{bad:?}");
        }
    }
}
