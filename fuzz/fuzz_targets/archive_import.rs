#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| oix_fuzz::archive_import(data));
