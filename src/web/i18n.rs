//! The pages' words in Vietnamese and English: flat catalogues built into the binary, one pair
//! per group of pages (`i18n/<group>.vi.toml`, `i18n/<group>.en.toml`), merged at start, and
//! the `t(key, name=value…)` function templates call. A key missing from a catalogue is an
//! error when the page is set, never the key shown to a person.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use minijinja::value::Kwargs;
use minijinja::{Error, ErrorKind, State};

/// The languages the pages are written in.
pub const LANGS: [&str; 2] = ["vi", "en"];

/// `lang` if the pages are written in it.
pub fn ours(lang: &str) -> Option<&'static str> {
    LANGS.into_iter().find(|l| *l == lang)
}

std::thread_local! {
    /// The language of the page this thread is setting ([`Rendering`]), so that `t` need not
    /// look `lang` up through the template's scopes on each of a page's dozens of calls.
    static RENDERING: std::cell::Cell<Option<&'static str>> = const { std::cell::Cell::new(None) };
}

/// While alive, the page being set on this thread is in its language (see [`RENDERING`]);
/// the language before it comes back when it is dropped.
pub struct Rendering(Option<&'static str>);

impl Rendering {
    pub fn start(lang: Option<&'static str>) -> Rendering {
        Rendering(RENDERING.with(|r| r.replace(lang)))
    }
}

impl Drop for Rendering {
    fn drop(&mut self) {
        RENDERING.with(|r| r.set(self.0));
    }
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

    /// The text of `key` in `lang`, with `{name}` placeholders filled from `args`.
    pub fn text(&self, lang: &str, key: &str, args: &[(&str, String)]) -> Option<String> {
        let mut text = self.1.get(lang)?.get(key)?.as_str()?.to_string();
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

/// The template function `t`: the text of a key in the page's language (`lang` in the
/// context), its placeholders filled from the keyword arguments.
pub fn function(
    catalogues: Arc<Catalogues>,
) -> impl Fn(&State, &str, Kwargs) -> Result<minijinja::Value, Error> + Send + Sync + 'static {
    move |state: &State, key: &str, kwargs: Kwargs| {
        let looked_up;
        let lang = match RENDERING.with(|r| r.get()) {
            Some(lang) => lang,
            None => {
                looked_up = state.lookup("lang");
                looked_up.as_ref().and_then(|v| v.as_str()).unwrap_or("vi")
            }
        };
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
