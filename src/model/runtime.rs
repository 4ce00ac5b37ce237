//! Finding and loading the ONNX Runtime shared library, and choosing the execution
//! provider for sessions.
//!
//! The library is loaded at run time (`ort`'s `load-dynamic`), so one build runs on any
//! machine that has the library. Search order: an explicit path, `XUNYING_ORT_LIB`,
//! `ORT_DYLIB_PATH`, the executable's own folder (the bundled app), then the
//! `onnxruntime-node` npm package under `node_modules` in the working directory, the
//! executable's folder, or any of their parents.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use ort::environment::Environment;
#[allow(unused_imports)]
use ort::ep::{self, ExecutionProvider, ExecutionProviderDispatch};
use ort::session::builder::{GraphOptimizationLevel, SessionBuilder};
use ort::session::Session;

use super::ModelError;

/// Environment variable naming the ONNX Runtime library file.
pub const ORT_LIB_ENV: &str = "XUNYING_ORT_LIB";

#[cfg(target_os = "linux")]
const LIB_NAMES: &[&str] = &["libonnxruntime.so.1", "libonnxruntime.so"];
#[cfg(target_os = "macos")]
const LIB_NAMES: &[&str] = &["libonnxruntime.1.dylib", "libonnxruntime.dylib"];
#[cfg(target_os = "windows")]
const LIB_NAMES: &[&str] = &["onnxruntime.dll"];
#[cfg(not(any(target_os = "linux", target_os = "macos", target_os = "windows")))]
const LIB_NAMES: &[&str] = &["libonnxruntime.so"];

/// The `onnxruntime-node` folder for this platform, relative to `node_modules`.
fn npm_platform_dir() -> PathBuf {
    let os = match std::env::consts::OS {
        "macos" => "darwin",
        "windows" => "win32",
        other => other,
    };
    let arch = match std::env::consts::ARCH {
        "x86_64" => "x64",
        "aarch64" => "arm64",
        other => other,
    };
    Path::new("onnxruntime-node").join("bin").join("napi-v6").join(os).join(arch)
}

/// Returns the runtime library to load, or the list of places searched.
pub fn find_runtime_library(explicit: Option<&Path>) -> Result<PathBuf, ModelError> {
    let mut searched = Vec::new();
    let mut candidates: Vec<PathBuf> = Vec::new();
    candidates.extend(explicit.map(Path::to_path_buf));
    for var in [ORT_LIB_ENV, "ORT_DYLIB_PATH"] {
        if let Some(value) = std::env::var_os(var).filter(|v| !v.is_empty()) {
            candidates.push(PathBuf::from(value));
        }
    }
    // An explicit setting that points nowhere is an error of its own, not a reason to
    // quietly load some other library.
    if let Some(first) = candidates.first() {
        if first.is_file() {
            return Ok(first.clone());
        }
        return Err(ModelError::RuntimeNotFound { searched: first.display().to_string(), env: ORT_LIB_ENV });
    }

    let exe_dir = std::env::current_exe().ok().and_then(|p| p.parent().map(Path::to_path_buf));
    if let Some(dir) = &exe_dir {
        for name in LIB_NAMES {
            candidates.push(dir.join(name));
        }
    }
    let npm_dir = npm_platform_dir();
    let roots = [std::env::current_dir().ok(), exe_dir];
    for root in roots.iter().flatten() {
        for ancestor in root.ancestors() {
            for name in LIB_NAMES {
                candidates.push(ancestor.join("node_modules").join(&npm_dir).join(name));
            }
        }
    }

    for candidate in candidates {
        if candidate.is_file() {
            return Ok(candidate);
        }
        searched.push(candidate.display().to_string());
    }
    searched.dedup();
    Err(ModelError::RuntimeNotFound { searched: summarize(&searched), env: ORT_LIB_ENV })
}

fn summarize(paths: &[String]) -> String {
    const SHOWN: usize = 4;
    let mut text = paths.iter().take(SHOWN).cloned().collect::<Vec<_>>().join(", ");
    if paths.len() > SHOWN {
        text.push_str(&format!(" and {} more", paths.len() - SHOWN));
    }
    text
}

/// Reads the version string of an ONNX Runtime library without initialising it.
pub fn runtime_version(path: &Path) -> Result<String, ModelError> {
    let load_error = |reason: String| ModelError::RuntimeLoad { path: path.to_path_buf(), reason };
    // SAFETY: loading runs the library's initialisers; this is the library the user or
    // the npm package provides, and the symbol has the C signature ONNX Runtime defines.
    unsafe {
        let library = libloading::Library::new(path).map_err(|e| load_error(e.to_string()))?;
        let get_base: libloading::Symbol<unsafe extern "C" fn() -> *const ort::sys::OrtApiBase> = library
            .get(b"OrtGetApiBase")
            .map_err(|_| load_error("the file does not export OrtGetApiBase, so it is not ONNX Runtime".into()))?;
        let base = get_base();
        if base.is_null() {
            return Err(load_error("OrtGetApiBase returned null".into()));
        }
        let version = ((*base).GetVersionString)();
        if version.is_null() {
            return Err(load_error("GetVersionString returned null".into()));
        }
        Ok(std::ffi::CStr::from_ptr(version).to_string_lossy().into_owned())
    }
}

