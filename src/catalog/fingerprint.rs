//! Which files a model or store was loaded from, as they were: a reload loads again exactly what
//! changed.
//!
//! Metadata only, no content is read: a file replaced by a rename has a new inode, one rewritten
//! in place a new modification time or length. Symbolic links are followed, so a volume that
//! swaps a `..data` link (Kubernetes ConfigMaps and projected volumes) shows its new files.

use std::path::{Path, PathBuf};
use std::time::SystemTime;

/// The identity of the files a resource was loaded from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Fingerprint(Vec<FileIdentity>);

#[derive(Debug, Clone, PartialEq, Eq)]
struct FileIdentity {
    path: PathBuf,
    device: u64,
    inode: u64,
    len: u64,
    modified: Option<SystemTime>,
}

/// How deep a model directory is looked into: sentence-transformers keeps its weights in
/// `0_StaticEmbedding/`.
const MODEL_DIR_DEPTH: usize = 2;

impl Fingerprint {
    /// The regular files of a model directory and its subdirectories.
    pub(super) fn of_dir(dir: &Path) -> Self {
        let mut files = Vec::new();
        collect(dir, MODEL_DIR_DEPTH, &mut files);
        files.sort_by(|a, b| a.path.cmp(&b.path));
        Self(files)
    }

    /// A store file and its sidecars (gensim's `NAME.*.npy` arrays beside `NAME`).
    pub(super) fn of_file(path: &Path) -> Self {
        let mut files: Vec<FileIdentity> = identity(path).into_iter().collect();
        let prefix = path
            .file_name()
            .map(|name| format!("{}.", name.to_string_lossy()));
        let dir = path.parent().filter(|dir| !dir.as_os_str().is_empty());
        if let (Some(prefix), Ok(entries)) =
            (prefix, std::fs::read_dir(dir.unwrap_or(Path::new("."))))
        {
            files.extend(
                entries
                    .flatten()
                    .filter(|entry| entry.file_name().to_string_lossy().starts_with(&prefix))
                    .filter_map(|entry| identity(&entry.path())),
            );
        }
        files.sort_by(|a, b| a.path.cmp(&b.path));
        Self(files)
    }
}

fn collect(dir: &Path, depth: usize, files: &mut Vec<FileIdentity>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            if depth > 1 {
                collect(&path, depth - 1, files);
            }
        } else if let Some(file) = identity(&path) {
            files.push(file);
        }
    }
}

fn identity(path: &Path) -> Option<FileIdentity> {
    let metadata = std::fs::metadata(path).ok()?;
    if !metadata.is_file() {
        return None;
    }
    let (device, inode) = device_and_inode(&metadata);
    Some(FileIdentity {
        path: path.to_owned(),
        device,
        inode,
        len: metadata.len(),
        modified: metadata.modified().ok(),
    })
}

#[cfg(unix)]
fn device_and_inode(metadata: &std::fs::Metadata) -> (u64, u64) {
    use std::os::unix::fs::MetadataExt;
    (metadata.dev(), metadata.ino())
}

#[cfg(not(unix))]
fn device_and_inode(_: &std::fs::Metadata) -> (u64, u64) {
    (0, 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rename_over_a_file_or_a_new_sidecar_changes_the_fingerprint() {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("v.model");
        std::fs::write(&file, b"one").expect("write");
        let first = Fingerprint::of_file(&file);
        assert_eq!(first, Fingerprint::of_file(&file));
        // Same length, same second: only the inode tells them apart.
        let next = dir.path().join("v.model.tmp");
        std::fs::write(&next, b"two").expect("write");
        assert_ne!(
            first,
            Fingerprint::of_file(&file),
            "the sidecar-like file counts"
        );
        std::fs::rename(&next, &file).expect("rename");
        assert_ne!(first, Fingerprint::of_file(&file));

        let model = dir.path().join("m");
        std::fs::create_dir_all(model.join("0_StaticEmbedding")).expect("mkdir");
        std::fs::write(model.join("config.json"), b"{}").expect("write");
        let before = Fingerprint::of_dir(&model);
        std::fs::write(model.join("0_StaticEmbedding/model.safetensors"), b"x").expect("write");
        assert_ne!(before, Fingerprint::of_dir(&model));
    }
}
