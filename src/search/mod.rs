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
//!
//! Beside its words each document carries **facets**: named values its owner filters by (who
//! may see it, its status, its sector…), given with the words and kept in step the same way.
//! They are indexed as words of their own (a second FTS5 column; a second tsvector), so a
//! filtered search — its matches, their count and a ranked page — is answered by the index
//! alone, without reading a row of the owner's table for each match. A facet is written as one
//! token of letters and digits, `f<name>x<value in hex>`, which no tokenizer splits and no
//! value can collide with.

use std::collections::{BTreeSet, HashMap};

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Double, Text};
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

/// Writes (or rewrites) the words of one document: `texts` are its searchable fields,
/// `facets` what its owner filters searches by.
pub fn put(
    conn: &mut DbConn,
    kind: Kind,
    id: &str,
    texts: &[&str],
    facets: &[Facet],
) -> QueryResult<()> {
    let body = texts
        .iter()
        .map(|t| words(t))
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    let facets = facets_text(kind, facets);
    let changed = diesel::update(
        search_docs::table
            .filter(search_docs::kind.eq(kind.as_str()))
            .filter(search_docs::doc_id.eq(id)),
    )
    .set((search_docs::body.eq(&body), search_docs::facets.eq(&facets)))
    .execute(conn)?;
    if changed == 0 {
        diesel::insert_into(search_docs::table)
            .values((
                search_docs::kind.eq(kind.as_str()),
                search_docs::doc_id.eq(id),
                search_docs::body.eq(&body),
                search_docs::facets.eq(&facets),
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

/// A facet of a search document: a name (lower-case letters) and a value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Facet {
    pub name: &'static str,
    pub value: String,
}

impl Facet {
    pub fn new(name: &'static str, value: impl Into<String>) -> Facet {
        debug_assert!(name.bytes().all(|b| b.is_ascii_lowercase()), "{name}");
        Facet {
            name,
            value: value.into(),
        }
    }

    /// The facet as the index holds it: `f<name>x<value's UTF-8 in lower-case hex>` (the
    /// migrations write the same with SQL's hex functions).
    fn token(&self) -> String {
        let mut out = format!("f{}x", self.name);
        for b in self.value.bytes() {
            out.push_str(&format!("{b:02x}"));
        }
        out
    }
}

/// The facet every document has: its kind.
fn kind_facet(kind: Kind) -> Facet {
    Facet::new("kind", kind.as_str())
}

/// What a search keeps: every group must hold, and a group holds when the document has any
/// of its facets. An empty group keeps nothing.
pub type Filter = [Vec<Facet>];

/// The FTS5 query for `terms` among documents of `kind` passing `filter`: the words asked of
/// the `body` column, the facets of the `facets` column.
fn fts5_filtered(kind: Kind, terms: &[Term], filter: &Filter) -> String {
    let mut parts = vec![format!("body : ({})", fts5_query(terms))];
    let group = |facets: &[Facet]| {
        facets
            .iter()
            .map(|f| format!("\"{}\"", f.token()))
            .collect::<Vec<_>>()
            .join(" OR ")
    };
    parts.push(format!("facets : ({})", group(&[kind_facet(kind)])));
    for facets in filter {
        parts.push(format!("facets : ({})", group(facets)));
    }
    parts.join(" AND ")
}

/// The tsquery of `filter`'s facets for `kind`, with the meaning of [`fts5_filtered`]'s.
fn facet_tsquery(kind: Kind, filter: &Filter) -> String {
    let group = |facets: &[Facet]| {
        format!(
            "({})",
            facets
                .iter()
                .map(|f| format!("'{}'", f.token()))
                .collect::<Vec<_>>()
                .join(" | ")
        )
    };
    std::iter::once(group(&[kind_facet(kind)]))
        .chain(filter.iter().map(|g| group(g)))
        .collect::<Vec<_>>()
        .join(" & ")
}

/// The query's terms, or `None` when nothing can match: no words (only punctuation, say) or a
/// group of the filter that no facet can satisfy.
fn searchable(query: &str, filter: &Filter) -> Option<Vec<Term>> {
    let mut wanted = terms(query);
    wanted.truncate(MAX_QUERY_TERMS);
    (!wanted.is_empty() && filter.iter().all(|g| !g.is_empty())).then_some(wanted)
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// Every document of `kind` passing `filter` and holding all the words of `query`, best match
/// first (ties in the order they were first indexed). A query with no words (only
/// punctuation, say) finds nothing.
pub fn find(conn: &mut DbConn, kind: Kind, query: &str, filter: &Filter) -> QueryResult<Vec<Hit>> {
    match searchable(query, filter) {
        Some(wanted) => ranked(conn, kind, &wanted, filter, None),
        None => Ok(Vec::new()),
    }
}

/// One page of [`find`]'s answer (`limit` from `offset`) and how many it holds in all, read
/// from the index alone: the count without ranking, then only the page's documents ranked
/// in order and their ids read.
pub fn page(
    conn: &mut DbConn,
    kind: Kind,
    query: &str,
    filter: &Filter,
    limit: i64,
    offset: i64,
) -> QueryResult<(Vec<Hit>, i64)> {
    let Some(wanted) = searchable(query, filter) else {
        return Ok((Vec::new(), 0));
    };
    let total = match conn {
        DbConn::Sqlite(c) => {
            diesel::sql_query("SELECT count(*) AS n FROM search_fts WHERE search_fts MATCH ?")
                .bind::<Text, _>(fts5_filtered(kind, &wanted, filter))
                .get_result::<Count>(c)?
                .n
        }
        DbConn::Postgres(c) => {
            diesel::sql_query(
                "SELECT count(*) AS n FROM search_docs \
                 WHERE words @@ to_tsquery('simple', $1) AND facet_words @@ to_tsquery('simple', $2)",
            )
            .bind::<Text, _>(tsquery(&wanted))
            .bind::<Text, _>(facet_tsquery(kind, filter))
            .get_result::<Count>(c)?
            .n
        }
    };
    if total <= offset || limit <= 0 {
        return Ok((Vec::new(), total));
    }
    let hits = ranked(conn, kind, &wanted, filter, Some((limit, offset)))?;
    Ok((hits, total))
}

/// The matches of `wanted` passing `filter`, ranked: all, or the page `(limit, offset)`.
fn ranked(
    conn: &mut DbConn,
    kind: Kind,
    wanted: &[Term],
    filter: &Filter,
    page: Option<(i64, i64)>,
) -> QueryResult<Vec<Hit>> {
    let (limit, offset) = page.unwrap_or((-1, 0));
    // The one place the two engines differ: how a match is asked for and ranked. SQLite
    // ranks inside FTS5 (bm25 over the words only) and reads the ids of the page alone.
    let found: Vec<Found> = match conn {
        DbConn::Sqlite(c) => diesel::sql_query(
            "SELECT d.doc_id AS doc_id, r.score AS score FROM \
               (SELECT rowid AS id, -bm25(search_fts, 1.0, 0.0) AS score FROM search_fts \
                WHERE search_fts MATCH ? ORDER BY score DESC, rowid LIMIT ? OFFSET ?) AS r \
             CROSS JOIN search_docs d ON d.id = r.id ORDER BY r.score DESC, r.id",
        )
        .bind::<Text, _>(fts5_filtered(kind, wanted, filter))
        .bind::<BigInt, _>(limit)
        .bind::<BigInt, _>(offset)
        .load(c)?,
        DbConn::Postgres(c) => diesel::sql_query(
            "SELECT doc_id, CAST(ts_rank(words, q) AS DOUBLE PRECISION) AS score \
             FROM search_docs, to_tsquery('simple', $1) AS q \
             WHERE words @@ q AND facet_words @@ to_tsquery('simple', $2) \
             ORDER BY score DESC, id LIMIT $3 OFFSET $4",
        )
        .bind::<Text, _>(tsquery(wanted))
        .bind::<Text, _>(facet_tsquery(kind, filter))
        .bind::<diesel::sql_types::Nullable<BigInt>, _>((limit >= 0).then_some(limit))
        .bind::<BigInt, _>(offset)
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

/// Sets the facets of one indexed document (when what its owner filters by changed but its
/// words did not). A document not in the index is left out.
pub fn set_facets(conn: &mut DbConn, kind: Kind, id: &str, facets: &[Facet]) -> QueryResult<()> {
    diesel::update(
        search_docs::table
            .filter(search_docs::kind.eq(kind.as_str()))
            .filter(search_docs::doc_id.eq(id)),
    )
    .set(search_docs::facets.eq(facets_text(kind, facets)))
    .execute(conn)?;
    Ok(())
}

/// The `facets` column of a document of `kind` with `facets`.
fn facets_text(kind: Kind, facets: &[Facet]) -> String {
    std::iter::once(kind_facet(kind).token())
        .chain(facets.iter().map(Facet::token))
        .collect::<Vec<_>>()
        .join(" ")
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
    fn facets_are_single_tokens_of_letters_and_digits() {
        assert_eq!(
            Facet::new("status", "listed").token(),
            "fstatusx6c6973746564"
        );
        // Any value, spaces and accents included, is one token, and no two values share one.
        assert_eq!(
            Facet::new("field", "Cơ khí").token(),
            "ffieldx43c6a1206b68c3ad"
        );
        assert_ne!(
            Facet::new("field", "ab").token(),
            Facet::new("field", "AB").token()
        );
    }

    #[test]
    fn a_filter_asks_the_words_of_the_body_and_each_group_of_the_facets() {
        let t = terms("may say");
        let filter = vec![
            vec![Facet::new("status", "listed"), Facet::new("org", "o1")],
            vec![Facet::new("ip", "patent")],
        ];
        assert_eq!(
            fts5_filtered(Kind::Technology, &t, &filter),
            "body : (\"may\" AND \"say\") \
             AND facets : (\"fkindx746563686e6f6c6f6779\") \
             AND facets : (\"fstatusx6c6973746564\" OR \"forgx6f31\") \
             AND facets : (\"fipx706174656e74\")"
        );
        assert_eq!(
            facet_tsquery(Kind::Demand, &filter),
            "('fkindx64656d616e64') & ('fstatusx6c6973746564' | 'forgx6f31') & ('fipx706174656e74')"
        );
        // A group nothing can satisfy (no institute in the province) finds nothing.
        assert!(searchable("may say", &[vec![]]).is_none());
        assert!(searchable("...", &[]).is_none());
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
