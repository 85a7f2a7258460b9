//! The page takes its words and labels from the domain's vocabulary,
//! generated into it by the server: the table it is served with is the
//! domain's, and the template spells none of the labels itself.

use dotpha_domain::vocabulary::{tables, tables_json};

const TEMPLATE: &str = include_str!("../src/page.html");

/// The JSON the served page assigns to `VOCABULARY`.
fn served_table() -> serde_json::Value {
    let page = dotpha_http::page_html();
    let start = page
        .find("const VOCABULARY = ")
        .expect("the page declares its vocabulary")
        + "const VOCABULARY = ".len();
    let rest = &page[start..];
    let mut stream = serde_json::Deserializer::from_str(rest).into_iter::<serde_json::Value>();
    stream
        .next()
        .expect("a table follows")
        .expect("the table is JSON")
}

#[test]
fn the_served_page_carries_the_domains_vocabulary_table() {
    assert!(
        TEMPLATE.contains(dotpha_http::VOCABULARY_PLACEHOLDER),
        "the template has its placeholder"
    );
    assert!(!dotpha_http::page_html().contains(dotpha_http::VOCABULARY_PLACEHOLDER));
    assert_eq!(served_table(), tables_json());
}

/// Text of the page that is equal to a label by nature, not by copy: the
/// product's name ("Nhiệm vụ đột phá", "Breakthrough tasks") in its title.
const NOT_COPIES: [&str; 2] = ["Nhiệm vụ đột phá", "Breakthrough"];

#[test]
fn the_template_spells_no_label_of_the_vocabulary() {
    let mut copies = Vec::new();
    for table in tables() {
        for term in &table.terms {
            // Short labels ("Xã", "Cao") are also ordinary words of the
            // page's own sentences; the long ones are the vocabulary's.
            for text in [term.vi, term.en] {
                if text.chars().count() >= 10
                    && !NOT_COPIES.contains(&text)
                    && TEMPLATE.contains(text)
                {
                    copies.push(format!("{}:{} {text:?}", table.group, term.code));
                }
            }
        }
    }
    assert!(
        copies.is_empty(),
        "page.html spells labels of the vocabulary; take them from VOCABULARY: {copies:#?}"
    );
}
