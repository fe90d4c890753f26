//! `revoke`: logs a subject out everywhere, through the store the application uses, as
//! [`SessionLayer::revoke_all`] does in the application.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use session_runtime::{CookieSession, Keys, SessionLayer, StoreAddress, StoreSettings};

use crate::args::RevokeOptions;
use crate::{Failure, Outcome};

/// A schema for the layer that revokes: a subject's revocation record does not depend on the
/// schema, only on the keys, the store and the timeouts.
#[derive(CookieSession, Serialize, Deserialize, Default)]
#[session(version = 1)]
struct Any {}

/// Runs `revoke` with the application's settings from the environment.
pub(crate) fn revoke(options: &RevokeOptions) -> Outcome {
    let settings = StoreSettings::from_env().map_err(|e| Failure::Usage(e.to_string()))?;
    match settings.store {
        StoreAddress::Cookie => {
            return Err(Failure::Usage(
                "revocation needs a store, and SESSION_STORE is `cookie` (or unset): set it \
                 to the application's store (memcached://… or redis://…); sessions kept only \
                 in cookies cannot be ended before they expire"
                    .into(),
            ));
        }
        StoreAddress::Memory => {
            return Err(Failure::Usage(
                "SESSION_STORE=memory lives inside the application's process, out of this \
                 tool's reach: revoke from the application (SessionLayer::revoke_all)"
                    .into(),
            ));
        }
        _ => {}
    }
    let keys = Keys::from_env_named(&options.key_env, &format!("{}_OLD", options.key_env))
        .map_err(|e| Failure::Usage(e.to_string()))?;
    let layer = SessionLayer::<Any>::builder(keys)
        .with_store_settings(&settings)
        .map_err(|e| Failure::Usage(e.to_string()))?
        .with_store_timeout(Duration::from_secs(options.timeout))
        .build()
        .map_err(|e| Failure::Usage(format!("the session settings: {e}")))?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Failure::Failed(format!("cannot start the async runtime: {e}")))?;
    runtime
        .block_on(layer.revoke_all(&options.subject))
        .map_err(|e| {
            Failure::Failed(format!(
                "nothing revoked: {} ({})",
                one_line(&e.to_string()),
                settings.store
            ))
        })?;
    Ok(format!(
        "revoked: every session of {:?} issued until now ends ({})\n",
        options.subject, settings.store
    ))
}

/// `text` on one line, as an exit message should be.
fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}
