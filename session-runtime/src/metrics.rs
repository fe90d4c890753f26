//! The crate's metrics, through the [`metrics`](https://docs.rs/metrics) facade, behind the
//! cargo feature `metrics`. The names, labels and what counts are in the README's "Metrics"
//! table (the crate docs): one table, which a test below keeps in step with [`name`].
//!
//! Every other module records through the helpers here, one call per event, so the facade is
//! named in this file only. Without the feature each helper is an empty inline function, and a
//! call compiles to nothing. With it and no recorder installed, a call is the facade's check
//! for a recorder.
//!
//! No label carries anything a request controls: the reasons are `OpenError::reason`'s fixed
//! strings, the versions and key ids numbers from the schema and the keys, the backends and
//! operations names from the code.
//!
//! A leaf of the crate's layering (beside the errors): the lifecycle, the stores and the layer
//! call it, and it imports nothing from the crate.

#[cfg(feature = "metrics")]
use ::metrics::{counter, gauge, histogram};

/// The metrics every request records, with their keys built at compile time: the `counter!`
/// macro builds its key (and hashes it, and allocates its labels) on every call, even with no
/// recorder installed, which cost an axum user about 3 % of the instructions of a request with
/// the feature on. The rarer metrics keep the macros.
#[cfg(feature = "metrics")]
mod hot {
    use ::metrics::{Counter, Histogram, Key, Label, Level, Metadata, with_recorder};

    use super::name;

    /// What the macros would give these metrics: this module's path, level INFO.
    static METADATA: Metadata<'static> =
        Metadata::new(module_path!(), Level::INFO, Some(module_path!()));

    pub(super) static OPENED: Key = Key::from_static_name(name::OPENED);
    pub(super) static FRESH: Key = Key::from_static_name(name::FRESH);
    pub(super) static WRITTEN: Key = Key::from_static_name(name::WRITTEN);
    pub(super) static REMOVED: Key = Key::from_static_name(name::REMOVED);
    pub(super) static BUDGET_USED: Key = Key::from_static_name(name::BUDGET_USED);

    /// `session_schema_version_seen_total{version}` for the versions 1 to 16, the first 16
    /// deploys of a schema; later ones take the macro.
    macro_rules! version_keys {
        ($($i:literal $v:literal)*) => {
            static LABELS: [[Label; 1]; 16] = [$([Label::from_static_parts("version", $v)]),*];
            static VERSIONS: [Key; 16] =
                [$(Key::from_static_parts(name::SCHEMA_VERSION, &LABELS[$i])),*];
        };
    }
    version_keys!(0 "1" 1 "2" 2 "3" 3 "4" 4 "5" 5 "6" 6 "7" 7 "8" 8 "9" 9 "10" 10 "11" 11 "12" 12 "13" 13 "14" 14 "15" 15 "16");

    /// The key of `session_schema_version_seen_total{version}`, if built in.
    pub(super) fn version(version: u16) -> Option<&'static Key> {
        VERSIONS.get(usize::from(version).checked_sub(1)?)
    }

    pub(super) fn counter(key: &'static Key) -> Counter {
        with_recorder(|recorder| recorder.register_counter(key, &METADATA))
    }

    pub(super) fn histogram(key: &'static Key) -> Histogram {
        with_recorder(|recorder| recorder.register_histogram(key, &METADATA))
    }
}

