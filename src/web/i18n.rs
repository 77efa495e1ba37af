//! The pages' words in Vietnamese and English: flat catalogues built into the binary, one pair
//! per group of pages (`i18n/<group>.vi.toml`, `i18n/<group>.en.toml`), merged at start, and
//! the `t(key, name=value…)` function templates call. A key missing from a catalogue is an
//! error when the page is set, never the key shown to a person. The pages are kept once per
//! language, and a call on a fixed key is replaced by its text when they are loaded ([`fold`]):
//! most of a page's words cost nothing as it is set.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use minijinja::value::Kwargs;
use minijinja::{Error, ErrorKind};

/// The languages the pages are written in.
pub const LANGS: [&str; 2] = ["vi", "en"];

/// `lang` if the pages are written in it.
pub fn ours(lang: &str) -> Option<&'static str> {
    LANGS.into_iter().find(|l| *l == lang)
}

/// Both catalogues: language → key → text (sorted, for checks and listing), and the same
/// texts as template values by key, for the lookups every page makes dozens of times.
#[derive(Debug, Clone)]
pub struct Catalogues(
    BTreeMap<&'static str, BTreeMap<String, String>>,
    HashMap<&'static str, HashMap<String, minijinja::Value>>,
);

impl Catalogues {
    /// The catalogues of every group (`(group, vi source, en source)`), checked: each parses,
    /// no key is in two groups, and both languages have the same keys.
    pub fn load(groups: &[(&str, &str, &str)]) -> anyhow::Result<Catalogues> {
        let mut all: BTreeMap<&'static str, BTreeMap<String, String>> = BTreeMap::new();
        for (group, vi, en) in groups {
            for (lang, text) in [("vi", vi), ("en", en)] {
                let table: BTreeMap<String, String> = toml::from_str(text)
                    .map_err(|e| anyhow::anyhow!("web catalogue {group}.{lang}.toml: {e}"))?;
                let merged = all.entry(lang).or_default();
                for (key, value) in table {
                    if merged.insert(key.clone(), value).is_some() {
                        anyhow::bail!(
                            "web catalogue {group}.{lang}.toml: {key} is in another group too"
                        );
                    }
                }
            }
        }
        let keys = |l: &str| all[l].keys().cloned().collect::<Vec<_>>();
        if keys("vi") != keys("en") {
            let only = |a: &str, b: &str| {
                all[a]
                    .keys()
                    .filter(|k| !all[b].contains_key(*k))
                    .cloned()
                    .collect::<Vec<_>>()
            };
            anyhow::bail!(
                "web catalogues differ: only in vi {:?}, only in en {:?}",
                only("vi", "en"),
                only("en", "vi")
            );
        }
        let values = all
            .iter()
            .map(|(lang, texts)| {
                let by_key = texts
                    .iter()
                    .map(|(k, v)| (k.clone(), minijinja::Value::from(v.as_str())))
                    .collect();
                (*lang, by_key)
            })
            .collect();
        Ok(Catalogues(all, values))
    }

    /// The text of `key` in `lang` as a template value, when it has no placeholders to fill.
    fn value(&self, lang: &str, key: &str) -> Option<minijinja::Value> {
        self.1.get(lang)?.get(key).cloned()
    }

    /// The text of `key` in `lang` as written in its catalogue.
    pub fn plain(&self, lang: &str, key: &str) -> Option<&str> {
        self.0.get(lang)?.get(key).map(String::as_str)
    }

    /// The text of `key` in `lang`, with `{name}` placeholders filled from `args`.
    pub fn text(&self, lang: &str, key: &str, args: &[(&str, String)]) -> Option<String> {
        let mut text = self.plain(lang, key)?.to_string();
        for (name, value) in args {
            text = text.replace(&format!("{{{name}}}"), value);
        }
        Some(text)
    }

    /// Every key (the same in both languages).
    pub fn keys(&self) -> impl Iterator<Item = &String> {
        self.0["vi"].keys()
    }
}

