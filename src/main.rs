//! The `hydrograd` command line: a thin layer over the library (see `hydrograd --help`).

mod cli;

fn main() -> std::process::ExitCode {
    keep_freed_memory();
    cli::main()
}

/// glibc returns every large block to the kernel when it is freed, and the next large allocation then
/// pays a page fault per 4 KiB again; a run allocates and frees several arrays of hundreds of MB on
/// national grids. Keep freed memory in the process instead.
#[cfg(target_env = "gnu")]
fn keep_freed_memory() {
    // SAFETY: mallopt only changes allocator thresholds; called before any thread starts.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 1 << 30);
        libc::mallopt(libc::M_TRIM_THRESHOLD, 1 << 30);
    }
}

#[cfg(not(target_env = "gnu"))]
fn keep_freed_memory() {}
