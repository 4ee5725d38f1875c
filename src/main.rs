//! The `embedserve` binary; everything lives in the library.

/// mimalloc instead of the system allocator: tokenizing allocates many small strings per text,
/// and glibc's malloc and free took about a quarter of the CPU of a `/v1/embeddings` load.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    embedserve::cli::main()
}
