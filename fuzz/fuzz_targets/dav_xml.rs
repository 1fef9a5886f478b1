//! Feeds arbitrary request bodies to the DAV XML reader: it may never panic,
//! and whatever it accepts stays within its depth and element caps.

#![no_main]

use dav::xml::read::{Element, MAX_DEPTH, MAX_ELEMENTS, parse};
use libfuzzer_sys::fuzz_target;

fn measure(el: &Element, depth: usize, count: &mut usize) -> usize {
    *count += 1;
    el.children.iter().map(|c| measure(c, depth + 1, count)).max().unwrap_or(depth)
}

fuzz_target!(|data: &[u8]| {
    if let Ok(root) = parse(data) {
        let mut count = 0;
        assert!(measure(&root, 1, &mut count) <= MAX_DEPTH);
        assert!(count <= MAX_ELEMENTS);
    }
});
