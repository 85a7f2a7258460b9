//! Where a read model lives. `read.sqlite` (or `read-<worker>.sqlite` for a
//! worker with its own name) is a symbolic link to one generation,
//! `read.<n>.sqlite`; a rebuild writes a new generation beside
//! it and swaps the link with one `rename`, so readers that hold the old
//! generation open keep reading it undisturbed while new ones get the new.
//! SQLite resolves the link, so each generation has its own `-wal` file.

use std::path::{Path, PathBuf};

/// The base name of the default worker's read model.
pub const DEFAULT_BASE: &str = "read";

/// The base name of worker `name`'s read model: `read` for `main`.
pub fn base_for(name: &str) -> String {
    if name == "main" {
        DEFAULT_BASE.to_owned()
    } else {
        format!("read-{name}")
    }
}

/// The link's path.
pub fn link(data_dir: &Path, base: &str) -> PathBuf {
    data_dir.join(format!("{base}.sqlite"))
}

/// The generation file the link points at now, creating generation 1 (and
/// the link) when there is none yet. A plain file named `read.sqlite` (not
/// a link) is used as it is.
pub fn current(data_dir: &Path, base: &str) -> std::io::Result<PathBuf> {
    let link = link(data_dir, base);
    match std::fs::symlink_metadata(&link) {
        Ok(meta) if meta.file_type().is_symlink() => {
            let target = std::fs::read_link(&link)?;
            Ok(if target.is_absolute() {
                target
            } else {
                data_dir.join(target)
            })
        }
        Ok(_) => Ok(link),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            std::fs::create_dir_all(data_dir)?;
            let first = generation_name(base, 1);
            swap(data_dir, base, &first)?;
            Ok(data_dir.join(first))
        }
        Err(e) => Err(e),
    }
}

/// The file name of generation `n`.
pub fn generation_name(base: &str, n: u64) -> String {
    format!("{base}.{n}.sqlite")
}

/// The generation number of a file name, when it is one of `base`'s.
fn generation_of(base: &str, name: &str) -> Option<u64> {
    name.strip_prefix(base)?
        .strip_prefix('.')?
        .strip_suffix(".sqlite")?
        .parse()
        .ok()
}

/// The next unused generation number.
pub fn next_generation(data_dir: &Path, base: &str) -> std::io::Result<u64> {
    let mut highest = 0;
    for entry in std::fs::read_dir(data_dir)? {
        if let Some(n) = entry?
            .file_name()
            .to_str()
            .and_then(|name| generation_of(base, name))
        {
            highest = highest.max(n);
        }
    }
    Ok(highest + 1)
}

/// Points the link at `target` (a file name in the data directory)
/// atomically: a temporary link renamed over the old one.
pub fn swap(data_dir: &Path, base: &str, target: &str) -> std::io::Result<()> {
    let temporary = data_dir.join(format!(".{base}.sqlite.{}.tmp", std::process::id()));
    let _ = std::fs::remove_file(&temporary);
    std::os::unix::fs::symlink(target, &temporary)?;
    std::fs::rename(&temporary, link(data_dir, base))?;
    // Make the rename itself durable.
    std::fs::File::open(data_dir)?.sync_all()
}

/// Removes generations older than the two newest (the current one and the
/// one readers may still hold), with their `-wal` and `-shm` files.
pub fn prune(data_dir: &Path, base: &str, current: u64) -> std::io::Result<()> {
    for entry in std::fs::read_dir(data_dir)? {
        let entry = entry?;
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        let stem = name.trim_end_matches("-wal").trim_end_matches("-shm");
        if let Some(n) = generation_of(base, stem)
            && n + 1 < current
        {
            std::fs::remove_file(entry.path())?;
        }
    }
    Ok(())
}
