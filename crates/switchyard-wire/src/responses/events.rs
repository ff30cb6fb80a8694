//! The payloads of Responses stream events, written straight from borrowed fields (no `Value`
//! tree per event). The deltas keep the field order they always had; every other event's keys
//! are sorted, as the `json!` maps these replaced wrote them (pinned by the blessed fixtures in
//! `tests.rs`).

use serde::Serialize;

use super::items::{OutputItem, OutputText, SummaryText};
use super::ResponseObject;

/// `response.output_text.delta`
#[derive(Serialize)]
pub(super) struct TextDelta<'a> {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub item_id: &'a str,
    pub output_index: usize,
    pub content_index: u32,
    pub delta: &'a str,
    pub logprobs: [(); 0],
    pub sequence_number: u64,
}

/// `response.function_call_arguments.delta`
#[derive(Serialize)]
pub(super) struct ArgsDelta<'a> {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub item_id: &'a str,
    pub output_index: usize,
    pub delta: &'a str,
    pub sequence_number: u64,
}

/// `response.reasoning_summary_text.delta`
#[derive(Serialize)]
pub(super) struct SummaryDelta<'a> {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub item_id: &'a str,
    pub output_index: usize,
    pub summary_index: u32,
    pub delta: &'a str,
    pub sequence_number: u64,
}

/// `response.created`, `.in_progress`, `.completed`, …: fields in the order the `Value` map
/// this replaced wrote them.
#[derive(Serialize)]
pub(super) struct Lifecycle<'a> {
    pub response: &'a ResponseObject<'a>,
    pub sequence_number: u64,
    #[serde(rename = "type")]
    pub kind: &'static str,
}

/// `error`
#[derive(Serialize)]
pub(super) struct ErrorEvent<'a> {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub code: Option<&'a str>,
    pub message: &'a str,
    pub param: Option<&'a str>,
    pub sequence_number: u64,
}

/// `response.output_item.added` and `.done`
#[derive(Serialize)]
pub(super) struct ItemEvent<'a> {
    pub item: OutputItem<'a>,
    pub output_index: usize,
    pub sequence_number: u64,
    #[serde(rename = "type")]
    pub kind: &'static str,
}

/// `response.content_part.added` and `.done`
#[derive(Serialize)]
pub(super) struct ContentPart<'a> {
    pub content_index: u32,
    pub item_id: &'a str,
    pub output_index: usize,
    pub part: OutputText<'a>,
    pub sequence_number: u64,
    #[serde(rename = "type")]
    pub kind: &'static str,
}

/// `response.reasoning_summary_part.added` and `.done`
#[derive(Serialize)]
pub(super) struct SummaryPart<'a> {
    pub item_id: &'a str,
    pub output_index: usize,
    pub part: SummaryText<'a>,
    pub sequence_number: u64,
    pub summary_index: u32,
    #[serde(rename = "type")]
    pub kind: &'static str,
}

/// `response.output_text.done`
#[derive(Serialize)]
pub(super) struct TextDone<'a> {
    pub content_index: u32,
    pub item_id: &'a str,
    pub logprobs: [(); 0],
    pub output_index: usize,
    pub sequence_number: u64,
    pub text: &'a str,
    #[serde(rename = "type")]
    pub kind: &'static str,
}

/// `response.reasoning_summary_text.done`
#[derive(Serialize)]
pub(super) struct SummaryTextDone<'a> {
    pub item_id: &'a str,
    pub output_index: usize,
    pub sequence_number: u64,
    pub summary_index: u32,
    pub text: &'a str,
    #[serde(rename = "type")]
    pub kind: &'static str,
}

/// `response.function_call_arguments.done`
#[derive(Serialize)]
pub(super) struct ArgsDone<'a> {
    pub arguments: &'a str,
    pub item_id: &'a str,
    pub output_index: usize,
    pub sequence_number: u64,
    #[serde(rename = "type")]
    pub kind: &'static str,
}
