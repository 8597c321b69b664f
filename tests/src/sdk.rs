//! ZITADEL's published clients, run as the compatibility scenarios' peers:
//! the JavaScript packages pinned in `tests/sdk/node/package-lock.json`,
//! installed into `target/sdk/node`, and the Python SDK pinned in
//! `tests/sdk/python/requirements.txt`, installed into a virtual environment
//! in `target/sdk/python` (each by `.ci/run`, or here on first use); the
//! scripts of `tests/sdk/node` and `tests/sdk/python` run against a server.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The longest one scenario script may run.
const SCRIPT_TIMEOUT: Duration = Duration::from_secs(120);
/// The longest the install may take (a few seconds when the registry answers).
const INSTALL_TIMEOUT: Duration = Duration::from_secs(300);

const HOW_TO_INSTALL: &str = "the SDK scenarios need Node.js 20 with npm on PATH \
     (Debian: apt-get install -y nodejs npm; or run bash .ci/run, which installs it)";

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("the tests crate sits in the workspace").to_owned()
}

/// Where the scripts and their packages live.
fn sources() -> PathBuf {
    workspace().join("tests/sdk/node")
}

const HOW_TO_INSTALL_PYTHON: &str = "the Python SDK scenario needs Python 3 with venv and pip \
     (Debian: apt-get install -y python3 python3-venv python3-pip; or run bash .ci/run, which installs it)";

fn python_sources() -> PathBuf {
    workspace().join("tests/sdk/python")
}

/// The Python SDK's virtual environment.
pub fn python_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| workspace().join("target"), PathBuf::from).join("sdk/python")
}

/// Where the packages are installed and the scripts run.
pub fn node_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| workspace().join("target"), PathBuf::from).join("sdk/node")
}

