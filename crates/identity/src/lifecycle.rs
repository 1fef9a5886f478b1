//! Account lifecycle: HR sync, states, suspension, scopes, audit log.
