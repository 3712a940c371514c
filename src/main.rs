//! The `hydrograd` command line: a thin layer over the library (see `hydrograd --help`).

mod cli;

#[cfg(target_env = "gnu")]
#[global_allocator]
static ALLOCATOR: memory::LargePages = memory::LargePages;

fn main() -> std::process::ExitCode {
    #[cfg(target_env = "gnu")]
    memory::keep_freed_memory();
    cli::main()
}

/// Memory behaviour for arrays of hundreds of MB (national grids): a run allocates, fills and frees
/// several of them, and by default pays one page fault per 4 KiB each time.
#[cfg(target_env = "gnu")]
mod memory {
    use std::alloc::{GlobalAlloc, Layout, System};

    /// glibc returns every large block to the kernel when it is freed, so the next one faults again:
    /// keep freed memory in the process instead.
    pub fn keep_freed_memory() {
        // SAFETY: mallopt only changes allocator thresholds; called before any thread starts.
        unsafe {
            libc::mallopt(libc::M_MMAP_THRESHOLD, 1 << 30);
            libc::mallopt(libc::M_TRIM_THRESHOLD, 1 << 30);
        }
    }

    /// The system allocator, asking the kernel for 2 MiB pages on large blocks (transparent huge pages
    /// in `madvise` mode): 512 times fewer page faults when they are first written.
    pub struct LargePages;

    const LARGE: usize = 8 << 20;
    const HUGE_PAGE: usize = 2 << 20;

    fn advise(ptr: *mut u8, size: usize) {
        if ptr.is_null() || size < LARGE {
            return;
        }
        let start = (ptr as usize).next_multiple_of(HUGE_PAGE);
        let end = (ptr as usize + size) / HUGE_PAGE * HUGE_PAGE;
        if end > start {
            // SAFETY: the range lies inside the block just allocated; the advice changes no contents.
            unsafe { libc::madvise(start as *mut libc::c_void, end - start, libc::MADV_HUGEPAGE) };
        }
    }

    // SAFETY: every call is forwarded to the system allocator unchanged; `advise` only adds a hint.
    unsafe impl GlobalAlloc for LargePages {
        unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
            let ptr = unsafe { System.alloc(layout) };
            advise(ptr, layout.size());
            ptr
        }

        unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
            let ptr = unsafe { System.alloc_zeroed(layout) };
            advise(ptr, layout.size());
            ptr
        }

        unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
            unsafe { System.dealloc(ptr, layout) }
        }

        unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
            let ptr = unsafe { System.realloc(ptr, layout, new_size) };
            advise(ptr, new_size);
            ptr
        }
    }
}
