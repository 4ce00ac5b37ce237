//! `xunying doctor`: checks the ONNX Runtime library, the execution providers, the
//! model bundle and the data directory, and reports each with what to do when it fails.

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::model::{self, Bundle, Device, ModelOptions};

/// The result of every check.
#[derive(Debug, Serialize)]
pub struct DoctorReport {
    /// ONNX Runtime.
    pub runtime: RuntimeCheck,
    /// Execution provider choice.
    pub device: DeviceCheck,
    /// Model bundle.
    pub model: ModelCheck,
    /// Data directory.
    pub data_dir: DataDirCheck,
}

impl DoctorReport {
    /// Whether every check passed.
    pub fn ok(&self) -> bool {
        self.runtime.ok && self.device.ok && self.model.ok && self.data_dir.ok
    }
}

/// ONNX Runtime check.
#[derive(Debug, Serialize)]
pub struct RuntimeCheck {
    /// Whether the library loaded.
    pub ok: bool,
    /// The library file.
    pub library_path: Option<PathBuf>,
    /// Its version.
    pub version: Option<String>,
    /// Providers it was built with.
    pub available_providers: Vec<String>,
    /// Why it failed.
    pub error: Option<String>,
}

/// Execution provider check.
#[derive(Debug, Serialize)]
pub struct DeviceCheck {
    /// Whether a session opened on the requested device.
    pub ok: bool,
    /// The device asked for.
    pub requested: String,
    /// The device a graph actually opened on.
    pub chosen: Option<String>,
    /// Why it failed.
    pub error: Option<String>,
}

/// Model bundle check.
#[derive(Debug, Serialize)]
pub struct ModelCheck {
    /// Whether the bundle loaded and validated.
    pub ok: bool,
    /// The bundle folder.
    pub path: Option<PathBuf>,
    /// Family, such as `fg-clip2`.
    pub family: Option<String>,
    /// Variant, such as `base`.
    pub variant: Option<String>,
    /// Embedding space id.
    pub model_id: Option<String>,
    /// Weight precision.
    pub precision: Option<String>,
    /// Embedding width.
    pub embed_dim: Option<usize>,
    /// Allowed patch budgets.
    pub patch_budgets: Vec<usize>,
    /// Total size of the bundle files.
    pub size_bytes: Option<u64>,
    /// Why it failed.
    pub error: Option<String>,
}

/// Data directory check.
#[derive(Debug, Serialize)]
pub struct DataDirCheck {
    /// Whether the folder exists (or could be created) and is writable.
    pub ok: bool,
    /// The folder.
    pub path: Option<PathBuf>,
    /// Why it failed.
    pub error: Option<String>,
}

/// Runs every check. `model_dir` and `data_dir` are the resolved folders, if any.
pub fn diagnose(model_dir: Option<&Path>, data_dir: Option<&Path>, options: &ModelOptions) -> DoctorReport {
    let runtime = check_runtime(options);
    let mut model = check_model(model_dir);
    let device = check_device(model_dir, runtime.ok && model.ok, options, &mut model);
    DoctorReport { runtime, device, model, data_dir: check_data_dir(data_dir) }
}

fn check_runtime(options: &ModelOptions) -> RuntimeCheck {
    match model::init_runtime(options.runtime_library.as_deref()) {
        Ok(runtime) => RuntimeCheck {
            ok: true,
            library_path: Some(runtime.info.library_path.clone()),
            version: Some(runtime.info.version.clone()),
            available_providers: runtime.info.available_providers.clone(),
            error: None,
        },
        Err(error) => RuntimeCheck {
            ok: false,
            library_path: None,
            version: None,
            available_providers: Vec::new(),
            error: Some(error.to_string()),
        },
    }
}

