//! Media parts: images and documents, which Converse takes as base64 bytes or S3 objects.

use serde_json::{json, Value};

use super::request::invalid;
use crate::TranslateError;

/// `data:<mime>;base64,<data>` → (mime, data).
fn data_url<'a>(url: &'a str, at: &str) -> Result<(&'a str, &'a str), TranslateError> {
    let (header, data) = url
        .strip_prefix("data:")
        .and_then(|rest| rest.split_once(','))
        .ok_or_else(|| invalid(at, format!("{at}: malformed data URL")))?;
    let mime = header.split(';').next().unwrap_or("");
    if !header.ends_with(";base64") || mime.is_empty() || data.is_empty() {
        return Err(invalid(
            at,
            format!("{at}: data URL must be `data:<mime type>;base64,<data>`"),
        ));
    }
    Ok((mime, data))
}

/// An `image` block: base64 bytes (Converse's JSON carries blobs as base64) or an S3 object.
pub(super) fn image(url: &str, at: &str) -> Result<Value, TranslateError> {
    if let Some(rest) = url.strip_prefix("s3://") {
        let format = match rest.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase()) {
            Some(e) if e == "png" || e == "gif" || e == "webp" => e,
            _ => "jpeg".to_owned(),
        };
        return Ok(
            json!({ "image": { "format": format, "source": { "s3Location": { "uri": url } } } }),
        );
    }
    if !url.starts_with("data:") {
        return Err(invalid(
            at,
            format!("{at}: bedrock takes images as base64 data: URLs or s3:// URIs, not links"),
        ));
    }
    let (mime, data) = data_url(url, at)?;
    let format = match mime {
        "image/png" => "png",
        "image/jpeg" | "image/jpg" => "jpeg",
        "image/gif" => "gif",
        "image/webp" => "webp",
        other => {
            return Err(invalid(
                at,
                format!(
                    "{at}: image type {other:?} is not one bedrock takes (png, jpeg, gif, webp)"
                ),
            ))
        }
    };
    Ok(json!({ "image": { "format": format, "source": { "bytes": data } } }))
}

/// A `document` block from a base64 file; Converse requires a name, unique in the request.
pub(super) fn document(url: &str, n: usize, at: &str) -> Result<Value, TranslateError> {
    let (mime, data) = data_url(url, at)?;
    let format = match mime {
        "application/pdf" => "pdf",
        "text/csv" => "csv",
        "text/plain" => "txt",
        "text/markdown" => "md",
        "text/html" => "html",
        "application/msword" => "doc",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document" => "docx",
        "application/vnd.ms-excel" => "xls",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" => "xlsx",
        other => {
            return Err(invalid(
                at,
                format!("{at}: document type {other:?} is not one bedrock takes"),
            ))
        }
    };
    Ok(
        json!({ "document": { "format": format, "name": format!("document {n}"), "source": { "bytes": data } } }),
    )
}
