//! Any bytes as an upstream stream, for every (upstream, client) pair: translation must never
//! panic, and must not depend on where the bytes were split. The first byte picks split points.
#![no_main]

use libfuzzer_sys::fuzz_target;
use switchyard_wire::{Dialect, StreamTranslator, TranslateError, Usage};

const UPSTREAMS: [Dialect; 3] = [Dialect::OpenAi, Dialect::Anthropic, Dialect::Gemini];
const CLIENTS: [Dialect; 2] = [Dialect::OpenAi, Dialect::Anthropic];

type Outcome = (Vec<u8>, Result<(), TranslateError>, Option<Usage>, u64, bool);

fn run(upstream: Dialect, client: Dialect, wants_usage: bool, chunks: &[&[u8]]) -> Outcome {
    let mut t = StreamTranslator::new(upstream, client, wants_usage);
    let mut out = Vec::new();
    for chunk in chunks {
        if let Err(e) = t.push(chunk, &mut out) {
            // A failed push ends the stream for the caller; where it failed may depend on the
            // split, but not the error or the output before it.
            return (out, Err(e), t.usage(), t.events_seen(), t.is_done());
        }
    }
    let end = t.finish(&mut out);
    (out, end, t.usage(), t.events_seen(), t.is_done())
}

fuzz_target!(|data: &[u8]| {
    let Some((&seed, body)) = data.split_first() else {
        return;
    };
    let step = usize::from(seed % 17) + 1;
    let chunks: Vec<&[u8]> = body.chunks(step).collect();
    for upstream in UPSTREAMS {
        for client in CLIENTS {
            let wants_usage = seed & 0x80 != 0;
            let whole = run(upstream, client, wants_usage, &[body]);
            let split = run(upstream, client, wants_usage, &chunks);
            assert_eq!(whole, split, "{upstream}->{client} depends on chunking");
        }
    }
});