/// What was loaded, for `xunying doctor` and the logs.
#[derive(Debug, Clone, serde::Serialize)]
pub struct RuntimeInfo {
    /// The library file.
    pub library_path: PathBuf,
    /// The library's version string.
    pub version: String,
    /// Execution providers the library was built with.
    pub available_providers: Vec<String>,
}

/// A loaded ONNX Runtime: the process-wide environment and what it offers.
pub struct Runtime {
    environment: Environment,
    /// Library path, version and providers.
    pub info: RuntimeInfo,
}

static RUNTIME: OnceLock<Runtime> = OnceLock::new();

/// Loads ONNX Runtime once per process and returns it. Later calls return the runtime
/// loaded first, whatever path they name.
pub fn init_runtime(explicit: Option<&Path>) -> Result<&'static Runtime, ModelError> {
    if let Some(runtime) = RUNTIME.get() {
        return Ok(runtime);
    }
    let path = find_runtime_library(explicit)?;
    let path = path.canonicalize().unwrap_or(path);
    let version = runtime_version(&path)?;
    let builder = ort::init_from(&path).map_err(|e| ModelError::RuntimeLoad { path: path.clone(), reason: e.to_string() })?;
    let environment = builder
        .with_name("xunying")
        .build()
        .map_err(|e| ModelError::ort("creating the ONNX Runtime environment", e))?;
    let info = RuntimeInfo { library_path: path, version, available_providers: available_providers() };
    tracing::info!(library = %info.library_path.display(), version = %info.version, "loaded ONNX Runtime");
    Ok(RUNTIME.get_or_init(|| Runtime { environment, info }))
}

/// Execution providers the loaded library was built with, by ONNX Runtime's names.
/// Call only after [`init_runtime`] succeeded.
pub fn available_providers() -> Vec<String> {
    let api = ort::api();
    let mut providers: *mut *mut std::ffi::c_char = std::ptr::null_mut();
    let mut count: std::ffi::c_int = 0;
    // SAFETY: the C API fills `providers` with `count` NUL-terminated strings, which are
    // copied before the array is released with the matching call.
    unsafe {
        let status = (api.GetAvailableProviders)(&mut providers, &mut count);
        if !status.0.is_null() {
            (api.ReleaseStatus)(status.0);
            return vec!["CPUExecutionProvider".to_string()];
        }
        let names = (0..count as usize)
            .map(|i| std::ffi::CStr::from_ptr(*providers.add(i)).to_string_lossy().into_owned())
            .collect();
        let status = (api.ReleaseAvailableProviders)(providers, count);
        if !status.0.is_null() {
            (api.ReleaseStatus)(status.0);
        }
        names
    }
}

/// Where the encoders run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Device {
    /// The first GPU provider that works, else the CPU.
    Auto,
    /// The CPU.
    Cpu,
    /// NVIDIA CUDA.
    Cuda,
    /// NVIDIA TensorRT.
    Tensorrt,
    /// DirectML (Windows).
    Directml,
    /// Core ML (macOS).
    Coreml,
}

impl std::str::FromStr for Device {
    type Err = ModelError;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        match value.trim().to_ascii_lowercase().as_str() {
            "auto" => Ok(Device::Auto),
            "cpu" => Ok(Device::Cpu),
            "cuda" => Ok(Device::Cuda),
            "tensorrt" => Ok(Device::Tensorrt),
            "directml" => Ok(Device::Directml),
            "coreml" => Ok(Device::Coreml),
            _ => Err(ModelError::UnknownDevice(value.to_string())),
        }
    }
}