fn check_model(model_dir: Option<&Path>) -> ModelCheck {
    let Some(dir) = model_dir else {
        return ModelCheck {
            ok: false,
            error: Some(
                "No model bundle is set. Pass --model DIR, set XUNYING_MODEL, or install one with `xunying models install`.\n\
                 未设置模型包。请使用 --model 目录、设置 XUNYING_MODEL，或用 `xunying models install` 安装模型。"
                    .into(),
            ),
            ..empty_model_check(None)
        };
    };
    match Bundle::load(dir) {
        Ok(bundle) => {
            let m = &bundle.manifest;
            ModelCheck {
                ok: true,
                path: Some(dir.to_path_buf()),
                family: Some(m.family.clone()),
                variant: Some(m.variant.clone()),
                model_id: Some(m.model_id.clone()),
                precision: Some(m.precision.clone()),
                embed_dim: Some(m.embed_dim),
                patch_budgets: m.vision.patch_budgets.clone(),
                size_bytes: Some(bundle.total_bytes()),
                error: None,
            }
        }
        Err(error) => ModelCheck { ok: false, error: Some(error.to_string()), ..empty_model_check(Some(dir)) },
    }
}

fn empty_model_check(dir: Option<&Path>) -> ModelCheck {
    ModelCheck {
        ok: false,
        path: dir.map(Path::to_path_buf),
        family: None,
        variant: None,
        model_id: None,
        precision: None,
        embed_dim: None,
        patch_budgets: Vec::new(),
        size_bytes: None,
        error: None,
    }
}

/// Opens every graph of the bundle on the requested device, which proves both that the
/// provider registers and that the graph files are readable. A graph the CPU cannot
/// open fails the model check instead of the device check.
fn check_device(model_dir: Option<&Path>, ready: bool, options: &ModelOptions, model_check: &mut ModelCheck) -> DeviceCheck {
    let requested = options.device.as_str().to_string();
    let (Some(dir), true) = (model_dir, ready) else {
        return DeviceCheck {
            ok: false,
            requested,
            chosen: None,
            error: Some("Not checked: the runtime or the model failed.\n未检查：运行时或模型不可用。".into()),
        };
    };
    match open_graphs(dir, options) {
        Ok(device) => DeviceCheck { ok: true, requested, chosen: Some(device_label(device)), error: None },
        Err(error @ model::ModelError::GraphOpen { .. }) => {
            model_check.ok = false;
            model_check.error = Some(error.to_string());
            DeviceCheck {
                ok: false,
                requested,
                chosen: None,
                error: Some("Not checked: a model graph failed to open.\n未检查：模型计算图无法打开。".into()),
            }
        }
        Err(error) => DeviceCheck { ok: false, requested, chosen: None, error: Some(error.to_string()) },
    }
}

/// Opens the dense, vision and text graphs, smallest first, and returns the device the
/// last one opened on.
fn open_graphs(dir: &Path, options: &ModelOptions) -> Result<Device, model::ModelError> {
    let bundle = Bundle::load(dir)?;
    let runtime = model::init_runtime(options.runtime_library.as_deref())?;
    let manifest = &bundle.manifest;
    let mut chosen = Device::Cpu;
    for graph in [&manifest.vision.dense_graph, &manifest.vision.graph, &manifest.text.graph] {
        let (_, device) = runtime.open_session(&bundle.path_of(graph), options.device, 1)?;
        chosen = device;
    }
    Ok(chosen)
}

fn device_label(device: Device) -> String {
    device.as_str().to_string()
}

fn check_data_dir(data_dir: Option<&Path>) -> DataDirCheck {
    let Some(dir) = data_dir else {
        return DataDirCheck {
            ok: false,
            path: None,
            error: Some("No data directory: set XUNYING_DATA_DIR.\n没有数据目录：请设置 XUNYING_DATA_DIR。".into()),
        };
    };
    let probe = dir.join(".xunying-write-test");
    let result = std::fs::create_dir_all(dir).and_then(|_| std::fs::write(&probe, b"ok")).and_then(|_| std::fs::remove_file(&probe));
    match result {
        Ok(()) => DataDirCheck { ok: true, path: Some(dir.to_path_buf()), error: None },
        Err(error) => DataDirCheck {
            ok: false,
            path: Some(dir.to_path_buf()),
            error: Some(format!(
                "The data directory {} is not writable: {error}\n数据目录 {} 不可写：{error}",
                dir.display(),
                dir.display()
            )),
        },
    }
}
