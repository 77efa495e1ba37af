//! The search index: the words of each searchable thing (a technology, a demand), kept in
//! `search_docs` and ranked by relevance — bm25 over an FTS5 table on SQLite, `ts_rank` over a
//! 'simple' tsvector on PostgreSQL. The parts that own the things write their words here in
//! the same transaction as each change; this module never reads their tables, and the
//! filters and pages of a search stay with those parts.
//!
//! Both backends index the same prepared text ([`words`]): lower case, without diacritics,
//! đ read as d (unicode61 does not count it as a diacritic), and every run of Chinese
//! (or Japanese, Korean) characters written as overlapping bigrams, since those languages put
//! no spaces between words. A query is prepared the same way, so "rom ra" finds "Rơm rạ" and
//! "太阳能" finds "太阳能干燥机" (as the phrase "太阳 阳能").

use std::collections::{BTreeSet, HashMap};

use diesel::prelude::*;
use diesel::sql_types::{Double, Text};
use unicode_normalization::UnicodeNormalization;

use crate::db::schema::search_docs;
use crate::db::DbConn;

/// What a search document describes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Technology,
    Demand,
}

impl Kind {
    fn as_str(self) -> &'static str {
        match self {
            Kind::Technology => "technology",
            Kind::Demand => "demand",
        }
    }
}

/// A found document, best first: `score` is higher for a better match (comparable only
/// within one search).
#[derive(Debug, Clone, PartialEq)]
pub struct Hit {
    pub id: String,
    pub score: f64,
}

/// The most words of a query that are searched for (the rest are ignored).
pub const MAX_QUERY_TERMS: usize = 8;

/// Whether `c` is written without spaces between words (CJK ideographs, kana, hangul).
fn unspaced(c: char) -> bool {
    matches!(c as u32,
        0x3040..=0x30FF      // hiragana, katakana
        | 0x3400..=0x4DBF    // CJK extension A
        | 0x4E00..=0x9FFF    // CJK unified ideographs
        | 0xAC00..=0xD7AF    // hangul syllables
        | 0xF900..=0xFAFF    // CJK compatibility ideographs
        | 0x20000..=0x2FA1F) // CJK extensions B–F, compatibility supplement
}

/// Lower case without diacritics, đ read as d: "Cà phê Đà Lạt" -> "ca phe da lat".
pub fn fold(text: &str) -> String {
    text.nfd()
        .filter(|c| !unicode_normalization::char::is_combining_mark(*c))
        .map(|c| match c {
            'đ' | 'Đ' => 'd',
            c => c,
        })
        .collect::<String>()
        .to_lowercase()
}

/// One searchable unit of text: a word, or a run of unspaced characters as its bigrams.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Term {
    Word(String),
    /// The overlapping bigrams of a run of two or more unspaced characters, in order.
    Bigrams(Vec<String>),
    /// A single unspaced character (found at the start of the bigrams that hold it).
    Single(String),
}

/// The terms of `text`, folded, in order.
fn terms(text: &str) -> Vec<Term> {
    let folded = fold(text);
    let mut out = Vec::new();
    let mut word = String::new();
    let mut run: Vec<char> = Vec::new();
    let flush_word = |word: &mut String, out: &mut Vec<Term>| {
        if !word.is_empty() {
            out.push(Term::Word(std::mem::take(word)));
        }
    };
    let flush_run = |run: &mut Vec<char>, out: &mut Vec<Term>| {
        match run.len() {
            0 => {}
            1 => out.push(Term::Single(run[0].to_string())),
            _ => out.push(Term::Bigrams(
                run.windows(2).map(|w| w.iter().collect()).collect(),
            )),
        }
        run.clear();
    };
    for c in folded.chars() {
        if unspaced(c) {
            flush_word(&mut word, &mut out);
            run.push(c);
        } else if c.is_alphanumeric() {
            flush_run(&mut run, &mut out);
            word.push(c);
        } else {
            flush_word(&mut word, &mut out);
            flush_run(&mut run, &mut out);
        }
    }
    flush_word(&mut word, &mut out);
    flush_run(&mut run, &mut out);
    out
}

/// The indexed form of `text`: its folded words and bigrams, separated by spaces.
pub fn words(text: &str) -> String {
    let mut out: Vec<String> = Vec::new();
    for term in terms(text) {
        match term {
            Term::Word(w) | Term::Single(w) => out.push(w),
            Term::Bigrams(b) => out.extend(b),
        }
    }
    out.join(" ")
}

/// The distinct words of an indexed text (as [`words`] wrote it), for telling what two
/// things have in common.
pub fn word_set(indexed: &str) -> BTreeSet<String> {
    words(indexed)
        .split(' ')
        .filter(|w| !w.is_empty())
        .map(str::to_string)
        .collect()
}

/// A query in FTS5's syntax: every term required, each quoted (so no word is an operator),
/// bigrams as a phrase, a single unspaced character as a prefix.
fn fts5_query(terms: &[Term]) -> String {
    let quote = |w: &str| format!("\"{}\"", w.replace('"', "\"\""));
    terms
        .iter()
        .map(|t| match t {
            Term::Word(w) => quote(w),
            Term::Bigrams(b) => quote(&b.join(" ")),
            Term::Single(c) => format!("{}*", quote(c)),
        })
        .collect::<Vec<_>>()
        .join(" AND ")
}

/// A query in PostgreSQL's tsquery syntax, with the same meaning as [`fts5_query`].
fn tsquery(terms: &[Term]) -> String {
    let quote = |w: &str| format!("'{}'", w.replace('\'', "''"));
    terms
        .iter()
        .map(|t| match t {
            Term::Word(w) => quote(w),
            Term::Bigrams(b) => format!(
                "({})",
                b.iter().map(|w| quote(w)).collect::<Vec<_>>().join(" <-> ")
            ),
            Term::Single(c) => format!("{}:*", quote(c)),
        })
        .collect::<Vec<_>>()
        .join(" & ")
}

