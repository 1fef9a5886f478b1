//! test-support (being written)
