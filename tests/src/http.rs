//! Minimal blocking HTTP GET over a raw socket, for polling the admin listener from
//! synchronous code without an async runtime.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

fn get(url: &str) -> std::io::Result<(u16, String)> {
    let rest = url
        .strip_prefix("http://")
        .ok_or_else(|| std::io::Error::other("only http:// URLs"))?;
    let (host, path) = rest.split_once('/').unwrap_or((rest, ""));
    let mut s = TcpStream::connect(host)?;
    s.set_read_timeout(Some(Duration::from_secs(5)))?;
    write!(
        s,
        "GET /{path} HTTP/1.1\r\nhost: {host}\r\nconnection: close\r\n\r\n"
    )?;
    let mut out = Vec::new();
    s.read_to_end(&mut out)?;
    let text = String::from_utf8_lossy(&out).to_string();
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| std::io::Error::other("no status"))?;
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    Ok((status, body))
}

/// The status of `GET url`.
pub fn get_status(url: &str) -> std::io::Result<u16> {
    get(url).map(|(s, _)| s)
}

/// The body of `GET url` (content-length responses only).
pub fn get_text(url: &str) -> std::io::Result<String> {
    get(url).map(|(_, b)| b)
}