/// Writes (or rewrites) the words of one document: `texts` are its searchable fields.
pub fn put(conn: &mut DbConn, kind: Kind, id: &str, texts: &[&str]) -> QueryResult<()> {
    let body = texts
        .iter()
        .map(|t| words(t))
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    let changed = diesel::update(
        search_docs::table
            .filter(search_docs::kind.eq(kind.as_str()))
            .filter(search_docs::doc_id.eq(id)),
    )
    .set(search_docs::body.eq(&body))
    .execute(conn)?;
    if changed == 0 {
        diesel::insert_into(search_docs::table)
            .values((
                search_docs::kind.eq(kind.as_str()),
                search_docs::doc_id.eq(id),
                search_docs::body.eq(&body),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// Removes one document from the index.
pub fn remove(conn: &mut DbConn, kind: Kind, id: &str) -> QueryResult<()> {
    diesel::delete(
        search_docs::table
            .filter(search_docs::kind.eq(kind.as_str()))
            .filter(search_docs::doc_id.eq(id)),
    )
    .execute(conn)?;
    Ok(())
}

#[derive(QueryableByName)]
struct Found {
    #[diesel(sql_type = Text)]
    doc_id: String,
    #[diesel(sql_type = Double)]
    score: f64,
}

/// Every document of `kind` holding all the words of `query`, best match first (ties by id).
/// A query with no words (only punctuation, say) finds nothing.
pub fn find(conn: &mut DbConn, kind: Kind, query: &str) -> QueryResult<Vec<Hit>> {
    let mut wanted = terms(query);
    wanted.truncate(MAX_QUERY_TERMS);
    if wanted.is_empty() {
        return Ok(Vec::new());
    }
    // The one place the two engines differ: how a match is asked for and ranked.
    let found: Vec<Found> = match conn {
        DbConn::Sqlite(c) => diesel::sql_query(
            "SELECT d.doc_id AS doc_id, -bm25(search_fts) AS score \
             FROM search_fts CROSS JOIN search_docs d ON d.id = search_fts.rowid \
             WHERE search_fts MATCH ? AND d.kind = ? ORDER BY score DESC, d.doc_id",
        )
        .bind::<Text, _>(fts5_query(&wanted))
        .bind::<Text, _>(kind.as_str())
        .load(c)?,
        DbConn::Postgres(c) => diesel::sql_query(
            "SELECT doc_id, CAST(ts_rank(words, q) AS DOUBLE PRECISION) AS score \
             FROM search_docs, to_tsquery('simple', $1) AS q \
             WHERE kind = $2 AND words @@ q ORDER BY score DESC, doc_id",
        )
        .bind::<Text, _>(tsquery(&wanted))
        .bind::<Text, _>(kind.as_str())
        .load(c)?,
    };
    Ok(found
        .into_iter()
        .map(|f| Hit {
            id: f.doc_id,
            score: f.score,
        })
        .collect())
}

/// The indexed words of each of `ids` that is in the index.
pub fn words_of(
    conn: &mut DbConn,
    kind: Kind,
    ids: &[String],
) -> QueryResult<HashMap<String, BTreeSet<String>>> {
    let mut out = HashMap::new();
    for chunk in ids.chunks(500) {
        let rows: Vec<(String, String)> = search_docs::table
            .filter(search_docs::kind.eq(kind.as_str()))
            .filter(search_docs::doc_id.eq_any(chunk))
            .select((search_docs::doc_id, search_docs::body))
            .load(conn)?;
        for (id, body) in rows {
            out.insert(id, word_set(&body));
        }
    }
    Ok(out)
}

/// Whether `kind` `id` is in the index (for tests of the index's step with its owner).
pub fn indexed(conn: &mut DbConn, kind: Kind, id: &str) -> QueryResult<bool> {
    let n: i64 = search_docs::table
        .filter(search_docs::kind.eq(kind.as_str()))
        .filter(search_docs::doc_id.eq(id))
        .count()
        .get_result(conn)?;
    Ok(n > 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_vietnamese_and_dd() {
        assert_eq!(fold("Rơm rạ Đồng Tháp đường"), "rom ra dong thap duong");
        assert_eq!(words("Cà phê, Đà Lạt!"), "ca phe da lat");
        assert_eq!(words("SP-2024/001"), "sp 2024 001");
    }

    #[test]
    fn chinese_runs_become_bigrams() {
        assert_eq!(words("太阳能干燥机"), "太阳 阳能 能干 干燥 燥机");
        assert_eq!(words("用 太阳能 drying"), "用 太阳 阳能 drying");
        assert_eq!(words("ERP系统"), "erp 系统");
    }

    #[test]
    fn queries_quote_every_term() {
        let t = terms("máy sấy 太阳能 茶 \"or\"");
        assert_eq!(
            fts5_query(&t),
            "\"may\" AND \"say\" AND \"太阳 阳能\" AND \"茶\"* AND \"or\""
        );
        assert_eq!(
            tsquery(&t),
            "'may' & 'say' & ('太阳' <-> '阳能') & '茶':* & 'or'"
        );
        assert!(terms("% _ -- ''").is_empty());
    }

    #[test]
    fn word_sets_read_back_the_index() {
        let set = word_set(&words("Máy sấy nông sản, máy"));
        assert_eq!(
            set.into_iter().collect::<Vec<_>>(),
            ["may", "nong", "san", "say"]
        );
    }
}