/// Runs `cmd` to its end, killed after `timeout`; its output, or why it failed.
fn run(mut cmd: Command, timeout: Duration) -> Result<std::process::Output, String> {
    let mut child = cmd.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().map_err(|e| e.to_string())?;
    let deadline = Instant::now() + timeout;
    // The pipes are drained on their own threads, so a chatty child never blocks.
    let drain = |mut pipe: Box<dyn std::io::Read + Send>| {
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            let _ = pipe.read_to_end(&mut buf);
            buf
        })
    };
    let out = drain(Box::new(child.stdout.take().expect("piped")));
    let err = drain(Box::new(child.stderr.take().expect("piped")));
    let status = loop {
        if let Some(status) = child.try_wait().map_err(|e| e.to_string())? {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            return Err(format!("killed after {timeout:?}"));
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    Ok(std::process::Output { status, stdout: out.join().unwrap_or_default(), stderr: err.join().unwrap_or_default() })
}

/// Installs the pinned packages unless the installed ones match the lock.
fn ensure_packages() {
    static INSTALLED: Mutex<bool> = Mutex::new(false);
    let mut installed = INSTALLED.lock().unwrap_or_else(|p| p.into_inner());
    if *installed {
        return;
    }
    let (src, dir) = (sources(), node_dir());
    let lock = std::fs::read(src.join("package-lock.json")).expect("tests/sdk/node/package-lock.json");
    let current = std::fs::read(dir.join("package-lock.json")).ok();
    if current.as_deref() != Some(lock.as_slice()) || !dir.join("node_modules").is_dir() {
        std::fs::create_dir_all(&dir).expect("target/sdk/node");
        for file in ["package.json", "package-lock.json"] {
            std::fs::copy(src.join(file), dir.join(file)).expect("copy the package files");
        }
        let mut npm = Command::new("npm");
        npm.args(["ci", "--no-audit", "--no-fund", "--loglevel=error"]).current_dir(&dir);
        match run(npm, INSTALL_TIMEOUT) {
            Ok(out) if out.status.success() => {}
            Ok(out) => panic!(
                "npm ci in {} failed ({}): {}\n{HOW_TO_INSTALL}",
                dir.display(),
                out.status,
                String::from_utf8_lossy(&out.stderr)
            ),
            Err(e) => panic!("npm could not run: {e}; {HOW_TO_INSTALL}"),
        }
    }
    *installed = true;
}

/// What a scenario script printed, line by line, after it succeeded.
#[derive(Debug)]
pub struct ScriptOutput {
    pub lines: Vec<serde_json::Value>,
}

/// Runs `tests/sdk/node/<script>` with `args` and `env`; panics with its output unless it
/// exits 0. Every line it prints to stdout must be JSON.
pub async fn run_node(script: &str, args: &[&str], env: &[(&str, &str)]) -> ScriptOutput {
    let (script, env): (String, Vec<(String, String)>) =
        (script.to_owned(), env.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect());
    let args: Vec<String> = args.iter().map(|a| (*a).to_owned()).collect();
    tokio::task::spawn_blocking(move || {
        ensure_packages();
        let dir = node_dir();
        // Scripts run beside the packages, so their imports resolve there.
        std::fs::copy(sources().join(&script), dir.join(&script)).expect("copy the script");
        let mut node = Command::new("node");
        node.arg(&script).args(&args).current_dir(&dir).envs(env);
        let out = match run(node, SCRIPT_TIMEOUT) {
            Ok(out) => out,
            Err(e) => panic!("node {script}: {e}; {HOW_TO_INSTALL}"),
        };
        let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        assert!(out.status.success(), "node {script} failed ({}):\n{stderr}\n{stdout}", out.status);
        let lines = stdout
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{script} printed {l:?}: {e}")))
            .collect();
        ScriptOutput { lines }
    })
    .await
    .expect("the script's thread")
}

/// Creates the virtual environment with the pinned packages unless it holds
/// exactly them (the copy of the requirements it was made from says so).
fn ensure_python_packages() {
    static INSTALLED: Mutex<bool> = Mutex::new(false);
    let mut installed = INSTALLED.lock().unwrap_or_else(|p| p.into_inner());
    if *installed {
        return;
    }
    let (src, dir) = (python_sources(), python_dir());
    let requirements = std::fs::read(src.join("requirements.txt")).expect("tests/sdk/python/requirements.txt");
    let stamp = dir.join("installed-requirements.txt");
    if std::fs::read(&stamp).ok().as_deref() != Some(requirements.as_slice()) || !dir.join("bin/python").exists() {
        let step = |cmd: Command, what: &str| match run(cmd, INSTALL_TIMEOUT) {
            Ok(out) if out.status.success() => {}
            Ok(out) => panic!("{what} failed: {}\n{HOW_TO_INSTALL_PYTHON}", String::from_utf8_lossy(&out.stderr)),
            Err(e) => panic!("{what} could not run: {e}; {HOW_TO_INSTALL_PYTHON}"),
        };
        let mut venv = Command::new("python3");
        venv.args(["-m", "venv"]).arg(&dir);
        step(venv, "python3 -m venv");
        let mut pip = Command::new(dir.join("bin/pip"));
        pip.args(["install", "--quiet", "--disable-pip-version-check", "-r"]).arg(src.join("requirements.txt"));
        step(pip, "pip install");
        std::fs::write(&stamp, &requirements).expect("write the stamp");
    }
    *installed = true;
}

/// Runs `tests/sdk/python/<script>` with the SDK's interpreter and `env`;
/// panics with its output unless it exits 0. Every line it prints to stdout
/// must be JSON.
pub async fn run_python(script: &str, env: &[(&str, &str)]) -> ScriptOutput {
    let script = script.to_owned();
    let env: Vec<(String, String)> = env.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
    tokio::task::spawn_blocking(move || {
        ensure_python_packages();
        let mut python = Command::new(python_dir().join("bin/python"));
        python.arg(python_sources().join(&script)).envs(env);
        let out = match run(python, SCRIPT_TIMEOUT) {
            Ok(out) => out,
            Err(e) => panic!("python {script}: {e}; {HOW_TO_INSTALL_PYTHON}"),
        };
        let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        assert!(out.status.success(), "python {script} failed ({}):\n{stderr}\n{stdout}", out.status);
        let lines = stdout
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{script} printed {l:?}: {e}")))
            .collect();
        ScriptOutput { lines }
    })
    .await
    .expect("the script's thread")
}