/// The metric names, as the README's table lists them.
#[cfg_attr(not(feature = "metrics"), allow(dead_code))]
pub(crate) mod name {
    /// Sessions restored from a request.
    pub(crate) const OPENED: &str = "session_opened_total";
    /// Sessions handed to a request that came without a valid one.
    pub(crate) const FRESH: &str = "session_fresh_total";
    /// Sessions written by a response.
    pub(crate) const WRITTEN: &str = "session_written_total";
    /// Responses that removed the session's cookies.
    pub(crate) const REMOVED: &str = "session_removed_total";
    /// Incoming sessions that did not open, by reason.
    pub(crate) const REJECTED: &str = "session_rejected_total";
    /// Sessions migrated from an older schema version, by that version.
    pub(crate) const MIGRATED: &str = "session_migrated_total";
    /// Sessions restored, by the schema version they were sealed as.
    pub(crate) const SCHEMA_VERSION: &str = "session_schema_version_seen_total";
    /// A cookie session's sealed size over its cookies' capacity.
    pub(crate) const BUDGET_USED: &str = "session_cookie_budget_used_ratio";
    /// Store calls, by backend and operation.
    pub(crate) const STORE_CALLS: &str = "session_store_calls_total";
    /// Failed store calls, by backend, operation and error.
    pub(crate) const STORE_ERRORS: &str = "session_store_errors_total";
    /// Store call latency, by backend and operation.
    pub(crate) const STORE_DURATION: &str = "session_store_call_duration_seconds";
    /// Sessions ended in a store, by scope.
    pub(crate) const REVOCATIONS: &str = "session_revocations_total";
    /// Sessions moved in from where the configuration before kept them, by that place.
    pub(crate) const MOVED: &str = "session_moved_total";
    /// The keys a layer was built with, by key id and role.
    pub(crate) const KEYS: &str = "session_key_loaded";
    /// Failed key reloads.
    pub(crate) const KEY_RELOAD_FAILURES: &str = "session_key_reload_failures_total";

    /// Every name, for the README check.
    #[cfg(test)]
    pub(crate) const ALL: &[&str] = &[
        OPENED,
        FRESH,
        WRITTEN,
        REMOVED,
        REJECTED,
        MIGRATED,
        SCHEMA_VERSION,
        BUDGET_USED,
        STORE_CALLS,
        STORE_ERRORS,
        STORE_DURATION,
        REVOCATIONS,
        MOVED,
        KEYS,
        KEY_RELOAD_FAILURES,
    ];
}

/// A session restored from a request, sealed as schema version `sealed_as` (`migrated_from`,
/// when the schema migrated it, else the current `version`).
#[inline]
pub(crate) fn restored(migrated_from: Option<u16>, version: u16) {
    #[cfg(feature = "metrics")]
    {
        hot::counter(&hot::OPENED).increment(1);
        let sealed_as = migrated_from.unwrap_or(version);
        match hot::version(sealed_as) {
            Some(key) => hot::counter(key).increment(1),
            None => counter!(name::SCHEMA_VERSION, "version" => sealed_as.to_string()).increment(1),
        }
        if let Some(from) = migrated_from {
            counter!(name::MIGRATED, "from" => from.to_string()).increment(1);
        }
    }
    #[cfg(not(feature = "metrics"))]
    let _ = (migrated_from, version);
}

/// A session written by a response: its cookies set, or its store entry saved. `fresh`: the
/// request came without a valid session.
#[inline]
pub(crate) fn written(fresh: bool) {
    #[cfg(feature = "metrics")]
    {
        hot::counter(&hot::WRITTEN).increment(1);
        if fresh {
            hot::counter(&hot::FRESH).increment(1);
        }
    }
    #[cfg(not(feature = "metrics"))]
    let _ = fresh;
}

/// A response removed the session's cookies.
#[inline]
pub(crate) fn removed() {
    #[cfg(feature = "metrics")]
    hot::counter(&hot::REMOVED).increment(1);
}

/// An incoming session that did not open, with its `OpenError::reason`.
#[inline]
pub(crate) fn rejected(reason: &'static str) {
    #[cfg(feature = "metrics")]
    counter!(name::REJECTED, "reason" => reason).increment(1);
    #[cfg(not(feature = "metrics"))]
    let _ = reason;
}

/// A cookie session sealed to `used` characters of the `total` its cookies carry.
#[inline]
pub(crate) fn sealed_size(used: usize, total: usize) {
    #[cfg(feature = "metrics")]
    if total > 0 {
        hot::histogram(&hot::BUDGET_USED).record(used as f64 / total as f64);
    }
    #[cfg(not(feature = "metrics"))]
    let _ = (used, total);
}

/// A session issued under the configuration before this one moved to where this one keeps
/// it: `from` is `previous_store` (`with_previous_store`) or `cookies` (into a store that keeps
/// every session).
#[inline]
pub(crate) fn moved(from: &'static str) {
    #[cfg(feature = "metrics")]
    counter!(name::MOVED, "from" => from).increment(1);
    #[cfg(not(feature = "metrics"))]
    let _ = from;
}

