//! Which requests are traced: `traceidratio` decides on the trace id alone, so every service
//! that samples by ratio keeps or drops the same traces; `parentbased_*` follows a caller's
//! sampled flag when there is a caller.

use switchyard_config::Sampler;

use crate::context::RemoteParent;
use crate::TraceId;

/// Whether a request of trace `trace_id`, called with `parent` (if any), is recorded.
pub fn sampled(sampler: &Sampler, parent: Option<&RemoteParent>, trace_id: &TraceId) -> bool {
    match parent {
        Some(p) if sampler.parent_based => p.sampled(),
        _ => ratio_keeps(sampler.ratio, trace_id),
    }
}

/// The trace id's 56 least significant bits (the random part, per W3C Trace Context level 2)
/// compared against `ratio` of their range.
fn ratio_keeps(ratio: f64, trace_id: &TraceId) -> bool {
    if ratio >= 1.0 {
        return true;
    }
    if ratio <= 0.0 {
        return false;
    }
    let mut low = [0u8; 8];
    low.copy_from_slice(&trace_id.0[8..]);
    let random = u64::from_be_bytes(low) & ((1 << 56) - 1);
    (random as f64) < ratio * (1u64 << 56) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(parent_based: bool, ratio: f64) -> Sampler {
        Sampler {
            parent_based,
            ratio,
        }
    }

    #[test]
    fn parent_based_follows_the_caller_and_ratio_decides_the_rest() {
        let id = TraceId::random();
        let caller = |flags| RemoteParent {
            trace_id: id,
            span_id: crate::SpanId::random(),
            flags,
        };
        assert!(sampled(&s(true, 0.0), Some(&caller(1)), &id));
        assert!(!sampled(&s(true, 1.0), Some(&caller(0)), &id));
        assert!(sampled(&s(false, 1.0), Some(&caller(0)), &id));
        assert!(!sampled(&s(false, 0.0), Some(&caller(1)), &id));
        assert!(sampled(&s(true, 1.0), None, &id));
        assert!(!sampled(&s(true, 0.0), None, &id));
    }

    #[test]
    fn a_ratio_keeps_about_that_share_and_the_same_ids_each_time() {
        let ids: Vec<TraceId> = (0..20_000).map(|_| TraceId::random()).collect();
        let kept = ids.iter().filter(|id| ratio_keeps(0.25, id)).count();
        assert!((4_400..5_600).contains(&kept), "{kept}");
        let again = ids.iter().filter(|id| ratio_keeps(0.25, id)).count();
        assert_eq!(kept, again);
        let mut low = TraceId([0xff; 16]);
        low.0[9..].fill(0);
        assert!(ratio_keeps(0.001, &low));
    }
}
