//! HTML pages: written by hand with every interpolated value escaped by `html-escape`
//! (a template engine would be one more dependency for four small pages).

/// Escapes `s` for element content and double-quoted attribute values (`& < > " '`).
pub(crate) fn escape(s: &str) -> String {
    html_escape::encode_quoted_attribute(s).into_owned()
}

/// A whole page around `body` (already HTML), titled `title` (text). With
/// `refresh_secs > 0` the browser reloads it by itself.
pub(crate) fn page(title: &str, body: &str, refresh_secs: u32) -> String {
    let refresh = if refresh_secs > 0 {
        format!("<meta http-equiv=\"refresh\" content=\"{refresh_secs}\">")
    } else {
        String::new()
    };
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">{refresh}\
<title>{title}</title><style>\
body{{font-family:sans-serif;max-width:60em;margin:2em auto;color:#222}}\
table{{border-collapse:collapse;width:100%}}td,th{{border:1px solid #ccc;padding:.3em .6em;text-align:left}}\
.button{{display:inline-block;padding:.5em 1.2em;border-radius:4px;color:#fff;text-decoration:none;margin-right:1em}}\
.slack{{background:#4a154b}}.pinterest{{background:#e60023}}\
.live{{color:#007a5a;font-weight:bold}}.dead{{color:#c00;font-weight:bold}}\
.error{{border-left:4px solid #c00;padding-left:1em}}</style></head>\
<body><p><a href=\"/\">picoauth install app</a></p><h1>{title}</h1>{body}</body></html>",
        title = escape(title),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_and_quotes() {
        assert_eq!(
            escape("<script>alert('x')</script>&\""),
            "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;&amp;&quot;"
        );
        assert!(page("a<b", "", 0).contains("<title>a&lt;b</title>"));
        assert!(!page("t", "", 0).contains("http-equiv"));
        assert!(page("t", "", 3).contains("content=\"3\""));
    }
}