/// One session id ended in a store (a logout, `clear`, `regenerate`): its entry deleted, or
/// its id recorded on the revocation list.
#[inline]
pub(crate) fn session_revoked() {
    #[cfg(feature = "metrics")]
    counter!(name::REVOCATIONS, "scope" => "session").increment(1);
}

/// A subject logged out everywhere (`revoke_all`).
#[inline]
pub(crate) fn subject_revoked() {
    #[cfg(feature = "metrics")]
    counter!(name::REVOCATIONS, "scope" => "subject").increment(1);
}

/// The keys a layer was built with, by id, the primary first.
#[inline]
pub(crate) fn keys_loaded(ids: impl IntoIterator<Item = u8>) {
    #[cfg(feature = "metrics")]
    {
        describe();
        for (index, id) in ids.into_iter().enumerate() {
            let role = if index == 0 { "primary" } else { "fallback" };
            gauge!(name::KEYS, "key_id" => id.to_string(), "role" => role).set(1.0);
        }
    }
    #[cfg(not(feature = "metrics"))]
    let _ = ids;
}

/// A key reload that failed; the keys in use stay.
#[inline]
#[allow(
    dead_code,
    reason = "for the key-reload work, which calls it when a reload fails"
)]
pub(crate) fn key_reload_failed() {
    #[cfg(feature = "metrics")]
    counter!(name::KEY_RELOAD_FAILURES).increment(1);
}

/// One store call being measured: [`start`](Self::start) it before the call, [`end`](Self::end)
/// it with the call's outcome. Without the feature it holds nothing and reads no clock.
#[derive(Debug)]
pub(crate) struct StoreCall {
    #[cfg(feature = "metrics")]
    backend: &'static str,
    #[cfg(feature = "metrics")]
    op: &'static str,
    #[cfg(feature = "metrics")]
    started: std::time::Instant,
}

impl StoreCall {
    /// A call of `op` (`load`, `load_many`, `save`, `delete`) on `backend`, starting now.
    #[inline]
    pub(crate) fn start(backend: &'static str, op: &'static str) -> Self {
        #[cfg(not(feature = "metrics"))]
        let _ = (backend, op);
        StoreCall {
            #[cfg(feature = "metrics")]
            backend,
            #[cfg(feature = "metrics")]
            op,
            #[cfg(feature = "metrics")]
            started: std::time::Instant::now(),
        }
    }

    /// The call ended, `Some(kind)` when it failed (`unavailable`, `timeout`, `protocol`,
    /// `rejected`).
    #[inline]
    pub(crate) fn end(self, error: Option<&'static str>) {
        #[cfg(feature = "metrics")]
        {
            let labels = [("backend", self.backend), ("op", self.op)];
            counter!(name::STORE_CALLS, &labels).increment(1);
            histogram!(name::STORE_DURATION, &labels).record(self.started.elapsed().as_secs_f64());
            if let Some(kind) = error {
                counter!(name::STORE_ERRORS, "backend" => self.backend, "op" => self.op, "error" => kind)
                    .increment(1);
            }
        }
        #[cfg(not(feature = "metrics"))]
        let _ = (self, error);
    }
}

