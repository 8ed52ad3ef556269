// LMCompression — the one place zstd and zlib are called from Swift.
// Each C function is wrapped once here; other modules use these Swift types only.
