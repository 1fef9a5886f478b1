//! mailstore (being written)
