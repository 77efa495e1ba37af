//! The `usefirst` binary: see `usefirst --help`.

use clap::Parser;

fn main() {
    bound_malloc_arenas();
    let code = actix_web::rt::System::new().block_on(async {
        let cli = usefirst::cli::Cli::parse();
        match usefirst::cli::run(cli).await {
            Ok(code) => code,
            Err(err) => {
                eprintln!("usefirst: {err:#}");
                2
            }
        }
    });
    std::process::exit(code);
}

/// Two malloc arenas per core for the whole process, and blocks of 4 MiB or more always
/// mapped on their own, set before any other thread starts.
///
/// - glibc gives each thread that allocates while the others hold theirs a new arena, up to
///   eight per core; the service's 30-odd database threads each kept one, and memory freed in
///   one arena is not reused by another. Under `scripts/bench-api.sh` on 2 cores (with the
///   smaller password hashes of `auth::password`), peak memory was 55 MB with 4 arenas and
///   58 MB with 8; the build before both peaked at 106-124 MB. With one arena per core the
///   agreement reads ran a tenth slower than unbounded (39,700 against 43,500 a second, medians
///   of three interleaved runs), as if the two HTTP workers often shared one.
/// - glibc raises its mapping threshold to the size of each large block freed, so after the
///   first password hash (7 MiB of working memory) every later one came from an arena and its
///   memory stayed resident. A fixed threshold maps each such block and returns it on free.
///
/// `MALLOC_ARENA_MAX` and `MALLOC_MMAP_THRESHOLD_` in the environment still win.
fn bound_malloc_arenas() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        // SAFETY: mallopt only sets parameters of the allocator; it is called before the
        // process starts a second thread.
        if std::env::var_os("MALLOC_ARENA_MAX").is_none() {
            let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
            let arenas = i32::try_from(2 * cores).unwrap_or(i32::MAX);
            unsafe {
                libc::mallopt(libc::M_ARENA_MAX, arenas);
            }
        }
        if std::env::var_os("MALLOC_MMAP_THRESHOLD_").is_none() {
            unsafe {
                libc::mallopt(libc::M_MMAP_THRESHOLD, 4 << 20);
            }
        }
    }
}
