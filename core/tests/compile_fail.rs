//! The compile errors a plugin author meets first, checked word for word: each mistake must name
//! its cause and the fix (the messages come from `#[diagnostic::on_unimplemented]` on the SDK's
//! traits). The expected output is in `ui/*.stderr`; after a deliberate change of a message,
//! regenerate it with `TRYBUILD=overwrite cargo test -p quack-core --test compile_fail` and read
//! the diff. The text depends on the compiler version (Rust 1.95 here and in CI).

#[test]
fn newcomer_mistakes_name_their_cause() {
    let cases = trybuild::TestCases::new();
    cases.compile_fail("tests/ui/*.rs");
    cases.pass("tests/ui/pass/*.rs");
}