/// Describes every metric to the recorder, once per process: an exporter shows the text as
/// the metric's help.
#[cfg(feature = "metrics")]
fn describe() {
    use ::metrics::{Unit, describe_counter, describe_gauge, describe_histogram};
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        describe_counter!(name::OPENED, "Sessions restored from a request.");
        describe_counter!(
            name::FRESH,
            "Sessions written for a request that came without a valid one."
        );
        describe_counter!(name::WRITTEN, "Sessions written by a response.");
        describe_counter!(
            name::REMOVED,
            "Responses that removed the session cookies (a logout, a rejected or ended cookie)."
        );
        describe_counter!(
            name::REJECTED,
            "Incoming sessions that did not open, by reason (expiry and revocation included)."
        );
        describe_counter!(
            name::MIGRATED,
            "Sessions restored from an older schema version, by that version."
        );
        describe_counter!(
            name::SCHEMA_VERSION,
            "Sessions restored, by the schema version they were sealed as."
        );
        describe_histogram!(
            name::BUDGET_USED,
            "A sealed cookie session's size over the capacity of its cookies."
        );
        describe_counter!(name::STORE_CALLS, "Session store calls.");
        describe_counter!(name::STORE_ERRORS, "Session store calls that failed.");
        describe_histogram!(
            name::STORE_DURATION,
            Unit::Seconds,
            "Session store call latency, timeouts included."
        );
        describe_counter!(
            name::REVOCATIONS,
            "Sessions ended in a store: one id (scope session) or a subject everywhere (scope subject)."
        );
        describe_gauge!(name::KEYS, "The keys a session layer was built with (1 each).");
        describe_counter!(name::KEY_RELOAD_FAILURES, "Session key reloads that failed.");
    });
}

#[cfg(test)]
mod tests {
    use super::name;

    /// The README's "Metrics" table (the crate docs) names every metric, and no other.
    #[test]
    fn the_readme_table_lists_every_metric() {
        let readme = include_str!("../README.md");
        let section = readme
            .split("\n## Metrics\n")
            .nth(1)
            .and_then(|rest| rest.split("\n## ").next())
            .expect("README.md has a \"## Metrics\" section");
        let listed: Vec<&str> = section
            .lines()
            .filter_map(|line| line.strip_prefix("| `"))
            .filter_map(|rest| rest.split('`').next())
            .collect();
        let mut expected = name::ALL.to_vec();
        expected.sort_unstable();
        let mut found = listed.clone();
        found.sort_unstable();
        assert_eq!(found, expected, "the README's Metrics table rows");
    }

    /// The `reason` labels the README lists are exactly `OpenError::reason`'s.
    #[test]
    fn the_readme_lists_every_rejection_reason() {
        use crate::error::{BoundsError, Expiry, OpenError, SchemaError};
        let errors = [
            OpenError::Tampered,
            OpenError::Malformed,
            OpenError::UnknownFormat { found: 9 },
            OpenError::UnknownKey { id: 1 },
            OpenError::TooManyChunks { count: 9, max: 3 },
            OpenError::MissingChunk { index: 1, count: 2 },
            OpenError::DuplicateChunk { name: "s".into() },
            OpenError::SurplusChunk {
                name: "s.2".into(),
                count: 2,
            },
            OpenError::MissingFirst,
            OpenError::Expired(Expiry::Idle),
            OpenError::Expired(Expiry::Absolute),
            OpenError::Revoked,
            OpenError::FromTheFuture { ahead_secs: 99 },
            OpenError::Bounds(BoundsError {
                type_name: "T",
                field: "f",
                len: 2,
                max: 1,
                unit: "bytes",
            }),
            OpenError::Schema(SchemaError::UnknownVersion {
                found: 9,
                newest: 2,
            }),
            OpenError::Schema(SchemaError::Decode {
                type_name: "T",
                version: 2,
            }),
        ];
        let mut reasons: Vec<&str> = errors.iter().map(OpenError::reason).collect();
        reasons.sort_unstable();
        reasons.dedup();
        let row = include_str!("../README.md")
            .lines()
            .find(|line| line.starts_with(&format!("| `{}`", name::REJECTED)))
            .expect("the README's row of the rejections");
        let listed = row
            .split_once("`OpenError::reason()`:")
            .expect("the row lists the reasons")
            .1;
        let mut found: Vec<&str> = listed.split('`').skip(1).step_by(2).collect();
        found.sort_unstable();
        assert_eq!(found, reasons);
    }

    /// Every helper runs without a recorder, with the feature or without it.
    #[test]
    fn helpers_need_no_recorder() {
        super::restored(Some(1), 2);
        super::written(true);
        super::removed();
        super::rejected("tampered");
        super::sealed_size(10, 100);
        super::session_revoked();
        super::subject_revoked();
        super::keys_loaded([1, 2]);
        super::key_reload_failed();
        super::StoreCall::start("memory", "load").end(Some("timeout"));
    }
}
