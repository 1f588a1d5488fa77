use clap::Parser;

/// mimalloc instead of glibc's malloc: the server allocates and frees many small
/// buffers per frame on two threads, and glibc's malloc took about a fifth of the
/// server's CPU on the `send` path (docs/BENCHMARKS.md).
#[cfg(feature = "mimalloc")]
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[actix_web::main]
async fn main() -> anyhow::Result<()> {
    andon::cli::run(andon::cli::Cli::parse()).await
}
