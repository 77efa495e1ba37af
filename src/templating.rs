//! minijinja set up for plain text, as mail and contract templates use it: strict about
//! undefined values (a misspelt field is an error, not an empty string) and without HTML
//! escaping (the output is not HTML).

/// A fresh environment for plain-text templates.
pub fn text_environment() -> minijinja::Environment<'static> {
    let mut env = minijinja::Environment::new();
    env.set_undefined_behavior(minijinja::UndefinedBehavior::Strict);
    env.set_auto_escape_callback(|_| minijinja::AutoEscape::None);
    env
}
