//! The binary as a user runs it: broken directories stop startup with a clear message, and a
//! Qwen-sized matrix is mapped, not read, and answers its stored rows.

use std::io::{Seek, SeekFrom, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::common::{ModelSpec, qwen_row_bytes, qwen_value, write_model_dir};
use crate::helpers::{KilledOnDrop, floats};

fn embedserve() -> Command {
    embedserve_serving(Path::new(""))
}

/// The binary with default settings serving the word2vec store `store` (none when empty).
fn embedserve_serving(store: &Path) -> Command {
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
    let stderr = failed_startup(embedserve(), dir.path());
    assert!(stderr.contains("config.json: not valid JSON"), "{stderr}");
}

/// Runs `command` on the model directory `model_dir`, which must fail; returns its stderr.
fn failed_startup(mut command: Command, model_dir: &Path) -> String {
    let output = command
        .args(["--listen", "127.0.0.1:0", "--model-dir"])
        .arg(model_dir)
        .output()
        .expect("runs");
    assert!(!output.status.success());
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn a_hostile_or_incomplete_gensim_model_stops_startup_naming_the_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    write_model_dir(dir.path(), &ModelSpec::default());
    // A gensim model saved with its vectors in a sidecar, copied without the sidecar.
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/gensim-native");
    let model = dir.path().join("word2vec.model");
    std::fs::copy(fixtures.join("cbow.model"), &model).expect("copy");
    // What pickle.dumps writes for an object reducing to os.system("touch ...").
    let ran = dir.path().join("ran");
    let command = format!("touch {}", ran.display());
    let mut hostile = b"\x80\x04\x8c\x02os\x94\x8c\x06system\x94\x93\x94\x8c".to_vec();
    hostile.push(command.len() as u8);
    hostile.extend(command.as_bytes());
    hostile.extend(b"\x94\x85\x94R\x94.");
    let hostile_path = dir.path().join("hostile.model");
    std::fs::write(&hostile_path, hostile).expect("write");
    for (store, expected) in [
        (&model, "word2vec.model.wv.vectors.npy"),
        (&hostile_path, "`os.system`"),
    ] {
        let stderr = failed_startup(embedserve_serving(store), dir.path());
        assert!(stderr.contains(&store.display().to_string()), "{stderr}");
        assert!(stderr.contains(expected), "{stderr}");
    }
    assert!(!ran.exists(), "the pickle's command ran");
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

#[test]
fn an_empty_api_key_exits_non_zero() {
    let mut child = embedserve()
        .args([
            "--api-keys",
            "k1,",
            "--listen",
            "127.0.0.1:0",
            "--model-dir",
            "",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("runs");
    let started = Instant::now();
    while child.try_wait().expect("waits").is_none() {
        if started.elapsed() > Duration::from_secs(20) {
            child.kill().expect("killed");
            panic!("the server started with an empty API key");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let output = child.wait_with_output().expect("exited");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("api_keys: key 2 of 2 is empty"), "{stderr}");
}

/// Rows of [`write_qwen_sized`]'s matrix that hold known values ([`qwen_row_bytes`]): the
/// first, the last, and some in between (125 apart too, the period of an older test matrix).
const KNOWN_ROWS: [usize; 7] = [0, 1, 125, 250, 75_968, 151_810, 151_935];

/// Writes a 151936 x 1536 bf16 safetensors file (467 MB) without writing most of its data: the
/// matrix is a sparse hole but for the [`KNOWN_ROWS`].
fn write_qwen_sized(dir: &Path) -> (usize, usize) {
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
    for id in KNOWN_ROWS {
        let offset = 8 + header.len() + id * cols * 2;
        file.seek(SeekFrom::Start(offset as u64)).expect("seek");
        file.write_all(&qwen_row_bytes(id, cols)).expect("row");
    }
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

#[tokio::test]
async fn a_qwen_sized_matrix_is_mapped_not_read_and_gathers_its_rows() {
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
    // The whole body is read before the server is killed.
    let reply = match reqwest::Client::new()
        .post(format!("http://127.0.0.1:{port}/embed"))
        .json(&json!({"input_ids": KNOWN_ROWS}))
        .send()
        .await
    {
        Ok(response) => response.json::<Value>().await,
        Err(e) => Err(e),
    };
    child.kill().expect("kill");
    let _ = child.wait();
    assert!(became_ready, "the server did not become ready");
    let matrix_kib = (rows * cols * 2 / 1024) as u64;
    assert!(
        rss < matrix_kib / 8,
        "resident {rss} KiB after load; the matrix is {matrix_kib} KiB"
    );
    let reply = reply.expect("a JSON answer from /embed");
    let item = &reply["data"][0];
    assert_eq!(item["shape"], json!([KNOWN_ROWS.len(), cols]), "{reply}");
    let got = item["embedding"].as_array().expect("rows");
    assert_eq!(got.len(), KNOWN_ROWS.len());
    for (row, id) in got.iter().zip(KNOWN_ROWS) {
        let want: Vec<u32> = (0..cols)
            .map(|col| qwen_value(id, col, cols).to_bits())
            .collect();
        let row: Vec<u32> = floats(row).iter().map(|v| v.to_bits()).collect();
        assert!(row == want, "row {id} is not the stored one");
    }
}

pub fn free_port() -> u16 {
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
pub fn wait_ready(port: u16) -> bool {
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(30) {
        if ready(port) {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    false
}

/// The binary serving a generated model on `port` with the extra `args`, stderr piped.
pub fn serve_generated_model(dir: &Path, port: u16, args: &[&str]) -> std::process::Child {
    write_model_dir(dir, &ModelSpec::default());
    embedserve()
        .arg("--model-dir")
        .arg(dir)
        .args(["--listen", &format!("127.0.0.1:{port}")])
        .args(args)
        .stderr(Stdio::piped())
        .spawn()
        .expect("starts")
}

/// Serves a generated model in `dir` with the extra `args` on a free port, once it is ready: the
/// process (killed on drop) and its base URL.
pub async fn spawn_generated_server(dir: &Path, args: &[&str]) -> (KilledOnDrop, String) {
    let port = free_port();
    let child = KilledOnDrop(serve_generated_model(dir, port, args));
    assert!(
        tokio::task::spawn_blocking(move || wait_ready(port))
            .await
            .expect("joins"),
        "never became ready"
    );
    (child, format!("http://127.0.0.1:{port}"))
}

/// The tokens of every input of an `/embed` reply.
pub fn embedded_tokens(reply: &Value) -> usize {
    reply["data"]
        .as_array()
        .expect("data")
        .iter()
        .map(|item| item["tokens"].as_array().expect("tokens").len())
        .sum()
}

/// Sends SIGTERM to `child`.
pub fn terminate(child: &std::process::Child) {
    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(killed.success());
}

#[test]
fn sigterm_drains_and_exits_zero() {
    let dir = tempfile::tempdir().expect("tempdir");
    let port = free_port();
    let mut child = serve_generated_model(dir.path(), port, &["--drain-timeout-secs", "5"]);
    assert!(wait_ready(port), "never became ready");
    terminate(&child);
    let status = child.wait().expect("exits");
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().expect("piped"), &mut stderr)
        .expect("stderr");
    assert!(status.success(), "exit {status}: {stderr}");
    assert!(stderr.contains("shutdown requested"), "{stderr}");
    assert!(!ready(port), "the port is closed after shutdown");
}

#[test]
fn sigterm_with_a_stuck_connection_exits_within_the_drain_timeout() {
    let dir = tempfile::tempdir().expect("tempdir");
    let port = free_port();
    let args = [
        "--drain-timeout-secs",
        "1",
        "--header-read-timeout-secs",
        "60",
    ];
    let mut child = serve_generated_model(dir.path(), port, &args);
    assert!(wait_ready(port), "never became ready");
    // A request head that never ends: hyper waits for it up to the header timeout (60 s).
    let mut stuck = std::net::TcpStream::connect(("127.0.0.1", port)).expect("connects");
    stuck
        .write_all(b"POST /embed HTTP/1.1\r\nHost: x\r\n")
        .expect("writes");
    std::thread::sleep(Duration::from_millis(200));
    let started = Instant::now();
    terminate(&child);
    let status = child.wait().expect("exits");
    let took = started.elapsed();
    assert!(status.success(), "exit {status}");
    assert!(
        took < Duration::from_secs(3),
        "shutdown took {took:?} with a 1 s drain"
    );
}