/// `source` with each call of `t` on a literal key alone in its tag (`{{ t("key") }}`) replaced
/// by the key's text as the page would write it (`escape`): a template's fixed words are set
/// once per language at start instead of on every page. Left as they are: a call with
/// arguments or a filter, a key made at run time, a key no catalogue has (so it still fails
/// when the page is set), and a text with braces (it would read as template syntax) or with
/// white space at either end (a neighbouring `{{-` or `-}}` would trim it, and never trims a
/// value).
pub fn fold<'a, 't>(
    source: &'a str,
    text: impl Fn(&str) -> Option<&'t str>,
    escape: impl Fn(&str) -> String,
) -> Cow<'a, str> {
    let mut out = String::new();
    let mut folded = false;
    let mut rest = source;
    while let Some(open) = rest.find("{{") {
        let inside = &rest[open + 2..];
        let Some(close) = inside.find("}}") else {
            break;
        };
        let words = literal_key(&inside[..close])
            .and_then(&text)
            .filter(|w| !w.is_empty() && w.trim() == *w && !w.contains(['{', '}']));
        match words {
            Some(words) => {
                out.push_str(&rest[..open]);
                out.push_str(&escape(words));
                folded = true;
            }
            None => out.push_str(&rest[..open + 2 + close + 2]),
        }
        rest = &inside[close + 2..];
    }
    if !folded {
        return Cow::Borrowed(source);
    }
    out.push_str(rest);
    Cow::Owned(out)
}

/// The key of a tag's inside that is only `t("key")` or `t('key')`.
fn literal_key(inside: &str) -> Option<&str> {
    let call = inside.trim().strip_prefix("t(")?.strip_suffix(')')?;
    let quote = call.chars().next().filter(|q| *q == '"' || *q == '\'')?;
    let key = call.strip_prefix(quote)?.strip_suffix(quote)?;
    let plain = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == '.' || c == '-';
    (!key.is_empty() && key.chars().all(plain)).then_some(key)
}

/// The template function `t` of the pages in `lang`: the text of a key, its placeholders filled
/// from the keyword arguments.
pub fn function(
    catalogues: Arc<Catalogues>,
    lang: &'static str,
) -> impl Fn(&str, Kwargs) -> Result<minijinja::Value, Error> + Send + Sync + 'static {
    move |key: &str, kwargs: Kwargs| {
        let missing = || {
            Error::new(
                ErrorKind::UndefinedError,
                format!("no text for {key:?} in the {lang} catalogue"),
            )
        };
        if kwargs.args().next().is_none() {
            return catalogues.value(lang, key).ok_or_else(missing);
        }
        let mut args = Vec::new();
        for name in kwargs.args() {
            let value: minijinja::Value = kwargs.get(name)?;
            args.push((name, value.to_string()));
        }
        kwargs.assert_all_used()?;
        catalogues
            .text(lang, key, &args)
            .map(minijinja::Value::from)
            .ok_or_else(missing)
    }
}

#[cfg(test)]
mod tests {
    use super::fold;

    fn words(key: &str) -> Option<&'static str> {
        match key {
            "a.title" => Some("Hợp đồng & <điều khoản>"),
            "a.braces" => Some("{not} a tag"),
            "a.spaced" => Some(" padded "),
            "a.plain" => Some("Plain"),
            _ => None,
        }
    }

    fn escape(text: &str) -> String {
        text.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
    }

    /// A literal key alone in its tag becomes its escaped text, in either quotes; anything
    /// else is left for the page to set.
    #[test]
    fn only_literal_keys_alone_in_their_tag_are_folded() {
        let folded = fold(
            r#"<h1>{{ t("a.title") }}</h1><p title="{{t('a.plain')}}">"#,
            words,
            escape,
        );
        assert_eq!(
            folded,
            r#"<h1>Hợp đồng &amp; &lt;điều khoản&gt;</h1><p title="Plain">"#
        );
        for kept in [
            r#"{{ t("a.plain", n=1) }}"#,
            r#"{{ t("a." ~ kind) }}"#,
            r#"{{ t("a.plain") | upper }}"#,
            r#"{{ t("a.plain" if x else "a.title") }}"#,
            r#"{{- t("a.plain") }}"#,
            r#"{{ t("a.plain") -}}"#,
            r#"{{ t("a.missing") }}"#,
            r#"{{ t("a.braces") }}"#,
            r#"{{ t("a.spaced") }}"#,
            r#"{{ format("a.plain") }}"#,
            r#"{% set x = t("a.plain") %}"#,
            r#"{{ t("a.plain""#,
        ] {
            assert_eq!(fold(kept, words, escape), kept);
        }
        // A tag folded and a later one kept, in one source: both in place, the text between
        // them as it was.
        assert_eq!(
            fold(
                r#"<b>{{ t("a.plain") }}</b> {{ x }} {{ t("a.missing") }}."#,
                words,
                escape
            ),
            r#"<b>Plain</b> {{ x }} {{ t("a.missing") }}."#
        );
        assert!(matches!(
            fold("no tags {{ x }}", words, escape),
            std::borrow::Cow::Borrowed(_)
        ));
    }
}
