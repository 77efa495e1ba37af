//! How values are written on a document, per language: amounts in the currency's own
//! convention (`1.500.000 ₫`, `¥1,500.00`), rates as percentages, calendar dates. Pure.

use chrono::{Datelike, NaiveDate};
use rust_decimal::Decimal;

use crate::settlement::money::Currency;

/// The languages documents are written in.
pub const LANGS: [&str; 3] = ["vi", "en", "zh"];

/// Groups the digits of a whole number with `sep` every three digits.
fn group(digits: &str, sep: char) -> String {
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(sep);
        }
        out.push(c);
    }
    out
}

/// An amount of minor units in the currency's own convention, the same in every language:
/// VND `1.500.000 ₫`, CNY `¥1,500.00`, USD `US$1,500.00`, EUR `€1,500.00`.
pub fn money(currency: Currency, minor: i64) -> String {
    // `format_amount` writes the canonical major-unit form ("-1500.50"); only the grouping
    // and the symbol are the document's.
    let plain = currency.format_amount(minor);
    let (sign, plain) = match plain.strip_prefix('-') {
        Some(rest) => ("-", rest),
        None => ("", plain.as_str()),
    };
    let (whole, frac) = match plain.split_once('.') {
        Some((whole, frac)) => (whole, Some(frac)),
        None => (plain, None),
    };
    let mut number = group(whole, currency.group);
    if let Some(frac) = frac {
        number.push('.');
        number.push_str(frac);
    }
    if currency.symbol_after {
        format!("{sign}{number} {}", currency.symbol)
    } else {
        format!("{sign}{}{number}", currency.symbol)
    }
}

/// A rate between 0 and 1 as a percentage: `3,5%` in Vietnamese, `3.5%` otherwise.
pub fn percent(lang: &str, rate: Decimal) -> String {
    let text = (rate * Decimal::ONE_HUNDRED).normalize().to_string();
    if lang == "vi" {
        format!("{}%", text.replace('.', ","))
    } else {
        format!("{text}%")
    }
}

/// The months' names in English, January first.
pub const MONTHS_EN: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

/// A calendar date: `15/01/2027`, `15 January 2027`, `2027年1月15日`.
pub fn date(lang: &str, d: NaiveDate) -> String {
    match lang {
        "vi" => d.format("%d/%m/%Y").to_string(),
        "zh" => format!("{}年{}月{}日", d.year(), d.month(), d.day()),
        _ => format!(
            "{} {} {}",
            d.day(),
            MONTHS_EN[d.month0() as usize],
            d.year()
        ),
    }
}

/// A whole number with its digits grouped: `12.345` in Vietnamese, `12,345` otherwise.
pub fn count(lang: &str, n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let sign = if n < 0 { "-" } else { "" };
    format!(
        "{sign}{}",
        group(&digits, if lang == "vi" { '.' } else { ',' })
    )
}

/// A number of days: `90 ngày`, `90 days`, `90 天`.
pub fn days(lang: &str, n: u32) -> String {
    match lang {
        "vi" => format!("{n} ngày"),
        "zh" => format!("{n} 天"),
        _ if n == 1 => "1 day".to_string(),
        _ => format!("{n} days"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cur(code: &str) -> Currency {
        Currency::parse(code).unwrap()
    }

    #[test]
    fn amounts_follow_the_currency() {
        assert_eq!(money(cur("VND"), 1_500_000), "1.500.000 ₫");
        assert_eq!(money(cur("VND"), 0), "0 ₫");
        assert_eq!(money(cur("VND"), 999), "999 ₫");
        assert_eq!(money(cur("VND"), 1_000), "1.000 ₫");
        assert_eq!(money(cur("CNY"), 150_000), "¥1,500.00");
        assert_eq!(money(cur("CNY"), 5), "¥0.05");
        assert_eq!(money(cur("USD"), 123_456_789), "US$1,234,567.89");
        assert_eq!(money(cur("EUR"), -1_050), "-€10.50");
        assert_eq!(money(cur("VND"), i64::MAX), "9.223.372.036.854.775.807 ₫");
        assert_eq!(money(cur("VND"), i64::MIN), "-9.223.372.036.854.775.808 ₫");
    }

    #[test]
    fn percentages_and_dates_follow_the_language() {
        let r: Decimal = "0.035".parse().unwrap();
        assert_eq!(percent("vi", r), "3,5%");
        assert_eq!(percent("en", r), "3.5%");
        assert_eq!(percent("zh", Decimal::ONE), "100%");
        let d = NaiveDate::from_ymd_opt(2027, 1, 5).unwrap();
        assert_eq!(date("vi", d), "05/01/2027");
        assert_eq!(date("en", d), "5 January 2027");
        assert_eq!(date("zh", d), "2027年1月5日");
        assert_eq!(days("vi", 90), "90 ngày");
        assert_eq!(days("en", 1), "1 day");
        assert_eq!(days("zh", 30), "30 天");
    }
}