impl Device {
    /// The name users type and see.
    pub fn as_str(self) -> &'static str {
        match self {
            Device::Auto => "auto",
            Device::Cpu => "cpu",
            Device::Cuda => "cuda",
            Device::Tensorrt => "tensorrt",
            Device::Directml => "directml",
            Device::Coreml => "coreml",
        }
    }

    /// GPU devices `auto` tries, in order, among those this build supports.
    fn auto_candidates() -> Vec<Device> {
        let mut devices = Vec::new();
        if cfg!(feature = "tensorrt") {
            devices.push(Device::Tensorrt);
        }
        if cfg!(feature = "cuda") {
            devices.push(Device::Cuda);
        }
        if cfg!(feature = "directml") {
            devices.push(Device::Directml);
        }
        if cfg!(feature = "coreml") {
            devices.push(Device::Coreml);
        }
        devices
    }

    fn compiled_in(self) -> bool {
        match self {
            Device::Auto | Device::Cpu => true,
            Device::Cuda => cfg!(feature = "cuda"),
            Device::Tensorrt => cfg!(feature = "tensorrt"),
            Device::Directml => cfg!(feature = "directml"),
            Device::Coreml => cfg!(feature = "coreml"),
        }
    }

    fn provider(self) -> Option<(&'static str, ExecutionProviderDispatch)> {
        match self {
            Device::Auto | Device::Cpu => None,
            #[cfg(feature = "cuda")]
            Device::Cuda => Some((ep::CUDA::NAME, ep::CUDA::default().build().error_on_failure())),
            #[cfg(feature = "tensorrt")]
            Device::Tensorrt => Some((ep::TensorRT::NAME, ep::TensorRT::default().build().error_on_failure())),
            #[cfg(feature = "directml")]
            Device::Directml => Some((ep::DirectML::NAME, ep::DirectML::default().build().error_on_failure())),
            #[cfg(feature = "coreml")]
            Device::Coreml => Some((ep::CoreML::NAME, ep::CoreML::default().build().error_on_failure())),
            #[allow(unreachable_patterns)]
            _ => None,
        }
    }
}

impl Runtime {
    /// Opens a graph on the requested device. Returns the session and the device that
    /// was actually used. `auto` falls back to the CPU with a warning; an explicit GPU
    /// device that cannot be used is an error.
    pub fn open_session(&self, graph: &Path, device: Device, intra_threads: usize) -> Result<(Session, Device), ModelError> {
        let attempts = match device {
            Device::Auto => Device::auto_candidates(),
            Device::Cpu => Vec::new(),
            explicit => {
                if !explicit.compiled_in() {
                    return Err(ModelError::DeviceNotCompiled { device: explicit.as_str().into() });
                }
                vec![explicit]
            }
        };

        for candidate in attempts {
            let Some((provider_name, provider)) = candidate.provider() else { continue };
            let attempt = self
                .session_builder(intra_threads)
                .and_then(|b| b.with_execution_providers([provider]).map_err(|e| ModelError::ort("registering a provider", e.into())))
                .and_then(|mut b| {
                    b.commit_from_file(graph)
                        .map_err(|e| ModelError::ort(format!("opening {} on {provider_name}", graph.display()), e))
                });
            match attempt {
                Ok(session) => {
                    tracing::info!(graph = %graph.display(), provider = provider_name, "opened model graph");
                    return Ok((session, candidate));
                }
                Err(error) if device == Device::Auto => {
                    tracing::warn!(provider = provider_name, %error, "GPU provider unavailable; trying the next one");
                }
                Err(error) => {
                    return Err(ModelError::DeviceUnavailable { device: candidate.as_str().into(), reason: error.to_string() });
                }
            }
        }

        if device == Device::Auto && !Device::auto_candidates().is_empty() {
            tracing::warn!(graph = %graph.display(), "no GPU provider could be used; running on the CPU");
        }
        let mut builder = self.session_builder(intra_threads)?;
        let session = builder
            .commit_from_file(graph)
            .map_err(|source| ModelError::GraphOpen { graph: graph.to_path_buf(), source })?;
        tracing::info!(graph = %graph.display(), provider = "CPUExecutionProvider", "opened model graph");
        Ok((session, Device::Cpu))
    }

    /// Starts a session's options: full graph optimisation, `intra_threads` threads, and
    /// memory that is released after each run.
    ///
    /// Inputs change shape from batch to batch (five patch budgets, batch sizes up to 8,
    /// two text lengths). ONNX Runtime's defaults keep what each shape needed: the memory
    /// pattern plans a block per input shape, and the CPU arena never releases what it
    /// grew. In a base-size ingest of 48 photos of varied sizes, the defaults held 4.4 GiB
    /// before the pipeline started and peaked at 5.1 GiB, still rising in the run's second
    /// half. Without them it held 0.7–0.8 GiB before and peaked at 2.2–2.3 GiB in either
    /// half, and the model-only throughput stayed within this machine's run-to-run noise
    /// (`docs/benchmarks.md`, ingest memory).
    fn session_builder(&self, intra_threads: usize) -> Result<SessionBuilder, ModelError> {
        let context = "configuring a session";
        let cpu_without_arena = ep::CPU::default().with_arena_allocator(false).build().error_on_failure();
        Session::builder(&self.environment)
            .map_err(|e| ModelError::ort(context, e))?
            .with_optimization_level(GraphOptimizationLevel::Level3)
            .map_err(|e| ModelError::ort(context, e.into()))?
            .with_intra_threads(intra_threads.max(1))
            .map_err(|e| ModelError::ort(context, e.into()))?
            .with_memory_pattern(false)
            .map_err(|e| ModelError::ort(context, e.into()))?
            // The CPU provider's registration only sets the arena option, so a GPU
            // provider added later still comes first.
            .with_execution_providers([cpu_without_arena])
            .map_err(|e| ModelError::ort(context, e.into()))
    }
}
