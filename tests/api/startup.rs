//! The binary as a user runs it: broken directories stop startup with a clear message, and a
//! Qwen-sized matrix is mapped, not read.

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::{ModelSpec, write_model_dir};

fn embedserve() -> Command {
    embedserve_serving(std::path::Path::new(""))
}

/// The binary with no settings file, serving the word2vec store `store` (empty: none).
fn embedserve_serving(store: &std::path::Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_embedserve"));
    command
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default());
    command
        .args(["--config", "/dev/null", "--word2vec"])
        .arg(store);
    command
}

#[test]
fn a_broken_model_directory_exits_non_zero_naming_the_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    write_model_dir(dir.path(), &ModelSpec::default());
    std::fs::write(dir.path().join("config.json"), "{ not json").expect("break");
    let output = embedserve()
        .args(["--listen", "127.0.0.1:0", "--model-dir"])
        .arg(dir.path())
        .output()
        .expect("runs");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("config.json: not valid JSON"), "{stderr}");
}

#[test]
fn a_truncated_fasttext_model_exits_non_zero_naming_the_file_and_offset() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("cut.bin");
    let model = std::fs::read(crate::helpers::fasttext_fixture("toy-model.bin")).expect("fixture");
    std::fs::write(&path, &model[..model.len() - 3]).expect("write");
    let output = embedserve_serving(&path)
        .args(["--listen", "127.0.0.1:0", "--model-dir", ""])
        .output()
        .expect("runs");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("cut.bin: byte offset") && stderr.contains("the output matrix"),
        "{stderr}"
    );
}

#[test]
fn bad_settings_exit_non_zero() {
    let output = embedserve()
        .args(["--max-batch-size", "0"])
        .output()
        .expect("runs");
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("max_batch_size must be at least 1"));
}

/// Writes a 151936 x 1536 bf16 safetensors file (467 MB) without writing its data: the tail is
/// a sparse hole, and a few rows near the end hold known values.
fn write_qwen_sized(dir: &std::path::Path) -> (usize, usize) {
    let (rows, cols) = (151_936usize, 1536usize);
    write_model_dir(
        dir,
        &ModelSpec {
            rows: 32,
            dim: cols,
            ..ModelSpec::default()
        },
    );
    let header = format!(
        r#"{{"model.embed_tokens.weight":{{"dtype":"BF16","shape":[{rows},{cols}],"data_offsets":[0,{}]}}}}"#,
        rows * cols * 2
    );
    let mut header = header.into_bytes();
    while header.len() % 8 != 0 {
        header.push(b' ');
    }
    let path = dir.join("model.safetensors");
    let mut file = std::fs::File::create(&path).expect("create");
    file.write_all(&(header.len() as u64).to_le_bytes())
        .expect("len");
    file.write_all(&header).expect("header");
    file.set_len((8 + header.len() + rows * cols * 2) as u64)
        .expect("extend");
    let config = format!(
        r#"{{"hidden_size": {cols}, "vocab_size": {rows}, "torch_dtype": "bfloat16", "tie_word_embeddings": true}}"#
    );
    std::fs::write(dir.join("config.json"), config).expect("config");
    (rows, cols)
}

fn resident_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("proc status");
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmRSS")
}

#[test]
fn a_qwen_sized_matrix_is_mapped_not_read() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (rows, cols) = write_qwen_sized(dir.path());
    let port = free_port();
    let mut child = embedserve()
        .arg("--model-dir")
        .arg(dir.path())
        .args(["--listen", &format!("127.0.0.1:{port}")])
        .stderr(Stdio::piped())
        .spawn()
        .expect("starts");
    let became_ready = wait_ready(port);
    if let Ok(Some(status)) = child.try_wait() {
        let mut stderr = String::new();
        std::io::Read::read_to_string(&mut child.stderr.take().expect("piped"), &mut stderr)
            .expect("stderr");
        panic!("the server exited with {status}: {stderr}");
    }
    let rss = resident_kib(child.id());
    child.kill().expect("kill");
    let _ = child.wait();
    assert!(became_ready, "the server did not become ready");
    let matrix_kib = (rows * cols * 2 / 1024) as u64;
    assert!(
        rss < matrix_kib / 8,
        "resident {rss} KiB after load; the matrix is {matrix_kib} KiB"
    );
}

fn free_port() -> u16 {
    let probe = std::net::TcpListener::bind("127.0.0.1:0").expect("free port");
    probe.local_addr().expect("addr").port()
}

fn ready(port: u16) -> bool {
    Command::new(env!("CARGO_BIN_EXE_embedserve"))
        .args(["healthcheck", "--addr", &format!("127.0.0.1:{port}")])
        .stderr(Stdio::null())
        .status()
        .expect("healthcheck runs")
        .success()
}

/// Polls readiness for up to 30 s.
fn wait_ready(port: u16) -> bool {
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(30) {
        if ready(port) {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    false
}

#[test]
fn sigterm_drains_and_exits_zero() {
    let dir = tempfile::tempdir().expect("tempdir");
    write_model_dir(dir.path(), &ModelSpec::default());
    let port = free_port();
    let mut child = embedserve()
        .arg("--model-dir")
        .arg(dir.path())
        .args([
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--drain-timeout-secs",
            "5",
        ])
        .stderr(Stdio::piped())
        .spawn()
        .expect("starts");
    assert!(wait_ready(port), "never became ready");
    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(killed.success());
    let status = child.wait().expect("exits");
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().expect("piped"), &mut stderr)
        .expect("stderr");
    assert!(status.success(), "exit {status}: {stderr}");
    assert!(stderr.contains("shutdown requested"), "{stderr}");
    assert!(!ready(port), "the port is closed after shutdown");
}
