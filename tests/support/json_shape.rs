//! Comparing the shape of two JSON values: the same keys, recursively. Shared by the
//! library's unit tests (`#[path]` from `src/`) and the API suite.

use serde_json::Value;

/// `ours` has exactly the keys of `sample`, recursively; array elements are compared with the
/// sample's first element.
pub fn same_keys(ours: &Value, sample: &Value, path: &str) -> Result<(), String> {
    match (ours, sample) {
        (Value::Object(a), Value::Object(b)) => {
            let ka: std::collections::BTreeSet<&String> = a.keys().collect();
            let kb: std::collections::BTreeSet<&String> = b.keys().collect();
            if ka != kb {
                return Err(format!("{path}: keys {ka:?}, sample has {kb:?}"));
            }
            for (k, v) in a {
                same_keys(v, &b[k], &format!("{path}.{k}"))?;
            }
            Ok(())
        }
        (Value::Array(a), Value::Array(b)) => match b.first() {
            Some(first) => a
                .iter()
                .enumerate()
                .try_for_each(|(i, v)| same_keys(v, first, &format!("{path}[{i}]"))),
            None => Ok(()),
        },
        (Value::Object(_) | Value::Array(_), _) | (_, Value::Object(_) | Value::Array(_)) => {
            Err(format!("{path}: {ours} where the sample has {sample}"))
        }
        _ => Ok(()),
    }
}
